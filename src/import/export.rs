//! Export to a folder of YAML files: `<id>.yaml` holds the latest version of each id (the one the
//! original `LocalRegistry` finds), `versions/<id>/<version>.yaml` each older version (its id under
//! `archived_id`, so the original never returns it), `lmstore-aliases.yaml` the aliases. Every
//! scalar is written so that PyYAML's YAML 1.1 typing reads back exactly the stored value.

use super::parse::{ALIASES_KEY, ARCHIVED_ID_KEY};
use crate::codec::{decode_value, field};
use crate::error::{Error, ErrorKind, Result};
use crate::templates;
use crate::Store;
use rmpv::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const ALIASES_FILE: &str = "lmstore-aliases.yaml";

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    pub templates: u64,
    pub versions: u64,
    pub aliases: u64,
    pub files: u64,
}

impl ExportReport {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = rmp::encode::write_map_len(&mut out, 4);
        for (k, v) in [
            ("templates", self.templates),
            ("versions", self.versions),
            ("aliases", self.aliases),
            ("files", self.files),
        ] {
            let _ = rmp::encode::write_str(&mut out, k);
            let _ = rmp::encode::write_uint(&mut out, v);
        }
        out
    }
}

/// A file name for an id or version: bytes outside `[A-Za-z0-9._-]` (and a leading dot) are
/// percent-encoded, so any id maps to one file and never escapes the folder.
fn file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, b) in name.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A character YAML must see escaped inside a double-quoted scalar: PyYAML refuses
/// non-printable characters in a file, and folds raw line breaks.
fn needs_escape(c: char) -> bool {
    !matches!(c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

fn quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let n = c as u32;
                if n <= 0xFF {
                    let _ = write!(out, "\\x{n:02X}");
                } else if n <= 0xFFFF {
                    let _ = write!(out, "\\u{n:04X}");
                } else {
                    let _ = write!(out, "\\U{n:08X}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as YAML 1.1 reads it back: a dot is required, an exponent needs its sign.
fn float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str(".nan");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { ".inf" } else { "-.inf" });
    } else {
        let repr = format!("{f:?}");
        let (mantissa, exp) = match repr.split_once('e') {
            Some((m, e)) => (m.to_owned(), Some(e.to_owned())),
            None => (repr, None),
        };
        out.push_str(&mantissa);
        if !mantissa.contains('.') {
            out.push_str(".0");
        }
        if let Some(e) = exp {
            out.push('e');
            if !e.starts_with('-') {
                out.push('+');
            }
            out.push_str(&e);
        }
    }
}

/// A value in flow style (JSON-like), which needs no indentation bookkeeping.
fn flow(v: &Value, out: &mut String) -> Result<()> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::F32(f) => float(*f as f64, out),
        Value::F64(f) => float(*f, out),
        Value::String(s) => match s.as_str() {
            Some(s) => quoted(s, out),
            None => return Err(Error::invalid("a stored string is not UTF-8")),
        },
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(item, out)?;
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(k, out)?;
                out.push_str(": ");
                flow(v, out)?;
            }
            out.push('}');
        }
        Value::Binary(_) | Value::Ext(..) => {
            return Err(Error::invalid(
                "binary and extension values have no YAML form PyYAML's safe_load reads back",
            ))
        }
    }
    Ok(())
}

