//! YAML read the way PyYAML's `safe_load` reads it (YAML 1.1 typing), so a prompt file means
//! the same thing here as it did in the system it comes from.
//!
//! saphyr-parser does the syntax (events with positions); typing is ours: the implicit resolvers
//! below are PyYAML's (`resolver.py`), tried in PyYAML's order for the scalar's first character,
//! and the constructors follow `SafeConstructor` (`constructor.py`): `yes`/`on` are booleans,
//! `1e3` is a string (a 1.1 float needs a dot), `0o17` is a string but `017` is octal, `1:30` is
//! 90, `2024-01-02` is a date, `<<` merges, a repeated key keeps its last value.

use regex::Regex;
use rmpv::Value;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use std::collections::HashMap;
use std::sync::LazyLock;

/// A 1-based line and column in the source file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A typed YAML value with where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    /// Python ints are unbounded; i128 holds every value MessagePack can and more, so the
    /// conversion can name a value that does not fit instead of wrapping it.
    Int(i128),
    Float(f64),
    Str(String),
    /// `datetime.date` / `datetime.datetime`, kept as Python's `isoformat()` text.
    Date(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A load failure with where it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub pos: Pos,
}

fn err<T>(pos: Pos, message: impl Into<String>) -> Result<T, YamlError> {
    Err(YamlError {
        message: message.into(),
        pos,
    })
}

fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line() as u32,
        col: span.start.col() as u32 + 1,
    }
}

fn scan_error(e: &ScanError) -> YamlError {
    YamlError {
        message: e.info().to_owned(),
        pos: Pos {
            line: e.marker().line() as u32,
            col: e.marker().col() as u32 + 1,
        },
    }
}

// PyYAML's implicit resolvers (resolver.py), verbatim but for re.X whitespace.
static BOOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
        .expect("static regex")
});
static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?",
        r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
        r"|[-+]?\.(?:inf|Inf|INF)",
        r"|\.(?:nan|NaN|NAN))$"
    ))
    .expect("static regex")
});
static INT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?0b[0-1_]+",
        r"|[-+]?0[0-7_]+",
        r"|[-+]?(?:0|[1-9][0-9_]*)",
        r"|[-+]?0x[0-9a-fA-F_]+",
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"
    ))
    .expect("static regex")
});
static NULL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:~|null|Null|NULL|)$").expect("static regex"));
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]",
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?",
        r"(?:[Tt]|[ \t]+)[0-9][0-9]?",
        r":[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?",
        r"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"
    ))
    .expect("static regex")
});
// The constructor's own pattern, with the groups it reads.
static TIMESTAMP_PARTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?P<year>[0-9][0-9][0-9][0-9])-(?P<month>[0-9][0-9]?)-(?P<day>[0-9][0-9]?)",
        r"(?:(?:[Tt]|[ \t]+)(?P<hour>[0-9][0-9]?):(?P<minute>[0-9][0-9]):(?P<second>[0-9][0-9])",
        r"(?:\.(?P<fraction>[0-9]*))?",
        r"(?:[ \t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9][0-9]?)(?::(?P<tz_minute>[0-9][0-9]))?))?)?$"
    ))
    .expect("static regex")
});

/// The tag PyYAML's resolver gives a plain scalar: the first resolver registered for its first
/// character whose pattern matches, in registration order (bool, float, int, merge, null,
/// timestamp, value), else `str`.
fn resolve_plain(v: &str) -> &'static str {
    let first = v.chars().next();
    let starts = |set: &str| first.is_some_and(|c| set.contains(c));
    if starts("yYnNtTfFoO") && BOOL.is_match(v) {
        return "bool";
    }
    if starts("-+0123456789.") && FLOAT.is_match(v) {
        return "float";
    }
    if starts("-+0123456789") && INT.is_match(v) {
        return "int";
    }
    if v == "<<" {
        return "merge";
    }
    if (first.is_none() || starts("~nN")) && NULL.is_match(v) {
        return "null";
    }
    if starts("0123456789") && TIMESTAMP.is_match(v) {
        return "timestamp";
    }
    if v == "=" {
        return "value";
    }
    "str"
}

