package lmstore

// This is the only file that imports "C". Everything above it speaks Go types.
//
// Three rules shape the shims below:
//
//  1. lms_last_error() is thread-local, and a goroutine may move to another OS thread between
//     two cgo calls, so the message is read inside the same C call that failed (lmsgo_finish).
//  2. A cgo call costs about 100 ns, so a call returns its result in one crossing: every read
//     uses the library's _into form, which writes straight into a Go-owned (pooled) buffer;
//     only a result larger than the buffer takes a second call, with a buffer of the size the
//     library reported (db.callInto). One read path, nothing allocated or freed in C.
//  3. Go memory handed to C holds no Go pointers (byte buffers, plain structs) and is never
//     kept by C, so it is passed directly; "#cgo noescape" keeps stack values on the stack.

/*
#cgo !lmstore_pkgconfig CFLAGS: -I${SRCDIR}/../../include
#cgo !lmstore_pkgconfig LDFLAGS: ${SRCDIR}/../../target/release/liblmstore.a -lutil -lrt -lpthread -lm -ldl -lc
// With lmstore_pkgconfig the installed copy is used, still statically: -l:liblmstore.a finds
// the archive in the .pc's libdir (GNU ld applies every -L to every -l), and --as-needed
// drops the shared library that the .pc's "-llmstore" would otherwise add as a dependency.
#cgo lmstore_pkgconfig LDFLAGS: -Wl,--as-needed -l:liblmstore.a
#cgo lmstore_pkgconfig pkg-config: --static lmstore

// No shim keeps a pointer it is given or calls back into Go, so arguments may stay on the
// goroutine stack instead of escaping to the heap.
#cgo noescape lmsgo_open
#cgo nocallback lmsgo_open
#cgo noescape lmsgo_sync
#cgo nocallback lmsgo_sync
#cgo noescape lmsgo_stat
#cgo nocallback lmsgo_stat
#cgo noescape lmsgo_backup
#cgo nocallback lmsgo_backup
#cgo noescape lmsgo_train_dictionary
#cgo nocallback lmsgo_train_dictionary
#cgo noescape lmsgo_list_dictionaries
#cgo nocallback lmsgo_list_dictionaries
#cgo noescape lmsgo_put_template
#cgo nocallback lmsgo_put_template
#cgo noescape lmsgo_get_template
#cgo nocallback lmsgo_get_template
#cgo noescape lmsgo_list_templates
#cgo nocallback lmsgo_list_templates
#cgo noescape lmsgo_list_template_meta
#cgo nocallback lmsgo_list_template_meta
#cgo noescape lmsgo_delete_template
#cgo nocallback lmsgo_delete_template
#cgo noescape lmsgo_set_template_alias
#cgo nocallback lmsgo_set_template_alias
#cgo noescape lmsgo_delete_template_alias
#cgo nocallback lmsgo_delete_template_alias
#cgo noescape lmsgo_append
#cgo nocallback lmsgo_append
#cgo noescape lmsgo_range
#cgo nocallback lmsgo_range
#cgo noescape lmsgo_list_sessions
#cgo nocallback lmsgo_list_sessions
#cgo noescape lmsgo_get_message
#cgo nocallback lmsgo_get_message
#cgo noescape lmsgo_update_message
#cgo nocallback lmsgo_update_message
#cgo noescape lmsgo_delete_message
#cgo nocallback lmsgo_delete_message
#cgo noescape lmsgo_trim
#cgo nocallback lmsgo_trim
#cgo noescape lmsgo_create_session
#cgo nocallback lmsgo_create_session
#cgo noescape lmsgo_get_session
#cgo nocallback lmsgo_get_session
#cgo noescape lmsgo_update_session
#cgo nocallback lmsgo_update_session
#cgo noescape lmsgo_delete_session
#cgo nocallback lmsgo_delete_session

#include <stdlib.h>
#include <string.h>
#include "lmstore.h"

#define LMSGO_ERR_MAX 1024

typedef struct lmsgo_res {
	size_t len;        // length of the result data (the size needed on LMS_BUFFER_TOO_SMALL)
	uint64_t n;        // outcome, deleted count
	uint32_t err_len;
	char err[LMSGO_ERR_MAX];
} lmsgo_res;

static int lmsgo_finish(int rc, lmsgo_res *res) {
	if (rc != LMS_OK) {
		const char *m = lms_last_error();
		size_t n = m ? strlen(m) : 0;
		if (n > LMSGO_ERR_MAX) n = LMSGO_ERR_MAX;
		if (n) memcpy(res->err, m, n);
		res->err_len = (uint32_t)n;
	}
	return rc;
}

// The caller fills every field but version, which lms_options_init sets.
static int lmsgo_open(const char *path, size_t path_len, lms_options *o, lms_db **out, lmsgo_res *res) {
	lms_options d;
	lms_options_init(&d);
	o->version = d.version;
	return lmsgo_finish(lms_open(path, path_len, o, out), res);
}

static int lmsgo_sync(lms_db *db, lmsgo_res *res) {
	return lmsgo_finish(lms_sync(db), res);
}

static int lmsgo_stat(lms_db *db, lms_stats *out, lmsgo_res *res) {
	return lmsgo_finish(lms_stat(db, out), res);
}

static int lmsgo_backup(lms_db *db, const char *path, size_t path_len, uint32_t flags, lmsgo_res *res) {
	return lmsgo_finish(lms_backup(db, path, path_len, flags), res);
}

static int lmsgo_train_dictionary(lms_db *db, uint32_t min_body, lms_dictionary_info *out, lmsgo_res *res) {
	return lmsgo_finish(lms_train_dictionary(db, min_body, out), res);
}

// The store's dictionary count lands in res->n, also when it is more than cap.
static int lmsgo_list_dictionaries(lms_db *db, lms_dictionary_info *out, size_t cap, lmsgo_res *res) {
	size_t n = 0;
	int rc = lms_list_dictionaries(db, out, cap, &n);
	res->n = n;
	return lmsgo_finish(rc, res);
}

static int lmsgo_put_template(lms_db *db, const uint8_t *spec, size_t spec_len, uint32_t flags, lmsgo_res *res) {
	uint32_t outcome = 0;
	int rc = lms_put_template(db, spec, spec_len, flags, &outcome);
	res->n = outcome;
	return lmsgo_finish(rc, res);
}

// Every read shim has the library write straight into a Go buffer (the lms_*_into forms): one
// crossing, no allocation or free on the C side. On LMS_BUFFER_TOO_SMALL res->len is the size
// needed, and the Go side grows the buffer and calls again.

// by_alias selects lms_get_template_by_alias_into with ver as the alias.
static int lmsgo_get_template(lms_db *db, const char *id, size_t id_len, const char *ver, size_t ver_len,
		int by_alias, uint8_t *buf, size_t cap, lmsgo_res *res) {
	size_t n = 0;
	int rc = by_alias ? lms_get_template_by_alias_into(db, id, id_len, ver, ver_len, buf, cap, &n)
	                  : lms_get_template_into(db, id, id_len, ver, ver_len, buf, cap, &n);
	res->len = n;
	return lmsgo_finish(rc, res);
}

// kind: 0 session, 1 agent. The page's length, count and cursor land in *info (Go memory).
static int lmsgo_range(lms_db *db, int kind, const char *name, size_t name_len, int64_t start_ts,
		int64_t end_ts, uint32_t limit, uint32_t flags, const uint8_t *cursor, size_t cursor_len,
		uint8_t *buf, size_t cap, lms_page_info *info, lmsgo_res *res) {
	lms_range r;
	memset(&r, 0, sizeof r);
	r.start_ts = start_ts;
	r.end_ts = end_ts;
	r.limit = limit;
	r.flags = flags;
	r.cursor = cursor;
	r.cursor_len = cursor_len;
	int rc = kind == 0 ? lms_range_messages_into(db, name, name_len, &r, buf, cap, info)
	                   : lms_range_agent_messages_into(db, name, name_len, &r, buf, cap, info);
	return lmsgo_finish(rc, res);
}

static int lmsgo_list_templates(lms_db *db, const char *prefix, size_t prefix_len, const char *after,
		size_t after_len, uint32_t limit, uint8_t *buf, size_t cap, lmsgo_res *res) {
	size_t n = 0;
	int rc = lms_list_templates_into(db, prefix, prefix_len, after, after_len, limit, buf, cap, &n);
	res->len = n;
	return lmsgo_finish(rc, res);
}

// what: 0 versions, 1 aliases.
static int lmsgo_list_template_meta(lms_db *db, const char *id, size_t id_len, int what,
		uint8_t *buf, size_t cap, lmsgo_res *res) {
	size_t n = 0;
	int rc = what == 0 ? lms_list_template_versions_into(db, id, id_len, buf, cap, &n)
	                   : lms_list_template_aliases_into(db, id, id_len, buf, cap, &n);
	res->len = n;
	return lmsgo_finish(rc, res);
}

static int lmsgo_delete_template(lms_db *db, const char *id, size_t id_len, const char *ver, size_t ver_len,
		lmsgo_res *res) {
	return lmsgo_finish(lms_delete_template(db, id, id_len, ver, ver_len), res);
}

static int lmsgo_set_template_alias(lms_db *db, const char *id, size_t id_len, const char *alias,
		size_t alias_len, const char *ver, size_t ver_len, lmsgo_res *res) {
	return lmsgo_finish(lms_set_template_alias(db, id, id_len, alias, alias_len, ver, ver_len), res);
}

static int lmsgo_delete_template_alias(lms_db *db, const char *id, size_t id_len, const char *alias,
		size_t alias_len, lmsgo_res *res) {
	return lmsgo_finish(lms_delete_template_alias(db, id, id_len, alias, alias_len), res);
}

static int lmsgo_append(lms_db *db, const uint8_t *batch, size_t batch_len, lms_append_result *results,
		size_t results_cap, lmsgo_res *res) {
	return lmsgo_finish(lms_append_messages_packed(db, batch, batch_len, results, results_cap), res);
}

static int lmsgo_list_sessions(lms_db *db, const uint8_t *cursor, size_t cursor_len, uint32_t limit,
		uint8_t *buf, size_t cap, lms_page_info *info, lmsgo_res *res) {
	return lmsgo_finish(lms_list_sessions_into(db, cursor, cursor_len, limit, buf, cap, info), res);
}

static int lmsgo_get_message(lms_db *db, const uint8_t *id, uint8_t *buf, size_t cap, lmsgo_res *res) {
	size_t n = 0;
	int rc = lms_get_message_into(db, id, LMS_ID_LEN, buf, cap, &n);
	res->len = n;
	return lmsgo_finish(rc, res);
}

static int lmsgo_update_message(lms_db *db, const uint8_t *id, const char *content, size_t content_len,
		const uint8_t *md, size_t md_len, uint32_t flags, lmsgo_res *res) {
	return lmsgo_finish(lms_update_message(db, id, LMS_ID_LEN, content, content_len, md, md_len, flags), res);
}

static int lmsgo_delete_message(lms_db *db, const uint8_t *id, lmsgo_res *res) {
	return lmsgo_finish(lms_delete_message(db, id, LMS_ID_LEN), res);
}

// before_mode: 0 keep the newest `arg` messages; 1 delete those older than `arg` µs.
static int lmsgo_trim(lms_db *db, const char *s, size_t s_len, int before_mode, int64_t arg, lmsgo_res *res) {
	uint64_t deleted = 0;
	int rc = before_mode ? lms_trim_session_before(db, s, s_len, arg, &deleted)
	                     : lms_trim_session(db, s, s_len, (uint64_t)arg, &deleted);
	res->n = deleted;
	return lmsgo_finish(rc, res);
}

static int lmsgo_create_session(lms_db *db, const char *s, size_t s_len, const char *title, size_t title_len,
		const uint8_t *md, size_t md_len, lmsgo_res *res) {
	return lmsgo_finish(lms_create_session(db, s, s_len, title, title_len, md, md_len), res);
}

static int lmsgo_get_session(lms_db *db, const char *s, size_t s_len, uint8_t *buf, size_t cap, lmsgo_res *res) {
	size_t n = 0;
	int rc = lms_get_session_into(db, s, s_len, buf, cap, &n);
	res->len = n;
	return lmsgo_finish(rc, res);
}

static int lmsgo_update_session(lms_db *db, const char *s, size_t s_len, const char *title, size_t title_len,
		const uint8_t *md, size_t md_len, uint32_t flags, lmsgo_res *res) {
	return lmsgo_finish(lms_update_session(db, s, s_len, title, title_len, md, md_len, flags), res);
}

static int lmsgo_delete_session(lms_db *db, const char *s, size_t s_len, lmsgo_res *res) {
	uint64_t deleted = 0;
	int rc = lms_delete_session(db, s, s_len, &deleted);
	res->n = deleted;
	return lmsgo_finish(rc, res);
}
*/
import "C"

