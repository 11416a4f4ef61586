#![allow(dead_code)]
use lmstore::{OpenOptions, Store};
use rmpv::Value;

pub fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(dir.path(), OpenOptions::default()).expect("open")
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
    Store::open(
        dir.path(),
        OpenOptions {
            no_sync: true,
            ..Default::default()
        },
    )
    .expect("open")
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
/// starts a second process that uses the same store.
pub fn child_test(test: &str, env_var: &str, dir: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("test binary path"));
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(env_var, dir);
    cmd
}
