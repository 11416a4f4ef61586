'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { tempStore, isLmsError } = require('./helpers');

test('create, get, update, conflict, not found', async (t) => {
  const s = tempStore(t);
  await s.createSession('s1', { title: 'First', metadata: { user: 'u1' } });
  const got = s.getSession('s1');
  assert.equal(got.sessionId, 's1');
  assert.equal(got.title, 'First');
  assert.deepEqual(got.metadata, { user: 'u1' });
  assert.equal(got.messageCount, 0);
  assert.ok(Number.isSafeInteger(got.createdAt));
  await assert.rejects(s.createSession('s1'), isLmsError('LMS_CONFLICT'));
  assert.throws(() => s.createSessionSync('s1'), isLmsError('LMS_CONFLICT'));

  s.createSessionSync('s2');
  assert.equal(s.getSession('s2').title, undefined);
  assert.deepEqual(s.getSession('s2').metadata, {});

  await s.updateSession('s1', { title: 'Renamed' });
  assert.equal(s.getSession('s1').title, 'Renamed');
  assert.deepEqual(s.getSession('s1').metadata, { user: 'u1' });
  s.updateSessionSync('s1', { metadata: { user: 'u2' } });
  assert.equal(s.getSession('s1').title, 'Renamed');
  assert.deepEqual(s.getSession('s1').metadata, { user: 'u2' });
  assert.equal(s.getSession('nope'), undefined);
  await assert.rejects(s.updateSession('nope', { title: 'x' }), isLmsError('LMS_NOT_FOUND'));
  assert.throws(() => s.updateSessionSync('s1', {}), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.createSessionSync('x'.repeat(256)), isLmsError('LMS_KEY_TOO_LONG'));
});

test('a null title clears it', (t) => {
  const s = tempStore(t);
  s.createSessionSync('s1', { title: 'First' });
  s.updateSessionSync('s1', { title: null });
  assert.equal(s.getSession('s1').title, undefined);
});

test('first append creates the session; counts and last ts follow', async (t) => {
  const s = tempStore(t);
  const r = await s.appendMessages([
    { sessionId: 'auto', role: 'user', content: 'a' },
    { sessionId: 'auto', role: 'user', content: 'b' },
  ]);
  const got = s.getSession('auto');
  assert.equal(got.messageCount, 2);
  assert.equal(got.lastTs, r[1].ts);
  assert.equal(s.stats().sessions, 1);
});

test('list by most recent activity with paging; iterate', async (t) => {
  const s = tempStore(t);
  for (let i = 0; i < 12; i++) {
    s.appendMessageSync({ sessionId: `s${i}`, role: 'user', content: 'x' });
  }
  // Touch s3 last: it moves to the front.
  s.appendMessageSync({ sessionId: 's3', role: 'user', content: 'again' });
  const first = s.listSessions({ limit: 5 });
  assert.equal(first.sessions.length, 5);
  assert.equal(first.sessions[0].sessionId, 's3');
  const all = [];
  let cursor = null;
  do {
    const page = s.listSessions({ limit: 5, cursor });
    all.push(...page.sessions.map((x) => x.sessionId));
    cursor = page.cursor;
  } while (cursor !== null);
  assert.equal(all.length, 12);
  assert.equal(new Set(all).size, 12);
  const acts = [...s.iterateSessions({ pageSize: 4 })].map((x) => x.lastActivity);
  assert.deepEqual(acts, [...acts].sort((a, b) => b - a));
  assert.deepEqual([...s.iterateSessions({ pageSize: 4 })].map((x) => x.sessionId), all);
});

test('delete a session takes its messages and agent index entries with it', async (t) => {
  const s = tempStore(t);
  const [m] = s.appendMessagesSync([
    { sessionId: 'gone', role: 'user', agentId: 'ag', content: 'x' },
    { sessionId: 'gone', role: 'user', agentId: 'ag', content: 'y' },
    { sessionId: 'kept', role: 'user', agentId: 'ag', content: 'z' },
  ]);
  assert.equal(await s.deleteSession('gone'), true);
  assert.equal(s.deleteSessionSync('gone'), false);
  assert.equal(s.getSession('gone'), undefined);
  assert.equal(s.getMessage(m.id), undefined);
  assert.deepEqual(s.rangeMessages('gone').messages, []);
  assert.deepEqual(s.rangeAgentMessages('ag').messages.map((x) => x.content), ['z']);
  assert.equal(s.stats().messages, 1);
  assert.equal(s.stats().sessions, 1);
});