import (
	"unsafe"
)

// callResult is what one shim call produced, in Go memory.
type callResult struct {
	code   int    // LMS_* status; 0 on success
	msg    string // lms_last_error() of the failed call
	data   []byte // result bytes: a prefix of the buffer the call was given
	n      uint64 // put outcome or deleted count; the size needed on LMS_BUFFER_TOO_SMALL
	count  uint32 // items in a page
	cursor []byte // next-page cursor (copied), nil at the end
}

func (r *callResult) ok() bool { return r.code == 0 }

// errText copies the error message out of res. It is copied in Go rather than with
// C.GoStringN: passing &res.err to a cgo helper would make every res escape to the heap
// (a 1.3 KB allocation per call), while a Go copy lets it stay on the goroutine stack.
func errText(res *C.lmsgo_res) string {
	n := min(int(res.err_len), len(res.err))
	return string(unsafe.Slice((*byte)(unsafe.Pointer(&res.err[0])), n))
}

// finish is the result of a call that returns no data (writes, sync, stat).
func finish(rc C.int, res *C.lmsgo_res) callResult {
	out := callResult{code: int(rc), n: uint64(res.n)}
	if rc != C.LMS_OK {
		out.msg = errText(res)
	}
	return out
}

// str passes a Go string as (pointer, length) without copying; (NULL, 0) when empty, which the
// ABI reads as "absent" for optional arguments.
func str(s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return nil, 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

func bin(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b))
}

