//! Migration of the two LMDB layouts lmstore replaces (seed-formats.md §3 and §4) into a store.
//! The source is opened read-only through [`crate::lmdb::foreign`] and streamed in batches;
//! whatever lmstore does not model goes whole to a JSON Lines side file; a run ends with a
//! record-by-record verification; a second run changes nothing and says so. The field mapping
//! is in docs/migration.md.

mod promptlightning;
pub mod tkr;

use crate::error::{Error, ErrorKind, Result};
use crate::lmdb::foreign::{ForeignEnv, ForeignTxn};
use crate::Store;
use rmp::encode as w;
use rmpv::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Which layout a source has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// promptlightning's `LMDBRegistry` (§3).
    Promptlightning,
    /// tkr-agent-chat's message store (§4).
    TkrAgentChat,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Promptlightning => "promptlightning",
            SourceKind::TkrAgentChat => "tkr-agent-chat",
        }
    }
}

/// How many source records one write transaction takes. Migrated messages keep their random
/// (v4) ids, so each batch inserts into the id index at random places: a commit rewrites about
/// one leaf page per message, and larger batches share those pages (measured on 1M messages:
/// 10,000 per commit writes far less than 1,000). Memory stays bounded by the batch, not the source.
pub(crate) const BATCH: usize = 10_000;
/// How many mismatch descriptions a report lists (all are counted).
const MAX_LISTED: usize = 100;

/// What a migration did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MigrationReport {
    pub kind: &'static str,
    /// Whether this run wrote anything to the store.
    pub changed: bool,
    pub templates_migrated: u64,
    pub templates_unchanged: u64,
    /// (id, version) that the source's `version_index` names but whose content it overwrote.
    pub lost_versions: Vec<(String, String)>,
    /// The source's own `metadata` counters (`count` counts saves, not templates).
    pub source_count: Option<i64>,
    pub source_last_modified: Option<i64>,
    pub sessions_migrated: u64,
    pub sessions_unchanged: u64,
    pub messages_migrated: u64,
    pub messages_unchanged: u64,
    /// Records that could not become lmstore records; each is in the side file with its reason.
    pub failed: u64,
    /// The side file and, per source database, how many records went there.
    pub side_file: String,
    pub side_records: BTreeMap<String, u64>,
    /// Records compared source-to-store after the migration, and what differed.
    pub verified: u64,
    pub mismatches: u64,
    pub mismatch_examples: Vec<String>,
    /// Sessions whose source order (key order) is not time order, so lmstore's time-ordered
    /// range returns them differently (e.g. mixed UTC offsets).
    pub reordered_sessions: Vec<String>,
    /// Index entries of the source (message_by_session, message_by_agent) naming no message.
    pub dangling_index_entries: u64,
}

impl MigrationReport {
    fn mismatch(&mut self, what: String) {
        self.mismatches += 1;
        if self.mismatch_examples.len() < MAX_LISTED {
            self.mismatch_examples.push(what);
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        let _ = w::write_map_len(&mut out, 19);
        let _ = w::write_str(&mut out, "kind");
        let _ = w::write_str(&mut out, self.kind);
        let _ = w::write_str(&mut out, "changed");
        let _ = w::write_bool(&mut out, self.changed);
        for (k, v) in [
            ("templates_migrated", self.templates_migrated),
            ("templates_unchanged", self.templates_unchanged),
            ("sessions_migrated", self.sessions_migrated),
            ("sessions_unchanged", self.sessions_unchanged),
            ("messages_migrated", self.messages_migrated),
            ("messages_unchanged", self.messages_unchanged),
            ("failed", self.failed),
            ("verified", self.verified),
            ("mismatches", self.mismatches),
            ("dangling_index_entries", self.dangling_index_entries),
        ] {
            let _ = w::write_str(&mut out, k);
            let _ = w::write_uint(&mut out, v);
        }
        for (k, v) in [
            ("source_count", self.source_count),
            ("source_last_modified", self.source_last_modified),
        ] {
            let _ = w::write_str(&mut out, k);
            match v {
                Some(n) => {
                    let _ = w::write_sint(&mut out, n);
                }
                None => {
                    let _ = w::write_nil(&mut out);
                }
            }
        }
        let _ = w::write_str(&mut out, "lost_versions");
        let _ = w::write_array_len(&mut out, self.lost_versions.len() as u32);
        for (id, version) in &self.lost_versions {
            let _ = w::write_map_len(&mut out, 2);
            let _ = w::write_str(&mut out, "id");
            let _ = w::write_str(&mut out, id);
            let _ = w::write_str(&mut out, "version");
            let _ = w::write_str(&mut out, version);
        }
        let _ = w::write_str(&mut out, "side_file");
        let _ = w::write_str(&mut out, &self.side_file);
        let _ = w::write_str(&mut out, "side_records");
        let _ = w::write_map_len(&mut out, self.side_records.len() as u32);
        for (k, v) in &self.side_records {
            let _ = w::write_str(&mut out, k);
            let _ = w::write_uint(&mut out, *v);
        }
        for (k, list) in [
            ("mismatch_examples", &self.mismatch_examples),
            ("reordered_sessions", &self.reordered_sessions),
        ] {
            let _ = w::write_str(&mut out, k);
            let _ = w::write_array_len(&mut out, list.len() as u32);
            for s in list {
                let _ = w::write_str(&mut out, s);
            }
        }
        out
    }
}

/// Progress: (done, known).
pub type Progress<'a> = dyn FnMut(u64, u64) + 'a;

/// The JSON Lines file beside the report: one `{"db", "key", "value"}` object per record that
/// lmstore does not model, plus `"reason"` for records that could not be migrated. Written to
/// a temporary name and renamed at the end, so a failed run leaves the previous file.
pub(crate) struct SideFile {
    path: PathBuf,
    tmp: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    pub counts: BTreeMap<String, u64>,
}

fn io(e: std::io::Error, what: &str, path: &Path) -> Error {
    Error::new(ErrorKind::Io, format!("{what} {}: {e}", path.display()))
}

impl SideFile {
    fn create(path: &Path) -> Result<SideFile> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".partial");
        let tmp = PathBuf::from(tmp);
        let file =
            std::fs::File::create(&tmp).map_err(|e| io(e, "creating the side file", &tmp))?;
        Ok(SideFile {
            path: path.to_path_buf(),
            tmp,
            out: std::io::BufWriter::new(file),
            counts: BTreeMap::new(),
        })
    }

    pub(crate) fn write(
        &mut self,
        db: &str,
        key: &[u8],
        value: serde_json::Value,
        reason: Option<&str>,
    ) -> Result<()> {
        let mut line = serde_json::Map::new();
        line.insert("db".into(), db.into());
        line.insert("key".into(), bytes_json(key));
        line.insert("value".into(), value);
        if let Some(r) = reason {
            line.insert("reason".into(), r.into());
        }
        serde_json::to_writer(&mut self.out, &serde_json::Value::Object(line))
            .map_err(|e| Error::new(ErrorKind::Io, format!("writing the side file: {e}")))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| io(e, "writing", &self.tmp))?;
        *self.counts.entry(db.to_owned()).or_default() += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<BTreeMap<String, u64>> {
        self.out.flush().map_err(|e| io(e, "writing", &self.tmp))?;
        self.out
            .get_ref()
            .sync_all()
            .map_err(|e| io(e, "syncing", &self.tmp))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| io(e, "renaming to", &self.path))?;
        Ok(self.counts)
    }
}

