'use strict';

const {
  native, copyOut, defaultOptions, PAGE_SIZE, CURSOR_OFFSET, APPEND_RESULT_SIZE, PAGE_INFO_SIZE, PAGE_INFO_CURSOR,
} = require('./ffi');
const { LmstoreError, STATUS, closedError, invalidArgument } = require('./errors');
const codec = require('./codec');
const { decodeMessages, decodeMessage, decodeTemplate } = require('./decode');

const {
  pack, unpack, packMap, EMPTY_MAP, uuidBytes, uuidString, micros,
  requireString, optionalString, textBuffer,
  templateFromRecord, messageFromRecord, sessionFromRecord,
} = codec;

const byteLength = Buffer.byteLength;

// Out-parameter scratch for synchronous reads. JS runs one synchronous call at a time on
// this thread, and nothing here is handed to an async call, so sharing them is safe.
// (Worker threads load their own copy of this module, hence their own scratch.)
const OUT = Buffer.alloc(16);
const OUT_PTR = OUT.subarray(0, 8);
const OUT_LEN = OUT.subarray(8, 16);
// The size_t at OUT_LEN as two uint32 halves: reading it needs no BigInt.
const OUT32 = new Uint32Array(OUT.buffer, OUT.byteOffset, 4);
const PAGE = Buffer.alloc(PAGE_SIZE);
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

const RANGE_REVERSE = 1;
const RANGE_START = 2;
const RANGE_END = 4;
const UPDATE_CONTENT = 1;
const UPDATE_METADATA = 2;
const UPDATE_TITLE = 4;
const PUT_REPLACE = 1;
const PUT_OUTCOMES = ['created', 'unchanged', 'replaced'];
const DEFAULT_PAGE = 100;

const slowMessage = (data, len) => messageFromRecord(unpack(data, len));
const slowMessages = (data, len) => unpack(data, len).map(messageFromRecord);
const slowTemplate = (data, len) => templateFromRecord(unpack(data, len));

function lastError(op, status) {
  const message = native.last_error() || native.strerror(status);
  return new LmstoreError(status, message, { op, osCode: native.last_error_os_code() });
}

/** Takes the buffer a `uint8_t **out, size_t *out_len` call left in OUT. */
function takeOut() {
  const ptr = OUT.readBigUInt64LE(0);
  const len = Number(OUT.readBigUInt64LE(8));
  try {
    return copyOut(ptr, len);
  } finally {
    native.bytes_free(ptr, len);
  }
}

function takeOutFrom(out) {
  const ptr = out.readBigUInt64LE(0);
  const len = Number(out.readBigUInt64LE(8));
  try {
    return copyOut(ptr, len);
  } finally {
    native.bytes_free(ptr, len);
  }
}

/** Takes the page a range/list call left in PAGE: {data, cursor}. */
function takePage() {
  const ptr = PAGE.readBigUInt64LE(0);
  const len = Number(PAGE.readBigUInt64LE(8));
  const cursorLen = PAGE.readUInt32LE(20);
  try {
    return {
      data: copyOut(ptr, len),
      cursor: cursorLen === 0 ? null : PAGE.toString('base64url', CURSOR_OFFSET, CURSOR_OFFSET + cursorLen),
    };
  } finally {
    native.page_free(PAGE);
  }
}

function cursorBytes(op, cursor) {
  if (cursor === undefined || cursor === null) return null;
  if (typeof cursor !== 'string') throw new LmstoreError(STATUS.LMS_BAD_CURSOR, `${op}: a cursor is the string a previous page returned`, { op });
  const b = Buffer.from(cursor, 'base64url');
  // An empty decoding would silently restart from the beginning.
  if (b.length === 0) throw new LmstoreError(STATUS.LMS_BAD_CURSOR, `${op}: malformed cursor ${JSON.stringify(cursor)}`, { op });
  return b;
}

function limitOf(op, value, fallback) {
  if (value === undefined || value === null) return fallback;
  if (!Number.isInteger(value) || value < 1) throw invalidArgument(op, `limit must be a positive integer, got ${value}`);
  // Above 2^32 the uint32 would wrap to a small number the library would accept.
  return Math.min(value, 0xffffffff);
}

function key(op, what, value) {
  requireString(op, what, value);
  return value;
}

