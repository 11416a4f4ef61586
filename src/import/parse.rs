//! One prompt file -> a validated template, an alias file, or the reason (with its line and
//! column) it cannot be imported. The rules are seed-formats.md §1, as the original
//! `LocalRegistry` + pydantic validated them, minus the silence: every refusal says why.

use super::yaml::{self, Kind, Node, Pos};
use crate::codec;
use crate::templates::{normalize_spec, TemplateSpec};
use rmpv::Value;
use std::path::{Path, PathBuf};

/// The top-level key of the file an export writes its aliases to.
pub const ALIASES_KEY: &str = "lmstore_aliases";
/// An exported older version carries its id under this key instead of `id`, so the original
/// `LocalRegistry` (which returns the first file whose `id` matches) can only find the latest.
pub const ARCHIVED_ID_KEY: &str = "archived_id";

const INPUT_TYPES: [&str; 5] = ["string", "number", "boolean", "array<string>", "object"];

/// Why a file was not imported, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Skip {
    pub reason: String,
    pub pos: Pos,
}

fn skip<T>(pos: Pos, reason: impl Into<String>) -> Result<T, Skip> {
    Err(Skip {
        reason: reason.into(),
        pos,
    })
}

/// What a file holds.
#[derive(Debug, Clone)]
pub enum Parsed {
    Template {
        spec: TemplateSpec,
        /// Written by an export as an older version (`archived_id`), not the latest.
        archived: bool,
        /// Where the `id` is, for reports about the id+version.
        id_pos: Pos,
    },
    /// id -> alias -> version.
    Aliases(Vec<(String, Vec<(String, String)>)>),
}

/// Every `.yaml` / `.yml` file under `root`, recursively, in byte order of their paths.
/// Symlinked directories are not followed (no loops); unreadable directories are errors.
pub fn walk(root: &Path) -> crate::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(root).map_err(|e| {
        crate::Error::new(
            if e.kind() == std::io::ErrorKind::NotFound {
                crate::ErrorKind::NotFound
            } else {
                crate::ErrorKind::Io
            },
            format!("prompt folder {}: {e}", root.display()),
        )
    })?;
    if !meta.is_dir() {
        return Err(crate::Error::invalid(format!(
            "{} is not a folder",
            root.display()
        )));
    }
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            crate::Error::new(
                crate::ErrorKind::Io,
                format!("reading folder {}: {e}", dir.display()),
            )
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| {
                crate::Error::new(
                    crate::ErrorKind::Io,
                    format!("reading folder {}: {e}", dir.display()),
                )
            })?;
            let path = entry.path();
            let ty = entry.file_type().map_err(|e| {
                crate::Error::new(crate::ErrorKind::Io, format!("{}: {e}", path.display()))
            })?;
            if ty.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) && !ty.is_dir()
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn get<'a>(entries: &'a [(Node, Node)], key: &str) -> Option<&'a Node> {
    entries
        .iter()
        .find(|(k, _)| matches!(&k.kind, Kind::Str(s) if s == key))
        .map(|(_, v)| v)
}

fn text_field(entries: &[(Node, Node)], key: &str) -> Result<Option<String>, Skip> {
    match get(entries, key) {
        None => Ok(None),
        Some(Node {
            kind: Kind::Str(s), ..
        }) => Ok(Some(s.clone())),
        Some(n) if key == "version" && matches!(n.kind, Kind::Int(_) | Kind::Float(_)) => skip(
            n.pos,
            format!(
                "version is written as a number ({}), which YAML reads as {}; quote it",
                number_text(&n.kind),
                yaml::kind_word(&n.kind)
            ),
        ),
        Some(n) => skip(
            n.pos,
            format!("{key} must be a string, found {}", yaml::kind_word(&n.kind)),
        ),
    }
}

fn number_text(kind: &Kind) -> String {
    match kind {
        Kind::Int(i) => i.to_string(),
        Kind::Float(f) => format!("{f:?}"),
        _ => String::new(),
    }
}

fn value(node: &Node) -> Result<Value, Skip> {
    yaml::to_value(node).map_err(|e| Skip {
        reason: e.message,
        pos: e.pos,
    })
}

