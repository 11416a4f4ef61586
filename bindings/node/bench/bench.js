'use strict';

// lmstore vs lmdb-js (`lmdb`, msgpack values, ordered-binary array keys) and better-sqlite3
// (WAL, synchronous=FULL, msgpack BLOBs), in one process, one run. Each case runs 5 rounds and
// reports the median; ratios are rival time / lmstore time (above 1: lmstore is faster).
//
//   node bench.js            full run: 10,000 templates, 100 sessions x 1,000 messages
//   node bench.js --smoke    tiny sizes, one round: checks that every path still works
//   node bench.js --json     also prints the results as JSON

const fs = require('fs');
const os = require('os');
const path = require('path');
const lmstore = require('..');

const SMOKE = process.argv.includes('--smoke');
const JSON_OUT = process.argv.includes('--json');
const ROUNDS = SMOKE ? 1 : 5;
const TEMPLATES = SMOKE ? 300 : 10_000;
const SESSIONS = SMOKE ? 4 : 100;
const PER_SESSION = SMOKE ? 200 : 1_000;
const BATCH = SMOKE ? 100 : 1_000;
const GETS = SMOKE ? 2_000 : 100_000;
const RANGES = SMOKE ? 200 : 5_000;
const CALLS = SMOKE ? 10_000 : 1_000_000;

function optional(name) {
  try {
    return require(name);
  } catch (e) {
    console.log(`# ${name} is not installed (${e.code || e.message}); its columns are skipped. Run \`npm ci\` in bench/.`);
    return null;
  }
}
const lmdb = optional('lmdb');
const Sqlite = optional('better-sqlite3');
const { pack, unpack } = optional('msgpackr') || require('../node_modules/msgpackr');

const base = fs.mkdtempSync(path.join(process.env.LMSTORE_BENCH_DIR || os.tmpdir(), 'lmstore-bench-'));
process.on('exit', () => fs.rmSync(base, { recursive: true, force: true }));

// ---- data ----

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const words = 'the quick brown fox jumps over lazy dog prompt model answer context tool user system'.split(' ');
const text = (n) => {
  let s = '';
  while (s.length < n) s += words[Math.floor(rand() * words.length)] + ' ';
  return s.slice(0, n);
};

const templates = [];
for (let i = 0; i < TEMPLATES; i++) {
  templates.push({
    id: `prompts/${String(i).padStart(5, '0')}`,
    version: '1.0.0',
    template: `You are {{ role }}. ${text(192)} Answer {{ question }}.`,
    description: 'benchmark template',
    inputs: { role: { type: 'string' }, question: { type: 'string' } },
    metadata: { owner: 'bench', tags: ['a', 'b'] },
  });
}

const sessionIds = [];
for (let s = 0; s < SESSIONS; s++) sessionIds.push(`session-${String(s).padStart(4, '0')}`);
const T0 = 1_750_000_000_000_000;
function sessionMessages(s) {
  const out = [];
  for (let i = 0; i < PER_SESSION; i++) {
    out.push({
      sessionId: sessionIds[s],
      ts: T0 + i * 1000,
      role: i % 2 ? 'assistant' : 'user',
      agentId: i % 2 ? 'bot' : undefined,
      content: text(120),
      metadata: { tokens: 20 + (i % 50) },
    });
  }
  return out;
}

// ---- timing ----

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/**
 * Per-op time in µs of `n` calls of each contender's fn(i): median over ROUNDS. Rounds are
 * interleaved (lmstore, lmdb-js, better-sqlite3, lmstore, ...) so that a noisy neighbour on
 * the machine slows every contender alike instead of whichever ran at the time.
 */
function perOp(n, fns) {
  const names = Object.keys(fns).filter((k) => fns[k]);
  for (const k of names) for (let i = 0; i < Math.min(n, 2000); i++) fns[k](i); // warm-up
  const rounds = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of names) {
      const f = fns[k];
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) f(i);
      rounds[k].push(Number(process.hrtime.bigint() - t0) / 1e3 / n);
    }
  }
  return Object.fromEntries(Object.keys(fns).map((k) => [k, fns[k] ? median(rounds[k]) : null]));
}

async function perBatch(fns) {
  const names = Object.keys(fns).filter((k) => fns[k]);
  const rounds = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of names) {
      const t0 = process.hrtime.bigint();
      await fns[k](r);
      rounds[k].push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
  }
  return Object.fromEntries(Object.keys(fns).map((k) => [k, fns[k] ? median(rounds[k]) : null]));
}

// Random keys from a fixed sequence so every contender reads the same ones.
const pick = new Uint32Array(1 << 16);
for (let i = 0; i < pick.length; i++) pick[i] = Math.floor(rand() * 1e9);

// ---- contenders ----

