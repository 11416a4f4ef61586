//! Salvage, modelled on SQLite's `.recover`: copy every intact template version, alias,
//! session and message of a damaged store into a new store. The damaged file is read only by
//! our own bounds-checked reader (never by LMDB, which trusts its file and may crash on it):
//! first every table's tree, skipping damaged pages, then every intact leaf page no tree
//! reached (the leaves under a damaged branch page), recognised by the shape of its records.
//! Records are decoded and checked with the domain's own rules and written through the normal
//! write paths, so the indexes and counters of the new store are rebuilt, not copied.

use super::Damage;
use crate::codec::{decode_value, field};
use crate::conversations::{self, keys, NewMessage, SessionHead};
use crate::error::{Error, Result};
use crate::format::compress::DictionarySource;
use crate::lmdb::checksum;
use crate::lmdb::pages::{self, Metas, Reader, Value};
use crate::meta;
use crate::storage::Table;
use crate::templates::{self, TemplateSpec};
use crate::{OpenOptions, Store};
use rmp::encode as w;
use rmpv::Value as Mp;
use std::collections::BTreeMap;
use std::path::Path;

/// Records that could not be recovered, kept in a report (the rest are counted).
const MAX_LOST: usize = 1000;
/// Messages appended per write transaction.
const BATCH: usize = 512;

/// What salvage recovered and what it could not.
#[derive(Debug, Clone, Default)]
pub struct SalvageReport {
    pub template_versions: u64,
    pub aliases: u64,
    pub sessions: u64,
    pub messages: u64,
    /// Leaf pages read outside every tree (below damaged branch pages).
    pub orphan_pages: u64,
    /// Records found but not recovered: (table, key as text, why).
    pub lost: Vec<(String, String, String)>,
    pub lost_count: u64,
    /// Structural damage of the source (pages whose records could not be read at all).
    pub damage: Vec<Damage>,
    pub damage_count: u64,
}

impl SalvageReport {
    fn lose(&mut self, table: Table, key: &[u8], why: impl Into<String>) {
        self.lost_count += 1;
        if self.lost.len() < MAX_LOST {
            self.lost
                .push((table.name().into(), key_text(key), why.into()));
        }
    }

    /// The report as one MessagePack map (the form the C ABI returns; docs/reliability.md).
    pub fn to_msgpack(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = w::write_map_len(&mut out, 10);
        for (name, n) in [
            ("template_versions", self.template_versions),
            ("aliases", self.aliases),
            ("sessions", self.sessions),
            ("messages", self.messages),
            ("orphan_pages", self.orphan_pages),
            ("lost_count", self.lost_count),
            ("damage_count", self.damage_count),
        ] {
            let _ = w::write_str(&mut out, name);
            let _ = w::write_uint(&mut out, n);
        }
        let _ = w::write_str(&mut out, "complete");
        let _ = w::write_bool(&mut out, self.lost_count == 0 && self.damage_count == 0);
        let _ = w::write_str(&mut out, "lost");
        let _ = w::write_array_len(&mut out, self.lost.len() as u32);
        for (table, key, why) in &self.lost {
            let _ = w::write_map_len(&mut out, 3);
            for (k, v) in [("table", table), ("key", key), ("what", why)] {
                let _ = w::write_str(&mut out, k);
                let _ = w::write_str(&mut out, v);
            }
        }
        let _ = w::write_str(&mut out, "damage");
        super::damage_list(&mut out, &self.damage);
        out
    }
}

/// A key as text for a report: printable bytes as they are, the rest escaped.
fn key_text(key: &[u8]) -> String {
    key.iter()
        .flat_map(|&b| match b {
            0x20..=0x7e if b != b'\\' => vec![b as char],
            _ => format!("\\x{b:02x}").chars().collect(),
        })
        .collect()
}

/// The source's records, by table and key; what a tree holds wins over an orphan page.
#[derive(Default)]
struct Found {
    versions: BTreeMap<Vec<u8>, Vec<u8>>,
    aliases: BTreeMap<Vec<u8>, Vec<u8>>,
    sessions: BTreeMap<Vec<u8>, Vec<u8>>,
    messages: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The compression dictionaries (`meta`), which compressed message bodies need.
    dictionaries: Dictionaries,
}

/// The source's compression dictionaries by their `meta` key.
#[derive(Default)]
struct Dictionaries(BTreeMap<Vec<u8>, Vec<u8>>);

