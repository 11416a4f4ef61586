'use strict';

// Import, verification and export of YAML prompt folders, and migration of the two LMDB
// layouts lmstore replaces (docs/import.md, docs/migration.md). These are long bulk jobs with
// a progress callback, so they are synchronous methods: the callback runs on this thread, and
// the thread-local error message is read right after the call that failed. Added to the Store
// class by installImport().

const { koffi, libraryPath, copyOut, native } = require('./ffi');
const { LmstoreError, invalidArgument } = require('./errors');
const { unpack, requireString } = require('./codec');

const lib = koffi.load(libraryPath);
const progressProto = koffi.proto('void lms_progress_fn(void *ctx, uint64_t done, uint64_t known)');
const fn = {
  importFolder: lib.func('int lms_import_folder(lms_db *db, const uint8_t *path, size_t path_len, uint32_t flags, lms_progress_fn *progress, void *ctx, void *out, void *out_len)'),
  verifyImport: lib.func('int lms_verify_import(lms_db *db, const uint8_t *path, size_t path_len, void *out, void *out_len)'),
  exportFolder: lib.func('int lms_export_folder(lms_db *db, const uint8_t *path, size_t path_len, void *out, void *out_len)'),
  migrate: lib.func('int lms_migrate(lms_db *db, uint32_t kind, const uint8_t *source, size_t source_len, const uint8_t *side_file, size_t side_file_len, lms_progress_fn *progress, void *ctx, void *out, void *out_len)'),
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
  // uint64 arrives as a Number (or BigInt past 2^53); counts here stay far below that.
  return (_ctx, done, known) => progress(Number(done), Number(known));
}

function path(op, name, value) {
  return Buffer.from(requireString(op, name, value));
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

const methods = {
  /**
   * Imports every .yaml/.yml file under `dir` (recursively), read as PyYAML's safe_load reads
   * them; returns a report with an outcome for every file.
   */
  importFolderSync(dir, options = {}) {
    const op = 'importFolderSync';
    const db = this._handle(op);
    const p = path(op, 'dir', dir);
    let flags = 0;
    if (options.dryRun) flags |= IMPORT_DRY_RUN;
    if (options.atomic) flags |= IMPORT_ATOMIC;
    if (options.replace) flags |= IMPORT_REPLACE;
    const cb = progressOf(op, options.progress);
    return camel(call(op, (out, outLen) => fn.importFolder(db, p, p.length, flags, cb, null, out, outLen)));
  },

  /** Re-reads `dir` and compares it with the store. */
  verifyImportSync(dir) {
    const op = 'verifyImportSync';
    const db = this._handle(op);
    const p = path(op, 'dir', dir);
    return camel(call(op, (out, outLen) => fn.verifyImport(db, p, p.length, out, outLen)));
  },

  /** Writes every template version to `dir` (new or empty) as YAML files. */
  exportFolderSync(dir) {
    const op = 'exportFolderSync';
    const db = this._handle(op);
    const p = path(op, 'dir', dir);
    return camel(call(op, (out, outLen) => fn.exportFolder(db, p, p.length, out, outLen)));
  },

  /**
   * Migrates the LMDB store of another system (`kind`: 'promptlightning' or
   * 'tkr-agent-chat') at `source`, never writing it; what lmstore does not model goes to
   * `sideFile` as JSON Lines.
   */
  migrateSync(kind, source, sideFile, options = {}) {
    const op = 'migrateSync';
    const db = this._handle(op);
    const k = MIGRATE_KINDS[kind];
    if (k === undefined) throw invalidArgument(op, `kind must be 'promptlightning' or 'tkr-agent-chat', got ${String(kind)}`);
    const s = path(op, 'source', source);
    const f = path(op, 'sideFile', sideFile);
    const cb = progressOf(op, options.progress);
    return camel(call(op, (out, outLen) => fn.migrate(db, k, s, s.length, f, f.length, cb, null, out, outLen)));
  },
};

/** Adds the methods above to the Store class. */
function installImport(Store) {
  Object.assign(Store.prototype, methods);
}

module.exports = { installImport };