// scratch passes a whole buffer (up to its capacity) for the shim to fill.
func scratch(b []byte) (*C.uint8_t, C.size_t) {
	b = b[:cap(b)]
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b))), C.size_t(len(b))
}

func dbp(h unsafe.Pointer) *C.lms_db { return (*C.lms_db)(h) }

func cABIVersion() uint32       { return uint32(C.lms_abi_version()) }
func cVersion() string          { return C.GoString(C.lms_version()) }
func cVersionNumber() uint32    { return uint32(C.lms_version_number()) }
func cStrerror(code int) string { return C.GoString(C.lms_strerror(C.int(code))) }

const (
	headerABIVersion = C.LMS_ABI_VERSION
	headerVersion    = C.LMS_VERSION_NUMBER
	maxPage          = C.LMS_MAX_PAGE
	maxCursor        = C.LMS_CURSOR_MAX
)

// openOptions are lms_options as Go values; zero fields take the library's defaults.
type openOptions struct {
	flags           uint32
	mapSize         uint64
	maxMapSize      uint64
	maxReaders      uint32
	fileMode        uint32
	renderCacheSize uint32
	poolSize        uint32
	connectTimeout  uint32 // ms
}

func cOpen(path string, o openOptions) (unsafe.Pointer, callResult) {
	var res C.lmsgo_res
	var h *C.lms_db
	p, pl := str(path)
	copts := C.lms_options{
		flags:              C.uint32_t(o.flags),
		map_size:           C.uint64_t(o.mapSize),
		max_map_size:       C.uint64_t(o.maxMapSize),
		max_readers:        C.uint32_t(o.maxReaders),
		file_mode:          C.uint32_t(o.fileMode),
		render_cache_size:  C.uint32_t(o.renderCacheSize),
		pool_size:          C.uint32_t(o.poolSize),
		connect_timeout_ms: C.uint32_t(o.connectTimeout),
	}
	rc := C.lmsgo_open(p, pl, &copts, &h, &res)
	return unsafe.Pointer(h), finish(rc, &res)
}

