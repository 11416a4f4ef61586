'use strict';

// Import, verification and export of YAML prompt folders, and migration of the two LMDB
// layouts lmstore replaces (docs/import.md, docs/migration.md). These are long bulk jobs, so
// each comes twice: a `...Sync` method that runs on this thread, and a Promise method that runs
// the same job (runJob below) on a worker thread, so the event loop goes on meanwhile and the
// library's thread-local error words are read on the thread that made the call. The store's
// handle stays open until the job ends, even if close() comes first. Added to the Store class
// by installImport().

const path = require('path');
const { Worker } = require('worker_threads');
const { koffi, libraryPath, copyOut, native } = require('./ffi');
const { LmstoreError, invalidArgument, STATUS } = require('./errors');
const { unpack, requireString } = require('./codec');

const lib = koffi.load(libraryPath);
// The handle crosses to worker threads as its address, so the functions take it as one.
const progressProto = koffi.proto('void lms_progress_fn(void *ctx, uint64_t done, uint64_t known)');
const fn = {
  importFolder: lib.func('int lms_import_folder(uintptr_t db, const uint8_t *path, size_t path_len, uint32_t flags, lms_progress_fn *progress, void *ctx, void *out, void *out_len)'),
  verifyImport: lib.func('int lms_verify_import(uintptr_t db, const uint8_t *path, size_t path_len, void *out, void *out_len)'),
  exportFolder: lib.func('int lms_export_folder(uintptr_t db, const uint8_t *path, size_t path_len, void *out, void *out_len)'),
  migrate: lib.func('int lms_migrate(uintptr_t db, uint32_t kind, const uint8_t *source, size_t source_len, const uint8_t *side_file, size_t side_file_len, lms_progress_fn *progress, void *ctx, void *out, void *out_len)'),
};

const IMPORT_DRY_RUN = 1;
const IMPORT_ATOMIC = 2;
const IMPORT_REPLACE = 4;
const MIGRATE_KINDS = { promptlightning: 1, 'tkr-agent-chat': 2 };

const OUT = Buffer.alloc(16);

function call(op, run) {
  OUT.fill(0);
  const rc = run(OUT.subarray(0, 8), OUT.subarray(8, 16));
  if (rc !== 0) {
    const message = native.last_error() || native.strerror(rc);
    throw new LmstoreError(rc, message, { op, osCode: native.last_error_os_code() });
  }
  const ptr = OUT.readBigUInt64LE(0);
  const len = Number(OUT.readBigUInt64LE(8));
  try {
    return unpack(copyOut(ptr, len), len);
  } finally {
    native.bytes_free(ptr, len);
  }
}

function progressOf(op, progress) {
  if (progress === undefined || progress === null) return null;
  if (typeof progress !== 'function') throw invalidArgument(op, 'progress must be a function');
  return progress;
}

function pathArg(op, name, value) {
  return requireString(op, name, value);
}

function camel(o) {
  if (Array.isArray(o)) return o.map(camel);
  if (o === null || typeof o !== 'object' || Buffer.isBuffer(o)) return o;
  const out = {};
  for (const [k, v] of Object.entries(o)) {
    // side_records keys are database names: keep them as they are.
    out[k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())] = k === 'side_records' ? v : camel(v);
  }
  return out;
}

/**
 * Runs one job on the calling thread: `job` is plain data (it crosses to a worker as is),
 * `progress(done, known)` or null. Returns the report; throws LmstoreError.
 */
function runJob(db, job, progress) {
  const cb = progress ? (_ctx, done, known) => progress(Number(done), Number(known)) : null;
  const p = job.path === undefined ? null : Buffer.from(job.path);
  switch (job.kind) {
    case 'import':
      return camel(call(job.op, (out, outLen) => fn.importFolder(db, p, p.length, job.flags, cb, null, out, outLen)));
    case 'verify':
      return camel(call(job.op, (out, outLen) => fn.verifyImport(db, p, p.length, out, outLen)));
    case 'export':
      return camel(call(job.op, (out, outLen) => fn.exportFolder(db, p, p.length, out, outLen)));
    case 'migrate': {
      const f = Buffer.from(job.sideFile);
      return camel(call(job.op, (out, outLen) => fn.migrate(db, job.migrateKind, p, p.length, f, f.length, cb, null, out, outLen)));
    }
    case 'train_dictionary':
      // Required here, not at the top: lib/dictionary.js requires this module.
      return require('./dictionary').runTrain(db, job);
    default:
      throw invalidArgument(job.op, `unknown job ${job.kind}`);
  }
}

