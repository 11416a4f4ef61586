'use strict';

// The write scheduler, modelled on lmdb-js. Every write of a store goes through its Writer:
//  - Writes issued in one event-loop turn are sent to the library as one lms_write_batch()
//    call: one transaction, one durable commit (group commit for free), in call order.
//  - A store has at most one batch on libuv's pool at a time, so one store never holds more
//    than one of its (4 by default) threads, however many writes are waiting: fs, dns and
//    crypto calls keep their threads. Writes issued while a batch runs form the next one.
//  - A synchronous write first takes everything queued into its own call, so it too commits
//    after the writes issued before it.
//  - Every result comes back with the call, the library's words included (lms_write_batch
//    returns them instead of leaving them in thread-local state), so nothing is re-run.
//
// A write is described once by the method, as
//   { op, args, done?, notFound?, hint? }
// op and args: the batch operation (see lms_write_batch in include/lmstore.h); done(value):
// what the call resolves to; notFound: the value for LMS_NOT_FOUND when that is not an error;
// hint(status): extra words for an error, or ''.

const { native, copyOut, C } = require('./ffi');
const { LmstoreError, STATUS } = require('./errors');
const { pack, unpack } = require('./codec');

// Queues above this many operations go in several calls.
const MAX_BATCH_OPS = C.LMS_MAX_BATCH_OPS;

/** The error an operation's result `[status, message, osCode]` describes. */
function resultError(name, r, w) {
  const status = r[0];
  const hint = w && w.hint ? w.hint(status) : '';
  const extra = { op: name };
  if (r[2]) extra.osCode = r[2];
  return new LmstoreError(status, `${name}: ${r[1] || native.strerror(status)}${hint ? ` (${hint})` : ''}`, extra);
}

/** Runs the batch `ops` (queued writes) synchronously or, with `cb`, on libuv's pool. */
function encode(items) {
  const ops = new Array(items.length);
  for (let i = 0; i < items.length; i++) ops[i] = items[i].w.args === undefined ? [items[i].w.op] : [items[i].w.op, ...items[i].w.args];
  return pack(ops);
}

/** Decodes what lms_write_batch left in `out` (ptr, len) and frees it. */
function takeResults(out) {
  const ptr = out.readBigUInt64LE(0);
  const len = Number(out.readBigUInt64LE(8));
  if (ptr === 0n) return null;
  try {
    return unpack(copyOut(ptr, len));
  } finally {
    native.bytes_free(ptr, len);
  }
}

function settle(item, r) {
  const { w, name } = item;
  if (r[0] === 0) return { ok: true, value: w.done ? w.done(r[1]) : undefined };
  if (r[0] === STATUS.LMS_NOT_FOUND && 'notFound' in w) return { ok: true, value: w.notFound };
  return { ok: false, error: resultError(name, r, w) };
}

class Writer {
  constructor(db) {
    this.db = db;
    this.queue = [];
    this.scheduled = false;
    this.busy = false;
    this.closing = false;
    // Jobs on worker threads (import.js) that use the handle outside the queue.
    this.holds = 0;
    // For tests: how many lms_write_batch calls went to the pool.
    this.batches = 0;
    // Queued writes so far and how many of them have their result, for calls outside the
    // queue that must start after the writes issued before them (drained()).
    this.issued = 0;
    this.settled = 0;
    this.waiters = [];
  }

