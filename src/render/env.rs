//! The dialect: every setting, filter, test and method callback that makes minijinja render as
//! promptlightning's Jinja2 3.1 environment does (seed-formats.md §2). One line each on the
//! Jinja2 behaviour it reproduces.

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior};

use super::value::{as_float, is_none, py_float, py_repr, py_str, PyList, PyNone, PyTuple};
use super::yaml;

fn err(kind: ErrorKind, msg: impl Into<String>) -> Error {
    Error::new(kind, msg.into())
}

/// The shared base environment; each compiled template gets a clone holding just itself.
pub static BASE: LazyLock<Environment<'static>> = LazyLock::new(build);

fn build() -> Environment<'static> {
    let mut env = Environment::new();
    // Jinja2: autoescape=False, whatever the template's name (minijinja guesses from `.html`).
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // Jinja2: StrictUndefined (printing, iterating, testing truth of an undefined all fail).
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Jinja2: trim_blocks and lstrip_blocks on, keep_trailing_newline off.
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(false)
        .build();
    if let Ok(syntax) = syntax {
        env.set_syntax(syntax);
    }
    // Error line numbers and the failing expression for undefined values.
    env.set_debug(true);
    // Python's str() for everything printed: True/None, float repr, list and dict reprs.
    env.set_formatter(|out, _state, value| {
        // Only the silent undefined of `x if c` (no else) gets here; Jinja2 prints it as "".
        if value.is_undefined() {
            return Ok(());
        }
        match value.as_str() {
            Some(s) => out.write_str(s),
            None => out.write_str(&py_str(value)),
        }
        .map_err(|_| err(ErrorKind::WriteFailure, "write failed"))
    });
    // Python methods on values (str.upper, dict.items...); lists have their own (PyList).
    env.set_unknown_method_callback(methods);
    minijinja_contrib::add_to_environment(&mut env);

    // promptlightning's two filters.
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_filter("yaml", yaml_filter);
    // Jinja2 signatures and Python printing where minijinja's differ.
    env.add_filter("truncate", truncate);
    env.add_filter("round", round);
    env.add_filter("string", |v: Value| -> Result<Value, Error> {
        defined(&v)?;
        Ok(Value::from(py_str(&v)))
    });
    env.add_filter("join", join);
    env.add_filter("tojson", tojson);
    env.add_filter("format", printf);
    env.add_filter("center", center);
    env.add_filter("list", |v: Value| -> Result<Value, Error> {
        Ok(PyList::value(iterate(&v)?.collect()))
    });
    env.add_filter("dictsort", dictsort);
    env.add_filter("items", |v: Value| -> Result<Value, Error> {
        defined(&v)?;
        Ok(Value::from(items(&v)?))
    });
    env.add_filter("attr", |v: Value, name: String| -> Result<Value, Error> {
        defined(&v)?;
        // Jinja2's attr is getattr: a dict's keys are not attributes.
        match v.kind() {
            ValueKind::Map | ValueKind::Seq => Err(err(
                ErrorKind::InvalidOperation,
                format!("'{} object' has no attribute '{name}'", type_name(&v)),
            )),
            _ => v.get_attr(&name),
        }
    });
    env.add_filter("escape", escape);
    env.add_filter("e", escape);
    env.add_filter("forceescape", escape);
    env.add_filter("float", float_filter);
    env.add_filter("xmlattr", xmlattr);
    env.add_filter("int", int_filter);
    // `is none` also for the None that came in as a variable.
    env.add_test("none", |v: Value| is_none(&v));
    // Python's notions: a str and a dict are sequences; lower/upper test str(value).
    env.add_test("sequence", |v: Value| {
        matches!(
            v.kind(),
            ValueKind::String | ValueKind::Seq | ValueKind::Map
        )
    });
    env.add_test("callable", |v: Value| {
        v.kind() == ValueKind::Plain && !is_none(&v)
    });
    env.add_test("lower", |v: Value| cased(&py_str(&v), false));
    env.add_test("upper", |v: Value| cased(&py_str(&v), true));
    env.add_test("sameas", |a: Value, b: Value| {
        (is_none(&a) && is_none(&b)) || (a.kind() == b.kind() && a == b)
    });
    env
}

