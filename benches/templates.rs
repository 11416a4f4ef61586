//! Template reads: `lms_get_template` through the C ABI against a raw LMDB get of the same
//! bytes and against SQLite (rusqlite, bundled, WAL, prepared statement), in one run.
//!
//! Run: `cargo bench --bench templates`. Knobs (environment variables):
//!   LMSTORE_BENCH_SCALE      multiplies the template count and the gets per round (default 1;
//!                            `smoke` = a tiny run that only proves the bench works)
//!   LMSTORE_BENCH_TEMPLATES  number of templates (default 10000 * scale)
//!   LMSTORE_BENCH_OPS        gets per round and method (default 1000000 * scale)
//!   LMSTORE_BENCH_ROUNDS     rounds; the median is reported (default 5)
//!   LMSTORE_BENCH_ONLY       comma-separated subset of raw,abi,abi_version,sqlite,decode (for
//!                            profiling one path with perf; ratios need raw, abi and sqlite)
//! Stores live in a temporary directory under TMPDIR (default /tmp), removed at the end.

mod common;

use common::*;
use lmdb_master_sys as ffi;
use lmstore::capi::*;
use rmpv::Value;
use std::hint::black_box;
use std::ptr;
use std::time::Instant;

// ---------------------------------------------------------------------------------------------
// Configuration and helpers

struct Config {
    templates: usize,
    ops: usize,
    run: Run,
}

impl Config {
    fn from_env() -> Config {
        let run = Run::from_env(0.01);
        Config {
            templates: env_usize("LMSTORE_BENCH_TEMPLATES").unwrap_or(run.scaled(10_000.0, 10)),
            ops: env_usize("LMSTORE_BENCH_OPS").unwrap_or(run.scaled(1_000_000.0, 100)),
            run,
        }
    }
}

/// Times `ops` calls of `f(i)` and returns microseconds per call.
fn time_us(ops: usize, mut f: impl FnMut(usize)) -> f64 {
    let start = Instant::now();
    for i in 0..ops {
        f(i);
    }
    start.elapsed().as_secs_f64() * 1e6 / ops as f64
}

// ---------------------------------------------------------------------------------------------
// Data

fn template_id(i: usize) -> String {
    format!("support.reply.{i:05}")
}

/// A realistic template spec whose stored record is about 430 bytes.
fn template_spec(i: usize) -> Vec<u8> {
    let s = |v: &str| Value::from(v);
    let text = format!(
        "You are a support agent for {{{{ product }}}}. Answer the customer {{{{ customer_name }}}} \
         in a {{{{ tone }}}} tone.\nQuestion: {{{{ question }}}}\nBe brief. Variant {i:05}."
    );
    let input = |ty: &str, required: bool| {
        Value::Map(vec![
            (s("type"), s(ty)),
            (s("required"), Value::from(required)),
        ])
    };
    let spec = Value::Map(vec![
        (s("id"), s(&template_id(i))),
        (s("version"), s("1.0.0")),
        (s("template"), s(&text)),
        (s("description"), s("Customer support reply, tone-aware")),
        (
            s("inputs"),
            Value::Map(vec![
                (s("product"), input("string", true)),
                (s("customer_name"), input("string", true)),
                (s("tone"), input("string", false)),
                (s("question"), input("string", true)),
            ]),
        ),
        (
            s("metadata"),
            Value::Map(vec![(s("owner"), s("support")), (s("rev"), Value::from(i))]),
        ),
    ]);
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &spec).expect("encode spec");
    out
}

/// What a caller who decodes a record gets: the reference cost of "decode into a struct".
#[allow(dead_code)]
#[derive(Debug)]
struct Template {
    id: String,
    version: String,
    template: String,
    description: Option<String>,
    inputs: Value,
    metadata: Value,
    created_at: i64,
}

