'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { spawnSync } = require('child_process');
const { tempDir, tempStore, isLmsError, lmstore } = require('./helpers');

const ID = '0190f1a2-0000-7000-8000-000000000001';

// Text zstd cannot shrink much: the store compresses large bodies, so a run of one letter
// would never fill a map.
function noise(n) {
  let x = 0x9e3779b9, out = '';
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out += String.fromCharCode(32 + ((x >>> 0) % 95)); }
  return out;
}

test('LmstoreError shape and status table', () => {
  const e = new lmstore.LmstoreError(1, 'gone');
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'LmstoreError');
  assert.equal(e.code, 'LMS_NOT_FOUND');
  assert.equal(e.status, 1);
  assert.equal(new lmstore.LmstoreError(99, 'x').code, 'LMS_STATUS_99', 'unknown statuses stay usable');
  assert.equal(lmstore.STATUS.LMS_CONFLICT, 3);
  assert.equal(lmstore.STATUS.LMS_CLOSED, -1);
  assert.equal(lmstore.abiVersion, 1);
  assert.match(lmstore.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof lmstore.versionNumber, 'number');
});

test('close is idempotent; every call after it throws LMS_CLOSED, never crashes', async (t) => {
  const dir = tempDir(t);
  const s = lmstore.open(dir);
  s.appendMessagesSync([{ sessionId: 's', role: 'user', content: 'a' }, { sessionId: 's', role: 'user', content: 'b' }]);
  const it = s.iterateMessages('s', { pageSize: 1 });
  assert.equal(it.next().value.content, 'a');
  s.close();
  s.close();
  assert.equal(s.closed, true);
  assert.throws(() => it.next(), isLmsError('LMS_CLOSED'), 'an iterator paging after close');

  const syncCalls = {
    stats: [], flushSync: [], backupSync: [dir + '-b'],
    getTemplate: ['x'], listTemplates: [], listTemplateVersions: ['x'], listTemplateAliases: ['x'],
    putTemplateSync: [{ id: 'x', template: 'y' }], deleteTemplateSync: ['x'],
    setTemplateAliasSync: ['x', 'a', '1'], deleteTemplateAliasSync: ['x', 'a'],
    appendMessageSync: [{ sessionId: 's', role: 'user' }], appendMessagesSync: [[]],
    getMessage: [ID], rangeMessages: ['s'], rangeAgentMessages: ['a'],
    updateMessageSync: [ID, { content: 'x' }], deleteMessageSync: [ID],
    trimSessionSync: ['s', 1], trimSessionBeforeSync: ['s', 1],
    createSessionSync: ['s'], getSession: ['s'], updateSessionSync: ['s', { title: 'x' }],
    deleteSessionSync: ['s'], listSessions: [],
  };
  for (const [name, args] of Object.entries(syncCalls)) {
    assert.throws(() => s[name](...args), isLmsError('LMS_CLOSED'), name);
  }
  for (const name of ['iterateMessages', 'iterateAgentMessages', 'iterateSessions', 'iterateTemplateIds']) {
    assert.throws(() => s[name]('s').next(), isLmsError('LMS_CLOSED'), name);
  }
  const asyncCalls = {
    flush: [], backup: [dir + '-b'], putTemplate: [{ id: 'x', template: 'y' }], deleteTemplate: ['x'],
    setTemplateAlias: ['x', 'a', '1'], deleteTemplateAlias: ['x', 'a'],
    appendMessage: [{ sessionId: 's', role: 'user' }], appendMessages: [[]],
    updateMessage: [ID, { content: 'x' }], deleteMessage: [ID], trimSession: ['s', 1],
    trimSessionBefore: ['s', 1], createSession: ['s'], updateSession: ['s', { title: 'x' }], deleteSession: ['s'],
  };
  for (const [name, args] of Object.entries(asyncCalls)) {
    await assert.rejects(s[name](...args), isLmsError('LMS_CLOSED'), name);
  }
  assert.equal(Object.keys(syncCalls).length + Object.keys(asyncCalls).length + 4 >= 44, true);

  // The data written before close is there for the next open.
  const again = lmstore.open(dir);
  t.after(() => again.close());
  assert.equal(again.rangeMessages('s').messages.length, 2);
});

test('close while durable writes are in flight: they finish, then the handle goes', async (t) => {
  const dir = tempDir(t);
  const s = lmstore.open(dir);
  const pending = [];
  for (let i = 0; i < 50; i++) pending.push(s.appendMessage({ sessionId: 'w', role: 'user', content: `${i}` }));
  s.close();
  const results = await Promise.all(pending);
  assert.equal(results.length, 50);
  assert.throws(() => s.getSession('w'), isLmsError('LMS_CLOSED'));
  const again = lmstore.open(dir);
  t.after(() => again.close());
  assert.equal(again.getSession('w').messageCount, 50);
});

