#![allow(dead_code)]
use lmstore::{OpenOptions, Store};
use rmpv::Value;

pub fn open(dir: &tempfile::TempDir) -> Store {
    open_at(dir.path(), OpenOptions::default())
}

/// Whether this run's stores are PostgreSQL ones: LMSTORE_TEST_BACKEND=pg runs the same test
/// bodies on a PostgreSQL store (LMSTORE_TEST_PG_URL) instead of LMDB.
pub fn on_pg() -> bool {
    std::env::var("LMSTORE_TEST_BACKEND").is_ok_and(|b| b == "pg")
}

/// The URL of a PostgreSQL store of its own for `dir`: a schema named after the directory, so
/// opening the same directory again (or from a child process) opens the same store.
pub fn pg_url_for(dir: &std::path::Path) -> String {
    use std::hash::{Hash, Hasher};
    let base = std::env::var("LMSTORE_TEST_PG_URL")
        .expect("LMSTORE_TEST_PG_URL must name the test server (scripts/pg-server.sh start)");
    let mut h = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut h);
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3Dt_{:016x}", h.finish())
}

/// Opens the store of `dir` on this run's backend (see [`on_pg`]).
pub fn open_at(dir: &std::path::Path, opts: OpenOptions) -> Store {
    if on_pg() {
        let url = pg_url_for(dir);
        return Store::open(std::path::Path::new(&url), opts).expect("open PostgreSQL store");
    }
    Store::open(dir, opts).expect("open")
}

pub fn pack(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).unwrap();
    out
}

pub fn unpack(b: &[u8]) -> Value {
    rmpv::decode::read_value(&mut &b[..]).unwrap()
}

pub fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(
        entries
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect(),
    )
}

pub fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
        .unwrap_or(&Value::Nil)
}

/// A store that does not flush on commit: for tests of logic, not durability (crash.rs has that).
pub fn open_no_sync(dir: &tempfile::TempDir) -> Store {
    open_at(
        dir.path(),
        OpenOptions {
            no_sync: true,
            ..Default::default()
        },
    )
}

/// Every message of a session, paging `limit` at a time with cursors, decoded.
pub fn all_messages(store: &Store, session: &str, limit: u32, reverse: bool) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let q = lmstore::conversations::RangeQuery {
            limit,
            reverse,
            cursor: cursor.as_deref(),
            ..Default::default()
        };
        let page = store.range_messages(session.as_bytes(), &q).expect("range");
        out.extend(
            unpack(page.bytes())
                .as_array()
                .expect("a page is an array")
                .iter()
                .cloned(),
        );
        match page.next {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// This test binary, set to run only `test` with `env_var` pointing at `dir`: how a test
/// starts a second process that uses the same store. Child tests are `#[ignore]`d, so a plain
/// `cargo test` lists them as ignored instead of passing them without doing anything, and
/// they fail when started without their variable.
pub fn child_test(test: &str, env_var: &str, dir: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("test binary path"));
    cmd.args([
        "--exact",
        test,
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(env_var, dir);
    cmd
}

/// The directory a child test (see [`child_test`]) was started with in `env_var`.
pub fn child_dir(env_var: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(
        std::env::var(env_var).unwrap_or_else(|_| panic!("{env_var} must name the directory")),
    )
}