/// A template's text as a literal block when that reads back exactly, else double-quoted.
fn text_block(s: &str, out: &mut String) {
    let plain_lines = !s.is_empty()
        && !s.starts_with([' ', '\t', '\n'])
        && !s.contains('\r')
        && !s.chars().any(|c| c != '\n' && c != '\t' && needs_escape(c))
        && s.lines()
            .all(|l| !l.ends_with([' ', '\t']) && !l.starts_with('\t'));
    if !plain_lines {
        quoted(s, out);
        out.push('\n');
        return;
    }
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    for line in s
        .split('\n')
        .take(body.split('\n').count() + trailing.saturating_sub(1))
    {
        if !line.is_empty() {
            out.push_str("  ");
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn yaml_file(record: &Value, archived: bool) -> Result<String> {
    let mut out = String::with_capacity(512);
    let text = |name: &str| field(record, name).and_then(Value::as_str);
    out.push_str(if archived { ARCHIVED_ID_KEY } else { "id" });
    out.push_str(": ");
    quoted(text("id").unwrap_or_default(), &mut out);
    out.push_str("\nversion: ");
    quoted(text("version").unwrap_or_default(), &mut out);
    out.push('\n');
    if let Some(d) = text("description") {
        out.push_str("description: ");
        quoted(d, &mut out);
        out.push('\n');
    }
    if let Some(Value::Integer(t)) = field(record, "created_at") {
        let _ = writeln!(out, "created_at: {t}");
    }
    out.push_str("inputs:");
    match field(record, "inputs") {
        Some(Value::Map(inputs)) if !inputs.is_empty() => {
            out.push('\n');
            for (name, decl) in inputs {
                out.push_str("  ");
                flow(name, &mut out)?;
                out.push_str(": ");
                flow(decl, &mut out)?;
                out.push('\n');
            }
        }
        _ => out.push_str(" {}\n"),
    }
    out.push_str("metadata: ");
    flow(
        field(record, "metadata").unwrap_or(&Value::Map(Vec::new())),
        &mut out,
    )?;
    out.push_str("\ntemplate: ");
    text_block(text("template").unwrap_or_default(), &mut out);
    Ok(out)
}

fn write_file(path: &Path, body: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("creating folder {}: {e}", dir.display()),
            )
        })?;
    }
    std::fs::write(path, body)
        .map_err(|e| Error::new(ErrorKind::Io, format!("writing {}: {e}", path.display())))
}

impl Store {
    /// Writes every template version of the store to `dir` (created; it must be empty if it
    /// exists), one YAML file per version, as the module documentation lays out.
    pub fn export_folder(&self, dir: &Path) -> Result<ExportReport> {
        if let Ok(mut entries) = std::fs::read_dir(dir) {
            if entries.next().is_some() {
                return Err(Error::invalid(format!(
                    "export folder {} is not empty; export into a new or empty folder",
                    dir.display()
                )));
            }
        } else if dir.exists() {
            return Err(Error::invalid(format!(
                "{} exists and is not a folder",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("creating folder {}: {e}", dir.display()),
            )
        })?;
        let mut report = ExportReport::default();
        let mut aliases = String::new();
        // One read transaction per id keeps each id consistent without pinning the whole
        // store's old pages for the length of the export.
        let ids = self.read(|txn| super::all_versions(txn))?;
        for (id, versions) in ids {
            let (files, id_aliases) = self.read(|txn| {
                let latest = decode_value(templates::get(txn, id.as_bytes(), None)?, "template")?;
                let latest_version = field(&latest, "version")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let mut files: Vec<(PathBuf, String)> = Vec::new();
                for v in &versions {
                    let rec = decode_value(
                        templates::get(txn, id.as_bytes(), Some(v.as_bytes()))?,
                        "template",
                    )?;
                    let archived = *v != latest_version;
                    let body = yaml_file(&rec, archived)
                        .map_err(|e| e.context(&format!("template '{id}' version '{v}'")))?;
                    let path = if archived {
                        dir.join("versions")
                            .join(file_name(&id))
                            .join(format!("{}.yaml", file_name(v)))
                    } else {
                        dir.join(format!("{}.yaml", file_name(&id)))
                    };
                    files.push((path, body));
                }
                let list = decode_value(&templates::list_aliases(txn, id.as_bytes())?, "aliases")?;
                Ok((files, list))
            })?;
            for (path, body) in &files {
                write_file(path, body)?;
            }
            report.templates += 1;
            report.versions += files.len() as u64;
            report.files += files.len() as u64;
            if let Value::Map(pairs) = id_aliases {
                if !pairs.is_empty() {
                    aliases.push_str("  ");
                    quoted(&id, &mut aliases);
                    aliases.push_str(": ");
                    flow(&Value::Map(pairs.clone()), &mut aliases)?;
                    aliases.push('\n');
                    report.aliases += pairs.len() as u64;
                }
            }
        }
        if !aliases.is_empty() {
            write_file(
                &dir.join(ALIASES_FILE),
                &format!("{ALIASES_KEY}:\n{aliases}"),
            )?;
            report.files += 1;
        }
        Ok(report)
    }
}