/** The job of each method, checked and in plain data; throws on bad arguments. */
const jobs = {
  importFolder(op, dir, options = {}) {
    let flags = 0;
    if (options.dryRun) flags |= IMPORT_DRY_RUN;
    if (options.atomic) flags |= IMPORT_ATOMIC;
    if (options.replace) flags |= IMPORT_REPLACE;
    return { job: { op, kind: 'import', path: pathArg(op, 'dir', dir), flags }, progress: progressOf(op, options.progress) };
  },
  verifyImport(op, dir) {
    return { job: { op, kind: 'verify', path: pathArg(op, 'dir', dir) }, progress: null };
  },
  exportFolder(op, dir) {
    return { job: { op, kind: 'export', path: pathArg(op, 'dir', dir) }, progress: null };
  },
  migrate(op, kind, source, sideFile, options = {}) {
    const k = MIGRATE_KINDS[kind];
    if (k === undefined) throw invalidArgument(op, `kind must be 'promptlightning' or 'tkr-agent-chat', got ${String(kind)}`);
    return {
      job: { op, kind: 'migrate', migrateKind: k, path: pathArg(op, 'source', source), sideFile: pathArg(op, 'sideFile', sideFile) },
      progress: progressOf(op, options.progress),
    };
  },
};

const WORKER = path.join(__dirname, 'import-worker.js');

/**
 * Runs `job` on a worker thread; the store's handle is held open until it ends. With `after`
 * (a Promise that never rejects), the worker starts once it resolves: the handle is held from
 * this call on, so a close() in between still waits for the job.
 */
function runInWorker(store, job, progress, after) {
  const db = store._handle(job.op);
  const release = store._writer.hold();
  const run = () => new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fnc, value) => {
      if (settled) return;
      settled = true;
      release();
      fnc(value);
    };
    let worker;
    try {
      worker = new Worker(WORKER, { workerData: { db: koffi.address(db), job, libraryPath } });
    } catch (e) {
      finish(reject, e);
      return;
    }
    worker.on('message', (m) => {
      if (m.progress) {
        if (progress) progress(m.progress[0], m.progress[1]);
      } else if (m.error) {
        finish(reject, new LmstoreError(m.error.status, m.error.message, { op: job.op, osCode: m.error.osCode }));
      } else {
        finish(resolve, m.report);
      }
    });
    worker.on('error', (e) => finish(reject, e));
    worker.on('exit', (code) => finish(reject, new LmstoreError(STATUS.LMS_INTERNAL, `${job.op}: the worker thread exited (${code}) without a result`, { op: job.op })));
  });
  return after ? after.then(run) : run();
}

const methods = {};
const docs = {
  importFolder: 'every .yaml/.yml file under dir, read as PyYAML safe_load reads them; a report with an outcome per file',
  verifyImport: 're-reads dir and compares it with the store',
  exportFolder: 'every template version to dir (new or empty) as YAML files',
  migrate: "the LMDB store of another system ('promptlightning' or 'tkr-agent-chat'), never writing it",
};
for (const name of Object.keys(docs)) {
  methods[`${name}Sync`] = function sync(...args) {
    const op = `${name}Sync`;
    const db = this._handle(op);
    const { job, progress } = jobs[name](op, ...args);
    return runJob(koffi.address(db), job, progress);
  };
  methods[name] = function async(...args) {
    let prepared;
    try {
      prepared = jobs[name](name, ...args);
      return runInWorker(this, prepared.job, prepared.progress);
    } catch (e) {
      return Promise.reject(e);
    }
  };
}

/** Adds the methods above to the Store class. */
function installImport(Store) {
  Object.assign(Store.prototype, methods);
}

module.exports = { installImport, runJob, runInWorker };