/// Python's str.islower / str.isupper: some cased character, none of the other case.
fn cased(s: &str, upper: bool) -> bool {
    let mut any = false;
    for c in s.chars() {
        if c.is_lowercase() {
            if upper {
                return false;
            }
            any = true;
        } else if c.is_uppercase() {
            if !upper {
                return false;
            }
            any = true;
        }
    }
    any
}

/// A map's (key, value) pairs as Python tuples, in the map's order.
fn items(v: &Value) -> Result<Vec<Value>, Error> {
    if v.kind() != ValueKind::Map {
        return Err(err(
            ErrorKind::InvalidOperation,
            format!("'{}' object has no attribute 'items'", type_name(v)),
        ));
    }
    v.try_iter()?
        .map(|k| Ok(PyTuple::value(vec![k.clone(), v.get_item(&k)?])))
        .collect()
}

/// Jinja2 `dictsort(value, case_sensitive=False, by='key', reverse=False)`.
fn dictsort(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    defined(&v)?;
    let case_sensitive = kwargs
        .get::<Option<bool>>("case_sensitive")?
        .unwrap_or(false);
    let by = kwargs
        .get::<Option<String>>("by")?
        .unwrap_or_else(|| "key".into());
    let reverse = kwargs.get::<Option<bool>>("reverse")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let pos = match by.as_str() {
        "key" => 0,
        "value" => 1,
        _ => {
            return Err(err(
                ErrorKind::InvalidOperation,
                "You can only sort by either 'key' or 'value'",
            ))
        }
    };
    let mut pairs = items(&v)?;
    let sort_key = |t: &Value| {
        let k = t.get_item(&Value::from(pos)).unwrap_or_default();
        match k.as_str() {
            Some(s) if !case_sensitive => Value::from(s.to_lowercase()),
            _ => k,
        }
    };
    pairs.sort_by_key(sort_key);
    if reverse {
        pairs.reverse();
    }
    Ok(Value::from(pairs))
}

/// markupsafe's escape: & < > " ' as &amp; &lt; &gt; &#34; &#39;.
fn escape(v: Value) -> Result<Value, Error> {
    defined(&v)?;
    let s = py_str(&v);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Ok(Value::from_safe_string(out))
}

/// Jinja2 `xmlattr(d, autospace=True)`: ` key="escaped value"` for each value not None or
/// undefined.
fn xmlattr(v: Value, autospace: Option<bool>) -> Result<Value, Error> {
    defined(&v)?;
    let mut out = Vec::new();
    for key in v.try_iter()? {
        let item = v.get_item(&key)?;
        if is_none(&item) || item.is_undefined() {
            continue;
        }
        let k = py_str(&key);
        if k.chars().any(|c| c.is_whitespace() || "/>=".contains(c)) {
            return Err(err(
                ErrorKind::InvalidOperation,
                format!("Invalid character in attribute name: {k:?}"),
            ));
        }
        out.push(format!("{}=\"{}\"", escape(key)?, escape(item)?));
    }
    let mut s = out.join(" ");
    if autospace.unwrap_or(true) && !s.is_empty() {
        s.insert(0, ' ');
    }
    Ok(Value::from_safe_string(s))
}

/// Jinja2 `float(value, default=0.0)`.
fn float_filter(v: Value, default: Option<Value>) -> Result<Value, Error> {
    defined(&v)?;
    let fallback = || default.clone().unwrap_or_else(|| Value::from(0.0));
    Ok(match v.kind() {
        ValueKind::Number | ValueKind::Bool => f64::try_from(v.clone())
            .map(Value::from)
            .unwrap_or_else(|_| fallback()),
        ValueKind::String => super::coerce::py_float(v.as_str().unwrap_or_default())
            .map(Value::from)
            .unwrap_or_else(fallback),
        _ => fallback(),
    })
}

