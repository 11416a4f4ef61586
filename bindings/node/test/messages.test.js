'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { tempStore, isLmsError, UUID_RE, lmstore } = require('./helpers');

test('append one and a batch, get by id, all fields round-trip', async (t) => {
  const s = tempStore(t);
  const a = await s.appendMessage({ sessionId: 's', role: 'user', content: 'hello', metadata: { lang: 'en' } });
  assert.match(a.id, UUID_RE);
  assert.equal(a.duplicate, false);
  assert.ok(Number.isSafeInteger(a.ts) && a.ts > 1.6e15);

  const explicitId = '0190f1a2-0000-7000-8000-000000000001';
  const ts = a.ts + 1000;
  const batch = await s.appendMessages([
    { sessionId: 's', id: explicitId, ts, role: 'assistant', agentId: 'bot', content: 'hi 👋', inReplyTo: a.id, metadata: { tokens: { in: 3, out: 5 }, parts: ['a', 'b'] } },
    { sessionId: 's', role: 'tool', content: '' },
  ]);
  assert.equal(batch.length, 2);
  assert.equal(batch[0].id, explicitId);
  assert.equal(batch[0].ts, ts);
  assert.ok(batch[1].ts > ts, 'an assigned ts is never below the session last one');

  const m = s.getMessage(explicitId);
  assert.deepEqual(m, {
    id: explicitId, sessionId: 's', ts, role: 'assistant', agentId: 'bot', content: 'hi 👋', inReplyTo: a.id,
    metadata: { tokens: { in: 3, out: 5 }, parts: ['a', 'b'] }, createdAt: m.createdAt, updatedAt: m.updatedAt,
  });
  assert.equal(m.createdAt, m.updatedAt);
  const plain = s.getMessage(a.id);
  assert.equal(plain.agentId, undefined);
  assert.equal(plain.inReplyTo, undefined);
  // Upper-case and dash-less forms name the same id.
  assert.equal(s.getMessage(explicitId.toUpperCase()).id, explicitId);
  assert.equal(s.getMessage(explicitId.replace(/-/g, '')).id, explicitId);
  assert.equal(s.getMessage('0190f1a2-0000-7000-8000-0000000000ff'), undefined);

  const sync = s.appendMessageSync({ sessionId: 's', role: 'user', content: 'sync', ts: new Date(Date.now() + 60000) });
  assert.equal(s.getMessage(sync.id).content, 'sync');
  assert.ok(Math.abs(sync.ts - (Date.now() + 60000) * 1000) < 5e6, 'Dates go in as µs');
  assert.deepEqual(s.appendMessagesSync([]), []);
  assert.equal(s.stats().messages, 4);
});

test('appending an existing id stores nothing and says so', async (t) => {
  const s = tempStore(t);
  const id = '0190f1a2-0000-7000-8000-00000000000a';
  const first = s.appendMessageSync({ sessionId: 's', id, role: 'user', content: 'one' });
  const again = await s.appendMessage({ sessionId: 's', id, role: 'user', content: 'two' });
  assert.equal(first.duplicate, false);
  assert.equal(again.duplicate, true);
  assert.equal(again.ts, first.ts);
  assert.equal(s.getMessage(id).content, 'one');
  assert.equal(s.getSession('s').messageCount, 1);
});