/// A typed decode with `rmp` (what a hand-written or serde-derived decoder does): owned
/// strings, the input declarations as typed entries, free-form metadata as a value tree.
#[allow(dead_code)]
#[derive(Debug)]
struct TypedTemplate {
    id: String,
    version: String,
    template: String,
    description: Option<String>,
    inputs: Vec<Input>,
    metadata: Value,
    created_at: i64,
}

#[allow(dead_code)]
#[derive(Debug, Default)]
struct Input {
    name: String,
    ty: String,
    required: bool,
}

fn read_string(rd: &mut &[u8]) -> String {
    let len = rmp::decode::read_str_len(rd).expect("str") as usize;
    let (s, rest) = rd.split_at(len);
    *rd = rest;
    std::str::from_utf8(s).expect("utf8").to_owned()
}

fn read_key<'a>(rd: &mut &'a [u8]) -> &'a str {
    let len = rmp::decode::read_str_len(rd).expect("key") as usize;
    let (s, rest) = rd.split_at(len);
    *rd = rest;
    std::str::from_utf8(s).expect("utf8")
}

fn decode_typed(mut bytes: &[u8]) -> TypedTemplate {
    let rd = &mut bytes;
    let mut t = TypedTemplate {
        id: String::new(),
        version: String::new(),
        template: String::new(),
        description: None,
        inputs: Vec::new(),
        metadata: Value::Nil,
        created_at: 0,
    };
    let n = rmp::decode::read_map_len(rd).expect("map");
    for _ in 0..n {
        match read_key(rd) {
            "id" => t.id = read_string(rd),
            "version" => t.version = read_string(rd),
            "template" => t.template = read_string(rd),
            "description" => t.description = Some(read_string(rd)),
            "inputs" => {
                let count = rmp::decode::read_map_len(rd).expect("inputs");
                for _ in 0..count {
                    let mut input = Input {
                        name: read_string(rd),
                        ..Default::default()
                    };
                    let fields = rmp::decode::read_map_len(rd).expect("decl");
                    for _ in 0..fields {
                        match read_key(rd) {
                            "type" => input.ty = read_string(rd),
                            "required" => input.required = rmp::decode::read_bool(rd).expect("b"),
                            _ => {
                                rmpv::decode::read_value(rd).expect("value");
                            }
                        }
                    }
                    t.inputs.push(input);
                }
            }
            "metadata" => t.metadata = rmpv::decode::read_value(rd).expect("metadata"),
            "created_at" => t.created_at = rmp::decode::read_int(rd).expect("int"),
            _ => {
                rmpv::decode::read_value(rd).expect("value");
            }
        }
    }
    t
}

fn decode_template(mut bytes: &[u8]) -> Template {
    let v = rmpv::decode::read_value(&mut bytes).expect("record decodes");
    let Value::Map(entries) = v else {
        panic!("record is not a map")
    };
    let mut t = Template {
        id: String::new(),
        version: String::new(),
        template: String::new(),
        description: None,
        inputs: Value::Nil,
        metadata: Value::Nil,
        created_at: 0,
    };
    for (k, v) in entries {
        let text = |v: Value| v.as_str().unwrap_or_default().to_owned();
        match k.as_str().unwrap_or_default() {
            "id" => t.id = text(v),
            "version" => t.version = text(v),
            "template" => t.template = text(v),
            "description" => t.description = Some(text(v)),
            "inputs" => t.inputs = v,
            "metadata" => t.metadata = v,
            "created_at" => t.created_at = v.as_i64().unwrap_or_default(),
            _ => {}
        }
    }
    t
}

// ---------------------------------------------------------------------------------------------
// The three stores

struct Abi(*mut lms_db);

impl Abi {
    fn open(dir: &std::path::Path, flags: u32) -> Abi {
        let path = dir.as_os_str().as_encoded_bytes();
        let mut opts = std::mem::MaybeUninit::<lms_options>::uninit();
        // SAFETY: opts points at writable memory for one lms_options.
        unsafe { lms_options_init(opts.as_mut_ptr()) };
        // SAFETY: lms_options_init filled every field.
        let mut opts = unsafe { opts.assume_init() };
        opts.flags = flags;
        let mut db = ptr::null_mut();
        // SAFETY: path and opts are valid for the call; db is an out-pointer.
        lms_check(
            unsafe { lms_open(path.as_ptr() as *const _, path.len(), &opts, &mut db) },
            "lms_open",
        );
        Abi(db)
    }

