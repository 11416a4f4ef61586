//! Import, verify and export of YAML prompt folders, and migration of the two LMDB layouts
//! lmstore replaces (docs/import.md, docs/migration.md). Reports cross as MessagePack maps.

use super::boundary::{boundary, copy_out, out_pair, path_arg};
use super::env::{lms_db, store};
use crate::error::Error;
use crate::import::ImportOptions;
use std::ffi::{c_char, c_int, c_void};

/// Import flag: report what would happen, write nothing.
pub const LMS_IMPORT_DRY_RUN: u32 = 1;
/// Import flag: one transaction; any skipped or conflicting file and nothing is written.
pub const LMS_IMPORT_ATOMIC: u32 = 2;
/// Import flag: replace an existing id+version whose body differs instead of a conflict.
pub const LMS_IMPORT_REPLACE: u32 = 4;

/// Migration source: a promptlightning LMDB registry (templates, version_index, metadata).
pub const LMS_MIGRATE_PROMPTLIGHTNING: u32 = 1;
/// Migration source: a tkr-agent-chat LMDB message store (sessions, messages, ...).
pub const LMS_MIGRATE_TKR_AGENT_CHAT: u32 = 2;

/// Progress callback: `done` of `known` units so far. Called on the calling thread during the
/// call, never after it returns; it must not call back into lmstore on the same handle.
pub type lms_progress_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, done: u64, known: u64)>;

fn call_progress(progress: lms_progress_fn, ctx: *mut c_void) -> impl FnMut(u64, u64) {
    move |done, known| {
        if let Some(f) = progress {
            // SAFETY: the caller gave a function pointer valid for the call, and its ctx.
            unsafe { f(ctx, done, known) }
        }
    }
}

/// Imports every `.yaml`/`.yml` file under folder `path` (recursively) as template versions,
/// reading YAML the way PyYAML's safe_load does (YAML 1.1), and reports an outcome for every
/// file: imported, unchanged, replaced, conflict, or skipped with the reason, line and column.
///
/// @param db  Handle from lms_open(), writable.
/// @param path,path_len  The folder.
/// @param flags  0 (file by file) or any of LMS_IMPORT_DRY_RUN, LMS_IMPORT_ATOMIC,
///               LMS_IMPORT_REPLACE.
/// @param progress,ctx  Optional progress callback (NULL for none) and its context.
/// @param[out] report,report_len  A MessagePack map (docs/import.md); free with lms_bytes_free().
/// @return LMS_OK (also when files were skipped: the report says which); LMS_NOT_FOUND (no such
///         folder); LMS_INVALID_ARGUMENT (NULL arguments, unknown flags, not a folder);
///         LMS_IO (the folder cannot be read); LMS_READ_ONLY; LMS_MAP_FULL; LMS_INTERNAL (a bug).
/// @since 0.2
#[no_mangle]
pub unsafe extern "C" fn lms_import_folder(
    db: *mut lms_db,
    path: *const c_char,
    path_len: usize,
    flags: u32,
    progress: lms_progress_fn,
    ctx: *mut c_void,
    report: *mut *mut u8,
    report_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: non-NULL out-pointers are writable for the call.
        let (out, out_len) = unsafe { out_pair(report, report_len) }?;
        // SAFETY: caller contract on db.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on (path, path_len).
        let root = unsafe { path_arg(path, path_len, "path") }?;
        let known = LMS_IMPORT_DRY_RUN | LMS_IMPORT_ATOMIC | LMS_IMPORT_REPLACE;
        if flags & !known != 0 {
            return Err(Error::invalid(format!("unknown import flags 0x{flags:x}")));
        }
        let opts = ImportOptions {
            dry_run: flags & LMS_IMPORT_DRY_RUN != 0,
            atomic: flags & LMS_IMPORT_ATOMIC != 0,
            replace: flags & LMS_IMPORT_REPLACE != 0,
        };
        let r = store.import_folder(root, opts, &mut call_progress(progress, ctx))?;
        copy_out(&r.encode(), out, out_len)
    })
}

