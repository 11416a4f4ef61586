'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const lmstore = require('..');

const repo = path.join(__dirname, '..', '..', '..');
const fixture = (name) => path.join(repo, 'tests', 'fixtures', 'import', name);

function tempStore(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmstore-import-'));
  const store = lmstore.open(path.join(dir, 'store'));
  t.after(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { store, dir };
}

function makeSource(dir, kind) {
  const python = execFileSync(path.join(repo, 'scripts', 'python-env.sh')).toString().trim();
  const out = path.join(dir, kind);
  execFileSync(python, [path.join(repo, 'tests', 'python', 'make_sources.py'), kind, out]);
  return out;
}

test('importFolderSync reports every file, with reasons and positions', (t) => {
  const { store, dir } = tempStore(t);
  const seen = [];
  const r = store.importFolderSync(fixture('skips'), { progress: (d, k) => seen.push([d, k]) });
  assert.strictEqual(r.imported, 1);
  assert.strictEqual(r.skipped, 13);
  assert.strictEqual(r.files.length, 14);
  assert.deepStrictEqual(seen[seen.length - 1], [14, 14]);
  const first = r.files[0];
  assert.strictEqual(first.path, 'bad_default.yaml');
  assert.strictEqual(first.outcome, 'skipped');
  assert.deepStrictEqual([first.line, first.column], [6, 14]);
  assert.match(first.reason, /does not match its type 'number'/);

  const dry = store.importFolderSync(fixture('typing'), { dryRun: true });
  assert.strictEqual(dry.committed, false);
  assert.strictEqual(dry.imported, 2);
  assert.strictEqual(store.getTemplate('typing-scalars'), undefined);

  const v = store.verifyImportSync(fixture('skips'));
  assert.strictEqual(v.clean, true);
  assert.strictEqual(v.matched, 1);

  const out = path.join(dir, 'export');
  const e = store.exportFolderSync(out);
  assert.deepStrictEqual(e, { templates: 1, versions: 1, aliases: 0, files: 1 });
  assert.ok(fs.existsSync(path.join(out, 'fine.yaml')));
  assert.throws(() => store.exportFolderSync(out), { code: 'LMS_INVALID_ARGUMENT', message: /is not empty/ });
  assert.throws(() => store.importFolderSync('/nonexistent/prompts'), { code: 'LMS_NOT_FOUND', message: /\/nonexistent\/prompts/ });
  assert.throws(() => store.importFolderSync(42), { code: 'LMS_INVALID_ARGUMENT' });
});

test('migrateSync migrates, re-runs without change, and refuses the other kind', (t) => {
  const { store, dir } = tempStore(t);
  const src = makeSource(dir, 'tkr');
  const side = path.join(dir, 'side.jsonl');
  let last = null;
  const r = store.migrateSync('tkr-agent-chat', src, side, { progress: (d, k) => { last = [d, k]; } });
  assert.strictEqual(r.changed, true);
  assert.strictEqual(r.messagesMigrated, 48);
  assert.strictEqual(r.sessionsMigrated, 4);
  assert.strictEqual(r.mismatches, 0);
  assert.strictEqual(r.sideRecords.agent_cards, 2);
  assert.strictEqual(last[0], last[1]);
  const again = store.migrateSync('tkr-agent-chat', src, side);
  assert.strictEqual(again.changed, false);
  assert.strictEqual(again.messagesUnchanged, 48);

  const pl = makeSource(dir, 'promptlightning');
  const p = store.migrateSync('promptlightning', pl, side);
  assert.strictEqual(p.templatesMigrated, 3);
  assert.strictEqual(p.lostVersions.length, 2);
  assert.throws(() => store.migrateSync('tkr-agent-chat', pl, side), { code: 'LMS_INVALID_ARGUMENT', message: /is a promptlightning store/ });
  assert.throws(() => store.migrateSync('other', pl, side), { code: 'LMS_INVALID_ARGUMENT', message: /kind must be/ });
  assert.throws(() => store.migrateSync('promptlightning', fixture('skips'), side), { code: 'LMS_INVALID_ARGUMENT', message: /is not an LMDB environment/ });
});

test('the Promise forms run on a worker thread: same reports, progress, errors in the library words', async (t) => {
  const { store, dir } = tempStore(t);
  const seen = [];
  const pending = store.importFolder(fixture('skips'), { progress: (d, k) => seen.push([d, k]) });
  assert.ok(pending instanceof Promise);
  const r = await pending;
  assert.deepStrictEqual(r, (() => {
    const other = tempStore(t).store;
    return other.importFolderSync(fixture('skips'));
  })());
  assert.deepStrictEqual(seen[seen.length - 1], [14, 14]);
  assert.strictEqual(store.getTemplate('fine').version !== undefined, true);

  const v = await store.verifyImport(fixture('skips'));
  assert.strictEqual(v.clean, true);
  const out = path.join(dir, 'export');
  assert.deepStrictEqual(await store.exportFolder(out), { templates: 1, versions: 1, aliases: 0, files: 1 });
  // Errors come with the library's words, read on the worker's thread.
  await assert.rejects(store.exportFolder(out), { name: 'LmstoreError', code: 'LMS_INVALID_ARGUMENT', op: 'exportFolder', message: /is not empty/ });
  await assert.rejects(store.importFolder('/nonexistent/prompts'), { code: 'LMS_NOT_FOUND', message: /\/nonexistent\/prompts/ });
  await assert.rejects(store.importFolder(42), { code: 'LMS_INVALID_ARGUMENT' });
  await assert.rejects(store.migrate('other', dir, path.join(dir, 'side')), { code: 'LMS_INVALID_ARGUMENT', message: /kind must be/ });
  await assert.rejects(store.importFolder(fixture('skips'), { progress: 3 }), { code: 'LMS_INVALID_ARGUMENT', message: /progress must be a function/ });
});

test('migrate as a Promise, and close() while it runs waits for it', async (t) => {
  const { store, dir } = tempStore(t);
  const src = makeSource(dir, 'tkr');
  let last = null;
  const running = store.migrate('tkr-agent-chat', src, path.join(dir, 'side.jsonl'), { progress: (d, k) => { last = [d, k]; } });
  store.close();
  const r = await running;
  assert.strictEqual(r.messagesMigrated, 48);
  assert.strictEqual(r.mismatches, 0);
  assert.strictEqual(last[0], last[1]);
  await assert.rejects(store.importFolder(fixture('skips')), { code: 'LMS_CLOSED' });
  const reopened = lmstore.open(path.join(dir, 'store'));
  t.after(() => reopened.close());
  assert.strictEqual(reopened.stats().messages, 48);
});
