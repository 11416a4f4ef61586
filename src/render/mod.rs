//! Rendering: a stored template and a caller's variables to the text Jinja2 3.1 gives in
//! promptlightning's environment (seed-formats.md §2), on minijinja.
//!
//! [`env`] is the dialect (every setting and filter), [`value`] the Python view of values,
//! [`coerce`] the input coercion, [`yaml`] the `yaml` filter's dump. Compiled templates are kept
//! in a bounded [`Cache`] per store, keyed by id and version and checked against the stored
//! record's bytes, so a replaced version is never served stale and a hit parses nothing.

pub mod coerce;
mod env;
pub mod value;
mod yaml;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use minijinja::{Environment, ErrorKind as MjKind};
use rmpv::Value as Mp;

use crate::codec::{decode_value, field};
use crate::error::{Error, ErrorKind, Result};
use crate::templates::TemplateSpec;
use crate::Store;
use coerce::InputDecl;

/// The default number of compiled templates a store keeps (`render_cache_size` 0).
pub const DEFAULT_CACHE_SIZE: usize = 256;

const NAME: &str = "template";

/// Why a template text does not compile, and where (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (line {}, column {})",
            self.message, self.line, self.column
        )
    }
}

fn compile_error(source: &str, e: &minijinja::Error) -> CompileError {
    let line = e.line().unwrap_or(1);
    let column = match e.range() {
        Some(r) if r.start <= source.len() && source.is_char_boundary(r.start) => {
            let before = &source[..r.start];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            before[line_start..].chars().count() + 1
        }
        _ => 1,
    };
    CompileError {
        line,
        column,
        message: e.detail().unwrap_or("syntax error").to_owned(),
    }
}

/// Jinja2's lexer turns every newline (`\r\n`, `\r`, `\n`) into its `newline_sequence`,
/// `\n` by default; minijinja keeps them as written.
fn newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        text.into()
    }
}

/// Checks that `text` compiles in the render dialect; the error carries line and column.
pub fn check_compiles(text: &str) -> std::result::Result<(), CompileError> {
    let text = &newlines(text);
    env::BASE
        .template_from_named_str(NAME, text)
        .map(|_| ())
        .map_err(|e| compile_error(text, &e))
}

/// What a put refuses: a template text that does not compile (with its line and column).
pub fn check_spec(spec: &TemplateSpec) -> Result<()> {
    check_compiles(&spec.template).map_err(|c| {
        Error::new(
            ErrorKind::Render,
            format!(
                "template '{}' version '{}' does not compile: {c}",
                spec.id, spec.version
            ),
        )
    })
}

/// The variables `text` uses but neither declares as inputs nor sets itself (a lint), sorted.
/// A text that does not compile has none to report; [`check_compiles`] says why.
pub fn undeclared_variables(spec: &TemplateSpec) -> Vec<String> {
    let text = newlines(&spec.template);
    let Ok(tmpl) = env::BASE.template_from_named_str(NAME, &text) else {
        return Vec::new();
    };
    let declared: Vec<&str> = match &spec.inputs {
        Mp::Map(entries) => entries.iter().filter_map(|(k, _)| k.as_str()).collect(),
        _ => Vec::new(),
    };
    let globals: Vec<String> = env::BASE.globals().map(|(k, _)| k.to_owned()).collect();
    let mut out: Vec<String> = tmpl
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !declared.contains(&v.as_str()) && !globals.contains(v))
        .collect();
    out.sort();
    out
}

/// A template ready to render: its own environment holding it compiled, and its inputs.
pub struct Compiled {
    env: Environment<'static>,
    inputs: Vec<InputDecl>,
    id: String,
    version: String,
}

impl Compiled {
    fn new(id: &str, version: &str, text: &str, inputs: Option<&Mp>) -> Result<Compiled> {
        let mut env = env::fresh();
        let text = newlines(text);
        env.add_template_owned(NAME, text.to_string())
            .map_err(|e| {
                let c = compile_error(&text, &e);
                Error::new(
                    ErrorKind::Render,
                    format!(
                    "template '{id}' version '{version}' does not compile: {} (line {}, column {})",
                    c.message, c.line, c.column
                ),
                )
            })?;
        Ok(Compiled {
            env,
            inputs: coerce::parse_inputs(inputs)?,
            id: id.to_owned(),
            version: version.to_owned(),
        })
    }

    /// From a stored record (the MessagePack map `templates::get` returns).
    pub fn from_record(record: &[u8]) -> Result<Compiled> {
        let rec = decode_value(record, "stored template").map_err(|e| Error::corrupt(e.message))?;
        let text = |name: &str| {
            field(&rec, name)
                .and_then(Mp::as_str)
                .ok_or_else(|| Error::corrupt(format!("stored template has no '{name}'")))
        };
        Compiled::new(
            text("id")?,
            text("version")?,
            text("template")?,
            field(&rec, "inputs"),
        )
    }

