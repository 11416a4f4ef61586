//! The `_into` form of every read that lacked one, so each read can be made the same way: into a
//! caller-owned buffer, LMS_BUFFER_TOO_SMALL with the size needed when the result does not fit.
//! A binding then has one read path, with no library allocation to free.

use super::boundary::*;
use super::conversations::{lms_page_info, lms_range, put_cursor, query, range_page_into};
use super::env::{lms_db, store};
use crate::conversations::CursorKind;
use crate::conversations::Page;
use crate::error::Result;
use crate::Store;
use std::ffi::{c_char, c_int};

/// Clears `out` and returns it.
///
/// # Safety
/// As for out_ptr().
unsafe fn info<'a>(out: *mut lms_page_info) -> Result<&'a mut lms_page_info> {
    // SAFETY: forwarded caller contract.
    let out = unsafe { out_ptr(out, "out") }?;
    out.len = 0;
    out.count = 0;
    out.cursor_len = 0;
    Ok(out)
}

/// # Safety
/// As for copy_into().
unsafe fn page_into(page: Page, buf: *mut u8, cap: usize, out: &mut lms_page_info) -> Result<()> {
    // SAFETY: forwarded caller contract.
    unsafe { copy_into(page.bytes(), buf, cap, &mut out.len) }?;
    out.count = page.count;
    out.cursor_len = put_cursor(page.next, &mut out.cursor);
    Ok(())
}

/// Clears `out_len` and returns it.
///
/// # Safety
/// As for out_ptr().
unsafe fn len_out<'a>(out_len: *mut usize) -> Result<&'a mut usize> {
    // SAFETY: forwarded caller contract.
    let l = unsafe { out_ptr(out_len, "out_len") }?;
    *l = 0;
    Ok(l)
}

/// lms_get_template_by_alias() into a caller-owned buffer.
/// @param buf,cap       Caller-owned buffer of `cap` bytes (NULL/0 to ask for the size).
/// @param[out] out_len  The record's length, also when it does not fit.
/// @return LMS_OK; LMS_BUFFER_TOO_SMALL (*out_len says how much is needed; buf untouched);
///         LMS_NOT_FOUND (the id or the alias does not exist); LMS_INVALID_ARGUMENT (NULL db,
///         pointer or out_len, buf NULL with a capacity); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG;
///         LMS_IO or LMS_CORRUPT; LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_get_template_by_alias_into(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    alias: *const c_char,
    alias_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on out_len.
        let out_len = unsafe { len_out(out_len) }?;
        // SAFETY: caller contract on db, id and alias.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on id (required's contract).
        let id = unsafe { required(id as *const u8, id_len, "id") }?;
        // SAFETY: caller contract on alias (required's contract).
        let alias = unsafe { required(alias as *const u8, alias_len, "alias") }?;
        // SAFETY: caller contract on buf and cap.
        store.with_template_by_alias(id, alias, |r| unsafe { copy_into(r, buf, cap, out_len) })?
    })
}

/// lms_list_templates() into a caller-owned buffer.
/// @param buf,cap       Caller-owned buffer of `cap` bytes.
/// @param[out] out_len  The list's length, also when it does not fit.
/// @return LMS_OK; LMS_BUFFER_TOO_SMALL (*out_len says how much is needed; buf untouched);
///         LMS_INVALID_ARGUMENT (NULL db, pointer or out_len, limit 0 or above LMS_MAX_PAGE);
///         LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG; LMS_IO or LMS_CORRUPT; LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_list_templates_into(
    db: *mut lms_db,
    prefix: *const c_char,
    prefix_len: usize,
    after: *const c_char,
    after_len: usize,
    limit: u32,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on out_len.
        let out_len = unsafe { len_out(out_len) }?;
        // SAFETY: caller contract on db, prefix and after.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on prefix (bytes's contract).
        let prefix = unsafe { bytes(prefix as *const u8, prefix_len, "prefix") }?;
        // SAFETY: caller contract on after (bytes's contract).
        let after = unsafe { bytes(after as *const u8, after_len, "after") }?;
        let ids = store.list_template_ids(prefix, after, limit)?;
        // SAFETY: caller contract on buf and cap.
        unsafe { copy_into(&ids, buf, cap, out_len) }
    })
}

/// The body of a read of one template id into a caller-owned buffer.
///
/// # Safety
/// `db` as for store(), `id` as for required(), `buf`/`cap`/`out_len` as for copy_into().
unsafe fn by_id_into(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
    read: impl FnOnce(&Store, &[u8]) -> Result<Vec<u8>>,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on out_len.
        let out_len = unsafe { len_out(out_len) }?;
        // SAFETY: caller contract on db.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on id (required's contract).
        let id = unsafe { required(id as *const u8, id_len, "id") }?;
        let data = read(store, id)?;
        // SAFETY: caller contract on buf and cap.
        unsafe { copy_into(&data, buf, cap, out_len) }
    })
}

/// lms_list_template_versions() into a caller-owned buffer.
/// @param buf,cap       Caller-owned buffer of `cap` bytes.
/// @param[out] out_len  The list's length, also when it does not fit.
/// @return LMS_OK; LMS_BUFFER_TOO_SMALL (*out_len says how much is needed; buf untouched);
///         LMS_NOT_FOUND (the id does not exist); LMS_INVALID_ARGUMENT (NULL db, pointer or
///         out_len); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG; LMS_IO or LMS_CORRUPT; LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_list_template_versions_into(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    // SAFETY: the caller's contract is by_id_into's.
    unsafe {
        by_id_into(
            db,
            id,
            id_len,
            buf,
            cap,
            out_len,
            Store::list_template_versions,
        )
    }
}

