//! Status codes, the last-error message, the panic boundary and argument checks.

use crate::error::{Error, ErrorKind, Result};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Success.
pub const LMS_OK: c_int = 0;
/// The template, version, alias, message or session does not exist.
pub const LMS_NOT_FOUND: c_int = 1;
/// An argument is NULL where it may not be, out of range, or malformed.
pub const LMS_INVALID_ARGUMENT: c_int = 2;
/// The write contradicts what is stored (a different template under an existing version, a session that exists).
pub const LMS_CONFLICT: c_int = 3;
/// The map is full at its growth cap (`max_map_size`).
pub const LMS_MAP_FULL: c_int = 4;
/// The operating system reported an I/O error (errno in lms_last_error_os_code()).
pub const LMS_IO: c_int = 5;
/// Stored data is damaged or not an lmstore database.
pub const LMS_CORRUPT: c_int = 6;
/// The store was written by a newer lmstore schema, or by an incompatible LMDB.
pub const LMS_VERSION_MISMATCH: c_int = 7;
/// A bug in lmstore (including a caught panic). Please report it.
pub const LMS_INTERNAL: c_int = 8;
/// A key (template id, version, alias, session or agent id) is longer than the store allows.
pub const LMS_KEY_TOO_LONG: c_int = 9;
/// Text that must be UTF-8 is not.
pub const LMS_INVALID_UTF8: c_int = 10;
/// MessagePack input is malformed or has the wrong shape (metadata that is not a map).
pub const LMS_BAD_MSGPACK: c_int = 11;
/// A page cursor is malformed or belongs to a different query.
pub const LMS_BAD_CURSOR: c_int = 12;
/// A write on a store or handle opened read-only.
pub const LMS_READ_ONLY: c_int = 13;
/// A value is larger than the map could ever hold, even at its growth cap.
pub const LMS_TOO_LARGE: c_int = 14;
/// A caller-provided buffer is too small; the call reported the size it needs.
pub const LMS_BUFFER_TOO_SMALL: c_int = 15;
/// The operation means nothing for this store's backend (e.g. an LMDB backup of a PostgreSQL store).
pub const LMS_UNSUPPORTED: c_int = 19;
/// A render input is missing or has the wrong type (the message names the input and the reason).
pub const LMS_INPUT: c_int = 16;
/// The template failed to compile or render (the message has the reason, the template id and
/// version, and the line).
pub const LMS_RENDER: c_int = 17;

/// The path holds a file or an LMDB environment that is not an lmstore; it was not modified.
pub const LMS_NOT_A_STORE: c_int = 18;

/// Exhaustive on purpose: a new error kind must choose its status here.
pub(crate) fn status_of(kind: ErrorKind) -> c_int {
    match kind {
        ErrorKind::NotFound => LMS_NOT_FOUND,
        ErrorKind::InvalidArgument => LMS_INVALID_ARGUMENT,
        ErrorKind::Conflict => LMS_CONFLICT,
        ErrorKind::MapFull => LMS_MAP_FULL,
        ErrorKind::Io => LMS_IO,
        ErrorKind::Corrupt => LMS_CORRUPT,
        ErrorKind::VersionMismatch => LMS_VERSION_MISMATCH,
        ErrorKind::KeyTooLong => LMS_KEY_TOO_LONG,
        ErrorKind::InvalidUtf8 => LMS_INVALID_UTF8,
        ErrorKind::BadMsgpack => LMS_BAD_MSGPACK,
        ErrorKind::BadCursor => LMS_BAD_CURSOR,
        ErrorKind::ReadOnly => LMS_READ_ONLY,
        ErrorKind::TooLarge => LMS_TOO_LARGE,
        ErrorKind::BufferTooSmall => LMS_BUFFER_TOO_SMALL,
        ErrorKind::NotAStore => LMS_NOT_A_STORE,
        ErrorKind::Internal => LMS_INTERNAL,
        ErrorKind::Unsupported => LMS_UNSUPPORTED,
        ErrorKind::Input => LMS_INPUT,
        ErrorKind::Render => LMS_RENDER,
    }
}

struct LastError {
    message: CString,
    os_code: c_int,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError { message: CString::default(), os_code: 0 });
}

