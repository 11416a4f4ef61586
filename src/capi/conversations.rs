//! Message and session functions. Messages go in as C structs (lms_append_messages) or as one
//! MessagePack array (lms_append_messages_packed, for bindings); pages come out as one
//! MessagePack array of stored records per call, so a binding crosses the ABI once per page.

use super::boundary::*;
use super::env::{lms_db, store};
use crate::conversations::{Appended, CursorKind, NewMessage, Page, RangeQuery, MAX_CURSOR};
use crate::error::{Error, ErrorKind, Result};
use std::ffi::{c_char, c_int};

/// Size of the cursor buffer in ::lms_page; cursors are opaque and at most this long.
pub const LMS_CURSOR_MAX: usize = 272;
/// Length of a message id (a UUID, binary).
pub const LMS_ID_LEN: usize = 16;
/// The most items one page may hold.
pub const LMS_MAX_PAGE: u32 = 10_000;
/// The latest timestamp a caller may give (µs): the last microsecond of year 9999.
pub const LMS_MAX_TS: i64 = 253_402_300_799_999_999;

/// Append outcome: the message was stored.
pub const LMS_APPEND_STORED: u32 = 0;
/// Append outcome: a message with this id already existed; nothing was stored.
pub const LMS_APPEND_DUPLICATE: u32 = 1;

/// Range flag: newest first.
pub const LMS_RANGE_REVERSE: u32 = 1;
/// Range flag: `start_ts` is set (inclusive lower bound).
pub const LMS_RANGE_START: u32 = 2;
/// Range flag: `end_ts` is set (exclusive upper bound).
pub const LMS_RANGE_END: u32 = 4;

/// Update flag: replace the content.
pub const LMS_UPDATE_CONTENT: u32 = 1;
/// Update flag: replace the metadata.
pub const LMS_UPDATE_METADATA: u32 = 2;
/// Update flag (sessions): replace the title.
pub const LMS_UPDATE_TITLE: u32 = 4;

const _: () = assert!(LMS_CURSOR_MAX >= MAX_CURSOR);
const _: () = assert!(LMS_MAX_TS == crate::conversations::record::MAX_TS);

/// One message to append. Every (pointer, length) pair is borrowed for the call only; a NULL
/// pointer with length 0 means "absent".
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lms_message_in {
    /// Required: 1..255 bytes of UTF-8. The session is created on its first message.
    pub session_id: *const c_char,
    pub session_id_len: usize,
    /// Optional: LMS_ID_LEN bytes. Absent: a time-ordered UUIDv7 is generated.
    pub id: *const u8,
    pub id_len: usize,
    /// Microseconds since the epoch, at most 253402300799999999 (the end of year 9999); 0
    /// assigns the current time, never below the session's
    /// last timestamp, so history keeps its order even if the clock steps back.
    pub ts: i64,
    /// Required: UTF-8, e.g. "user", "assistant", "tool".
    pub role: *const c_char,
    pub role_len: usize,
    /// Optional: 1..255 bytes of UTF-8; indexes the message for lms_range_agent_messages().
    pub agent_id: *const c_char,
    pub agent_id_len: usize,
    /// UTF-8 text (may be empty).
    pub content: *const c_char,
    pub content_len: usize,
    /// Optional: the id (LMS_ID_LEN bytes) of the message this replies to.
    pub in_reply_to: *const u8,
    pub in_reply_to_len: usize,
    /// Optional: a MessagePack map (parts, tool calls, token counts...).
    pub metadata: *const u8,
    pub metadata_len: usize,
}

/// What happened to one appended message.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lms_append_result {
    /// The message id (given or generated).
    pub id: [u8; LMS_ID_LEN],
    /// The stored timestamp (for a duplicate: the timestamp already stored).
    pub ts: i64,
    /// LMS_APPEND_STORED or LMS_APPEND_DUPLICATE.
    pub outcome: u32,
    pub reserved: u32,
}

/// Which messages a range returns. Zero-initialize, then set what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lms_range {
    /// Inclusive lower bound in µs, used with LMS_RANGE_START.
    pub start_ts: i64,
    /// Exclusive upper bound in µs, used with LMS_RANGE_END.
    pub end_ts: i64,
    /// 1..LMS_MAX_PAGE items per page.
    pub limit: u32,
    /// LMS_RANGE_* flags.
    pub flags: u32,
    /// Resume after this position: the cursor of the previous page (same query); NULL/0 to start.
    pub cursor: *const u8,
    pub cursor_len: usize,
}

