//! Values as Python holds them: MessagePack variables become minijinja values whose lists can
//! grow (`xs.append(x)`) and whose nulls refuse iteration, and every value prints as Python's
//! `str()` (`True`, `None`, `1e+16`, `['a', 'b']`, `{'k': 'v'}`).

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, MutexGuard};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error as MjError, ErrorKind as MjErrorKind, State};
use rmpv::Value as Mp;

/// A list that templates can change, as Python's `list` (`append`, `extend`, `insert`, `pop`...).
#[derive(Debug, Default)]
pub struct PyList(Mutex<Vec<Value>>);

impl PyList {
    pub fn value(items: Vec<Value>) -> Value {
        Value::from_object(PyList(Mutex::new(items)))
    }

    /// The items; a poisoned lock only means another render panicked, the Vec is still whole.
    pub fn items(&self) -> MutexGuard<'_, Vec<Value>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Object for PyList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.items();
        let idx = key.as_i64()?;
        let idx = if idx < 0 {
            items.len() as i64 + idx
        } else {
            idx
        };
        usize::try_from(idx)
            .ok()
            .and_then(|i| items.get(i).cloned())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        // A snapshot, so a loop that appends to its own list ends (Python's would not).
        Enumerator::Values(self.items().clone())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.items().len())
    }

    fn is_true(self: &Arc<Self>) -> bool {
        !self.items().is_empty()
    }

    fn call_method(
        self: &Arc<Self>,
        state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, MjError> {
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(MjError::new(
                    MjErrorKind::InvalidOperation,
                    format!(
                        "list.{method}() takes exactly {n} argument{} ({} given)",
                        if n == 1 { "" } else { "s" },
                        args.len()
                    ),
                ))
            }
        };
        match method {
            "append" => {
                arity(1)?;
                self.items().push(args[0].clone());
                Ok(Value::from(()))
            }
            "extend" => {
                arity(1)?;
                let new: Vec<Value> = args[0].try_iter()?.collect();
                self.items().extend(new);
                Ok(Value::from(()))
            }
            "insert" => {
                arity(2)?;
                let mut items = self.items();
                let len = items.len() as i64;
                let at = args[0].as_i64().unwrap_or(0);
                let at = if at < 0 {
                    (len + at).max(0)
                } else {
                    at.min(len)
                };
                items.insert(at as usize, args[1].clone());
                Ok(Value::from(()))
            }
            "pop" => {
                let mut items = self.items();
                let len = items.len() as i64;
                if len == 0 {
                    return Err(MjError::new(
                        MjErrorKind::InvalidOperation,
                        "pop from empty list",
                    ));
                }
                let at = args.first().and_then(Value::as_i64).unwrap_or(-1);
                let at = if at < 0 { len + at } else { at };
                if at < 0 || at >= len {
                    return Err(MjError::new(
                        MjErrorKind::InvalidOperation,
                        "pop index out of range",
                    ));
                }
                Ok(items.remove(at as usize))
            }
            "clear" => {
                self.items().clear();
                Ok(Value::from(()))
            }
            "reverse" => {
                self.items().reverse();
                Ok(Value::from(()))
            }
            "index" | "count" | "copy" => {
                let items = self.items().clone();
                match method {
                    "copy" => Ok(PyList::value(items)),
                    "count" => {
                        arity(1)?;
                        Ok(Value::from(items.iter().filter(|v| **v == args[0]).count()))
                    }
                    _ => {
                        arity(1)?;
                        items
                            .iter()
                            .position(|v| *v == args[0])
                            .map(Value::from)
                            .ok_or_else(|| {
                                MjError::new(
                                    MjErrorKind::InvalidOperation,
                                    format!("{} is not in list", py_repr(&args[0])),
                                )
                            })
                    }
                }
            }
            _ => {
                let _ = state;
                Err(MjError::from(MjErrorKind::UnknownMethod))
            }
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&py_str(&Value::from_dyn_object(self.clone())))
    }
}

/// Python's None as it comes from the variables: false, prints `None`, and (unlike minijinja's
/// none, which iterates as empty) refuses iteration as `'NoneType' object is not iterable`.
#[derive(Debug)]
pub struct PyNone;

impl Object for PyNone {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }
    fn is_true(self: &Arc<Self>) -> bool {
        false
    }
    fn get_value(self: &Arc<Self>, _key: &Value) -> Option<Value> {
        None
    }
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("None")
    }
}

pub fn py_none() -> Value {
    Value::from_object(PyNone)
}

/// Whether `v` is None in either spelling (ours from variables, minijinja's from `none`).
pub fn is_none(v: &Value) -> bool {
    v.is_none() || v.downcast_object_ref::<PyNone>().is_some()
}

