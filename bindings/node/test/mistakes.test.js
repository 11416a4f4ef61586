'use strict';

// Easy mistakes are loud: each of these used to succeed silently with a surprising result.

const test = require('node:test');
const assert = require('node:assert/strict');
const lmstore = require('..');
const ffi = require('../lib/ffi');
const { tempStore, isLmsError } = require('./helpers');

/** Asserts an LmstoreError with this code whose message matches `re` (and starts with `op: `). */
function fails(code, op, re) {
  return (e) => {
    isLmsError(code)(e);
    assert.ok(e.message.startsWith(`${op}: `), `message starts with the operation: ${e.message}`);
    assert.match(e.message, re);
    return true;
  };
}

test('getTemplate takes the version as a plain string, and refuses unknown option keys', (t) => {
  const s = tempStore(t);
  s.putTemplateSync({ id: 't', version: '1.0.0', template: 'one' });
  s.putTemplateSync({ id: 't', version: '2.0.0', template: 'two' });
  assert.equal(s.getTemplate('t', '1.0.0').template, 'one');
  assert.equal(s.getTemplate('t', { version: '1.0.0' }).template, 'one');
  assert.equal(s.getTemplate('t').template, 'two');
  assert.throws(() => s.getTemplate('t', { verison: '1.0.0' }), fails('LMS_INVALID_ARGUMENT', 'getTemplate', /unknown option "verison"/));
  assert.throws(() => s.getTemplate('t', 1), fails('LMS_INVALID_ARGUMENT', 'getTemplate', /options must be an object, got number 1/));
  assert.equal(s.deleteTemplateSync('t', '1.0.0'), true);
  assert.equal(s.getTemplate('t', '1.0.0'), undefined);
  for (const [name, call] of Object.entries({
    rangeMessages: () => s.rangeMessages('x', { revrese: true }),
    listTemplates: () => s.listTemplates({ prefx: 'a' }),
    listSessions: () => s.listSessions({ limt: 1 }),
    createSessionSync: () => s.createSessionSync('x', { titel: 'a' }),
    updateMessageSync: () => s.updateMessageSync('00000000-0000-7000-8000-000000000000', { contnet: 'a' }),
    appendMessageSync: () => s.appendMessageSync({ sessionId: 'x', role: 'user', contents: 'a' }),
    putTemplateSync: () => s.putTemplateSync({ id: 'y', template: 'y' }, { replcae: true }),
    open: () => lmstore.open(s.path + '-x', { readonly: true }),
  })) {
    assert.throws(call, fails('LMS_INVALID_ARGUMENT', name, /unknown option|not a message field/), name);
  }
  assert.throws(() => s.iterateMessages('x', { pagesize: 2 }).next(), fails('LMS_INVALID_ARGUMENT', 'iterateMessages', /unknown option "pagesize"/));
});

test('timestamps: a Date is accepted; a number that can only be seconds or milliseconds is refused', async (t) => {
  const s = tempStore(t);
  const when = new Date('2025-06-01T12:00:00Z');
  const r = await s.appendMessage({ sessionId: 'd', role: 'user', content: 'dated', ts: when });
  assert.equal(r.ts, when.getTime() * 1000);
  await assert.rejects(
    s.appendMessage({ sessionId: 'd', role: 'user', ts: Date.now() }),
    fails('LMS_INVALID_ARGUMENT', 'appendMessage', /looks like seconds or milliseconds \(Date\.now\(\)\), but times are microseconds: pass a Date or Date\.now\(\) \* 1000/),
  );
  assert.throws(() => s.appendMessageSync({ sessionId: 'd', role: 'user', ts: Math.floor(Date.now() / 1000) }), fails('LMS_INVALID_ARGUMENT', 'appendMessageSync', /seconds or milliseconds/));
  assert.throws(() => s.rangeMessages('d', { start: Date.now() }), fails('LMS_INVALID_ARGUMENT', 'rangeMessages', /start \d+ looks like seconds or milliseconds/));
  assert.throws(() => s.trimSessionBeforeSync('d', Date.now()), fails('LMS_INVALID_ARGUMENT', 'trimSessionBeforeSync', /before \d+ looks like/));
  assert.throws(() => s.appendMessageSync({ sessionId: 'd', role: 'user', ts: '2025' }), fails('LMS_INVALID_ARGUMENT', 'appendMessageSync', /ts must be an integer number of microseconds or a Date, got string "2025"/));
  // Microseconds, and small test clocks, still go in.
  assert.equal(s.appendMessageSync({ sessionId: 'd', role: 'user', ts: Date.now() * 1000 }).duplicate, false);
  assert.equal(s.appendMessageSync({ sessionId: 'small', role: 'user', ts: 1000 }).ts, 1000);
  assert.equal(s.getSession('d').messageCount, 2);
});