fn record(status: c_int, message: &str, os_code: c_int) -> c_int {
    let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = LastError { message, os_code });
    status
}

pub(crate) fn fail(e: &Error) -> c_int {
    record(status_of(e.kind), &e.message, e.os_code)
}

/// Runs an ABI body: catches panics, records failures, returns the status.
pub(crate) fn boundary(body: impl FnOnce() -> Result<()>) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => LMS_OK,
        Ok(Err(e)) => fail(&e),
        Err(_) => record(
            LMS_INTERNAL,
            "internal error: lmstore panicked (this is a bug; please report it)",
            0,
        ),
    }
}

/// Borrows `len` bytes at `ptr`. `(NULL, 0)` is the empty slice; NULL with a length is refused.
///
/// # Safety
/// A non-NULL `ptr` must point at `len` readable bytes that stay valid for the call.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Error::invalid(format!(
            "{what} is NULL but its length is {len}"
        )));
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid(format!(
            "{what} has an impossible length {len}"
        )));
    }
    // SAFETY: the caller promises ptr points at len readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A required, non-empty argument.
///
/// # Safety
/// As for [`bytes`].
pub(crate) unsafe fn required<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: forwarded caller contract.
    let b = unsafe { bytes(ptr, len, what) }?;
    if b.is_empty() {
        return Err(Error::invalid(format!("{what} is empty (length 0)")));
    }
    Ok(b)
}

/// An optional argument: NULL or length 0 means "not given".
///
/// # Safety
/// As for [`bytes`].
pub(crate) unsafe fn optional<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<Option<&'a [u8]>> {
    // SAFETY: forwarded caller contract.
    let b = unsafe { bytes(ptr, len, what) }?;
    Ok(if b.is_empty() { None } else { Some(b) })
}

/// Borrows the out-parameter `out`; NULL is refused with a message naming it.
///
/// # Safety
/// A non-NULL `out` must point at a properly aligned `T` that is valid for reads and writes for
/// `'a` (the call) and that nothing else accesses meanwhile.
pub(crate) unsafe fn out_ptr<'a, T>(out: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: the caller promises a non-NULL out is valid, aligned and unaliased for 'a.
    unsafe { out.as_mut() }
        .ok_or_else(|| Error::invalid(format!("{what} (an out-parameter) is NULL")))
}

/// Copies `data` into memory the caller frees with lms_bytes_free().
pub(crate) fn copy_out(data: &[u8], out: &mut *mut u8, out_len: &mut usize) -> Result<()> {
    // SAFETY: malloc of at least one byte; the result is checked for NULL.
    let p = unsafe { libc::malloc(data.len().max(1)) } as *mut u8;
    if p.is_null() {
        return Err(Error::new(
            ErrorKind::Io,
            format!("out of memory allocating {} bytes", data.len()),
        ));
    }
    // SAFETY: p has room for data.len() bytes and does not overlap data.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
    *out = p;
    *out_len = data.len();
    Ok(())
}

/// A page of records written once, straight where the caller reads it: memory from `malloc`
/// that grows with `realloc` (handed over, the caller frees it with lms_page_free()), or the
/// caller's own buffer. The caller's buffer takes bytes while they fit and counts the rest,
/// so a buffer too small is answered with the size needed; the first [`SLACK`] bytes past its
/// end are kept aside, because a page whose array header turns out shorter than the room kept
/// for it moves left by that much and may fit after all. A failure (out of memory, or a record
/// whose size was counted wrong) stops the writing and is reported by [`PageOut::finish`].
pub(crate) struct PageOut {
    ptr: *mut u8,
    len: usize,
    cap: usize,
    /// Bytes kept in front for the array header (see `conversations::header_room`).
    room: usize,
    grows: bool,
    spill: [u8; SLACK],
    scratch: Vec<u8>,
    failed: Option<PageFailure>,
}

const SLACK: usize = 2;

enum PageFailure {
    OutOfMemory(usize),
    Miscounted,
}

/// What [`PageOut::finish`] made of a page.
pub(crate) enum Finished {
    /// The page (data, len): handed over when the memory is the library's.
    Page(*mut u8, usize),
    /// The caller's buffer is too small; this many bytes are needed.
    TooSmall(usize),
}

