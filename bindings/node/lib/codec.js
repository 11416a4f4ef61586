'use strict';

const { Packr, Unpackr } = require('msgpackr');
const { LmstoreError, STATUS, invalidArgument } = require('./errors');

// The library wants plain MessagePack maps with string keys: msgpackr's record extension
// would be unreadable to it, and `undefined` (an msgpackr extension by default) would be
// refused, so it is written as nil. Stored times are int64 microseconds; decoding them as
// Numbers is exact until the year 2255. Binary values are copied out (`copyBuffers`), never
// views: records are read into the store's reusable buffer, which the next read overwrites.
const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true, int64AsType: 'number' });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true, copyBuffers: true });

const pack = (v) => packr.pack(v);
/** MessagePack in `buf[0, len)` (all of `buf` when `len` is omitted) -> value. */
const unpack = (buf, len) => unpackr.unpack(buf, len);

const EMPTY_MAP = Buffer.from([0x80]);

function packMap(op, what, value) {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array || value instanceof Date) {
    throw invalidArgument(op, `${what} must be a plain object, got ${typeName(value)}`);
  }
  checkPackable(op, what, value);
  return packr.pack(value);
}

// ---- UUIDs ----

const HEX_HI = new Uint8Array(256);
const HEX_LO = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  HEX_HI[i] = '0123456789abcdef'.charCodeAt(i >> 4);
  HEX_LO[i] = '0123456789abcdef'.charCodeAt(i & 15);
}

/** 16 bytes at `off` of `b` as a lowercase canonical UUID string (one flat string). */
function uuidString(b, off = 0) {
  const H = HEX_HI, L = HEX_LO;
  const b0 = b[off], b1 = b[off + 1], b2 = b[off + 2], b3 = b[off + 3], b4 = b[off + 4], b5 = b[off + 5];
  const b6 = b[off + 6], b7 = b[off + 7], b8 = b[off + 8], b9 = b[off + 9], b10 = b[off + 10], b11 = b[off + 11];
  const b12 = b[off + 12], b13 = b[off + 13], b14 = b[off + 14], b15 = b[off + 15];
  return String.fromCharCode(H[b0], L[b0], H[b1], L[b1], H[b2], L[b2], H[b3], L[b3], 45, H[b4], L[b4], H[b5], L[b5], 45,
    H[b6], L[b6], H[b7], L[b7], 45, H[b8], L[b8], H[b9], L[b9], 45, H[b10], L[b10], H[b11], L[b11],
    H[b12], L[b12], H[b13], L[b13], H[b14], L[b14], H[b15], L[b15]);
}

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

/** A UUID string (with or without dashes) or 16 bytes -> a 16-byte Buffer. */
function uuidBytes(op, what, value) {
  if (typeof value === 'string') {
    if (!UUID_RE.test(value)) throw invalidArgument(op, `${what} is not a UUID: ${JSON.stringify(value)}`);
    return Buffer.from(value.replace(/-/g, ''), 'hex');
  }
  if (value instanceof Uint8Array && value.length === 16) return Buffer.from(value);
  throw invalidArgument(op, `${what} must be a UUID string or 16 bytes, got ${typeName(value)}`);
}

// ---- times ----
// Times are Numbers of microseconds since the epoch, the store's own unit: a Date holds only
// milliseconds, and messages written within one millisecond must keep their order and their
// exact `ts` (a range cursor or trimSessionBefore(ts) must name the exact value).

/** Microseconds -> Date (sub-millisecond part dropped). */
const toDate = (us) => new Date(Math.floor(us / 1000));
/** Date -> microseconds. */
const fromDate = (d) => d.getTime() * 1000;
/** Now in microseconds (millisecond clock, scaled; the store keeps per-session order itself). */
const nowMicros = () => Date.now() * 1000;

// Between these a number is a time of 2001-2286 in seconds or milliseconds (Date.now()), or
// as microseconds a moment in January 1970 that would sort before all history: refused.
const AMBIGUOUS_LOW = 1e9;
const AMBIGUOUS_HIGH = 1e14;

