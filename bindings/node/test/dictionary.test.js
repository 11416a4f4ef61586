'use strict';

// Compression dictionaries: trainDictionary / trainDictionarySync and dictionaries()
// (lms_train_dictionary, lms_list_dictionaries). The same story as the Go binding's
// TestDictionaries: too few messages, a first training, bodies written with it read back
// exactly, a refused min_body, a second training, the list, and a read-only handle.

const test = require('node:test');
const assert = require('node:assert/strict');
const { tempDir, tempStore, isLmsError, lmstore } = require('./helpers');

const CHAT_WORDS = `the a to and of it is you we can please thanks could would should
  this that what how why when message store session prompt template reply model token answer
  question error retry deploy config file line code test build run fails works maybe sure
  great okay check again later today tomorrow yes no`.split(/\s+/);

/** A seeded generator of integers in [0, n) (xorshift32), so every run stores the same text. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/**
 * `n` chat-like messages over four sessions, each of 20 to 70 words from CHAT_WORDS (bodies of
 * roughly 100 to 450 bytes, both sides of the default min_body of 256), no two alike (`seen`
 * holds every content so far), with a little metadata.
 */
function chatMessages(next, seen, n) {
  const out = [];
  while (out.length < n) {
    const words = new Array(20 + next(51));
    for (let i = 0; i < words.length; i++) words[i] = CHAT_WORDS[next(CHAT_WORDS.length)];
    const content = words.join(' ');
    if (seen.has(content)) continue;
    seen.add(content);
    const i = seen.size;
    out.push({
      sessionId: `chat-${i % 4}`,
      role: i % 2 ? 'user' : 'assistant',
      content,
      metadata: { tokens: words.length, n: i },
    });
  }
  return out;
}

/** Appends `messages` and records each under the id the store gave it. */
async function appendAll(store, want, messages) {
  const results = await store.appendMessages(messages);
  assert.equal(results.length, messages.length);
  results.forEach((r, i) => {
    assert.equal(r.duplicate, false);
    want.set(r.id, messages[i]);
  });
}

/** Reads every session back in full and compares each message with what was appended. */
function checkAll(store, want) {
  const sessions = new Set([...want.values()].map((m) => m.sessionId));
  let read = 0;
  for (const s of sessions) {
    for (const got of store.iterateMessages(s, { pageSize: 250 })) {
      const w = want.get(got.id);
      assert.ok(w, `unexpected message ${got.id} in ${s}`);
      assert.equal(got.content, w.content, `content of ${got.id}`);
      assert.equal(got.sessionId, w.sessionId);
      assert.equal(got.role, w.role);
      assert.deepEqual(got.metadata, w.metadata, `metadata of ${got.id}`);
      read++;
    }
  }
  assert.equal(read, want.size, 'every message read back');
}

/** An LmstoreError with this code, op and a message matching `re` (a string: exactly that). */
function lmsError(code, op, re) {
  return (e) => {
    isLmsError(code)(e);
    assert.equal(e.op, op);
    if (typeof re === 'string') assert.equal(e.message, re);
    else assert.match(e.message, re);
    return true;
  };
}

test('train, write with it, read back, train again, list; read-only handles list but cannot train', async (t) => {
  const dir = tempDir(t);
  const s = lmstore.open(dir, { noSync: true });
  let open = true;
  t.after(() => open && s.close());

  assert.deepEqual(s.dictionaries(), [], 'a new store has no dictionaries');

  // Too few messages: the library says how many it found and how many it needs, in both forms.
  const tooFew = 'too few messages to train a dictionary: 0 found, at least 500 needed';
  await assert.rejects(s.trainDictionary(), (e) => {
    lmsError('LMS_INVALID_ARGUMENT', 'trainDictionary', `trainDictionary: ${tooFew}`)(e);
    assert.equal(e.status, lmstore.STATUS.LMS_INVALID_ARGUMENT);
    return true;
  });
  assert.throws(() => s.trainDictionarySync(), lmsError('LMS_INVALID_ARGUMENT', 'trainDictionarySync', `trainDictionarySync: ${tooFew}`));

  const next = rng(0x5eed);
  const seen = new Set();
  const want = new Map();
  await appendAll(s, want, chatMessages(next, seen, 600));
  assert.equal(s.stats().messages, 600);

  const first = await s.trainDictionary();
  assert.deepEqual(Object.keys(first).sort(), ['bytes', 'minBody', 'version', 'zstdId']);
  assert.equal(first.version, 1);
  assert.equal(first.minBody, 256, 'minBody omitted: the default');
  assert.ok(first.bytes > 0 && Number.isSafeInteger(first.bytes), `bytes ${first.bytes}`);
  assert.ok(first.zstdId > 0, `zstdId ${first.zstdId}`);
  assert.deepEqual(s.dictionaries(), [first]);

  // New bodies of 256 bytes and more are compressed with it; all of them read back as written.
  await appendAll(s, want, chatMessages(next, seen, 600));
  checkAll(s, want);

  // min_body 1 to 31 is the library's to refuse, in its words.
  await assert.rejects(s.trainDictionary({ minBody: 5 }), lmsError('LMS_INVALID_ARGUMENT', 'trainDictionary', /min_body/));
  assert.throws(() => s.trainDictionarySync({ minBody: 31 }), lmsError('LMS_INVALID_ARGUMENT', 'trainDictionarySync', /min_body/));
  assert.equal(s.dictionaries().length, 1, 'a refused training stores nothing');

  const second = await s.trainDictionary({ minBody: 512 });
  assert.equal(second.version, 2);
  assert.equal(second.minBody, 512);
  assert.ok(second.bytes > 0);
  assert.notEqual(second.zstdId, first.zstdId);

  // Records compressed with either dictionary (and without one) read back unchanged, also
  // bodies of 512 bytes and more written after the second.
  const long = chatMessages(next, seen, 50).map((m) => ({ ...m, content: `${m.content} ${m.content} ${m.content}` }));
  await appendAll(s, want, long);
  checkAll(s, want);

  const ds = s.dictionaries();
  assert.equal(ds.length, 2);
  assert.deepEqual(ds[0], { version: 1, zstdId: first.zstdId, bytes: first.bytes, minBody: 0 }, 'earlier dictionaries list minBody 0');
  assert.deepEqual(ds[1], second, 'the current one is last, as trained');
  assert.notEqual(ds[0].zstdId, ds[1].zstdId);
  s.close();
  open = false;

  // A read-only handle lists them and reads through them, but cannot train.
  const ro = lmstore.open(dir, { readOnly: true });
  t.after(() => ro.close());
  assert.deepEqual(ro.dictionaries(), ds);
  checkAll(ro, want);
  await assert.rejects(ro.trainDictionary(), lmsError('LMS_READ_ONLY', 'trainDictionary', /^trainDictionary: /));
  assert.throws(() => ro.trainDictionarySync({ minBody: 512 }), lmsError('LMS_READ_ONLY', 'trainDictionarySync', /^trainDictionarySync: /));
  assert.deepEqual(ro.dictionaries(), ds, 'still two');
});

