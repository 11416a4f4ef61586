'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { execFileSync } = require('child_process');

test('200k reads do not grow the process', () => {
  const out = execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, 'fixtures', 'memloop.js'), '200000'], { encoding: 'utf8' });
  const { iterations, before, after } = JSON.parse(out);
  const growthMiB = (after - before) / (1 << 20);
  // Leaking the copied record of every get alone would be ~100 MiB here, and every page
  // of 50 messages ~1 GiB; 40 MiB leaves room for allocator noise without hiding a leak.
  assert.ok(growthMiB < 40, `RSS grew ${growthMiB.toFixed(1)} MiB over ${iterations} iterations`);
});