/// lms_list_template_aliases() into a caller-owned buffer.
/// @param buf,cap       Caller-owned buffer of `cap` bytes.
/// @param[out] out_len  The map's length, also when it does not fit.
/// @return LMS_OK; LMS_BUFFER_TOO_SMALL (*out_len says how much is needed; buf untouched);
///         LMS_NOT_FOUND (the id does not exist); LMS_INVALID_ARGUMENT (NULL db, pointer or
///         out_len); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG; LMS_IO or LMS_CORRUPT; LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_list_template_aliases_into(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    // SAFETY: the caller's contract is by_id_into's.
    unsafe {
        by_id_into(
            db,
            id,
            id_len,
            buf,
            cap,
            out_len,
            Store::list_template_aliases,
        )
    }
}

/// lms_range_agent_messages() into a caller-owned buffer, as lms_range_messages_into().
/// @param buf,cap   Caller-owned buffer for the page.
/// @param[out] out  Page length, count and cursor; on LMS_BUFFER_TOO_SMALL only `len` is set.
/// @return LMS_OK; LMS_BUFFER_TOO_SMALL (out->len says how much is needed; what buf holds is
///         unspecified); LMS_BAD_CURSOR; LMS_INVALID_ARGUMENT (NULL db, pointer or out, limit 0
///         or above LMS_MAX_PAGE, unknown flags); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG; LMS_IO
///         or LMS_CORRUPT; LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_range_agent_messages_into(
    db: *mut lms_db,
    agent_id: *const c_char,
    agent_id_len: usize,
    range: *const lms_range,
    buf: *mut u8,
    cap: usize,
    out: *mut lms_page_info,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on out.
        let out = unsafe { info(out) }?;
        // SAFETY: caller contract on db, agent_id and range.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on agent_id (required's contract).
        let agent = unsafe { required(agent_id as *const u8, agent_id_len, "agent_id") }?;
        // SAFETY: caller contract on range (query's contract).
        let q = unsafe { query(range) }?;
        // SAFETY: caller contract on buf and cap.
        unsafe { range_page_into(store, CursorKind::Agent, agent, &q, buf, cap, out) }
    })
}

/// lms_get_message() into a caller-owned buffer.
/// @param buf,cap       Caller-owned buffer of `cap` bytes.
/// @param[out] out_len  The record's length, also when it does not fit.
/// @return LMS_OK; LMS_BUFFER_TOO_SMALL (*out_len says how much is needed; buf untouched);
///         LMS_NOT_FOUND; LMS_INVALID_ARGUMENT (NULL db, pointer or out_len, an id that is not
///         16 bytes); LMS_IO or LMS_CORRUPT; LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_get_message_into(
    db: *mut lms_db,
    id: *const u8,
    id_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on out_len.
        let out_len = unsafe { len_out(out_len) }?;
        // SAFETY: caller contract on db and id.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on id (required's contract).
        let id = unsafe { required(id, id_len, "id") }?;
        // SAFETY: caller contract on buf and cap.
        store.with_message(id, |r| unsafe { copy_into(r, buf, cap, out_len) })?
    })
}

/// lms_get_session() into a caller-owned buffer.
/// @param buf,cap       Caller-owned buffer of `cap` bytes.
/// @param[out] out_len  The record's length, also when it does not fit.
/// @return LMS_OK; LMS_BUFFER_TOO_SMALL (*out_len says how much is needed; buf untouched);
///         LMS_NOT_FOUND; LMS_INVALID_ARGUMENT (NULL db, pointer or out_len); LMS_INVALID_UTF8 or
///         LMS_KEY_TOO_LONG; LMS_IO or LMS_CORRUPT; LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_get_session_into(
    db: *mut lms_db,
    session_id: *const c_char,
    session_id_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on out_len.
        let out_len = unsafe { len_out(out_len) }?;
        // SAFETY: caller contract on db and session_id.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on session_id (required's contract).
        let session = unsafe { required(session_id as *const u8, session_id_len, "session_id") }?;
        let record = store.get_session(session)?;
        // SAFETY: caller contract on buf and cap.
        unsafe { copy_into(&record, buf, cap, out_len) }
    })
}

/// lms_list_sessions() into a caller-owned buffer, as lms_range_messages_into().
/// @param buf,cap   Caller-owned buffer for the page.
/// @param[out] out  Page length, count and cursor; on LMS_BUFFER_TOO_SMALL only `len` is set.
/// @return LMS_OK; LMS_BUFFER_TOO_SMALL (out->len says how much is needed; buf untouched);
///         LMS_BAD_CURSOR; LMS_INVALID_ARGUMENT (NULL db, pointer or out, limit 0 or above
///         LMS_MAX_PAGE); LMS_IO or LMS_CORRUPT; LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_list_sessions_into(
    db: *mut lms_db,
    cursor: *const u8,
    cursor_len: usize,
    limit: u32,
    buf: *mut u8,
    cap: usize,
    out: *mut lms_page_info,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on out.
        let out = unsafe { info(out) }?;
        // SAFETY: caller contract on db and cursor.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on cursor (optional's contract).
        let cursor = unsafe { optional(cursor, cursor_len, "cursor") }?;
        let page = store.list_sessions(cursor, limit)?;
        // SAFETY: caller contract on buf and cap.
        unsafe { page_into(page, buf, cap, out) }
    })
}