impl PageOut {
    /// A page of at most `limit` records in library memory, with room for `capacity` bytes
    /// of records at first.
    pub(crate) fn malloc(limit: u32, capacity: usize) -> Result<PageOut> {
        let mut page = PageOut::new(std::ptr::null_mut(), 0, limit, true);
        page.reserve(capacity);
        page.check()?;
        Ok(page)
    }

    /// A page of at most `limit` records in the caller's `cap` bytes at `buf` (NULL with
    /// `cap` 0 to ask for the size).
    ///
    /// # Safety
    /// A non-NULL `buf` must be valid for writes of `cap` bytes for the page's life and must
    /// not overlap library memory.
    pub(crate) unsafe fn caller(buf: *mut u8, cap: usize, limit: u32) -> Result<PageOut> {
        if buf.is_null() && cap > 0 {
            return Err(Error::invalid(format!(
                "buf is NULL but its capacity is {cap}"
            )));
        }
        Ok(PageOut::new(buf, cap, limit, false))
    }

    fn new(ptr: *mut u8, cap: usize, limit: u32, grows: bool) -> PageOut {
        let room = crate::conversations::header_room(limit);
        PageOut {
            ptr,
            len: room,
            cap,
            room,
            grows,
            spill: [0; SLACK],
            scratch: Vec::new(),
            failed: None,
        }
    }

    /// Whether `more` bytes past `len` fit, growing library memory when they do not.
    fn reserve(&mut self, more: usize) -> bool {
        if self.failed.is_some() {
            return false;
        }
        let need = self.len.saturating_add(more);
        if need <= self.cap {
            return true;
        }
        if !self.grows {
            return false;
        }
        let cap = need.max(self.cap.saturating_mul(2));
        // SAFETY: ptr is NULL or came from malloc/realloc; realloc(NULL) is malloc.
        let grown = unsafe { libc::realloc(self.ptr as *mut libc::c_void, cap) } as *mut u8;
        if grown.is_null() {
            self.failed = Some(PageFailure::OutOfMemory(cap));
            return false;
        }
        self.ptr = grown;
        self.cap = cap;
        true
    }

    /// Bytes past the end of a caller's buffer: what still fits is written, the spill keeps
    /// the next few, the rest is counted.
    fn overflow(&mut self, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            let at = self.len + i;
            if at < self.cap {
                // SAFETY: at < cap, inside the caller's buffer.
                unsafe { *self.ptr.add(at) = b };
            } else if let Some(s) = self.spill.get_mut(at - self.cap) {
                *s = b;
            }
        }
        self.len += bytes.len();
    }

    fn check(&self) -> Result<()> {
        match self.failed {
            Some(PageFailure::OutOfMemory(n)) => Err(Error::new(
                ErrorKind::Io,
                format!("out of memory allocating {n} bytes"),
            )),
            Some(PageFailure::Miscounted) => Err(Error::new(
                ErrorKind::Internal,
                "a message record's size was counted wrong",
            )),
            None => Ok(()),
        }
    }

    /// Puts the array header of `count` records in the room kept for it, moving the records
    /// left when it is shorter, and hands library memory over.
    pub(crate) fn finish(mut self, count: u32) -> Result<Finished> {
        self.check()?;
        let header = crate::conversations::array_header(count);
        let room = self.room;
        let body = self.len - room;
        let len = header.len() + body;
        if len > self.cap {
            return Ok(Finished::TooSmall(len));
        }
        let shift = room - header.len();
        // An empty page is its header alone: nothing to move, even when the buffer is
        // smaller than the room kept.
        if shift > 0 && body > 0 {
            // The page fits, so the room and at least one record's bytes were written.
            let written = self.len.min(self.cap);
            // SAFETY: room..written and header.len()..written - shift lie inside the cap bytes
            // at ptr, written by this page; copy handles the overlap.
            unsafe {
                std::ptr::copy(
                    self.ptr.add(room),
                    self.ptr.add(header.len()),
                    written - room,
                )
            };
            for (i, &b) in self.spill.iter().take(self.len - written).enumerate() {
                // SAFETY: written - shift + i < len <= cap.
                unsafe { *self.ptr.add(written - shift + i) = b };
            }
        }
        // SAFETY: header.len() <= room and len <= cap; header is not inside the page.
        unsafe { std::ptr::copy_nonoverlapping(header.as_ptr(), self.ptr, header.len()) };
        let data = self.ptr;
        if self.grows {
            self.ptr = std::ptr::null_mut();
        }
        Ok(Finished::Page(data, len))
    }
}