impl DictionarySource for Dictionaries {
    fn dictionary_bytes(&self, version: u32) -> Result<Option<&[u8]>> {
        Ok(self
            .0
            .get(&meta::dictionary_key(version))
            .map(Vec::as_slice))
    }
}

impl Found {
    fn table(&mut self, table: Table) -> Option<&mut BTreeMap<Vec<u8>, Vec<u8>>> {
        match table {
            Table::TplVersions => Some(&mut self.versions),
            Table::TplAliases => Some(&mut self.aliases),
            Table::Sessions => Some(&mut self.sessions),
            Table::Messages => Some(&mut self.messages),
            Table::Meta => Some(&mut self.dictionaries.0),
            _ => None,
        }
    }
}

fn value_bytes(r: &Reader, value: Value<'_>) -> Result<Vec<u8>> {
    match value {
        Value::Inline(b) => Ok(b.to_vec()),
        Value::Overflow { page, size } => r.read_overflow(page, size),
        Value::SubDb(_) => Err(Error::corrupt("a table record where a value belongs")),
    }
}

/// Copies every intact record of the store in `src` into a new store at `dest` (a missing or
/// empty directory). Never opens `src` with LMDB. Fails only when nothing can be read at all
/// or `dest` cannot be written; everything else is in the report.
pub fn salvage(src: &Path, dest: &Path) -> Result<SalvageReport> {
    let file = pages::data_file(src);
    if !file.is_file() {
        return Err(Error::not_found(format!(
            "{} holds no store (no data.mdb)",
            src.display()
        )));
    }
    if let Ok(mut entries) = std::fs::read_dir(dest) {
        if entries.next().is_some() {
            return Err(Error::invalid(format!(
                "the salvage target {} is not empty",
                dest.display()
            )));
        }
    }
    let mut report = SalvageReport::default();
    let found = read_source(&file, &mut report)?;
    let store = Store::open(
        dest,
        OpenOptions {
            no_sync: true,
            ..Default::default()
        },
    )?;
    write_templates(&store, &found, &mut report);
    write_conversations(&store, &found, &mut report);
    store.sync()?;
    Ok(report)
}

fn read_source(file: &Path, report: &mut SalvageReport) -> Result<Found> {
    let metas = Metas::read(file)?;
    let (current, meta_damage) = metas.current();
    let mut reader = match current {
        Some(meta) => Reader::open(file, meta).or_else(|e| {
            report.damage.push(Damage {
                page: None,
                table: "(file)".into(),
                what: e.message,
            });
            Reader::without_meta(file, meta.page_size)
        })?,
        None => Reader::without_meta(file, 4096)?,
    };
    report.damage.extend(meta_damage);
    let mut found = Found::default();
    // Values are sealed with their checksum (schema 2) unless the store is schema 1, which
    // its meta table says; the tables are walked first and unsealed once that is known.
    let mut walked: Vec<(Table, Vec<u8>, Result<Vec<u8>>)> = Vec::new();
    let mut schema_raw: Option<Vec<u8>> = None;
    for (name, db) in reader.tables() {
        let table = Table::ALL.into_iter().find(|t| t.name() == name);
        reader.walk(&name, &db, false, &mut |r, key, value| match table {
            Some(Table::Meta) if key == checksum::SCHEMA_KEY => {
                schema_raw = value_bytes(r, value).ok();
            }
            Some(Table::Meta) if !meta::is_dictionary_key(key) => {}
            Some(t) if found.table(t).is_some() => {
                walked.push((t, key.to_vec(), value_bytes(r, value)));
            }
            _ => {}
        });
    }
    let legacy = checksum::is_legacy(schema_raw.as_deref());
    for (table, key, value) in walked {
        let value = value.and_then(|v| unseal(legacy, table, &key, v));
        match value {
            Ok(v) => {
                if let Some(map) = found.table(table) {
                    map.insert(key, v);
                }
            }
            Err(e) => report.lose(table, &key, e.message),
        }
    }
    reader.free_pages();
    // Leaves no tree reached: below a damaged branch, or every leaf when the directory of
    // tables itself is lost. Their records say which table they belong to by their shape.
    let mut orphans = Vec::new();
    report.orphan_pages = reader.orphan_leaves(&mut |r, _, key, value| {
        if let Ok(v) = value_bytes(r, value) {
            // The checksum covers key and value, not the table, so it is checked before the
            // table is known.
            if let Ok(v) = unseal(legacy, Table::Messages, key, v) {
                orphans.push((key.to_vec(), v));
            }
        }
    });
    for (key, value) in orphans {
        if let Some(table) = recognise(&found.dictionaries, &key, &value) {
            if let Some(map) = found.table(table) {
                map.entry(key).or_insert(value);
            }
        }
    }
    let (damage, count) = reader.take_damage();
    report.damage_count = report.damage.len() as u64 + count;
    report.damage.extend(damage);
    Ok(found)
}

