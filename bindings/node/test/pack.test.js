'use strict';

// The package as a user gets it: `npm pack`, install the tarball into an empty folder, and
// run the example there with no Rust toolchain on PATH and no LMSTORE_LIB, so the library
// can only come from the tarball.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { tempDir } = require('./helpers');

const pkgRoot = path.join(__dirname, '..');
const npmCli = process.env.npm_execpath && process.env.npm_execpath.endsWith('.js') ? process.env.npm_execpath : null;

function npm(args, options) {
  // Through the running node, so this works whatever `npm` on PATH is (or is not).
  const cmd = npmCli ? process.execPath : 'npm';
  const argv = npmCli ? [npmCli, ...args] : args;
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

function withoutRust(p) {
  return p.split(path.delimiter).filter((dir) => dir && !['cargo', 'rustc'].some((b) => fs.existsSync(path.join(dir, b)))).join(path.delimiter);
}

test('npm pack tarball installs into an empty folder and runs without Rust', { timeout: 240_000 }, (t) => {
  const work = tempDir(t);
  const cache = process.env.npm_config_cache || path.join(work, 'npm-cache');
  const packOut = npm(['pack', '--json', '--pack-destination', work], { cwd: pkgRoot, env: { ...process.env, npm_config_cache: cache } });
  const [info] = JSON.parse(packOut.slice(packOut.indexOf('[')));
  const files = info.files.map((f) => f.path);
  assert.ok(files.includes(`prebuilds/${process.platform}-${process.arch}/liblmstore.so`), 'the library travels in the tarball');
  for (const f of ['index.js', 'index.d.ts', 'lib/ffi.js', 'lib/store.js', 'lib/import-worker.js', 'README.md', 'examples/basic.js', 'LICENSE-MIT', 'LICENSE-APACHE']) assert.ok(files.includes(f), f);
  // The package's copies of the licenses are the repository's.
  for (const f of ['LICENSE-MIT', 'LICENSE-APACHE']) {
    assert.ok(fs.readFileSync(path.join(pkgRoot, f)).equals(fs.readFileSync(path.join(pkgRoot, '..', '..', f))), `${f} matches the root's`);
  }
  assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('bench/') || f.includes('node_modules')), files.join(' '));
  const tgz = path.join(work, info.filename);

  const app = path.join(work, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const env = { ...process.env, npm_config_cache: cache, PATH: withoutRust(process.env.PATH || '') };
  delete env.LMSTORE_LIB;
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tgz], { cwd: app, env });

  assert.throws(() => execFileSync('rustc', ['--version'], { env, stdio: 'ignore' }), 'rustc is not on the stripped PATH');
  const out = execFileSync(process.execPath, [path.join(app, 'node_modules', 'lmstore', 'examples', 'basic.js'), path.join(work, 'db')], {
    cwd: app, env, encoding: 'utf8',
  });
  const installedLib = fs.realpathSync(path.join(app, 'node_modules', 'lmstore', 'prebuilds', `${process.platform}-${process.arch}`, 'liblmstore.so'));
  assert.match(out, /assistant: Let me check\./);
  assert.ok(out.includes(`from ${installedLib}`) || out.includes(path.join(app, 'node_modules', 'lmstore', 'prebuilds')), out);
  assert.match(out, /\nok\n?$/);

  // The natural code for a bulk import, from the installed package: the Promise form, whose
  // worker thread must find the same library in the tarball.
  fs.writeFileSync(path.join(app, 'import.js'), `
const fs = require('fs');
const path = require('path');
const lmstore = require('lmstore');
const [db, prompts] = process.argv.slice(2);
fs.mkdirSync(prompts, { recursive: true });
fs.writeFileSync(path.join(prompts, 'hello.yaml'), 'id: hello\\nversion: 1.0.0\\ntemplate: "Hello {{ name }}"\\ninputs:\\n  name:\\n    type: string\\n');
const s = lmstore.open(db);
s.importFolder(prompts).then((r) => {
  console.log('imported', r.imported, s.render('hello', { name: 'Ada' }));
  s.close();
});
`);
  const imported = execFileSync(process.execPath, [path.join(app, 'import.js'), path.join(work, 'db2'), path.join(work, 'prompts')], {
    cwd: app, env, encoding: 'utf8',
  });
  assert.equal(imported.trim(), 'imported 1 Hello Ada');
});