impl Drop for PageOut {
    fn drop(&mut self) {
        if self.grows {
            // SAFETY: ptr is NULL or came from malloc/realloc and was not handed over.
            unsafe { libc::free(self.ptr as *mut libc::c_void) };
        }
    }
}

impl crate::conversations::record::PageWrite for PageOut {
    fn put(&mut self, bytes: &[u8]) {
        if self.reserve(bytes.len()) {
            // SAFETY: reserve made room for bytes.len() more bytes; bytes are not in the page.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.add(self.len), bytes.len())
            };
            self.len += bytes.len();
        } else if self.failed.is_none() {
            self.overflow(bytes);
        }
    }

    fn put_record(&mut self, rec: &crate::conversations::record::PublicRecord<'_>) {
        if !self.reserve(rec.len) {
            if self.failed.is_none() {
                // Past the end of a caller's buffer: built aside, then written as far as it fits.
                let mut scratch = std::mem::take(&mut self.scratch);
                scratch.clear();
                scratch.resize(rec.len, 0);
                rec.emit(&mut crate::conversations::record::Slot {
                    buf: &mut scratch,
                    at: 0,
                });
                self.overflow(&scratch);
                self.scratch = scratch;
            }
            return;
        }
        // SAFETY: reserve made room for rec.len bytes past len.
        let start = unsafe { self.ptr.add(self.len) };
        let mut sink = RawSink {
            at: start,
            end: start.wrapping_add(rec.len),
            miscounted: false,
        };
        rec.emit(&mut sink);
        if sink.miscounted || sink.at != sink.end {
            // A bug, reported as one; nothing is ever written past the record's room.
            self.failed = Some(PageFailure::Miscounted);
            return;
        }
        self.len += rec.len;
    }
}

/// A record's room inside a [`PageOut`]: writes are checked against its end (one compare,
/// no panic path) instead of sliced, and the room is not zeroed first.
struct RawSink {
    at: *mut u8,
    end: *mut u8,
    miscounted: bool,
}

impl crate::conversations::record::Sink for RawSink {
    #[inline(always)]
    fn bytes(&mut self, b: &[u8]) {
        if (self.end as usize) - (self.at as usize) < b.len() {
            self.miscounted = true;
            return;
        }
        // SAFETY: at..at + b.len() lies inside the room reserved for this record (checked
        // above); b is library or stored memory, never the page.
        unsafe {
            std::ptr::copy_nonoverlapping(b.as_ptr(), self.at, b.len());
            self.at = self.at.add(b.len());
        }
    }
}

/// Copies `data` into the caller's buffer `buf` of `cap` bytes and reports its length in
/// `out_len`; when it does not fit, reports the length needed and fails with
/// LMS_BUFFER_TOO_SMALL, leaving `buf` untouched.
///
/// # Safety
/// A non-NULL `buf` must be valid for writes of `cap` bytes and must not overlap `data`.
pub(crate) unsafe fn copy_into(
    data: &[u8],
    buf: *mut u8,
    cap: usize,
    out_len: &mut usize,
) -> Result<()> {
    *out_len = data.len();
    if data.len() > cap {
        return Err(Error::new(
            ErrorKind::BufferTooSmall,
            format!(
                "the result is {} bytes but the buffer holds {cap}",
                data.len()
            ),
        ));
    }
    if !data.is_empty() {
        if buf.is_null() {
            return Err(Error::invalid(format!(
                "buf is NULL but its capacity is {cap}"
            )));
        }
        // SAFETY: the caller promises buf has cap >= data.len() writable bytes; no overlap with
        // library memory.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len()) };
    }
    Ok(())
}