/// A value as stored without its checksum, which must match (schema 2); schema-1 values have
/// none.
fn unseal(legacy: bool, table: Table, key: &[u8], value: Vec<u8>) -> Result<Vec<u8>> {
    if legacy {
        return Ok(value);
    }
    checksum::open(table, key, &value).map(<[u8]>::to_vec)
}

/// Which table an entry found outside every tree belongs to, judged by its key and value
/// (only the tables salvage copies; the indexes are rebuilt from them).
fn recognise(dicts: &Dictionaries, key: &[u8], value: &[u8]) -> Option<Table> {
    if message_from_stored(dicts, key, value).is_ok() {
        return Some(Table::Messages);
    }
    if version_from_stored(key, value).is_ok() {
        return Some(Table::TplVersions);
    }
    if let Some(nul) = key.iter().position(|&b| b == 0) {
        let tail = &key[nul + 1..];
        // An alias key ends in a name (no NUL, UTF-8); a tpl_seq key ends in 8 bytes of a
        // sequence number, which hold NUL bytes until an id has had 2^56 puts.
        let is_name = |b: &[u8]| !b.is_empty() && !b.contains(&0) && std::str::from_utf8(b).is_ok();
        if is_name(tail) && is_name(value) && is_name(&key[..nul]) {
            return Some(Table::TplAliases);
        }
        return None;
    }
    if keys::check_name(key, "session").is_ok() && session_from_stored(value).is_ok() {
        return Some(Table::Sessions);
    }
    None
}

/// A stored template version (`tpl_versions`) as a spec, its put sequence and created_at,
/// checked against its key.
fn version_from_stored(key: &[u8], value: &[u8]) -> Result<(u64, TemplateSpec, Option<i64>)> {
    let (seq, record) = templates::split_version_value(value)?;
    let spec = templates::normalize_spec(record)?;
    let mut expected = spec.id.as_bytes().to_vec();
    expected.push(0);
    expected.extend_from_slice(spec.version.as_bytes());
    if expected != key {
        return Err(Error::corrupt(
            "the record's id and version differ from its key",
        ));
    }
    let stored = decode_value(record, "stored template")?;
    let created_at = field(&stored, "created_at").and_then(Mp::as_i64);
    Ok((seq, spec, created_at))
}

/// A stored session record (`sessions`): its title and metadata (the timestamps and counts
/// are rebuilt by the appends).
fn session_from_stored(value: &[u8]) -> Result<SessionHead> {
    let head = SessionHead::decode(value)?;
    crate::codec::validate_map(&head.metadata, "session metadata")?;
    Ok(head)
}

/// A stored message (`messages`) as the append that recreates it, checked against its key.
fn message_from_stored(dicts: &Dictionaries, key: &[u8], value: &[u8]) -> Result<NewMessage> {
    let public = crate::conversations::record::public_record(dicts, key, value)?;
    let record = decode_value(&public, "stored message")?;
    let (session, ts, id) = keys::split_entry(key)?;
    let text = |name: &str| -> Result<Option<&[u8]>> {
        match field(&record, name) {
            None => Ok(None),
            Some(Mp::String(s)) => Ok(Some(s.as_bytes())),
            Some(Mp::Binary(b)) => Ok(Some(b)),
            Some(_) => Err(Error::corrupt(format!(
                "stored message field {name} has the wrong type"
            ))),
        }
    };
    let same = |name: &str, want: &[u8]| -> Result<()> {
        if text(name)? != Some(want) {
            return Err(Error::corrupt(format!(
                "the record's {name} differs from its key"
            )));
        }
        Ok(())
    };
    same("session_id", session)?;
    same("id", &id)?;
    if field(&record, "ts").and_then(Mp::as_i64) != Some(ts) {
        return Err(Error::corrupt("the record's ts differs from its key"));
    }
    let metadata = match field(&record, "metadata") {
        None => Vec::new(),
        Some(m) => crate::codec::encode(m),
    };
    let time = |name: &str| {
        field(&record, name)
            .and_then(Mp::as_i64)
            .filter(|t| (0..=conversations::record::MAX_TS).contains(t))
    };
    let recorded_times = time("created_at").zip(time("updated_at"));
    let mut message = NewMessage::new(
        session,
        Some(&id),
        Some(ts),
        text("role")?.ok_or_else(|| Error::corrupt("the record has no role"))?,
        text("agent_id")?,
        text("content")?.unwrap_or_default(),
        text("in_reply_to")?,
        &metadata,
    )?;
    message.recorded_times = recorded_times;
    Ok(message)
}