/// Jinja2 `int(value, default=0, base=10)`: int(value, base), else int(float(value)).
fn int_filter(v: Value, default: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    defined(&v)?;
    let base = kwargs.get::<Option<u32>>("base")?.unwrap_or(10);
    let default = match default {
        Some(d) => Some(d),
        None => kwargs.get::<Option<Value>>("default")?,
    };
    kwargs.assert_all_used()?;
    let fallback = || default.clone().unwrap_or_else(|| Value::from(0));
    Ok(match v.kind() {
        ValueKind::Bool => Value::from(i64::from(v.is_true())),
        ValueKind::Number => match as_float(&v) {
            Some(f) if f.is_finite() => Value::from(f.trunc() as i64),
            Some(_) => fallback(),
            None => v,
        },
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default().trim().replace('_', "");
            let (neg, digits) = match s.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, s.strip_prefix('+').unwrap_or(&s)),
            };
            let digits = match base {
                16 => digits.trim_start_matches("0x").trim_start_matches("0X"),
                8 => digits.trim_start_matches("0o").trim_start_matches("0O"),
                2 => digits.trim_start_matches("0b").trim_start_matches("0B"),
                _ => digits,
            };
            match i64::from_str_radix(digits, base) {
                Ok(n) if !digits.is_empty() => Value::from(if neg { -n } else { n }),
                _ => match super::coerce::py_float(&s) {
                    Some(f) if f.is_finite() => Value::from(f.trunc() as i64),
                    _ => fallback(),
                },
            }
        }
        _ => fallback(),
    })
}

/// Jinja2's StrictUndefined fails on any use inside a filter (str(), len(), iteration).
fn defined(v: &Value) -> Result<(), Error> {
    if v.is_undefined() {
        Err(Error::from(ErrorKind::UndefinedError))
    } else {
        Ok(())
    }
}

/// Iterates as Python does: None fails (`'NoneType' object is not iterable`).
fn iterate(v: &Value) -> Result<minijinja::value::ValueIter, Error> {
    defined(v)?;
    if is_none(v) {
        return Err(not_iterable("NoneType"));
    }
    v.try_iter()
}

pub fn not_iterable(ty: &str) -> Error {
    err(
        ErrorKind::InvalidOperation,
        format!("'{ty}' object is not iterable"),
    )
}

fn methods(state: &mut State, value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    if value.downcast_object_ref::<PyNone>().is_some() {
        return Err(err(
            ErrorKind::UnknownMethod,
            format!("'NoneType' object has no attribute '{method}'"),
        ));
    }
    // A list literal is minijinja's immutable list; only lists from variables can grow.
    if value.kind() == ValueKind::Seq && matches!(method, "append" | "extend" | "insert" | "pop") {
        return Err(err(
            ErrorKind::InvalidOperation,
            format!("list.{method}() on a list literal of the template is not supported (lists that come from variables support it)"),
        ));
    }
    if value.kind() == ValueKind::Map && method == "items" && args.is_empty() {
        return Ok(Value::from(items(value)?));
    }
    if let Some(s) = value.as_str() {
        if let Some(v) = str_method(s, method, args)? {
            return Ok(v);
        }
    }
    minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
}