function setupLmstore() {
  // Loaded without per-commit flushes (10,000 fsyncs would only slow the setup), then
  // reopened durable for the measurements.
  const dir = path.join(base, 'lmstore');
  const loader = lmstore.open(dir, { noSync: true });
  for (const t of templates) loader.putTemplateSync(t);
  for (let s = 0; s < SESSIONS; s++) loader.appendMessagesSync(sessionMessages(s));
  loader.flushSync();
  loader.close();
  return lmstore.open(dir);
}

function toRecord(m, id) {
  return {
    id, session_id: m.sessionId, ts: m.ts, role: m.role, agent_id: m.agentId, content: m.content,
    metadata: m.metadata, created_at: m.ts, updated_at: m.ts,
  };
}

const uuid = () => crypto.randomUUID();

function setupLmdb() {
  // lmdb-js as its README sets it up: default msgpack encoding, ordered-binary array keys.
  const env = lmdb.open({ path: path.join(base, 'lmdb') });
  const tdb = env.openDB('templates');
  const mdb = env.openDB('messages');
  env.transactionSync(() => {
    for (const t of templates) tdb.putSync([t.id, t.version], { ...t, created_at: T0 });
  });
  for (let s = 0; s < SESSIONS; s++) {
    env.transactionSync(() => {
      for (const m of sessionMessages(s)) {
        const id = uuid();
        mdb.putSync([m.sessionId, m.ts, id], toRecord(m, id));
      }
    });
  }
  return { env, tdb, mdb };
}

function setupSqlite() {
  const db = new Sqlite(path.join(base, 'sqlite.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL'); // durable commits, like lmstore's default
  db.exec(`CREATE TABLE templates (id TEXT, version TEXT, body BLOB, PRIMARY KEY (id, version)) WITHOUT ROWID;
           CREATE TABLE messages (session TEXT, ts INTEGER, id BLOB, body BLOB, PRIMARY KEY (session, ts, id)) WITHOUT ROWID;`);
  const putT = db.prepare('INSERT INTO templates VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const t of templates) putT.run(t.id, t.version, pack({ ...t, created_at: T0 }));
  })();
  const putM = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?)');
  for (let s = 0; s < SESSIONS; s++) {
    db.transaction(() => {
      for (const m of sessionMessages(s)) {
        const id = uuid();
        putM.run(m.sessionId, m.ts, Buffer.from(id.replace(/-/g, ''), 'hex'), pack(toRecord(m, id)));
      }
    })();
  }
  return db;
}

// ---- cases ----