fn construct_bool(v: &str, pos: Pos) -> Result<Kind, YamlError> {
    match v.to_lowercase().as_str() {
        "yes" | "true" | "on" => Ok(Kind::Bool(true)),
        "no" | "false" | "off" => Ok(Kind::Bool(false)),
        _ => err(pos, format!("cannot construct a boolean from '{v}'")),
    }
}

fn construct_int(v: &str, pos: Pos) -> Result<Kind, YamlError> {
    let bad = || YamlError {
        message: format!("cannot construct an integer from '{v}'"),
        pos,
    };
    let mut s: String = v.chars().filter(|&c| c != '_').collect();
    let mut sign = 1i128;
    if let Some(rest) = s.strip_prefix('-') {
        sign = -1;
        s = rest.to_owned();
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest.to_owned();
    }
    let parse = |digits: &str, radix: u32| i128::from_str_radix(digits, radix).map_err(|_| bad());
    let n = if s == "0" {
        0
    } else if let Some(d) = s.strip_prefix("0b") {
        parse(d, 2)?
    } else if let Some(d) = s.strip_prefix("0x") {
        parse(d, 16)?
    } else if s.starts_with('0') {
        parse(&s, 8)?
    } else if s.contains(':') {
        let mut n = 0i128;
        for part in s.split(':') {
            n = n
                .checked_mul(60)
                .and_then(|n| n.checked_add(parse(part, 10).ok()?))
                .ok_or_else(bad)?;
        }
        n
    } else {
        parse(&s, 10)?
    };
    Ok(Kind::Int(sign * n))
}

/// Python's `float()` of a string that already went through the 1.1 float pattern or an
/// explicit `!!float` tag.
fn python_float(s: &str) -> Option<f64> {
    // Rust's parser wants a digit on both sides of the dot before an exponent.
    let fixed = s.trim().replacen(".e", ".0e", 1);
    fixed.parse::<f64>().ok()
}

fn construct_float(v: &str, pos: Pos) -> Result<Kind, YamlError> {
    let bad = || YamlError {
        message: format!("cannot construct a float from '{v}'"),
        pos,
    };
    let mut s: String = v
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_lowercase();
    let mut sign = 1.0;
    if let Some(rest) = s.strip_prefix('-') {
        sign = -1.0;
        s = rest.to_owned();
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest.to_owned();
    }
    let f = if s == ".inf" {
        f64::INFINITY
    } else if s == ".nan" {
        f64::NAN
    } else if s.contains(':') {
        let digits: Vec<&str> = s.split(':').collect();
        let mut base = 1.0;
        let mut value = 0.0;
        for d in digits.iter().rev() {
            value += python_float(d).ok_or_else(bad)? * base;
            base *= 60.0;
        }
        value
    } else {
        python_float(&s).ok_or_else(bad)?
    };
    Ok(Kind::Float(sign * f))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn construct_timestamp(v: &str, pos: Pos) -> Result<Kind, YamlError> {
    let bad = |why: &str| YamlError {
        message: format!("cannot construct a timestamp from '{v}': {why}"),
        pos,
    };
    let caps = TIMESTAMP_PARTS
        .captures(v)
        .ok_or_else(|| bad("not a YAML 1.1 timestamp"))?;
    let num = |name: &str| -> u32 {
        caps.name(name)
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(0)
    };
    let (year, month, day) = (num("year"), num("month"), num("day"));
    if year == 0 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(bad("day is out of range for month"));
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    if caps.name("hour").is_none() {
        return Ok(Kind::Date(date));
    }
    let (hour, minute, second) = (num("hour"), num("minute"), num("second"));
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad("time is out of range"));
    }
    let mut out = format!("{date}T{hour:02}:{minute:02}:{second:02}");
    let fraction = caps.name("fraction").map_or("", |m| m.as_str());
    if !fraction.is_empty() {
        let mut f: String = fraction.chars().take(6).collect();
        while f.len() < 6 {
            f.push('0');
        }
        if f != "000000" {
            out.push('.');
            out.push_str(&f);
        }
    }
    if let Some(sign) = caps.name("tz_sign") {
        let (h, m) = (num("tz_hour"), num("tz_minute"));
        if h > 23 || m > 59 {
            return Err(bad("offset is out of range"));
        }
        if h == 0 && m == 0 {
            out.push_str("+00:00");
        } else {
            out.push_str(&format!("{}{h:02}:{m:02}", sign.as_str()));
        }
    } else if caps.name("tz").is_some() {
        out.push_str("+00:00");
    }
    Ok(Kind::Date(out))
}