test('read-only stores refuse every write; missing read-only store is not found', async (t) => {
  const dir = tempDir(t);
  const w = lmstore.open(dir);
  w.putTemplateSync({ id: 'x', template: 'y' });
  const m = w.appendMessageSync({ sessionId: 's', role: 'user', content: 'a' });
  w.close();

  const r = lmstore.open(dir, { readOnly: true });
  t.after(() => r.close());
  assert.equal(r.readOnly, true);
  assert.equal(r.getTemplate('x').template, 'y');
  assert.equal(r.getMessage(m.id).content, 'a');
  assert.throws(() => r.putTemplateSync({ id: 'z', template: 'y' }), isLmsError('LMS_READ_ONLY'));
  await assert.rejects(r.putTemplate({ id: 'z', template: 'y' }), isLmsError('LMS_READ_ONLY'));
  await assert.rejects(r.appendMessage({ sessionId: 's', role: 'user' }), isLmsError('LMS_READ_ONLY'));
  assert.throws(() => r.appendMessagesSync([{ sessionId: 's', role: 'user' }]), isLmsError('LMS_READ_ONLY'));
  assert.throws(() => r.deleteSessionSync('s'), isLmsError('LMS_READ_ONLY'));
  assert.throws(() => r.createSessionSync('n'), isLmsError('LMS_READ_ONLY'));
  assert.throws(() => r.updateMessageSync(m.id, { content: 'b' }), isLmsError('LMS_READ_ONLY'));
  assert.throws(() => r.flushSync(), isLmsError('LMS_READ_ONLY'));

  assert.throws(() => lmstore.open(path.join(dir, 'missing'), { readOnly: true }), isLmsError('LMS_NOT_FOUND'));
  assert.throws(() => lmstore.open(42), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => lmstore.open(dir + '-x', { mapSize: -1 }), isLmsError('LMS_INVALID_ARGUMENT'));
});

test('open options, noSync + flush, stats, backup, two handles on one path', async (t) => {
  const dir = tempDir(t);
  const s = lmstore.open(dir, { mapSize: 1 << 20, maxMapSize: 1 << 30, maxReaders: 20, noSync: true, fileMode: 0o600 });
  t.after(() => s.close());
  const text = noise(4000);
  const batch = [];
  for (let i = 0; i < 500; i++) batch.push({ sessionId: 'big', role: 'user', content: text });
  await s.appendMessages(batch); // 2 MB into a 1 MiB map: it grows by itself
  await s.flush();
  s.flushSync();
  const st = s.stats();
  assert.equal(st.messages, 500);
  assert.ok(st.mapSize >= 2 << 20, `map grew (${st.mapSize})`);
  assert.equal(st.maxMapSize, 1 << 30);
  assert.equal(st.maxReaders, 20);
  assert.equal(st.schemaVersion >= 1, true);
  assert.ok(st.lmdbVersion > 0);

  const twin = lmstore.open(dir);
  assert.equal(twin.getSession('big').messageCount, 500);
  twin.close();
  assert.equal(s.getSession('big').messageCount, 500, 'closing one handle leaves the other working');

  const b1 = path.join(tempDir(t), 'b1');
  await s.backup(b1);
  const b2 = path.join(tempDir(t), 'b2');
  s.backupSync(b2, { compact: true });
  for (const b of [b1, b2]) {
    const copy = lmstore.open(b, { readOnly: true });
    assert.equal(copy.stats().messages, 500);
    copy.close();
  }
  await assert.rejects(s.backup(b1), isLmsError('LMS_IO'));
});

test('map full at the growth cap; too large values', async (t) => {
  const s = tempStore(t, { mapSize: 1 << 20, maxMapSize: 4 << 20 });
  const text = noise(100_000);
  let err;
  try {
    for (let i = 0; i < 200; i++) s.appendMessageSync({ sessionId: 'f', role: 'user', content: text });
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'the cap was hit');
  assert.ok(['LMS_MAP_FULL', 'LMS_TOO_LARGE'].includes(err.code), err.code);
  await assert.rejects(s.appendMessage({ sessionId: 'f', role: 'user', content: noise(8 << 20) }),
    (e) => ['LMS_MAP_FULL', 'LMS_TOO_LARGE'].includes(e.code));
  assert.ok(s.getSession('f').messageCount > 0, 'the store still works');
});

test('a lone surrogate in packed text is invalid UTF-8 to the library', async (t) => {
  const s = tempStore(t);
  // msgpackr writes lone surrogates as they are (WTF-8); the library checks UTF-8.
  assert.throws(() => s.putTemplateSync({ id: 'u', template: 'a\uD800b' }), isLmsError('LMS_INVALID_UTF8'));
  await assert.rejects(s.appendMessage({ sessionId: 's', role: 'user', content: '\uDC00' }), isLmsError('LMS_INVALID_UTF8'));
});

test('a missing library is reported by code, and LMSTORE_LIB is honoured first', () => {
  const root = path.join(__dirname, '..');
  const run = (env) => spawnSync(process.execPath, ['-e', `
    try { const l = require(${JSON.stringify(root)}); console.log('OK ' + l.libraryPath); }
    catch (e) { console.log(e.code + ' ' + e.message); }`], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const bad = run({ LMSTORE_LIB: '/nonexistent/liblmstore.so' });
  assert.match(bad.stdout, /^LMS_LIBRARY_NOT_FOUND .*LMSTORE_LIB/);
  const good = run({ LMSTORE_LIB: lmstore.libraryPath });
  assert.equal(good.stdout.trim(), `OK ${lmstore.libraryPath}`);
});