func cClose(h unsafe.Pointer) { C.lms_close(dbp(h)) }

func cSync(h unsafe.Pointer) callResult {
	var res C.lmsgo_res
	return finish(C.lmsgo_sync(dbp(h), &res), &res)
}

func cStat(h unsafe.Pointer, s *Stats) callResult {
	var res C.lmsgo_res
	var st C.lms_stats
	r := finish(C.lmsgo_stat(dbp(h), &st, &res), &res)
	if r.ok() {
		*s = Stats{
			TemplateIDs:         uint64(st.template_ids),
			TemplateVersions:    uint64(st.template_versions),
			TemplatesModifiedAt: fromMicros(int64(st.templates_modified_at)),
			Sessions:            uint64(st.sessions),
			Messages:            uint64(st.messages),
			MapSize:             uint64(st.map_size),
			MapUsed:             uint64(st.map_used),
			MaxMapSize:          uint64(st.max_map_size),
			MaxReaders:          uint32(st.max_readers),
			NumReaders:          uint32(st.num_readers),
			SchemaVersion:       uint32(st.schema_version),
			LMDBVersion:         uint32(st.lmdb_version),
		}
	}
	return r
}

func cBackup(h unsafe.Pointer, path string, compact bool) callResult {
	var res C.lmsgo_res
	var flags C.uint32_t
	if compact {
		flags = C.LMS_BACKUP_COMPACT
	}
	p, pl := str(path)
	return finish(C.lmsgo_backup(dbp(h), p, pl, flags, &res), &res)
}

