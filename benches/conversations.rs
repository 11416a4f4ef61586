//! Conversations: batched appends, "latest 50 before a time" ranges and durable single-message
//! appends (1 and 8 threads) through the C ABI, against raw LMDB with the same key layout and
//! against SQLite (rusqlite, bundled, WAL), in one run, printed as ratios against issue 3's goals.
//!
//! Run: `cargo bench --bench conversations`. Knobs (environment variables):
//!   LMSTORE_BENCH_SCALE     multiplies messages per session and the operation counts (default 1;
//!                           `smoke` = a tiny run that only proves the bench works)
//!   LMSTORE_BENCH_SESSIONS  sessions (default 100)
//!   LMSTORE_BENCH_MESSAGES  messages per session (default 10000 * scale)
//!   LMSTORE_BENCH_BATCH     messages per batched append / transaction (default 1000)
//!   LMSTORE_BENCH_RANGES    range queries per round and method (default 20000 * scale)
//!   LMSTORE_BENCH_SINGLE    durable single-message appends per round and test (default 2000 * scale)
//!   LMSTORE_BENCH_THREADS   threads for the concurrent durable test (default 8)
//!   LMSTORE_BENCH_ROUNDS    rounds; medians are reported (default 5)
//!   LMSTORE_BENCH_ONLY      comma-separated subset of batch,range,single,size,zstd (range needs batch)
//!   LMSTORE_BENCH_LARGE     messages in the large-message mix of the size part (default 20000 * scale)
//! Stores live in a temporary directory under TMPDIR (default /tmp), removed at the end.

mod common;

use common::*;
use lmdb_master_sys as ffi;
use lmstore::capi::*;
use std::hint::black_box;
use std::path::Path;
use std::ptr;
use std::sync::Barrier;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------------
// Configuration and helpers

struct Config {
    sessions: usize,
    per_session: usize,
    batch: usize,
    ranges: usize,
    single: usize,
    threads: usize,
    run: Run,
}

impl Config {
    fn from_env() -> Config {
        let run = Run::from_env(0.02);
        let per_session = env_usize("LMSTORE_BENCH_MESSAGES")
            .unwrap_or(run.scaled(10_000.0, 60))
            .max(60);
        Config {
            sessions: env_usize("LMSTORE_BENCH_SESSIONS")
                .unwrap_or(if run.smoke { 4 } else { 100 })
                .max(1),
            per_session,
            batch: env_usize("LMSTORE_BENCH_BATCH")
                .unwrap_or(1000)
                .clamp(1, per_session),
            ranges: env_usize("LMSTORE_BENCH_RANGES")
                .unwrap_or(run.scaled(20_000.0, 20))
                .max(10),
            single: env_usize("LMSTORE_BENCH_SINGLE")
                .unwrap_or(run.scaled(2_000.0, 16))
                .max(16),
            threads: env_usize("LMSTORE_BENCH_THREADS").unwrap_or(8).max(2),
            run,
        }
    }
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// The data set: `sessions` conversations of `per_session` messages, alternating user/assistant,
// content of 20..70 words (~120-450 bytes), metadata {"tokens": n}. Timestamps are given
// explicitly (1 ms apart within a session) so that every engine stores the same keys and the
// range queries know each session's time span.

const BASE_TS: i64 = 1_700_000_000_000_000;
const POOL: usize = 1024;

struct Data {
    sessions: Vec<String>,
    contents: Vec<String>,
    metas: Vec<Vec<u8>>,
}

impl Data {
    fn new(sessions: usize) -> Data {
        const WORDS: [&str; 24] = [
            "the",
            "model",
            "answer",
            "context",
            "token",
            "please",
            "summarize",
            "order",
            "customer",
            "refund",
            "shipping",
            "weather",
            "tomorrow",
            "function",
            "call",
            "result",
            "thanks",
            "could",
            "you",
            "explain",
            "why",
            "error",
            "retry",
            "latency",
        ];
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        let contents = (0..POOL)
            .map(|_| {
                let n = 20 + rng.below(50);
                (0..n)
                    .map(|_| WORDS[rng.below(WORDS.len())])
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let metas = (0..POOL)
            .map(|i| {
                let mut m = Vec::new();
                rmp::encode::write_map_len(&mut m, 1).unwrap();
                rmp::encode::write_str(&mut m, "tokens").unwrap();
                rmp::encode::write_uint(&mut m, 10 + (i as u64 * 7) % 500).unwrap();
                m
            })
            .collect();
        let sessions = (0..sessions)
            .map(|s| {
                uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + s as u128)
                    .hyphenated()
                    .to_string()
            })
            .collect();
        Data {
            sessions,
            contents,
            metas,
        }
    }

    fn ts(&self, s: usize, j: usize) -> i64 {
        BASE_TS + j as i64 * 1000 + (s % 1000) as i64
    }
    fn role(j: usize) -> &'static str {
        if j % 2 == 0 {
            "user"
        } else {
            "assistant"
        }
    }
    fn content(&self, s: usize, j: usize) -> &str {
        &self.contents[(s * 7919 + j) % POOL]
    }
    fn meta(&self, j: usize) -> &[u8] {
        &self.metas[j % POOL]
    }
}

/// The record the core stores, built the same way for the peers (a user of raw LMDB or SQLite
/// has to encode a record too).
#[allow(clippy::too_many_arguments)]
fn encode_record(
    out: &mut Vec<u8>,
    id: &[u8; 16],
    session: &str,
    ts: i64,
    role: &str,
    content: &str,
    meta: &[u8],
    now: i64,
) {
    use rmp::encode as w;
    out.clear();
    let _ = w::write_map_len(out, 8);
    let _ = w::write_str(out, "id");
    let _ = w::write_bin(out, id);
    let _ = w::write_str(out, "session_id");
    let _ = w::write_str(out, session);
    let _ = w::write_str(out, "ts");
    let _ = w::write_sint(out, ts);
    let _ = w::write_str(out, "role");
    let _ = w::write_str(out, role);
    let _ = w::write_str(out, "content");
    let _ = w::write_str(out, content);
    let _ = w::write_str(out, "metadata");
    out.extend_from_slice(meta);
    let _ = w::write_str(out, "created_at");
    let _ = w::write_sint(out, now);
    let _ = w::write_str(out, "updated_at");
    let _ = w::write_sint(out, now);
}

/// `len(1) | session | ts(8, big-endian) | id(16)`: the core's key layout.
fn message_key(out: &mut Vec<u8>, session: &str, ts: i64, id: &[u8; 16]) {
    out.clear();
    out.push(session.len() as u8);
    out.extend_from_slice(session.as_bytes());
    out.extend_from_slice(&(ts as u64).to_be_bytes());
    out.extend_from_slice(id);
}

// ---------------------------------------------------------------------------------------------
// lmstore through the C ABI

struct Abi(*mut lms_db);
// SAFETY: the ABI documents lms_db as safe to share between threads.
unsafe impl Send for Abi {}
// SAFETY: as above.
unsafe impl Sync for Abi {}

impl Abi {
    fn open(dir: &Path, flags: u32) -> Abi {
        let path = dir.as_os_str().as_encoded_bytes();
        let mut opts = std::mem::MaybeUninit::<lms_options>::uninit();
        // SAFETY: opts points at writable memory for one lms_options.
        unsafe { lms_options_init(opts.as_mut_ptr()) };
        // SAFETY: lms_options_init filled every field.
        let mut opts = unsafe { opts.assume_init() };
        opts.flags = flags;
        opts.map_size = 1 << 30;
        let mut db = ptr::null_mut();
        // SAFETY: path and opts are valid for the call; db is an out-pointer.
        lms_check(
            unsafe { lms_open(path.as_ptr() as *const _, path.len(), &opts, &mut db) },
            "lms_open",
        );
        Abi(db)
    }