test('a bad message fails the whole batch', async (t) => {
  const s = tempStore(t);
  const good = { sessionId: 's', role: 'user', content: 'ok' };
  await assert.rejects(s.appendMessages([good, { sessionId: 's', content: 'no role' }]), isLmsError('LMS_INVALID_ARGUMENT'));
  await assert.rejects(s.appendMessages([good, { sessionId: 's', role: 'user', id: 'not-a-uuid' }]), isLmsError('LMS_INVALID_ARGUMENT'));
  await assert.rejects(s.appendMessages([good, { sessionId: 's'.repeat(300), role: 'user' }]), isLmsError('LMS_KEY_TOO_LONG'));
  assert.throws(() => s.appendMessagesSync([good, { sessionId: 's', role: 'user', agentId: 'a'.repeat(256) }]), isLmsError('LMS_KEY_TOO_LONG'));
  assert.throws(() => s.appendMessagesSync([good, { sessionId: '', role: 'user' }]), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.appendMessagesSync([good, { sessionId: 's', role: 'user', ts: -5 }]), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.appendMessagesSync([good, { sessionId: 's', role: 'user', ts: 1.5 }]), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.appendMessagesSync([good, { sessionId: 's', role: 'user', metadata: 'x' }]), isLmsError('LMS_INVALID_ARGUMENT'));
  await assert.rejects(s.appendMessages('nope'), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.equal(s.stats().messages, 0);
  assert.equal(s.getSession('s'), undefined, 'not even the session was created');
});

test('range: order, reverse, bounds, cursors resume exactly through ts ties', (t) => {
  const s = tempStore(t);
  const base = 1_700_000_000_000_000;
  const input = [];
  // Pairs of messages share a ts, so a cursor must carry the id to resume exactly.
  for (let i = 0; i < 30; i++) input.push({ sessionId: 'r', ts: base + Math.floor(i / 2) * 10, role: 'user', content: `m${i}` });
  s.appendMessagesSync(input);
  s.appendMessagesSync([{ sessionId: 'other', role: 'user', content: 'x' }]);

  const all = s.rangeMessages('r', { limit: 1000 });
  assert.equal(all.messages.length, 30);
  assert.equal(all.cursor, null);
  const tsList = all.messages.map((m) => m.ts);
  assert.deepEqual(tsList, [...tsList].sort((a, b) => a - b));

  const latest = s.rangeMessages('r', { reverse: true, limit: 5 });
  assert.deepEqual(latest.messages.map((m) => m.id), all.messages.slice(-5).reverse().map((m) => m.id));
  assert.equal(typeof latest.cursor, 'string');

  for (const reverse of [false, true]) {
    const seen = [];
    let cursor = null;
    do {
      const page = s.rangeMessages('r', { limit: 7, reverse, cursor });
      seen.push(...page.messages.map((m) => m.id));
      cursor = page.cursor;
    } while (cursor !== null);
    const expect = all.messages.map((m) => m.id);
    assert.deepEqual(seen, reverse ? expect.reverse() : expect);
  }

  const window = s.rangeMessages('r', { start: base + 20, end: base + 60 });
  assert.deepEqual(window.messages.map((m) => m.content), ['m4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11']);
  const byDate = s.rangeMessages('r', { start: new Date(0), end: new Date(Date.UTC(2100, 0)) });
  assert.equal(byDate.messages.length, 30);

  assert.deepEqual(s.rangeMessages('nobody'), { messages: [], cursor: null });
  assert.deepEqual([...s.iterateMessages('r', { pageSize: 4 })].map((m) => m.id), all.messages.map((m) => m.id));
  assert.equal([...s.iterateMessages('r', { pageSize: 4, limit: 9 })].length, 9);
  const newest3 = [...s.iterateMessages('r', { reverse: true, pageSize: 2, limit: 3 })];
  assert.deepEqual(newest3.map((m) => m.content), ['m29', 'm28', 'm27']);
});

test('range errors: invalid cursor, wrong direction, limit', (t) => {
  const s = tempStore(t);
  const input = [];
  for (let i = 0; i < 5; i++) input.push({ sessionId: 'c', role: 'user', content: `${i}` });
  s.appendMessagesSync(input);
  const { cursor } = s.rangeMessages('c', { limit: 2 });
  assert.throws(() => s.rangeMessages('c', { cursor: 'garbage!!' }), isLmsError('LMS_BAD_CURSOR'));
  assert.throws(() => s.rangeMessages('c', { cursor: '' }), isLmsError('LMS_BAD_CURSOR'));
  assert.throws(() => s.rangeMessages('c', { cursor: 42 }), isLmsError('LMS_BAD_CURSOR'));
  assert.throws(() => s.rangeMessages('c', { cursor, reverse: true }), isLmsError('LMS_BAD_CURSOR'));
  assert.throws(() => s.rangeAgentMessages('a', { cursor }), isLmsError('LMS_BAD_CURSOR'));
  assert.throws(() => s.listSessions({ cursor }), isLmsError('LMS_BAD_CURSOR'));
  assert.throws(() => s.rangeMessages('c', { limit: 0 }), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.rangeMessages('c', { limit: 10001 }), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.rangeMessages('c', { start: 'yesterday' }), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.rangeMessages(undefined), isLmsError('LMS_INVALID_ARGUMENT'));
});

test('agent range across sessions', async (t) => {
  const s = tempStore(t);
  await s.appendMessages([
    { sessionId: 'a', role: 'assistant', agentId: 'planner', content: 'a1', ts: 1_000_000 },
    { sessionId: 'b', role: 'assistant', agentId: 'planner', content: 'b1', ts: 2_000_000 },
    { sessionId: 'b', role: 'assistant', agentId: 'coder', content: 'b2', ts: 3_000_000 },
    { sessionId: 'a', role: 'assistant', agentId: 'planner', content: 'a2', ts: 4_000_000 },
  ]);
  assert.deepEqual(s.rangeAgentMessages('planner').messages.map((m) => m.content), ['a1', 'b1', 'a2']);
  assert.deepEqual(s.rangeAgentMessages('planner', { reverse: true, limit: 2 }).messages.map((m) => m.content), ['a2', 'b1']);
  assert.deepEqual([...s.iterateAgentMessages('planner', { pageSize: 1 })].map((m) => m.sessionId), ['a', 'b', 'a']);
  assert.deepEqual(s.rangeAgentMessages('planner', { start: 2_000_000, end: 4_000_000 }).messages.map((m) => m.content), ['b1']);
  assert.deepEqual(s.rangeAgentMessages('nobody').messages, []);
});

test('update keeps the place; delete; trim to count and by time', async (t) => {
  const s = tempStore(t);
  const input = [];
  for (let i = 0; i < 10; i++) input.push({ sessionId: 't', role: 'user', content: `m${i}`, ts: 1_000_000 + i * 1000, metadata: { i } });
  const ids = s.appendMessagesSync(input).map((r) => r.id);

  await s.updateMessage(ids[3], { content: 'edited' });
  s.updateMessageSync(ids[4], { metadata: { edited: true } });
  await s.updateMessage(ids[5], { content: 'both', metadata: {} });
  const m3 = s.getMessage(ids[3]);
  assert.equal(m3.content, 'edited');
  assert.deepEqual(m3.metadata, { i: 3 }, 'metadata untouched when only content changes');
  assert.ok(m3.updatedAt > m3.createdAt || m3.updatedAt >= m3.createdAt);
  assert.deepEqual(s.getMessage(ids[4]).metadata, { edited: true });
  assert.equal(s.getMessage(ids[4]).content, 'm4');
  assert.deepEqual(s.getMessage(ids[5]).metadata, {});
  assert.deepEqual(s.rangeMessages('t').messages.map((m) => m.id), ids, 'order unchanged by updates');

  const missing = '0190f1a2-0000-7000-8000-0000000000ee';
  await assert.rejects(s.updateMessage(missing, { content: 'x' }), isLmsError('LMS_NOT_FOUND'));
  assert.throws(() => s.updateMessageSync(missing, { content: 'x' }), isLmsError('LMS_NOT_FOUND'));
  assert.throws(() => s.updateMessageSync(ids[0], {}), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.updateMessageSync(ids[0], { metadata: [1] }), isLmsError('LMS_INVALID_ARGUMENT'));

  assert.equal(await s.deleteMessage(ids[0]), true);
  assert.equal(s.deleteMessageSync(ids[0]), false);
  assert.equal(s.getMessage(ids[0]), undefined);

  assert.equal(await s.trimSessionBefore('t', 1_003_000), 2, 'm1 and m2 go; m0 was deleted');
  assert.equal(s.trimSessionBeforeSync('t', new Date(0)), 0);
  assert.equal(s.trimSessionSync('t', 5), 2);
  assert.equal(await s.trimSession('t', 5), 0);
  assert.deepEqual(s.rangeMessages('t').messages.map((m) => m.content), ['m5', 'm6', 'm7', 'm8', 'm9'].map((c, i) => (i === 0 ? 'both' : c)));
  assert.equal(s.getSession('t').messageCount, 5);
  assert.equal(s.stats().messages, 5);
  assert.throws(() => s.trimSessionSync('t', -1), isLmsError('LMS_INVALID_ARGUMENT'));
});
