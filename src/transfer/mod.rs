//! Dump and restore: the whole store as versioned JSON Lines, to move data between machines,
//! engines or lmstore versions. Every record is read and written through the domain's own
//! functions (never raw table bytes), so a dump does not depend on how records are stored.
//!
//! A dump is, one JSON object per line (docs/dump.md):
//! 1. `{"lmstore_dump":1,"lmstore_version":..,"schema_version":..}`
//! 2. per template id (in id order): each version in put order
//!    `{"kind":"template","id","version","template","description"?,"inputs","metadata","created_at"}`,
//!    then its aliases `{"kind":"alias","id","alias","version"}`;
//! 3. per session (most recent activity first): `{"kind":"session","session_id","title",
//!    "metadata","created_at","updated_at","last_ts","last_activity","message_count"}`, then its
//!    messages oldest first `{"kind":"message","id","session_id","ts","role","agent_id"?,
//!    "content","in_reply_to"?,"metadata","created_at","updated_at"}` (ids as UUID strings);
//! 4. `{"kind":"end","counts":{..},"templates_modified_at":..}`, so a truncated dump is refused.
//!
//! Restoring into an empty store writes every record with its original ids and times, so a
//! dump of the restored store equals the dump it came from, byte for byte.

pub mod value;

use crate::conversations::{self, restore, CursorKind, NewMessage, RangeQuery, Runs, SessionHead};
use crate::error::{Error, ErrorKind, Result};
use crate::meta::{self, Counter};
use crate::storage::ReadTxn;
use crate::templates::{self, normalize_spec, TemplateSpec};
use crate::Store;
use rmpv::Value;
use std::io::{BufRead, Write};

/// The dump format this build writes and the newest it reads.
const DUMP_FORMAT: u64 = 1;

/// How many records of each kind a dump or restore handled.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TransferCounts {
    pub template_versions: u64,
    pub aliases: u64,
    pub sessions: u64,
    pub messages: u64,
}

impl TransferCounts {
    pub fn records(&self) -> u64 {
        self.template_versions + self.aliases + self.sessions + self.messages
    }
}

/// Records restored per write transaction: large enough to amortize commits, small enough that
/// a batch retried after map growth is cheap.
const BATCH: usize = 512;
const BATCH_BYTES: usize = 8 << 20;
const PAGE: u32 = 1000;

fn io(e: std::io::Error, what: &str) -> Error {
    Error {
        kind: ErrorKind::Io,
        message: format!("{what}: {e}"),
        os_code: e.raw_os_error().unwrap_or(0),
    }
}

fn decode(bytes: &[u8], what: &str) -> Result<Value> {
    rmpv::decode::read_value(&mut &bytes[..])
        .map_err(|e| Error::corrupt(format!("{what} does not decode: {e}")))
}

fn s(v: &str) -> Value {
    Value::from(v)
}