/** Accepts µs Numbers, bigint or Dates where a time goes in. */
function micros(op, what, value) {
  if (value instanceof Date) {
    const t = value.getTime();
    if (Number.isNaN(t)) throw invalidArgument(op, `${what} is an invalid Date`);
    return t * 1000;
  }
  if (typeof value === 'bigint') value = Number(value);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalidArgument(op, `${what} must be an integer number of microseconds or a Date, got ${typeName(value)}`);
  }
  const abs = Math.abs(value);
  if (abs >= AMBIGUOUS_LOW && abs < AMBIGUOUS_HIGH) {
    throw invalidArgument(op, `${what} ${value} looks like seconds or milliseconds (Date.now()), but times are microseconds: pass a Date or Date.now() * 1000`);
  }
  return value;
}

// ---- strings ----

/** How a wrong value is named in an error: `string "10"`, `number 1.5`, `an array`, `null`. */
function typeName(v) {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'a Buffer';
  switch (typeof v) {
    case 'string': return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
    case 'number': return `number ${v}`;
    case 'bigint': return `bigint ${v}`;
    case 'boolean': return `boolean ${v}`;
    case 'function': return 'a function';
    case 'symbol': return 'a symbol';
    default: return v instanceof Date ? 'a Date' : 'an object';
  }
}

// A lone surrogate cannot be encoded as UTF-8: Buffer.from and msgpackr would silently write
// U+FFFD instead, so such text is refused.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = typeof String.prototype.isWellFormed === 'function'
  ? (s) => s.isWellFormed()
  : (s) => !LONE_SURROGATE.test(s);

function checkText(op, what, s) {
  if (!wellFormed(s)) {
    throw new LmstoreError(STATUS.LMS_INVALID_UTF8, `${op}: ${what} contains a lone surrogate, which is not encodable as UTF-8`, { op });
  }
  return s;
}

function requireString(op, what, value) {
  if (typeof value !== 'string') throw invalidArgument(op, `${what} must be a string, got ${typeName(value)}`);
  return checkText(op, what, value);
}

function optionalString(op, what, value) {
  if (value === undefined || value === null) return undefined;
  return requireString(op, what, value);
}

function textBuffer(op, what, value) {
  return Buffer.from(requireString(op, what, value), 'utf8');
}

/**
 * Checks a value bound for MessagePack (metadata, template inputs): functions and symbols,
 * which msgpackr would turn into nil, and strings with lone surrogates are refused.
 */
function checkPackable(op, what, v, depth = 0) {
  switch (typeof v) {
    case 'string': checkText(op, what, v); return;
    case 'function': case 'symbol':
      throw invalidArgument(op, `${what} is ${typeName(v)}, which cannot be stored`);
    case 'object': {
      if (v === null || v instanceof Uint8Array || v instanceof Date) return;
      if (depth > 64) throw invalidArgument(op, `${what} nests deeper than 64 levels`);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) checkPackable(op, `${what}[${i}]`, v[i], depth + 1);
        return;
      }
      if (v instanceof Map || v instanceof Set) throw invalidArgument(op, `${what} is a ${v.constructor.name}; use a plain object or array`);
      for (const k of Object.keys(v)) {
        checkText(op, `${what} key`, k);
        checkPackable(op, `${what}.${k}`, v[k], depth + 1);
      }
      return;
    }
    default:
  }
}

// ---- records ----

function templateFromRecord(r) {
  return {
    id: r.id,
    version: r.version,
    template: r.template,
    description: r.description === null ? undefined : r.description,
    inputs: r.inputs,
    metadata: r.metadata,
    createdAt: r.created_at,
  };
}

// One fixed object shape for every message keeps property access monomorphic in callers'
// loops; absent optional fields are `undefined`.
function messageFromRecord(r) {
  const reply = r.in_reply_to;
  return {
    id: uuidString(r.id),
    sessionId: r.session_id,
    ts: r.ts,
    role: r.role,
    agentId: r.agent_id,
    content: r.content,
    inReplyTo: reply === undefined || reply === null ? undefined : uuidString(reply),
    metadata: r.metadata,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function sessionFromRecord(r) {
  return {
    sessionId: r.session_id,
    title: r.title === null ? undefined : r.title,
    metadata: r.metadata,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastTs: r.last_ts,
    lastActivity: r.last_activity,
    messageCount: r.message_count,
  };
}

module.exports = {
  pack,
  unpack,
  packMap,
  EMPTY_MAP,
  uuidString,
  uuidBytes,
  toDate,
  fromDate,
  nowMicros,
  micros,
  requireString,
  optionalString,
  textBuffer,
  typeName,
  checkPackable,
  templateFromRecord,
  messageFromRecord,
  sessionFromRecord,
};
