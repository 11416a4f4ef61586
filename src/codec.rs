//! MessagePack and key helpers shared by the domain modules.

use crate::error::{Error, Result};
use rmpv::Value;

/// How deep a caller's MessagePack may nest; deeper input is refused rather than recursed into.
const MAX_DEPTH: usize = 64;

/// Decodes exactly one MessagePack value from `bytes` (trailing bytes are an error). The bytes
/// are walked first, because rmpv reads the reserved marker 0xc1 as nil: input containing it
/// is refused, never stored as something the caller did not write.
pub fn decode_value(bytes: &[u8], what: &str) -> Result<Value> {
    let mut probe = bytes;
    walk(&mut probe, 1, false)
        .map_err(|why| Error::bad_msgpack(format!("{what} is not valid MessagePack: {why}")))?;
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

/// Checks that `bytes` hold exactly one MessagePack map with UTF-8 string keys, walking the
/// markers without building a tree (the append path validates every message's metadata).
pub fn validate_map(bytes: &[u8], what: &str) -> Result<()> {
    let bad = |why: &str| Error::bad_msgpack(format!("{what} is not valid MessagePack: {why}"));
    let mut rd = bytes;
    let marker = rmp::decode::read_marker(&mut rd).map_err(|_| bad("empty input"))?;
    let entries = match marker {
        rmp::Marker::FixMap(n) => n as usize,
        rmp::Marker::Map16 => be_len(&mut rd, 2).map_err(|why| bad(&why))?,
        rmp::Marker::Map32 => be_len(&mut rd, 4).map_err(|why| bad(&why))?,
        _ => {
            return Err(Error::bad_msgpack(format!(
                "{what} must be a MessagePack map"
            )))
        }
    };
    for _ in 0..entries {
        let key = skip_value(&mut rd, 1).map_err(|why| bad(&why))?;
        if key.is_none() {
            return Err(Error::bad_msgpack(format!(
                "{what} has a key that is not a string"
            )));
        }
        skip_value(&mut rd, 1).map_err(|why| bad(&why))?;
    }
    if !rd.is_empty() {
        return Err(Error::bad_msgpack(format!(
            "{what} has {} trailing bytes after its MessagePack value",
            rd.len()
        )));
    }
    Ok(())
}

fn take<'a>(rd: &mut &'a [u8], n: usize) -> std::result::Result<&'a [u8], String> {
    if rd.len() < n {
        return Err("truncated value".into());
    }
    let (head, tail) = rd.split_at(n);
    *rd = tail;
    Ok(head)
}

fn be_len(rd: &mut &[u8], width: usize) -> std::result::Result<usize, String> {
    let b = take(rd, width)?;
    Ok(b.iter().fold(0usize, |acc, &x| (acc << 8) | x as usize))
}

/// Skips one value; returns the payload when it is a string (for key checks). Strings are
/// checked for UTF-8 wherever they occur.
fn skip_value<'a>(
    rd: &mut &'a [u8],
    depth: usize,
) -> std::result::Result<Option<&'a [u8]>, String> {
    walk(rd, depth, true)
}

/// [`skip_value`], checking strings for UTF-8 only when `utf8` is set (decoded values report
/// bad UTF-8 per field, with its own status, later).
fn walk<'a>(
    rd: &mut &'a [u8],
    depth: usize,
    utf8: bool,
) -> std::result::Result<Option<&'a [u8]>, String> {
    use rmp::Marker as M;
    if depth > MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels"));
    }
    let marker = rmp::decode::read_marker(rd).map_err(|_| "truncated value".to_string())?;
    let (skip, children) = match marker {
        M::Null | M::True | M::False | M::FixPos(_) | M::FixNeg(_) => (0, 0),
        M::U8 | M::I8 => (1, 0),
        M::U16 | M::I16 => (2, 0),
        M::U32 | M::I32 | M::F32 => (4, 0),
        M::U64 | M::I64 | M::F64 => (8, 0),
        M::FixStr(n) => return string(rd, n as usize, utf8),
        M::Str8 => return string_len(rd, 1, utf8),
        M::Str16 => return string_len(rd, 2, utf8),
        M::Str32 => return string_len(rd, 4, utf8),
        M::Bin8 => (be_len(rd, 1)?, 0),
        M::Bin16 => (be_len(rd, 2)?, 0),
        M::Bin32 => (be_len(rd, 4)?, 0),
        M::FixArray(n) => (0, n as usize),
        M::Array16 => (0, be_len(rd, 2)?),
        M::Array32 => (0, be_len(rd, 4)?),
        M::FixMap(n) => (0, 2 * n as usize),
        M::Map16 => (0, 2 * be_len(rd, 2)?),
        M::Map32 => (0, 2 * be_len(rd, 4)?),
        M::FixExt1 => (2, 0),
        M::FixExt2 => (3, 0),
        M::FixExt4 => (5, 0),
        M::FixExt8 => (9, 0),
        M::FixExt16 => (17, 0),
        M::Ext8 => (be_len(rd, 1)? + 1, 0),
        M::Ext16 => (be_len(rd, 2)? + 1, 0),
        M::Ext32 => (be_len(rd, 4)? + 1, 0),
        M::Reserved => return Err("reserved marker 0xc1".into()),
    };
    take(rd, skip)?;
    if children > rd.len() {
        return Err("truncated container".into());
    }
    for _ in 0..children {
        walk(rd, depth + 1, utf8)?;
    }
    Ok(None)
}

fn string_len<'a>(
    rd: &mut &'a [u8],
    width: usize,
    utf8: bool,
) -> std::result::Result<Option<&'a [u8]>, String> {
    let n = be_len(rd, width)?;
    string(rd, n, utf8)
}

fn string<'a>(
    rd: &mut &'a [u8],
    n: usize,
    utf8: bool,
) -> std::result::Result<Option<&'a [u8]>, String> {
    let s = take(rd, n)?;
    if utf8 {
        std::str::from_utf8(s).map_err(|_| "a string is not valid UTF-8".to_string())?;
    }
    Ok(Some(s))
}

/// The one rule for the keys of a structured input map (a template spec, an input
/// declaration, a message of a packed batch): every key is a UTF-8 string
/// (LMS_BAD_MSGPACK), one of `known`, and appears once (LMS_INVALID_ARGUMENT). A nil value
/// counts as absent; a value of the wrong type is refused by the field's reader.
pub fn check_fields(map: &Value, what: &str, known: &[&str]) -> Result<()> {
    check_map(map, what)?;
    let Value::Map(entries) = map else {
        return Ok(());
    };
    for (i, (k, _)) in entries.iter().enumerate() {
        let k = k.as_str().unwrap_or_default();
        if !known.contains(&k) {
            return Err(Error::invalid(format!(
                "{what} has an unknown field '{k}' (known: {})",
                known.join(", ")
            )));
        }
        if entries[..i].iter().any(|(p, _)| p.as_str() == Some(k)) {
            return Err(Error::invalid(format!("{what} has the field '{k}' twice")));
        }
    }
    Ok(())
}
