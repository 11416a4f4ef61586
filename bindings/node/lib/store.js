'use strict';

// The public Store methods and open(). Argument checks live in args.js, the C call plumbing
// in call.js, and the write scheduler that runs every write in writer.js. A write method only
// checks its arguments and describes its batch operation; writer.js runs it.

const { native, defaultOptions, C } = require('./ffi');
const { closedError, invalidArgument, STATUS } = require('./errors');
const codec = require('./codec');
const { decodeMessages, decodeMessage, decodeTemplate } = require('./decode');
const {
  OUT_LEN, RANGE, INFO, lastError, outLen, infoLen, infoCursor, ReadBuffer,
} = require('./call');
const { Writer } = require('./writer');
const {
  options, cursorBytes, countOf, limitOf, key, packableMessage,
} = require('./args');

const {
  pack, unpack, packMap, uuidBytes, uuidString, micros, typeName, checkPackable,
  requireString, optionalString,
  templateFromRecord, messageFromRecord, sessionFromRecord,
} = codec;

const byteLength = Buffer.byteLength;

const RANGE_REVERSE = C.LMS_RANGE_REVERSE;
const RANGE_START = C.LMS_RANGE_START;
const RANGE_END = C.LMS_RANGE_END;
const UPDATE_CONTENT = C.LMS_UPDATE_CONTENT;
const UPDATE_METADATA = C.LMS_UPDATE_METADATA;
const UPDATE_TITLE = C.LMS_UPDATE_TITLE;
const PUT_OUTCOMES = [];
PUT_OUTCOMES[C.LMS_PUT_CREATED] = 'created';
PUT_OUTCOMES[C.LMS_PUT_UNCHANGED] = 'unchanged';
PUT_OUTCOMES[C.LMS_PUT_REPLACED] = 'replaced';
const DEFAULT_PAGE = 100;
const EMPTY_MAP = Buffer.from([0x80]);

const RANGE_OPTIONS = ['start', 'end', 'reverse', 'limit', 'cursor'];
const ITERATE_OPTIONS = ['start', 'end', 'reverse', 'limit', 'cursor', 'pageSize'];

const slowMessage = (data, len) => messageFromRecord(unpack(data, len));
const slowMessages = (data, len) => unpack(data, len).map(messageFromRecord);
const slowTemplate = (data, len) => templateFromRecord(unpack(data, len));

const appendResults = (list) => list.map((r) => ({ id: uuidString(r[0]), ts: r[1], duplicate: r[2] }));
const yes = () => true;
const count = (n) => n;

/**
 * An open store. Obtain one with `open()`; release it with `close()`.
 */