    fn put(&self, spec: &[u8]) {
        let mut outcome = 0u32;
        // SAFETY: spec is valid for the call.
        lms_check(
            unsafe { lms_put_template(self.0, spec.as_ptr(), spec.len(), 0, &mut outcome) },
            "lms_put_template",
        );
    }

    /// One get through the ABI: the library copies the record into a buffer it allocates, the
    /// caller reads it (`use_bytes`) and frees it with lms_bytes_free, as a C caller would.
    fn get<R>(&self, id: &[u8], version: Option<&[u8]>, use_bytes: impl FnOnce(&[u8]) -> R) -> R {
        let mut out = ptr::null_mut();
        let mut out_len = 0usize;
        let (vp, vl) = version.map_or((ptr::null(), 0), |v| (v.as_ptr(), v.len()));
        // SAFETY: id/version are valid for the call; out/out_len are out-pointers.
        let rc = unsafe {
            lms_get_template(
                self.0,
                id.as_ptr() as *const _,
                id.len(),
                vp as *const _,
                vl,
                &mut out,
                &mut out_len,
            )
        };
        if rc != LMS_OK {
            lms_check(rc, "lms_get_template");
        }
        // SAFETY: on success out points at out_len bytes owned by us until lms_bytes_free.
        let r = use_bytes(unsafe { std::slice::from_raw_parts(out, out_len) });
        // SAFETY: out came from lms_get_template and is freed once.
        unsafe { lms_bytes_free(out, out_len) };
        r
    }
}

impl Drop for Abi {
    fn drop(&mut self) {
        // SAFETY: the handle came from lms_open and is closed once.
        unsafe { lms_close(self.0) }
    }
}

/// The peer: LMDB used directly, the way its documentation shows.
struct Raw {
    env: *mut ffi::MDB_env,
    dbi: ffi::MDB_dbi,
}

impl Raw {
    fn open(dir: &std::path::Path, records: &[(Vec<u8>, Vec<u8>)]) -> Raw {
        let cpath = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
        let mut env = ptr::null_mut();
        let mut dbi = 0;
        // SAFETY: standard LMDB set-up on a fresh env; every pointer is valid for its call.
        unsafe {
            mdb_check(ffi::mdb_env_create(&mut env), "mdb_env_create");
            mdb_check(ffi::mdb_env_set_mapsize(env, 1 << 30), "set_mapsize");
            mdb_check(ffi::mdb_env_set_maxdbs(env, 4), "set_maxdbs");
            mdb_check(ffi::mdb_env_open(env, cpath.as_ptr(), 0, 0o600), "env_open");
            let mut txn = ptr::null_mut();
            mdb_check(
                ffi::mdb_txn_begin(env, ptr::null_mut(), 0, &mut txn),
                "txn_begin",
            );
            mdb_check(
                ffi::mdb_dbi_open(txn, c"templates".as_ptr(), ffi::MDB_CREATE, &mut dbi),
                "dbi_open",
            );
            for (k, v) in records {
                let (mut key, mut data) = (val(k), val(v));
                mdb_check(ffi::mdb_put(txn, dbi, &mut key, &mut data, 0), "mdb_put");
            }
            mdb_check(ffi::mdb_txn_commit(txn), "txn_commit");
        }
        Raw { env, dbi }
    }

