'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { tempStore, isLmsError, lmstore } = require('./helpers');

const inputs = {
  topic: { type: 'string' },
  n: { type: 'number', required: false, default: 3 },
  tags: { type: 'array<string>', required: false },
};

test('render: latest, version, alias, coercion, Python printing, yaml', async (t) => {
  const s = tempStore(t);
  s.putTemplateSync({ id: 'plan', version: '1', inputs, template: 'Topic: {{ topic }} x{{ n }}\n{% if tags %}Tags:\n{{ tags|yaml }}{% endif %}' });
  s.putTemplateSync({ id: 'plan', version: '2', inputs, template: 'v2 {{ topic|upper }} {{ n }} {{ tags }}' });
  await s.setTemplateAlias('plan', 'prod', '1');
  const vars = { topic: 'LMDB', n: '2.5', tags: ['yes', 'a: b'], extra: 1 };
  assert.equal(s.render('plan', vars), "v2 LMDB 2.5 ['yes', 'a: b']");
  const want = "Topic: LMDB x2.5\nTags:\n- 'yes'\n- 'a: b'";
  assert.equal(s.render('plan', vars, { version: '1' }), want);
  assert.equal(s.render('plan', vars, { alias: 'prod' }), want);
  assert.equal(s.render('plan', { topic: 't' }, { version: '1' }), 'Topic: t x3\n');
  // Larger than the store's read buffer: grown and rendered again.
  const big = 'é'.repeat(40000);
  assert.equal(s.render('plan', { topic: big }), `v2 ${'É'.repeat(40000)} 3 None`);
});

test('render errors: codes and messages', async (t) => {
  const s = tempStore(t);
  s.putTemplateSync({ id: 'plan', inputs, template: '{{ topic }}{{ n }}{{ tags }}' });
  s.putTemplateSync({ id: 'fails', version: '7', template: 'a\n{{ audience }}' });
  assert.throws(() => s.render('plan', {}), (e) => isLmsError('LMS_INPUT')(e) && e.message === 'missing input: topic' && e.status === 16);
  assert.throws(() => s.render('plan', { topic: 't', n: 'abc' }), (e) => isLmsError('LMS_INPUT')(e) && e.message === "could not convert string to float: 'abc'");
  assert.throws(() => s.render('plan', { topic: 't', tags: [1] }), (e) => isLmsError('LMS_INPUT')(e) && e.message === "type mismatch for 'tags': expected array<string>");
  assert.throws(() => s.render('fails'), (e) => isLmsError('LMS_RENDER')(e) && e.status === 17
    && e.message === "'audience' is undefined (template 'fails' version '7', line 2)");
  assert.throws(() => s.render('nope'), isLmsError('LMS_NOT_FOUND'));
  assert.throws(() => s.render('plan', {}, { alias: 'staging' }), isLmsError('LMS_NOT_FOUND'));
  assert.throws(() => s.render('plan', [1]), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.render(5), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.render('plan', {}, { version: '' }), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.render('plan', {}, { version: '1', alias: 'a' }), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.putTemplateSync({ id: 'broken', template: '{% if x %}' }),
    (e) => isLmsError('LMS_RENDER')(e) && e.message.includes('does not compile'));
  await s.close();
  assert.throws(() => s.render('plan', { topic: 't' }), isLmsError('LMS_CLOSED'));
});

test('renderPreview needs no store', () => {
  const spec = { id: 'p', template: '{% for k, v in d.items() %}{{ k }}={{ v }} {% endfor %}{{ f }}', inputs: { d: { type: 'object' }, f: { type: 'boolean' } } };
  assert.equal(lmstore.renderPreview(spec, { d: { b: 1, a: 2.5 }, f: 'yes' }), 'b=1 a=2.5 True');
  assert.throws(() => lmstore.renderPreview({ id: 'p', template: '{{ 1 // 0 }}' }),
    (e) => isLmsError('LMS_RENDER')(e) && e.message.startsWith('integer division or modulo by zero'));
  assert.throws(() => lmstore.renderPreview(null), isLmsError('LMS_INVALID_ARGUMENT'));
});