// dictionaryInfo mirrors lms_dictionary_info so a Go slice of it can be filled by C directly.
type dictionaryInfo = C.lms_dictionary_info

func dictionaryOf(d *dictionaryInfo) Dictionary {
	return Dictionary{
		Version: uint32(d.version),
		ZstdID:  uint32(d.zstd_id),
		Bytes:   uint64(d.bytes),
		MinBody: uint32(d.min_body),
	}
}

func cTrainDictionary(h unsafe.Pointer, minBody uint32, d *Dictionary) callResult {
	var res C.lmsgo_res
	var out C.lms_dictionary_info
	r := finish(C.lmsgo_train_dictionary(dbp(h), C.uint32_t(minBody), &out, &res), &res)
	if r.ok() {
		*d = dictionaryOf(&out)
	}
	return r
}

// cListDictionaries fills out with up to len(out) dictionaries, oldest first; r.n is how many
// the store holds, which may be more than len(out).
func cListDictionaries(h unsafe.Pointer, out []dictionaryInfo) callResult {
	var res C.lmsgo_res
	var op *C.lms_dictionary_info
	if len(out) > 0 {
		op = &out[0]
	}
	return finish(C.lmsgo_list_dictionaries(dbp(h), op, C.size_t(len(out)), &res), &res)
}

func cPutTemplate(h unsafe.Pointer, spec []byte, replace bool) callResult {
	var res C.lmsgo_res
	var flags C.uint32_t
	if replace {
		flags = C.LMS_PUT_REPLACE
	}
	p, pl := bin(spec)
	return finish(C.lmsgo_put_template(dbp(h), p, pl, flags, &res), &res)
}

func cGetTemplate(h unsafe.Pointer, id, version string, byAlias bool, buf []byte) callResult {
	var res C.lmsgo_res
	ip, il := str(id)
	vp, vl := str(version)
	bp, bl := scratch(buf)
	var alias C.int
	if byAlias {
		alias = 1
	}
	rc := C.lmsgo_get_template(dbp(h), ip, il, vp, vl, alias, bp, bl, &res)
	return finishInto(rc, &res, buf, int(res.len), 0, nil)
}

const codeBufferTooSmall = C.LMS_BUFFER_TOO_SMALL