/// Python str methods pycompat lacks.
fn str_method(s: &str, method: &str, args: &[Value]) -> Result<Option<Value>, Error> {
    let arg_str = |i: usize| args.get(i).and_then(|a| a.as_str().map(str::to_owned));
    let width = || args.first().and_then(Value::as_i64).unwrap_or(0).max(0) as usize;
    let fill = || arg_str(1).and_then(|f| f.chars().next()).unwrap_or(' ');
    let len = char_len(s);
    Ok(Some(match method {
        "swapcase" => Value::from(
            s.chars()
                .flat_map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<Vec<_>>()
                    } else {
                        c.to_uppercase().collect::<Vec<_>>()
                    }
                })
                .collect::<String>(),
        ),
        "casefold" => Value::from(s.to_lowercase()),
        "center" | "ljust" | "rjust" => {
            let w = width();
            if len >= w {
                return Ok(Some(Value::from(s)));
            }
            let marg = w - len;
            let left = match method {
                "center" => marg / 2 + (marg & w & 1),
                "ljust" => 0,
                _ => marg,
            };
            let f = fill().to_string();
            Value::from(format!("{}{s}{}", f.repeat(left), f.repeat(marg - left)))
        }
        "zfill" => {
            let w = width();
            if len >= w {
                return Ok(Some(Value::from(s)));
            }
            let (sign, rest) = match s.chars().next() {
                Some(c @ ('+' | '-')) => (c.to_string(), &s[1..]),
                _ => (String::new(), s),
            };
            Value::from(format!("{sign}{}{rest}", "0".repeat(w - len)))
        }
        "rsplit" => {
            let sep = arg_str(0);
            let max = args.get(1).and_then(Value::as_i64).unwrap_or(-1);
            let mut parts: Vec<String> = match &sep {
                Some(sep) if max >= 0 => s
                    .rsplitn(max as usize + 1, sep.as_str())
                    .map(str::to_owned)
                    .collect(),
                Some(sep) => s.rsplit(sep.as_str()).map(str::to_owned).collect(),
                None => return Ok(None),
            };
            parts.reverse();
            PyList::value(parts.into_iter().map(Value::from).collect())
        }
        "partition" | "rpartition" => {
            let sep = arg_str(0).unwrap_or_default();
            let found = if method == "partition" {
                s.find(&sep)
            } else {
                s.rfind(&sep)
            };
            let parts = match found {
                Some(i) if !sep.is_empty() => [&s[..i], &sep[..], &s[i + sep.len()..]],
                _ if method == "partition" => [s, "", ""],
                _ => ["", "", s],
            };
            PyTuple::value(parts.iter().map(|p| Value::from(*p)).collect())
        }
        "isspace" => Value::from(!s.is_empty() && s.chars().all(char::is_whitespace)),
        _ => return Ok(None),
    }))
}

/// promptlightning: `fallback` for None, "", [] and {}; 0 and false are kept; an undefined
/// value stays an error.
fn default(value: Value, fallback: Option<Value>) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    let empty = is_none(&value)
        || match value.kind() {
            ValueKind::String => value.as_str().is_some_and(str::is_empty),
            ValueKind::Seq | ValueKind::Map => value.len() == Some(0),
            _ => false,
        };
    Ok(if empty {
        fallback.unwrap_or_else(|| Value::from(""))
    } else {
        value
    })
}

/// promptlightning: scalars print as str(), lists and maps as PyYAML's block dump.
fn yaml_filter(value: Value) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    if is_none(&value) || !matches!(value.kind(), ValueKind::Seq | ValueKind::Map) {
        return Ok(Value::from(py_str(&value)));
    }
    yaml::dump(&value)
        .map(Value::from)
        .map_err(|m| err(ErrorKind::InvalidOperation, m))
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