/// One page of results, filled by the range and list functions; release with lms_page_free().
#[repr(C)]
pub struct lms_page {
    /// A MessagePack array of `count` records, owned by the page.
    pub data: *mut u8,
    pub len: usize,
    pub count: u32,
    /// Length of `cursor`; 0 when this is the last page.
    pub cursor_len: u32,
    /// Opaque position after the last item; pass it as lms_range.cursor for the next page.
    pub cursor: [u8; LMS_CURSOR_MAX],
}

/// What lms_range_messages_into() wrote into the caller's buffer.
#[repr(C)]
pub struct lms_page_info {
    /// Bytes of the page (a MessagePack array) in the buffer; the size needed when the call
    /// returned LMS_BUFFER_TOO_SMALL.
    pub len: usize,
    pub count: u32,
    /// Length of `cursor`; 0 when this is the last page.
    pub cursor_len: u32,
    pub cursor: [u8; LMS_CURSOR_MAX],
}

fn to_results(appended: &[Appended], out: &mut [lms_append_result]) {
    for (a, o) in appended.iter().zip(out.iter_mut()) {
        *o = lms_append_result {
            id: a.id,
            ts: a.ts,
            outcome: if a.duplicate {
                LMS_APPEND_DUPLICATE
            } else {
                LMS_APPEND_STORED
            },
            reserved: 0,
        };
    }
}

/// # Safety
/// Every pair in `m` obeys the slice contract.
unsafe fn message_from(m: &lms_message_in) -> Result<NewMessage> {
    // SAFETY: forwarded caller contract.
    unsafe {
        NewMessage::new(
            required(m.session_id as *const u8, m.session_id_len, "session_id")?,
            optional(m.id, m.id_len, "id")?,
            if m.ts == 0 { None } else { Some(m.ts) },
            required(m.role as *const u8, m.role_len, "role")?,
            optional(m.agent_id as *const u8, m.agent_id_len, "agent_id")?,
            bytes(m.content as *const u8, m.content_len, "content")?,
            optional(m.in_reply_to, m.in_reply_to_len, "in_reply_to")?,
            bytes(m.metadata, m.metadata_len, "metadata")?,
        )
    }
}

/// Appends `count` messages in one transaction: all are stored or none. Returns once the
/// commit is durable (unless the store was opened with LMS_OPEN_NO_SYNC). Concurrent appends
/// from several threads share one commit (group commit).
///
/// @param msgs          `count` messages, borrowed for the call.
/// @param[out] results  Caller-owned array of `count` results, in the order of `msgs`.
/// @return LMS_OK; LMS_INVALID_ARGUMENT (NULL db, messages or results with a count, more than the
///         batch cap, a bad field of message i: the message names it); LMS_INVALID_UTF8;
///         LMS_BAD_MSGPACK (metadata not a map); LMS_KEY_TOO_LONG; LMS_READ_ONLY; LMS_MAP_FULL (at
///         max_map_size); LMS_TOO_LARGE; LMS_IO or LMS_CORRUPT; LMS_INTERNAL. Nothing is written on
///         failure. On failure results are unspecified.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_append_messages(
    db: *mut lms_db,
    msgs: *const lms_message_in,
    count: usize,
    results: *mut lms_append_result,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on db.
        let store = unsafe { store(db) }?;
        if count == 0 {
            // Nothing to store, but a read-only handle still says so.
            return store.append_messages(Vec::new()).map(drop);
        }
        if msgs.is_null() || results.is_null() {
            return Err(Error::invalid("msgs or results is NULL"));
        }
        if count > 1_000_000 {
            return Err(Error::invalid(format!(
                "count {count} is more than one batch may hold (1000000)"
            )));
        }
        // SAFETY: the caller provides `count` readable messages and `count` writable results.
        let (msgs, results) = unsafe {
            (
                std::slice::from_raw_parts(msgs, count),
                std::slice::from_raw_parts_mut(results, count),
            )
        };
        let batch = msgs
            .iter()
            .enumerate()
            // SAFETY: each message obeys the slice contract.
            .map(|(i, m)| {
                // SAFETY: the message struct's (pointer, length) pairs obey the slice contract (ABI contract).
                unsafe { message_from(m) }.map_err(|e| e.context(&format!("message {i}")))
            })
            .collect::<Result<Vec<_>>>()?;
        to_results(&store.append_messages(batch)?, results);
        Ok(())
    })
}

