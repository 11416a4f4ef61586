//! lms_write_batch(): several writes in one call, with the results (and errors, in words)
//! returned with the call rather than in thread-local state, so a binding that runs the call on
//! a worker thread still gets every message.

use super::boundary::*;
use super::env::{lms_db, store};
use crate::error::{Error, ErrorKind, Result};
use crate::store::{WriteOp, WriteOutcome};
use rmp::encode as w;
use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The most operations one lms_write_batch() call may hold.
pub const LMS_MAX_BATCH_OPS: usize = 65_536;
// A literal above so cbindgen writes it into the header; the core's limit must agree.
const _: () = assert!(LMS_MAX_BATCH_OPS == crate::store::MAX_BATCH_OPS);

/// Runs a batch of write operations in order and returns one result per operation.
///
/// `ops` is a MessagePack array; each operation is an array that starts with its name (the
/// arguments are those of the matching lms_* call; strings may be str or bin):
/// `["put_template", spec (bin: the MessagePack map of lms_put_template), replace (bool)]`,
/// `["delete_template", id, version or nil]`, `["set_template_alias", id, alias, version]`,
/// `["delete_template_alias", id, alias]`, `["append", batch (bin: the array of
/// lms_append_messages_packed)]`, `["update_message", id (bin 16), content or nil, metadata
/// (bin) or nil, flags (LMS_UPDATE_*)]`, `["delete_message", id]`, `["trim_session",
/// session_id, keep]`, `["trim_session_before", session_id, before_ts]`, `["create_session",
/// session_id, title or nil, metadata (bin) or nil]`, `["update_session", session_id, title or
/// nil, metadata (bin) or nil, flags]`, `["delete_session", session_id]`, `["sync"]`,
/// `["backup", path, compact (bool)]`.
///
/// Consecutive operations other than sync and backup run in one write transaction with one
/// commit (durable unless LMS_OPEN_NO_SYNC); sync and backup run between them, in order. An
/// operation that fails changes nothing and does not fail the others; a commit that fails
/// fails every operation it held.
///
/// @param db              Handle from lms_open().
/// @param ops,ops_len     The MessagePack array (at most LMS_MAX_BATCH_OPS operations); borrowed.
/// @param[out] out,out_len  A new buffer, freed with lms_bytes_free(). On LMS_OK: a
///        MessagePack array with one result per operation, in order: `[0, value]` on success
///        (value: nil; the put outcome for put_template; for append an array of
///        `[id (bin 16), ts, duplicate (bool)]`; the number of messages deleted for the trims
///        and delete_session), `[status, message, os_code]` on failure (the status and words
///        lms_last_error() would give for the same call). On any other return it holds that
///        call's own error as `[status, message, os_code]`, unless out or out_len is NULL.
/// @return LMS_OK when every operation has its result (each may have failed on its own);
///         LMS_INVALID_ARGUMENT (db, ops, out or out_len NULL, too many operations);
///         LMS_BAD_MSGPACK (ops is not a MessagePack array); LMS_IO (out of memory for the
///         results); LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_write_batch(
    db: *mut lms_db,
    ops: *const u8,
    ops_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    // SAFETY: caller contract on out and out_len.
    let (out, out_len) = match unsafe { out_pair(out, out_len) } {
        Ok(pair) => pair,
        Err(e) => return fail(&e),
    };
    let run = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<u8>> {
        // SAFETY: caller contract on db and ops.
        let store = unsafe { store(db) }?;
        // SAFETY: caller contract on ops (required's contract).
        let ops = unsafe { required(ops, ops_len, "ops") }?;
        let parsed = WriteOp::parse_batch(ops)?;
        Ok(encode_results(&store.write_batch(parsed)))
    }));
    let (status, bytes) = match run {
        Ok(Ok(bytes)) => (LMS_OK, bytes),
        Ok(Err(e)) => (fail(&e), encode_error(&e)),
        Err(_) => {
            let e = Error::new(
                ErrorKind::Internal,
                "internal error: lmstore panicked (this is a bug; please report it)",
            );
            (fail(&e), encode_error(&e))
        }
    };
    match copy_out(&bytes, out, out_len) {
        Ok(()) => status,
        Err(e) => fail(&e),
    }
}

fn encode_results(results: &[Result<WriteOutcome>]) -> Vec<u8> {
    let mut b = Vec::with_capacity(8 + results.len() * 8);
    let _ = w::write_array_len(&mut b, results.len() as u32);
    for r in results {
        match r {
            Err(e) => write_error(&mut b, e),
            Ok(v) => {
                let _ = w::write_array_len(&mut b, 2);
                let _ = w::write_sint(&mut b, LMS_OK as i64);
                match v {
                    WriteOutcome::Done => {
                        let _ = w::write_nil(&mut b);
                    }
                    WriteOutcome::Put(p) => {
                        let _ = w::write_uint(&mut b, *p as u64);
                    }
                    WriteOutcome::Count(n) => {
                        let _ = w::write_uint(&mut b, *n);
                    }
                    WriteOutcome::Appended(list) => {
                        let _ = w::write_array_len(&mut b, list.len() as u32);
                        for a in list {
                            let _ = w::write_array_len(&mut b, 3);
                            let _ = w::write_bin(&mut b, &a.id);
                            let _ = w::write_sint(&mut b, a.ts);
                            let _ = w::write_bool(&mut b, a.duplicate);
                        }
                    }
                }
            }
        }
    }
    b
}

fn write_error(b: &mut Vec<u8>, e: &Error) {
    let _ = w::write_array_len(b, 3);
    let _ = w::write_sint(b, status_of(e.kind) as i64);
    let _ = w::write_str(b, &e.message);
    let _ = w::write_sint(b, e.os_code as i64);
}

fn encode_error(e: &Error) -> Vec<u8> {
    let mut b = Vec::with_capacity(32 + e.message.len());
    write_error(&mut b, e);
    b
}
