'use strict';

// Every koffi declaration lives here, so the rest of the package never sees a C type.
//
// Conventions chosen for speed and memory safety:
//  - Every read uses the library's _into form: the record, list or page is written into the
//    store's reusable Buffer (declared `void *` with its capacity), its length (a size_t) or
//    struct lms_page_info (length, count, cursor) into a reusable out Buffer read by offset.
//    One crossing, no library allocation, nothing to free, no copy in JS. One read path.
//  - Every write goes through lms_write_batch (see lib/writer.js), whose results come back in a
//    library buffer that is copied out with copyOut() (a memcpy into a fresh JS-owned Buffer)
//    before lms_bytes_free; koffi.view() is never used, because an ArrayBuffer aliasing freed
//    memory is a use-after-free waiting to happen.
//  - Short keys (ids, versions, aliases, session and agent ids) cross as JS strings (koffi
//    encodes them to UTF-8 on its call heap); unbounded text (content, MessagePack) crosses
//    as Buffers, since koffi's per-call heap is small (128 KiB for async calls).

const fs = require('fs');
const path = require('path');
const koffi = require('koffi');
const { LmstoreError, STATUS } = require('./errors');

// Numbers of include/lmstore.h this package uses. test/header.test.js checks every one, the
// status table of errors.js and the struct layouts below against the header itself.
const C = Object.freeze({
  LMS_ABI_VERSION: 1,
  LMS_OPEN_READ_ONLY: 1,
  LMS_OPEN_NO_SYNC: 2,
  LMS_OPEN_VERIFY: 4,
  LMS_OPEN_CREATE_PARENTS: 8,
  LMS_RANGE_REVERSE: 1,
  LMS_RANGE_START: 2,
  LMS_RANGE_END: 4,
  LMS_UPDATE_CONTENT: 1,
  LMS_UPDATE_METADATA: 2,
  LMS_UPDATE_TITLE: 4,
  LMS_PUT_CREATED: 0,
  LMS_PUT_UNCHANGED: 1,
  LMS_PUT_REPLACED: 2,
  LMS_CURSOR_MAX: 272,
  LMS_MAX_BATCH_OPS: 65536,
});

const ABI_VERSION = C.LMS_ABI_VERSION;
const PAGE_SIZE = 8 + 8 + 4 + 4 + C.LMS_CURSOR_MAX; // struct lms_page
const CURSOR_OFFSET = 24;
// struct lms_page_info: size_t len @0, uint32_t count @8, uint32_t cursor_len @12, cursor @16.
const PAGE_INFO_SIZE = 8 + 4 + 4 + C.LMS_CURSOR_MAX;
const PAGE_INFO_CURSOR = 16;

function candidatePaths() {
  const out = [];
  if (process.env.LMSTORE_LIB) out.push({ from: 'LMSTORE_LIB', file: process.env.LMSTORE_LIB });
  const pkgRoot = path.join(__dirname, '..');
  out.push({
    from: 'package prebuild',
    file: path.join(pkgRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'liblmstore.so'),
  });
  out.push({
    from: 'repository build',
    file: path.join(pkgRoot, '..', '..', 'target', 'release', 'liblmstore.so'),
  });
  return out;
}

function loadLibrary() {
  const tried = [];
  for (const c of candidatePaths()) {
    // LMSTORE_LIB is an explicit request: if it is wrong, say so rather than silently
    // falling back to another build that may be older.
    if (c.from !== 'LMSTORE_LIB' && !fs.existsSync(c.file)) {
      tried.push(`${c.file} (${c.from}: missing)`);
      continue;
    }
    try {
      return { lib: koffi.load(c.file), file: c.file };
    } catch (e) {
      if (c.from === 'LMSTORE_LIB') {
        throw new LmstoreError(
          STATUS.LMS_LIBRARY_NOT_FOUND,
          `cannot load liblmstore from LMSTORE_LIB=${c.file}: ${e.message}`,
        );
      }
      tried.push(`${c.file} (${c.from}: ${e.message})`);
    }
  }
  throw new LmstoreError(
    STATUS.LMS_LIBRARY_NOT_FOUND,
    `cannot find liblmstore.so; set LMSTORE_LIB or run \`cargo build --release\`. Tried: ${tried.join('; ')}`,
  );
}

const { lib, file: libraryPath } = loadLibrary();

koffi.opaque('lms_db');

const lms_options = koffi.struct('lms_options', {
  version: 'uint32_t',
  flags: 'uint32_t',
  map_size: 'uint64_t',
  max_map_size: 'uint64_t',
  max_readers: 'uint32_t',
  file_mode: 'uint32_t',
  // LMS_OPTIONS_VERSION 2: lms_options_init fills the whole struct, so it must be declared whole.
  render_cache_size: 'uint32_t',
  pool_size: 'uint32_t',
  connect_timeout_ms: 'uint32_t',
});

koffi.struct('lms_stats', {
  template_ids: 'uint64_t',
  template_versions: 'uint64_t',
  templates_modified_at: 'int64_t',
  sessions: 'uint64_t',
  messages: 'uint64_t',
  map_size: 'uint64_t',
  map_used: 'uint64_t',
  max_map_size: 'uint64_t',
  max_readers: 'uint32_t',
  num_readers: 'uint32_t',
  schema_version: 'uint32_t',
  lmdb_version: 'uint32_t',
});