fn core_suffix(tag: &Tag) -> Option<&str> {
    tag.is_yaml_core_schema().then_some(tag.suffix.as_str())
}

fn tag_name(tag: &Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("tag:yaml.org,2002:{}", tag.suffix)
    } else {
        tag.to_string()
    }
}

fn no_constructor(tag: &str, pos: Pos) -> YamlError {
    YamlError {
        message: format!("could not determine a constructor for the tag '{tag}'"),
        pos,
    }
}

fn scalar(v: &str, style: ScalarStyle, tag: Option<&Tag>, pos: Pos) -> Result<Kind, YamlError> {
    let name = match tag {
        // `!` alone is the non-specific tag: a string (saphyr: empty handle, suffix `!`).
        Some(t) if t.handle.is_empty() && t.suffix == "!" => "str",
        Some(t) => match core_suffix(t) {
            Some(s) => s,
            None => return Err(no_constructor(&tag_name(t), pos)),
        },
        None if style == ScalarStyle::Plain => resolve_plain(v),
        None => "str",
    };
    match name {
        "str" => Ok(Kind::Str(v.to_owned())),
        "null" => Ok(Kind::Null),
        "bool" => construct_bool(v, pos),
        "int" => construct_int(v, pos),
        "float" => construct_float(v, pos),
        "timestamp" => construct_timestamp(v, pos),
        // A plain `<<` outside a key position: PyYAML's SafeConstructor has no constructor.
        "merge" => Err(no_constructor("tag:yaml.org,2002:merge", pos)),
        "value" => Err(no_constructor("tag:yaml.org,2002:value", pos)),
        "seq" | "map" | "set" | "omap" | "pairs" => err(
            pos,
            format!(
                "expected a {} node, but found scalar",
                collection_word(name)
            ),
        ),
        other => Err(no_constructor(&format!("tag:yaml.org,2002:{other}"), pos)),
    }
}

fn collection_word(tag: &str) -> &'static str {
    match tag {
        "map" | "set" => "mapping",
        _ => "sequence",
    }
}

/// Python dict-key equality: `1`, `1.0` and `true` are one key.
fn same_key(a: &Kind, b: &Kind) -> bool {
    fn num(k: &Kind) -> Option<f64> {
        match k {
            Kind::Bool(b) => Some(*b as i32 as f64),
            Kind::Int(i) => Some(*i as f64),
            Kind::Float(f) => Some(*f),
            _ => None,
        }
    }
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Inserts as a Python dict does: a repeated key keeps its first position and its last value.
fn insert(map: &mut Vec<(Node, Node)>, key: Node, value: Node) {
    match map.iter_mut().find(|(k, _)| same_key(&k.kind, &key.kind)) {
        Some(slot) => slot.1 = value,
        None => map.push((key, value)),
    }
}

struct Loader<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
}

/// A node before mapping merge is applied: whether a key was the plain `<<`.
struct Raw {
    node: Node,
    is_merge: bool,
}

