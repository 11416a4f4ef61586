'use strict';

// Call plumbing: the out-parameter scratch, taking library-allocated results, the growing
// read buffer of the _into reads, and turning a status into an LmstoreError. Nothing here
// knows a record's shape or a method's arguments.

const { native, PAGE_INFO_SIZE, PAGE_INFO_CURSOR } = require('./ffi');
const { LmstoreError, STATUS } = require('./errors');

// Out-parameter scratch for synchronous reads. JS runs one synchronous call at a time on
// this thread, and nothing here is handed to an async call, so sharing them is safe.
// (Worker threads load their own copy of this module, hence their own scratch.)
const OUT_LEN = Buffer.alloc(8);
// The size_t at OUT_LEN as two uint32 halves: reading it needs no BigInt.
const OUT32 = new Uint32Array(OUT_LEN.buffer, OUT_LEN.byteOffset, 2);
const RANGE = { start_ts: 0, end_ts: 0, limit: 0, flags: 0, cursor: null, cursor_len: 0 };
// struct lms_page_info, filled by lms_range_messages_into and read by offset.
const INFO = Buffer.alloc(PAGE_INFO_SIZE);
const INFO32 = new Uint32Array(INFO.buffer, INFO.byteOffset, 4);
const TWO32 = 4294967296;

// Each store reads templates and pages into one reusable Buffer of its own, grown when the
// library answers LMS_BUFFER_TOO_SMALL (with the size needed; the buffer is untouched). A
// record or page above READ_KEEP_MAX is read into a Buffer of its own for that one call,
// so one huge page does not pin its size for the store's lifetime. Nothing returned to the
// caller aliases these buffers (see lib/decode.js).
const READ_BUFFER = 64 * 1024;
const READ_KEEP_MAX = 4 * 1024 * 1024;

/** The error of a failed synchronous call, in the library's words (thread-local to this thread). */
function lastError(op, status) {
  const message = native.last_error() || native.strerror(status);
  return new LmstoreError(status, `${op}: ${message}`, { op, osCode: native.last_error_os_code() });
}

/** The size_t an _into call left at OUT_LEN. */
const outLen = () => OUT32[0] + OUT32[1] * TWO32;
/** The page length an lms_range_messages_into call left in INFO. */
const infoLen = () => INFO32[0] + INFO32[1] * TWO32;
/** The cursor an lms_range_messages_into call left in INFO, or null on the last page. */
function infoCursor() {
  const n = INFO32[3];
  return n === 0 ? null : INFO.toString('base64url', PAGE_INFO_CURSOR, PAGE_INFO_CURSOR + n);
}

/** The reusable read buffer of one store. */
class ReadBuffer {
  constructor() {
    this.buf = Buffer.alloc(READ_BUFFER);
    this.keepMax = READ_KEEP_MAX;
  }

  /**
   * A buffer of at least `needed` bytes for an _into read: the store's own, grown (by
   * doubling) up to READ_KEEP_MAX, or above that a one-off Buffer for this call only.
   */
  atLeast(needed) {
    if (needed > READ_KEEP_MAX) return Buffer.allocUnsafeSlow(needed);
    let size = this.buf.length;
    while (size < needed) size *= 2;
    if (size > this.buf.length) this.buf = Buffer.allocUnsafeSlow(Math.min(size, READ_KEEP_MAX));
    return this.buf;
  }

  /**
   * Runs an _into read `fn(db, ...args, buf, cap, OUT_LEN)` into this buffer, growing it while
   * the library answers LMS_BUFFER_TOO_SMALL (the result may grow between calls, hence a loop).
   * Returns the status; on LMS_OK the result is `this.last[0, outLen())`.
   */
  read(fn, db, args) {
    let buf = this.buf;
    let rc = fn(db, ...args, buf, buf.length, OUT_LEN);
    while (rc === STATUS.LMS_BUFFER_TOO_SMALL) {
      buf = this.atLeast(outLen());
      rc = fn(db, ...args, buf, buf.length, OUT_LEN);
    }
    this.last = buf;
    return rc;
  }
}

module.exports = {
  OUT_LEN, RANGE, INFO, lastError, outLen, infoLen, infoCursor, ReadBuffer,
};