/// Text stays text; other bytes become `{"hex": ...}`.
pub(crate) fn bytes_json(b: &[u8]) -> serde_json::Value {
    match std::str::from_utf8(b) {
        Ok(s) => s.into(),
        Err(_) => serde_json::json!({ "hex": hex(b) }),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A MessagePack value as JSON. Binary becomes `{"binary_hex": ...}`, a non-string key its
/// JSON text, a float JSON cannot hold (NaN, infinity) its name as a string.
pub(crate) fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::Nil => serde_json::Value::Null,
        Value::Boolean(b) => (*b).into(),
        Value::Integer(i) => match (i.as_i64(), i.as_u64()) {
            (Some(n), _) => n.into(),
            (_, Some(n)) => n.into(),
            _ => serde_json::Value::Null,
        },
        Value::F32(f) => float_json(*f as f64),
        Value::F64(f) => float_json(*f),
        Value::String(s) => match s.as_str() {
            Some(t) => t.into(),
            None => serde_json::json!({ "string_bytes_hex": hex(s.as_bytes()) }),
        },
        Value::Binary(b) => serde_json::json!({ "binary_hex": hex(b) }),
        Value::Array(items) => items.iter().map(json).collect(),
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match k.as_str() {
                        Some(s) => s.to_owned(),
                        None => json(k).to_string(),
                    };
                    (key, json(v))
                })
                .collect(),
        ),
        Value::Ext(t, b) => serde_json::json!({ "ext_type": t, "ext_hex": hex(b) }),
    }
}

fn float_json(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f)
        .map(serde_json::Value::Number)
        .unwrap_or_else(|| format!("{f}").into())
}

/// A source value decoded as MessagePack, or the side-file form of a value that is not.
pub(crate) fn decode(v: &[u8]) -> std::result::Result<Value, String> {
    crate::codec::decode_value(v, "source value").map_err(|e| e.message)
}