// cRangeInto reads one page of a session's (or with agent, an agent's) messages into buf, like
// cGetTemplate.
func cRangeInto(h unsafe.Pointer, agent bool, name string, start, end int64, limit, flags uint32, cursor, buf []byte) callResult {
	var res C.lmsgo_res
	var info C.lms_page_info
	np, nl := str(name)
	cp, cl := bin(cursor)
	bp, bl := scratch(buf)
	var kind C.int
	if agent {
		kind = 1
	}
	rc := C.lmsgo_range(dbp(h), kind, np, nl, C.int64_t(start), C.int64_t(end), C.uint32_t(limit),
		C.uint32_t(flags), cp, cl, bp, bl, &info, &res)
	return finishPage(rc, &res, buf, &info)
}

func finishPage(rc C.int, res *C.lmsgo_res, buf []byte, info *C.lms_page_info) callResult {
	var next []byte
	if rc == C.LMS_OK && info.cursor_len > 0 {
		next = unsafe.Slice((*byte)(unsafe.Pointer(&info.cursor[0])), int(info.cursor_len))
	}
	return finishInto(rc, res, buf, int(info.len), uint32(info.count), next)
}

func finishInto(rc C.int, res *C.lmsgo_res, buf []byte, n int, count uint32, cursor []byte) callResult {
	out := callResult{code: int(rc), count: count}
	switch {
	case rc == C.LMS_OK:
		if n > cap(buf) {
			// The library never writes more than it was given room for; this would be a bug.
			out.code, out.msg = int(C.LMS_INTERNAL), "the library reported more bytes than the buffer holds"
			return out
		}
		out.data = buf[:n]
		if len(cursor) > 0 {
			out.cursor = append([]byte(nil), cursor...) // copied: it lives on this stack frame
		}
	case rc == C.LMS_BUFFER_TOO_SMALL:
		out.n = uint64(n)
		out.msg = errText(res)
	default:
		out.msg = errText(res)
	}
	return out
}

func cListTemplates(h unsafe.Pointer, prefix, after string, limit uint32, buf []byte) callResult {
	var res C.lmsgo_res
	pp, pl := str(prefix)
	ap, al := str(after)
	bp, bl := scratch(buf)
	rc := C.lmsgo_list_templates(dbp(h), pp, pl, ap, al, C.uint32_t(limit), bp, bl, &res)
	return finishInto(rc, &res, buf, int(res.len), 0, nil)
}

func cListTemplateMeta(h unsafe.Pointer, id string, aliases bool, buf []byte) callResult {
	var res C.lmsgo_res
	ip, il := str(id)
	bp, bl := scratch(buf)
	var what C.int
	if aliases {
		what = 1
	}
	rc := C.lmsgo_list_template_meta(dbp(h), ip, il, what, bp, bl, &res)
	return finishInto(rc, &res, buf, int(res.len), 0, nil)
}

func cDeleteTemplate(h unsafe.Pointer, id, version string) callResult {
	var res C.lmsgo_res
	ip, il := str(id)
	vp, vl := str(version)
	return finish(C.lmsgo_delete_template(dbp(h), ip, il, vp, vl, &res), &res)
}

func cSetTemplateAlias(h unsafe.Pointer, id, alias, version string) callResult {
	var res C.lmsgo_res
	ip, il := str(id)
	ap, al := str(alias)
	vp, vl := str(version)
	return finish(C.lmsgo_set_template_alias(dbp(h), ip, il, ap, al, vp, vl, &res), &res)
}

func cDeleteTemplateAlias(h unsafe.Pointer, id, alias string) callResult {
	var res C.lmsgo_res
	ip, il := str(id)
	ap, al := str(alias)
	return finish(C.lmsgo_delete_template_alias(dbp(h), ip, il, ap, al, &res), &res)
}

// appendResult mirrors lms_append_result so a Go slice of it can be filled by C directly.
type appendResult = C.lms_append_result