// struct lms_dictionary_info: filled by lms_train_dictionary, and read from a Buffer of them
// (koffi.decode) after lms_list_dictionaries.
const lms_dictionary_info = koffi.struct('lms_dictionary_info', {
  version: 'uint32_t',
  zstd_id: 'uint32_t',
  bytes: 'uint64_t',
  min_body: 'uint32_t',
});
const DICTIONARY_INFO_SIZE = koffi.sizeof(lms_dictionary_info);

koffi.struct('lms_range', {
  start_ts: 'int64_t',
  end_ts: 'int64_t',
  limit: 'uint32_t',
  flags: 'uint32_t',
  cursor: 'const uint8_t *',
  cursor_len: 'size_t',
});

const decl = {
  last_error: 'const char *lms_last_error()',
  last_error_os_code: 'int lms_last_error_os_code()',
  strerror: 'const char *lms_strerror(int status)',
  bytes_free: 'void lms_bytes_free(void *data, size_t len)',
  version: 'const char *lms_version()',
  version_number: 'uint32_t lms_version_number()',
  abi_version: 'uint32_t lms_abi_version()',
  options_init: 'void lms_options_init(_Out_ lms_options *opts)',

  open: 'int lms_open(const uint8_t *path, size_t path_len, const lms_options *opts, _Out_ lms_db **out)',
  close: 'void lms_close(lms_db *db)',
  stat: 'int lms_stat(lms_db *db, _Out_ lms_stats *out)',

  get_template_into: 'int lms_get_template_into(lms_db *db, const char *id, size_t id_len, const char *version, size_t version_len, void *buf, size_t cap, void *out_len)',
  get_template_by_alias_into: 'int lms_get_template_by_alias_into(lms_db *db, const char *id, size_t id_len, const char *alias, size_t alias_len, void *buf, size_t cap, void *out_len)',
  list_templates_into: 'int lms_list_templates_into(lms_db *db, const char *prefix, size_t prefix_len, const char *after, size_t after_len, uint32_t limit, void *buf, size_t cap, void *out_len)',
  list_template_versions_into: 'int lms_list_template_versions_into(lms_db *db, const char *id, size_t id_len, void *buf, size_t cap, void *out_len)',
  list_template_aliases_into: 'int lms_list_template_aliases_into(lms_db *db, const char *id, size_t id_len, void *buf, size_t cap, void *out_len)',

  write_batch: 'int lms_write_batch(lms_db *db, const uint8_t *ops, size_t ops_len, void *out, void *out_len)',
  range_messages_into: 'int lms_range_messages_into(lms_db *db, const char *session_id, size_t session_id_len, const lms_range *range, void *buf, size_t cap, void *out)',
  range_agent_messages_into: 'int lms_range_agent_messages_into(lms_db *db, const char *agent_id, size_t agent_id_len, const lms_range *range, void *buf, size_t cap, void *out)',
  get_message_into: 'int lms_get_message_into(lms_db *db, const uint8_t *id, size_t id_len, void *buf, size_t cap, void *out_len)',
  get_session_into: 'int lms_get_session_into(lms_db *db, const char *session_id, size_t session_id_len, void *buf, size_t cap, void *out_len)',
  list_sessions_into: 'int lms_list_sessions_into(lms_db *db, const uint8_t *cursor, size_t cursor_len, uint32_t limit, void *buf, size_t cap, void *out)',

  // Training also runs on a worker thread (lib/dictionary.js), to which the handle crosses as
  // its address, so this one takes the address (as lib/import.js's jobs do).
  train_dictionary: 'int lms_train_dictionary(uintptr_t db, uint32_t min_body, _Out_ lms_dictionary_info *out)',
  list_dictionaries: 'int lms_list_dictionaries(lms_db *db, void *out, size_t cap, void *out_count)',

  // memcpy is resolved through liblmstore's own handle (dlsym searches its dependencies),
  // so the copy-out path needs no libc name that differs between glibc and musl.
  memcpy: 'void *memcpy(void *dest, void *src, size_t n)',
};

const native = {};
for (const [name, proto] of Object.entries(decl)) native[name] = lib.func(proto);

const abi = native.abi_version();
if (abi !== ABI_VERSION) {
  throw new LmstoreError(
    STATUS.LMS_ABI_MISMATCH,
    `liblmstore at ${libraryPath} has ABI version ${abi}; this package needs ${ABI_VERSION}`,
  );
}

/** Copies `len` bytes of library memory at `ptr` into a new JS-owned Buffer. */
function copyOut(ptr, len) {
  const buf = Buffer.allocUnsafe(len);
  if (len > 0) native.memcpy(buf, ptr, len);
  return buf;
}

/** Default lms_options as the library defines them. */
function defaultOptions() {
  const o = {};
  native.options_init(o);
  return o;
}

module.exports = {
  koffi,
  lib,
  native,
  libraryPath,
  lms_options,
  lms_dictionary_info,
  DICTIONARY_INFO_SIZE,
  copyOut,
  defaultOptions,
  C,
  PAGE_SIZE,
  CURSOR_OFFSET,
  PAGE_INFO_SIZE,
  PAGE_INFO_CURSOR,
  ABI_VERSION,
};