fn uuid_text(v: &Value) -> Value {
    match v {
        Value::Binary(b) if b.len() == 16 => uuid::Uuid::from_slice(b)
            .map(|u| Value::from(u.to_string()))
            .unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}

/// Writes `{"kind": kind, ...entries}` as one line.
fn line(out: &mut dyn Write, kind: &str, entries: Vec<(Value, Value)>) -> Result<()> {
    let mut all = Vec::with_capacity(entries.len() + 1);
    all.push((s("kind"), s(kind)));
    all.extend(entries);
    let mut text = String::with_capacity(256);
    value::write(&mut text, &Value::Map(all));
    text.push('\n');
    out.write_all(text.as_bytes())
        .map_err(|e| io(e, "writing the dump"))
}

fn map_entries(v: Value, what: &str) -> Result<Vec<(Value, Value)>> {
    match v {
        Value::Map(m) => Ok(m),
        _ => Err(Error::corrupt(format!("{what} is not a map"))),
    }
}

fn dump_templates(
    txn: &impl ReadTxn,
    out: &mut dyn Write,
    counts: &mut TransferCounts,
    progress: &mut dyn FnMut(&TransferCounts),
) -> Result<()> {
    let mut after = String::new();
    loop {
        let ids = decode(
            &templates::list_ids(txn, b"", after.as_bytes(), PAGE)?,
            "template id list",
        )?;
        let ids: Vec<String> = match ids {
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        for id in &ids {
            let versions = decode(
                &templates::list_versions(txn, id.as_bytes())?,
                "version list",
            )?;
            for v in versions.as_array().map(Vec::as_slice).unwrap_or_default() {
                let version = crate::codec::field(v, "version")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Error::corrupt("version list entry without a version"))?;
                let record = templates::get(txn, id.as_bytes(), Some(version.as_bytes()))?;
                let entries = map_entries(decode(record, "template record")?, "template record")?;
                line(out, "template", entries)?;
                counts.template_versions += 1;
                progress(counts);
            }
            let aliases = decode(&templates::list_aliases(txn, id.as_bytes())?, "alias map")?;
            for (alias, version) in map_entries(aliases, "alias map")? {
                line(
                    out,
                    "alias",
                    vec![
                        (s("id"), s(id)),
                        (s("alias"), alias),
                        (s("version"), version),
                    ],
                )?;
                counts.aliases += 1;
                progress(counts);
            }
        }
        match ids.last() {
            Some(last) if ids.len() as u32 == PAGE => after = last.clone(),
            _ => return Ok(()),
        }
    }
}

fn dump_messages(
    txn: &impl ReadTxn,
    session: &[u8],
    out: &mut dyn Write,
    counts: &mut TransferCounts,
    progress: &mut dyn FnMut(&TransferCounts),
) -> Result<()> {
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let q = RangeQuery {
            limit: PAGE,
            cursor: cursor.as_deref(),
            ..Default::default()
        };
        let page = conversations::range(txn, CursorKind::Session, session, &q)?;
        let items = decode(page.bytes(), "message page")?;
        for m in items.as_array().map(Vec::as_slice).unwrap_or_default() {
            let entries = map_entries(m.clone(), "message record")?
                .into_iter()
                .map(|(k, v)| match k.as_str() {
                    Some("id") | Some("in_reply_to") => (k, uuid_text(&v)),
                    _ => (k, v),
                })
                .collect();
            line(out, "message", entries)?;
            counts.messages += 1;
            progress(counts);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

fn dump_sessions(
    txn: &impl ReadTxn,
    out: &mut dyn Write,
    counts: &mut TransferCounts,
    progress: &mut dyn FnMut(&TransferCounts),
) -> Result<()> {
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let page = conversations::list_sessions(txn, cursor.as_deref(), PAGE)?;
        let items = decode(page.bytes(), "session page")?;
        for session in items.as_array().map(Vec::as_slice).unwrap_or_default() {
            let name = crate::codec::field(session, "session_id")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::corrupt("session without a session_id"))?
                .to_owned();
            line(out, "session", map_entries(session.clone(), "session")?)?;
            counts.sessions += 1;
            progress(counts);
            dump_messages(txn, name.as_bytes(), out, counts, progress)?;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

fn count_entries(c: &TransferCounts) -> Value {
    Value::Map(vec![
        (s("template_versions"), Value::from(c.template_versions)),
        (s("aliases"), Value::from(c.aliases)),
        (s("sessions"), Value::from(c.sessions)),
        (s("messages"), Value::from(c.messages)),
    ])
}

/// One record of a dump, validated and ready to write.
enum Op {
    Template(Box<TemplateSpec>),
    Alias(String, String, String),
    Session(String, SessionHead),
    Message(Box<NewMessage>, i64, i64),
}

fn field<'a>(m: &'a Value, name: &str) -> Option<&'a Value> {
    crate::codec::field(m, name).filter(|v| !v.is_nil())
}

fn text<'a>(m: &'a Value, name: &str) -> Result<&'a str> {
    field(m, name)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid(format!("'{name}' is missing or not a string")))
}

fn int(m: &Value, name: &str) -> Result<i64> {
    field(m, name)
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::invalid(format!("'{name}' is missing or not an integer")))
}

fn uuid_bytes(m: &Value, name: &str) -> Result<Option<[u8; 16]>> {
    match field(m, name) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .and_then(|t| uuid::Uuid::parse_str(t).ok())
            .map(|u| Some(*u.as_bytes()))
            .ok_or_else(|| Error::invalid(format!("'{name}' is not a UUID"))),
    }
}

fn encoded(v: Option<&Value>) -> Vec<u8> {
    v.map(crate::codec::encode).unwrap_or_default()
}

