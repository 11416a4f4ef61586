//! The `yaml` filter's dump: what PyYAML's `yaml.dump(v, Dumper=CSafeDumper, sort_keys=False,
//! allow_unicode=True)` prints. PyYAML decides tags and implicitness (its representer and YAML 1.1
//! resolver, reproduced here); libyaml 0.2.5's emitter decides every scalar style and line fold,
//! and `libyaml-safer` is that emitter, ported line by line, so the bytes come from the same code.

use std::fmt::Write as _;
use std::sync::LazyLock;

use libyaml_safer::{Emitter, Encoding, Event, MappingStyle, ScalarStyle, SequenceStyle};
use minijinja::value::{Value, ValueKind};
use regex::Regex;

use super::value::{as_float, is_none, py_float};

const STR: &str = "tag:yaml.org,2002:str";

/// PyYAML's implicit resolvers (resolver.py), each with the first characters it is tried for.
static RESOLVERS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    let r = |re: &str| Regex::new(&format!("^(?:{re})$")).expect("resolver regex is valid");
    vec![
        (
            "yYnNtTfFoO",
            r("yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"),
        ),
        (
            "-+0123456789.",
            r(
                r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
            ),
        ),
        (
            "-+0123456789",
            r(
                r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
            ),
        ),
        ("<", r("<<")),
        ("~nN", r("~|null|Null|NULL|")),
        (
            "0123456789",
            r(
                r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?",
            ),
        ),
        ("=", r("=")),
    ]
});

/// Whether PyYAML would read `s`, written plain, as a string (no implicit resolver matches).
/// Python's `$` also matches before one trailing newline, so "yes\n" counts as a boolean.
fn plain_is_str(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false; // '' resolves to null
    };
    let trimmed = s.strip_suffix('\n');
    !RESOLVERS.iter().any(|(firsts, re)| {
        firsts.contains(first) && (re.is_match(s) || trimmed.is_some_and(|t| re.is_match(t)))
    })
}

/// PyYAML's `represent_float`.
fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let v = py_float(f).to_lowercase();
    if !v.contains('.') && v.contains('e') {
        v.replacen('e', ".0e", 1)
    } else {
        v
    }
}

fn emit(em: &mut Emitter<'_>, ev: Event) -> Result<(), String> {
    em.emit(ev).map_err(|e| format!("yaml emitter: {e}"))
}

fn node(
    em: &mut Emitter<'_>,
    v: &Value,
    depth: usize,
    astral: &mut Vec<char>,
) -> Result<(), String> {
    if depth > 500 {
        return Err("maximum recursion depth exceeded while dumping YAML".into());
    }
    if is_none(v) {
        return emit(
            em,
            Event::scalar(None, None, "null", true, false, ScalarStyle::Any),
        );
    }
    match v.kind() {
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default();
            let implicit = plain_is_str(s);
            let replaced = stand_in(s, astral);
            let s = replaced.as_deref().unwrap_or(s);
            emit(
                em,
                Event::scalar(None, Some(STR), s, implicit, true, ScalarStyle::Any),
            )
        }
        ValueKind::Bool => {
            let text = if v.is_true() { "true" } else { "false" };
            emit(
                em,
                Event::scalar(None, None, text, true, false, ScalarStyle::Any),
            )
        }
        ValueKind::Number => {
            let text = match as_float(v) {
                Some(f) => yaml_float(f),
                None => v.to_string(),
            };
            emit(
                em,
                Event::scalar(None, None, &text, true, false, ScalarStyle::Any),
            )
        }
        ValueKind::Seq | ValueKind::Iterable => {
            emit(
                em,
                Event::sequence_start(None, None, true, SequenceStyle::Block),
            )?;
            for item in v.try_iter().map_err(|e| e.to_string())? {
                node(em, &item, depth + 1, astral)?;
            }
            emit(em, Event::sequence_end())
        }
        ValueKind::Map => {
            emit(
                em,
                Event::mapping_start(None, None, true, MappingStyle::Block),
            )?;
            for key in v.try_iter().map_err(|e| e.to_string())? {
                let item = v.get_item(&key).map_err(|e| e.to_string())?;
                node(em, &key, depth + 1, astral)?;
                node(em, &item, depth + 1, astral)?;
            }
            emit(em, Event::mapping_end())
        }
        _ => Err(format!("cannot represent an object: {v}")),
    }
}

/// libyaml 0.2.5 counts characters beyond the BMP as unprintable (its UTF-8 check stops at
/// three bytes), so it double-quotes such strings and escapes them as `\UXXXXXXXX`; the port
/// prints them. Each one goes in as this stand-in, which the port treats the same way (both
/// unprintable, so the same style and quoting), with the same byte length (4) and the same
/// width once escaped (`\uFFFF\x01`, 10 columns, so line folding agrees), and the escapes are
/// swapped back afterwards.
const STAND_IN: &str = "\u{FFFF}\u{1}";
const STAND_IN_ESCAPED: &str = "\\uFFFF\\x01";

fn stand_in(s: &str, astral: &mut Vec<char>) -> Option<String> {
    if s.chars().all(|c| (c as u32) < 0x10000) {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if (c as u32) >= 0x10000 {
            astral.push(c);
            out.push_str(STAND_IN);
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// The block-style YAML document for a list or map, trailing whitespace removed.
pub fn dump(v: &Value) -> Result<String, String> {
    let mut out = Vec::with_capacity(64);
    let mut astral = Vec::new();
    {
        let mut em = Emitter::new();
        em.set_output_string(&mut out);
        em.set_unicode(true);
        emit(&mut em, Event::stream_start(Encoding::Utf8))?;
        emit(&mut em, Event::document_start(None, &[], true))?;
        node(&mut em, v, 0, &mut astral)?;
        emit(&mut em, Event::document_end(true))?;
        emit(&mut em, Event::stream_end())?;
    }
    let mut text = String::from_utf8(out).map_err(|e| format!("yaml emitter: {e}"))?;
    if !astral.is_empty() {
        let mut swapped = String::with_capacity(text.len() + 8 * astral.len());
        let mut chars = astral.into_iter();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(STAND_IN_ESCAPED) {
            swapped.push_str(&rest[..at]);
            let c = chars.next().ok_or("yaml: stand-in without its character")?;
            let _ = write!(swapped, "\\U{:08X}", c as u32);
            rest = &rest[at + STAND_IN_ESCAPED.len()..];
        }
        swapped.push_str(rest);
        text = swapped;
    }
    let end = text.trim_end().len();
    text.truncate(end);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_matches_pyyaml() {
        for s in [
            "yes",
            "Off",
            "1.5",
            "1_000",
            "0x1f",
            "~",
            "",
            "2024-01-02",
            "1:30",
            "yes\n",
        ] {
            assert!(!plain_is_str(s), "{s:?}");
        }
        for s in ["1e3", "banana", " 1", "yes!", "y", "nulls"] {
            assert!(plain_is_str(s), "{s:?}");
        }
    }

    #[test]
    fn floats_as_pyyaml() {
        assert_eq!(yaml_float(1e16), "1.0e+16");
        assert_eq!(yaml_float(5.0), "5.0");
        assert_eq!(yaml_float(f64::NEG_INFINITY), "-.inf");
    }
}
