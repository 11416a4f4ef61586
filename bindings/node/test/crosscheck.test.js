'use strict';

// Records written by the core, read through the package's fast decoders (lib/decode.js, and
// the record mappings of lib/codec.js), compared field by field with the same bytes decoded
// by a generic MessagePack decoder (msgpackr, no mapping) and with the field lists of
// docs/format.md, the one description of the records. Every field, optional ones absent and
// present.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { Unpackr } = require('msgpackr');
const ffi = require('../lib/ffi');
const { tempStore } = require('./helpers');

const generic = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

// The fields of a paragraph of docs/format.md: every `name` outside parentheses; optional when
// "(omitted when absent)" follows it before the next field.
const format = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'format.md'), 'utf8');
function documented(title) {
  const start = format.indexOf(title);
  assert.ok(start >= 0, `docs/format.md describes "${title}"`);
  // Up to the end of the first sentence that ends a line.
  const para = format.slice(start + title.length, format.indexOf('.\n', start));
  const names = [];
  let depth = 0;
  for (let i = 0; i < para.length; i++) {
    const c = para[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '`') {
      const end = para.indexOf('`', i + 1);
      const word = para.slice(i + 1, end);
      if (depth === 0 && /^[a-z_]+$/.test(word)) names.push({ word, at: end });
      i = end;
    }
  }
  const fields = { required: [], optional: [] };
  names.forEach((n, k) => {
    const upto = k + 1 < names.length ? names[k + 1].at : para.length;
    (para.slice(n.at, upto).includes('omitted when absent') ? fields.optional : fields.required).push(n.word);
  });
  return fields;
}

const hex = (b) => Buffer.from(b).toString('hex');
const uuid = (b) => hex(b).replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** The raw record bytes of an _into read. */
function raw(fn, db, args) {
  const buf = Buffer.alloc(1 << 20);
  const len = Buffer.alloc(8);
  const rc = fn(db, ...args, buf, buf.length, len);
  assert.equal(rc, 0);
  return buf.subarray(0, Number(len.readBigUInt64LE(0)));
}

function checkKeys(record, fields, present, what) {
  const want = [...fields.required, ...(present ? fields.optional : [])].sort();
  assert.deepEqual(Object.keys(record).sort(), want, `${what}: the fields docs/format.md lists`);
}

test('message records: the fast decoder agrees with a generic decoder and docs/format.md', (t) => {
  const s = tempStore(t);
  const fields = documented('Message record (as returned; stored compact, below):');
  assert.deepEqual(fields.optional.sort(), ['agent_id', 'in_reply_to']);
  const bare = s.appendMessageSync({ sessionId: 'x', role: 'user' });
  const full = s.appendMessageSync({
    sessionId: 'x', role: 'assistant', agentId: 'bot', content: 'héllo 👋', inReplyTo: bare.id,
    ts: Date.now() * 1000 + 5, metadata: { n: 1, big: 2 ** 40, neg: -3, f: 1.5, s: 'x', b: true, nil: null, arr: [1, 'a'], bin: Buffer.from([1, 2]), deep: { a: { b: [] } } },
  });
  s.updateMessageSync(full.id, { content: 'edited' });
  for (const [r, present] of [[bare, false], [full, true]]) {
    const bytes = raw(ffi.native.get_message_into, s._db, [Buffer.from(r.id.replace(/-/g, ''), 'hex'), 16]);
    const g = generic.unpack(bytes);
    checkKeys(g, fields, present, 'message');
    const m = s.getMessage(r.id);
    const expect = {};
    for (const k of [...fields.required, ...fields.optional]) {
      let v = g[k];
      if (k === 'id' || k === 'in_reply_to') v = v === undefined ? undefined : uuid(v);
      expect[camel(k)] = v;
    }
    assert.deepEqual({ ...m }, expect);
    // The page decoder too.
    const page = s.rangeMessages('x').messages.find((x) => x.id === r.id);
    assert.deepEqual({ ...page }, expect);
  }
});

test('template records: the fast decoder agrees with a generic decoder and docs/format.md', (t) => {
  const s = tempStore(t);
  const fields = documented('Template record (stored as returned), keys in this order:');
  assert.deepEqual(fields.optional, ['description']);
  s.putTemplateSync({ id: 'bare', template: 'x' });
  s.putTemplateSync({
    id: 'full', version: '2.0.0', template: 'Hi {{ n }}', description: 'd',
    inputs: { n: { type: 'string', required: true, description: 'name', default: 'you' }, k: { type: 'number' } },
    metadata: { team: 'a', tags: ['x', 'y'], n: 3 },
  });
  for (const [id, present] of [['bare', false], ['full', true]]) {
    const bytes = raw(ffi.native.get_template_into, s._db, [id, id.length, null, 0]);
    const g = generic.unpack(bytes);
    checkKeys(g, fields, present, 'template');
    const expect = {};
    for (const k of [...fields.required, ...fields.optional]) expect[camel(k)] = g[k];
    assert.deepEqual({ ...s.getTemplate(id) }, expect);
  }
});

test('session records: the decoder agrees with a generic decoder and docs/format.md', (t) => {
  const s = tempStore(t);
  const fields = documented('Session (as returned; stored as above):');
  s.createSessionSync('bare');
  s.createSessionSync('full', { title: 't', metadata: { a: 1 } });
  s.appendMessageSync({ sessionId: 'full', role: 'user' });
  for (const id of ['bare', 'full']) {
    const bytes = raw(ffi.native.get_session_into, s._db, [id, id.length]);
    const g = generic.unpack(bytes);
    checkKeys(g, fields, true, 'session');
    const expect = {};
    for (const k of fields.required) expect[camel(k)] = g[k] === null ? undefined : g[k];
    assert.deepEqual({ ...s.getSession(id) }, expect);
  }
});