impl<'a> Loader<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(scan_error(&e)),
            None => err(Pos::default(), "unexpected end of the stream"),
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    fn node(&mut self, ev: Event<'a>, span: Span) -> Result<Raw, YamlError> {
        let pos = pos_of(&span);
        match ev {
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(n) => Ok(Raw {
                    node: n.clone(),
                    is_merge: false,
                }),
                None => err(pos, "found undefined alias"),
            },
            Event::Scalar(v, style, anchor, tag) => {
                let is_merge = tag.is_none() && style == ScalarStyle::Plain && v == "<<";
                let kind = if is_merge {
                    Kind::Str(v.to_string())
                } else {
                    scalar(&v, style, tag.as_deref(), pos)?
                };
                let node = Node { kind, pos };
                self.remember(anchor, &node);
                Ok(Raw { node, is_merge })
            }
            Event::SequenceStart(anchor, tag) => {
                let tag = tag.as_deref().map(|t| match core_suffix(t) {
                    Some(s) => Ok(s.to_owned()),
                    None => Err(no_constructor(&tag_name(t), pos)),
                });
                let tag = tag.transpose()?;
                let mut items = Vec::new();
                loop {
                    let (ev, sp) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    let item = self.node(ev, sp)?;
                    if item.is_merge {
                        return Err(no_constructor("tag:yaml.org,2002:merge", item.node.pos));
                    }
                    items.push(item.node);
                }
                let kind = match tag.as_deref() {
                    None | Some("seq") => Kind::Seq(items),
                    // PyYAML gives lists of (key, value) tuples for both.
                    Some("omap") | Some("pairs") => {
                        let mut pairs = Vec::with_capacity(items.len());
                        for item in items {
                            match item.kind {
                                Kind::Map(mut e) if e.len() == 1 => {
                                    let (k, v) = e.remove(0);
                                    pairs.push(Node {
                                        kind: Kind::Seq(vec![k, v]),
                                        pos: item.pos,
                                    });
                                }
                                _ => {
                                    return err(
                                        item.pos,
                                        "expected a mapping of length 1 in an ordered map",
                                    )
                                }
                            }
                        }
                        Kind::Seq(pairs)
                    }
                    Some(t @ ("map" | "set")) => {
                        return err(
                            pos,
                            format!("expected a {} node, but found sequence", collection_word(t)),
                        )
                    }
                    Some(t) => return Err(no_constructor(&format!("tag:yaml.org,2002:{t}"), pos)),
                };
                let node = Node { kind, pos };
                self.remember(anchor, &node);
                Ok(Raw {
                    node,
                    is_merge: false,
                })
            }
            Event::MappingStart(anchor, tag) => {
                let tag = tag.as_deref().map(|t| match core_suffix(t) {
                    Some(s) => Ok(s.to_owned()),
                    None => Err(no_constructor(&tag_name(t), pos)),
                });
                let tag = tag.transpose()?;
                let mut merged: Vec<Node> = Vec::new();
                let mut own: Vec<(Node, Node)> = Vec::new();
                loop {
                    let (ev, sp) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let key = self.node(ev, sp)?;
                    let (ev, sp) = self.next()?;
                    let value = self.node(ev, sp)?.node;
                    if key.is_merge {
                        merged.extend(merge_sources(value)?);
                        continue;
                    }
                    if matches!(key.node.kind, Kind::Seq(_) | Kind::Map(_)) {
                        return err(key.node.pos, "found unhashable key");
                    }
                    own.push((key.node, value));
                }
                // flatten_mapping: merged pairs first, in the order merge_sources gives, then own keys.
                let mut map = Vec::new();
                for source in merged {
                    if let Kind::Map(entries) = source.kind {
                        for (k, v) in entries {
                            insert(&mut map, k, v);
                        }
                    }
                }
                for (k, v) in own {
                    insert(&mut map, k, v);
                }
                let kind = match tag.as_deref() {
                    None | Some("map") => Kind::Map(map),
                    Some("set") => Kind::Map(
                        map.into_iter()
                            .map(|(k, v)| {
                                let pos = v.pos;
                                (
                                    k,
                                    Node {
                                        kind: Kind::Null,
                                        pos,
                                    },
                                )
                            })
                            .collect(),
                    ),
                    Some(t @ ("seq" | "omap" | "pairs")) => {
                        return err(
                            pos,
                            format!("expected a {} node, but found mapping", collection_word(t)),
                        )
                    }
                    Some(t) => return Err(no_constructor(&format!("tag:yaml.org,2002:{t}"), pos)),
                };
                let node = Node { kind, pos };
                self.remember(anchor, &node);
                Ok(Raw {
                    node,
                    is_merge: false,
                })
            }
            _ => err(pos, "unexpected event"),
        }
    }
}

