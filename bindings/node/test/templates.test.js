'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { tempStore, isLmsError } = require('./helpers');

const spec = (id, version, text, extra) => ({ id, version, template: text, ...extra });

test('put and get: latest, by version, by alias; undefined when absent', async (t) => {
  const s = tempStore(t);
  assert.equal(await s.putTemplate(spec('greet', '1.0.0', 'Hi {{ name }}', {
    description: 'first', inputs: { name: { type: 'string' } }, metadata: { team: 'a' },
  })), 'created');
  assert.equal(s.putTemplateSync(spec('greet', '1.1.0', 'Hello {{ name }}')), 'created');

  const latest = s.getTemplate('greet');
  assert.equal(latest.version, '1.1.0');
  assert.equal(latest.template, 'Hello {{ name }}');
  assert.equal(latest.description, undefined);
  assert.deepEqual(latest.metadata, {});
  assert.ok(Number.isSafeInteger(latest.createdAt) && latest.createdAt > 1.6e15, 'createdAt is µs');

  const v1 = s.getTemplate('greet', { version: '1.0.0' });
  assert.equal(v1.description, 'first');
  assert.deepEqual(v1.metadata, { team: 'a' });
  assert.equal(v1.inputs.name.type, 'string');
  assert.equal(v1.inputs.name.required, true, 'required defaults to true');

  await s.setTemplateAlias('greet', 'production', '1.0.0');
  assert.equal(s.getTemplate('greet', { alias: 'production' }).version, '1.0.0');
  s.setTemplateAliasSync('greet', 'production', '1.1.0');
  assert.equal(s.getTemplate('greet', { alias: 'production' }).version, '1.1.0');
  s.setTemplateAliasSync('greet', 'canary', '1.0.0');
  assert.deepEqual(s.listTemplateAliases('greet'), { canary: '1.0.0', production: '1.1.0' });

  assert.equal(s.getTemplate('nope'), undefined);
  assert.equal(s.getTemplate('greet', { version: '9.9.9' }), undefined);
  assert.equal(s.getTemplate('greet', { alias: 'staging' }), undefined);
  assert.throws(() => s.getTemplate('greet', { version: '1.0.0', alias: 'production' }), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.getTemplate(42), isLmsError('LMS_INVALID_ARGUMENT'));
});

test('default version, unchanged and conflicting puts, replace', async (t) => {
  const s = tempStore(t);
  assert.equal(s.putTemplateSync({ id: 'x', template: 'a' }), 'created');
  assert.equal(s.getTemplate('x').version, '0.1.0');
  assert.equal(await s.putTemplate({ id: 'x', template: 'a' }), 'unchanged');
  // A record read back can be put again unchanged.
  assert.equal(s.putTemplateSync(s.getTemplate('x')), 'unchanged');
  await assert.rejects(s.putTemplate({ id: 'x', template: 'b' }), isLmsError('LMS_CONFLICT'));
  assert.throws(() => s.putTemplateSync({ id: 'x', template: 'b' }), (e) => {
    isLmsError('LMS_CONFLICT')(e);
    assert.equal(e.status, 3);
    assert.equal(e.op, 'putTemplateSync');
    assert.match(e.message, /\S/);
    return true;
  });
  assert.equal(await s.putTemplate({ id: 'x', template: 'b' }, { replace: true }), 'replaced');
  assert.equal(s.getTemplate('x').template, 'b');
});