/// Prepares a (buffer, length) out-pair: both must be non-NULL; they are cleared first so a
/// failed call never leaves a stale pointer behind.
///
/// # Safety
/// As for [`out_ptr`], for both pointers.
pub(crate) unsafe fn out_pair<'a>(
    out: *mut *mut u8,
    out_len: *mut usize,
) -> Result<(&'a mut *mut u8, &'a mut usize)> {
    // SAFETY: forwarded caller contract on out.
    let o = unsafe { out_ptr(out, "out") }?;
    // SAFETY: forwarded caller contract on out_len.
    let l = unsafe { out_ptr(out_len, "out_len") }?;
    *o = std::ptr::null_mut();
    *l = 0;
    Ok((o, l))
}

/// A file-system path argument: required, and without NUL bytes (the OS cannot take them).
///
/// # Safety
/// A non-NULL `ptr` points at `len` readable bytes for the call (ABI contract).
pub(crate) unsafe fn path_arg<'a>(
    ptr: *const std::ffi::c_char,
    len: usize,
    what: &str,
) -> Result<&'a std::path::Path> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: forwarded caller contract.
    let bytes = unsafe { required(ptr as *const u8, len, what) }?;
    if bytes.contains(&0) {
        return Err(Error::invalid(format!("{what} contains a NUL byte")));
    }
    Ok(std::path::Path::new(std::ffi::OsStr::from_bytes(bytes)))
}

/// The message describing the last failure on this thread.
///
/// @return A NUL-terminated string owned by the library, valid until the next lmstore call on
///         this thread. Never NULL; empty if nothing has failed yet. It is not cleared by
///         successful calls, so read it only right after a call returned non-zero.
/// @since 0.1
#[no_mangle]
pub extern "C" fn lms_last_error() -> *const c_char {
    LAST_ERROR.with(|slot| slot.borrow().message.as_ptr())
}

/// The raw LMDB or errno code behind the last failure on this thread (0 if none), for logs.
/// @return The code, or 0 when the last failure had none.
/// @since 0.1
#[no_mangle]
pub extern "C" fn lms_last_error_os_code() -> c_int {
    LAST_ERROR.with(|slot| slot.borrow().os_code)
}

/// A static description of a status code, e.g. "not found". Never NULL; unknown codes give
/// "unknown status". The string is owned by the library and never freed.
/// @return A static NUL-terminated string; never NULL.
/// @since 0.1
#[no_mangle]
pub extern "C" fn lms_strerror(status: c_int) -> *const c_char {
    let s: &'static CStr = match status {
        LMS_OK => c"ok",
        LMS_NOT_FOUND => c"not found",
        LMS_INVALID_ARGUMENT => c"invalid argument",
        LMS_CONFLICT => c"conflict",
        LMS_MAP_FULL => c"map full",
        LMS_IO => c"I/O error",
        LMS_CORRUPT => c"corrupt data",
        LMS_VERSION_MISMATCH => c"version mismatch",
        LMS_INTERNAL => c"internal error",
        LMS_KEY_TOO_LONG => c"key too long",
        LMS_INVALID_UTF8 => c"invalid UTF-8",
        LMS_BAD_MSGPACK => c"bad MessagePack",
        LMS_BAD_CURSOR => c"bad cursor",
        LMS_READ_ONLY => c"read-only",
        LMS_TOO_LARGE => c"too large",
        LMS_BUFFER_TOO_SMALL => c"buffer too small",
        LMS_NOT_A_STORE => c"not an lmstore",
        LMS_UNSUPPORTED => c"unsupported by this backend",
        LMS_INPUT => c"bad render input",
        LMS_RENDER => c"render failed",
        _ => c"unknown status",
    };
    s.as_ptr()
}

/// Frees a buffer that an lmstore function returned through a `uint8_t **out` parameter.
///
/// @param data The buffer; NULL is a no-op.
/// @param len  Its length as returned (unused today; kept so allocators that need it can be
///             adopted without an ABI change).
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_bytes_free(data: *mut u8, len: usize) {
    let _ = len;
    if !data.is_null() {
        // SAFETY: lmstore allocated data with malloc in copy_out; the caller frees it once.
        unsafe { libc::free(data as *mut libc::c_void) }
    }
}