  /** Queues `w` (already checked and encoded by the method) and resolves with its result. */
  enqueue(name, w) {
    return new Promise((resolve, reject) => {
      this.issued++;
      this.queue.push({ name, w, resolve, reject });
      if (!this.scheduled && !this.busy) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Takes the next batch (up to MAX_BATCH_OPS writes) off the queue, encoded; null when the
   * queue is empty. Writes that cannot be encoded fail, and the next batch is taken.
   */
  nextBatch() {
    while (this.queue.length > 0) {
      const items = this.queue.length <= MAX_BATCH_OPS ? this.queue : this.queue.slice(0, MAX_BATCH_OPS);
      this.queue = items === this.queue ? [] : this.queue.slice(MAX_BATCH_OPS);
      try {
        return { items, body: encode(items) };
      } catch (e) {
        this.fail(items, e);
      }
    }
    return null;
  }

  flush() {
    this.scheduled = false;
    const next = this.busy ? null : this.nextBatch();
    if (next === null) return this.maybeClose();
    const { items, body } = next;
    const out = Buffer.alloc(16);
    this.busy = true;
    this.batches++;
    const done = (err, rc) => {
      this.busy = false;
      let results = null;
      try {
        results = err ? null : takeResults(out);
      } catch (e) {
        err = e;
      }
      this.deliver(items, err, rc, results, true);
      this.flush();
    };
    try {
      native.write_batch.async(this.db, body, body.length, out.subarray(0, 8), out.subarray(8, 16), done);
    } catch (e) {
      done(e);
    }
  }

  /** Runs `w` now, after everything queued, on this thread; returns its value or throws. */
  runSync(name, w) {
    const items = this.queue;
    this.queue = [];
    const mine = { name, w, resolve: null, reject: null };
    items.push(mine);
    let body;
    try {
      body = encode(items);
    } catch (e) {
      // The queued writes fail with it rather than never settle.
      this.fail(items.slice(0, -1), e);
      throw e;
    }
    const out = Buffer.alloc(16);
    const rc = native.write_batch(this.db, body, body.length, out.subarray(0, 8), out.subarray(8, 16));
    const results = takeResults(out);
    return this.deliver(items, null, rc, results, false);
  }

  /**
   * Commits everything queued, on this thread: a synchronous call that does not go through
   * the queue (trainDictionarySync) runs after the Promise writes issued before it, as a
   * synchronous write does. A batch already on the pool is not waited for.
   */
  drainSync() {
    for (let next = this.nextBatch(); next !== null; next = this.nextBatch()) {
      const { items, body } = next;
      const out = Buffer.alloc(16);
      const rc = native.write_batch(this.db, body, body.length, out.subarray(0, 8), out.subarray(8, 16));
      let results = null;
      let err = null;
      try {
        results = takeResults(out);
      } catch (e) {
        err = e;
      }
      this.deliver(items, err, rc, results, true);
    }
  }

  /**
   * A Promise that resolves (never rejects) once every write queued so far has its result:
   * a Promise call that does not go through the queue (trainDictionary) starts after it.
   */
  drained() {
    if (this.settled === this.issued) return Promise.resolve();
    const target = this.issued;
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }

  /** Rejects queued items that could not be sent. */
  fail(items, e) {
    for (const it of items) it.reject(e);
    this.settled += items.length;
    this.wake();
  }

  wake() {
    if (this.waiters.length === 0) return;
    const still = [];
    for (const w of this.waiters) {
      if (this.settled >= w.target) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Hands each item its result; returns (or throws) the result of a synchronous caller's own item. */
  deliver(items, err, rc, results, async) {
    let own;
    let queued = 0;
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      let s;
      if (err) s = { ok: false, error: err };
      else if (rc !== 0) s = { ok: false, error: resultError(it.name, results || [rc, '', 0]) };
      else {
        try {
          s = settle(it, results[i]);
        } catch (e) {
          s = { ok: false, error: e };
        }
      }
      if (it.resolve === null) own = s;
      else {
        queued++;
        if (s.ok) it.resolve(s.value);
        else it.reject(s.error);
      }
    }
    if (queued > 0) {
      this.settled += queued;
      this.wake();
    }
    if (!async && own !== undefined) {
      if (!own.ok) throw own.error;
      return own.value;
    }
    return undefined;
  }

  /** Keeps the handle open until the returned function is called (once). */
  hold() {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.maybeClose();
    };
  }

  /** Closes the handle once nothing is queued or running (close() may come with writes pending). */
  close() {
    this.closing = true;
    this.maybeClose();
  }

  maybeClose() {
    if (this.closing && !this.busy && !this.scheduled && this.queue.length === 0 && this.holds === 0 && this.db !== null) {
      native.close(this.db);
      this.db = null;
    }
  }
}

module.exports = { Writer };
