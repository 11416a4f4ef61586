'use strict';
// Render benchmark for the Node binding: the seed examples of tests/render/bench_cases.json,
// ns per render (min over batches). Compare with `cargo bench --bench render`'s C ABI figures.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lmstore = require('..');

const cases = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../tests/render/bench_cases.json'), 'utf8'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lmstore-render-bench-'));
const store = lmstore.open(dir, { noSync: true });
const seconds = Number(process.env.RENDER_BENCH_SECONDS || 0.5);
try {
  for (const c of cases) {
    store.putTemplateSync(c.spec);
    for (let i = 0; i < 200; i++) store.render(c.spec.id, c.vars);
    let best = Infinity;
    const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
    while (process.hrtime.bigint() < end) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 200; i++) store.render(c.spec.id, c.vars);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 200);
    }
    console.log(`node render ${c.spec.id}: ${best.toFixed(0)} ns`);
  }
} finally {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