fn default_matches(ty: &str, v: &Kind) -> bool {
    match ty {
        "string" => matches!(v, Kind::Str(_)),
        "number" => matches!(v, Kind::Int(_) | Kind::Float(_)),
        "boolean" => matches!(v, Kind::Bool(_)),
        "array<string>" => {
            matches!(v, Kind::Seq(items) if items.iter().all(|i| matches!(i.kind, Kind::Str(_))))
        }
        _ => matches!(v, Kind::Map(_)),
    }
}

fn inputs(node: Option<&Node>) -> Result<Value, Skip> {
    let Some(node) = node else {
        return Ok(Value::Map(Vec::new()));
    };
    let entries = match &node.kind {
        Kind::Null => return Ok(Value::Map(Vec::new())),
        Kind::Map(e) => e,
        other => {
            return skip(
                node.pos,
                format!("inputs must be a map, found {}", yaml::kind_word(other)),
            )
        }
    };
    let mut out = Vec::with_capacity(entries.len());
    for (k, decl) in entries {
        let Kind::Str(name) = &k.kind else {
            return skip(
                k.pos,
                format!(
                    "input names must be strings, found {}",
                    yaml::kind_word(&k.kind)
                ),
            );
        };
        let fields = match &decl.kind {
            Kind::Map(f) => f,
            other => {
                return skip(
                    decl.pos,
                    format!(
                        "input '{name}' must be a map of type/required/default, found {}",
                        yaml::kind_word(other)
                    ),
                )
            }
        };
        let ty = match get(fields, "type") {
            None => "string".to_owned(),
            Some(Node {
                kind: Kind::Str(t),
                pos,
            }) => {
                if !INPUT_TYPES.contains(&t.as_str()) {
                    return skip(
                        *pos,
                        format!(
                            "input '{name}' has type '{t}'; expected one of {}",
                            INPUT_TYPES.join(", ")
                        ),
                    );
                }
                t.clone()
            }
            Some(n) => {
                return skip(
                    n.pos,
                    format!(
                        "input '{name}' type must be a string, found {}",
                        yaml::kind_word(&n.kind)
                    ),
                )
            }
        };
        let required = match get(fields, "required") {
            None => true,
            Some(Node {
                kind: Kind::Bool(b),
                ..
            }) => *b,
            Some(n) => {
                return skip(
                    n.pos,
                    format!(
                        "input '{name}' required must be a boolean, found {}",
                        yaml::kind_word(&n.kind)
                    ),
                )
            }
        };
        let mut norm = vec![
            (Value::from("type"), Value::from(ty.as_str())),
            (Value::from("required"), Value::from(required)),
        ];
        if let Some(d) = get(fields, "default").filter(|d| d.kind != Kind::Null) {
            if !default_matches(&ty, &d.kind) {
                return skip(
                    d.pos,
                    format!(
                        "input '{name}' has a default of {} that does not match its type '{ty}'",
                        yaml::kind_word(&d.kind)
                    ),
                );
            }
            norm.push((Value::from("default"), value(d)?));
        }
        // The original ignores an input's other keys; a description is kept (lmstore has it).
        if let Some(Node {
            kind: Kind::Str(d), ..
        }) = get(fields, "description")
        {
            norm.push((Value::from("description"), Value::from(d.as_str())));
        }
        out.push((Value::from(name.as_str()), Value::Map(norm)));
    }
    Ok(Value::Map(out))
}

fn metadata(node: Option<&Node>) -> Result<Value, Skip> {
    match node {
        None => Ok(Value::Map(Vec::new())),
        Some(n) => match &n.kind {
            Kind::Null => Ok(Value::Map(Vec::new())),
            Kind::Map(entries) => {
                if let Some((k, _)) = entries
                    .iter()
                    .find(|(k, _)| !matches!(k.kind, Kind::Str(_)))
                {
                    return skip(
                        k.pos,
                        format!(
                            "metadata keys must be strings, found {}",
                            yaml::kind_word(&k.kind)
                        ),
                    );
                }
                value(n)
            }
            other => skip(
                n.pos,
                format!("metadata must be a map, found {}", yaml::kind_word(other)),
            ),
        },
    }
}

