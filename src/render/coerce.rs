//! Input coercion as promptlightning does it (seed-formats.md §2): only declared inputs reach
//! the template, defaults apply, values coerce by declared type, and the error messages are the
//! original's.

use indexmap::IndexMap;
use minijinja::value::Value;
use rmpv::Value as Mp;

use super::value::{from_msgpack, py_none, py_str, PyList};
use crate::codec::{field, str_field};
use crate::error::{Error, ErrorKind, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    String,
    Number,
    Boolean,
    ArrayOfString,
    Object,
}

impl InputType {
    fn parse(s: &str) -> Option<InputType> {
        Some(match s {
            "string" => InputType::String,
            "number" => InputType::Number,
            "boolean" => InputType::Boolean,
            "array<string>" => InputType::ArrayOfString,
            "object" => InputType::Object,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Number => "number",
            InputType::Boolean => "boolean",
            InputType::ArrayOfString => "array<string>",
            InputType::Object => "object",
        }
    }
}

/// One declared input of a template.
#[derive(Debug, Clone)]
pub struct InputDecl {
    pub name: String,
    pub ty: InputType,
    pub required: bool,
    /// None when absent or null.
    pub default: Option<Mp>,
}

/// Reads the normalized `inputs` map of a stored record or spec.
pub fn parse_inputs(inputs: Option<&Mp>) -> Result<Vec<InputDecl>> {
    let Some(Mp::Map(entries)) = inputs else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(entries.len());
    for (name, decl) in entries {
        let name = name
            .as_str()
            .ok_or_else(|| Error::corrupt("template input name is not text"))?;
        let ty = str_field(decl, "type", "template input")?.unwrap_or("string");
        let ty = InputType::parse(ty)
            .ok_or_else(|| Error::corrupt(format!("input '{name}' has an unknown type '{ty}'")))?;
        let required = field(decl, "required")
            .and_then(Mp::as_bool)
            .unwrap_or(true);
        let default = field(decl, "default").filter(|d| !d.is_nil()).cloned();
        out.push(InputDecl {
            name: name.to_owned(),
            ty,
            required,
            default,
        });
    }
    Ok(out)
}

fn input_error(msg: String) -> Error {
    Error::new(ErrorKind::Input, msg)
}

fn mismatch(decl: &InputDecl) -> Error {
    input_error(format!(
        "type mismatch for '{}': expected {}",
        decl.name,
        decl.ty.name()
    ))
}

/// Builds the template context from the caller's variables (a MessagePack map).
pub fn context(decls: &[InputDecl], vars: &[(Mp, Mp)]) -> Result<Value> {
    let mut ctx = IndexMap::with_capacity(decls.len());
    for decl in decls {
        let given = vars
            .iter()
            .rev() // a repeated key: the last one wins, as in a Python dict
            .find(|(k, _)| k.as_str() == Some(decl.name.as_str()))
            .map(|(_, v)| v);
        let raw = match (given, &decl.default) {
            (Some(v), _) => v,
            (None, Some(d)) => d,
            (None, None) if decl.required => {
                return Err(input_error(format!("missing input: {}", decl.name)))
            }
            (None, None) => &Mp::Nil,
        };
        ctx.insert(Value::from(decl.name.as_str()), coerce(decl, raw)?);
    }
    Ok(Value::from_object(ctx))
}

fn convert(decl: &InputDecl, v: &Mp) -> Result<Value> {
    from_msgpack(v).map_err(|what| {
        input_error(format!(
            "input '{}' is {what}, which has no Python equivalent here",
            decl.name
        ))
    })
}

fn coerce(decl: &InputDecl, v: &Mp) -> Result<Value> {
    if v.is_nil() {
        return Ok(py_none());
    }
    match decl.ty {
        InputType::String => match v {
            Mp::String(s) if s.as_str().is_some() => Ok(Value::from(s.as_str().unwrap_or(""))),
            other => Ok(Value::from(py_str(&convert(decl, other)?))),
        },
        InputType::Number => match v {
            Mp::Integer(_) | Mp::F32(_) | Mp::F64(_) => convert(decl, v),
            Mp::String(s) => {
                let s = s.as_str().ok_or_else(|| {
                    input_error(format!("input '{}' is not valid UTF-8", decl.name))
                })?;
                py_float(s).map(Value::from).ok_or_else(|| {
                    let mut repr = String::new();
                    super::value::write_str_repr(&mut repr, s);
                    input_error(format!("could not convert string to float: {repr}"))
                })
            }
            _ => Err(mismatch(decl)),
        },
        InputType::Boolean => match v {
            Mp::Boolean(b) => Ok(Value::from(*b)),
            Mp::String(s) => {
                let lower = s.as_str().unwrap_or_default().to_lowercase();
                Ok(Value::from(matches!(
                    lower.as_str(),
                    "1" | "true" | "yes" | "y"
                )))
            }
            Mp::Integer(i) => Ok(Value::from(i.as_i64().map(|n| n != 0).unwrap_or(true))),
            Mp::F32(f) => Ok(Value::from(*f != 0.0)),
            Mp::F64(f) => Ok(Value::from(*f != 0.0)),
            _ => Err(mismatch(decl)),
        },
        InputType::ArrayOfString => match v {
            Mp::String(_) => Ok(PyList::value(vec![convert(decl, v)?])),
            Mp::Array(items) if items.iter().all(Mp::is_str) => convert(decl, v),
            _ => Err(mismatch(decl)),
        },
        InputType::Object => match v {
            Mp::Map(_) => convert(decl, v),
            _ => Err(mismatch(decl)),
        },
    }
}

/// Python's `float(str)`: surrounding whitespace, a sign, `_` between digits, any Unicode
/// decimal digit, `inf`/`infinity`/`nan` in any case. None where Python raises ValueError.
pub fn py_float(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c));
    let mut ascii = String::with_capacity(t.len());
    let mut prev_digit = false;
    let chars: Vec<char> = t.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            let next_digit = chars.get(i + 1).is_some_and(|n| decimal(*n).is_some());
            if !prev_digit || !next_digit {
                return None;
            }
            prev_digit = false;
            continue;
        }
        match decimal(c) {
            Some(d) => {
                ascii.push(char::from(b'0' + d));
                prev_digit = true;
            }
            None if c.is_ascii() => {
                ascii.push(c);
                prev_digit = false;
            }
            None => return None,
        }
    }
    let lower = ascii.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if lower.len() - body.len() > 1 {
        return None;
    }
    if matches!(body, "inf" | "infinity" | "nan") {
        return lower.parse().ok().or_else(|| {
            let neg = lower.starts_with('-');
            Some(match (body, neg) {
                ("nan", _) => f64::NAN,
                (_, true) => f64::NEG_INFINITY,
                _ => f64::INFINITY,
            })
        });
    }
    // Rust accepts the same grammar (digits, one point, exponent), but not these words.
    if body.is_empty()
        || body.starts_with(['e', 'i', 'n'])
        || body.contains("inf")
        || body.contains("nan")
    {
        return None;
    }
    lower.parse().ok()
}

