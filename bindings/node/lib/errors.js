'use strict';

// Status numbers come from include/lmstore.h and are never renumbered, so they can be
// listed here; a status the library adds later still gets a usable code below.
const STATUS_CODES = Object.freeze({
  1: 'LMS_NOT_FOUND',
  2: 'LMS_INVALID_ARGUMENT',
  3: 'LMS_CONFLICT',
  4: 'LMS_MAP_FULL',
  5: 'LMS_IO',
  6: 'LMS_CORRUPT',
  7: 'LMS_VERSION_MISMATCH',
  8: 'LMS_INTERNAL',
  9: 'LMS_KEY_TOO_LONG',
  10: 'LMS_INVALID_UTF8',
  11: 'LMS_BAD_MSGPACK',
  12: 'LMS_BAD_CURSOR',
  13: 'LMS_READ_ONLY',
  14: 'LMS_TOO_LARGE',
  // The record or page did not fit the caller's buffer (the *_into reads). The binding grows
  // its buffer and calls again, so this never reaches a user.
  15: 'LMS_BUFFER_TOO_SMALL',
  // A render input is missing or has the wrong type.
  16: 'LMS_INPUT',
  // The template failed to compile or render.
  17: 'LMS_RENDER',
  18: 'LMS_NOT_A_STORE',
  // The operation means nothing for the store's backend (a backup of a PostgreSQL store).
  19: 'LMS_UNSUPPORTED',
  // Binding-level conditions get negative numbers so they can never collide with a
  // status the library returns.
  [-1]: 'LMS_CLOSED',
  [-2]: 'LMS_LIBRARY_NOT_FOUND',
  [-3]: 'LMS_ABI_MISMATCH',
});

const STATUS = Object.freeze(
  Object.fromEntries(Object.entries(STATUS_CODES).map(([n, code]) => [code, Number(n)])),
);

function codeOf(status) {
  return STATUS_CODES[status] || `LMS_STATUS_${status}`;
}

class LmstoreError extends Error {
  /**
   * @param {number} status  ABI status (positive) or binding-level status (negative).
   * @param {string} message What went wrong, in the library's words when it gave any.
   * @param {{op?: string, osCode?: number}} [extra]
   */
  constructor(status, message, extra) {
    super(message);
    this.name = 'LmstoreError';
    this.code = codeOf(status);
    this.status = status;
    if (extra && extra.op) this.op = extra.op;
    // Only meaningful for I/O failures; keeping it off other errors keeps them small.
    if (extra && extra.osCode) this.osCode = extra.osCode;
  }
}

function closedError(op) {
  return new LmstoreError(STATUS.LMS_CLOSED, `${op}: the store is closed`, { op });
}

function invalidArgument(op, message) {
  return new LmstoreError(STATUS.LMS_INVALID_ARGUMENT, `${op}: ${message}`, { op });
}

module.exports = { LmstoreError, STATUS, STATUS_CODES, codeOf, closedError, invalidArgument };
