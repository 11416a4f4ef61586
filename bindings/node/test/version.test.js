'use strict';

// The Node version the package asks for is the same everywhere it is stated.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');

test('package.json, its lockfile and the READMEs agree on the Node version', () => {
  const root = path.join(__dirname, '..');
  const engines = require('../package.json').engines.node;
  const m = /^>=(\d+)$/.exec(engines);
  assert.ok(m, `engines.node is >=N: ${engines}`);
  const major = m[1];
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  assert.equal(lock.packages[''].engines.node, engines, 'package-lock.json');
  assert.match(fs.readFileSync(path.join(root, 'README.md'), 'utf8'), new RegExp(`Node\\.js ${major}\\+`), 'bindings/node/README.md');
  assert.match(fs.readFileSync(path.join(root, '..', '..', 'README.md'), 'utf8'), new RegExp(`Node ≥ ${major}\\b`), 'README.md');
  assert.ok(Number(process.versions.node.split('.')[0]) >= Number(major), 'this Node satisfies it');
});