// ---- the async scheduler ----
// koffi refuses async calls beyond its queue (256 by default) by throwing, so calls above a
// modest number in flight wait here in order. libuv runs 4 at a time by default anyway; a
// few more keep its pool busy and let the library group-commit concurrent appends.
const MAX_IN_FLIGHT = 32;
let inFlight = 0;
const waiting = [];

function schedule(start) {
  if (inFlight < MAX_IN_FLIGHT) {
    inFlight++;
    start();
  } else {
    waiting.push(start);
  }
}

function released() {
  inFlight--;
  const next = waiting.shift();
  if (next) {
    inFlight++;
    next();
  }
}

// Statuses that depend only on the arguments, never on what is stored: an async call that
// failed with one of these is re-run synchronously (it fails again at once, writing nothing)
// to get the library's own message, which is thread-local to the pool thread that failed.
const INPUT_STATUSES = new Set([
  STATUS.LMS_INVALID_ARGUMENT, STATUS.LMS_KEY_TOO_LONG, STATUS.LMS_INVALID_UTF8,
  STATUS.LMS_BAD_MSGPACK, STATUS.LMS_READ_ONLY,
]);

/**
 * An open store. Obtain one with `open()`; release it with `close()`.
 */
class Store {
  constructor(db, path, readOnly) {
    this._db = db;
    this._buf = Buffer.alloc(READ_BUFFER);
    this._pending = 0;
    this._closeWhenIdle = null;
    this.path = path;
    this.readOnly = readOnly;
  }

  get closed() {
    return this._db === null;
  }

  _handle(op) {
    const db = this._db;
    if (db === null) throw closedError(op);
    return db;
  }

  /**
   * Closes the store. Idempotent. Writes already started (pending Promises) still complete;
   * the native handle is released after the last of them. Every later call throws an
   * LmstoreError with code 'LMS_CLOSED'.
   */
  close() {
    const db = this._db;
    if (db === null) return;
    this._db = null;
    this._buf = null;
    if (this._pending === 0) native.close(db);
    else this._closeWhenIdle = db;
  }

  // ---- write plumbing: every write is described once and run either way ----

  _runSync(op, w) {
    const db = this._handle(op);
    const rc = w.fn(db, ...w.args);
    if (rc !== 0) {
      if (rc === STATUS.LMS_NOT_FOUND && 'notFound' in w) return w.notFound;
      throw lastError(op, rc);
    }
    return w.done ? w.done() : undefined;
  }

  _runAsync(op, prepare) {
    let db;
    let w;
    try {
      db = this._handle(op);
      w = prepare();
    } catch (e) {
      return Promise.reject(e);
    }
    this._pending++;
    return new Promise((resolve, reject) => {
      schedule(() => {
        const finish = (err, rc) => {
          try {
            if (err) return reject(err);
            if (rc !== 0 && INPUT_STATUSES.has(rc)) rc = w.fn(db, ...w.args);
            if (rc === 0) return resolve(w.done ? w.done() : undefined);
            if (rc === STATUS.LMS_NOT_FOUND && 'notFound' in w) return resolve(w.notFound);
            const detail = INPUT_STATUSES.has(rc) ? null : w.describe && w.describe(rc);
            reject(detail === null
              ? lastError(op, rc)
              : new LmstoreError(rc, `${op}: ${native.strerror(rc)}${detail ? ` (${detail})` : ''}`, { op }));
          } catch (e) {
            reject(e);
          } finally {
            released();
            if (--this._pending === 0 && this._closeWhenIdle !== null) {
              native.close(this._closeWhenIdle);
              this._closeWhenIdle = null;
            }
          }
        };
        try {
          w.fn.async(db, ...w.args, finish);
        } catch (e) {
          finish(e);
        }
      });
    });
  }

  // ---- environment ----

  /** Counts and sizes for a health check; counts are kept by writes, never scanned. */
  stats() {
    const db = this._handle('stats');
    const s = {};
    const rc = native.stat(db, s);
    if (rc !== 0) throw lastError('stats', rc);
    return {
      templateIds: Number(s.template_ids),
      templateVersions: Number(s.template_versions),
      templatesModifiedAt: Number(s.templates_modified_at),
      sessions: Number(s.sessions),
      messages: Number(s.messages),
      mapSize: Number(s.map_size),
      mapUsed: Number(s.map_used),
      maxMapSize: Number(s.max_map_size),
      maxReaders: s.max_readers,
      numReaders: s.num_readers,
      schemaVersion: s.schema_version,
      lmdbVersion: s.lmdb_version,
    };
  }