/// Appends one message; see lms_append_messages().
/// @param[out] result  Caller-owned; may be NULL if not wanted.
/// @return As lms_append_messages() for one message: LMS_OK; LMS_INVALID_ARGUMENT;
///         LMS_INVALID_UTF8; LMS_BAD_MSGPACK; LMS_KEY_TOO_LONG; LMS_READ_ONLY; LMS_MAP_FULL (at
///         max_map_size); LMS_TOO_LARGE; LMS_IO or LMS_CORRUPT; LMS_INTERNAL. Nothing is written on
///         failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_append_message(
    db: *mut lms_db,
    msg: *const lms_message_in,
    result: *mut lms_append_result,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on db, msg and result.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL msg points at a valid, aligned struct for the call (ABI contract).
        let m = unsafe { msg.as_ref() }.ok_or_else(|| Error::invalid("msg is NULL"))?;
        // SAFETY: the message struct's (pointer, length) pairs obey the slice contract (ABI contract).
        let appended = store.append_messages(vec![unsafe { message_from(m) }?])?;
        // SAFETY: a non-NULL result points at a valid, aligned struct for the call (ABI contract).
        if let Some(r) = unsafe { result.as_mut() } {
            to_results(&appended, std::slice::from_mut(r));
        }
        Ok(())
    })
}

/// lms_append_messages() with the batch as one MessagePack array of maps with the keys
/// session_id, id (bin 16), ts (int, 0/absent = assign), role, agent_id, content,
/// in_reply_to (bin 16), metadata (map). Meant for bindings: one buffer, one crossing.
/// Text fields are strings; an unknown key, a key given twice or a value of the wrong type
/// fails the batch with LMS_INVALID_ARGUMENT naming the message (docs/input.md).
///
/// @param results_cap   Capacity of `results`; must be at least the array's length.
/// @param[out] results  One result per message, in order.
/// @return LMS_OK; LMS_BAD_MSGPACK (not an array of maps, metadata not a map); LMS_INVALID_ARGUMENT
///         (NULL db or batch, results_cap too small, more than the batch cap, a bad field of
///         message i); LMS_INVALID_UTF8; LMS_KEY_TOO_LONG; LMS_READ_ONLY; LMS_MAP_FULL (at
///         max_map_size); LMS_TOO_LARGE; LMS_IO or LMS_CORRUPT; LMS_INTERNAL. Nothing is written on
///         failure. On failure results are unspecified.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_append_messages_packed(
    db: *mut lms_db,
    batch: *const u8,
    batch_len: usize,
    results: *mut lms_append_result,
    results_cap: usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on db and batch.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL batch points at its stated length of readable bytes (ABI contract).
        let batch = unsafe { required(batch, batch_len, "batch") }?;
        let messages = NewMessage::batch_from_msgpack(batch)?;
        if messages.len() > results_cap || (results.is_null() && !messages.is_empty()) {
            return Err(Error::invalid(format!(
                "results has room for {results_cap} results but the batch holds {} messages",
                messages.len()
            )));
        }
        let n = messages.len();
        let appended = store.append_messages(messages)?;
        if n > 0 {
            // SAFETY: results has at least results_cap >= n writable entries.
            to_results(&appended, unsafe {
                std::slice::from_raw_parts_mut(results, n)
            });
        }
        Ok(())
    })
}

/// One page of a session's or an agent's messages, written straight into `out`.
fn range_page(
    store: &crate::Store,
    kind: CursorKind,
    name: &[u8],
    q: &RangeQuery<'_>,
    out: &mut lms_page,
) -> Result<()> {
    let mut page = PageOut::malloc(q.limit, crate::conversations::page_capacity(q.limit))?;
    let (count, next) = store.range_to(kind, name, q, &mut page)?;
    let Finished::Page(data, len) = page.finish(count)? else {
        return Err(Error::new(
            ErrorKind::Internal,
            "a growing page reported no room",
        ));
    };
    out.data = data;
    out.len = len;
    out.count = count;
    out.cursor_len = put_cursor(next, &mut out.cursor);
    Ok(())
}