test('bad specs are refused with the library message, sync and async', async (t) => {
  const s = tempStore(t);
  assert.throws(() => s.putTemplateSync({ id: 'x', template: 'a', bogus: 1 }), (e) => {
    isLmsError('LMS_INVALID_ARGUMENT')(e);
    assert.match(e.message, /bogus/);
    return true;
  });
  // The async path still reports the library's own words (see _runAsync).
  await assert.rejects(s.putTemplate({ id: 'x', template: 'a', bogus: 1 }), (e) => {
    isLmsError('LMS_INVALID_ARGUMENT')(e);
    assert.match(e.message, /bogus/);
    return true;
  });
  assert.throws(() => s.putTemplateSync({ id: 'x' }), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.putTemplateSync({ id: 'x', template: 'a', inputs: { n: { type: 'float' } } }), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.putTemplateSync({ id: 'x', template: 'a', metadata: [1, 2] }), isLmsError('LMS_BAD_MSGPACK'));
  assert.throws(() => s.putTemplateSync({ id: 'x'.repeat(600), template: 'a' }), isLmsError('LMS_KEY_TOO_LONG'));
  await assert.rejects(s.putTemplate({ id: 'x'.repeat(600), template: 'a' }), isLmsError('LMS_KEY_TOO_LONG'));
  await assert.rejects(s.putTemplate(null), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.equal(s.stats().templateVersions, 0, 'nothing was written');
});

test('list ids with prefix and paging, iterate, versions', async (t) => {
  const s = tempStore(t);
  const ids = [];
  for (let i = 0; i < 25; i++) ids.push(`app/p${String(i).padStart(2, '0')}`);
  for (const id of ids) s.putTemplateSync({ id, template: id });
  s.putTemplateSync({ id: 'other', template: 'o' });

  const first = s.listTemplates({ prefix: 'app/', limit: 10 });
  assert.deepEqual(first.ids, ids.slice(0, 10));
  assert.equal(first.cursor, ids[9]);
  const second = s.listTemplates({ prefix: 'app/', limit: 10, after: first.cursor });
  assert.deepEqual(second.ids, ids.slice(10, 20));
  const last = s.listTemplates({ prefix: 'app/', limit: 10, after: second.cursor });
  assert.deepEqual(last.ids, ids.slice(20));
  assert.equal(last.cursor, null);
  assert.deepEqual(s.listTemplates().ids, [...ids, 'other']);
  assert.deepEqual([...s.iterateTemplateIds({ prefix: 'app/', pageSize: 7 })], ids);
  assert.throws(() => s.listTemplates({ limit: 0 }), isLmsError('LMS_INVALID_ARGUMENT'));
  assert.throws(() => s.listTemplates({ limit: 20000 }), isLmsError('LMS_INVALID_ARGUMENT'));

  s.putTemplateSync({ id: 'v', version: '2.0.0', template: 'b' });
  s.putTemplateSync({ id: 'v', version: '1.0.0', template: 'a' });
  const versions = s.listTemplateVersions('v');
  assert.deepEqual(versions.map((v) => v.version), ['2.0.0', '1.0.0'], 'in put order');
  assert.ok(versions.every((v) => Number.isSafeInteger(v.createdAt)));
  assert.deepEqual(s.listTemplateVersions('nope'), []);
  assert.deepEqual(s.listTemplateAliases('nope'), {});
});

test('delete a version, an alias, a whole id; counts kept exactly', async (t) => {
  const s = tempStore(t);
  s.putTemplateSync({ id: 'a', version: '1', template: 'one' });
  s.putTemplateSync({ id: 'a', version: '2', template: 'two' });
  s.putTemplateSync({ id: 'b', version: '1', template: 'bee' });
  s.setTemplateAliasSync('a', 'prod', '2');
  let st = s.stats();
  assert.equal(st.templateIds, 2);
  assert.equal(st.templateVersions, 3);
  assert.ok(st.templatesModifiedAt > 0);

  assert.equal(await s.deleteTemplate('a', { version: '2' }), true);
  assert.equal(s.getTemplate('a').version, '1', 'the one put before becomes latest');
  assert.deepEqual(s.listTemplateAliases('a'), {}, 'aliases to a deleted version go');
  assert.equal(s.deleteTemplateSync('a', { version: '2' }), false);

  s.setTemplateAliasSync('a', 'prod', '1');
  assert.equal(await s.deleteTemplateAlias('a', 'prod'), true);
  assert.equal(s.deleteTemplateAliasSync('a', 'prod'), false);
  await assert.rejects(s.setTemplateAlias('a', 'prod', '7'), isLmsError('LMS_NOT_FOUND'));
  assert.throws(() => s.setTemplateAliasSync('zzz', 'prod', '1'), isLmsError('LMS_NOT_FOUND'));

  assert.equal(s.deleteTemplateSync('b'), true);
  assert.equal(await s.deleteTemplate('b'), false);
  assert.equal(s.getTemplate('b'), undefined);
  st = s.stats();
  assert.equal(st.templateIds, 1);
  assert.equal(st.templateVersions, 1);
});

test('unicode and large text survive the round trip', (t) => {
  const s = tempStore(t);
  const text = 'héllo {{ nom }} — 日本語 🎉 '.repeat(20000); // ~600 KB: above koffi's call heaps
  s.putTemplateSync({ id: 'ünï/コード', template: text, metadata: { emoji: '🎉', nested: { list: [1, 'two', null] } } });
  const got = s.getTemplate('ünï/コード');
  assert.equal(got.template, text);
  assert.deepEqual(got.metadata, { emoji: '🎉', nested: { list: [1, 'two', null] } });
});