  _flush() {
    return { fn: native.sync, args: [] };
  }

  /** Flushes committed writes to disk (only needed with `noSync`). */
  flush() {
    return this._runAsync('flush', () => this._flush());
  }

  flushSync() {
    return this._runSync('flushSync', this._flush());
  }

  _backup(op, path, options) {
    const p = Buffer.from(requireString(op, 'path', path));
    return { fn: native.backup, args: [p, p.length, options && options.compact ? 1 : 0] };
  }

  /** Writes a consistent copy into an empty (or new) directory while work goes on. */
  backup(path, options) {
    return this._runAsync('backup', () => this._backup('backup', path, options));
  }

  backupSync(path, options) {
    return this._runSync('backupSync', this._backup('backupSync', path, options));
  }

  // ---- templates: reads ----

  /**
   * The latest version of template `id`, or the one `{version}` or `{alias}` names;
   * `undefined` when the id, version or alias does not exist.
   */
  getTemplate(id, options) {
    const db = this._handle('getTemplate');
    if (typeof id !== 'string') throw invalidArgument('getTemplate', 'id must be a string');
    let fn = native.get_template;
    let sel = null;
    if (options !== undefined && options !== null) {
      const { version, alias } = options;
      if (version !== undefined && alias !== undefined) {
        throw invalidArgument('getTemplate', 'give a version or an alias, not both');
      }
      if (version !== undefined) sel = version;
      else if (alias !== undefined) {
        sel = alias;
        fn = native.get_template_by_alias;
      }
      if (sel !== null && (typeof sel !== 'string' || sel === '')) {
        throw invalidArgument('getTemplate', 'version and alias must be non-empty strings');
      }
    }
    const idLen = byteLength(id);
    const selLen = sel === null ? 0 : byteLength(sel);
    if (fn === native.get_template_by_alias) {
      const rc = fn(db, id, idLen, sel, selLen, OUT_PTR, OUT_LEN);
      if (rc !== 0) {
        if (rc === STATUS.LMS_NOT_FOUND) return undefined;
        throw lastError('getTemplate', rc);
      }
      const data = takeOut();
      return decodeTemplate(data, data.length, slowTemplate);
    }
    // Latest or exact version: one crossing into the store's buffer.
    let buf = this._buf;
    let rc = native.get_template_into(db, id, idLen, sel, selLen, buf, buf.length, OUT_LEN);
    while (rc === STATUS.LMS_BUFFER_TOO_SMALL) {
      // The record may have been replaced by a larger one in between: hence a loop.
      buf = this._readBuffer(OUT32[2] + OUT32[3] * TWO32);
      rc = native.get_template_into(db, id, idLen, sel, selLen, buf, buf.length, OUT_LEN);
    }
    if (rc !== 0) {
      if (rc === STATUS.LMS_NOT_FOUND) return undefined;
      throw lastError('getTemplate', rc);
    }
    return decodeTemplate(buf, OUT32[2] + OUT32[3] * TWO32, slowTemplate);
  }

  /**
   * A buffer of at least `needed` bytes for an _into read: the store's own, grown (by
   * doubling) up to READ_KEEP_MAX, or above that a one-off Buffer for this call only.
   */
  _readBuffer(needed) {
    if (needed > READ_KEEP_MAX) return Buffer.allocUnsafeSlow(needed);
    let size = this._buf.length;
    while (size < needed) size *= 2;
    if (size > this._buf.length) this._buf = Buffer.allocUnsafeSlow(Math.min(size, READ_KEEP_MAX));
    return this._buf;
  }