    pub fn from_spec(spec: &TemplateSpec) -> Result<Compiled> {
        Compiled::new(&spec.id, &spec.version, &spec.template, Some(&spec.inputs))
    }

    /// Renders with `vars`, a MessagePack map of name -> value.
    pub fn render(&self, vars: &[u8]) -> Result<String> {
        let vars = decode_vars(vars)?;
        let ctx = coerce::context(&self.inputs, &vars)?;
        self.render_context(ctx)
    }

    /// The coerced template context for `vars` (a MessagePack map).
    pub fn context(&self, vars: &[u8]) -> Result<minijinja::Value> {
        coerce::context(&self.inputs, &decode_vars(vars)?)
    }

    /// Renders with an already coerced context (the benchmark's "minijinja direct" uses this
    /// with a context it built once).
    pub fn render_context(&self, ctx: minijinja::Value) -> Result<String> {
        let tmpl = self
            .env
            .get_template(NAME)
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        tmpl.render(ctx.clone())
            .map_err(|e| self.render_error(&e, &ctx))
    }

    fn render_error(&self, e: &minijinja::Error, ctx: &minijinja::Value) -> Error {
        let source = self
            .env
            .get_template(NAME)
            .map(|t| t.source().to_owned())
            .unwrap_or_default();
        let reason = reason(e, &source, ctx);
        let line = e.line().map(|l| format!(", line {l}")).unwrap_or_default();
        Error::new(
            ErrorKind::Render,
            format!(
                "{reason} (template '{}' version '{}'{line})",
                self.id, self.version
            ),
        )
    }
}

fn decode_vars(bytes: &[u8]) -> Result<Vec<(Mp, Mp)>> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    match decode_value(bytes, "render variables")? {
        Mp::Map(entries) => Ok(entries),
        Mp::Nil => Ok(Vec::new()),
        other => Err(Error::invalid(format!(
            "render variables must be a MessagePack map, got {}",
            crate::codec::kind_name(&other)
        ))),
    }
}

/// The Jinja2 wording of a render failure.
fn reason(e: &minijinja::Error, source: &str, ctx: &minijinja::Value) -> String {
    let detail = e.detail().unwrap_or_default();
    if e.kind() == MjKind::UndefinedError {
        // minijinja names the expression: "`user.tier` is undefined"; a filter's own
        // undefined error has no name, so take the expression from the error's span.
        let expr = detail
            .split('`')
            .nth(1)
            .map(str::to_owned)
            .or_else(|| filter_operand(source, e.range()?));
        return match expr {
            Some(expr) => undefined_message(&expr, ctx),
            None => "undefined value".to_owned(),
        };
    }
    if e.kind() == MjKind::UnknownFunction {
        if let Some(name) = detail.strip_suffix(" is unknown") {
            return format!("'{name}' is undefined");
        }
    }
    if let Some(what) = detail.strip_suffix(" is not iterable") {
        let ty = match what {
            "plain object" | "none" => "NoneType",
            "number" => "int",
            "bool" => "bool",
            other => other,
        };
        return format!("'{ty}' object is not iterable");
    }
    if let Some(calc) = detail.strip_prefix("unable to calculate ") {
        let parts: Vec<&str> = calc.split(' ').collect();
        if let [a, op, b] = parts.as_slice() {
            if b.trim_start_matches('-').parse::<f64>() == Ok(0.0) {
                let is_float = |x: &str| x.contains(['.', 'e', 'n', 'i']);
                let float = is_float(a) || is_float(b);
                return match (*op, float) {
                    ("/", false) => "division by zero",
                    ("/", true) => "float division by zero",
                    ("//", false) => "integer division or modulo by zero",
                    ("//", true) => "float floor division by zero",
                    ("%", false) => "integer modulo by zero",
                    ("%", true) => "float modulo",
                    _ => detail,
                }
                .to_owned();
            }
        }
    }
    match detail {
        "" => e.kind().to_string(),
        d => d.to_owned(),
    }
}

/// The operand of the filter whose call spans `range`: in `{{ user.name|upper }}` the span is
/// `upper`, the operand `user.name`.
fn filter_operand(source: &str, range: std::ops::Range<usize>) -> Option<String> {
    let before = source.get(..range.start)?.trim_end();
    let before = before.strip_suffix('|')?.trim_end();
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '"' | '\''))
        .last()
        .map(|(i, _)| i)?;
    Some(before[start..].to_owned())
}

