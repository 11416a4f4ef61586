'use strict';

// Checks of the arguments methods share (option objects, keys, limits, cursors, messages to
// append), each failing with an LmstoreError whose message starts with the operation and
// names what was wrong and what was given.

const { LmstoreError, STATUS, invalidArgument } = require('./errors');
const {
  uuidBytes, micros, requireString, typeName, checkPackable,
} = require('./codec');

/**
 * The options object of a call (`{}` when omitted). A key the call does not know is refused:
 * a misspelt option (`{verison: '1.0.0'}`) must not silently fall back to a default.
 */
function options(op, value, known) {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgument(op, `options must be an object, got ${typeName(value)}`);
  }
  for (const k of Object.keys(value)) {
    if (!known.includes(k)) {
      throw invalidArgument(op, `unknown option ${JSON.stringify(k)} (known: ${known.join(', ')})`);
    }
  }
  return value;
}

function cursorBytes(op, cursor) {
  if (cursor === undefined || cursor === null) return null;
  if (typeof cursor !== 'string') {
    throw new LmstoreError(STATUS.LMS_BAD_CURSOR, `${op}: a cursor is the string a previous page returned, got ${typeName(cursor)}`, { op });
  }
  const b = Buffer.from(cursor, 'base64url');
  // An empty decoding would silently restart from the beginning.
  if (b.length === 0) throw new LmstoreError(STATUS.LMS_BAD_CURSOR, `${op}: malformed cursor ${JSON.stringify(cursor)}`, { op });
  return b;
}

/** A positive integer count option (`limit`, `pageSize`), `fallback` when omitted. */
function countOf(op, what, value, fallback) {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number') throw invalidArgument(op, `${what} must be a number, got ${typeName(value)}`);
  if (!Number.isInteger(value) || value < 1) throw invalidArgument(op, `${what} must be a positive integer, got ${value}`);
  // Above 2^32 the uint32 would wrap to a small number the library would accept.
  return Math.min(value, 0xffffffff);
}

const limitOf = (op, value, fallback) => countOf(op, 'limit', value, fallback);

/** A uint32 option (an integer from 0 to 2^32 - 1), `fallback` when omitted. */
function u32Of(op, what, value, fallback) {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number') throw invalidArgument(op, `${what} must be a number, got ${typeName(value)}`);
  if (!Number.isSafeInteger(value) || value < 0) throw invalidArgument(op, `${what} must be a non-negative integer, got ${value}`);
  // Above 2^32 - 1 the uint32 would wrap to a small number the library might accept.
  if (value > 0xffffffff) throw invalidArgument(op, `${what} must be at most ${0xffffffff}, got ${value}`);
  return value;
}

function key(op, what, value) {
  return requireString(op, what, value);
}

const MESSAGE_KEYS = ['sessionId', 'role', 'content', 'id', 'ts', 'agentId', 'inReplyTo', 'metadata'];

function packableMessage(op, m, i) {
  const at = (f) => `messages[${i}].${f}`;
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw invalidArgument(op, `messages[${i}] must be an object, got ${typeName(m)}`);
  for (const k of Object.keys(m)) {
    if (!MESSAGE_KEYS.includes(k)) throw invalidArgument(op, `${at(k)} is not a message field (known: ${MESSAGE_KEYS.join(', ')})`);
  }
  const o = {
    session_id: requireString(op, at('sessionId'), m.sessionId),
    role: requireString(op, at('role'), m.role),
    content: m.content === undefined ? '' : requireString(op, at('content'), m.content),
  };
  if (m.id !== undefined && m.id !== null) o.id = uuidBytes(op, at('id'), m.id);
  // msgpackr writes integers beyond 32 bits as floats unless they are bigints, and the
  // library wants an integer.
  if (m.ts !== undefined && m.ts !== null) o.ts = BigInt(micros(op, at('ts'), m.ts));
  if (m.agentId !== undefined && m.agentId !== null) o.agent_id = requireString(op, at('agentId'), m.agentId);
  if (m.inReplyTo !== undefined && m.inReplyTo !== null) o.in_reply_to = uuidBytes(op, at('inReplyTo'), m.inReplyTo);
  if (m.metadata !== undefined && m.metadata !== null) {
    const md = m.metadata;
    if (typeof md !== 'object' || Array.isArray(md) || md instanceof Uint8Array || md instanceof Date) {
      throw invalidArgument(op, `${at('metadata')} must be a plain object, got ${typeName(md)}`);
    }
    checkPackable(op, at('metadata'), md);
    o.metadata = md;
  }
  return o;
}

module.exports = {
  options, cursorBytes, countOf, limitOf, u32Of, key, packableMessage,
};
