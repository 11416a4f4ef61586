'use strict';

// getTemplate() (latest / by version) and rangeMessages() read into one reusable Buffer per
// store (lms_get_template_into, lms_range_messages_into). These tests pin down what that must
// never change: records and pages larger than the buffer round-trip (it grows, or a one-off
// buffer is used), and nothing returned aliases the buffer the next read overwrites.

const test = require('node:test');
const assert = require('node:assert/strict');
const { tempStore, lmstore } = require('./helpers');

const INITIAL = 64 * 1024; // lib/call.js READ_BUFFER

// A deep copy that keeps Buffers Buffers (structuredClone makes them Uint8Arrays) and Dates Dates.
function clone(v) {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (v instanceof Date) return new Date(v.getTime());
  if (Array.isArray(v)) return v.map(clone);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)]));
  return v;
}

// Deterministic text that is not one repeated byte, with some multi-byte characters.
function text(n, seed) {
  let s = '';
  let x = seed;
  while (s.length < n) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += (x % 17 === 0 ? 'é ' : '') + x.toString(36) + ' ';
  }
  return s.slice(0, n);
}

test('a 200 KiB template round-trips through a 64 KiB read buffer, then small ones still do', (t) => {
  const s = tempStore(t);
  assert.equal(s._read.buf.length, INITIAL, 'the store starts with the documented buffer');
  const big = text(200 * 1024, 1);
  const meta = { blob: Buffer.alloc(70 * 1024, 7), list: Array.from({ length: 2000 }, (_, i) => `item-${i}`) };
  s.putTemplateSync({ id: 'big', version: '1.0.0', template: big, metadata: meta });
  s.putTemplateSync({ id: 'small', version: '1.0.0', template: 'hi {{ x }}' });

  for (const got of [s.getTemplate('big'), s.getTemplate('big', { version: '1.0.0' })]) {
    assert.equal(got.template, big);
    assert.equal(got.version, '1.0.0');
    assert.ok(Buffer.isBuffer(got.metadata.blob));
    assert.ok(got.metadata.blob.equals(meta.blob));
    assert.deepEqual(got.metadata.list, meta.list);
  }
  assert.ok(s._read.buf.length >= 270 * 1024, `the buffer grew (now ${s._read.buf.length} bytes)`);
  assert.equal(s.getTemplate('small').template, 'hi {{ x }}');
  assert.equal(s.getTemplate('big', { alias: 'none' }), undefined);
  assert.equal(s.getTemplate('absent'), undefined);
});

test('a record above the keep limit is read into a one-off buffer', (t) => {
  const s = tempStore(t);
  const huge = text(5 * 1024 * 1024, 2); // above READ_KEEP_MAX (4 MiB)
  s.putTemplateSync({ id: 'huge', version: '2.0.0', template: huge });
  const before = s._read.buf.length;
  assert.equal(s.getTemplate('huge').template, huge);
  assert.equal(s.getTemplate('huge', { version: '2.0.0' }).template, huge);
  assert.equal(s._read.buf.length, before, 'the store did not keep a 5 MiB buffer');
});

test('templates never alias the read buffer: a second get leaves the first unchanged', (t) => {
  const s = tempStore(t);
  const specA = {
    id: 'a', version: '1.0.0', template: `A ${text(300, 3)}`, description: 'first',
    inputs: { x: { type: 'string' } }, metadata: { bin: Buffer.from([1, 2, 3, 4]), when: 'a', n: 1 },
  };
  const specB = {
    id: 'b', version: '1.0.0', template: `B ${text(300, 4)}`, description: 'second',
    inputs: { y: { type: 'number' } }, metadata: { bin: Buffer.from([9, 9, 9, 9]), when: 'b', n: 2 },
  };
  s.putTemplateSync(specA);
  s.putTemplateSync(specB);
  // A Date goes through msgpackr's timestamp extension: the fallback decoder must not alias either.
  s.putTemplateSync({ id: 'c', version: '1.0.0', template: 'C', metadata: { bin: Buffer.from([5, 5]), at: new Date(0) } });

  const a = s.getTemplate('a');
  const c = s.getTemplate('c', { version: '1.0.0' });
  const snapshotA = clone(a);
  const snapshotC = clone(c);
  const b = s.getTemplate('b', { version: '1.0.0' });
  s.getTemplate('c');
  s.rangeMessages('nobody'); // any other read into the same buffer
  assert.deepEqual(a, snapshotA);
  assert.deepEqual(c, snapshotC);
  assert.equal(b.template, specB.template);
  assert.deepEqual([...a.metadata.bin], [1, 2, 3, 4]);
  assert.deepEqual([...c.metadata.bin], [5, 5]);
  assert.ok(c.metadata.at instanceof Date);
  for (const bin of [a.metadata.bin, b.metadata.bin, c.metadata.bin]) {
    assert.notEqual(bin.buffer, s._read.buf.buffer, 'a binary value is a view of the read buffer');
  }
});