  /**
   * One page of template ids in byte order: `{ids, cursor}`; pass `cursor` as `after` for the
   * next page (it is null on the last page).
   */
  listTemplates(options) {
    const op = 'listTemplates';
    const db = this._handle(op);
    const o = options || {};
    const prefix = optionalString(op, 'prefix', o.prefix);
    const after = optionalString(op, 'after', o.after);
    const limit = limitOf(op, o.limit, DEFAULT_PAGE);
    const rc = native.list_templates(
      db, prefix === undefined ? null : prefix, prefix === undefined ? 0 : byteLength(prefix),
      after === undefined ? null : after, after === undefined ? 0 : byteLength(after),
      limit, OUT_PTR, OUT_LEN,
    );
    if (rc !== 0) throw lastError(op, rc);
    const ids = unpack(takeOut());
    return { ids, cursor: ids.length === limit ? ids[ids.length - 1] : null };
  }

  /** Every template id (optionally under `prefix`), paging underneath. */
  *iterateTemplateIds(options) {
    const o = options || {};
    let after = o.after;
    const pageSize = limitOf('iterateTemplateIds', o.pageSize, 1000);
    for (;;) {
      const { ids, cursor } = this.listTemplates({ prefix: o.prefix, after, limit: pageSize });
      yield* ids;
      if (cursor === null) return;
      after = cursor;
    }
  }

  /** The versions of `id`, oldest first: `[{version, createdAt}]`; `[]` for an unknown id. */
  listTemplateVersions(id) {
    const op = 'listTemplateVersions';
    const db = this._handle(op);
    key(op, 'id', id);
    const rc = native.list_template_versions(db, id, byteLength(id), OUT_PTR, OUT_LEN);
    if (rc !== 0) {
      if (rc === STATUS.LMS_NOT_FOUND) return [];
      throw lastError(op, rc);
    }
    return unpack(takeOut()).map((v) => ({ version: v.version, createdAt: v.created_at }));
  }

  /** The aliases of `id` as `{alias: version}`; `{}` for an unknown id. */
  listTemplateAliases(id) {
    const op = 'listTemplateAliases';
    const db = this._handle(op);
    key(op, 'id', id);
    const rc = native.list_template_aliases(db, id, byteLength(id), OUT_PTR, OUT_LEN);
    if (rc !== 0) {
      if (rc === STATUS.LMS_NOT_FOUND) return {};
      throw lastError(op, rc);
    }
    return unpack(takeOut());
  }

  // ---- templates: writes ----

  _putTemplate(op, spec, options) {
    if (!spec || typeof spec !== 'object') throw invalidArgument(op, 'the template spec must be an object');
    // A record read back with getTemplate() can be put again: createdAt is the store's.
    // Other unknown fields go through so the library names them in its error.
    const { createdAt, ...rest } = spec;
    const body = pack(rest);
    const out = Buffer.alloc(4);
    return {
      fn: native.put_template,
      args: [body, body.length, options && options.replace ? PUT_REPLACE : 0, out],
      done: () => PUT_OUTCOMES[out.readUInt32LE(0)],
      describe: (rc) => rc === STATUS.LMS_CONFLICT
        ? `template ${JSON.stringify(spec.id)} version ${JSON.stringify(spec.version || '0.1.0')} exists with other content; pass {replace: true} to replace it`
        : '',
    };
  }

  /** Stores one template version; resolves to 'created', 'unchanged' or 'replaced'. */
  putTemplate(spec, options) {
    return this._runAsync('putTemplate', () => this._putTemplate('putTemplate', spec, options));
  }

  putTemplateSync(spec, options) {
    return this._runSync('putTemplateSync', this._putTemplate('putTemplateSync', spec, options));
  }

  _deleteTemplate(op, id, options) {
    key(op, 'id', id);
    const version = optionalString(op, 'version', options && options.version);
    if (version === '') throw invalidArgument(op, 'version must be a non-empty string');
    return {
      fn: native.delete_template,
      args: [id, byteLength(id), version === undefined ? null : version, version === undefined ? 0 : byteLength(version)],
      done: () => true,
      notFound: false,
    };
  }

  /** Deletes one version (`{version}`) or the whole id; resolves to false if absent. */
  deleteTemplate(id, options) {
    return this._runAsync('deleteTemplate', () => this._deleteTemplate('deleteTemplate', id, options));
  }

  deleteTemplateSync(id, options) {
    return this._runSync('deleteTemplateSync', this._deleteTemplate('deleteTemplateSync', id, options));
  }