/// Converts a decoded MessagePack variable to a template value.
pub fn from_msgpack(v: &Mp) -> Result<Value, String> {
    Ok(match v {
        Mp::Nil => py_none(),
        Mp::Boolean(b) => Value::from(*b),
        Mp::Integer(i) => match (i.as_i64(), i.as_u64()) {
            (Some(n), _) => Value::from(n),
            (None, Some(n)) => Value::from(n),
            _ => return Err("an integer out of range".into()),
        },
        Mp::F32(f) => Value::from(f64::from(*f)),
        Mp::F64(f) => Value::from(*f),
        Mp::String(s) => match s.as_str() {
            Some(s) => Value::from(s),
            None => return Err("a string that is not valid UTF-8".into()),
        },
        Mp::Binary(_) => return Err("binary data (only MessagePack str is text)".into()),
        Mp::Ext(..) => return Err("a MessagePack extension value".into()),
        Mp::Array(items) => {
            PyList::value(items.iter().map(from_msgpack).collect::<Result<_, _>>()?)
        }
        Mp::Map(entries) => {
            let mut map = IndexMap::with_capacity(entries.len());
            for (k, v) in entries {
                map.insert(from_msgpack(k)?, from_msgpack(v)?);
            }
            Value::from_object(map)
        }
    })
}

/// Python's `float.__repr__`: the shortest text that reads back the same double, positional
/// for exponents -5 < e < 16 (with `.0` when integral), `1e+16` / `1e-05` style otherwise.
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // `{:e}` is Rust's shortest round-trip form: `-1.2345e-5`.
    let sci = format!("{f:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(24);
    if neg {
        out.push('-');
    }
    if -5 < exp && exp < 16 {
        let point = exp + 1;
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(&digits);
        } else if point as usize >= digits.len() {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    out
}

/// The f64 behind a float value (None for ints and everything else).
pub fn as_float(v: &Value) -> Option<f64> {
    if v.kind() == ValueKind::Number && !v.is_integer() {
        f64::try_from(v.clone()).ok()
    } else {
        None
    }
}

/// Python's `str(value)`.
pub fn py_str(v: &Value) -> String {
    match v.kind() {
        ValueKind::String => v.as_str().unwrap_or_default().to_owned(),
        _ => {
            let mut out = String::new();
            write_repr(&mut out, v);
            out
        }
    }
}

/// Python's `repr(value)`.
pub fn py_repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, v);
    out
}

fn write_repr(out: &mut String, v: &Value) {
    match v.kind() {
        ValueKind::Undefined => out.push_str("Undefined"),
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number => match as_float(v) {
            Some(f) => out.push_str(&py_float(f)),
            None => {
                let _ = write!(out, "{v}");
            }
        },
        ValueKind::String => write_str_repr(out, v.as_str().unwrap_or_default()),
        ValueKind::Bytes => {
            out.push('b');
            let bytes = v.as_bytes().unwrap_or_default();
            let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
                '"'
            } else {
                '\''
            };
            out.push(quote);
            for &b in bytes {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    b'\t' => out.push_str("\\t"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    _ if b as char == quote => {
                        out.push('\\');
                        out.push(quote);
                    }
                    0x20..=0x7e => out.push(b as char),
                    _ => {
                        let _ = write!(out, "\\x{b:02x}");
                    }
                }
            }
            out.push(quote);
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let is_tuple = v.downcast_object_ref::<PyTuple>().is_some();
            out.push(if is_tuple { '(' } else { '[' });
            if let Ok(items) = v.try_iter() {
                for (i, item) in items.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &item);
                }
            }
            if is_tuple && v.len() == Some(1) {
                out.push(',');
            }
            out.push(if is_tuple { ')' } else { ']' });
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(keys) = v.try_iter() {
                for (i, key) in keys.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &key);
                    out.push_str(": ");
                    write_repr(out, &v.get_item(&key).unwrap_or_default());
                }
            }
            out.push('}');
        }
        _ => {
            let _ = write!(out, "{v}");
        }
    }
}

/// Python's `repr(str)`: single quotes unless the text has `'` and no `"`; escapes for the
/// quote, backslash, \t \n \r, and every character Python does not count as printable.
pub fn write_str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c if is_printable(c) => out.push(c),
            c => {
                let n = c as u32;
                let _ = if n <= 0xff {
                    write!(out, "\\x{n:02x}")
                } else if n <= 0xffff {
                    write!(out, "\\u{n:04x}")
                } else {
                    write!(out, "\\U{n:08x}")
                };
            }
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable` for one character: everything but the categories Cc, Cf, Cs, Co,
/// Cn, Zl, Zp and Zs (the ASCII space excepted, handled by the caller).
fn is_printable(c: char) -> bool {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    !matches!(
        get_general_category(c),
        G::Control
            | G::Format
            | G::Surrogate
            | G::PrivateUse
            | G::Unassigned
            | G::LineSeparator
            | G::ParagraphSeparator
            | G::SpaceSeparator
    )
}

/// Python's tuple, for what Jinja2 yields as tuples (`dict.items()`, `dictsort`, `partition`):
/// a fixed sequence that prints as `('a', 1)`.
#[derive(Debug)]
pub struct PyTuple(pub Vec<Value>);

impl PyTuple {
    pub fn value(items: Vec<Value>) -> Value {
        Value::from_object(PyTuple(items))
    }
}

impl Object for PyTuple {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let idx = key.as_i64()?;
        let idx = if idx < 0 {
            self.0.len() as i64 + idx
        } else {
            idx
        };
        usize::try_from(idx)
            .ok()
            .and_then(|i| self.0.get(i).cloned())
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.clone())
    }
    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.len())
    }
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&py_repr(&Value::from_dyn_object(self.clone())))
    }
}