/// Re-reads folder `path` and compares it with the store: templates that match, differ
/// (mismatched), are missing from the store, or are in the store but in no file (extra).
///
/// @param[out] report,report_len  A MessagePack map {clean, matched, skipped, mismatched,
///             missing, extra}; free with lms_bytes_free().
/// @return LMS_OK (also when they differ: see `clean`); LMS_NOT_FOUND (no such folder);
///         LMS_INVALID_ARGUMENT; LMS_IO; LMS_INTERNAL (a bug).
/// @since 0.2
#[no_mangle]
pub unsafe extern "C" fn lms_verify_import(
    db: *mut lms_db,
    path: *const c_char,
    path_len: usize,
    report: *mut *mut u8,
    report_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: non-NULL out-pointers are writable for the call.
        let (out, out_len) = unsafe { out_pair(report, report_len) }?;
        // SAFETY: caller contract on db.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on (path, path_len).
        let root = unsafe { path_arg(path, path_len, "path") }?;
        copy_out(&store.verify_import(root)?.encode(), out, out_len)
    })
}

/// Exports every template version to folder `path` (created; it must be new or empty): the
/// latest version of each id as `<id>.yaml` (the file promptlightning's LocalRegistry loads),
/// older versions under `versions/`, aliases in `lmstore-aliases.yaml`.
///
/// @param[out] report,report_len  A MessagePack map {templates, versions, aliases, files}; free
///             with lms_bytes_free().
/// @return LMS_OK; LMS_INVALID_ARGUMENT (NULL arguments, a folder that is not empty);
///         LMS_IO; LMS_INTERNAL (a bug).
/// @since 0.2
#[no_mangle]
pub unsafe extern "C" fn lms_export_folder(
    db: *mut lms_db,
    path: *const c_char,
    path_len: usize,
    report: *mut *mut u8,
    report_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: non-NULL out-pointers are writable for the call.
        let (out, out_len) = unsafe { out_pair(report, report_len) }?;
        // SAFETY: caller contract on db.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on (path, path_len).
        let dir = unsafe { path_arg(path, path_len, "path") }?;
        copy_out(&store.export_folder(dir)?.encode(), out, out_len)
    })
}

/// Migrates an LMDB store of another system into this one, reading the source read-only (it is
/// opened without a lock and never written: a read-only copy works). What lmstore does not
/// model goes to `side_file` as JSON Lines. A second run changes nothing and says so; each run
/// ends with a record-by-record verification (docs/migration.md).
///
/// @param kind  LMS_MIGRATE_PROMPTLIGHTNING or LMS_MIGRATE_TKR_AGENT_CHAT.
/// @param source,source_len  The source directory (the one holding data.mdb).
/// @param side_file,side_file_len  Where to write the side file (replaced when it exists).
/// @param progress,ctx  Optional progress callback (NULL for none) and its context.
/// @param[out] report,report_len  A MessagePack map (docs/migration.md); free with
///             lms_bytes_free().
/// @return LMS_OK; LMS_NOT_FOUND (no such source); LMS_INVALID_ARGUMENT (unknown kind, a source
///         that is not LMDB, is an lmstore store, or is of the other kind: the message says
///         which databases it has); LMS_IO; LMS_CORRUPT (a damaged source); LMS_READ_ONLY;
///         LMS_MAP_FULL; LMS_INTERNAL (a bug).
/// @since 0.2
#[no_mangle]
pub unsafe extern "C" fn lms_migrate(
    db: *mut lms_db,
    kind: u32,
    source: *const c_char,
    source_len: usize,
    side_file: *const c_char,
    side_file_len: usize,
    progress: lms_progress_fn,
    ctx: *mut c_void,
    report: *mut *mut u8,
    report_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: non-NULL out-pointers are writable for the call.
        let (out, out_len) = unsafe { out_pair(report, report_len) }?;
        // SAFETY: caller contract on db.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on (source, source_len).
        let src = unsafe { path_arg(source, source_len, "source") }?;
        // SAFETY: caller contract on (side_file, side_file_len).
        let side = unsafe { path_arg(side_file, side_file_len, "side_file") }?;
        let mut p = call_progress(progress, ctx);
        let r = match kind {
            LMS_MIGRATE_PROMPTLIGHTNING => store.migrate_promptlightning(src, side, &mut p)?,
            LMS_MIGRATE_TKR_AGENT_CHAT => store.migrate_tkr_agent_chat(src, side, &mut p)?,
            other => {
                return Err(Error::invalid(format!(
                    "unknown migration kind {other}; expected LMS_MIGRATE_PROMPTLIGHTNING (1) or LMS_MIGRATE_TKR_AGENT_CHAT (2)"
                )))
            }
        };
        copy_out(&r.encode(), out, out_len)
    })
}
