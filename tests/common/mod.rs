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