fn char_prefix(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Jinja2 `truncate(s, length=255, killwords=False, end='...', leeway=None)`, positional too.
fn truncate(s: Value, args: Rest<Value>, kw: Kwargs) -> Result<Value, Error> {
    defined(&s)?;
    let (pos, _) = split_kwargs(&args.0);
    let kwargs = Some(kw);
    let pick = |i: usize, name: &str| -> Result<Option<Value>, Error> {
        if let Some(v) = pos.get(i) {
            return Ok(Some(v.clone()));
        }
        match &kwargs {
            Some(k) if k.has(name) => Ok(Some(k.get::<Value>(name)?)),
            _ => Ok(None),
        }
    };
    let length = match pick(0, "length")? {
        Some(v) => v.as_i64().ok_or_else(|| {
            err(
                ErrorKind::InvalidOperation,
                "'<=' not supported between instances",
            )
        })?,
        None => 255,
    };
    let killwords = pick(1, "killwords")?.is_some_and(|v| v.is_true());
    let end = pick(2, "end")?
        .map(|v| py_str(&v))
        .unwrap_or_else(|| "...".into());
    let leeway = match pick(3, "leeway")? {
        Some(v) if !is_none(&v) => v.as_i64().unwrap_or(5),
        _ => 5,
    };
    if let Some(k) = &kwargs {
        k.assert_all_used()?;
    }
    let end_len = char_len(&end) as i64;
    if length < end_len {
        return Err(err(
            ErrorKind::InvalidOperation,
            format!("expected length >= {end_len}, got {length}"),
        ));
    }
    if leeway < 0 {
        return Err(err(
            ErrorKind::InvalidOperation,
            format!("expected leeway >= 0, got {leeway}"),
        ));
    }
    let s = py_str(&s);
    if char_len(&s) as i64 <= length + leeway {
        return Ok(Value::from(s));
    }
    let head = char_prefix(&s, (length - end_len) as usize);
    if killwords {
        return Ok(Value::from(format!("{head}{end}")));
    }
    let head = match head.rfind(' ') {
        Some(i) => &head[..i],
        None => head,
    };
    Ok(Value::from(format!("{head}{end}")))
}

fn split_kwargs(args: &[Value]) -> (Vec<Value>, Option<Kwargs>) {
    match args.last() {
        Some(last) if last.is_kwargs() => (
            args[..args.len() - 1].to_vec(),
            Kwargs::try_from(last.clone()).ok(),
        ),
        _ => (args.to_vec(), None),
    }
}

/// Python's `round(x, n)`: correctly rounded, ties to even; ints stay ints at precision 0.
fn py_round(x: f64, precision: i64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if precision >= 0 {
        let p = precision.min(300) as usize;
        format!("{x:.p$}").parse().unwrap_or(x)
    } else {
        let m = 10f64.powi((-precision).min(308) as i32);
        py_round(x / m, 0) * m
    }
}

/// Jinja2 `round(value, precision=0, method='common')`: common is Python's round (half to
/// even), ceil and floor as math's; the result is a float, except an int with method common.
fn round(
    value: Value,
    precision: Option<i64>,
    method: Option<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let precision = match precision {
        Some(p) => p,
        None => kwargs.get::<Option<i64>>("precision")?.unwrap_or(0),
    };
    let method = match method {
        Some(m) => m,
        None => kwargs
            .get::<Option<String>>("method")?
            .unwrap_or_else(|| "common".into()),
    };
    kwargs.assert_all_used()?;
    defined(&value)?;
    if !matches!(method.as_str(), "common" | "ceil" | "floor") {
        return Err(err(
            ErrorKind::InvalidOperation,
            "method must be 'common', 'ceil' or 'floor'",
        ));
    }
    if value.kind() != ValueKind::Number {
        return Err(err(
            ErrorKind::InvalidOperation,
            format!("type {} doesn't define __round__ method", type_name(&value)),
        ));
    }
    let x = f64::try_from(value.clone())?;
    if method == "common" {
        if value.is_integer() && precision >= 0 {
            return Ok(value);
        }
        return Ok(Value::from(py_round(x, precision)));
    }
    let m = 10f64.powi(precision.clamp(-308, 308) as i32);
    let r = if method == "ceil" {
        (x * m).ceil() / m
    } else {
        (x * m).floor() / m
    };
    Ok(Value::from(r))
}

/// Python's type name for error messages.
pub fn type_name(v: &Value) -> &'static str {
    if is_none(v) {
        return "NoneType";
    }
    match v.kind() {
        ValueKind::Bool => "bool",
        ValueKind::Number if as_float(v).is_some() => "float",
        ValueKind::Number => "int",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::Undefined => "Undefined",
        _ => "object",
    }
}

