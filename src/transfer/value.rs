//! MessagePack values as JSON, losslessly and in order, for dumps. Plain JSON covers nil,
//! booleans, integers, f64, UTF-8 strings, arrays and maps with string keys (keys keep their
//! order: MessagePack maps are ordered, and a dump must give back the same record). What JSON
//! cannot say is written as a one-key object whose key starts with `$`:
//! `{"$f32": x}`, `{"$f64": "NaN"|"inf"|"-inf"}`, `{"$bin": hex}`, `{"$str": hex}` (a string
//! that is not UTF-8), `{"$ext": [type, hex]}`, and `{"$map": [[k, v], ...]}` for a map with a
//! key that is not a string or that starts with `$`.

use rmpv::Value;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::fmt::{self, Write as _};

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn string(out: &mut String, s: &str) {
    // serde_json's escaping of a &str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

fn f64_json(out: &mut String, f: f64) {
    if f.is_finite() {
        // Ryu's shortest form always has a '.' or an exponent, so it reads back as a float.
        out.push_str(&serde_json::to_string(&f).unwrap_or_default());
    } else {
        let name = if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "inf"
        } else {
            "-inf"
        };
        out.push_str("{\"$f64\":\"");
        out.push_str(name);
        out.push_str("\"}");
    }
}

/// A MessagePack str holding bytes that are not UTF-8, as rmpv represents one read from a file.
fn raw_str(bytes: &[u8]) -> Option<Value> {
    let mut buf = Vec::with_capacity(bytes.len() + 5);
    rmp::encode::write_str_len(&mut buf, u32::try_from(bytes.len()).ok()?).ok()?;
    buf.extend_from_slice(bytes);
    rmpv::decode::read_value(&mut buf.as_slice()).ok()
}

/// Appends `v` as JSON to `out`.
pub fn write(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::F64(f) => f64_json(out, *f),
        Value::F32(f) => {
            out.push_str("{\"$f32\":");
            f64_json(out, *f as f64);
            out.push('}');
        }
        Value::String(s) => match s.as_str() {
            Some(text) => string(out, text),
            None => {
                out.push_str("{\"$str\":\"");
                out.push_str(&hex(s.as_bytes()));
                out.push_str("\"}");
            }
        },
        Value::Binary(b) => {
            out.push_str("{\"$bin\":\"");
            out.push_str(&hex(b));
            out.push_str("\"}");
        }
        Value::Ext(t, b) => {
            let _ = write!(out, "{{\"$ext\":[{t},\"{}\"]}}", hex(b));
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let plain = entries
                .iter()
                .all(|(k, _)| k.as_str().is_some_and(|s| !s.starts_with('$')));
            if plain {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    string(out, k.as_str().unwrap_or_default());
                    out.push(':');
                    write(out, v);
                }
                out.push('}');
            } else {
                out.push_str("{\"$map\":[");
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    write(out, k);
                    out.push(',');
                    write(out, v);
                    out.push(']');
                }
                out.push_str("]}");
            }
        }
    }
}

/// Reads JSON written by [`write`] back into the same MessagePack value.
pub fn read(json: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let v = Seed.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Builds MessagePack values straight from the JSON parser, keeping map order.
pub(crate) struct Seed;

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

fn tagged<E: de::Error>(tag: &str, v: Value) -> Result<Value, E> {
    let bad = || E::custom(format!("malformed {tag} value in dump"));
    let text = |v: &Value| v.as_str().map(str::to_owned);
    match tag {
        "$f32" => match v {
            Value::F64(f) => Ok(Value::F32(f as f32)),
            Value::Integer(i) => Ok(Value::F32(i.as_f64().unwrap_or_default() as f32)),
            Value::Map(m) => match m.first().map(|(_, x)| x.as_str()) {
                Some(Some("NaN")) => Ok(Value::F32(f32::NAN)),
                Some(Some("inf")) => Ok(Value::F32(f32::INFINITY)),
                Some(Some("-inf")) => Ok(Value::F32(f32::NEG_INFINITY)),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        },
        "$f64" => match text(&v).as_deref() {
            Some("NaN") => Ok(Value::F64(f64::NAN)),
            Some("inf") => Ok(Value::F64(f64::INFINITY)),
            Some("-inf") => Ok(Value::F64(f64::NEG_INFINITY)),
            _ => Err(bad()),
        },
        "$bin" => text(&v)
            .and_then(|h| unhex(&h))
            .map(Value::Binary)
            .ok_or_else(bad),
        "$str" => text(&v)
            .and_then(|h| unhex(&h))
            .and_then(|b| raw_str(&b))
            .ok_or_else(bad),
        "$ext" => match v {
            Value::Array(a) if a.len() == 2 => {
                let t = a[0]
                    .as_i64()
                    .and_then(|t| i8::try_from(t).ok())
                    .ok_or_else(bad)?;
                let b = text(&a[1]).and_then(|h| unhex(&h)).ok_or_else(bad)?;
                Ok(Value::Ext(t, b))
            }
            _ => Err(bad()),
        },
        "$map" => match v {
            Value::Array(pairs) => pairs
                .into_iter()
                .map(|p| match p {
                    Value::Array(mut kv) if kv.len() == 2 => {
                        let v = kv.pop().unwrap_or(Value::Nil);
                        let k = kv.pop().unwrap_or(Value::Nil);
                        Ok((k, v))
                    }
                    _ => Err(bad()),
                })
                .collect::<Result<Vec<_>, E>>()
                .map(Value::Map),
            _ => Err(bad()),
        },
        _ => Err(E::custom(format!("unknown tag {tag} in dump"))),
    }
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Boolean(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::from(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::from(u))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::F64(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::from(s))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::from(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Seed)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(Value, Value)> = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(Seed)?;
            entries.push((Value::from(k), v));
        }
        if entries.len() == 1 && entries[0].0.as_str().is_some_and(|k| k.starts_with('$')) {
            let (k, v) = entries.pop().unwrap_or((Value::Nil, Value::Nil));
            return tagged(k.as_str().unwrap_or_default(), v);
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_in_order() {
        let v = Value::Map(vec![
            (Value::from("z"), Value::from(1)),
            (Value::from("a"), Value::F64(1.0)),
            (Value::from("f32"), Value::F32(0.1)),
            (Value::from("nan"), Value::F64(f64::NAN)),
            (Value::from("neg"), Value::from(-5)),
            (Value::from("big"), Value::from(u64::MAX)),
            (Value::from("bin"), Value::Binary(vec![0, 255])),
            (Value::from("ext"), Value::Ext(-3, vec![1, 2])),
            (Value::from("text"), Value::from("ünï\"\n😀")),
            (Value::from("$odd"), Value::Nil),
            (
                Value::from(7),
                Value::Array(vec![Value::Boolean(true), Value::Nil]),
            ),
        ]);
        let mut json = String::new();
        write(&mut json, &v);
        let back = read(&json).unwrap();
        // NaN != NaN, so compare encodings.
        let enc = |v: &Value| {
            let mut b = Vec::new();
            rmpv::encode::write_value(&mut b, v).unwrap();
            b
        };
        assert_eq!(enc(&back), enc(&v), "{json}");
        let plain = Value::Map(vec![
            (Value::from("b"), Value::from(2)),
            (Value::from("a"), Value::from(1.5)),
        ]);
        let mut json = String::new();
        write(&mut json, &plain);
        assert_eq!(json, r#"{"b":2,"a":1.5}"#);
    }
}
