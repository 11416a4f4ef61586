'use strict';

// The fast page decoder must give exactly what msgpackr + the record mapping give.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Packr } = require('msgpackr');
const { decodeMessages, decodeMessage, decodeTemplate } = require('../lib/decode');
const { unpack, messageFromRecord, templateFromRecord } = require('../lib/codec');
const { tempStore } = require('./helpers');

const packr = new Packr({ useRecords: false, int64AsType: 'number' });
const slowPage = (d) => unpack(d).map(messageFromRecord);
const slowOne = (d) => messageFromRecord(unpack(d));
const id = (n) => Buffer.from(`0190f1a2000070008000${String(n).padStart(12, '0')}`, 'hex');

function record(i, extra) {
  return {
    id: id(i), session_id: `sess-${i}`, ts: 1_750_000_000_000_000 + i, role: i % 2 ? 'assistant' : 'user',
    content: 'x'.repeat(i * 7), metadata: {}, created_at: 1_750_000_000_000_000, updated_at: 1_750_000_000_000_001,
    ...extra,
  };
}

test('every MessagePack shape decodes as msgpackr decodes it', () => {
  const metadata = {
    small: 1, neg: -3, neg8: -100, neg16: -30000, neg32: -2_000_000_000, big: 2 ** 40, negbig: -(2 ** 40), u8: 200,
    u16: 60000, u32: 4_000_000_000, f: 1.5, tiny: 0.1, t: true, f0: false, nil: null,
    s: 'é短い🎉', long: 'ü'.repeat(300), ascii31: 'a'.repeat(31), ascii17: 'b'.repeat(17), empty: '', bin: Buffer.from([1, 2, 3]),
    arr: [1, 'two', [3], { four: 4 }], nested: { deep: { deeper: ['x'] } }, ['__proto__']: { evil: true }, '': 'empty key',
    many: Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`k${k}`, k])), list: Array.from({ length: 40 }, (_, k) => k),
  };
  const records = [];
  for (let i = 0; i < 40; i++) records.push(record(i, i % 3 ? { agent_id: `agent-${i}`, in_reply_to: id(i + 1000), metadata } : {}));
  const data = packr.pack(records);
  assert.deepEqual(decodeMessages(data, data.length, slowPage), slowPage(data));
  const one = packr.pack(records[1]);
  assert.deepEqual(decodeMessage(one, one.length, slowOne), slowOne(one));
  const md = decodeMessages(data, data.length, slowPage)[1].metadata;
  assert.equal(md.__proto_.evil, true, 'renamed as msgpackr does');
  assert.equal(Object.getPrototypeOf(md), Object.prototype);
  assert.equal({}.evil, undefined);
});

test('what it does not expect falls back to msgpackr', () => {
  const withDate = packr.pack([record(1, { metadata: { when: new Date(0) } })]); // msgpackr timestamp extension
  assert.deepEqual(decodeMessages(withDate, withDate.length, slowPage), slowPage(withDate));
  assert.ok(decodeMessages(withDate, withDate.length, slowPage)[0].metadata.when instanceof Date);
  const truncated = packr.pack([record(1), record(2)]).subarray(0, 40);
  assert.throws(() => decodeMessages(truncated, truncated.length, slowPage));
});

test('pages read from a store match the msgpackr path', (t) => {
  const s = tempStore(t);
  const input = [];
  for (let i = 0; i < 120; i++) {
    input.push({ sessionId: 'p', role: 'user', agentId: i % 2 ? 'a' : undefined, content: `${i} ${'ß'.repeat(i)}`, metadata: { i, tags: ['x', i] } });
  }
  const ids = s.appendMessagesSync(input).map((r) => r.id);
  s.appendMessageSync({ sessionId: 'p', role: 'tool', inReplyTo: ids[0], content: '' });
  const page = s.rangeMessages('p', { limit: 1000 }).messages;
  assert.equal(page.length, 121);
  assert.deepEqual(page.slice(0, 120).map((m) => m.content), input.map((m) => m.content));
  assert.equal(page[120].inReplyTo, ids[0]);
  assert.deepEqual(s.getMessage(ids[7]), page[7]);
});

test('template records decode as msgpackr + templateFromRecord, also from a longer reused buffer', () => {
  const slowTemplate = (d, len) => templateFromRecord(unpack(d, len));
  const shapes = [
    { id: 'a', version: '1.0.0', template: 'x', description: null, inputs: {}, metadata: {}, created_at: 1_750_000_000_000_000 },
    { id: 'ünï/コード', version: '2.0.0-rc.1', template: 'é'.repeat(500), description: 'd', created_at: 1,
      inputs: { q: { type: 'string', required: false, default: 'hi' } },
      metadata: { bin: Buffer.from([1, 2]), n: -(2 ** 40), f: 0.5, list: [null, true, 'x'.repeat(40)], ['__proto__']: { evil: 1 } } },
    { id: 'b', version: '1', template: '', inputs: {}, metadata: {}, created_at: 2, future_field: [1, 2, 3] },
    { id: 'c', version: '1', template: 't', inputs: {}, metadata: { at: new Date(0) }, created_at: 3 }, // extension: fallback
  ];
  const reused = Buffer.alloc(64 * 1024, 0x91); // stale bytes past the end must not be read
  for (const r of shapes) {
    const data = packr.pack(r);
    data.copy(reused);
    const fast = decodeTemplate(reused, data.length, slowTemplate);
    assert.deepEqual(fast, slowTemplate(data, data.length));
    if (r.metadata.bin) assert.notEqual(fast.metadata.bin.buffer, reused.buffer);
  }
  assert.throws(() => decodeTemplate(reused, 3, slowTemplate), 'a truncated record fails in msgpackr');
});