    /// One read transaction + mdb_get + copy into a new Vec + abort, per get.
    fn get(&self, id: &[u8]) -> Vec<u8> {
        // SAFETY: env/dbi are open; the value is copied out before the txn ends.
        unsafe {
            let mut txn = ptr::null_mut();
            mdb_check(
                ffi::mdb_txn_begin(self.env, ptr::null_mut(), ffi::MDB_RDONLY, &mut txn),
                "txn_begin",
            );
            let mut key = val(id);
            let mut data = val(&[]);
            mdb_check(ffi::mdb_get(txn, self.dbi, &mut key, &mut data), "mdb_get");
            let out = std::slice::from_raw_parts(data.mv_data as *const u8, data.mv_size).to_vec();
            ffi::mdb_txn_abort(txn);
            out
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: no transaction is open; the env is closed once.
        unsafe { ffi::mdb_env_close(self.env) }
    }
}

fn open_sqlite(path: &std::path::Path, records: &[(Vec<u8>, Vec<u8>)]) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("sqlite open");
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE templates (id TEXT NOT NULL, version TEXT NOT NULL, value BLOB NOT NULL,
                                 PRIMARY KEY (id, version));",
    )
    .unwrap();
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut ins = conn
            .prepare("INSERT INTO templates (id, version, value) VALUES (?1, '1.0.0', ?2)")
            .unwrap();
        for (k, v) in records {
            ins.execute(rusqlite::params![std::str::from_utf8(k).unwrap(), v])
                .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
    conn
}

// ---------------------------------------------------------------------------------------------

