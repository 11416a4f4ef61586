package lmstore

// Import, verification and export of YAML prompt folders, and migration of the two LMDB
// layouts lmstore replaces (docs/import.md, docs/migration.md). This file and import_shim.c
// are the cgo side of these calls: the progress callback needs an exported Go function, and a
// file with //export may only declare C functions, so they do not live in capi.go.

/*
#include <stdint.h>
#include <stdlib.h>
#include "lmstore.h"

int lmsgo_import_folder(lms_db *db, const char *path, size_t path_len, uint32_t flags,
	uintptr_t handle, uint8_t **out, size_t *out_len, char *err, size_t cap, size_t *err_len);
int lmsgo_verify_import(lms_db *db, const char *path, size_t path_len, uint8_t **out,
	size_t *out_len, char *err, size_t cap, size_t *err_len);
int lmsgo_export_folder(lms_db *db, const char *path, size_t path_len, uint8_t **out,
	size_t *out_len, char *err, size_t cap, size_t *err_len);
int lmsgo_migrate(lms_db *db, uint32_t kind, const char *src, size_t src_len, const char *side,
	size_t side_len, uintptr_t handle, uint8_t **out, size_t *out_len, char *err, size_t cap,
	size_t *err_len);
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// ImportOptions says how ImportFolder writes.
type ImportOptions struct {
	// DryRun reports what would happen and writes nothing.
	DryRun bool
	// Atomic imports in one transaction: if any file is skipped or conflicts, nothing is
	// written (the report says Committed: false). Otherwise each file stands alone.
	Atomic bool
	// Replace replaces an existing id+version whose body differs instead of a conflict.
	Replace bool
	// Progress, when set, is called with (done, known) files during the call.
	Progress func(done, known uint64)
}

// FileReport is the outcome of one file of an import.
type FileReport struct {
	Path    string `msgpack:"path"`    // relative to the imported folder
	Outcome string `msgpack:"outcome"` // imported, unchanged, replaced, conflict or skipped
	ID      string `msgpack:"id"`
	Version string `msgpack:"version"`
	Reason  string `msgpack:"reason"` // why a file was skipped or conflicts
	Line    int    `msgpack:"line"`   // 1-based; 0 when the reason concerns the whole file
	Column  int    `msgpack:"column"`
}

// ImportReport gives every file of an import an outcome.
type ImportReport struct {
	DryRun    bool         `msgpack:"dry_run"`
	Atomic    bool         `msgpack:"atomic"`
	Committed bool         `msgpack:"committed"`
	Imported  int          `msgpack:"imported"`
	Unchanged int          `msgpack:"unchanged"`
	Replaced  int          `msgpack:"replaced"`
	Conflict  int          `msgpack:"conflict"`
	Skipped   int          `msgpack:"skipped"`
	Files     []FileReport `msgpack:"files"`
}

// FileTemplate names a template version read from a file.
type FileTemplate struct {
	Path    string `msgpack:"path"`
	ID      string `msgpack:"id"`
	Version string `msgpack:"version"`
}

// TemplateRef names a stored template version (id and version only).
type TemplateRef struct {
	ID      string `msgpack:"id"`
	Version string `msgpack:"version"`
}

// VerifyReport compares a folder with the store.
type VerifyReport struct {
	Clean      bool           `msgpack:"clean"`
	Matched    int            `msgpack:"matched"`
	Skipped    int            `msgpack:"skipped"` // files an import would skip
	Mismatched []FileTemplate `msgpack:"mismatched"`
	Missing    []FileTemplate `msgpack:"missing"`
	Extra      []TemplateRef  `msgpack:"extra"`
}

// ExportReport says what ExportFolder wrote.
type ExportReport struct {
	Templates int `msgpack:"templates"`
	Versions  int `msgpack:"versions"`
	Aliases   int `msgpack:"aliases"`
	Files     int `msgpack:"files"`
}

// MigrationKind names the layout of a migration source.
type MigrationKind uint32

const (
	// MigratePromptlightning reads a promptlightning LMDB registry.
	MigratePromptlightning MigrationKind = 1
	// MigrateTkrAgentChat reads a tkr-agent-chat LMDB message store.
	MigrateTkrAgentChat MigrationKind = 2
)

// MigrationReport says what a migration did and what its verification found.
type MigrationReport struct {
	Kind                 string         `msgpack:"kind"`
	Changed              bool           `msgpack:"changed"`
	TemplatesMigrated    int            `msgpack:"templates_migrated"`
	TemplatesUnchanged   int            `msgpack:"templates_unchanged"`
	SessionsMigrated     int            `msgpack:"sessions_migrated"`
	SessionsUnchanged    int            `msgpack:"sessions_unchanged"`
	MessagesMigrated     int            `msgpack:"messages_migrated"`
	MessagesUnchanged    int            `msgpack:"messages_unchanged"`
	Failed               int            `msgpack:"failed"`
	Verified             int            `msgpack:"verified"`
	Mismatches           int            `msgpack:"mismatches"`
	MismatchExamples     []string       `msgpack:"mismatch_examples"`
	ReorderedSessions    []string       `msgpack:"reordered_sessions"`
	DanglingIndexEntries int            `msgpack:"dangling_index_entries"`
	LostVersions         []TemplateRef  `msgpack:"lost_versions"`
	SourceCount          *int64         `msgpack:"source_count"`
	SourceLastModified   *int64         `msgpack:"source_last_modified"`
	SideFile             string         `msgpack:"side_file"`
	SideRecords          map[string]int `msgpack:"side_records"`
}

//export lmsgoProgress
func lmsgoProgress(h C.uintptr_t, done, known C.uint64_t) {
	if f, ok := cgo.Handle(h).Value().(func(uint64, uint64)); ok {
		f(uint64(done), uint64(known))
	}
}

const importErrMax = 1024

// importCall runs one of the shims: it holds the handle for the call, passes the progress
// callback as a cgo.Handle, and decodes the MessagePack report into out.
func (db *DB) importCall(op string, progress func(uint64, uint64), out any,
	call func(h *C.lms_db, handle C.uintptr_t, data **C.uint8_t, n *C.size_t, err *C.char, errLen *C.size_t) C.int) error {
	h, err := db.acquire(op)
	if err != nil {
		return err
	}
	defer db.release()
	var handle cgo.Handle
	if progress != nil {
		handle = cgo.NewHandle(progress)
		defer handle.Delete()
	}
	var data *C.uint8_t
	var n, errLen C.size_t
	msg := (*C.char)(C.malloc(importErrMax))
	defer C.free(unsafe.Pointer(msg))
	rc := call((*C.lms_db)(h), C.uintptr_t(handle), &data, &n, msg, &errLen)
	if rc != 0 {
		return newError(op, Code(rc), C.GoStringN(msg, C.int(errLen)))
	}
	report := C.GoBytes(unsafe.Pointer(data), C.int(n))
	C.lms_bytes_free(data, n)
	if err := decodeAny(report, out); err != nil {
		return errBadRecord(op, err)
	}
	return nil
}

func cPath(p string) (*C.char, C.size_t, func()) {
	s := C.CString(p)
	return s, C.size_t(len(p)), func() { C.free(unsafe.Pointer(s)) }
}

// ImportFolder imports every .yaml/.yml file under dir (recursively), read as PyYAML's
// safe_load reads them, and reports an outcome for every file. It fails as a whole only when
// the folder cannot be read (ErrNotFound, ErrIO) or the store cannot be written.
func (db *DB) ImportFolder(dir string, opts ImportOptions) (ImportReport, error) {
	var r ImportReport
	var flags C.uint32_t
	if opts.DryRun {
		flags |= C.LMS_IMPORT_DRY_RUN
	}
	if opts.Atomic {
		flags |= C.LMS_IMPORT_ATOMIC
	}
	if opts.Replace {
		flags |= C.LMS_IMPORT_REPLACE
	}
	p, pn, free := cPath(dir)
	defer free()
	err := db.importCall("ImportFolder", opts.Progress, &r, func(h *C.lms_db, handle C.uintptr_t, data **C.uint8_t, n *C.size_t, msg *C.char, errLen *C.size_t) C.int {
		return C.lmsgo_import_folder(h, p, pn, flags, handle, data, n, msg, importErrMax, errLen)
	})
	return r, err
}

// VerifyImport re-reads dir and compares it with the store.
func (db *DB) VerifyImport(dir string) (VerifyReport, error) {
	var r VerifyReport
	p, pn, free := cPath(dir)
	defer free()
	err := db.importCall("VerifyImport", nil, &r, func(h *C.lms_db, _ C.uintptr_t, data **C.uint8_t, n *C.size_t, msg *C.char, errLen *C.size_t) C.int {
		return C.lmsgo_verify_import(h, p, pn, data, n, msg, importErrMax, errLen)
	})
	return r, err
}

// ExportFolder writes every template version to dir (new or empty) as YAML files that the
// original promptlightning LocalRegistry loads (the latest version of each id).
func (db *DB) ExportFolder(dir string) (ExportReport, error) {
	var r ExportReport
	p, pn, free := cPath(dir)
	defer free()
	err := db.importCall("ExportFolder", nil, &r, func(h *C.lms_db, _ C.uintptr_t, data **C.uint8_t, n *C.size_t, msg *C.char, errLen *C.size_t) C.int {
		return C.lmsgo_export_folder(h, p, pn, data, n, msg, importErrMax, errLen)
	})
	return r, err
}

// Migrate reads the LMDB store of another system at source (never writing it) into this
// store; what lmstore does not model goes to sideFile as JSON Lines. progress may be nil.
func (db *DB) Migrate(kind MigrationKind, source, sideFile string, progress func(done, known uint64)) (MigrationReport, error) {
	var r MigrationReport
	s, sn, freeS := cPath(source)
	defer freeS()
	f, fn, freeF := cPath(sideFile)
	defer freeF()
	err := db.importCall("Migrate", progress, &r, func(h *C.lms_db, handle C.uintptr_t, data **C.uint8_t, n *C.size_t, msg *C.char, errLen *C.size_t) C.int {
		return C.lmsgo_migrate(h, C.uint32_t(kind), s, sn, f, fn, handle, data, n, msg, importErrMax, errLen)
	})
	return r, err
}