  _setTemplateAlias(op, id, alias, version) {
    key(op, 'id', id);
    key(op, 'alias', alias);
    key(op, 'version', version);
    return {
      fn: native.set_template_alias,
      args: [id, byteLength(id), alias, byteLength(alias), version, byteLength(version)],
      describe: () => `template ${JSON.stringify(id)} has no version ${JSON.stringify(version)}`,
    };
  }

  /** Points `alias` of `id` at an existing `version` (creating or moving it). */
  setTemplateAlias(id, alias, version) {
    return this._runAsync('setTemplateAlias', () => this._setTemplateAlias('setTemplateAlias', id, alias, version));
  }

  setTemplateAliasSync(id, alias, version) {
    return this._runSync('setTemplateAliasSync', this._setTemplateAlias('setTemplateAliasSync', id, alias, version));
  }

  _deleteTemplateAlias(op, id, alias) {
    key(op, 'id', id);
    key(op, 'alias', alias);
    return {
      fn: native.delete_template_alias,
      args: [id, byteLength(id), alias, byteLength(alias)],
      done: () => true,
      notFound: false,
    };
  }

  /** Removes an alias; resolves to false if it did not exist. */
  deleteTemplateAlias(id, alias) {
    return this._runAsync('deleteTemplateAlias', () => this._deleteTemplateAlias('deleteTemplateAlias', id, alias));
  }

  deleteTemplateAliasSync(id, alias) {
    return this._runSync('deleteTemplateAliasSync', this._deleteTemplateAlias('deleteTemplateAliasSync', id, alias));
  }

  // ---- messages: writes ----