/// Copies the next page's cursor (none on the last page) into a page's cursor field and
/// returns its length.
pub(crate) fn put_cursor(next: Option<Vec<u8>>, cursor: &mut [u8; LMS_CURSOR_MAX]) -> u32 {
    let Some(c) = next else { return 0 };
    cursor[..c.len()].copy_from_slice(&c);
    c.len() as u32
}

/// One page of a session's or an agent's messages, written into the caller's `buf` of `cap`
/// bytes; LMS_BUFFER_TOO_SMALL with `out.len` the size needed when it does not fit.
///
/// # Safety
/// A non-NULL `buf` must be valid for writes of `cap` bytes for the call and must not overlap
/// library memory.
pub(crate) unsafe fn range_page_into(
    store: &crate::Store,
    kind: CursorKind,
    name: &[u8],
    q: &RangeQuery<'_>,
    buf: *mut u8,
    cap: usize,
    out: &mut lms_page_info,
) -> Result<()> {
    // SAFETY: forwarded caller contract on buf and cap.
    let mut page = unsafe { PageOut::caller(buf, cap, q.limit) }?;
    let (count, next) = store.range_to(kind, name, q, &mut page)?;
    match page.finish(count)? {
        Finished::TooSmall(len) => {
            out.len = len;
            Err(Error::new(
                ErrorKind::BufferTooSmall,
                format!("the result is {len} bytes but the buffer holds {cap}"),
            ))
        }
        Finished::Page(_, len) => {
            out.len = len;
            out.count = count;
            out.cursor_len = put_cursor(next, &mut out.cursor);
            Ok(())
        }
    }
}

fn fill_page(page: Page, out: &mut lms_page) -> Result<()> {
    let mut data = std::ptr::null_mut();
    let mut len = 0;
    copy_out(page.bytes(), &mut data, &mut len)?;
    out.data = data;
    out.len = len;
    out.count = page.count;
    out.cursor_len = put_cursor(page.next, &mut out.cursor);
    Ok(())
}

/// Borrows the page out-parameter and clears it, so a failed call leaves no stale pointer.
///
/// # Safety
/// As for [`out_ptr`].
unsafe fn clear_page<'a>(out: *mut lms_page) -> Result<&'a mut lms_page> {
    // SAFETY: forwarded caller contract.
    let out = unsafe { out_ptr(out, "out") }?;
    out.data = std::ptr::null_mut();
    out.len = 0;
    out.count = 0;
    out.cursor_len = 0;
    Ok(out)
}

/// # Safety
/// `range` is NULL or a readable lms_range whose cursor pair obeys the slice contract.
pub(crate) unsafe fn query<'a>(range: *const lms_range) -> Result<RangeQuery<'a>> {
    // SAFETY: forwarded caller contract.
    let r = unsafe { range.as_ref() }.ok_or_else(|| Error::invalid("range is NULL"))?;
    if r.flags & !(LMS_RANGE_REVERSE | LMS_RANGE_START | LMS_RANGE_END) != 0 {
        return Err(Error::invalid(format!(
            "unknown range flags 0x{:x}",
            r.flags
        )));
    }
    Ok(RangeQuery {
        start: (r.flags & LMS_RANGE_START != 0).then_some(r.start_ts),
        end: (r.flags & LMS_RANGE_END != 0).then_some(r.end_ts),
        limit: r.limit,
        reverse: r.flags & LMS_RANGE_REVERSE != 0,
        // SAFETY: forwarded caller contract.
        cursor: unsafe { optional(r.cursor, r.cursor_len, "cursor") }?,
    })
}