fn main() {
    let cfg = Config::from_env();
    let tmp = tempfile::Builder::new()
        .prefix("lmstore-bench-templates-")
        .tempdir()
        .expect("tempdir");
    println!("lmstore templates benchmark");
    println!(
        "  {} templates, {} random gets per round and method, median of {} round(s){}",
        cfg.templates,
        cfg.ops,
        cfg.run.rounds,
        if cfg.run.smoke {
            " (SMOKE RUN: numbers are meaningless)"
        } else {
            ""
        }
    );

    // Load through the C ABI, then read back the stored records: the peers hold the same bytes.
    // Loading uses LMS_OPEN_NO_SYNC (then lms_sync) to save time; reads do not depend on it.
    let store_dir = tmp.path().join("lmstore");
    let abi = Abi::open(&store_dir, LMS_OPEN_NO_SYNC);
    let start = Instant::now();
    for i in 0..cfg.templates {
        abi.put(&template_spec(i));
    }
    // SAFETY: the handle is open.
    lms_check(unsafe { lms_sync(abi.0) }, "lms_sync");
    let put_secs = start.elapsed().as_secs_f64();
    drop(abi);
    let abi = Abi::open(&store_dir, 0);
    let mut records = Vec::with_capacity(cfg.templates);
    for i in 0..cfg.templates {
        let id = template_id(i).into_bytes();
        let record = abi.get(&id, None, <[u8]>::to_vec);
        records.push((id, record));
    }
    let avg_len = records.iter().map(|r| r.1.len()).sum::<usize>() as f64 / records.len() as f64;
    println!(
        "  record size: {avg_len:.0} bytes on average; {} lms_put_template calls (no-sync) took {:.2} s ({:.1} µs each)",
        cfg.templates,
        put_secs,
        put_secs * 1e6 / cfg.templates as f64
    );

    let raw_dir = tmp.path().join("raw");
    std::fs::create_dir_all(&raw_dir).unwrap();
    let raw = Raw::open(&raw_dir, &records);
    let sqlite = open_sqlite(&tmp.path().join("sqlite.db"), &records);
    let mut stmt = sqlite
        .prepare("SELECT value FROM templates WHERE id = ?1")
        .unwrap();

    // The same random access pattern for every method.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let order: Vec<usize> = (0..cfg.ops).map(|_| rng.below(cfg.templates)).collect();
    let ids: Vec<&[u8]> = order.iter().map(|&i| records[i].0.as_slice()).collect();
    let version: &[u8] = b"1.0.0";

    let sql_ops = (cfg.ops / 4).max(1);
    let dec_ops = (cfg.ops / 4).max(1);
    let (mut t_abi, mut t_abi_v, mut t_raw, mut t_sql, mut t_dec, mut t_typed) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    // Methods alternate inside each round, so drift (other load, CPU frequency) hits all alike.
    for _ in 0..cfg.run.rounds {
        if cfg.run.runs("raw") {
            t_raw.push(time_us(cfg.ops, |i| {
                black_box(raw.get(ids[i]));
            }));
        }
        if cfg.run.runs("abi") {
            t_abi.push(time_us(cfg.ops, |i| {
                abi.get(ids[i], None, |b| {
                    black_box(b);
                });
            }));
        }
        if cfg.run.runs("abi_version") {
            t_abi_v.push(time_us(cfg.ops, |i| {
                abi.get(ids[i], Some(version), |b| {
                    black_box(b);
                });
            }));
        }
        if cfg.run.runs("sqlite") {
            t_sql.push(time_us(sql_ops, |i| {
                let id = std::str::from_utf8(ids[i]).unwrap();
                let mut rows = stmt.query([id]).unwrap();
                let row = rows.next().unwrap().expect("row");
                let v = row.get_ref(0).unwrap().as_blob().unwrap();
                black_box(v.to_vec());
            }));
        }
        if cfg.run.runs("decode") {
            t_typed.push(time_us(dec_ops, |i| {
                black_box(decode_typed(&records[order[i]].1));
            }));
            t_dec.push(time_us(dec_ops, |i| {
                black_box(decode_template(&records[order[i]].1));
            }));
        }
    }
    let (abi_us, abi_v_us, raw_us, sql_us, dec_us, typed_us) = (
        median(t_abi),
        median(t_abi_v),
        median(t_raw),
        median(t_sql),
        median(t_dec),
        median(t_typed),
    );
    // SAFETY: a zeroed lms_stats is a valid out-struct.
    let mut st: lms_stats = unsafe { std::mem::zeroed() };
    // SAFETY: the handle is open; st is writable.
    lms_check(unsafe { lms_stat(abi.0, &mut st) }, "lms_stat");
    assert_eq!(st.template_ids as usize, cfg.templates);

    println!();
    println!("  method                                                     µs/op    ops/s");
    let line = |name: &str, us: f64| {
        if us.is_finite() {
            println!("  {name:<56} {us:>7.3} {:>9.0}", 1e6 / us)
        }
    };
    line(
        "raw LMDB: txn_begin(RDONLY) + mdb_get + to_vec + abort",
        raw_us,
    );
    line("lms_get_template (latest) + lms_bytes_free", abi_us);
    line(
        "lms_get_template (exact version) + lms_bytes_free",
        abi_v_us,
    );
    line("SQLite: prepared SELECT value WHERE id=?1 + to_vec", sql_us);
    line(
        "decode record into a typed struct (rmp), reference",
        typed_us,
    );
    line("decode record into an rmpv::Value tree, reference", dec_us);
    println!();
    let abi_raw = abi_us / raw_us;
    let sql_abi = sql_us / abi_us;
    if abi_raw.is_finite() && sql_abi.is_finite() {
        println!(
            "  ABI / raw LMDB   = {abi_raw:.2}x   goal <= 1.25x      {}",
            verdict(abi_raw <= 1.25)
        );
        println!(
            "  SQLite / ABI     = {sql_abi:.2}x   goal >= 5x         {}",
            verdict(sql_abi >= 5.0)
        );
        println!(
            "  SQLite / raw     = {:.2}x   (reference on this machine: 8-9x)",
            sql_us / raw_us
        );
        println!(
            "  ABI (exact version) / raw = {:.2}x   (one lookup instead of head + version)",
            abi_v_us / raw_us
        );
    }
    println!("  reference on this machine: raw 0.38-0.44 µs, SQLite 3.3-3.6 µs, decode ~0.7 µs");
    if cfg.run.smoke {
        println!("  (smoke run: tiny sizes, the figures above prove only that the bench runs)");
    }
    drop(stmt);
    drop(sqlite);
    drop(raw);
    drop(abi);
    tmp.close().expect("remove tempdir");
}
