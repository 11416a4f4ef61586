'use strict';

// Every koffi declaration lives here, so the rest of the package never sees a C type.
//
// Conventions chosen for speed and memory safety:
//  - Out-parameters that the library fills (uint8_t **out, size_t *out_len, lms_page *,
//    result arrays) are declared `void *` and given a caller-owned Buffer. koffi then passes
//    the Buffer's own memory, with no marshalling of a struct into a JS object and back.
//  - Library-allocated memory is only ever read through copyOut() (a memcpy into a fresh
//    JS-owned Buffer) before the matching lms_*_free; koffi.view() is never used, because an
//    ArrayBuffer aliasing freed memory is a use-after-free waiting to happen.
//  - The hot reads (lms_get_template_into, lms_range_messages_into) write into the store's
//    reusable Buffer, declared `void *` with its capacity, and report through a reusable
//    out Buffer (size_t length, or struct lms_page_info read by offset): one crossing, no
//    library allocation, no free, no copy, and no 272-byte cursor array turned into a JS array.
//  - Short keys (ids, versions, aliases, session and agent ids) cross as JS strings (koffi
//    encodes them to UTF-8 on its call heap); unbounded text (content, titles, MessagePack)
//    crosses as Buffers, since koffi's per-call heap is small (128 KiB for async calls).

const fs = require('fs');
const path = require('path');
const koffi = require('koffi');
const { LmstoreError, STATUS } = require('./errors');

const ABI_VERSION = 1;
const PAGE_SIZE = 8 + 8 + 4 + 4 + 272; // struct lms_page
const CURSOR_OFFSET = 24;
const APPEND_RESULT_SIZE = 16 + 8 + 4 + 4; // struct lms_append_result
// struct lms_page_info: size_t len @0, uint32_t count @8, uint32_t cursor_len @12, cursor @16.
const PAGE_INFO_SIZE = 8 + 4 + 4 + 272;
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
  sync: 'int lms_sync(lms_db *db)',
  stat: 'int lms_stat(lms_db *db, _Out_ lms_stats *out)',
  backup: 'int lms_backup(lms_db *db, const uint8_t *path, size_t path_len, uint32_t flags)',

  put_template: 'int lms_put_template(lms_db *db, const uint8_t *spec, size_t spec_len, uint32_t flags, void *out_outcome)',
  get_template: 'int lms_get_template(lms_db *db, const char *id, size_t id_len, const char *version, size_t version_len, void *out, void *out_len)',
  get_template_into: 'int lms_get_template_into(lms_db *db, const char *id, size_t id_len, const char *version, size_t version_len, void *buf, size_t cap, void *out_len)',
  get_template_by_alias: 'int lms_get_template_by_alias(lms_db *db, const char *id, size_t id_len, const char *alias, size_t alias_len, void *out, void *out_len)',
  list_templates: 'int lms_list_templates(lms_db *db, const char *prefix, size_t prefix_len, const char *after, size_t after_len, uint32_t limit, void *out, void *out_len)',
  list_template_versions: 'int lms_list_template_versions(lms_db *db, const char *id, size_t id_len, void *out, void *out_len)',
  delete_template: 'int lms_delete_template(lms_db *db, const char *id, size_t id_len, const char *version, size_t version_len)',
  set_template_alias: 'int lms_set_template_alias(lms_db *db, const char *id, size_t id_len, const char *alias, size_t alias_len, const char *version, size_t version_len)',
  delete_template_alias: 'int lms_delete_template_alias(lms_db *db, const char *id, size_t id_len, const char *alias, size_t alias_len)',
  list_template_aliases: 'int lms_list_template_aliases(lms_db *db, const char *id, size_t id_len, void *out, void *out_len)',

  append_messages_packed: 'int lms_append_messages_packed(lms_db *db, const uint8_t *batch, size_t batch_len, void *results, size_t results_cap)',
  range_messages: 'int lms_range_messages(lms_db *db, const char *session_id, size_t session_id_len, const lms_range *range, void *out)',
  range_messages_into: 'int lms_range_messages_into(lms_db *db, const char *session_id, size_t session_id_len, const lms_range *range, void *buf, size_t cap, void *out)',
  range_agent_messages: 'int lms_range_agent_messages(lms_db *db, const char *agent_id, size_t agent_id_len, const lms_range *range, void *out)',
  page_free: 'void lms_page_free(void *page)',
  get_message: 'int lms_get_message(lms_db *db, const uint8_t *id, size_t id_len, void *out, void *out_len)',
  update_message: 'int lms_update_message(lms_db *db, const uint8_t *id, size_t id_len, const uint8_t *content, size_t content_len, const uint8_t *metadata, size_t metadata_len, uint32_t flags)',
  delete_message: 'int lms_delete_message(lms_db *db, const uint8_t *id, size_t id_len)',
  trim_session: 'int lms_trim_session(lms_db *db, const char *session_id, size_t session_id_len, uint64_t keep, void *out_deleted)',
  trim_session_before: 'int lms_trim_session_before(lms_db *db, const char *session_id, size_t session_id_len, int64_t before_ts, void *out_deleted)',
  create_session: 'int lms_create_session(lms_db *db, const char *session_id, size_t session_id_len, const uint8_t *title, size_t title_len, const uint8_t *metadata, size_t metadata_len)',
  get_session: 'int lms_get_session(lms_db *db, const char *session_id, size_t session_id_len, void *out, void *out_len)',
  update_session: 'int lms_update_session(lms_db *db, const char *session_id, size_t session_id_len, const uint8_t *title, size_t title_len, const uint8_t *metadata, size_t metadata_len, uint32_t flags)',
  delete_session: 'int lms_delete_session(lms_db *db, const char *session_id, size_t session_id_len, void *out_deleted)',
  list_sessions: 'int lms_list_sessions(lms_db *db, const uint8_t *cursor, size_t cursor_len, uint32_t limit, void *out)',

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
  native,
  libraryPath,
  lms_options,
  copyOut,
  defaultOptions,
  PAGE_SIZE,
  CURSOR_OFFSET,
  APPEND_RESULT_SIZE,
  PAGE_INFO_SIZE,
  PAGE_INFO_CURSOR,
  ABI_VERSION,
};