    fn message<'a>(
        session: &'a str,
        ts: i64,
        role: &'a str,
        content: &'a str,
        meta: &'a [u8],
    ) -> lms_message_in {
        lms_message_in {
            session_id: session.as_ptr() as *const _,
            session_id_len: session.len(),
            id: ptr::null(),
            id_len: 0,
            ts,
            role: role.as_ptr() as *const _,
            role_len: role.len(),
            agent_id: ptr::null(),
            agent_id_len: 0,
            content: content.as_ptr() as *const _,
            content_len: content.len(),
            in_reply_to: ptr::null(),
            in_reply_to_len: 0,
            metadata: meta.as_ptr(),
            metadata_len: meta.len(),
        }
    }

    /// One lms_append_messages call with messages j0..j1 of session s.
    fn append_batch(
        &self,
        d: &Data,
        s: usize,
        j0: usize,
        j1: usize,
        results: &mut Vec<lms_append_result>,
    ) {
        let session = d.sessions[s].as_str();
        let msgs: Vec<lms_message_in> = (j0..j1)
            .map(|j| {
                Abi::message(
                    session,
                    d.ts(s, j),
                    Data::role(j),
                    d.content(s, j),
                    d.meta(j),
                )
            })
            .collect();
        results.clear();
        results.reserve(msgs.len());
        // SAFETY: msgs and results hold msgs.len() entries; every pointer is valid for the call.
        lms_check(
            unsafe { lms_append_messages(self.0, msgs.as_ptr(), msgs.len(), results.as_mut_ptr()) },
            "lms_append_messages",
        );
        // SAFETY: lms_append_messages filled msgs.len() results.
        unsafe { results.set_len(msgs.len()) };
    }

    /// One durable single-message append; the store assigns id and ts.
    fn append_one(&self, d: &Data, s: usize, j: usize) {
        let m = Abi::message(&d.sessions[s], 0, Data::role(j), d.content(s, j), d.meta(j));
        // SAFETY: a zeroed result is a valid out-struct.
        let mut r: lms_append_result = unsafe { std::mem::zeroed() };
        // SAFETY: m and r are valid for the call.
        lms_check(
            unsafe { lms_append_message(self.0, &m, &mut r) },
            "lms_append_message",
        );
    }

    /// The latest `limit` messages of a session before `end` (exclusive), as one page.
    fn latest_before(&self, session: &str, end: i64, limit: u32) -> usize {
        let range = lms_range {
            start_ts: 0,
            end_ts: end,
            limit,
            flags: LMS_RANGE_REVERSE | LMS_RANGE_END,
            cursor: ptr::null(),
            cursor_len: 0,
        };
        // SAFETY: a zeroed page is what the ABI expects to fill.
        let mut page: lms_page = unsafe { std::mem::zeroed() };
        // SAFETY: session, range and page are valid for the call.
        lms_check(
            unsafe {
                lms_range_messages(
                    self.0,
                    session.as_ptr() as *const _,
                    session.len(),
                    &range,
                    &mut page,
                )
            },
            "lms_range_messages",
        );
        // SAFETY: page.data holds page.len bytes until lms_page_free.
        black_box(unsafe { std::slice::from_raw_parts(page.data, page.len) });
        let n = page.count as usize;
        // SAFETY: the page was filled by lms_range_messages and is freed once.
        unsafe { lms_page_free(&mut page) };
        n
    }

    fn messages(&self) -> u64 {
        // SAFETY: a zeroed lms_stats is a valid out-struct.
        let mut st: lms_stats = unsafe { std::mem::zeroed() };
        // SAFETY: the handle is open; st is writable.
        lms_check(unsafe { lms_stat(self.0, &mut st) }, "lms_stat");
        st.messages
    }
}

impl Drop for Abi {
    fn drop(&mut self) {
        // SAFETY: the handle came from lms_open and is closed once.
        unsafe { lms_close(self.0) }
    }
}

// ---------------------------------------------------------------------------------------------
// Raw LMDB: the same key layout and records in one table, written and read the plain way.

struct Raw {
    env: *mut ffi::MDB_env,
    dbi: ffi::MDB_dbi,
}
// SAFETY: an MDB_env is thread-safe; each thread uses its own transactions.
unsafe impl Send for Raw {}
// SAFETY: as above.
unsafe impl Sync for Raw {}

impl Raw {
    fn open(dir: &Path, flags: u32) -> Raw {
        std::fs::create_dir_all(dir).unwrap();
        let cpath = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
        let mut env = ptr::null_mut();
        let mut dbi = 0;
        // SAFETY: standard LMDB set-up on a fresh env; every pointer is valid for its call.
        unsafe {
            mdb_check(ffi::mdb_env_create(&mut env), "mdb_env_create");
            mdb_check(ffi::mdb_env_set_mapsize(env, 8 << 30), "set_mapsize");
            mdb_check(ffi::mdb_env_set_maxdbs(env, 4), "set_maxdbs");
            mdb_check(
                ffi::mdb_env_open(env, cpath.as_ptr(), flags, 0o600),
                "env_open",
            );
            let mut txn = ptr::null_mut();
            mdb_check(
                ffi::mdb_txn_begin(env, ptr::null_mut(), 0, &mut txn),
                "txn_begin",
            );
            mdb_check(
                ffi::mdb_dbi_open(txn, c"messages".as_ptr(), ffi::MDB_CREATE, &mut dbi),
                "dbi_open",
            );
            mdb_check(ffi::mdb_txn_commit(txn), "txn_commit");
        }
        Raw { env, dbi }
    }