func cAppend(h unsafe.Pointer, batch []byte, results []appendResult) callResult {
	var res C.lmsgo_res
	p, pl := bin(batch)
	var rp *C.lms_append_result
	if len(results) > 0 {
		rp = &results[0]
	}
	return finish(C.lmsgo_append(dbp(h), p, pl, rp, C.size_t(len(results)), &res), &res)
}

func appendResultOf(r *appendResult) (id ID, ts int64, duplicate bool) {
	copy(id[:], unsafe.Slice((*byte)(unsafe.Pointer(&r.id[0])), len(id)))
	return id, int64(r.ts), r.outcome == C.LMS_APPEND_DUPLICATE
}

const (
	rangeReverse = C.LMS_RANGE_REVERSE
	rangeStart   = C.LMS_RANGE_START
	rangeEnd     = C.LMS_RANGE_END
)

// cListSessions reads one page of sessions into buf, like cRangeInto.
func cListSessions(h unsafe.Pointer, cursor []byte, limit uint32, buf []byte) callResult {
	var res C.lmsgo_res
	var info C.lms_page_info
	cp, cl := bin(cursor)
	bp, bl := scratch(buf)
	rc := C.lmsgo_list_sessions(dbp(h), cp, cl, C.uint32_t(limit), bp, bl, &info, &res)
	return finishPage(rc, &res, buf, &info)
}

func idp(id *ID) *C.uint8_t { return (*C.uint8_t)(unsafe.Pointer(&id[0])) }

func cGetMessage(h unsafe.Pointer, id ID, buf []byte) callResult {
	var res C.lmsgo_res
	bp, bl := scratch(buf)
	rc := C.lmsgo_get_message(dbp(h), idp(&id), bp, bl, &res)
	return finishInto(rc, &res, buf, int(res.len), 0, nil)
}

const (
	updateContent  = C.LMS_UPDATE_CONTENT
	updateMetadata = C.LMS_UPDATE_METADATA
	updateTitle    = C.LMS_UPDATE_TITLE
)

func cUpdateMessage(h unsafe.Pointer, id ID, content string, metadata []byte, flags uint32) callResult {
	var res C.lmsgo_res
	cp, cl := str(content)
	mp, ml := bin(metadata)
	return finish(C.lmsgo_update_message(dbp(h), idp(&id), cp, cl, mp, ml, C.uint32_t(flags), &res), &res)
}

func cDeleteMessage(h unsafe.Pointer, id ID) callResult {
	var res C.lmsgo_res
	return finish(C.lmsgo_delete_message(dbp(h), idp(&id), &res), &res)
}

func cTrim(h unsafe.Pointer, session string, before bool, arg int64) callResult {
	var res C.lmsgo_res
	sp, sl := str(session)
	var mode C.int
	if before {
		mode = 1
	}
	return finish(C.lmsgo_trim(dbp(h), sp, sl, mode, C.int64_t(arg), &res), &res)
}

func cCreateSession(h unsafe.Pointer, session, title string, metadata []byte) callResult {
	var res C.lmsgo_res
	sp, sl := str(session)
	tp, tl := str(title)
	mp, ml := bin(metadata)
	return finish(C.lmsgo_create_session(dbp(h), sp, sl, tp, tl, mp, ml, &res), &res)
}

func cGetSession(h unsafe.Pointer, session string, buf []byte) callResult {
	var res C.lmsgo_res
	sp, sl := str(session)
	bp, bl := scratch(buf)
	rc := C.lmsgo_get_session(dbp(h), sp, sl, bp, bl, &res)
	return finishInto(rc, &res, buf, int(res.len), 0, nil)
}

func cUpdateSession(h unsafe.Pointer, session, title string, metadata []byte, flags uint32) callResult {
	var res C.lmsgo_res
	sp, sl := str(session)
	tp, tl := str(title)
	mp, ml := bin(metadata)
	return finish(C.lmsgo_update_session(dbp(h), sp, sl, tp, tl, mp, ml, C.uint32_t(flags), &res), &res)
}

func cDeleteSession(h unsafe.Pointer, session string) callResult {
	var res C.lmsgo_res
	sp, sl := str(session)
	return finish(C.lmsgo_delete_session(dbp(h), sp, sl, &res), &res)
}
