//! Folders of YAML prompt files (seed-formats.md §1) in and out of a store: import with a
//! report that gives every file an outcome, verification of an import, and export to files the
//! original `LocalRegistry` loads. See docs/import.md.

mod export;
pub mod parse;
pub mod yaml;

pub use export::ExportReport;
pub use parse::{Parsed, Skip};
pub use yaml::Pos;

use crate::error::{Error, ErrorKind, Result};
use crate::storage::{ReadTxn, WriteTxn};
use crate::templates::{self, PutOutcome, TemplateSpec};
use crate::Store;
use rmp::encode as w;
use std::path::Path;

/// How an import writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Report what would happen, write nothing.
    pub dry_run: bool,
    /// One transaction for the whole folder: any skipped or conflicting file and nothing is
    /// written. Otherwise file by file: a file's failure touches no other file.
    pub atomic: bool,
    /// An existing id+version with a different body is replaced instead of a conflict.
    pub replace: bool,
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Imported,
    Unchanged,
    Replaced,
    Conflict,
    Skipped,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Imported => "imported",
            Outcome::Unchanged => "unchanged",
            Outcome::Replaced => "replaced",
            Outcome::Conflict => "conflict",
            Outcome::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    /// Relative to the imported folder.
    pub path: String,
    pub outcome: Outcome,
    pub id: Option<String>,
    pub version: Option<String>,
    /// Why a file was skipped or conflicts; empty otherwise.
    pub reason: String,
    /// Where the reason points (1-based); 0 when it concerns the whole file.
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
    pub dry_run: bool,
    pub atomic: bool,
    /// Whether the writes were committed (false for a dry run and for an atomic import that
    /// met a skipped or conflicting file).
    pub committed: bool,
}

impl ImportReport {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.files.iter().filter(|f| f.outcome == outcome).count()
    }

    /// The report as a MessagePack map (the form that crosses the ABI; docs/import.md).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.files.len() * 96);
        let _ = w::write_map_len(&mut out, 9);
        for (k, v) in [
            ("dry_run", self.dry_run),
            ("atomic", self.atomic),
            ("committed", self.committed),
        ] {
            let _ = w::write_str(&mut out, k);
            let _ = w::write_bool(&mut out, v);
        }
        for o in [
            Outcome::Imported,
            Outcome::Unchanged,
            Outcome::Replaced,
            Outcome::Conflict,
            Outcome::Skipped,
        ] {
            let _ = w::write_str(&mut out, o.name());
            let _ = w::write_uint(&mut out, self.count(o) as u64);
        }
        let _ = w::write_str(&mut out, "files");
        let _ = w::write_array_len(&mut out, self.files.len() as u32);
        for f in &self.files {
            let _ = w::write_map_len(&mut out, 7);
            let _ = w::write_str(&mut out, "path");
            let _ = w::write_str(&mut out, &f.path);
            let _ = w::write_str(&mut out, "outcome");
            let _ = w::write_str(&mut out, f.outcome.name());
            for (k, v) in [("id", &f.id), ("version", &f.version)] {
                let _ = w::write_str(&mut out, k);
                match v {
                    Some(s) => {
                        let _ = w::write_str(&mut out, s);
                    }
                    None => {
                        let _ = w::write_nil(&mut out);
                    }
                }
            }
            let _ = w::write_str(&mut out, "reason");
            let _ = w::write_str(&mut out, &f.reason);
            let _ = w::write_str(&mut out, "line");
            let _ = w::write_uint(&mut out, f.line as u64);
            let _ = w::write_str(&mut out, "column");
            let _ = w::write_uint(&mut out, f.column as u64);
        }
        out
    }
}

/// Progress: (done, known). Called from the importing thread.
pub type Progress<'a> = dyn FnMut(u64, u64) + 'a;