/// Returns one page of a session's messages in time order (or newest first with
/// LMS_RANGE_REVERSE), as a MessagePack array of message records (id, session_id, ts, role,
/// agent_id?, content, in_reply_to?, metadata, created_at, updated_at). "The latest 50" is
/// `{.limit = 50, .flags = LMS_RANGE_REVERSE}`. An unknown session gives an empty page.
///
/// @param range     The window, limit and cursor; borrowed for the call.
/// @param[out] out  Filled on success (cleared on failure); release with lms_page_free().
/// @return LMS_OK; LMS_BAD_CURSOR (malformed, or from another query or direction);
///         LMS_INVALID_ARGUMENT (NULL db or pointer, limit 0 or above LMS_MAX_PAGE, unknown flags);
///         LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long); LMS_IO or
///         LMS_CORRUPT (LMDB failed, or stored data is damaged); LMS_INTERNAL. On failure *out is
///         empty (data NULL).
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_range_messages(
    db: *mut lms_db,
    session_id: *const c_char,
    session_id_len: usize,
    range: *const lms_range,
    out: *mut lms_page,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let out = unsafe { clear_page(out) }?;
        // SAFETY: caller contract on db, session_id and range.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL session_id points at its stated length of readable bytes (ABI contract).
        let session = unsafe { required(session_id as *const u8, session_id_len, "session_id") }?;
        // SAFETY: range is NULL or a readable lms_range whose cursor pair obeys the slice contract (ABI contract).
        let q = unsafe { query(range) }?;
        range_page(store, CursorKind::Session, session, &q, out)
    })
}

/// lms_range_messages() into a buffer the caller owns: the caller allocates nothing and frees
/// nothing, and the page is written straight into the buffer in one pass. When the page does
/// not fit, the call fails (the buffer's contents are then unspecified) and reports the size
/// needed; the next call, with a larger buffer, runs the range again. Keep one buffer per
/// thread and grow it.
///
/// @param buf,cap   Caller-owned buffer for the page.
/// @param[out] out  Page length, count and cursor; on LMS_BUFFER_TOO_SMALL only `len` is set
///                  (the size needed): grow the buffer and call again.
/// @return LMS_OK; LMS_BUFFER_TOO_SMALL (out->len says how much is needed; what buf holds is
///         unspecified); LMS_BAD_CURSOR; LMS_INVALID_ARGUMENT (NULL db or pointer, limit 0 or
///         above LMS_MAX_PAGE, unknown flags); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too
///         long); LMS_IO or LMS_CORRUPT (LMDB failed, or stored data is damaged); LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_range_messages_into(
    db: *mut lms_db,
    session_id: *const c_char,
    session_id_len: usize,
    range: *const lms_range,
    buf: *mut u8,
    cap: usize,
    out: *mut lms_page_info,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let out = unsafe { out_ptr(out, "out") }?;
        out.len = 0;
        out.count = 0;
        out.cursor_len = 0;
        // SAFETY: caller contract on db, session_id and range.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL session_id points at its stated length of readable bytes (ABI contract).
        let session = unsafe { required(session_id as *const u8, session_id_len, "session_id") }?;
        // SAFETY: range is NULL or a readable lms_range whose cursor pair obeys the slice contract (ABI contract).
        let q = unsafe { query(range) }?;
        // SAFETY: caller contract on buf and cap.
        unsafe { range_page_into(store, CursorKind::Session, session, &q, buf, cap, out) }
    })
}

/// Like lms_range_messages() over one agent's messages across all sessions.
/// @return LMS_OK; LMS_BAD_CURSOR (malformed, or from another query or direction);
///         LMS_INVALID_ARGUMENT (NULL db or pointer, limit 0 or above LMS_MAX_PAGE, unknown flags);
///         LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long); LMS_IO or
///         LMS_CORRUPT (LMDB failed, or stored data is damaged); LMS_INTERNAL. On failure *out is
///         empty (data NULL).
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_range_agent_messages(
    db: *mut lms_db,
    agent_id: *const c_char,
    agent_id_len: usize,
    range: *const lms_range,
    out: *mut lms_page,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let out = unsafe { clear_page(out) }?;
        // SAFETY: caller contract on db, agent_id and range.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL agent_id points at its stated length of readable bytes (ABI contract).
        let agent = unsafe { required(agent_id as *const u8, agent_id_len, "agent_id") }?;
        // SAFETY: range is NULL or a readable lms_range whose cursor pair obeys the slice contract (ABI contract).
        let q = unsafe { query(range) }?;
        range_page(store, CursorKind::Agent, agent, &q, out)
    })
}