    /// Puts messages j0..j1 of session s in one write transaction (ids are UUIDv7, generated
    /// here as the core does).
    fn append_batch(
        &self,
        d: &Data,
        s: usize,
        j0: usize,
        j1: usize,
        key: &mut Vec<u8>,
        rec: &mut Vec<u8>,
    ) {
        let session = d.sessions[s].as_str();
        let now = now_micros();
        // SAFETY: plain LMDB write transaction; key/rec outlive each mdb_put.
        unsafe {
            let mut txn = ptr::null_mut();
            mdb_check(
                ffi::mdb_txn_begin(self.env, ptr::null_mut(), 0, &mut txn),
                "txn_begin",
            );
            for j in j0..j1 {
                let id = *uuid::Uuid::now_v7().as_bytes();
                let ts = d.ts(s, j);
                message_key(key, session, ts, &id);
                encode_record(
                    rec,
                    &id,
                    session,
                    ts,
                    Data::role(j),
                    d.content(s, j),
                    d.meta(j),
                    now,
                );
                let (mut k, mut v) = (val(key), val(rec));
                mdb_check(ffi::mdb_put(txn, self.dbi, &mut k, &mut v, 0), "mdb_put");
            }
            mdb_check(ffi::mdb_txn_commit(txn), "txn_commit");
        }
    }

    fn append_one(&self, d: &Data, s: usize, j: usize, key: &mut Vec<u8>, rec: &mut Vec<u8>) {
        let session = d.sessions[s].as_str();
        let id = *uuid::Uuid::now_v7().as_bytes();
        let ts = now_micros();
        message_key(key, session, ts, &id);
        encode_record(
            rec,
            &id,
            session,
            ts,
            Data::role(j),
            d.content(s, j),
            d.meta(j),
            ts,
        );
        // SAFETY: plain LMDB write transaction; key/rec outlive the mdb_put.
        unsafe {
            let mut txn = ptr::null_mut();
            mdb_check(
                ffi::mdb_txn_begin(self.env, ptr::null_mut(), 0, &mut txn),
                "txn_begin",
            );
            let (mut k, mut v) = (val(key), val(rec));
            mdb_check(ffi::mdb_put(txn, self.dbi, &mut k, &mut v, 0), "mdb_put");
            mdb_check(ffi::mdb_txn_commit(txn), "txn_commit");
        }
    }

    /// MDB_SET_RANGE to `session|end`, then MDB_PREV up to `limit` times, copying each record
    /// into one buffer (what the ABI hands back as a page).
    fn latest_before(
        &self,
        session: &str,
        end: i64,
        limit: usize,
        key: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> usize {
        key.clear();
        key.push(session.len() as u8);
        key.extend_from_slice(session.as_bytes());
        let prefix_len = key.len();
        key.extend_from_slice(&(end as u64).to_be_bytes());
        out.clear();
        let mut n = 0;
        // SAFETY: read-only transaction and cursor, both closed before returning; records are
        // copied out while the transaction is live.
        unsafe {
            let mut txn = ptr::null_mut();
            mdb_check(
                ffi::mdb_txn_begin(self.env, ptr::null_mut(), ffi::MDB_RDONLY, &mut txn),
                "txn_begin",
            );
            let mut cur = ptr::null_mut();
            mdb_check(ffi::mdb_cursor_open(txn, self.dbi, &mut cur), "cursor_open");
            let mut k = val(key);
            let mut v = val(&[]);
            let mut rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_SET_RANGE);
            rc = if rc == ffi::MDB_NOTFOUND {
                ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_LAST)
            } else {
                ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_PREV)
            };
            while rc == 0 && n < limit {
                let kb = std::slice::from_raw_parts(k.mv_data as *const u8, k.mv_size);
                if kb.len() < prefix_len || kb[..prefix_len] != key[..prefix_len] {
                    break;
                }
                out.extend_from_slice(std::slice::from_raw_parts(
                    v.mv_data as *const u8,
                    v.mv_size,
                ));
                n += 1;
                rc = ffi::mdb_cursor_get(cur, &mut k, &mut v, ffi::MDB_PREV);
            }
            ffi::mdb_cursor_close(cur);
            ffi::mdb_txn_abort(txn);
        }
        black_box(&out);
        n
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: no transaction is open; the env is closed once.
        unsafe { ffi::mdb_env_close(self.env) }
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite

const SQL_BEST: &str = "CREATE TABLE IF NOT EXISTS messages (
        session TEXT NOT NULL, ts INTEGER NOT NULL, id BLOB NOT NULL, value BLOB NOT NULL,
        PRIMARY KEY (session, ts, id)) WITHOUT ROWID;";
const SQL_BEST_INSERT: &str =
    "INSERT INTO messages (session, ts, id, value) VALUES (?1, ?2, ?3, ?4)";
const SQL_BEST_LATEST: &str =
    "SELECT value FROM messages WHERE session = ?1 AND ts < ?2 ORDER BY ts DESC, id DESC LIMIT ?3";

const SQL_USUAL: &str = "CREATE TABLE IF NOT EXISTS messages (
        rowid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, session TEXT NOT NULL,
        ts INTEGER NOT NULL, value BLOB NOT NULL);
    CREATE INDEX IF NOT EXISTS messages_session_ts ON messages (session, ts);";
const SQL_USUAL_INSERT: &str =
    "INSERT INTO messages (id, session, ts, value) VALUES (?1, ?2, ?3, ?4)";
const SQL_USUAL_LATEST: &str =
    "SELECT value FROM messages WHERE session = ?1 AND ts < ?2 ORDER BY ts DESC LIMIT ?3";

fn sqlite_open(path: &Path, schema: &str, synchronous: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("sqlite open");
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", synchronous)
        .unwrap();
    conn.execute_batch(schema).unwrap();
    conn
}