test('a page larger than the read buffer round-trips, forwards, backwards and by cursor', async (t) => {
  const s = tempStore(t);
  const input = [];
  for (let i = 0; i < 60; i++) {
    input.push({
      sessionId: 'big', role: i % 2 ? 'assistant' : 'user', agentId: i % 3 ? 'bot' : undefined,
      content: text(10 * 1024 + i, 100 + i), metadata: { i, bin: Buffer.alloc(16, i) },
    });
  }
  const ids = (await s.appendMessages(input)).map((r) => r.id);
  const all = s.rangeMessages('big', { limit: 1000 });
  assert.equal(all.cursor, null);
  assert.equal(all.messages.length, 60);
  assert.deepEqual(all.messages.map((m) => m.content), input.map((m) => m.content));
  assert.deepEqual(all.messages.map((m) => m.id), ids);
  assert.deepEqual(all.messages.map((m) => m.metadata.i), input.map((m) => m.metadata.i));
  assert.ok(all.messages.every((m, i) => m.metadata.bin.equals(Buffer.alloc(16, i))));
  assert.ok(s._read.buf.length > INITIAL, 'the buffer grew for a ~600 KiB page');

  const latest = s.rangeMessages('big', { reverse: true, limit: 50 }).messages;
  assert.deepEqual(latest.map((m) => m.id), ids.slice(10).reverse());
  const paged = [...s.iterateMessages('big', { pageSize: 7 })];
  assert.deepEqual(paged, all.messages);
  assert.deepEqual(s.getMessage(ids[33]), all.messages[33]);
});

test('pages never alias the read buffer: the next page leaves the first unchanged', async (t) => {
  const s = tempStore(t);
  const input = [];
  for (let i = 0; i < 20; i++) {
    input.push({ sessionId: 'p', role: 'user', content: `message ${i} ${text(50, i)}`, metadata: { bin: Buffer.alloc(8, i), i } });
  }
  // One with a Date forces the msgpackr fallback for its page.
  input.push({ sessionId: 'p', role: 'user', content: 'dated', metadata: { at: new Date(0), bin: Buffer.from([42]) } });
  await s.appendMessages(input);

  const first = s.rangeMessages('p', { limit: 10 });
  const snapshot = clone(first);
  const second = s.rangeMessages('p', { limit: 10, cursor: first.cursor });
  const third = s.rangeMessages('p', { limit: 10, cursor: second.cursor });
  s.getTemplate('nothing');
  assert.deepEqual(first, snapshot);
  assert.equal(third.messages.at(-1).content, 'dated');
  assert.ok(third.messages.at(-1).metadata.at instanceof Date);
  for (const page of [first, second, third]) {
    for (const m of page.messages) assert.notEqual(m.metadata.bin.buffer, s._read.buf.buffer);
  }
  assert.deepEqual([...first.messages[3].metadata.bin], Array(8).fill(3));
});

test('LMS_BUFFER_TOO_SMALL is a known code that the reads never surface', () => {
  assert.equal(lmstore.STATUS.LMS_BUFFER_TOO_SMALL, 15);
  assert.equal(new lmstore.LmstoreError(15, 'x').code, 'LMS_BUFFER_TOO_SMALL');
});

test('two stores read into their own buffers', (t) => {
  const s1 = tempStore(t);
  const s2 = tempStore(t);
  s1.putTemplateSync({ id: 'x', template: 'one' });
  s2.putTemplateSync({ id: 'x', template: 'two' });
  const a = s1.getTemplate('x');
  const b = s2.getTemplate('x');
  assert.equal(a.template, 'one');
  assert.equal(b.template, 'two');
  assert.notEqual(s1._read.buf, s2._read.buf);
});
