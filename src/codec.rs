//! MessagePack and key helpers shared by the domain modules.

use crate::error::{Error, Result};
use rmpv::Value;

/// How deep a caller's MessagePack may nest; deeper input is refused rather than recursed into.
const MAX_DEPTH: usize = 64;

/// Decodes exactly one MessagePack value from `bytes` (trailing bytes are an error).
pub fn decode_value(bytes: &[u8], what: &str) -> Result<Value> {
    let mut rd = bytes;
    let value = rmpv::decode::read_value_with_max_depth(&mut rd, MAX_DEPTH)
        .map_err(|e| Error::bad_msgpack(format!("{what} is not valid MessagePack: {e}")))?;
    if !rd.is_empty() {
        return Err(Error::bad_msgpack(format!(
            "{what} has {} trailing bytes after its MessagePack value",
            rd.len()
        )));
    }
    Ok(value)
}

/// Decodes `bytes` as a MessagePack map with string keys; empty input means an empty map.
pub fn decode_map(bytes: &[u8], what: &str) -> Result<Value> {
    if bytes.is_empty() {
        return Ok(Value::Map(Vec::new()));
    }
    let value = decode_value(bytes, what)?;
    check_map(&value, what)?;
    Ok(value)
}

pub fn check_map(value: &Value, what: &str) -> Result<()> {
    match value {
        Value::Map(entries) => {
            for (k, _) in entries {
                if k.as_str().is_none() {
                    return Err(Error::bad_msgpack(format!(
                        "{what} has a key that is not a UTF-8 string"
                    )));
                }
            }
            Ok(())
        }
        other => Err(Error::bad_msgpack(format!(
            "{what} must be a MessagePack map, got {}",
            kind_name(other)
        ))),
    }
}

pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "a boolean",
        Value::Integer(_) => "an integer",
        Value::F32(_) | Value::F64(_) => "a float",
        Value::String(_) => "a string",
        Value::Binary(_) => "binary data",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        Value::Ext(..) => "an extension value",
    }
}

pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, value);
    out
}

/// Looks up a string key in a decoded map.
pub fn field<'a>(map: &'a Value, name: &str) -> Option<&'a Value> {
    match map {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(name))
            .map(|(_, v)| v),
        _ => None,
    }
}

pub fn str_field<'a>(map: &'a Value, name: &str, what: &str) -> Result<Option<&'a str>> {
    match field(map, name) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::String(s)) => s.as_str().map(Some).ok_or_else(|| {
            Error::new(
                crate::ErrorKind::InvalidUtf8,
                format!("{what}.{name} is not valid UTF-8"),
            )
        }),
        Some(other) => Err(Error::invalid(format!(
            "{what}.{name} must be a string, got {}",
            kind_name(other)
        ))),
    }
}

pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

pub fn be_u64(bytes: &[u8]) -> Result<u64> {
    bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| Error::corrupt("stored integer is shorter than 8 bytes"))
}

/// Appends an array header for `n` items, for pages assembled from stored records.
pub fn write_array_len(out: &mut Vec<u8>, n: u32) {
    let _ = rmp::encode::write_array_len(out, n);
}