/// The value of a Unicode decimal digit (category Nd), which Python's float() accepts.
fn decimal(c: char) -> Option<u8> {
    use unicode_general_category::{get_general_category, GeneralCategory};
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    if c.is_ascii() || get_general_category(c) != GeneralCategory::DecimalNumber {
        return None;
    }
    // Nd characters come in runs of ten from a zero, some runs adjacent (the mathematical
    // digits): step back to the start of the whole stretch; each run is ten long.
    let mut start = c as u32;
    while let Some(prev) = char::from_u32(start - 1) {
        if get_general_category(prev) != GeneralCategory::DecimalNumber {
            break;
        }
        start -= 1;
    }
    Some(((c as u32 - start) % 10) as u8)
}

#[cfg(test)]
mod tests {
    use super::py_float;

    #[test]
    fn float_parsing_as_python() {
        assert_eq!(py_float(" 2.5 "), Some(2.5));
        assert_eq!(py_float("1e3"), Some(1000.0));
        assert_eq!(py_float("1_000.5"), Some(1000.5));
        assert_eq!(py_float("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(py_float("١٢"), Some(12.0));
        for bad in [
            "abc", "", "1__0", "_1", "1_", "--1", "in f", "0x10", "1e", ".",
        ] {
            assert_eq!(py_float(bad), None, "{bad}");
        }
    }
}