fn sqlite_append_batch(
    conn: &rusqlite::Connection,
    d: &Data,
    s: usize,
    j0: usize,
    j1: usize,
    rec: &mut Vec<u8>,
) {
    let session = d.sessions[s].as_str();
    let now = now_micros();
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut ins = conn.prepare_cached(SQL_BEST_INSERT).unwrap();
        for j in j0..j1 {
            let id = *uuid::Uuid::now_v7().as_bytes();
            let ts = d.ts(s, j);
            encode_record(
                rec,
                &id,
                session,
                ts,
                Data::role(j),
                d.content(s, j),
                d.meta(j),
                now,
            );
            ins.execute(rusqlite::params![session, ts, &id[..], &rec[..]])
                .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
}

fn sqlite_latest(
    stmt: &mut rusqlite::Statement<'_>,
    session: &str,
    end: i64,
    limit: i64,
    out: &mut Vec<u8>,
) -> usize {
    out.clear();
    let mut n = 0;
    let mut rows = stmt.query(rusqlite::params![session, end, limit]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        out.extend_from_slice(row.get_ref(0).unwrap().as_blob().unwrap());
        n += 1;
    }
    black_box(&out);
    n
}

// ---------------------------------------------------------------------------------------------
// The three parts

struct Stores {
    abi: Abi,
    raw: Raw,
    sqlite: rusqlite::Connection,
}

struct Line {
    name: &'static str,
    value: f64,
}

fn print_lines(unit: &str, lines: &[Line]) {
    for l in lines.iter().filter(|l| l.value.is_finite()) {
        match unit {
            "msg/s" => println!(
                "  {:<62} {:>10.0} msg/s  {:>8.2} µs/msg",
                l.name,
                l.value,
                1e6 / l.value
            ),
            _ => println!("  {:<62} {:>10.2} µs", l.name, l.value),
        }
    }
}

fn batched(cfg: &Config, d: &Data, dir: &Path) -> Stores {
    println!();
    println!(
        "(a) batched append: {} sessions x {} messages, {} per call/transaction",
        cfg.sessions, cfg.per_session, cfg.batch
    );
    let abi = Abi::open(&dir.join("abi-durable"), 0);
    let abi_ns = Abi::open(&dir.join("abi-nosync"), LMS_OPEN_NO_SYNC);
    let raw = Raw::open(&dir.join("raw-durable"), 0);
    let raw_ns = Raw::open(&dir.join("raw-nosync"), ffi::MDB_NOSYNC);
    let sqlite = sqlite_open(&dir.join("sqlite-best.db"), SQL_BEST, "FULL");

    // Batches in step-major order: step 0 of every session, then step 1, ... (sessions interleave
    // as they would in a service). The list is cut into `rounds` equal slices; each engine
    // appends the same slice in turn, so drift hits all engines alike; medians over slices.
    let steps = cfg.per_session.div_ceil(cfg.batch);
    let batches: Vec<(usize, usize, usize)> = (0..steps)
        .flat_map(|k| {
            (0..cfg.sessions)
                .map(move |s| (s, k * cfg.batch, ((k + 1) * cfg.batch).min(cfg.per_session)))
        })
        .collect();
    let rounds = cfg.run.rounds.min(batches.len());
    let per_round = batches.len().div_ceil(rounds);
    let (mut t_abi, mut t_abi_ns, mut t_raw, mut t_raw_ns, mut t_sql) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut results = Vec::new();
    let (mut key, mut rec) = (Vec::new(), Vec::new());
    for slice in batches.chunks(per_round) {
        let n: usize = slice.iter().map(|b| b.2 - b.1).sum();
        let rate = |f: &mut dyn FnMut()| {
            let t = Instant::now();
            f();
            n as f64 / t.elapsed().as_secs_f64()
        };
        t_raw.push(rate(&mut || {
            for &(s, a, b) in slice {
                raw.append_batch(d, s, a, b, &mut key, &mut rec);
            }
        }));
        t_abi.push(rate(&mut || {
            for &(s, a, b) in slice {
                abi.append_batch(d, s, a, b, &mut results);
            }
        }));
        t_raw_ns.push(rate(&mut || {
            for &(s, a, b) in slice {
                raw_ns.append_batch(d, s, a, b, &mut key, &mut rec);
            }
        }));
        t_abi_ns.push(rate(&mut || {
            for &(s, a, b) in slice {
                abi_ns.append_batch(d, s, a, b, &mut results);
            }
        }));
        t_sql.push(rate(&mut || {
            for &(s, a, b) in slice {
                sqlite_append_batch(&sqlite, d, s, a, b, &mut rec);
            }
        }));
    }
    let total = (cfg.sessions * cfg.per_session) as u64;
    assert_eq!(abi.messages(), total, "durable store holds every message");
    assert_eq!(
        abi_ns.messages(),
        total,
        "no-sync store holds every message"
    );
    let sql_count: u64 = sqlite
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sql_count, total);

    let (abi_r, abi_ns_r, raw_r, raw_ns_r, sql_r) = (
        median(t_abi),
        median(t_abi_ns),
        median(t_raw),
        median(t_raw_ns),
        median(t_sql),
    );
    println!(
        "  median of {} slices of ~{} messages each",
        rounds,
        per_round * cfg.batch
    );
    print_lines(
        "msg/s",
        &[
            Line {
                name: "raw LMDB, record only, durable",
                value: raw_r,
            },
            Line {
                name: "lms_append_messages, durable",
                value: abi_r,
            },
            Line {
                name: "SQLite WAL synchronous=FULL, WITHOUT ROWID (session,ts,id)",
                value: sql_r,
            },
            Line {
                name: "raw LMDB, record only, MDB_NOSYNC",
                value: raw_ns_r,
            },
            Line {
                name: "lms_append_messages, LMS_OPEN_NO_SYNC",
                value: abi_ns_r,
            },
        ],
    );
    // Fixed per-message costs every engine above pays inside its timed loop, for reference.
    let n_ref = 200_000usize;
    let t = Instant::now();
    for _ in 0..n_ref {
        black_box(uuid::Uuid::now_v7());
    }
    let uuid_us = t.elapsed().as_secs_f64() * 1e6 / n_ref as f64;
    let t = Instant::now();
    for j in 0..n_ref {
        let id = [7u8; 16];
        encode_record(
            &mut rec,
            &id,
            &d.sessions[0],
            d.ts(0, j),
            Data::role(j),
            d.content(0, j),
            d.meta(j),
            1,
        );
        black_box(&rec);
    }
    let enc_us = t.elapsed().as_secs_f64() * 1e6 / n_ref as f64;
    println!(
        "  (per message, paid by every engine: Uuid::now_v7 {uuid_us:.2} µs, record encode {enc_us:.2} µs, record ~{} bytes)",
        rec.len()
    );
    let r1 = raw_r / abi_r;
    let r2 = abi_r / sql_r;
    let r3 = raw_ns_r / abi_ns_r;
    println!(
        "  raw / ABI (durable)         = {r1:.2}x   goal <= 2x   {}",
        verdict(r1 <= 2.0)
    );
    println!(
        "  ABI / SQLite FULL (durable) = {r2:.2}x   goal >= 2x   {}",
        verdict(r2 >= 2.0)
    );
    println!(
        "  raw / ABI (no sync)         = {r3:.2}x   goal <= 2x   {}",
        verdict(r3 <= 2.0)
    );
    println!("  reference on this machine: raw ~316,000/s durable, ~750,000/s no sync; SQLite FULL 91,000-134,000/s");
    drop(abi_ns);
    drop(raw_ns);
    Stores { abi, raw, sqlite }
}