/// The maps a `<<` value names: one map, or a sequence of maps (PyYAML's order, reversed later).
fn merge_sources(value: Node) -> Result<Vec<Node>, YamlError> {
    match value.kind {
        Kind::Map(_) => Ok(vec![value]),
        Kind::Seq(items) => {
            for item in &items {
                if !matches!(item.kind, Kind::Map(_)) {
                    return err(
                        item.pos,
                        "while constructing a mapping: expected a mapping for merging",
                    );
                }
            }
            // PyYAML reverses the list so that earlier maps are applied last (and win).
            Ok(items.into_iter().rev().collect())
        }
        _ => err(
            value.pos,
            "while constructing a mapping: expected a mapping or list of mappings for merging",
        ),
    }
}

/// Loads the single document of `text` as `yaml.safe_load` would; `None` for an empty stream.
pub fn load(text: &str) -> Result<Option<Node>, YamlError> {
    let mut loader = Loader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
    };
    let mut doc = None;
    loop {
        let (ev, span) = loader.next()?;
        match ev {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => return Ok(doc),
            Event::DocumentStart(_) => {
                if doc.is_some() {
                    return err(
                        pos_of(&span),
                        "expected a single document in the stream, but found another document",
                    );
                }
                let (ev, span) = loader.next()?;
                doc = Some(loader.node(ev, span)?.node);
                loader.anchors.clear();
            }
            _ => return err(pos_of(&span), "unexpected event outside a document"),
        }
    }
}

/// The MessagePack form of a value; dates become their ISO text. Fails (with the position) on
/// what MessagePack cannot hold: an integer beyond 64 bits.
pub fn to_value(node: &Node) -> Result<Value, YamlError> {
    Ok(match &node.kind {
        Kind::Null => Value::Nil,
        Kind::Bool(b) => Value::Boolean(*b),
        Kind::Int(i) => {
            if let Ok(v) = i64::try_from(*i) {
                Value::from(v)
            } else if let Ok(v) = u64::try_from(*i) {
                Value::from(v)
            } else {
                return err(
                    node.pos,
                    format!("integer {i} does not fit in 64 bits, which MessagePack holds"),
                );
            }
        }
        Kind::Float(f) => Value::F64(*f),
        Kind::Str(s) | Kind::Date(s) => Value::from(s.as_str()),
        Kind::Seq(items) => Value::Array(items.iter().map(to_value).collect::<Result<_, _>>()?),
        Kind::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((to_value(k)?, to_value(v)?)))
                .collect::<Result<_, YamlError>>()?,
        ),
    })
}

/// What a value is, in the words of the PyYAML type a user would see.
pub fn kind_word(kind: &Kind) -> &'static str {
    match kind {
        Kind::Null => "null",
        Kind::Bool(_) => "a boolean",
        Kind::Int(_) => "an integer",
        Kind::Float(_) => "a float",
        Kind::Str(_) => "a string",
        Kind::Date(_) => "a date",
        Kind::Seq(_) => "a list",
        Kind::Map(_) => "a map",
    }
}