fn parse_op(kind: &str, m: Value) -> Result<Option<Op>> {
    Ok(Some(match kind {
        "template" => {
            let Value::Map(entries) = m else {
                return Err(Error::invalid("a template record is not an object"));
            };
            let spec: Vec<(Value, Value)> = entries
                .into_iter()
                .filter(|(k, _)| k.as_str() != Some("kind"))
                .collect();
            let spec = normalize_spec(&crate::codec::encode(&Value::Map(spec)))?;
            if spec.created_at.is_none() {
                return Err(Error::invalid("a template record needs its created_at"));
            }
            Op::Template(Box::new(spec))
        }
        "alias" => Op::Alias(
            text(&m, "id")?.to_owned(),
            text(&m, "alias")?.to_owned(),
            text(&m, "version")?.to_owned(),
        ),
        "session" => Op::Session(
            text(&m, "session_id")?.to_owned(),
            SessionHead {
                created_at: int(&m, "created_at")?,
                updated_at: int(&m, "updated_at")?,
                last_ts: int(&m, "last_ts")?,
                last_activity: int(&m, "last_activity")?,
                message_count: field(&m, "message_count")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| Error::invalid("'message_count' is missing"))?,
                title: field(&m, "title")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                metadata: conversations::record::metadata_bytes(
                    &encoded(field(&m, "metadata")),
                    "session metadata",
                )?,
            },
        ),
        "message" => {
            let id = uuid_bytes(&m, "id")?.ok_or_else(|| Error::invalid("'id' is missing"))?;
            let reply = uuid_bytes(&m, "in_reply_to")?;
            let msg = NewMessage::new(
                text(&m, "session_id")?.as_bytes(),
                Some(&id),
                Some(int(&m, "ts")?),
                text(&m, "role")?.as_bytes(),
                field(&m, "agent_id")
                    .and_then(Value::as_str)
                    .map(str::as_bytes),
                text(&m, "content")?.as_bytes(),
                reply.as_ref().map(|r| &r[..]),
                &encoded(field(&m, "metadata")),
            )?;
            Op::Message(
                Box::new(msg),
                int(&m, "created_at")?,
                int(&m, "updated_at")?,
            )
        }
        "end" => return Ok(None),
        other => return Err(Error::invalid(format!("unknown record kind '{other}'"))),
    }))
}

fn apply(txn: &mut crate::backend::Write<'_, '_>, op: &Op, runs: &mut Runs) -> Result<()> {
    match op {
        Op::Template(spec) => templates::put(txn, spec, false).map(|_| ()),
        Op::Alias(id, alias, version) => {
            templates::set_alias(txn, id.as_bytes(), alias.as_bytes(), version.as_bytes())
        }
        Op::Session(name, head) => restore::restore_session(txn, name.as_bytes(), head),
        Op::Message(msg, created, updated) => {
            restore::restore_message(txn, msg, *created, *updated, runs)
        }
    }
}

impl Store {
    /// Writes the whole store to `out` as a versioned JSON Lines dump (see the module docs),
    /// from one read snapshot, so writers may go on meanwhile. `progress` is called after
    /// every record.
    pub fn dump(
        &self,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(&TransferCounts),
    ) -> Result<TransferCounts> {
        self.read(|txn| {
            let mut counts = TransferCounts::default();
            let mut header = String::new();
            value::write(
                &mut header,
                &Value::Map(vec![
                    (s("lmstore_dump"), Value::from(DUMP_FORMAT)),
                    (s("lmstore_version"), s(env!("CARGO_PKG_VERSION"))),
                    (
                        s("schema_version"),
                        Value::from(meta::schema_version(txn)?.unwrap_or(0)),
                    ),
                ]),
            );
            header.push('\n');
            out.write_all(header.as_bytes())
                .map_err(|e| io(e, "writing the dump"))?;
            dump_templates(txn, out, &mut counts, progress)?;
            dump_sessions(txn, out, &mut counts, progress)?;
            let modified = meta::get(txn, Counter::TemplatesModifiedAt)?;
            line(
                out,
                "end",
                vec![
                    (s("counts"), count_entries(&counts)),
                    (s("templates_modified_at"), Value::from(modified)),
                ],
            )?;
            out.flush().map_err(|e| io(e, "writing the dump"))?;
            Ok(counts)
        })
    }