fn ranges(cfg: &Config, d: &Data, dir: &Path, stores: &Stores) {
    println!();
    println!(
        "(b) latest 50 before a time (random session, random time), {} queries per round",
        cfg.ranges
    );
    // The usual SQLite schema: a rowid table with an index on (session, ts), filled as a live
    // service fills it, one message of each session in turn (untimed, synchronous=OFF).
    let usual_path = dir.join("sqlite-usual.db");
    let t = Instant::now();
    {
        let conn = sqlite_open(&usual_path, SQL_USUAL, "OFF");
        let mut rec = Vec::new();
        let now = now_micros();
        let chunk = 10_000;
        let total = cfg.sessions * cfg.per_session;
        let mut i = 0;
        while i < total {
            conn.execute_batch("BEGIN").unwrap();
            {
                let mut ins = conn.prepare_cached(SQL_USUAL_INSERT).unwrap();
                for n in i..(i + chunk).min(total) {
                    let (s, j) = (n % cfg.sessions, n / cfg.sessions);
                    let id = *uuid::Uuid::now_v7().as_bytes();
                    let session = d.sessions[s].as_str();
                    let ts = d.ts(s, j);
                    encode_record(
                        &mut rec,
                        &id,
                        session,
                        ts,
                        Data::role(j),
                        d.content(s, j),
                        d.meta(j),
                        now,
                    );
                    ins.execute(rusqlite::params![&id[..], session, ts, &rec[..]])
                        .unwrap();
                }
            }
            conn.execute_batch("COMMIT").unwrap();
            i += chunk;
        }
    }
    println!(
        "  (usual schema loaded in {:.1} s, untimed)",
        t.elapsed().as_secs_f64()
    );
    let usual = sqlite_open(&usual_path, SQL_USUAL, "FULL");

    let limit = 50usize;
    let mut rng = Rng(0xA076_1D64_78BD_642F);
    let queries: Vec<(usize, i64)> = (0..cfg.ranges)
        .map(|_| {
            let s = rng.below(cfg.sessions);
            let j = limit + rng.below(cfg.per_session - limit + 1);
            (s, d.ts(s, j.min(cfg.per_session - 1)) + 1)
        })
        .collect();
    let mut best = stores.sqlite.prepare(SQL_BEST_LATEST).unwrap();
    let mut usual_stmt = usual.prepare(SQL_USUAL_LATEST).unwrap();
    let usual_ops = (cfg.ranges / 10).max(10);
    let (mut t_abi, mut t_raw, mut t_best, mut t_usual) = (vec![], vec![], vec![], vec![]);
    let (mut key, mut out) = (Vec::new(), Vec::with_capacity(64 << 10));
    let us_per = |n: usize, f: &mut dyn FnMut(usize) -> usize| {
        let t = Instant::now();
        let mut got = 0;
        for i in 0..n {
            got += f(i);
        }
        assert_eq!(got, n * limit, "every query returns a full page");
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    };
    for _ in 0..cfg.run.rounds {
        t_raw.push(us_per(cfg.ranges, &mut |i| {
            let (s, end) = queries[i];
            stores
                .raw
                .latest_before(&d.sessions[s], end, limit, &mut key, &mut out)
        }));
        t_abi.push(us_per(cfg.ranges, &mut |i| {
            let (s, end) = queries[i];
            stores.abi.latest_before(&d.sessions[s], end, limit as u32)
        }));
        t_best.push(us_per(cfg.ranges, &mut |i| {
            let (s, end) = queries[i];
            sqlite_latest(&mut best, &d.sessions[s], end, limit as i64, &mut out)
        }));
        t_usual.push(us_per(usual_ops, &mut |i| {
            let (s, end) = queries[i];
            sqlite_latest(&mut usual_stmt, &d.sessions[s], end, limit as i64, &mut out)
        }));
    }
    let (abi_us, raw_us, best_us, usual_us) = (
        median(t_abi),
        median(t_raw),
        median(t_best),
        median(t_usual),
    );
    print_lines(
        "µs",
        &[
            Line {
                name: "raw LMDB: SET_RANGE + PREV x50, copy records",
                value: raw_us,
            },
            Line {
                name: "lms_range_messages (REVERSE|END, limit 50) + lms_page_free",
                value: abi_us,
            },
            Line {
                name: "SQLite best: WITHOUT ROWID PK(session,ts,id)",
                value: best_us,
            },
            Line {
                name: "SQLite usual: rowid table + index (session,ts)",
                value: usual_us,
            },
        ],
    );
    let (r1, r2, r3) = (abi_us / raw_us, best_us / abi_us, usual_us / abi_us);
    println!(
        "  ABI / raw LMDB      = {r1:.2}x   goal <= 1.5x   {}",
        verdict(r1 <= 1.5)
    );
    println!(
        "  SQLite best / ABI   = {r2:.2}x   goal >= 2x     {}",
        verdict(r2 >= 2.0)
    );
    println!(
        "  SQLite usual / ABI  = {r3:.2}x   goal >= 10x    {}",
        verdict(r3 >= 10.0)
    );
    println!("  reference on this machine: raw ~9.6 µs, SQLite best ~24 µs, SQLite usual ~154 µs");
}

/// Runs `threads` threads doing `total / threads` appends each after a common start; msg/s.
fn concurrent(threads: usize, total: usize, work: &(dyn Fn(usize, usize) + Sync)) -> f64 {
    let per = total / threads;
    let barrier = Barrier::new(threads + 1);
    let elapsed = std::thread::scope(|scope| {
        for t in 0..threads {
            let barrier = &barrier;
            scope.spawn(move || {
                barrier.wait();
                work(t, per);
            });
        }
        barrier.wait();
        Instant::now()
    })
    .elapsed();
    (per * threads) as f64 / elapsed.as_secs_f64()
}