/// Jinja2 `join(value, d='', attribute=None)`, items printed with str().
fn join(value: Value, d: Option<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let attribute = kwargs.get::<Option<String>>("attribute")?;
    let d = match d {
        Some(d) => Some(d),
        None => kwargs.get::<Option<String>>("d")?,
    };
    kwargs.assert_all_used()?;
    let mut out = String::new();
    for (i, item) in iterate(&value)?.enumerate() {
        if i > 0 {
            out.push_str(d.as_deref().unwrap_or(""));
        }
        let item = match &attribute {
            Some(a) => item.get_attr(a)?,
            None => item,
        };
        if item.is_undefined() {
            return Err(Error::from(ErrorKind::UndefinedError));
        }
        out.push_str(&py_str(&item));
    }
    Ok(Value::from(out))
}

/// Jinja2 `tojson`: json.dumps(sort_keys=True) with `<>&'` escaped for HTML; `indent` as
/// json.dumps' (with `,` then newline, `: ` between key and value).
fn tojson(value: Value, indent: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let indent = match indent {
        Some(i) => Some(i),
        None => kwargs.get::<Option<Value>>("indent")?,
    };
    kwargs.assert_all_used()?;
    defined(&value)?;
    let indent = indent.filter(|v| !is_none(v)).and_then(|v| v.as_i64());
    let mut out = String::new();
    write_json(&mut out, &value, indent, 0)?;
    let out = out
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\'', "\\u0027");
    Ok(Value::from_safe_string(out))
}

fn write_json(out: &mut String, v: &Value, indent: Option<i64>, depth: usize) -> Result<(), Error> {
    let newline = |out: &mut String, depth: usize| {
        if let Some(n) = indent {
            out.push('\n');
            for _ in 0..(n.max(0) as usize * depth) {
                out.push(' ');
            }
        }
    };
    if is_none(v) {
        out.push_str("null");
        return Ok(());
    }
    match v.kind() {
        ValueKind::Undefined => return Err(Error::from(ErrorKind::UndefinedError)),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => match as_float(v) {
            Some(f) if f.is_nan() => out.push_str("NaN"),
            Some(f) if f.is_infinite() => {
                out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" })
            }
            Some(f) => out.push_str(&py_float(f)),
            None => {
                let _ = write!(out, "{v}");
            }
        },
        ValueKind::String => json_str(out, v.as_str().unwrap_or_default()),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = v.try_iter()?.collect();
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(if indent.is_some() { "," } else { ", " });
                }
                newline(out, depth + 1);
                write_json(out, item, indent, depth + 1)?;
            }
            newline(out, depth);
            out.push(']');
        }
        ValueKind::Map => {
            let mut keys: Vec<(String, Value)> = Vec::new();
            for k in v.try_iter()? {
                let name = match k.kind() {
                    ValueKind::String => k.as_str().unwrap_or_default().to_owned(),
                    ValueKind::Bool => if k.is_true() { "true" } else { "false" }.into(),
                    _ if is_none(&k) => "null".into(),
                    _ => py_str(&k),
                };
                keys.push((name, v.get_item(&k)?));
            }
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            if keys.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, item)) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(if indent.is_some() { "," } else { ", " });
                }
                newline(out, depth + 1);
                json_str(out, k);
                out.push_str(": ");
                write_json(out, item, indent, depth + 1)?;
            }
            newline(out, depth);
            out.push('}');
        }
        _ => {
            return Err(err(
                ErrorKind::InvalidOperation,
                format!("Object of type {} is not JSON serializable", type_name(v)),
            ))
        }
    }
    Ok(())
}

/// json.dumps' string with ensure_ascii: non-ASCII as \uXXXX (surrogate pairs above the BMP).
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Jinja2 `center(value, width=80)`: Python's str.center.
fn center(value: Value, width: Option<usize>) -> Result<Value, Error> {
    defined(&value)?;
    let s = py_str(&value);
    let width = width.unwrap_or(80);
    let len = char_len(&s);
    if len >= width {
        return Ok(Value::from(s));
    }
    let marg = width - len;
    // CPython: left = marg/2 + (marg & width & 1).
    let left = marg / 2 + (marg & width & 1);
    let right = marg - left;
    Ok(Value::from(format!(
        "{}{s}{}",
        " ".repeat(left),
        " ".repeat(right)
    )))
}