/// Sorts every map's keys (recursively): the originals are Python dicts, whose key order
/// carries no meaning, so "the same map" is compared this way.
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Map(entries) => {
            let mut e: Vec<(Value, Value)> = entries
                .iter()
                .map(|(k, v)| (canonical(k), canonical(v)))
                .collect();
            // String keys (all the originals have) by their bytes; any other key after them.
            e.sort_by(|a, b| match (a.0.as_str(), b.0.as_str()) {
                (Some(x), Some(y)) => x.cmp(y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => format!("{:?}", a.0).cmp(&format!("{:?}", b.0)),
            });
            Value::Map(e)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// µs since the epoch of an ISO-8601 timestamp in the shapes Python's `isoformat()` writes:
/// `2025-05-13T10:01:39.395424`, `2025-05-13T10:01:39`, `2025-05-15T14:04:53.746033+00:00`
/// (also `Z`, `±HHMM`, a space for `T`). Naive means UTC.
pub fn iso_micros(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let dim = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > dim || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut i = 19;
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let mut digits: String = s[start..i].chars().take(6).collect();
        while digits.len() < 6 {
            digits.push('0');
        }
        micros = digits.parse().ok()?;
    }
    let offset_s = match &b[i..] {
        [] => 0,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (oh, om) = match rest {
                [a, b2, b':', c, d2] => (num_of(&[*a, *b2])?, num_of(&[*c, *d2])?),
                [a, b2, c, d2] => (num_of(&[*a, *b2])?, num_of(&[*c, *d2])?),
                [a, b2] => (num_of(&[*a, *b2])?, 0),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_s;
    secs.checked_mul(1_000_000)?.checked_add(micros)
}

fn num_of(d: &[u8]) -> Option<i64> {
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(d).ok()?.parse().ok()
}

/// Opens a source and tells which layout it has, refusing anything else with what it found.
fn open_source(path: &Path, want: SourceKind) -> Result<ForeignEnv> {
    let env = ForeignEnv::open(path)?;
    let names = env.read(|txn| txn.db_names())?;
    let has = |n: &str| names.iter().any(|x| x == n);
    // lmstore's own tables include `messages` and `sessions` too, so it is recognised first.
    if has("tpl_versions") && has("meta") {
        return Err(Error::invalid(format!(
            "{} is an lmstore store, not a {} one; nothing to migrate",
            path.display(),
            want.name()
        )));
    }
    let found = if has("templates") && has("version_index") {
        Some(SourceKind::Promptlightning)
    } else if has("messages") && has("sessions") {
        Some(SourceKind::TkrAgentChat)
    } else {
        None
    };
    match found {
        Some(k) if k == want => Ok(env),
        Some(other) => Err(Error::invalid(format!(
            "{} is a {} store, not a {} one; use the other migration",
            path.display(),
            other.name(),
            want.name()
        ))),
        None => Err(Error::invalid(format!(
            "{} is not a {} store: its databases are [{}]",
            path.display(),
            want.name(),
            names.join(", ")
        ))),
    }
}

/// Every named database of a source that the migration of `kind` does not read itself.
fn other_dbs(txn: &ForeignTxn<'_>, known: &[&str]) -> Result<Vec<String>> {
    Ok(txn
        .db_names()?
        .into_iter()
        .filter(|n| !known.contains(&n.as_str()))
        .collect())
}

impl Store {
    /// Migrates a promptlightning LMDB registry (seed-formats.md §3) at `source`, writing what
    /// lmstore does not model to `side_file` (JSON Lines).
    pub fn migrate_promptlightning(
        &self,
        source: &Path,
        side_file: &Path,
        progress: &mut Progress<'_>,
    ) -> Result<MigrationReport> {
        let src = open_source(source, SourceKind::Promptlightning)?;
        let mut side = SideFile::create(side_file)?;
        let mut report = MigrationReport {
            kind: SourceKind::Promptlightning.name(),
            side_file: side_file.display().to_string(),
            ..Default::default()
        };
        src.read(|txn| promptlightning::migrate(self, txn, &mut side, &mut report, progress))?;
        report.side_records = side.finish()?;
        Ok(report)
    }

    /// Migrates a tkr-agent-chat LMDB message store (seed-formats.md §4) at `source`, writing
    /// agent cards, shared contexts, A2A tasks and task agents to `side_file` (JSON Lines).
    pub fn migrate_tkr_agent_chat(
        &self,
        source: &Path,
        side_file: &Path,
        progress: &mut Progress<'_>,
    ) -> Result<MigrationReport> {
        let src = open_source(source, SourceKind::TkrAgentChat)?;
        let mut side = SideFile::create(side_file)?;
        let mut report = MigrationReport {
            kind: SourceKind::TkrAgentChat.name(),
            side_file: side_file.display().to_string(),
            ..Default::default()
        };
        src.read(|txn| tkr::migrate(self, txn, &mut side, &mut report, progress))?;
        report.side_records = side.finish()?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::iso_micros;

    #[test]
    fn the_three_shapes_parse_and_naive_is_utc() {
        let base = 1_747_130_499_000_000; // 2025-05-13T10:01:39Z
        assert_eq!(iso_micros("2025-05-13T10:01:39"), Some(base));
        assert_eq!(
            iso_micros("2025-05-13T10:01:39.395424"),
            Some(base + 395_424)
        );
        assert_eq!(
            iso_micros("2025-05-13T10:01:39.395424+00:00"),
            Some(base + 395_424)
        );
        assert_eq!(iso_micros("2025-05-13T12:01:39+02:00"), Some(base));
        assert_eq!(iso_micros("2025-05-13T10:01:39.5Z"), Some(base + 500_000));
        assert_eq!(iso_micros("1970-01-01T00:00:00"), Some(0));
        for bad in [
            "",
            "2025-05-13",
            "2025-13-01T00:00:00",
            "2025-02-30T00:00:00",
            "x",
        ] {
            assert_eq!(iso_micros(bad), None, "{bad}");
        }
    }
}