fn single(cfg: &Config, d: &Data, dir: &Path) {
    let th = cfg.threads;
    println!();
    println!(
        "(c) durable single-message appends, {} per round and test, 1 thread and {th} threads sharing one handle",
        cfg.single
    );
    let abi = Abi::open(&dir.join("single-abi"), 0);
    let raw = Raw::open(&dir.join("single-raw"), 0);
    let sql_path = dir.join("single-sqlite.db");
    // One connection per thread, opened before the clock starts.
    let conns: Vec<std::sync::Mutex<rusqlite::Connection>> = (0..th)
        .map(|_| std::sync::Mutex::new(sqlite_open(&sql_path, SQL_BEST, "FULL")))
        .collect();
    let sql_insert = |t: usize, per: usize| {
        let conn = conns[t].lock().unwrap();
        let mut rec = Vec::new();
        for k in 0..per {
            let s = (t * 7 + k) % d.sessions.len();
            let session = d.sessions[s].as_str();
            let id = *uuid::Uuid::now_v7().as_bytes();
            let ts = now_micros();
            encode_record(
                &mut rec,
                &id,
                session,
                ts,
                Data::role(k),
                d.content(s, k),
                d.meta(k),
                ts,
            );
            // BEGIN IMMEDIATE takes the write lock up front, so concurrent writers wait in the
            // busy handler instead of failing on a stale read snapshot.
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            conn.prepare_cached(SQL_BEST_INSERT)
                .unwrap()
                .execute(rusqlite::params![session, ts, &id[..], &rec[..]])
                .unwrap();
            conn.execute_batch("COMMIT").unwrap();
        }
    };
    let abi_insert = |t: usize, per: usize| {
        for k in 0..per {
            abi.append_one(d, (t * 7 + k) % d.sessions.len(), k);
        }
    };
    let raw_insert = |t: usize, per: usize| {
        let (mut key, mut rec) = (Vec::new(), Vec::new());
        for k in 0..per {
            raw.append_one(d, (t * 7 + k) % d.sessions.len(), k, &mut key, &mut rec);
        }
    };
    let one = |work: &dyn Fn(usize, usize)| {
        let t = Instant::now();
        work(0, cfg.single);
        cfg.single as f64 / t.elapsed().as_secs_f64()
    };
    let (mut a1, mut a8, mut r1, mut r8, mut s1, mut s8) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..cfg.run.rounds {
        a1.push(one(&abi_insert));
        a8.push(concurrent(th, cfg.single, &abi_insert));
        r1.push(one(&raw_insert));
        r8.push(concurrent(th, cfg.single, &raw_insert));
        s1.push(one(&sql_insert));
        s8.push(concurrent(th, cfg.single, &sql_insert));
    }
    let (a1, a8, r1, r8, s1, s8) = (
        median(a1),
        median(a8),
        median(r1),
        median(r8),
        median(s1),
        median(s8),
    );
    let names = [
        "lms_append_message, durable, 1 thread",
        "lms_append_message, durable, N threads (group commit)",
        "raw LMDB txn per message, durable, 1 thread",
        "raw LMDB txn per message, durable, N threads",
        "SQLite WAL FULL, BEGIN IMMEDIATE per message, 1 thread",
        "SQLite WAL FULL, N threads, own connections",
    ];
    print_lines(
        "msg/s",
        &[
            Line {
                name: names[0],
                value: a1,
            },
            Line {
                name: names[1],
                value: a8,
            },
            Line {
                name: names[2],
                value: r1,
            },
            Line {
                name: names[3],
                value: r8,
            },
            Line {
                name: names[4],
                value: s1,
            },
            Line {
                name: names[5],
                value: s8,
            },
        ],
    );
    println!("  (N = {th})");
    let (g1, g2) = (a8 / a1, a8 / s8);
    println!(
        "  ABI {th} threads / ABI 1 thread     = {g1:.2}x   goal >= 5x          {}",
        verdict(g1 >= 5.0)
    );
    println!(
        "  ABI {th} threads / SQLite {th} threads = {g2:.2}x   goal > 1x (ahead)   {}",
        verdict(g2 > 1.0)
    );
    println!("  reference on this machine: LMDB ~5,200/s single durable (two flushes); SQLite FULL 8,200-9,000/s");
}

fn main() {
    let cfg = Config::from_env();
    let tmp = tempfile::Builder::new()
        .prefix("lmstore-bench-conversations-")
        .tempdir()
        .expect("tempdir");
    println!("lmstore conversations benchmark");
    println!(
        "  {} sessions x {} messages, batches of {}, medians of {} round(s){}",
        cfg.sessions,
        cfg.per_session,
        cfg.batch,
        cfg.run.rounds,
        if cfg.run.smoke {
            " (SMOKE RUN: numbers are meaningless)"
        } else {
            ""
        }
    );
    let d = Data::new(cfg.sessions);
    let started = Instant::now();
    if cfg.run.runs("batch") || cfg.run.runs("range") {
        let stores = batched(&cfg, &d, tmp.path());
        if cfg.run.runs("range") {
            ranges(&cfg, &d, tmp.path(), &stores);
        }
    }
    if cfg.run.runs("single") {
        single(&cfg, &d, tmp.path());
    }
    if cfg.run.runs("size") {
        sizes(&cfg, &d, tmp.path());
    }
    if cfg.run.runs("zstd") {
        zstd_costs(&d);
    }
    println!();
    println!("  total time {:.0} s", started.elapsed().as_secs_f64());
    if cfg.run.smoke {
        println!("  (smoke run: tiny sizes, the figures above prove only that the bench runs)");
    }
    tmp.close().expect("remove tempdir");
}