/// Frees the data of a page filled by a range or list function and clears it. NULL is a no-op;
/// freeing a cleared page again is harmless.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_page_free(page: *mut lms_page) {
    // SAFETY: a non-NULL page points at an lms_page whose data came from copy_out or is NULL.
    if let Some(p) = unsafe { page.as_mut() } {
        // SAFETY: p.data came from copy_out (or is NULL) and is freed once, then cleared.
        unsafe { lms_bytes_free(p.data, p.len) };
        p.data = std::ptr::null_mut();
        p.len = 0;
        p.count = 0;
        p.cursor_len = 0;
    }
}

/// Copies out one message record by id (an index lookup, not a scan).
/// @param id,id_len LMS_ID_LEN bytes.
/// @param[out] out,out_len  A new buffer; free with lms_bytes_free().
/// @return LMS_OK; LMS_NOT_FOUND; LMS_INVALID_ARGUMENT (NULL db or pointer, an id that is not 16
///         bytes); LMS_IO or LMS_CORRUPT (LMDB failed, or stored data is damaged); LMS_INTERNAL. On
///         failure *out is NULL and *out_len 0.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_get_message(
    db: *mut lms_db,
    id: *const u8,
    id_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let (out, out_len) = unsafe { out_pair(out, out_len) }?;
        // SAFETY: caller contract on db and id.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL id points at its stated length of readable bytes (ABI contract).
        let id = unsafe { required(id, id_len, "id") }?;
        store.with_message(id, |record| copy_out(record, out, out_len))?
    })
}

/// Replaces a message's content and/or metadata in place (same session, time and id), and
/// sets its updated_at.
/// @param flags  LMS_UPDATE_CONTENT and/or LMS_UPDATE_METADATA: which of the two to replace.
/// @param metadata,metadata_len  A MessagePack map (NULL/0: an empty map).
/// @return LMS_OK; LMS_NOT_FOUND; LMS_INVALID_UTF8 (content); LMS_BAD_MSGPACK (metadata not a map);
///         LMS_INVALID_ARGUMENT (NULL db or pointer, an id that is not 16 bytes, unknown or no
///         flags); LMS_READ_ONLY; LMS_MAP_FULL (at max_map_size); LMS_TOO_LARGE; LMS_IO or
///         LMS_CORRUPT; LMS_INTERNAL. Nothing is written on failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_update_message(
    db: *mut lms_db,
    id: *const u8,
    id_len: usize,
    content: *const c_char,
    content_len: usize,
    metadata: *const u8,
    metadata_len: usize,
    flags: u32,
) -> c_int {
    boundary(|| {
        if flags & !(LMS_UPDATE_CONTENT | LMS_UPDATE_METADATA) != 0 {
            return Err(Error::invalid(format!("unknown update flags 0x{flags:x}")));
        }
        // SAFETY: caller contract on every pointer.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL id points at its stated length of readable bytes (ABI contract).
        let id = unsafe { required(id, id_len, "id") }?;
        // SAFETY: a non-NULL content points at its stated length of readable bytes (ABI contract).
        let content = unsafe { bytes(content as *const u8, content_len, "content") }?;
        // SAFETY: a non-NULL metadata points at its stated length of readable bytes (ABI contract).
        let metadata = unsafe { bytes(metadata, metadata_len, "metadata") }?;
        store.update_message(
            id,
            (flags & LMS_UPDATE_CONTENT != 0).then_some(content),
            (flags & LMS_UPDATE_METADATA != 0).then_some(metadata),
        )
    })
}

/// Deletes one message and its index entries.
/// @return LMS_OK; LMS_NOT_FOUND; LMS_INVALID_ARGUMENT (NULL db or pointer, an id that is not 16
///         bytes); LMS_READ_ONLY; LMS_MAP_FULL (at max_map_size); LMS_TOO_LARGE; LMS_IO or
///         LMS_CORRUPT; LMS_INTERNAL. Nothing is written on failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_delete_message(
    db: *mut lms_db,
    id: *const u8,
    id_len: usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on db and id.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL id points at its stated length of readable bytes (ABI contract).
        store.delete_message(unsafe { required(id, id_len, "id") }?)
    })
}