fn write_templates(store: &Store, found: &Found, report: &mut SalvageReport) {
    // Versions go in in their original put order, so "latest" is what it was.
    let mut versions = Vec::new();
    for (key, value) in &found.versions {
        match version_from_stored(key, value) {
            Ok((seq, mut spec, created_at)) => {
                spec.created_at = created_at;
                versions.push((seq, key, spec))
            }
            Err(e) => report.lose(Table::TplVersions, key, e.message),
        }
    }
    versions.sort_by(|a, b| (a.2.id.as_bytes(), a.0).cmp(&(b.2.id.as_bytes(), b.0)));
    for (_, key, spec) in versions {
        match store.put_template(&spec, false) {
            Ok(_) => report.template_versions += 1,
            Err(e) => report.lose(Table::TplVersions, key, e.message),
        }
    }
    for (key, version) in &found.aliases {
        let Some(nul) = key.iter().position(|&b| b == 0) else {
            report.lose(Table::TplAliases, key, "the key has no separator");
            continue;
        };
        match store.set_template_alias(&key[..nul], &key[nul + 1..], version) {
            Ok(()) => report.aliases += 1,
            Err(e) => report.lose(Table::TplAliases, key, e.message),
        }
    }
}

fn write_conversations(store: &Store, found: &Found, report: &mut SalvageReport) {
    for (session, value) in &found.sessions {
        let outcome = session_from_stored(value).and_then(|head| {
            let title = head.title.as_deref().map(str::as_bytes);
            store.write(|txn| {
                conversations::create_session_at(
                    txn,
                    session,
                    title,
                    &head.metadata,
                    Some(head.created_at),
                )
            })
        });
        match outcome {
            Ok(()) => report.sessions += 1,
            Err(e) => report.lose(Table::Sessions, session, e.message),
        }
    }
    let mut batch = Vec::new();
    let mut keys_of_batch = Vec::new();
    let flush =
        |batch: &mut Vec<NewMessage>, keys: &mut Vec<&Vec<u8>>, report: &mut SalvageReport| {
            let messages = std::mem::take(batch);
            let keys = std::mem::take(keys);
            if messages.is_empty() {
                return;
            }
            let tally = |done: &[crate::conversations::Appended],
                         keys: &[&Vec<u8>],
                         report: &mut SalvageReport| {
                for (appended, key) in done.iter().zip(keys) {
                    if appended.duplicate {
                        report.lose(Table::Messages, key, "the same message id appears twice");
                    } else {
                        report.messages += 1;
                    }
                }
            };
            match store.append_messages(messages.clone()) {
                Ok(done) => tally(&done, &keys, report),
                // One message the new store refuses must not cost the rest of its batch.
                Err(_) => {
                    for (m, key) in messages.into_iter().zip(keys) {
                        match store.append_messages(vec![m]) {
                            Ok(done) => tally(&done, &[key], report),
                            Err(e) => report.lose(Table::Messages, key, e.message),
                        }
                    }
                }
            }
        };
    for (key, value) in &found.messages {
        match message_from_stored(&found.dictionaries, key, value) {
            Ok(m) => {
                batch.push(m);
                keys_of_batch.push(key);
            }
            Err(e) => report.lose(Table::Messages, key, e.message),
        }
        if batch.len() >= BATCH {
            flush(&mut batch, &mut keys_of_batch, report);
        }
    }
    flush(&mut batch, &mut keys_of_batch, report);
}