class Store {
  constructor(db, path, readOnly) {
    this._db = db;
    this._read = new ReadBuffer();
    this._writer = new Writer(db);
    // Bytes per message of the pages read so far, to size the buffer of a page before reading
    // it (a page that does not fit would be read twice).
    this._recordSize = 1024;
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
   * Closes the store. Idempotent. Writes already issued (pending Promises) still complete;
   * the native handle is released after the last of them. Every later call throws an
   * LmstoreError with code 'LMS_CLOSED'.
   */
  close() {
    if (this._db === null) return;
    this._db = null;
    this._read = null;
    this._writer.close();
  }

  // ---- the two ways a write runs (both through the store's write queue, in call order) ----

  _runSync(op, w) {
    this._handle(op);
    return this._writer.runSync(op, w);
  }

  _runAsync(op, prepare) {
    let w;
    try {
      this._handle(op);
      w = prepare();
    } catch (e) {
      return Promise.reject(e);
    }
    return this._writer.enqueue(op, w);
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

  /** Flushes committed writes to disk (only needed with `noSync`). */
  flush() {
    return this._runAsync('flush', () => ({ op: 'sync' }));
  }

  flushSync() {
    return this._runSync('flushSync', { op: 'sync' });
  }

  _backup(op, path, opts) {
    requireString(op, 'path', path);
    const o = options(op, opts, ['compact']);
    return { op: 'backup', args: [path, !!o.compact] };
  }

  /** Writes a consistent copy into an empty (or new) directory while work goes on. */
  backup(path, opts) {
    return this._runAsync('backup', () => this._backup('backup', path, opts));
  }

  backupSync(path, opts) {
    return this._runSync('backupSync', this._backup('backupSync', path, opts));
  }

  // ---- templates: reads ----

  /**
   * The latest version of template `id`, the version `version` names (a string, or
   * `{version}`), or the one `{alias}` points at; `undefined` when the id, version or alias
   * does not exist.
   */
  getTemplate(id, version) {
    const op = 'getTemplate';
    const db = this._handle(op);
    requireString(op, 'id', id);
    let sel = null;
    let byAlias = false;
    if (typeof version === 'string') sel = version;
    else if (version !== undefined && version !== null) {
      const o = options(op, version, ['version', 'alias']);
      if (o.version !== undefined && o.alias !== undefined) throw invalidArgument(op, 'give a version or an alias, not both');
      if (o.version !== undefined) sel = requireString(op, 'version', o.version);
      else if (o.alias !== undefined) {
        sel = requireString(op, 'alias', o.alias);
        byAlias = true;
      }
    }
    if (sel === '') throw invalidArgument(op, `${byAlias ? 'alias' : 'version'} must not be empty`);
    const idLen = byteLength(id);
    const selLen = sel === null ? 0 : byteLength(sel);
    if (byAlias) {
      const rc = this._read.read(native.get_template_by_alias_into, db, [id, idLen, sel, selLen]);
      if (rc !== 0) {
        if (rc === STATUS.LMS_NOT_FOUND) return undefined;
        throw lastError(op, rc);
      }
      return decodeTemplate(this._read.last, outLen(), slowTemplate);
    }
    // Latest or exact version: one crossing into the store's buffer.
    let buf = this._read.buf;
    let rc = native.get_template_into(db, id, idLen, sel, selLen, buf, buf.length, OUT_LEN);
    while (rc === STATUS.LMS_BUFFER_TOO_SMALL) {
      // The record may have been replaced by a larger one in between: hence a loop.
      buf = this._read.atLeast(outLen());
      rc = native.get_template_into(db, id, idLen, sel, selLen, buf, buf.length, OUT_LEN);
    }
    if (rc !== 0) {
      if (rc === STATUS.LMS_NOT_FOUND) return undefined;
      throw lastError(op, rc);
    }
    return decodeTemplate(buf, outLen(), slowTemplate);
  }

  /**
   * One page of template ids in byte order: `{ids, cursor}`; pass `cursor` as `after` for the
   * next page (it is null on the last page).
   */
  listTemplates(opts) {
    const op = 'listTemplates';
    const db = this._handle(op);
    const o = options(op, opts, ['prefix', 'after', 'limit']);
    const prefix = optionalString(op, 'prefix', o.prefix);
    const after = optionalString(op, 'after', o.after);
    const limit = limitOf(op, o.limit, DEFAULT_PAGE);
    const rc = this._read.read(native.list_templates_into, db, [
      prefix === undefined ? null : prefix, prefix === undefined ? 0 : byteLength(prefix),
      after === undefined ? null : after, after === undefined ? 0 : byteLength(after), limit,
    ]);
    if (rc !== 0) throw lastError(op, rc);
    const ids = unpack(this._read.last, outLen());
    return { ids, cursor: ids.length === limit ? ids[ids.length - 1] : null };
  }

  /** Template ids (optionally under `prefix`), at most `limit` of them, paging underneath. */
  *iterateTemplateIds(opts) {
    const op = 'iterateTemplateIds';
    this._handle(op);
    const o = options(op, opts, ['prefix', 'after', 'limit', 'pageSize']);
    let after = o.after;
    const pageSize = countOf(op, 'pageSize', o.pageSize, 1000);
    let remaining = countOf(op, 'limit', o.limit, Infinity);
    while (remaining > 0) {
      const { ids, cursor } = this.listTemplates({ prefix: o.prefix, after, limit: Math.min(pageSize, remaining) });
      yield* ids;
      remaining -= ids.length;
      if (cursor === null) return;
      after = cursor;
    }
  }

  /** The versions of `id`, oldest first: `[{version, createdAt}]`; `[]` for an unknown id. */
  listTemplateVersions(id) {
    const op = 'listTemplateVersions';
    const db = this._handle(op);
    key(op, 'id', id);
    const rc = this._read.read(native.list_template_versions_into, db, [id, byteLength(id)]);
    if (rc !== 0) {
      if (rc === STATUS.LMS_NOT_FOUND) return [];
      throw lastError(op, rc);
    }
    return unpack(this._read.last, outLen()).map((v) => ({ version: v.version, createdAt: v.created_at }));
  }

  /** The aliases of `id` as `{alias: version}`; `{}` for an unknown id. */
  listTemplateAliases(id) {
    const op = 'listTemplateAliases';
    const db = this._handle(op);
    key(op, 'id', id);
    const rc = this._read.read(native.list_template_aliases_into, db, [id, byteLength(id)]);
    if (rc !== 0) {
      if (rc === STATUS.LMS_NOT_FOUND) return {};
      throw lastError(op, rc);
    }
    return unpack(this._read.last, outLen());
  }

  // ---- templates: writes ----

  _putTemplate(op, spec, opts) {
    if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw invalidArgument(op, `the template spec must be an object, got ${typeName(spec)}`);
    const o = options(op, opts, ['replace']);
    // A record read back with getTemplate() can be put again: createdAt is the store's.
    // Other unknown fields go through so the library names them in its error.
    const { createdAt, ...rest } = spec;
    checkPackable(op, 'the template spec', rest);
    return {
      op: 'put_template',
      args: [pack(rest), !!o.replace],
      done: (v) => PUT_OUTCOMES[v],
      hint: (rc) => (rc === STATUS.LMS_CONFLICT ? 'pass {replace: true} to replace it' : ''),
    };
  }

  /** Stores one template version; resolves to 'created', 'unchanged' or 'replaced'. */
  putTemplate(spec, opts) {
    return this._runAsync('putTemplate', () => this._putTemplate('putTemplate', spec, opts));
  }

  putTemplateSync(spec, opts) {
    return this._runSync('putTemplateSync', this._putTemplate('putTemplateSync', spec, opts));
  }

  _deleteTemplate(op, id, version) {
    key(op, 'id', id);
    let v = version;
    if (v !== undefined && v !== null && typeof v !== 'string') v = options(op, v, ['version']).version;
    v = optionalString(op, 'version', v);
    if (v === '') throw invalidArgument(op, 'version must not be empty');
    return { op: 'delete_template', args: [id, v === undefined ? null : v], done: yes, notFound: false };
  }

  /** Deletes one version (a string or `{version}`) or the whole id; resolves to false if absent. */
  deleteTemplate(id, version) {
    return this._runAsync('deleteTemplate', () => this._deleteTemplate('deleteTemplate', id, version));
  }

  deleteTemplateSync(id, version) {
    return this._runSync('deleteTemplateSync', this._deleteTemplate('deleteTemplateSync', id, version));
  }

  _setTemplateAlias(op, id, alias, version) {
    key(op, 'id', id);
    key(op, 'alias', alias);
    key(op, 'version', version);
    return { op: 'set_template_alias', args: [id, alias, version] };
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
    return { op: 'delete_template_alias', args: [id, alias], done: yes, notFound: false };
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
    if (!Array.isArray(messages)) throw invalidArgument(op, `messages must be an array, got ${typeName(messages)}`);
    const batch = new Array(messages.length);
    for (let i = 0; i < messages.length; i++) batch[i] = packableMessage(op, messages[i], i);
    return { op: 'append', args: [pack(batch)], done: appendResults };
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
    if (!changes || typeof changes !== 'object') throw invalidArgument(op, `changes must be an object {content?, metadata?}, got ${typeName(changes)}`);
    const c = options(op, changes, ['content', 'metadata']);
    let flags = 0;
    let content = null;
    let metadata = null;
    if (c.content !== undefined) {
      content = requireString(op, 'content', c.content);
      flags |= UPDATE_CONTENT;
    }
    if (c.metadata !== undefined) {
      metadata = packMap(op, 'metadata', c.metadata) || EMPTY_MAP;
      flags |= UPDATE_METADATA;
    }
    if (flags === 0) throw invalidArgument(op, 'nothing to update: give content and/or metadata');
    return { op: 'update_message', args: [idb, content, metadata, flags] };
  }

  /** Replaces a message's content and/or metadata in place; rejects with LMS_NOT_FOUND. */
  updateMessage(id, changes) {
    return this._runAsync('updateMessage', () => this._updateMessage('updateMessage', id, changes));
  }

  updateMessageSync(id, changes) {
    return this._runSync('updateMessageSync', this._updateMessage('updateMessageSync', id, changes));
  }

  _deleteMessage(op, id) {
    return { op: 'delete_message', args: [uuidBytes(op, 'id', id)], done: yes, notFound: false };
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
    if (before) {
      // msgpackr writes integers beyond 32 bits as floats unless they are bigints.
      return { op: 'trim_session_before', args: [sessionId, BigInt(micros(op, 'before', keep))], done: count };
    }
    if (typeof keep !== 'number') throw invalidArgument(op, `keep must be a number, got ${typeName(keep)}`);
    if (!Number.isSafeInteger(keep) || keep < 0) throw invalidArgument(op, `keep must be a non-negative integer, got ${keep}`);
    return { op: 'trim_session', args: [sessionId, BigInt(keep)], done: count };
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
    const rc = this._read.read(native.get_message_into, db, [idb, 16]);
    if (rc !== 0) {
      if (rc === STATUS.LMS_NOT_FOUND) return undefined;
      throw lastError(op, rc);
    }
    return decodeMessage(this._read.last, outLen(), slowMessage);
  }

  /** Checks `o` (the options of a range read) and fills RANGE (clear RANGE.cursor after the call). */
  _rangeArgs(op, o) {
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

  /**
   * One page of a session's messages, oldest first (or newest first with `reverse`), and the
   * cursor of the next page (null on the last). "The latest 50" is `{reverse: true, limit: 50}`.
   */
  rangeMessages(sessionId, opts) {
    return this._page('rangeMessages', native.range_messages_into, 'sessionId', sessionId, opts);
  }

  /** Like rangeMessages() over one agent's messages across all sessions. */
  rangeAgentMessages(agentId, opts) {
    return this._page('rangeAgentMessages', native.range_agent_messages_into, 'agentId', agentId, opts);
  }

  _page(op, fn, what, name, opts) {
    const db = this._handle(op);
    key(op, what, name);
    this._rangeArgs(op, options(op, opts, RANGE_OPTIONS));
    const nameLen = byteLength(name);
    // The buffer is sized from the bytes per message seen so far, so that a large page is read
    // in one pass: a page that does not fit would run the range again. Above the size the
    // store keeps, a buffer of its own is made for this one page, generously (at least 4 KiB
    // a message): only the pages of it the library writes become resident.
    const expected = Math.ceil(RANGE.limit * this._recordSize * 1.25);
    let buf = this._read.buf;
    if (expected > buf.length) {
      buf = expected <= this._read.keepMax
        ? this._read.atLeast(expected)
        : Buffer.allocUnsafeSlow(RANGE.limit * Math.max(2 * this._recordSize, 4096));
    }
    let rc;
    try {
      rc = fn(db, name, nameLen, RANGE, buf, buf.length, INFO);
      while (rc === STATUS.LMS_BUFFER_TOO_SMALL) {
        // Larger records than the pages so far: learn from it (a second pass, kept rare).
        this._learn(infoLen(), RANGE.limit);
        buf = this._read.atLeast(infoLen());
        rc = fn(db, name, nameLen, RANGE, buf, buf.length, INFO);
      }
    } finally {
      RANGE.cursor = null;
    }
    if (rc !== 0) throw lastError(op, rc);
    const len = infoLen();
    const messages = decodeMessages(buf, len, slowMessages);
    this._learn(len, messages.length);
    return { messages, cursor: infoCursor() };
  }

  /** Keeps the estimate of bytes per message of this store's pages (the largest seen lately). */
  _learn(bytes, n) {
    if (n > 0) this._recordSize = Math.max(Math.ceil(bytes / n), (this._recordSize * 7) >> 3, 64);
  }

  /** A session's messages in the range, at most `limit`, fetched `pageSize` at a time. */
  *iterateMessages(sessionId, opts) {
    yield* this._iterate('iterateMessages', (o) => this.rangeMessages(sessionId, o), opts);
  }

  /** An agent's messages in the range, at most `limit`, fetched `pageSize` at a time. */
  *iterateAgentMessages(agentId, opts) {
    yield* this._iterate('iterateAgentMessages', (o) => this.rangeAgentMessages(agentId, o), opts);
  }

  *_iterate(op, range, opts) {
    this._handle(op);
    const o = { ...options(op, opts, ITERATE_OPTIONS) };
    const pageSize = countOf(op, 'pageSize', o.pageSize, DEFAULT_PAGE);
    let remaining = countOf(op, 'limit', o.limit, Infinity);
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

  _createSession(op, sessionId, opts) {
    key(op, 'sessionId', sessionId);
    const o = options(op, opts, ['title', 'metadata']);
    const title = o.title === undefined || o.title === null ? null : requireString(op, 'title', o.title);
    return { op: 'create_session', args: [sessionId, title, packMap(op, 'metadata', o.metadata)] };
  }

  /** Creates a session explicitly; rejects with LMS_CONFLICT if it exists. */
  createSession(sessionId, opts) {
    return this._runAsync('createSession', () => this._createSession('createSession', sessionId, opts));
  }

  createSessionSync(sessionId, opts) {
    return this._runSync('createSessionSync', this._createSession('createSessionSync', sessionId, opts));
  }

  /** A session, or `undefined`. */
  getSession(sessionId) {
    const op = 'getSession';
    const db = this._handle(op);
    key(op, 'sessionId', sessionId);
    const rc = this._read.read(native.get_session_into, db, [sessionId, byteLength(sessionId)]);
    if (rc !== 0) {
      if (rc === STATUS.LMS_NOT_FOUND) return undefined;
      throw lastError(op, rc);
    }
    return sessionFromRecord(unpack(this._read.last, outLen()));
  }

  _updateSession(op, sessionId, changes) {
    key(op, 'sessionId', sessionId);
    if (!changes || typeof changes !== 'object') throw invalidArgument(op, `changes must be an object {title?, metadata?}, got ${typeName(changes)}`);
    const c = options(op, changes, ['title', 'metadata']);
    let flags = 0;
    let title = null;
    let metadata = null;
    if (c.title !== undefined) {
      flags |= UPDATE_TITLE;
      title = c.title === null ? null : requireString(op, 'title', c.title);
    }
    if (c.metadata !== undefined) {
      flags |= UPDATE_METADATA;
      metadata = packMap(op, 'metadata', c.metadata) || EMPTY_MAP;
    }
    if (flags === 0) throw invalidArgument(op, 'nothing to update: give title and/or metadata');
    return { op: 'update_session', args: [sessionId, title, metadata, flags] };
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
    return { op: 'delete_session', args: [sessionId], done: yes, notFound: false };
  }

  /** Deletes a session and all its messages; resolves to false if it did not exist. */
  deleteSession(sessionId) {
    return this._runAsync('deleteSession', () => this._deleteSession('deleteSession', sessionId));
  }

  deleteSessionSync(sessionId) {
    return this._runSync('deleteSessionSync', this._deleteSession('deleteSessionSync', sessionId));
  }

  /** One page of sessions, most recent activity first: `{sessions, cursor}`. */
  listSessions(opts) {
    const op = 'listSessions';
    const db = this._handle(op);
    const o = options(op, opts, ['cursor', 'limit']);
    const cursor = cursorBytes(op, o.cursor);
    const limit = limitOf(op, o.limit, DEFAULT_PAGE);
    const cursorLen = cursor === null ? 0 : cursor.length;
    let buf = this._read.buf;
    let rc = native.list_sessions_into(db, cursor, cursorLen, limit, buf, buf.length, INFO);
    while (rc === STATUS.LMS_BUFFER_TOO_SMALL) {
      buf = this._read.atLeast(infoLen());
      rc = native.list_sessions_into(db, cursor, cursorLen, limit, buf, buf.length, INFO);
    }
    if (rc !== 0) throw lastError(op, rc);
    return { sessions: unpack(buf, infoLen()).map(sessionFromRecord), cursor: infoCursor() };
  }

  /** Sessions, most recent activity first, at most `limit`, fetched `pageSize` at a time. */
  *iterateSessions(opts) {
    const op = 'iterateSessions';
    this._handle(op);
    const o = options(op, opts, ['cursor', 'limit', 'pageSize']);
    const pageSize = countOf(op, 'pageSize', o.pageSize, DEFAULT_PAGE);
    let remaining = countOf(op, 'limit', o.limit, Infinity);
    let cursor = o.cursor;
    while (remaining > 0) {
      const page = this.listSessions({ cursor, limit: Math.min(pageSize, remaining) });
      yield* page.sessions;
      remaining -= page.sessions.length;
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

const OPEN_OPTIONS = ['mapSize', 'maxMapSize', 'maxReaders', 'readOnly', 'noSync', 'fileMode', 'verify',
  'createParents', 'renderCacheSize', 'poolSize', 'connectTimeoutMs'];
const U32_MAX = 0xffffffff;

/**
 * Opens (creating if needed) the store in directory `path`, or a `postgres://` URL.
 * @param {string} path
 * @param {object} [opts] {mapSize, maxMapSize, maxReaders, readOnly, noSync, fileMode, verify,
 *   createParents, renderCacheSize, poolSize, connectTimeoutMs}
 */
function open(path, opts) {
  const op = 'open';
  requireString(op, 'path', path);
  const o = options(op, opts, OPEN_OPTIONS);
  const native_ = defaultOptions();
  const num = (name, v) => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number') throw invalidArgument(op, `${name} must be a number, got ${typeName(v)}`);
    if (!Number.isSafeInteger(v) || v < 0) throw invalidArgument(op, `${name} must be a non-negative integer, got ${v}`);
    return v;
  };
  const u32 = (name, v) => {
    const n = num(name, v);
    if (n !== undefined && n > U32_MAX) throw invalidArgument(op, `${name} must be at most ${U32_MAX}, got ${n}`);
    return n;
  };
  native_.flags = (o.readOnly ? C.LMS_OPEN_READ_ONLY : 0) | (o.noSync ? C.LMS_OPEN_NO_SYNC : 0)
    | (o.verify ? C.LMS_OPEN_VERIFY : 0) | (o.createParents ? C.LMS_OPEN_CREATE_PARENTS : 0);
  native_.map_size = num('mapSize', o.mapSize) ?? native_.map_size;
  native_.max_map_size = num('maxMapSize', o.maxMapSize) ?? native_.max_map_size;
  native_.max_readers = u32('maxReaders', o.maxReaders) ?? native_.max_readers;
  native_.file_mode = u32('fileMode', o.fileMode) ?? native_.file_mode;
  native_.render_cache_size = u32('renderCacheSize', o.renderCacheSize) ?? native_.render_cache_size;
  native_.pool_size = u32('poolSize', o.poolSize) ?? native_.pool_size;
  native_.connect_timeout_ms = u32('connectTimeoutMs', o.connectTimeoutMs) ?? native_.connect_timeout_ms;
  const p = Buffer.from(path);
  const out = [null];
  const rc = native.open(p, p.length, native_, out);
  if (rc !== 0) throw lastError(op, rc);
  return new Store(out[0], path, !!o.readOnly);
}

module.exports = { Store, open };
