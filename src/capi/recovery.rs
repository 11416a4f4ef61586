//! Damaged stores: the structural verifier and salvage.

use super::boundary::*;
use super::env::store;
use crate::error::Result;
use crate::recovery;
use std::ffi::{c_char, c_int};
use std::path::Path;

/// Hands the report to the caller, then fails with LMS_CORRUPT naming the first damage.
fn report_out(
    report: recovery::VerifyReport,
    out: &mut *mut u8,
    out_len: &mut usize,
    path: &Path,
) -> Result<()> {
    copy_out(&recovery::verify_report_msgpack(&report), out, out_len)?;
    report.into_result(path).map(|_| ())
}

/// Checks every page of every table of the store in directory `path` with lmstore's own
/// bounds-checked reader, without opening it with LMDB, so a damaged file cannot crash the
/// caller. The store may be open (in this or another process) meanwhile.
///
/// The report is one MessagePack map: `ok` bool, `page_size`, `last_page`, `file_pages`,
/// `txnid`, `free_pages`, `damage_count` (uint), `tables` (array of `{name, entries,
/// recorded_entries, depth, pages}`), `damage` (array of `{page: uint|nil, table, what}`,
/// at most 1000; docs/reliability.md).
///
/// @param path,path_len  Store directory.
/// @param[out] out,out_len  The report, set on LMS_OK and on LMS_CORRUPT; free it with
///                          lms_bytes_free(). Set to NULL/0 on every other status.
/// @return LMS_OK (no damage); LMS_CORRUPT (damage found: the report says where, and
///         lms_last_error() names the first); LMS_NOT_FOUND (no data.mdb in `path`);
///         LMS_INVALID_ARGUMENT (NULL or empty path, NULL out-pointers); LMS_IO.
/// @since 0.2
#[no_mangle]
pub unsafe extern "C" fn lms_verify(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: non-NULL out-pointers are writable for the call.
        let (out, out_len) = unsafe { out_pair(out, out_len) }?;
        // SAFETY: caller contract on path.
        // SAFETY: caller contract on (path, path_len).
        let dir = unsafe { path_arg(path, path_len, "path") }?;
        let report = recovery::verify_path(dir)?;
        report_out(report, out, out_len, &crate::lmdb::pages::data_file(dir))
    })
}

/// Like lms_verify(), for an open store: walks the snapshot of a read transaction held for
/// the walk, so writers go on and the pages checked cannot be reused meanwhile.
///
/// @param db  Handle from lms_open().
/// @param[out] out,out_len  The report (as for lms_verify()); free it with lms_bytes_free().
/// @return LMS_OK; LMS_CORRUPT (damage found; the report says where); LMS_INVALID_ARGUMENT;
///         LMS_IO; LMS_INTERNAL (a bug).
/// @since 0.2
#[no_mangle]
pub unsafe extern "C" fn lms_verify_db(
    db: *mut super::env::lms_db,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: non-NULL out-pointers are writable for the call.
        let (out, out_len) = unsafe { out_pair(out, out_len) }?;
        // SAFETY: caller contract on db.
        let store = unsafe { store(db) }?;
        let report = store.verify_pages()?;
        report_out(
            report,
            out,
            out_len,
            &crate::lmdb::pages::data_file(store.path()),
        )
    })
}

/// Copies every intact template version, alias, session and message of the (possibly
/// damaged) store in `src` into a new store in `dest`, SQLite `.recover` style. `src` is read
/// only by lmstore's own bounds-checked reader, never by LMDB, so no file can crash the
/// caller; it is never modified. Records are checked and written through the normal write
/// paths, so the new store's indexes and counts are rebuilt. Ids, message `ts`, template and
/// session `created_at` are kept; a message's `created_at`/`updated_at` and a session's
/// `updated_at` are those of the salvage.
///
/// The report is one MessagePack map: `template_versions`, `aliases`, `sessions`, `messages`
/// (recovered), `orphan_pages` (leaf pages read outside every tree), `lost_count`,
/// `damage_count` (uint), `complete` (bool: nothing lost, no damage), `lost` (array of
/// `{table, key, what}`: records found but not recovered, at most 1000), `damage` (as for
/// lms_verify()).
///
/// @param src,src_len    Directory of the damaged store.
/// @param dest,dest_len  Directory for the new store: missing or empty.
/// @param[out] out,out_len  The report; free it with lms_bytes_free(). NULL/0 on failure.
/// @return LMS_OK (the report says what was recovered and lost); LMS_NOT_FOUND (no data.mdb
///         in `src`); LMS_INVALID_ARGUMENT (NULL or empty paths, `dest` not empty, NULL
///         out-pointers); LMS_IO; LMS_MAP_FULL (dest).
/// @since 0.2
#[no_mangle]
pub unsafe extern "C" fn lms_salvage(
    src: *const c_char,
    src_len: usize,
    dest: *const c_char,
    dest_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: non-NULL out-pointers are writable for the call.
        let (out, out_len) = unsafe { out_pair(out, out_len) }?;
        // SAFETY: caller contract on src and dest.
        // SAFETY: caller contract on (src, src_len).
        let src = unsafe { path_arg(src, src_len, "src") }?;
        // SAFETY: as above.
        // SAFETY: caller contract on (dest, dest_len).
        let dest = unsafe { path_arg(dest, dest_len, "dest") }?;
        let report = recovery::salvage(src, dest)?;
        copy_out(&report.to_msgpack(), out, out_len)
    })
}