/// One file read and classified, before any write.
struct Loaded {
    report: FileReport,
    parsed: Option<Parsed>,
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

fn load_file(root: &Path, path: &Path) -> Loaded {
    let mut report = FileReport {
        path: relative(root, path),
        outcome: Outcome::Skipped,
        id: None,
        version: None,
        reason: String::new(),
        line: 0,
        column: 0,
    };
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            // PyYAML drops a UTF-8 byte order mark.
            Ok(t) => t.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(t),
            Err(e) => {
                report.reason = format!(
                    "the file is not UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                );
                return Loaded {
                    report,
                    parsed: None,
                };
            }
        },
        Err(e) => {
            report.reason = format!("cannot read the file: {e}");
            return Loaded {
                report,
                parsed: None,
            };
        }
    };
    match parse::parse(&text) {
        Ok(parsed) => {
            if let Parsed::Template { spec, .. } = &parsed {
                report.id = Some(spec.id.clone());
                report.version = Some(spec.version.clone());
            }
            Loaded {
                report,
                parsed: Some(parsed),
            }
        }
        Err(s) => {
            report.reason = s.reason;
            report.line = s.pos.line;
            report.column = s.pos.col;
            Loaded {
                report,
                parsed: None,
            }
        }
    }
}

fn same_body(a: &TemplateSpec, b: &TemplateSpec) -> bool {
    TemplateSpec {
        created_at: None,
        ..a.clone()
    } == TemplateSpec {
        created_at: None,
        ..b.clone()
    }
}

/// Reads and validates every file of `root`; files claiming one id+version with different
/// bodies are all skipped (which one is meant cannot be known), identical ones after the
/// first are reported unchanged.
fn load_folder(root: &Path) -> Result<Vec<Loaded>> {
    let mut loaded: Vec<Loaded> = parse::walk(root)?
        .iter()
        .map(|p| load_file(root, p))
        .collect();
    let mut first: std::collections::HashMap<(String, String), usize> = Default::default();
    let mut clash: Vec<(usize, usize)> = Vec::new();
    let mut dup: Vec<(usize, usize)> = Vec::new();
    for (i, l) in loaded.iter().enumerate() {
        if let Some(Parsed::Template { spec, .. }) = &l.parsed {
            let key = (spec.id.clone(), spec.version.clone());
            match first.get(&key) {
                None => {
                    first.insert(key, i);
                }
                Some(&j) => match &loaded[j].parsed {
                    Some(Parsed::Template { spec: other, .. }) if same_body(spec, other) => {
                        dup.push((i, j))
                    }
                    _ => clash.push((i, j)),
                },
            }
        }
    }
    for (i, j) in dup {
        let other = loaded[j].report.path.clone();
        let l = &mut loaded[i];
        l.parsed = None;
        l.report.outcome = Outcome::Unchanged;
        l.report.reason = format!("same id+version and body as {other}");
    }
    for (i, j) in clash {
        for (me, other) in [(i, j), (j, i)] {
            let other_path = loaded[other].report.path.clone();
            let pos = match &loaded[me].parsed {
                Some(Parsed::Template { id_pos, .. }) => *id_pos,
                _ => Pos::default(),
            };
            let l = &mut loaded[me];
            if l.parsed.is_some() || l.report.reason.is_empty() {
                l.parsed = None;
                l.report.outcome = Outcome::Skipped;
                l.report.line = pos.line;
                l.report.column = pos.col;
                l.report.reason = format!(
                    "{other_path} has the same id+version with a different body; which one is meant cannot be told"
                );
            }
        }
    }
    Ok(loaded)
}

/// Marks an atomic or dry run's transaction for rollback once the report is complete.
const ROLLBACK: &str = "lmstore import: roll back";

fn put_one(txn: &mut impl WriteTxn, spec: &TemplateSpec, replace: bool, report: &mut FileReport) {
    match templates::put(txn, spec, replace) {
        Ok(PutOutcome::Created) => report.outcome = Outcome::Imported,
        Ok(PutOutcome::Unchanged) => report.outcome = Outcome::Unchanged,
        Ok(PutOutcome::Replaced) => report.outcome = Outcome::Replaced,
        Err(e) if e.kind == ErrorKind::Conflict => {
            report.outcome = Outcome::Conflict;
            report.reason = e.message;
        }
        Err(e) => {
            report.outcome = Outcome::Skipped;
            report.reason = skip_reason(&e);
        }
    }
}

/// The words of a put refusal in a report.
fn skip_reason(e: &Error) -> String {
    if e.kind == ErrorKind::Render {
        return format!("template does not compile: {}", e.message);
    }
    e.message.clone()
}

