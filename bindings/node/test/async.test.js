'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { tempDir, lmstore } = require('./helpers');

// Timer ticks: how many fired while `work` ran, and the longest gap between two of them
// (the longest the event loop was blocked).
async function tickDuring(work) {
  let ticks = 0;
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 2);
  const t0 = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const elapsed = performance.now() - t0;
  maxGap = Math.max(maxGap, performance.now() - last);
  return { ticks, maxGap, elapsed };
}

test('timers keep firing during many durable async appends', async (t) => {
  const store = lmstore.open(tempDir(t)); // durable: every commit is flushed before it resolves
  t.after(() => store.close());

  let appended = 0;
  const r = await tickDuring(async () => {
    // Enough commits to take a while on any disk: at least 300 and at least 400 ms.
    const t0 = performance.now();
    while (appended < 300 || performance.now() - t0 < 400) {
      const wave = [];
      for (let i = 0; i < 8; i++) wave.push(store.appendMessage({ sessionId: 'durable', role: 'user', content: `m${appended + i}` }));
      await Promise.all(wave);
      appended += wave.length;
    }
  });
  assert.equal(store.getSession('durable').messageCount, appended);
  // 2 ms timers over >= 400 ms: a free loop fires ~200 times; demand a small fraction of it
  // so a loaded CI machine cannot make this flaky.
  assert.ok(r.ticks >= 20, `timers fired ${r.ticks} times in ${r.elapsed.toFixed(0)} ms`);
  assert.ok(r.maxGap < 250, `event loop blocked for ${r.maxGap.toFixed(0)} ms at once`);

  // The control: the same work through the Sync form holds the loop for its whole length.
  const blocked = await tickDuring(async () => {
    for (let i = 0; i < 100; i++) store.appendMessageSync({ sessionId: 'durable', role: 'user', content: 'sync' });
  });
  assert.ok(blocked.ticks <= 1, `no timer can fire inside a synchronous loop (${blocked.ticks})`);
  t.diagnostic(`async: ${appended} durable appends in ${r.elapsed.toFixed(0)} ms, ${r.ticks} ticks, max gap ${r.maxGap.toFixed(1)} ms; ` +
    `sync: 100 appends blocked ${blocked.maxGap.toFixed(0)} ms`);
});

test('concurrent async writes far beyond koffi\'s queue all land, in one piece', async (t) => {
  const store = lmstore.open(tempDir(t), { noSync: true });
  t.after(() => store.close());
  const pending = [];
  for (let i = 0; i < 1500; i++) pending.push(store.appendMessage({ sessionId: `c${i % 10}`, role: 'user', content: `${i}` }));
  const results = await Promise.all(pending);
  assert.equal(new Set(results.map((r) => r.id)).size, 1500);
  assert.equal(store.stats().messages, 1500);
  for (let i = 0; i < 10; i++) {
    const ts = store.rangeMessages(`c${i}`, { limit: 1000 }).messages.map((m) => m.ts);
    assert.equal(ts.length, 150);
    assert.deepEqual(ts, [...ts].sort((a, b) => a - b));
  }
});

test('reads run while async writes are in flight', async (t) => {
  const store = lmstore.open(tempDir(t));
  t.after(() => store.close());
  store.putTemplateSync({ id: 'r', template: 'read me' });
  const writes = [];
  for (let i = 0; i < 64; i++) writes.push(store.appendMessage({ sessionId: 'rw', role: 'user', content: `${i}` }));
  let reads = 0;
  while (reads < 2000) {
    assert.equal(store.getTemplate('r').template, 'read me');
    store.rangeMessages('rw', { reverse: true, limit: 10 });
    reads++;
  }
  await Promise.all(writes);
  assert.equal(store.getSession('rw').messageCount, 64);
});