/// Keeps only the newest `keep` messages of a session.
/// @param[out] out_deleted  How many were deleted; may be NULL.
/// @return LMS_OK (also when nothing was deleted); LMS_INVALID_ARGUMENT (NULL db or pointer);
///         LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long);
///         LMS_READ_ONLY; LMS_MAP_FULL (at max_map_size); LMS_TOO_LARGE; LMS_IO or LMS_CORRUPT;
///         LMS_INTERNAL. Nothing is written on failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_trim_session(
    db: *mut lms_db,
    session_id: *const c_char,
    session_id_len: usize,
    keep: u64,
    out_deleted: *mut u64,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on every pointer.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL session_id points at its stated length of readable bytes (ABI contract).
        let session = unsafe { required(session_id as *const u8, session_id_len, "session_id") }?;
        let n = store.trim_session_to_count(session, keep)?;
        // SAFETY: a non-NULL out_deleted points at a valid, aligned struct for the call (ABI contract).
        if let Some(o) = unsafe { out_deleted.as_mut() } {
            *o = n;
        }
        Ok(())
    })
}

/// Deletes a session's messages older than `before_ts` (µs, exclusive).
/// @param[out] out_deleted  How many were deleted; may be NULL.
/// @return LMS_OK (also when nothing was deleted); LMS_INVALID_ARGUMENT (NULL db or pointer);
///         LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long);
///         LMS_READ_ONLY; LMS_MAP_FULL (at max_map_size); LMS_TOO_LARGE; LMS_IO or LMS_CORRUPT;
///         LMS_INTERNAL. Nothing is written on failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_trim_session_before(
    db: *mut lms_db,
    session_id: *const c_char,
    session_id_len: usize,
    before_ts: i64,
    out_deleted: *mut u64,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on every pointer.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL session_id points at its stated length of readable bytes (ABI contract).
        let session = unsafe { required(session_id as *const u8, session_id_len, "session_id") }?;
        let n = store.trim_session_before(session, before_ts)?;
        // SAFETY: a non-NULL out_deleted points at a valid, aligned struct for the call (ABI contract).
        if let Some(o) = unsafe { out_deleted.as_mut() } {
            *o = n;
        }
        Ok(())
    })
}

/// Creates a session explicitly (sessions are also created by their first message).
/// @param title,title_len  Optional UTF-8.
/// @param metadata,metadata_len  Optional MessagePack map.
/// @return LMS_OK; LMS_CONFLICT (the session exists); LMS_BAD_MSGPACK (metadata not a map);
///         LMS_INVALID_ARGUMENT (NULL db or pointer); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key
///         that is not UTF-8 or too long); LMS_READ_ONLY; LMS_MAP_FULL (at max_map_size);
///         LMS_TOO_LARGE; LMS_IO or LMS_CORRUPT; LMS_INTERNAL. Nothing is written on failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_create_session(
    db: *mut lms_db,
    session_id: *const c_char,
    session_id_len: usize,
    title: *const c_char,
    title_len: usize,
    metadata: *const u8,
    metadata_len: usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on every pointer.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL session_id points at its stated length of readable bytes (ABI contract).
        let session = unsafe { required(session_id as *const u8, session_id_len, "session_id") }?;
        // SAFETY: a non-NULL title points at its stated length of readable bytes (ABI contract).
        let title = unsafe { optional(title as *const u8, title_len, "title") }?;
        // SAFETY: a non-NULL metadata points at its stated length of readable bytes (ABI contract).
        let metadata = unsafe { bytes(metadata, metadata_len, "metadata") }?;
        store.create_session(session, title, metadata)
    })
}

/// Copies out a session as a MessagePack map {session_id, title, metadata, created_at,
/// updated_at, last_ts, last_activity, message_count}.
/// @param[out] out,out_len  A new buffer; free with lms_bytes_free().
/// @return LMS_OK; LMS_NOT_FOUND; LMS_INVALID_ARGUMENT (NULL db or pointer or out);
///         LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long); LMS_IO or
///         LMS_CORRUPT (LMDB failed, or stored data is damaged); LMS_INTERNAL. On failure *out is
///         NULL and *out_len 0.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_get_session(
    db: *mut lms_db,
    session_id: *const c_char,
    session_id_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let (out, out_len) = unsafe { out_pair(out, out_len) }?;
        // SAFETY: caller contract on every pointer.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL session_id points at its stated length of readable bytes (ABI contract).
        let session = unsafe { required(session_id as *const u8, session_id_len, "session_id") }?;
        copy_out(&store.get_session(session)?, out, out_len)
    })
}