test('minBody is checked before the library sees it (an integer from 0 to 2^32 - 1)', async (t) => {
  const s = tempStore(t);
  const bad = [
    [{ minBody: '512' }, /minBody must be a number, got string/],
    [{ minBody: 256n }, /minBody must be a number, got bigint/],
    [{ minBody: -1 }, /minBody must be a non-negative integer, got -1/],
    [{ minBody: 300.5 }, /minBody must be a non-negative integer, got 300.5/],
    [{ minBody: NaN }, /minBody must be a non-negative integer, got NaN/],
    // It would wrap to 0 (the default) as a uint32.
    [{ minBody: 2 ** 32 }, /minBody must be at most 4294967295, got 4294967296/],
    [{ min_body: 512 }, /unknown option "min_body" \(known: minBody\)/],
    [512, /options must be an object, got number/],
  ];
  for (const [opts, re] of bad) {
    const p = s.trainDictionary(opts);
    assert.ok(p instanceof Promise, 'a bad argument rejects rather than throws');
    await assert.rejects(p, lmsError('LMS_INVALID_ARGUMENT', 'trainDictionary', re));
    assert.throws(() => s.trainDictionarySync(opts), lmsError('LMS_INVALID_ARGUMENT', 'trainDictionarySync', re));
  }
  // In range, the library answers: here, too few messages (so the checks above came first).
  for (const minBody of [0, 32, 2 ** 32 - 1]) {
    assert.throws(() => s.trainDictionarySync({ minBody }), lmsError('LMS_INVALID_ARGUMENT', 'trainDictionarySync', /too few messages/));
  }
  await assert.rejects(s.trainDictionary(null), lmsError('LMS_INVALID_ARGUMENT', 'trainDictionary', /too few messages/));
});

test('training starts after the writes called before it; close() waits for a training', async (t) => {
  const dir = tempDir(t);
  const s = lmstore.open(dir, { noSync: true });
  const next = rng(42);
  const seen = new Set();

  // Not awaited: the Promise form waits for them, so the store holds 600 when it samples.
  const appended = s.appendMessages(chatMessages(next, seen, 600));
  const first = await s.trainDictionary();
  assert.equal((await appended).length, 600);
  assert.equal(first.version, 1);

  // The Sync form commits the queued writes on this thread first.
  const more = s.appendMessages(chatMessages(next, seen, 600));
  const second = s.trainDictionarySync({ minBody: 300 });
  assert.equal(second.version, 2, 'trained on 1,200 messages, a new dictionary');
  assert.equal(second.minBody, 300);
  assert.equal((await more).length, 600);

  // close() while a training runs on its worker: the training completes, then the handle goes.
  const late = s.appendMessages(chatMessages(next, seen, 100));
  const third = s.trainDictionary({ minBody: 1024 });
  s.close();
  assert.equal((await late).length, 100);
  const d = await third;
  assert.equal(d.version, 3);
  assert.equal(d.minBody, 1024);

  // Every call after close throws (or rejects with) LMS_CLOSED.
  await assert.rejects(s.trainDictionary(), isLmsError('LMS_CLOSED'));
  assert.throws(() => s.trainDictionarySync(), isLmsError('LMS_CLOSED'));
  assert.throws(() => s.dictionaries(), isLmsError('LMS_CLOSED'));

  const again = lmstore.open(dir, { readOnly: true });
  t.after(() => again.close());
  assert.deepEqual(again.dictionaries().map((x) => [x.version, x.minBody]), [[1, 0], [2, 0], [3, 1024]]);
  assert.equal(again.stats().messages, 1300);
});