/// Jinja2's StrictUndefined message for an expression like `a`, `a.b` or `a["k"]`.
fn undefined_message(expr: &str, ctx: &minijinja::Value) -> String {
    let (parent, attr) = match split_last_access(expr) {
        Some(parts) => parts,
        None => return format!("'{expr}' is undefined"),
    };
    let parent_value = env::BASE
        .compile_expression(parent)
        .ok()
        .and_then(|e| e.eval(ctx.clone()).ok())
        .filter(|v| !v.is_undefined());
    let owner = match &parent_value {
        Some(v) if value::is_none(v) => "None".to_owned(),
        Some(v) => format!("{} object", env::type_name(v)),
        None => "dict object".to_owned(),
    };
    match attr {
        Access::Attr(a) => format!("'{owner}' has no attribute '{a}'"),
        Access::Item(k) if k.starts_with(['"', '\'']) => {
            format!(
                "'{owner}' has no attribute '{}'",
                k.trim_matches(|c| c == '"' || c == '\'')
            )
        }
        Access::Item(k) => format!("{owner} has no element {k}"),
    }
}

enum Access<'a> {
    Attr(&'a str),
    Item(&'a str),
}

fn split_last_access(expr: &str) -> Option<(&str, Access<'_>)> {
    if let Some(inner) = expr.strip_suffix(']') {
        let open = inner.rfind('[')?;
        return Some((&expr[..open], Access::Item(&inner[open + 1..])));
    }
    let dot = expr.rfind('.')?;
    Some((&expr[..dot], Access::Attr(&expr[dot + 1..])))
}

/// Renders a spec that is not stored (a preview), compiling it on the spot.
pub fn preview(spec: &TemplateSpec, vars: &[u8]) -> Result<String> {
    Compiled::from_spec(spec)?.render(vars)
}

/// A bounded map of compiled templates, least recently used out first.
pub struct Cache {
    capacity: usize,
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    map: HashMap<Vec<u8>, Slot>,
    tick: u64,
}

struct Slot {
    record: Vec<u8>,
    compiled: Arc<Compiled>,
    used: u64,
}

impl Cache {
    /// `capacity` 0 means [`DEFAULT_CACHE_SIZE`].
    pub fn new(capacity: usize) -> Cache {
        Cache {
            capacity: if capacity == 0 {
                DEFAULT_CACHE_SIZE
            } else {
                capacity
            },
            slots: Mutex::new(Slots::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The compiled form of `record`, cached under `key`. A hit needs the stored record to be
    /// byte-identical to the one compiled, so a replaced version (or a new latest) recompiles.
    pub fn get(&self, key: &[u8], record: &[u8]) -> Result<Arc<Compiled>> {
        {
            let mut slots = self.lock();
            slots.tick += 1;
            let tick = slots.tick;
            if let Some(slot) = slots.map.get_mut(key) {
                if slot.record == record {
                    slot.used = tick;
                    return Ok(slot.compiled.clone());
                }
            }
        }
        let compiled = Arc::new(Compiled::from_record(record)?);
        let mut slots = self.lock();
        let tick = slots.tick;
        if slots.map.len() >= self.capacity && !slots.map.contains_key(key) {
            if let Some(oldest) = slots
                .map
                .iter()
                .min_by_key(|(_, s)| s.used)
                .map(|(k, _)| k.clone())
            {
                slots.map.remove(&oldest);
            }
        }
        slots.map.insert(
            key.to_vec(),
            Slot {
                record: record.to_vec(),
                compiled: compiled.clone(),
                used: tick,
            },
        );
        Ok(compiled)
    }

    /// How many compiled templates are held.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// `id NUL tag NUL name`: the tag keeps a version, an alias and "latest" apart.
fn cache_key(id: &[u8], tag: u8, name: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(id.len() + 3 + name.len());
    key.extend_from_slice(id);
    key.extend_from_slice(&[0, tag, 0]);
    key.extend_from_slice(name);
    key
}

/// Where a render finds its template.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Latest,
    Version(&'a [u8]),
    Alias(&'a [u8]),
}

impl Store {
    /// Renders template `id` (latest, a version, or an alias) with `vars`, a MessagePack map.
    pub fn render(&self, id: &[u8], target: Target<'_>, vars: &[u8]) -> Result<String> {
        self.compiled(id, target)?.render(vars)
    }

    /// The compiled template, from the cache when the stored record is unchanged.
    pub fn compiled(&self, id: &[u8], target: Target<'_>) -> Result<Arc<Compiled>> {
        let cache = &self.render_cache;
        match target {
            Target::Latest => self.with_template(id, None, |record| {
                cache.get(&cache_key(id, b'l', &[]), record)
            })?,
            Target::Version(v) => self.with_template(id, Some(v), |record| {
                cache.get(&cache_key(id, b'v', v), record)
            })?,
            Target::Alias(a) => self.with_template_by_alias(id, a, |record| {
                cache.get(&cache_key(id, b'a', a), record)
            })?,
        }
    }

    /// The compiled-template cache of this handle.
    pub fn render_cache(&self) -> &Cache {
        &self.render_cache
    }
}