test('lone surrogates are refused everywhere text goes in, not replaced by U+FFFD', async (t) => {
  const s = tempStore(t);
  const lone = 'a\uD800b';
  const utf8 = (op) => fails('LMS_INVALID_UTF8', op, /lone surrogate/);
  assert.throws(() => s.appendMessageSync({ sessionId: lone, role: 'user' }), utf8('appendMessageSync'));
  assert.throws(() => s.appendMessageSync({ sessionId: 's', role: 'user', content: '\uDC00' }), utf8('appendMessageSync'));
  assert.throws(() => s.appendMessageSync({ sessionId: 's', role: 'user', metadata: { k: lone } }), utf8('appendMessageSync'));
  assert.throws(() => s.appendMessageSync({ sessionId: 's', role: 'user', metadata: { [lone]: 1 } }), utf8('appendMessageSync'));
  await assert.rejects(s.createSession('s', { title: lone }), utf8('createSession'));
  assert.throws(() => s.getSession(lone), utf8('getSession'));
  assert.throws(() => s.putTemplateSync({ id: 'x', template: lone }), utf8('putTemplateSync'));
  assert.throws(() => s.getTemplate(lone), utf8('getTemplate'));
  assert.equal(s.stats().messages, 0);
  assert.equal(s.getSession('s'), undefined);
  // A well-formed pair is fine.
  assert.equal(s.appendMessageSync({ sessionId: 's', role: 'user', content: '\uD83D\uDC4B' }).duplicate, false);
  assert.equal(s.rangeMessages('s').messages[0].content, '👋');
});

test('functions and symbols in metadata are refused, not stored as null', (t) => {
  const s = tempStore(t);
  const bad = (op) => fails('LMS_INVALID_ARGUMENT', op, /is a (function|symbol), which cannot be stored/);
  assert.throws(() => s.appendMessageSync({ sessionId: 's', role: 'user', metadata: { f() {} } }), bad('appendMessageSync'));
  assert.throws(() => s.appendMessageSync({ sessionId: 's', role: 'user', metadata: { deep: [1, { s: Symbol('x') }] } }), (e) => {
    bad('appendMessageSync')(e);
    assert.match(e.message, /messages\[0\]\.metadata\.deep\[1\]\.s/);
    return true;
  });
  assert.throws(() => s.createSessionSync('s', { metadata: { cb: () => 1 } }), bad('createSessionSync'));
  assert.throws(() => s.putTemplateSync({ id: 'x', template: 'y', metadata: { f: Math.max } }), bad('putTemplateSync'));
  assert.equal(s.stats().messages, 0);
});

test('wrong types are named in messages that start with the operation', (t) => {
  const s = tempStore(t);
  assert.throws(() => s.rangeMessages('s', { limit: '10' }), fails('LMS_INVALID_ARGUMENT', 'rangeMessages', /limit must be a number, got string "10"$/));
  assert.throws(() => s.listTemplates({ limit: 0 }), fails('LMS_INVALID_ARGUMENT', 'listTemplates', /limit must be a positive integer, got 0$/));
  assert.throws(() => s.getTemplate(42), fails('LMS_INVALID_ARGUMENT', 'getTemplate', /id must be a string, got number 42$/));
  assert.throws(() => s.appendMessagesSync('x'), fails('LMS_INVALID_ARGUMENT', 'appendMessagesSync', /messages must be an array, got string "x"$/));
  assert.throws(() => s.appendMessageSync({ sessionId: 's', role: null }), fails('LMS_INVALID_ARGUMENT', 'appendMessageSync', /messages\[0\]\.role must be a string, got null$/));
  assert.throws(() => s.trimSessionSync('s', '3'), fails('LMS_INVALID_ARGUMENT', 'trimSessionSync', /keep must be a number, got string "3"$/));
  assert.throws(() => lmstore.open(s.path, { mapSize: '1GB' }), fails('LMS_INVALID_ARGUMENT', 'open', /mapSize must be a number, got string "1GB"$/));
  assert.throws(() => s.getMessage('nope'), fails('LMS_INVALID_ARGUMENT', 'getMessage', /id is not a UUID: "nope"/));
  // The library's own words carry the operation too.
  assert.throws(() => s.putTemplateSync({ id: 'x', template: 'y', bogus: 1 }), fails('LMS_INVALID_ARGUMENT', 'putTemplateSync', /unknown field 'bogus'/));
  assert.throws(() => s.setTemplateAliasSync('none', 'a', '1'), fails('LMS_NOT_FOUND', 'setTemplateAliasSync', /\S/));
  assert.throws(() => s.createSessionSync('x'.repeat(600)), fails('LMS_KEY_TOO_LONG', 'createSessionSync', /\S/));
  assert.throws(() => s.rangeMessages('x'.repeat(600)), fails('LMS_KEY_TOO_LONG', 'rangeMessages', /\S/));
});

test('a page of 10,000 large messages is read in one pass', (t) => {
  const s = tempStore(t, { noSync: true });
  const text = 'x'.repeat(2000);
  for (let b = 0; b < 10; b++) {
    const batch = [];
    for (let i = 0; i < 1000; i++) batch.push({ sessionId: 'big', role: 'user', content: text });
    s.appendMessagesSync(batch);
  }
  // Count the range calls that reach the library.
  const calls = { n: 0 };
  const names = ['range_messages_into'];
  const saved = names.map((n) => ffi.native[n]);
  names.forEach((n, i) => {
    ffi.native[n] = (...a) => { calls.n++; return saved[i](...a); };
  });
  t.after(() => names.forEach((n, i) => { ffi.native[n] = saved[i]; }));
  const page = s.rangeMessages('big', { limit: 10000 });
  assert.equal(page.messages.length, 10000);
  assert.equal(calls.n, 1, 'one pass over the range');
  calls.n = 0;
  // Pages of 1,000 after that: each fits the buffer sized from what was seen, one pass each.
  const p1 = s.rangeMessages('big', { limit: 1000 });
  const p2 = s.rangeMessages('big', { limit: 1000, cursor: p1.cursor });
  assert.equal(p2.messages.length, 1000);
  assert.equal(calls.n, 2);
});
