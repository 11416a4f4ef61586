'use strict';

// The write scheduler (lib/writer.js): call order, one batch per event-loop turn, one pool
// thread per store, errors in the library's words for writes that ran on the pool.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const { tempDir, tempStore, isLmsError, lmstore } = require('./helpers');

test('writes commit in call order without await (200 sessions, user then reply)', async (t) => {
  const s = tempStore(t, { noSync: true });
  const all = [];
  for (let i = 0; i < 200; i++) {
    const p1 = s.appendMessage({ sessionId: `o${i}`, role: 'user', content: 'question' });
    const p2 = s.appendMessage({ sessionId: `o${i}`, role: 'assistant', content: 'reply' });
    all.push(p1, p2);
  }
  await Promise.all(all);
  for (let i = 0; i < 200; i++) {
    assert.deepEqual(s.rangeMessages(`o${i}`).messages.map((m) => m.role), ['user', 'assistant'], `session o${i}`);
  }
});

test('a synchronous write commits after the async writes issued before it', async (t) => {
  const s = tempStore(t, { noSync: true });
  const p = s.appendMessage({ sessionId: 'mix', role: 'user', content: 'first (async)' });
  s.appendMessageSync({ sessionId: 'mix', role: 'assistant', content: 'second (sync)' });
  const q = s.appendMessage({ sessionId: 'mix', role: 'user', content: 'third (async)' });
  await Promise.all([p, q]);
  assert.deepEqual(s.rangeMessages('mix').messages.map((m) => m.content), ['first (async)', 'second (sync)', 'third (async)']);
  // A failing write in the queue does not fail the others, and keeps its own error.
  const bad = s.updateMessage('00000000-0000-7000-8000-000000000000', { content: 'x' });
  const ok = s.appendMessage({ sessionId: 'mix', role: 'user', content: 'fourth' });
  await assert.rejects(bad, isLmsError('LMS_NOT_FOUND'));
  await ok;
  assert.equal(s.getSession('mix').messageCount, 4);
});

test('writes issued in one turn go to the library as one batch, on one pool thread', async (t) => {
  const s = tempStore(t); // durable
  const before = s._writer.batches;
  const ps = [];
  for (let i = 0; i < 500; i++) ps.push(s.appendMessage({ sessionId: `b${i % 7}`, role: 'user', content: `m${i}` }));
  ps.push(s.createSession('made-in-the-batch', { title: 't' }));
  ps.push(s.putTemplate({ id: 'tpl', template: 'x' }));
  const r = await Promise.all(ps);
  assert.equal(s._writer.batches - before, 1, 'one lms_write_batch call for one turn of writes');
  assert.equal(r[500], undefined);
  assert.equal(r[501], 'created');
  assert.equal(s.stats().messages, 500);
  // Writes issued while a batch runs form the next one: never two batches of a store at once.
  const next = [];
  for (let i = 0; i < 3; i++) {
    next.push(s.appendMessage({ sessionId: 'later', role: 'user', content: `l${i}` }));
    await new Promise((res) => setImmediate(res));
  }
  await Promise.all(next);
  assert.deepEqual(s.rangeMessages('later').messages.map((m) => m.content), ['l0', 'l1', 'l2']);
});

test('an async write that fails gets the library\'s words (no synchronous re-run)', async (t) => {
  const s = tempStore(t);
  await s.putTemplate({ id: 'c', version: '1.0.0', template: 'one' });
  await assert.rejects(s.putTemplate({ id: 'c', version: '1.0.0', template: 'two' }), (e) => {
    assert.equal(e.code, 'LMS_CONFLICT');
    assert.match(e.message, /^putTemplate: .*1\.0\.0.*\(pass \{replace: true\} to replace it\)$/);
    return true;
  });
  await assert.rejects(s.setTemplateAlias('c', 'prod', '9.9.9'), (e) => {
    assert.equal(e.code, 'LMS_NOT_FOUND');
    assert.match(e.message, /^setTemplateAlias: .*9\.9\.9/);
    return true;
  });
  await assert.rejects(s.putTemplate({ id: 'c', template: 'x', bogus: 1 }), (e) => {
    assert.equal(e.code, 'LMS_INVALID_ARGUMENT');
    assert.match(e.message, /^putTemplate: .*bogus/);
    return true;
  });
  const ro = lmstore.open(s.path, { readOnly: true });
  t.after(() => ro.close());
  await assert.rejects(ro.createSession('x'), (e) => {
    assert.equal(e.code, 'LMS_READ_ONLY');
    assert.match(e.message, /^createSession: .*read-only/);
    return true;
  });
});

test('close() with writes queued: they complete, then the handle closes', async (t) => {
  const dir = tempDir(t);
  const s = lmstore.open(dir);
  const ps = [];
  for (let i = 0; i < 50; i++) ps.push(s.appendMessage({ sessionId: 'c', role: 'user', content: `m${i}` }));
  s.close();
  await Promise.all(ps);
  const again = lmstore.open(dir);
  assert.equal(again.getSession('c').messageCount, 50);
  again.close();
});

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function statLatencies(file, n, during) {
  const lat = [];
  const work = during ? during() : Promise.resolve();
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    // eslint-disable-next-line no-await-in-loop
    await fs.promises.stat(file);
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await work;
  lat.sort((a, b) => a - b);
  return { p50: percentile(lat, 0.5), p99: percentile(lat, 0.99) };
}

test('fs.promises.stat latency beside 5,000 concurrent durable appends (reported, not asserted)', async (t) => {
  const s = tempStore(t); // durable commits
  const file = __filename;
  const idle = await statLatencies(file, 500);
  let appended = 0;
  const busy = await statLatencies(file, 500, () => {
    const ps = [];
    for (let i = 0; i < 5000; i++) ps.push(s.appendMessage({ sessionId: `p${i % 50}`, role: 'user', content: `m${i}` }).then(() => appended++));
    return Promise.all(ps);
  });
  assert.equal(appended, 5000);
  const line = `fs.promises.stat p50/p99: idle ${idle.p50.toFixed(3)}/${idle.p99.toFixed(3)} ms; `
    + `beside 5,000 concurrent durable appends ${busy.p50.toFixed(3)}/${busy.p99.toFixed(3)} ms `
    + `(${s._writer.batches} lms_write_batch calls, one pool thread at a time)`;
  t.diagnostic(line);
  if (process.env.LMSTORE_REPORT) console.log(line);
});