async function main() {
  const results = [];
  const row = (name, unit, l, rivals, goals) => results.push({ name, unit, lmstore: l, lmdb: rivals.lmdb, sqlite: rivals.sqlite, goals });

  console.log(`# lmstore ${lmstore.version} (${lmstore.libraryPath}), node ${process.version}, ${os.cpus().length} cpus` +
    `${SMOKE ? ', SMOKE MODE (sizes too small to mean anything)' : ''}`);
  console.log(`# ${TEMPLATES} templates, ${SESSIONS} sessions x ${PER_SESSION} messages, batches of ${BATCH}, median of ${ROUNDS}`);

  let t = Date.now();
  const store = setupLmstore();
  const L = lmdb ? setupLmdb() : null;
  const Q = Sqlite ? setupSqlite() : null;
  console.log(`# setup ${Date.now() - t} ms`);
  const sample = JSON.stringify(store.getTemplate(templates[0].id)).length;
  console.log(`# template record ~${pack({ ...templates[0], created_at: T0 }).length} bytes msgpack (${sample} as JSON)`);

  // get template
  const tid = (i) => templates[pick[i & 0xffff] % TEMPLATES].id;
  const sqlGetStmt = Q ? Q.prepare('SELECT body FROM templates WHERE id = ? AND version = ?').pluck() : null;
  const gets = perOp(GETS, {
    exact: (i) => store.getTemplate(tid(i), { version: '1.0.0' }),
    latest: (i) => store.getTemplate(tid(i)),
    lmdb: L && ((i) => L.tdb.get([tid(i), '1.0.0'])),
    sqlite: Q && ((i) => unpack(sqlGetStmt.get(tid(i), '1.0.0'))),
  });
  row('get template (exact version)', 'µs/op', gets.exact, gets, { lmdb: 1, sqlite: 2.5 });
  row('get template (latest)', 'µs/op', gets.latest, gets, { lmdb: 1, sqlite: 2.5 });

  // latest 50
  const sid = (i) => sessionIds[pick[i & 0xffff] % SESSIONS];
  const lmdbLatest = (s) => {
    const out = [];
    for (const { value } of L.mdb.getRange({ start: [s, Number.MAX_SAFE_INTEGER], end: [s], reverse: true, limit: 50 })) out.push(value);
    return out;
  };
  const sqlLatestStmt = Q ? Q.prepare('SELECT body FROM messages WHERE session = ? ORDER BY ts DESC, id DESC LIMIT 50').pluck() : null;
  const sqlLatest = (s) => {
    const rows = sqlLatestStmt.all(s);
    for (let j = 0; j < rows.length; j++) rows[j] = unpack(rows[j]);
    return rows;
  };
  const ranges = perOp(RANGES, {
    lmstore: (i) => store.rangeMessages(sid(i), { reverse: true, limit: 50 }).messages,
    lmdb: L && ((i) => lmdbLatest(sid(i))),
    sqlite: Q && ((i) => sqlLatest(sid(i))),
  });
  row('latest 50 messages', 'µs/op', ranges.lmstore, ranges, { lmdb: 2, sqlite: 2.5 });

  // sanity: every contender returns the same 50 messages, newest first
  const check = store.rangeMessages(sessionIds[0], { reverse: true, limit: 50 }).messages;
  for (const other of [L && lmdbLatest(sessionIds[0]), Q && sqlLatest(sessionIds[0])]) {
    if (other && (check.length !== 50 || other.length !== 50 || check[0].ts !== other[0].ts || check[49].ts !== other[49].ts)) {
      throw new Error('latest-50 results differ between contenders');
    }
  }

  // batched durable append: a new session per round
  let round = 0;
  const fresh = () => {
    const s = `append-${round++}`;
    const out = [];
    for (let i = 0; i < BATCH; i++) out.push({ sessionId: s, role: 'user', content: text(120), metadata: { tokens: i } });
    return out;
  };
  const sqlAppendStmt = Q ? Q.prepare('INSERT INTO messages VALUES (?, ?, ?, ?)') : null;
  const appends = await perBatch({
    lmstore: async () => { await store.appendMessages(fresh()); },
    lmdb: L && (async () => {
      const batch = fresh();
      await L.env.transaction(() => {
        for (const m of batch) {
          const id = uuid();
          const ts = Date.now() * 1000;
          L.mdb.put([m.sessionId, ts, id], toRecord({ ...m, ts }, id));
        }
      });
      await L.env.flushed; // durable, as lmstore's and SQLite's commits are
    }),
    sqlite: Q && (async () => {
      const batch = fresh();
      Q.transaction(() => {
        for (const m of batch) {
          const id = uuid();
          const ts = Date.now() * 1000;
          sqlAppendStmt.run(m.sessionId, ts, Buffer.from(id.replace(/-/g, ''), 'hex'), pack(toRecord({ ...m, ts }, id)));
        }
      })();
    }),
  });
  row(`append batch of ${BATCH} (durable)`, 'µs/batch', appends.lmstore, appends, {});

  // the cost of one crossing
  const koffi = require('koffi');
  const { native } = require('../lib/ffi');
  const intType = koffi.type('int');
  const calls = perOp(CALLS, { koffi: () => native.abi_version(), napi: () => koffi.sizeof(intType) });
  const koffiCall = calls.koffi * 1000;
  const napiCall = calls.napi * 1000;

  // ---- report ----
  const fmt = (v) => (v === null || v === undefined ? 'n/a' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const ratio = (rival, mine) => (rival === null ? null : rival / mine);
  const verdict = (r, goal) => (r === null || !goal ? '' : r >= goal ? ` (goal ≥${goal}×: met)` : ` (goal ≥${goal}×: NOT met)`);
  console.log('');
  console.log('| case | lmstore | lmdb-js | better-sqlite3 | vs lmdb-js | vs better-sqlite3 |');
  console.log('| --- | ---: | ---: | ---: | --- | --- |');
  for (const r of results) {
    const rl = ratio(r.lmdb, r.lmstore);
    const rs = ratio(r.sqlite, r.lmstore);
    console.log(`| ${r.name} (${r.unit}) | ${fmt(r.lmstore)} | ${fmt(r.lmdb)} | ${fmt(r.sqlite)} | ` +
      `${rl === null ? 'n/a' : rl.toFixed(2) + '×'}${verdict(rl, r.goals.lmdb)} | ${rs === null ? 'n/a' : rs.toFixed(2) + '×'}${verdict(rs, r.goals.sqlite)} |`);
  }
  console.log('');
  console.log(`one empty koffi call (lms_abi_version): ${koffiCall.toFixed(0)} ns; one trivial N-API call (koffi.sizeof): ${napiCall.toFixed(0)} ns`);
  if (JSON_OUT) console.log(JSON.stringify({ results, koffiCall, napiCall }));

  store.close();
  if (L) await L.env.close();
  if (Q) Q.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
