//! Records cross the safe API as MessagePack; the tool shows them as JSON. Message ids and
//! `in_reply_to` (16-byte binaries) become UUID strings; any other binary becomes
//! `{"$binary": "<hex>"}` so nothing is lost or mistaken for text.

use crate::exit::{CliError, CliResult};
use rmpv::Value;
use serde_json::{Map, Number, Value as Json};

pub fn decode(bytes: &[u8]) -> CliResult<Value> {
    let mut cur = bytes;
    rmpv::decode::read_value(&mut cur).map_err(|e| {
        CliError::failure(format!(
            "the store returned a record that does not decode: {e}"
        ))
    })
}

pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => match (i.as_i64(), i.as_u64()) {
            (Some(n), _) => Json::from(n),
            (None, Some(n)) => Json::from(n),
            _ => Json::Null,
        },
        Value::F32(f) => Number::from_f64(*f as f64).map_or(Json::Null, Json::Number),
        Value::F64(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        Value::Binary(b) if b.len() == 16 => Json::String(
            uuid::Uuid::from_slice(b)
                .map(|u| u.to_string())
                .unwrap_or_default(),
        ),
        Value::Binary(b) => serde_json::json!({ "$binary": hex(b) }),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries {
                let key = match k {
                    Value::String(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
                    other => to_json(other).to_string(),
                };
                m.insert(key, to_json(v));
            }
            Json::Object(m)
        }
        Value::Ext(t, b) => serde_json::json!({ "$ext": t, "data": hex(b) }),
    }
}

/// JSON (from a file the user wrote, e.g. a template spec) to MessagePack for the safe API.
pub fn from_json(v: &Json) -> Value {
    match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i),
            (None, Some(u), _) => Value::from(u),
            (_, _, Some(f)) => Value::F64(f),
            _ => Value::Nil,
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::Array(items.iter().map(from_json).collect()),
        Json::Object(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (Value::from(k.as_str()), from_json(v)))
                .collect(),
        ),
    }
}

pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, v);
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A field of a decoded record map.
pub fn field<'a>(v: &'a Json, name: &str) -> &'a Json {
    v.get(name).unwrap_or(&Json::Null)
}