// ---------------------------------------------------------------------------------------------
// (d) Bytes on disk (issue 15)

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// Fills SQLite with `messages` (session, j, content, metadata) in the given order, 1,000 rows
/// per transaction, then checkpoints so the main file holds everything; returns its size.
fn sqlite_size(
    path: &Path,
    schema: &str,
    usual: bool,
    messages: &mut dyn Iterator<Item = (String, i64, String, Vec<u8>, &'static str)>,
) -> u64 {
    let conn = sqlite_open(path, schema, "OFF");
    let mut rec = Vec::new();
    let now = now_micros();
    let mut open = false;
    let mut n = 0;
    for (session, ts, content, meta, role) in messages {
        if !open {
            conn.execute_batch("BEGIN").unwrap();
            open = true;
        }
        let id = *uuid::Uuid::now_v7().as_bytes();
        encode_record(&mut rec, &id, &session, ts, role, &content, &meta, now);
        if usual {
            conn.prepare_cached(SQL_USUAL_INSERT)
                .unwrap()
                .execute(rusqlite::params![&id[..], session, ts, &rec[..]])
                .unwrap();
        } else {
            conn.prepare_cached(SQL_BEST_INSERT)
                .unwrap()
                .execute(rusqlite::params![session, ts, &id[..], &rec[..]])
                .unwrap();
        }
        n += 1;
        if n % 1000 == 0 {
            conn.execute_batch("COMMIT").unwrap();
            open = false;
        }
    }
    if open {
        conn.execute_batch("COMMIT").unwrap();
    }
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    drop(conn);
    file_size(path)
}

/// Appends `messages` through the ABI (no-sync: the layout does not depend on flushes) in
/// batches of one session, then prints where the bytes went; returns the size of data.mdb.
fn lmstore_size(
    dir: &Path,
    batches: &mut dyn Iterator<Item = Vec<(String, i64, String, Vec<u8>, &'static str)>>,
    train_after: Option<usize>,
) -> Sizes {
    let abi = Abi::open(dir, LMS_OPEN_NO_SYNC);
    let mut results = Vec::new();
    for (n, batch) in batches.enumerate() {
        if train_after == Some(n) {
            let mut info = lms_dictionary_info::default();
            let t = Instant::now();
            // SAFETY: abi.0 is open and info is writable.
            lms_check(
                unsafe { lms_train_dictionary(abi.0, 0, &mut info) },
                "lms_train_dictionary",
            );
            println!(
                "    dictionary {} trained after {n} batches: {} bytes in {:.2} s, bodies from {} B use it",
                info.version,
                info.bytes,
                t.elapsed().as_secs_f64(),
                info.min_body
            );
        }
        let msgs: Vec<lms_message_in> = batch
            .iter()
            .map(|(s, ts, c, m, r)| Abi::message(s, *ts, r, c, m))
            .collect();
        results.clear();
        results.reserve(msgs.len());
        // SAFETY: msgs and results hold msgs.len() entries; every pointer is valid for the call.
        lms_check(
            unsafe { lms_append_messages(abi.0, msgs.as_ptr(), msgs.len(), results.as_mut_ptr()) },
            "lms_append_messages",
        );
    }
    let store = lmstore::Store::open(dir, lmstore::OpenOptions::default()).expect("open");
    let usage = store.usage().expect("usage");
    print_usage(&usage);
    let st = store.stats().expect("stats");
    println!(
        "    message bodies {:.1} MiB as given, {:.1} MiB as stored (compression saved {:.0}%)",
        mib(st.body_bytes),
        mib(st.body_stored_bytes),
        100.0 - st.body_stored_bytes as f64 * 100.0 / st.body_bytes.max(1) as f64
    );
    let packed = dir.with_extension("compact-backup");
    let path = packed.to_str().expect("utf-8 temp path");
    lms_check(
        // SAFETY: the path is valid for the call.
        unsafe { lms_backup(abi.0, path.as_ptr().cast(), path.len(), LMS_BACKUP_COMPACT) },
        "lms_backup",
    );
    let p = lmstore::Store::open(&packed, lmstore::OpenOptions::default()).expect("open");
    let pu = p.usage().expect("usage");
    let fill = |u: &lmstore::lmdb::Usage| {
        u.table("messages")
            .map(|t| t.leaf_fill(u.page_size) * 100.0)
            .unwrap_or(0.0)
    };
    let compact = file_size(&packed.join("data.mdb"));
    println!(
        "    compact backup (lms_backup, LMS_BACKUP_COMPACT): data.mdb {:.1} MiB, messages fill {:.0}% (appended: {:.0}%)",
        mib(compact),
        fill(&pu),
        fill(&usage)
    );
    drop(p);
    drop(store);
    drop(abi);
    Sizes {
        live: file_size(&dir.join("data.mdb")),
        compact,
    }
}

/// lmstore's data.mdb as appended, and its compact backup.
struct Sizes {
    live: u64,
    compact: u64,
}

fn print_usage(u: &lmstore::lmdb::Usage) {
    println!(
        "    {:<17} {:>10} {:>8} {:>9} {:>9} {:>6} {:>10} {:>10}",
        "table", "entries", "branch", "leaf", "overflow", "fill", "keys MiB", "vals MiB"
    );
    for t in u.tables.iter().filter(|t| t.entries > 0) {
        println!(
            "    {:<17} {:>10} {:>8} {:>9} {:>9} {:>5.0}% {:>10.1} {:>10.1}",
            t.name,
            t.entries,
            t.branch_pages,
            t.leaf_pages,
            t.overflow_pages,
            t.leaf_fill(u.page_size) * 100.0,
            mib(t.key_bytes),
            mib(t.value_bytes)
        );
    }
    println!(
        "    file: {} pages of {} bytes, {} of them free",
        u.file_pages, u.page_size, u.free_pages
    );
}

fn sizes(cfg: &Config, d: &Data, dir: &Path) {
    println!();
    println!(
        "(d) bytes on disk: {} sessions x {} messages, batches of {} of one session, sessions in turn",
        cfg.sessions, cfg.per_session, cfg.batch
    );
    let rows = |s: usize, j: usize| {
        (
            d.sessions[s].clone(),
            d.ts(s, j),
            d.content(s, j).to_owned(),
            d.meta(j).to_vec(),
            Data::role(j),
        )
    };
    let order = || {
        (0..cfg.per_session.div_ceil(cfg.batch)).flat_map(move |r| {
            (0..cfg.sessions)
                .map(move |s| (s, r * cfg.batch, ((r + 1) * cfg.batch).min(cfg.per_session)))
        })
    };
    let lms = lmstore_size(
        &dir.join("size-lmstore"),
        &mut order().map(|(s, a, b)| (a..b).map(|j| rows(s, j)).collect()),
        None,
    );
    let best = sqlite_size(
        &dir.join("size-best.db"),
        SQL_BEST,
        false,
        &mut order().flat_map(|(s, a, b)| (a..b).map(move |j| rows(s, j))),
    );
    let usual = sqlite_size(
        &dir.join("size-usual.db"),
        SQL_USUAL,
        true,
        &mut order().flat_map(|(s, a, b)| (a..b).map(move |j| rows(s, j))),
    );
    report_sizes(lms, best, usual, None);

    // The same data with a dictionary trained from the first tenth of the batches and used by
    // every later one; then what it costs reads.
    let train_after = (cfg.sessions * cfg.per_session.div_ceil(cfg.batch) / 10).max(1);
    println!();
    if train_after * cfg.batch >= lmstore::format::dictionary::MIN_SAMPLES {
        println!("    the same, with a dictionary trained after the first tenth of the batches:");
        let dict = lmstore_size(
            &dir.join("size-dict-lmstore"),
            &mut order().map(|(s, a, b)| (a..b).map(|j| rows(s, j)).collect()),
            Some(train_after),
        );
        report_sizes(dict, best, usual, None);
        dictionary_read_cost(cfg, d, dir);
    } else {
        println!("    (too few messages here to train a dictionary: no dictionary figures)");
    }

    // A mix with large messages: every 10th message a tool output of 2 KB..200 KB.
    let large_n = env_usize("LMSTORE_BENCH_LARGE")
        .unwrap_or(cfg.run.scaled(20_000.0, 400))
        .max(20);
    // As many sessions as the data set has names for (20 at full scale, fewer in a smoke run).
    let sessions = 20.min(large_n).min(d.sessions.len());
    let per = large_n / sessions;
    println!();
    println!(
        "    mix with large messages: {sessions} sessions x {per} messages, every 10th 2 KB..200 KB"
    );
    let mut rng = Rng(0x5EED_1A46_E000_0001);
    let mut sizes_of: Vec<usize> = (0..sessions * per)
        .map(|i| {
            if i % 10 == 9 {
                // log-uniform between 2 KB and 200 KB
                let f = (rng.below(1000) as f64) / 1000.0;
                (2048.0 * 100f64.powf(f)) as usize
            } else {
                0
            }
        })
        .collect();
    let big = |n: usize, seed: usize| -> String {
        let mut s = String::with_capacity(n + 64);
        let mut k = seed;
        while s.len() < n {
            s.push_str(d.content(k % d.sessions.len(), k));
            s.push('\n');
            k += 1;
        }
        s.truncate(n);
        s
    };
    let content_bytes: u64 = (0..sessions * per)
        .map(|i| {
            if sizes_of[i] > 0 {
                sizes_of[i] as u64
            } else {
                d.content(i % sessions, i).len() as u64
            }
        })
        .sum();
    let sizes_ref = &mut sizes_of;
    let mixed = |s: usize, j: usize, sizes_of: &[usize]| {
        let i = s * per + j;
        let content = if sizes_of[i] > 0 {
            big(sizes_of[i], i)
        } else {
            d.content(s, j).to_owned()
        };
        (
            d.sessions[s].clone(),
            d.ts(s, j),
            content,
            d.meta(j).to_vec(),
            Data::role(j),
        )
    };
    let sizes_of: &[usize] = sizes_ref;
    let batch = 100.min(per);
    let order = || {
        (0..per.div_ceil(batch)).flat_map(move |r| {
            (0..sessions).map(move |s| (s, r * batch, ((r + 1) * batch).min(per)))
        })
    };
    let lms = lmstore_size(
        &dir.join("size-mixed-lmstore"),
        &mut order().map(|(s, a, b)| (a..b).map(|j| mixed(s, j, sizes_of)).collect()),
        None,
    );
    let best = sqlite_size(
        &dir.join("size-mixed-best.db"),
        SQL_BEST,
        false,
        &mut order().flat_map(|(s, a, b)| (a..b).map(move |j| mixed(s, j, sizes_of))),
    );
    let usual = sqlite_size(
        &dir.join("size-mixed-usual.db"),
        SQL_USUAL,
        true,
        &mut order().flat_map(|(s, a, b)| (a..b).map(move |j| mixed(s, j, sizes_of))),
    );
    report_sizes(lms, best, usual, Some(content_bytes));
}

/// Latest 50 through the ABI on the store of part (d) without a dictionary and on the one
/// with, alternating, same queries: what inflating short bodies costs a read.
fn dictionary_read_cost(cfg: &Config, d: &Data, dir: &Path) {
    let plain = Abi::open(&dir.join("size-lmstore"), 0);
    let dict = Abi::open(&dir.join("size-dict-lmstore"), 0);
    let limit = 50u32;
    let mut rng = Rng(0x0D1C_7000_5EED_0001);
    let queries: Vec<(usize, i64)> = (0..cfg.ranges)
        .map(|_| {
            let s = rng.below(cfg.sessions);
            let j = limit as usize + rng.below(cfg.per_session - limit as usize + 1);
            (s, d.ts(s, j.min(cfg.per_session - 1)) + 1)
        })
        .collect();
    let time = |abi: &Abi| {
        let t = Instant::now();
        for (s, end) in &queries {
            black_box(abi.latest_before(&d.sessions[*s], *end, limit));
        }
        t.elapsed().as_secs_f64() * 1e6 / queries.len() as f64
    };
    let (mut tp, mut td) = (vec![], vec![]);
    for _ in 0..cfg.run.rounds.max(3) {
        tp.push(time(&plain));
        td.push(time(&dict));
    }
    let (p, q) = (median(tp), median(td));
    println!(
        "    latest 50 through the ABI: {p:.2} µs without a dictionary, {q:.2} µs with (x{:.2})",
        q / p
    );
}

fn report_sizes(sizes: Sizes, best: u64, usual: u64, content: Option<u64>) {
    let lms = sizes.live;
    println!(
        "    lmstore data.mdb {:>9.1} MiB | SQLite WITHOUT ROWID {:>9.1} MiB | SQLite rowid+index {:>9.1} MiB",
        mib(lms),
        mib(best),
        mib(usual)
    );
    let r = lms as f64 / best.min(usual) as f64;
    println!(
        "    lmstore / SQLite best schema = {r:.2}x   goal <= 1.0x   {}",
        verdict(r <= 1.0)
    );
    println!(
        "    lmstore / SQLite WITHOUT ROWID = {:.2}x, / rowid+index = {:.2}x",
        lms as f64 / best as f64,
        lms as f64 / usual as f64
    );
    println!(
        "    compact backup / SQLite best schema = {:.2}x (the VACUUM INTO of lmstore)",
        sizes.compact as f64 / best.min(usual) as f64
    );
    if let Some(c) = content {
        println!(
            "    content {:.1} MiB: lmstore holds {:.2}x its content bytes",
            mib(c),
            lms as f64 / c as f64
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (e) What compressing a body would cost a read, by size, with and without a dictionary trained
// on the data set's own messages: the measurement behind COMPRESS_MIN.

fn zstd_costs(d: &Data) {
    println!();
    println!("(e) zstd on one message body: ratio and decompression time (per body)");
    let bodies: Vec<Vec<u8>> = (0..POOL)
        .map(|i| {
            let mut b = Vec::new();
            let c = d.content(0, i);
            rmp::encode::write_str(&mut b, c).unwrap();
            b.extend_from_slice(d.meta(i));
            b
        })
        .collect();
    let dict = zstd::dict::from_samples(&bodies, 16 << 10).expect("train");
    let cdict = zstd::dict::EncoderDictionary::copy(&dict, 3);
    let ddict = zstd::dict::DecoderDictionary::copy(&dict);
    let mut plain_c = zstd::bulk::Compressor::new(3).unwrap();
    let mut dict_c = zstd::bulk::Compressor::with_prepared_dictionary(&cdict).unwrap();
    let mut plain_d = zstd::bulk::Decompressor::new().unwrap();
    let mut dict_d = zstd::bulk::Decompressor::with_prepared_dictionary(&ddict).unwrap();
    let mut out = Vec::with_capacity(1 << 20);
    for size in [300usize, 1024, 4096, 32768] {
        let body: Vec<u8> = if size <= 300 {
            bodies[7].clone()
        } else {
            let mut b = Vec::new();
            let mut k = 0;
            while b.len() < size {
                b.extend_from_slice(d.content(1, k).as_bytes());
                b.push(b'\n');
                k += 1;
            }
            b.truncate(size);
            b
        };
        for (name, frame, dec) in [
            (
                "no dictionary",
                plain_c.compress(&body).unwrap(),
                &mut plain_d,
            ),
            (
                "dictionary   ",
                dict_c.compress(&body).unwrap(),
                &mut dict_d,
            ),
        ] {
            let n = 20_000usize;
            let t = Instant::now();
            for _ in 0..n {
                out.clear();
                dec.decompress_to_buffer(&frame, &mut out).unwrap();
                black_box(&out);
            }
            let ns = t.elapsed().as_secs_f64() * 1e9 / n as f64;
            let t = Instant::now();
            for _ in 0..n {
                out.clear();
                out.extend_from_slice(&body);
                black_box(&out);
            }
            let copy_ns = t.elapsed().as_secs_f64() * 1e9 / n as f64;
            println!(
                "    {size:>6} B {name}: {:>6} B stored ({:>3.0}%), inflate {ns:>7.0} ns vs copy {copy_ns:>5.0} ns",
                frame.len(),
                frame.len() as f64 * 100.0 / body.len() as f64
            );
        }
    }
}