  _append(op, messages) {
    if (!Array.isArray(messages)) throw invalidArgument(op, 'messages must be an array');
    const batch = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) batch[i] = packableMessage(op, messages[i], i);
    const body = pack(batch);
    const n = messages.length;
    const results = Buffer.alloc(Math.max(1, n) * APPEND_RESULT_SIZE);
    return {
      fn: native.append_messages_packed,
      args: [body, body.length, results, n],
      done: () => {
        const out = new Array(n);
        for (let i = 0; i < n; i++) {
          const off = i * APPEND_RESULT_SIZE;
          out[i] = {
            id: uuidString(results, off),
            ts: Number(results.readBigInt64LE(off + 16)),
            duplicate: results.readUInt32LE(off + 24) === 1,
          };
        }
        return out;
      },
    };
  }

  /**
   * Appends a batch in one durable transaction (all or nothing), off the event loop.
   * Resolves to one `{id, ts, duplicate}` per message, in order.
   */
  appendMessages(messages) {
    return this._runAsync('appendMessages', () => this._append('appendMessages', messages));
  }

  appendMessagesSync(messages) {
    return this._runSync('appendMessagesSync', this._append('appendMessagesSync', messages));
  }

  /** Appends one message; resolves to `{id, ts, duplicate}`. */
  appendMessage(message) {
    return this._runAsync('appendMessage', () => this._append('appendMessage', [message])).then((r) => r[0]);
  }

  appendMessageSync(message) {
    return this._runSync('appendMessageSync', this._append('appendMessageSync', [message]))[0];
  }

  _updateMessage(op, id, changes) {
    const idb = uuidBytes(op, 'id', id);
    if (!changes || typeof changes !== 'object') throw invalidArgument(op, 'changes must be an object {content?, metadata?}');
    let flags = 0;
    let content = null;
    let metadata = null;
    if (changes.content !== undefined) {
      content = textBuffer(op, 'content', changes.content);
      flags |= UPDATE_CONTENT;
    }
    if (changes.metadata !== undefined) {
      metadata = packMap(op, 'metadata', changes.metadata) || EMPTY_MAP;
      flags |= UPDATE_METADATA;
    }
    if (flags === 0) throw invalidArgument(op, 'nothing to update: give content and/or metadata');
    return {
      fn: native.update_message,
      args: [idb, 16, content, content ? content.length : 0, metadata, metadata ? metadata.length : 0, flags],
      describe: () => `no message ${uuidString(idb)}`,
    };
  }

  /** Replaces a message's content and/or metadata in place; rejects with LMS_NOT_FOUND. */
  updateMessage(id, changes) {
    return this._runAsync('updateMessage', () => this._updateMessage('updateMessage', id, changes));
  }

  updateMessageSync(id, changes) {
    return this._runSync('updateMessageSync', this._updateMessage('updateMessageSync', id, changes));
  }

  _deleteMessage(op, id) {
    const idb = uuidBytes(op, 'id', id);
    return { fn: native.delete_message, args: [idb, 16], done: () => true, notFound: false };
  }

  /** Deletes one message; resolves to false if it did not exist. */
  deleteMessage(id) {
    return this._runAsync('deleteMessage', () => this._deleteMessage('deleteMessage', id));
  }

  deleteMessageSync(id) {
    return this._runSync('deleteMessageSync', this._deleteMessage('deleteMessageSync', id));
  }

  _trim(op, sessionId, keep, before) {
    key(op, 'sessionId', sessionId);
    const out = Buffer.alloc(8);
    if (before) {
      const ts = micros(op, 'before', keep);
      return {
        fn: native.trim_session_before,
        args: [sessionId, byteLength(sessionId), ts, out],
        done: () => Number(out.readBigUInt64LE(0)),
      };
    }
    if (!Number.isSafeInteger(keep) || keep < 0) throw invalidArgument(op, 'keep must be a non-negative integer');
    return {
      fn: native.trim_session,
      args: [sessionId, byteLength(sessionId), keep, out],
      done: () => Number(out.readBigUInt64LE(0)),
    };
  }

  /** Keeps only the newest `keep` messages of a session; resolves to how many were deleted. */
  trimSession(sessionId, keep) {
    return this._runAsync('trimSession', () => this._trim('trimSession', sessionId, keep, false));
  }

  trimSessionSync(sessionId, keep) {
    return this._runSync('trimSessionSync', this._trim('trimSessionSync', sessionId, keep, false));
  }

  /** Deletes a session's messages with `ts` below `before` (µs or Date); resolves to the count. */
  trimSessionBefore(sessionId, before) {
    return this._runAsync('trimSessionBefore', () => this._trim('trimSessionBefore', sessionId, before, true));
  }

  trimSessionBeforeSync(sessionId, before) {
    return this._runSync('trimSessionBeforeSync', this._trim('trimSessionBeforeSync', sessionId, before, true));
  }

  // ---- messages: reads ----

  /** One message by id, or `undefined`. */
  getMessage(id) {
    const op = 'getMessage';
    const db = this._handle(op);
    const idb = uuidBytes(op, 'id', id);
    const rc = native.get_message(db, idb, 16, OUT_PTR, OUT_LEN);
    if (rc !== 0) {
      if (rc === STATUS.LMS_NOT_FOUND) return undefined;
      throw lastError(op, rc);
    }
    const data = takeOut();
    return decodeMessage(data, data.length, slowMessage);
  }

  /** Checks `options` of a range read and fills RANGE (clear RANGE.cursor after the call). */
  _rangeArgs(op, options) {
    const o = options || {};
    let flags = o.reverse ? RANGE_REVERSE : 0;
    let start = 0;
    let end = 0;
    if (o.start !== undefined && o.start !== null) {
      start = micros(op, 'start', o.start);
      flags |= RANGE_START;
    }
    if (o.end !== undefined && o.end !== null) {
      end = micros(op, 'end', o.end);
      flags |= RANGE_END;
    }
    const cursor = cursorBytes(op, o.cursor);
    RANGE.start_ts = start;
    RANGE.end_ts = end;
    RANGE.limit = limitOf(op, o.limit, DEFAULT_PAGE);
    RANGE.flags = flags;
    RANGE.cursor = cursor;
    RANGE.cursor_len = cursor === null ? 0 : cursor.length;
  }

  _range(op, fn, name, value, options) {
    const db = this._handle(op);
    key(op, name, value);
    this._rangeArgs(op, options);
    const rc = fn(db, value, byteLength(value), RANGE, PAGE);
    RANGE.cursor = null;
    if (rc !== 0) throw lastError(op, rc);
    const page = takePage();
    return { messages: decodeMessages(page.data, page.data.length, slowMessages), cursor: page.cursor };
  }

  /**
   * One page of a session's messages, oldest first (or newest first with `reverse`), and the
   * cursor of the next page (null on the last). "The latest 50" is `{reverse: true, limit: 50}`.
   */
  rangeMessages(sessionId, options) {
    const op = 'rangeMessages';
    const db = this._handle(op);
    key(op, 'sessionId', sessionId);
    this._rangeArgs(op, options);
    const sidLen = byteLength(sessionId);
    // One crossing: the page goes into the store's buffer, its length, count and cursor into INFO.
    let buf = this._buf;
    let rc;
    try {
      rc = native.range_messages_into(db, sessionId, sidLen, RANGE, buf, buf.length, INFO);
      while (rc === STATUS.LMS_BUFFER_TOO_SMALL) {
        buf = this._readBuffer(INFO32[0] + INFO32[1] * TWO32);
        rc = native.range_messages_into(db, sessionId, sidLen, RANGE, buf, buf.length, INFO);
      }
    } finally {
      RANGE.cursor = null;
    }
    if (rc !== 0) throw lastError(op, rc);
    const cursorLen = INFO32[3];
    const cursor = cursorLen === 0 ? null : INFO.toString('base64url', PAGE_INFO_CURSOR, PAGE_INFO_CURSOR + cursorLen);
    return { messages: decodeMessages(buf, INFO32[0] + INFO32[1] * TWO32, slowMessages), cursor };
  }

  /** Like rangeMessages() over one agent's messages across all sessions. */
  rangeAgentMessages(agentId, options) {
    return this._range('rangeAgentMessages', native.range_agent_messages, 'agentId', agentId, options);
  }

  /** Every message of a session in the range, fetched `pageSize` at a time. */
  *iterateMessages(sessionId, options) {
    yield* this._iterate((o) => this.rangeMessages(sessionId, o), options);
  }

  /** Every message of an agent in the range, fetched `pageSize` at a time. */
  *iterateAgentMessages(agentId, options) {
    yield* this._iterate((o) => this.rangeAgentMessages(agentId, o), options);
  }

  *_iterate(range, options) {
    const o = { ...(options || {}) };
    const pageSize = limitOf('iterate', o.pageSize, DEFAULT_PAGE);
    let remaining = o.limit === undefined ? Infinity : limitOf('iterate', o.limit, 0);
    delete o.pageSize;
    while (remaining > 0) {
      o.limit = Math.min(pageSize, remaining);
      const { messages, cursor } = range(o);
      yield* messages;
      remaining -= messages.length;
      if (cursor === null) return;
      o.cursor = cursor;
    }
  }

  // ---- sessions ----

  _createSession(op, sessionId, options) {
    key(op, 'sessionId', sessionId);
    const o = options || {};
    const title = o.title === undefined || o.title === null ? null : textBuffer(op, 'title', o.title);
    const metadata = packMap(op, 'metadata', o.metadata);
    return {
      fn: native.create_session,
      args: [sessionId, byteLength(sessionId), title, title ? title.length : 0, metadata, metadata ? metadata.length : 0],
      describe: () => `session ${JSON.stringify(sessionId)} exists`,
    };
  }

  /** Creates a session explicitly; rejects with LMS_CONFLICT if it exists. */
  createSession(sessionId, options) {
    return this._runAsync('createSession', () => this._createSession('createSession', sessionId, options));
  }

  createSessionSync(sessionId, options) {
    return this._runSync('createSessionSync', this._createSession('createSessionSync', sessionId, options));
  }

  /** A session, or `undefined`. */
  getSession(sessionId) {
    const op = 'getSession';
    const db = this._handle(op);
    key(op, 'sessionId', sessionId);
    const rc = native.get_session(db, sessionId, byteLength(sessionId), OUT_PTR, OUT_LEN);
    if (rc !== 0) {
      if (rc === STATUS.LMS_NOT_FOUND) return undefined;
      throw lastError(op, rc);
    }
    return sessionFromRecord(unpack(takeOut()));
  }

  _updateSession(op, sessionId, changes) {
    key(op, 'sessionId', sessionId);
    if (!changes || typeof changes !== 'object') throw invalidArgument(op, 'changes must be an object {title?, metadata?}');
    let flags = 0;
    let title = null;
    let metadata = null;
    if (changes.title !== undefined) {
      flags |= UPDATE_TITLE;
      title = changes.title === null ? null : textBuffer(op, 'title', changes.title);
    }
    if (changes.metadata !== undefined) {
      flags |= UPDATE_METADATA;
      metadata = packMap(op, 'metadata', changes.metadata) || EMPTY_MAP;
    }
    if (flags === 0) throw invalidArgument(op, 'nothing to update: give title and/or metadata');
    return {
      fn: native.update_session,
      args: [sessionId, byteLength(sessionId), title, title ? title.length : 0, metadata, metadata ? metadata.length : 0, flags],
      describe: () => `no session ${JSON.stringify(sessionId)}`,
    };
  }

  /** Replaces a session's title (null clears it) and/or metadata; rejects with LMS_NOT_FOUND. */
  updateSession(sessionId, changes) {
    return this._runAsync('updateSession', () => this._updateSession('updateSession', sessionId, changes));
  }

  updateSessionSync(sessionId, changes) {
    return this._runSync('updateSessionSync', this._updateSession('updateSessionSync', sessionId, changes));
  }

  _deleteSession(op, sessionId) {
    key(op, 'sessionId', sessionId);
    const out = Buffer.alloc(8);
    return {
      fn: native.delete_session,
      args: [sessionId, byteLength(sessionId), out],
      done: () => true,
      notFound: false,
    };
  }

  /** Deletes a session and all its messages; resolves to false if it did not exist. */
  deleteSession(sessionId) {
    return this._runAsync('deleteSession', () => this._deleteSession('deleteSession', sessionId));
  }

  deleteSessionSync(sessionId) {
    return this._runSync('deleteSessionSync', this._deleteSession('deleteSessionSync', sessionId));
  }

  /** One page of sessions, most recent activity first: `{sessions, cursor}`. */
  listSessions(options) {
    const op = 'listSessions';
    const db = this._handle(op);
    const o = options || {};
    const cursor = cursorBytes(op, o.cursor);
    const limit = limitOf(op, o.limit, DEFAULT_PAGE);
    const rc = native.list_sessions(db, cursor, cursor === null ? 0 : cursor.length, limit, PAGE);
    if (rc !== 0) throw lastError(op, rc);
    const page = takePage();
    return { sessions: unpack(page.data).map(sessionFromRecord), cursor: page.cursor };
  }

  /** Every session, most recent activity first, fetched `pageSize` at a time. */
  *iterateSessions(options) {
    const o = options || {};
    const pageSize = limitOf('iterateSessions', o.pageSize, DEFAULT_PAGE);
    let cursor = o.cursor;
    for (;;) {
      const page = this.listSessions({ cursor, limit: pageSize });
      yield* page.sessions;
      if (page.cursor === null) return;
      cursor = page.cursor;
    }
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Store.prototype[Symbol.dispose] = function dispose() {
    this.close();
  };
}