fn aliases(node: &Node) -> Result<Parsed, Skip> {
    let bad = |n: &Node| {
        skip(
            n.pos,
            format!("{ALIASES_KEY} must map template ids to maps of alias -> version"),
        )
    };
    let Kind::Map(ids) = &node.kind else {
        return bad(node);
    };
    let mut out = Vec::new();
    for (id, names) in ids {
        let (Kind::Str(id), Kind::Map(names)) = (&id.kind, &names.kind) else {
            return bad(id);
        };
        let mut pairs = Vec::new();
        for (alias, version) in names {
            let (Kind::Str(a), Kind::Str(v)) = (&alias.kind, &version.kind) else {
                return bad(alias);
            };
            pairs.push((a.clone(), v.clone()));
        }
        out.push((id.clone(), pairs));
    }
    Ok(Parsed::Aliases(out))
}

/// Reads one file's text into what it holds, or the reason it is skipped.
pub fn parse(text: &str) -> Result<Parsed, Skip> {
    let doc = yaml::load(text).map_err(|e| Skip {
        reason: format!("YAML parse error: {}", e.message),
        pos: e.pos,
    })?;
    let start = Pos { line: 1, col: 1 };
    let Some(doc) = doc else {
        return skip(start, "the file is empty");
    };
    let entries = match &doc.kind {
        Kind::Map(e) => e,
        other => {
            return skip(
                doc.pos,
                format!(
                    "the file holds {}, not a map of template fields",
                    yaml::kind_word(other)
                ),
            )
        }
    };
    if let Some(a) = get(entries, ALIASES_KEY) {
        return aliases(a);
    }
    let (id_node, archived) = match (get(entries, "id"), get(entries, ARCHIVED_ID_KEY)) {
        (Some(n), _) => (n, false),
        (None, Some(n)) => (n, true),
        (None, None) => return skip(doc.pos, "no `id`: every template file needs one"),
    };
    let id = match &id_node.kind {
        Kind::Str(s) if s.is_empty() => return skip(id_node.pos, "id is empty"),
        Kind::Str(s) => s.clone(),
        other => {
            return skip(
                id_node.pos,
                format!("id must be a string, found {}", yaml::kind_word(other)),
            )
        }
    };
    let version = text_field(entries, "version")?;
    if get(entries, "version").is_some_and(|v| v.kind == Kind::Null) {
        return skip(
            get(entries, "version").map_or(doc.pos, |v| v.pos),
            "version must be a string, found null",
        );
    }
    let template = match get(entries, "template") {
        None => return skip(doc.pos, format!("template '{id}' has no `template` text")),
        Some(_) => text_field(entries, "template")?,
    };
    // The store refuses a text that does not compile at put; checked here too, so the report
    // points at the template in the file (the reason gives the place inside the text).
    if let (Some(text), Some(node)) = (&template, get(entries, "template")) {
        if let Err(c) = crate::render::check_compiles(text) {
            return skip(
                node.pos,
                format!("template does not compile: {c} of the template text"),
            );
        }
    }
    let description = match get(entries, "description") {
        Some(Node {
            kind: Kind::Null, ..
        }) => None,
        _ => text_field(entries, "description")?,
    };
    let created_at = match get(entries, "created_at") {
        None => None,
        Some(Node {
            kind: Kind::Int(t),
            pos,
        }) => Some(i64::try_from(*t).map_err(|_| Skip {
            reason: "created_at is out of range".into(),
            pos: *pos,
        })?),
        Some(n) => {
            return skip(
                n.pos,
                format!(
                    "created_at must be an integer (µs since the epoch), found {}",
                    yaml::kind_word(&n.kind)
                ),
            )
        }
    };
    let mut map = vec![
        (Value::from("id"), Value::from(id.as_str())),
        (
            Value::from("template"),
            Value::from(template.unwrap_or_default()),
        ),
        (Value::from("inputs"), inputs(get(entries, "inputs"))?),
        (Value::from("metadata"), metadata(get(entries, "metadata"))?),
    ];
    if let Some(v) = version {
        if v.is_empty() {
            return skip(
                get(entries, "version").map_or(doc.pos, |n| n.pos),
                "version is empty",
            );
        }
        map.push((Value::from("version"), Value::from(v)));
    }
    if let Some(d) = description {
        map.push((Value::from("description"), Value::from(d)));
    }
    if let Some(t) = created_at {
        map.push((Value::from("created_at"), Value::from(t)));
    }
    let spec = normalize_spec(&codec::encode(&Value::Map(map))).map_err(|e| Skip {
        reason: e.message,
        pos: id_node.pos,
    })?;
    Ok(Parsed::Template {
        spec,
        archived,
        id_pos: id_node.pos,
    })
}
