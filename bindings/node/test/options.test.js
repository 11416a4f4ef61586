'use strict';

// The open options beyond the map: verify, createParents, the render cache, and the two that
// only a postgres:// URL uses (tests/pg/run.sh runs the last test against its server).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { tempDir, tempStore, isLmsError, lmstore } = require('./helpers');

test('createParents: a missing parent is LMS_NOT_FOUND without it, created with it', (t) => {
  const deep = path.join(tempDir(t), 'a', 'b', 'store');
  assert.throws(() => lmstore.open(deep), isLmsError('LMS_NOT_FOUND'));
  assert.equal(fs.existsSync(path.dirname(deep)), false, 'a refused open created nothing');
  const s = lmstore.open(deep, { createParents: true });
  t.after(() => s.close());
  assert.equal(s.putTemplateSync({ id: 't', version: '1', template: 'x' }), 'created');
});

test('verify: a zeroed leaf page of messages is refused and the table named', (t) => {
  const dir = tempDir(t);
  const s = lmstore.open(dir, { noSync: true });
  for (let i = 0; i < 600; i++) {
    s.appendMessageSync({ sessionId: i % 2 ? 'chat-a' : 'chat-b', role: 'user', content: `message number ${i} with some words` });
  }
  s.flushSync();
  s.close();
  lmstore.open(dir, { verify: true }).close();

  const file = path.join(dir, 'data.mdb');
  const data = fs.readFileSync(file);
  const PAGE = 4096;
  let zeroed = 0;
  for (let p = 2; (p + 1) * PAGE <= data.length; p++) {
    if (data.subarray(p * PAGE, (p + 1) * PAGE).includes('message number 3 ')) {
      data.fill(0, p * PAGE, (p + 1) * PAGE);
      zeroed++;
    }
  }
  assert.ok(zeroed > 0, 'a page holds message 3');
  fs.writeFileSync(file, data);
  assert.throws(() => lmstore.open(dir, { verify: true }), (e) => isLmsError('LMS_CORRUPT')(e) && /messages/.test(e.message));
});

test('numeric options are checked; the PostgreSQL ones are accepted by an LMDB store', (t) => {
  const dir = tempDir(t);
  for (const [opts, re] of [
    [{ poolSize: -1 }, /poolSize must be a non-negative integer/],
    [{ connectTimeoutMs: 2 ** 32 }, /connectTimeoutMs must be at most 4294967295/],
    [{ renderCacheSize: '8' }, /renderCacheSize must be a number, got string/],
    [{ verfy: true }, /unknown option "verfy"/],
  ]) {
    assert.throws(() => lmstore.open(dir, opts), (e) => isLmsError('LMS_INVALID_ARGUMENT')(e) && re.test(e.message), JSON.stringify(opts));
  }
  const s = tempStore(t, { renderCacheSize: 1, poolSize: 2, connectTimeoutMs: 1000 });
  s.putTemplateSync({ id: 'a', version: '1', template: 'A {{ x }}', inputs: { x: { type: 'string' } } });
  s.putTemplateSync({ id: 'b', version: '1', template: 'B' });
  for (let i = 0; i < 3; i++) {
    assert.equal(s.render('a', { x: 'y' }), 'A y');
    assert.equal(s.render('b'), 'B');
  }
});

test('poolSize and connectTimeoutMs reach a PostgreSQL store', { skip: !process.env.LMSTORE_TEST_PG_URL && 'LMSTORE_TEST_PG_URL is not set (tests/pg/run.sh sets it)' }, (t) => {
  const url = `${process.env.LMSTORE_TEST_PG_URL}&options=-csearch_path%3Dnode_options_${process.pid}`;
  const s = lmstore.open(url, { poolSize: 2, connectTimeoutMs: 3000 });
  t.after(() => s.close());
  s.putTemplateSync({ id: 't', version: '1', template: 'on postgres' });
  assert.equal(s.getTemplate('t').template, 'on postgres');
  const started = Date.now();
  assert.throws(() => lmstore.open('postgres:///x?host=/nonexistent-lmstore&port=1&user=none', { connectTimeoutMs: 500 }), isLmsError('LMS_IO'));
  assert.ok(Date.now() - started < 10000);
});