function packableMessage(op, m, i) {
  const at = (f) => `messages[${i}].${f}`;
  if (!m || typeof m !== 'object') throw invalidArgument(op, `messages[${i}] must be an object`);
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
    if (typeof md !== 'object' || Array.isArray(md) || md instanceof Uint8Array) {
      throw invalidArgument(op, `${at('metadata')} must be a plain object`);
    }
    o.metadata = md;
  }
  return o;
}

/**
 * Opens (creating if needed) the store in directory `path`.
 * @param {string} path
 * @param {object} [options] {mapSize, maxMapSize, maxReaders, readOnly, noSync, fileMode}
 */
function open(path, options) {
  const op = 'open';
  requireString(op, 'path', path);
  const o = options || {};
  const opts = defaultOptions();
  const num = (name, v) => {
    if (v === undefined || v === null) return undefined;
    if (!Number.isSafeInteger(v) || v < 0) throw invalidArgument(op, `${name} must be a non-negative integer`);
    return v;
  };
  opts.flags = (o.readOnly ? 1 : 0) | (o.noSync ? 2 : 0);
  opts.map_size = num('mapSize', o.mapSize) ?? opts.map_size;
  opts.max_map_size = num('maxMapSize', o.maxMapSize) ?? opts.max_map_size;
  opts.max_readers = num('maxReaders', o.maxReaders) ?? opts.max_readers;
  opts.file_mode = num('fileMode', o.fileMode) ?? opts.file_mode;
  const p = Buffer.from(path);
  const out = [null];
  const rc = native.open(p, p.length, opts, out);
  if (rc !== 0) throw lastError(op, rc);
  return new Store(out[0], path, !!o.readOnly);
}

module.exports = { Store, open };