    /// Loads a dump written by [`Store::dump`] into this store, which must be empty. Records
    /// keep their ids and times. On an error the store may hold part of the dump (restore
    /// into a new directory and remove it on failure); the error names the dump line.
    /// `progress` gets the counts so far and the bytes of the dump read.
    pub fn restore(
        &self,
        input: &mut dyn BufRead,
        progress: &mut dyn FnMut(&TransferCounts, u64),
    ) -> Result<TransferCounts> {
        let stats = self.stats()?;
        if stats.template_ids + stats.sessions + stats.messages > 0 {
            return Err(Error::conflict(format!(
                "restore needs an empty store; {} holds {} templates, {} sessions and {} messages",
                self.path().display(),
                stats.template_ids,
                stats.sessions,
                stats.messages
            )));
        }
        let mut counts = TransferCounts::default();
        let mut read = 0u64;
        let mut buf = String::new();
        let mut line_no = 0u64;
        let mut batch: Vec<Op> = Vec::new();
        let mut batch_bytes = 0usize;
        let mut end: Option<Value> = None;
        let flush = |batch: &mut Vec<Op>| -> Result<()> {
            if !batch.is_empty() {
                self.write(|txn| {
                    let mut runs = Runs::default();
                    batch.iter().try_for_each(|op| apply(txn, op, &mut runs))?;
                    runs.put(txn)
                })?;
                batch.clear();
            }
            Ok(())
        };
        loop {
            buf.clear();
            let n = input
                .read_line(&mut buf)
                .map_err(|e| io(e, &format!("reading dump line {}", line_no + 1)))?;
            if n == 0 {
                break;
            }
            read += n as u64;
            line_no += 1;
            let at = |e: Error| e.context(&format!("dump line {line_no}"));
            let trimmed = buf.trim_end_matches(['\n', '\r']);
            if trimmed.is_empty() {
                continue;
            }
            if end.is_some() {
                return Err(at(Error::invalid("a record follows the end record")));
            }
            let v = value::read(trimmed)
                .map_err(|e| at(Error::invalid(format!("not a JSON object: {e}"))))?;
            if line_no == 1 {
                let format = field(&v, "lmstore_dump")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| {
                        at(Error::invalid(
                            "this is not an lmstore dump (no lmstore_dump header)",
                        ))
                    })?;
                if format > DUMP_FORMAT {
                    return Err(at(Error::new(
                        ErrorKind::VersionMismatch,
                        format!("the dump is format {format}, written by a newer lmstore; this build ({}) reads up to format {DUMP_FORMAT}", env!("CARGO_PKG_VERSION")),
                    )));
                }
                continue;
            }
            let kind = text(&v, "kind").map_err(at)?.to_owned();
            let Some(op) = parse_op(&kind, v.clone()).map_err(at)? else {
                end = Some(v);
                continue;
            };
            match &op {
                Op::Template(_) => counts.template_versions += 1,
                Op::Alias(..) => counts.aliases += 1,
                Op::Session(..) => counts.sessions += 1,
                Op::Message(..) => counts.messages += 1,
            }
            batch.push(op);
            batch_bytes += n;
            if batch.len() >= BATCH || batch_bytes >= BATCH_BYTES {
                flush(&mut batch).map_err(at)?;
                batch_bytes = 0;
            }
            progress(&counts, read);
        }
        if line_no == 0 {
            return Err(Error::invalid("the dump is empty"));
        }
        let Some(end) = end else {
            return Err(Error::invalid(format!(
                "the dump ends after line {line_no} without its end record (truncated?)"
            )));
        };
        flush(&mut batch)?;
        let expected = field(&end, "counts").cloned().unwrap_or(Value::Nil);
        if expected != count_entries(&counts) {
            return Err(Error::invalid(format!(
                "the dump's end record counts {expected} but the dump holds {} template versions, {} aliases, {} sessions and {} messages",
                counts.template_versions,
                counts.aliases,
                counts.sessions,
                counts.messages
            )));
        }
        let modified = field(&end, "templates_modified_at")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        self.write(|txn| meta::set(txn, Counter::TemplatesModifiedAt, modified))?;
        progress(&counts, read);
        Ok(counts)
    }
}