fn set_aliases(
    txn: &mut impl WriteTxn,
    aliases: &[(String, Vec<(String, String)>)],
    report: &mut FileReport,
) -> Result<()> {
    let mut changed = false;
    for (id, pairs) in aliases {
        for (alias, version) in pairs {
            let current = templates::resolve_alias(txn, id.as_bytes(), alias.as_bytes()).ok();
            if current.as_deref() == Some(version.as_bytes()) {
                continue;
            }
            if let Err(e) =
                templates::set_alias(txn, id.as_bytes(), alias.as_bytes(), version.as_bytes())
            {
                report.outcome = Outcome::Skipped;
                report.reason = format!("alias '{alias}' of '{id}': {}", e.message);
                return Ok(());
            }
            changed = true;
        }
    }
    report.outcome = if changed {
        Outcome::Imported
    } else {
        Outcome::Unchanged
    };
    Ok(())
}

/// The order puts happen in: versions with a known creation time by that time (so the latest
/// of an id stays the latest), archived before current ones, then file order.
fn put_order(loaded: &[Loaded]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..loaded.len()).collect();
    order.sort_by_key(|&i| match &loaded[i].parsed {
        Some(Parsed::Template { spec, archived, .. }) => (
            0u8,
            spec.created_at.is_none(),
            spec.created_at.unwrap_or(0),
            !archived,
            i,
        ),
        // Aliases point at versions, so they go after every template.
        Some(Parsed::Aliases(_)) => (1, false, 0, false, i),
        None => (2, false, 0, false, i),
    });
    order
}

/// How many files one write transaction takes in a file-by-file import: a put that fails
/// writes nothing, so batching changes no outcome and saves a flush per file.
const CHUNK: usize = 256;

fn apply(
    txn: &mut impl WriteTxn,
    loaded: &[Loaded],
    order: &[usize],
    reports: &mut [FileReport],
    replace: bool,
) -> Result<()> {
    for &i in order {
        let report = &mut reports[i];
        match &loaded[i].parsed {
            Some(Parsed::Template { spec, .. }) => put_one(txn, spec, replace, report),
            Some(Parsed::Aliases(a)) => set_aliases(txn, a, report)?,
            None => {}
        }
    }
    Ok(())
}

fn is_failure(r: &FileReport) -> bool {
    matches!(r.outcome, Outcome::Skipped | Outcome::Conflict)
}

impl Store {
    /// Imports every `.yaml`/`.yml` file under `root` (see [`ImportOptions`]); every file gets
    /// an outcome in the report. Fails as a whole only when the folder cannot be read or the
    /// store cannot be written.
    pub fn import_folder(
        &self,
        root: &Path,
        opts: ImportOptions,
        progress: &mut Progress<'_>,
    ) -> Result<ImportReport> {
        let loaded = load_folder(root)?;
        let total = loaded.len() as u64;
        progress(0, total);
        let order = put_order(&loaded);
        let base: Vec<FileReport> = loaded.iter().map(|l| l.report.clone()).collect();
        let mut reports = base.clone();
        let mut committed = false;
        if opts.atomic || opts.dry_run {
            let result = self.write(|txn| {
                reports = base.clone();
                apply(txn, &loaded, &order, &mut reports, opts.replace)?;
                if opts.dry_run || reports.iter().any(is_failure) {
                    return Err(Error::new(ErrorKind::Internal, ROLLBACK));
                }
                Ok(())
            });
            match result {
                Ok(()) => committed = true,
                Err(e) if e.message == ROLLBACK => {}
                Err(e) => return Err(e),
            }
            progress(total, total);
        } else {
            for (n, chunk) in order.chunks(CHUNK).enumerate() {
                let before: Vec<FileReport> = chunk.iter().map(|&i| base[i].clone()).collect();
                self.write(|txn| {
                    for (&i, b) in chunk.iter().zip(&before) {
                        reports[i] = b.clone();
                    }
                    apply(txn, &loaded, chunk, &mut reports, opts.replace)
                })?;
                progress(((n * CHUNK + chunk.len()) as u64).min(total), total);
            }
            committed = true;
        }
        Ok(ImportReport {
            files: reports,
            dry_run: opts.dry_run,
            atomic: opts.atomic,
            committed,
        })
    }