/// Replaces a session's title and/or metadata.
/// @param flags  LMS_UPDATE_TITLE and/or LMS_UPDATE_METADATA. A NULL/0 title clears it.
/// @return LMS_OK; LMS_NOT_FOUND; LMS_BAD_MSGPACK (metadata not a map); LMS_INVALID_ARGUMENT (NULL
///         db or pointer, unknown or no flags); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is
///         not UTF-8 or too long); LMS_READ_ONLY; LMS_MAP_FULL (at max_map_size); LMS_TOO_LARGE;
///         LMS_IO or LMS_CORRUPT; LMS_INTERNAL. Nothing is written on failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_update_session(
    db: *mut lms_db,
    session_id: *const c_char,
    session_id_len: usize,
    title: *const c_char,
    title_len: usize,
    metadata: *const u8,
    metadata_len: usize,
    flags: u32,
) -> c_int {
    boundary(|| {
        if flags & !(LMS_UPDATE_TITLE | LMS_UPDATE_METADATA) != 0 {
            return Err(Error::invalid(format!("unknown update flags 0x{flags:x}")));
        }
        // SAFETY: caller contract on every pointer.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL session_id points at its stated length of readable bytes (ABI contract).
        let session = unsafe { required(session_id as *const u8, session_id_len, "session_id") }?;
        // SAFETY: a non-NULL title points at its stated length of readable bytes (ABI contract).
        let title = unsafe { bytes(title as *const u8, title_len, "title") }?;
        // SAFETY: a non-NULL metadata points at its stated length of readable bytes (ABI contract).
        let metadata = unsafe { bytes(metadata, metadata_len, "metadata") }?;
        store.update_session(
            session,
            (flags & LMS_UPDATE_TITLE != 0).then_some(title),
            (flags & LMS_UPDATE_METADATA != 0).then_some(metadata),
        )
    })
}

/// Deletes a session with all its messages and index entries, in one transaction.
/// @param[out] out_deleted  How many messages were deleted; may be NULL.
/// @return LMS_OK; LMS_NOT_FOUND; LMS_INVALID_ARGUMENT (NULL db or pointer); LMS_INVALID_UTF8 or
///         LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long); LMS_READ_ONLY; LMS_MAP_FULL (at
///         max_map_size); LMS_TOO_LARGE; LMS_IO or LMS_CORRUPT; LMS_INTERNAL. Nothing is written on
///         failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_delete_session(
    db: *mut lms_db,
    session_id: *const c_char,
    session_id_len: usize,
    out_deleted: *mut u64,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on every pointer.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL session_id points at its stated length of readable bytes (ABI contract).
        let session = unsafe { required(session_id as *const u8, session_id_len, "session_id") }?;
        let n = store.delete_session(session)?;
        // SAFETY: a non-NULL out_deleted points at a valid, aligned struct for the call (ABI contract).
        if let Some(o) = unsafe { out_deleted.as_mut() } {
            *o = n;
        }
        Ok(())
    })
}

/// Lists sessions by most recent activity, newest first, as a page of session maps (see
/// lms_get_session()).
/// @param cursor,cursor_len  The previous page's cursor, or NULL/0 to start.
/// @param limit  1..LMS_MAX_PAGE.
/// @param[out] out  Release with lms_page_free().
/// @return LMS_OK; LMS_BAD_CURSOR; LMS_INVALID_ARGUMENT (NULL db or pointer, limit 0 or above
///         LMS_MAX_PAGE); LMS_IO or LMS_CORRUPT (LMDB failed, or stored data is damaged);
///         LMS_INTERNAL. On failure *out is empty (data NULL).
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_list_sessions(
    db: *mut lms_db,
    cursor: *const u8,
    cursor_len: usize,
    limit: u32,
    out: *mut lms_page,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let out = unsafe { clear_page(out) }?;
        // SAFETY: caller contract on every pointer.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL cursor points at its stated length of readable bytes (ABI contract).
        let cursor = unsafe { optional(cursor, cursor_len, "cursor") }?;
        fill_page(store.list_sessions(cursor, limit)?, out)
    })
}
