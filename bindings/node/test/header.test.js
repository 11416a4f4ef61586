'use strict';

// Every number and layout this package hand-codes, checked against include/lmstore.h itself:
// the status table (lib/errors.js), the constants and flags (lib/ffi.js `C`), and the structs
// it declares to koffi or reads by offset (compiled with the system C compiler, so the sizes
// and offsets are the compiler's, not a reading of the header).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const ffi = require('../lib/ffi');
const { STATUS_CODES } = require('../lib/errors');

const root = path.join(__dirname, '..', '..', '..');
const header = fs.readFileSync(path.join(root, 'include', 'lmstore.h'), 'utf8');
const defines = new Map([...header.matchAll(/^#define (LMS_[A-Z0-9_]+) (-?\d+)\s*$/gm)].map((m) => [m[1], Number(m[2])]));

test('the status table matches the header and the library', () => {
  assert.ok(defines.size > 20, 'parsed the header');
  for (let v = 1; v < 100; v++) {
    const known = ffi.native.strerror(v) !== 'unknown status';
    const name = STATUS_CODES[v];
    assert.equal(name !== undefined, known, `status ${v}: the library ${known ? 'knows' : 'does not know'} it, lib/errors.js ${name ? `calls it ${name}` : 'lacks it'}`);
    if (name) assert.equal(defines.get(name), v, `${name} is ${v} in the header`);
  }
  for (const [n, name] of Object.entries(STATUS_CODES)) {
    if (Number(n) < 0) assert.equal(defines.has(name), false, `${name} is the binding's own, not the library's`);
  }
});

test('constants and flags match the header', () => {
  for (const [name, v] of Object.entries(ffi.C)) assert.equal(defines.get(name), v, name);
});

test('struct layouts match what the C compiler makes of the header', (t) => {
  const cc = process.env.CC || 'cc';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmstore-layout-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fields = {
    lms_options: ['version', 'flags', 'map_size', 'max_map_size', 'max_readers', 'file_mode'],
    lms_stats: ['template_ids', 'template_versions', 'templates_modified_at', 'sessions', 'messages', 'map_size', 'map_used', 'max_map_size', 'max_readers', 'num_readers', 'schema_version', 'lmdb_version'],
    lms_range: ['start_ts', 'end_ts', 'limit', 'flags', 'cursor', 'cursor_len'],
    lms_page: ['data', 'len', 'count', 'cursor_len', 'cursor'],
    lms_page_info: ['len', 'count', 'cursor_len', 'cursor'],
    lms_dictionary_info: ['version', 'zstd_id', 'bytes', 'min_body'],
  };
  let src = '#include <stdio.h>\n#include <stddef.h>\n#include "lmstore.h"\nint main(void) {\n';
  for (const [s, fs_] of Object.entries(fields)) {
    src += `  printf("${s} %zu\\n", sizeof(${s}));\n`;
    for (const f of fs_) src += `  printf("${s}.${f} %zu\\n", offsetof(${s}, ${f}));\n`;
  }
  src += '  return 0;\n}\n';
  fs.writeFileSync(path.join(dir, 'layout.c'), src);
  const exe = path.join(dir, 'layout');
  execFileSync(cc, ['-std=c99', '-I', path.join(root, 'include'), '-o', exe, path.join(dir, 'layout.c')]);
  const c = new Map(execFileSync(exe, { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
  // Structs declared to koffi: koffi's layout must be the compiler's.
  for (const s of ['lms_options', 'lms_stats', 'lms_range', 'lms_dictionary_info']) {
    assert.equal(ffi.koffi.sizeof(s), c.get(s), `sizeof ${s}`);
    for (const f of fields[s]) assert.equal(ffi.koffi.offsetof(s, f), c.get(`${s}.${f}`), `${s}.${f}`);
  }
  // Structs read by offset from a Buffer.
  assert.equal(ffi.PAGE_SIZE, c.get('lms_page'));
  assert.equal(ffi.CURSOR_OFFSET, c.get('lms_page.cursor'));
  assert.equal(c.get('lms_page.len'), 8);
  assert.equal(c.get('lms_page.cursor_len'), 20);
  assert.equal(ffi.PAGE_INFO_SIZE, c.get('lms_page_info'));
  assert.equal(ffi.PAGE_INFO_CURSOR, c.get('lms_page_info.cursor'));
  assert.equal(c.get('lms_page_info.count'), 8);
  assert.equal(c.get('lms_page_info.cursor_len'), 12);
  // lms_list_dictionaries fills an array of them in a Buffer, DICTIONARY_INFO_SIZE apart.
  assert.equal(ffi.DICTIONARY_INFO_SIZE, c.get('lms_dictionary_info'));
});