    /// Re-reads `root` and compares it with the store: which templates of the folder are in
    /// the store with the same body, which differ, which are missing, and which templates the
    /// store has that the folder does not.
    pub fn verify_import(&self, root: &Path) -> Result<VerifyReport> {
        let loaded = load_folder(root)?;
        self.read(|txn| verify(txn, &loaded))
    }
}

/// The result of [`Store::verify_import`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerifyReport {
    pub matched: u64,
    /// (path, id, version) whose stored body differs.
    pub mismatched: Vec<(String, String, String)>,
    /// (path, id, version) not in the store.
    pub missing: Vec<(String, String, String)>,
    /// (id, version) in the store but in no file.
    pub extra: Vec<(String, String)>,
    /// Files that could not be compared (they would be skipped by an import).
    pub skipped: u64,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.mismatched.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = w::write_map_len(&mut out, 6);
        let _ = w::write_str(&mut out, "clean");
        let _ = w::write_bool(&mut out, self.is_clean());
        let _ = w::write_str(&mut out, "matched");
        let _ = w::write_uint(&mut out, self.matched);
        let _ = w::write_str(&mut out, "skipped");
        let _ = w::write_uint(&mut out, self.skipped);
        for (name, list) in [("mismatched", &self.mismatched), ("missing", &self.missing)] {
            let _ = w::write_str(&mut out, name);
            let _ = w::write_array_len(&mut out, list.len() as u32);
            for (path, id, version) in list {
                let _ = w::write_map_len(&mut out, 3);
                for (k, v) in [("path", path), ("id", id), ("version", version)] {
                    let _ = w::write_str(&mut out, k);
                    let _ = w::write_str(&mut out, v);
                }
            }
        }
        let _ = w::write_str(&mut out, "extra");
        let _ = w::write_array_len(&mut out, self.extra.len() as u32);
        for (id, version) in &self.extra {
            let _ = w::write_map_len(&mut out, 2);
            for (k, v) in [("id", id), ("version", version)] {
                let _ = w::write_str(&mut out, k);
                let _ = w::write_str(&mut out, v);
            }
        }
        out
    }
}

/// Every (id, version) in the store, ids in byte order, versions in put order.
pub(crate) fn all_versions(txn: &impl ReadTxn) -> Result<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    let mut after = Vec::new();
    loop {
        let page = templates::list_ids(txn, b"", &after, templates::MAX_LIST)?;
        let ids = crate::codec::decode_value(&page, "id list")?;
        let ids: Vec<String> = ids
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if ids.is_empty() {
            return Ok(out);
        }
        for id in &ids {
            let versions = templates::list_versions(txn, id.as_bytes())?;
            let versions = crate::codec::decode_value(&versions, "version list")?;
            let list = versions
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|m| {
                            crate::codec::field(m, "version")
                                .and_then(|v| v.as_str())
                                .map(str::to_owned)
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push((id.clone(), list));
        }
        after = ids
            .last()
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default();
        if (ids.len() as u32) < templates::MAX_LIST {
            return Ok(out);
        }
    }
}

fn verify(txn: &impl ReadTxn, loaded: &[Loaded]) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    let mut seen = std::collections::HashSet::new();
    for l in loaded {
        let Some(Parsed::Template { spec, .. }) = &l.parsed else {
            if l.report.outcome == Outcome::Skipped {
                report.skipped += 1;
            }
            continue;
        };
        seen.insert((spec.id.clone(), spec.version.clone()));
        let entry = (l.report.path.clone(), spec.id.clone(), spec.version.clone());
        match templates::get(txn, spec.id.as_bytes(), Some(spec.version.as_bytes())) {
            Ok(record) => {
                if spec.same_content_as(record)? {
                    report.matched += 1;
                } else {
                    report.mismatched.push(entry);
                }
            }
            Err(e) if e.kind == ErrorKind::NotFound => report.missing.push(entry),
            Err(e) => return Err(e),
        }
    }
    for (id, versions) in all_versions(txn)? {
        for v in versions {
            if !seen.contains(&(id.clone(), v.clone())) {
                report.extra.push((id.clone(), v));
            }
        }
    }
    Ok(report)
}