/// Jinja2 `format(value, *args, **kwargs)`: Python's printf-style `value % args`.
fn printf(value: Value, args: Rest<Value>, kw: Kwargs) -> Result<Value, Error> {
    let (pos, _) = split_kwargs(&args.0);
    let kwargs = if kw.args().next().is_some() {
        Some(kw)
    } else {
        None
    };
    if kwargs.is_some() && !pos.is_empty() {
        return Err(err(
            ErrorKind::InvalidOperation,
            "can't handle positional and keyword arguments at the same time",
        ));
    }
    defined(&value)?;
    let fmt = py_str(&value);
    let kw = kwargs.map(Value::from);
    // `"%s" % (x,)` and `"%s" % x` are the same; a lone map argument is a mapping.
    let mapping = kw.or_else(|| match pos.as_slice() {
        [one] if one.kind() == ValueKind::Map => Some(one.clone()),
        _ => None,
    });
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    let mut next_arg = 0usize;
    let mut take = |key: Option<&str>| -> Result<Value, Error> {
        if let Some(k) = key {
            let map = mapping
                .as_ref()
                .ok_or_else(|| err(ErrorKind::InvalidOperation, "format requires a mapping"))?;
            let v = map.get_item(&Value::from(k))?;
            if v.is_undefined() {
                return Err(err(ErrorKind::InvalidOperation, format!("'{k}'")));
            }
            return Ok(v);
        }
        let v = pos.get(next_arg).cloned().ok_or_else(|| {
            err(
                ErrorKind::InvalidOperation,
                "not enough arguments for format string",
            )
        })?;
        next_arg += 1;
        Ok(v)
    };
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut key = None;
        if it.peek() == Some(&'(') {
            it.next();
            let mut k = String::new();
            for c in it.by_ref() {
                if c == ')' {
                    break;
                }
                k.push(c);
            }
            key = Some(k);
        }
        let mut flags = String::new();
        while let Some(&f) = it.peek() {
            if "-+ #0".contains(f) {
                flags.push(f);
                it.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = it.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            it.next();
        }
        let mut precision: Option<usize> = None;
        if it.peek() == Some(&'.') {
            it.next();
            let mut p = String::new();
            while let Some(&d) = it.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                it.next();
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let conv = it
            .next()
            .ok_or_else(|| err(ErrorKind::InvalidOperation, "incomplete format"))?;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let arg = take(key.as_deref())?;
        let body = match conv {
            's' => {
                let s = py_str(&arg);
                match precision {
                    Some(p) => char_prefix(&s, p).to_owned(),
                    None => s,
                }
            }
            'r' | 'a' => py_repr(&arg),
            'd' | 'i' | 'u' => {
                let n = number_arg(&arg, conv)?;
                let n = n.trunc();
                let mut s = format!("{}", n.abs() as i128);
                if let Some(p) = precision {
                    while s.len() < p {
                        s.insert(0, '0');
                    }
                }
                sign(n < 0.0, &flags) + &s
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let x = number_arg(&arg, conv)?;
                let p = precision.unwrap_or(6);
                let s = match conv {
                    'f' | 'F' => format!("{:.p$}", x.abs()),
                    'e' | 'E' => exp_form(x.abs(), p),
                    _ => g_form(x.abs(), p, flags.contains('#')),
                };
                let s = if conv.is_ascii_uppercase() {
                    s.to_uppercase()
                } else {
                    s
                };
                sign(x.is_sign_negative() && x != 0.0 || x < 0.0, &flags) + &s
            }
            'x' | 'X' | 'o' => {
                let n = number_arg(&arg, conv)?;
                if as_float(&arg).is_some() {
                    return Err(err(
                        ErrorKind::InvalidOperation,
                        format!("%{conv} format: an integer is required, not float"),
                    ));
                }
                let m = n.abs() as i128;
                let mut s = match conv {
                    'x' => format!("{m:x}"),
                    'X' => format!("{m:X}"),
                    _ => format!("{m:o}"),
                };
                if flags.contains('#') {
                    s.insert_str(
                        0,
                        match conv {
                            'x' => "0x",
                            'X' => "0X",
                            _ => "0o",
                        },
                    );
                }
                sign(n < 0.0, &flags) + &s
            }
            'c' => match arg.as_str() {
                Some(s) if char_len(s) == 1 => s.to_owned(),
                _ => char::from_u32(arg.as_i64().unwrap_or(-1) as u32)
                    .map(String::from)
                    .ok_or_else(|| err(ErrorKind::InvalidOperation, "%c requires int or char"))?,
            },
            other => {
                return Err(err(
                    ErrorKind::InvalidOperation,
                    format!("unsupported format character '{other}'"),
                ))
            }
        };
        let width: usize = width.parse().unwrap_or(0);
        let len = char_len(&body);
        if len >= width {
            out.push_str(&body);
        } else if flags.contains('-') {
            out.push_str(&body);
            out.push_str(&" ".repeat(width - len));
        } else if flags.contains('0') && !matches!(conv, 's' | 'r' | 'a' | 'c') {
            let (sgn, digits) = match body.chars().next() {
                Some(c @ ('-' | '+' | ' ')) => (c.to_string(), &body[1..]),
                _ => (String::new(), body.as_str()),
            };
            out.push_str(&sgn);
            out.push_str(&"0".repeat(width - len));
            out.push_str(digits);
        } else {
            out.push_str(&" ".repeat(width - len));
            out.push_str(&body);
        }
    }
    if mapping.is_none() && next_arg < pos.len() {
        return Err(err(
            ErrorKind::InvalidOperation,
            "not all arguments converted during string formatting",
        ));
    }
    Ok(Value::from(out))
}

fn sign(negative: bool, flags: &str) -> String {
    if negative {
        "-".into()
    } else if flags.contains('+') {
        "+".into()
    } else if flags.contains(' ') {
        " ".into()
    } else {
        String::new()
    }
}

fn number_arg(v: &Value, conv: char) -> Result<f64, Error> {
    if v.kind() == ValueKind::Bool {
        return Ok(if v.is_true() { 1.0 } else { 0.0 });
    }
    if v.kind() != ValueKind::Number {
        return Err(err(
            ErrorKind::InvalidOperation,
            format!(
                "%{conv} format: a real number is required, not {}",
                type_name(v)
            ),
        ));
    }
    f64::try_from(v.clone())
}

/// C's `%.{p}e`: mantissa with p decimals, exponent with sign and at least two digits.
fn exp_form(x: f64, p: usize) -> String {
    let s = format!("{x:.p$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

/// C's `%.{p}g`.
fn g_form(x: f64, p: usize, alt: bool) -> String {
    let p = p.max(1);
    if x == 0.0 {
        return if alt {
            format!("{:.*}", p - 1, 0.0)
        } else {
            "0".into()
        };
    }
    let e = format!("{x:.*e}", p - 1);
    let exp: i32 = e
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let s = if exp < -4 || exp >= p as i32 {
        exp_form(x, p - 1)
    } else {
        format!("{x:.*}", (p as i32 - 1 - exp).max(0) as usize)
    };
    if alt {
        return s;
    }
    match s.split_once('e') {
        Some((m, e)) if m.contains('.') => {
            format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
        }
        Some(_) => s,
        None if s.contains('.') => s.trim_end_matches('0').trim_end_matches('.').to_owned(),
        None => s,
    }
}

/// A fresh environment for one template: the base dialect, cloned (filters are shared `Arc`s).
pub fn fresh() -> Environment<'static> {
    BASE.clone()
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Arc<Environment<'static>>>();
}
