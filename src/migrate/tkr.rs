//! tkr-agent-chat's message store (seed-formats.md §4). Sessions and messages become lmstore
//! sessions and messages; every original field that no lmstore field carries exactly stays in
//! the lmstore metadata under its own name, so [`rebuild_message`] and [`rebuild_session`] give
//! back the original maps. Agent cards, shared contexts, A2A tasks and task agents go to the side
//! file. docs/migration.md has the table.

use super::{decode, iso_micros, json, MigrationReport, Progress, SideFile, BATCH};
use crate::codec::{self, field};
use crate::conversations::{self, record::MAX_TS, NewMessage};
use crate::error::{ErrorKind, Result};
use crate::lmdb::foreign::{ForeignDb, ForeignTxn};
use crate::Store;
use rmpv::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// Lists the first-class-derived keys the original map did not have at all (as opposed to
/// having them as nil), so the rebuild leaves them out too.
pub const ABSENT_KEY: &str = "_lmstore_absent";
/// The role of a message whose `type` is missing or not text.
pub const UNKNOWN_ROLE: &str = "unknown";

/// A session as lmstore creates it: (id, title, metadata, created_at).
type NewSession = (String, Option<String>, Vec<u8>, Option<i64>);

/// (title, metadata, created_at) of a session.
type SessionParts = (Option<String>, Vec<u8>, Option<i64>);

/// The databases this migration reads itself; the rest go to the side file.
const OWN_DBS: [&str; 4] = [
    "sessions",
    "messages",
    "message_by_session",
    "message_by_agent",
];

fn text(v: &Value) -> Option<&str> {
    v.as_str()
}

/// A UUID given as text, when it is one in the canonical lowercase hyphenated form (the form
/// Python's `str(uuid4())` writes), so that the text can be rebuilt from the 16 bytes.
fn canonical_uuid(s: &str) -> Option<Uuid> {
    let u = Uuid::parse_str(s).ok()?;
    (u.hyphenated().to_string() == s).then_some(u)
}

fn is_single_text_part(parts: &Value) -> Option<&str> {
    let [Value::Map(part)] = parts.as_array()?.as_slice() else {
        return None;
    };
    if part.len() != 2 {
        return None;
    }
    let get = |k: &str| {
        part.iter()
            .find(|(n, _)| n.as_str() == Some(k))
            .map(|(_, v)| v)
    };
    (get("type")?.as_str()? == "text").then_some(())?;
    get("content")?.as_str()
}

/// The lmstore message for one tkr-agent-chat message map, or why there can be none.
pub fn to_message(value: &Value) -> std::result::Result<NewMessage, String> {
    let Value::Map(entries) = value else {
        return Err("the message is not a map".into());
    };
    let get = |k: &str| field(value, k);
    let uuid_text = get("message_uuid")
        .and_then(text)
        .ok_or("message_uuid is missing or not text")?;
    let id = Uuid::parse_str(uuid_text).map_err(|e| format!("message_uuid is not a UUID: {e}"))?;
    let session = get("session_id")
        .and_then(text)
        .ok_or("session_id is missing or not text")?;
    let created = get("created_at")
        .and_then(text)
        .ok_or("created_at is missing or not text")?;
    let ts = iso_micros(created)
        .filter(|t| (0..=MAX_TS).contains(t))
        .ok_or_else(|| {
            format!("created_at '{created}' is not an ISO-8601 time lmstore can hold")
        })?;
    let role = get("type").and_then(text).filter(|t| !t.is_empty());
    let agent = get("agent_id")
        .and_then(text)
        .filter(|a| conversations::keys::check_name(a.as_bytes(), "agent_id").is_ok());
    let reply = get("in_reply_to").and_then(text).and_then(canonical_uuid);
    let single_text = get("parts").and_then(is_single_text_part);
    let content = match (single_text, get("parts")) {
        (Some(t), _) => t.to_owned(),
        (None, Some(Value::Array(parts))) => parts
            .iter()
            .filter(|p| field(p, "type").and_then(text) == Some("text"))
            .filter_map(|p| field(p, "content").and_then(text))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    let mut metadata = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let carried = match k.as_str() {
            Some("message_uuid") => canonical_uuid(uuid_text).is_some(),
            Some("session_id") => true,
            Some("type") => role.is_some(),
            Some("agent_id") => agent.is_some(),
            Some("in_reply_to") => reply.is_some(),
            Some("parts") => single_text.is_some(),
            Some(ABSENT_KEY) => return Err(format!("the message has a field named {ABSENT_KEY}")),
            _ => false,
        };
        if !carried {
            metadata.push((k.clone(), v.clone()));
        }
    }
    let absent: Vec<Value> = ["type", "parts"]
        .into_iter()
        .filter(|k| get(k).is_none())
        .map(Value::from)
        .collect();
    if !absent.is_empty() {
        metadata.push((Value::from(ABSENT_KEY), Value::Array(absent)));
    }
    NewMessage::new(
        session.as_bytes(),
        Some(id.as_bytes()),
        Some(ts),
        role.unwrap_or(UNKNOWN_ROLE).as_bytes(),
        agent.map(str::as_bytes),
        content.as_bytes(),
        reply.as_ref().map(|u| &u.as_bytes()[..]),
        &codec::encode(&Value::Map(metadata)),
    )
    .map_err(|e| e.message)
}

fn uuid_text(v: Option<&Value>) -> Option<String> {
    let bytes: [u8; 16] = match v? {
        Value::Binary(b) => b.as_slice().try_into().ok()?,
        _ => return None,
    };
    Some(Uuid::from_bytes(bytes).hyphenated().to_string())
}

/// The original tkr-agent-chat message map, rebuilt from a stored lmstore message record.
pub fn rebuild_message(record: &Value) -> Value {
    let mut out: Vec<(Value, Value)> = Vec::new();
    let mut absent: Vec<String> = Vec::new();
    if let Some(Value::Map(meta)) = field(record, "metadata") {
        for (k, v) in meta {
            if k.as_str() == Some(ABSENT_KEY) {
                absent = v
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
            } else {
                out.push((k.clone(), v.clone()));
            }
        }
    }
    let has = |out: &[(Value, Value)], k: &str| out.iter().any(|(n, _)| n.as_str() == Some(k));
    let add = |out: &mut Vec<(Value, Value)>, k: &str, v: Option<Value>| {
        if let Some(v) = v {
            if !has(out, k) && !absent.iter().any(|a| a == k) {
                out.push((Value::from(k), v));
            }
        }
    };
    add(
        &mut out,
        "message_uuid",
        uuid_text(field(record, "id")).map(Value::from),
    );
    add(&mut out, "session_id", field(record, "session_id").cloned());
    add(&mut out, "type", field(record, "role").cloned());
    add(&mut out, "agent_id", field(record, "agent_id").cloned());
    add(
        &mut out,
        "in_reply_to",
        uuid_text(field(record, "in_reply_to")).map(Value::from),
    );
    let part = Value::Map(vec![
        (Value::from("type"), Value::from("text")),
        (
            Value::from("content"),
            field(record, "content").cloned().unwrap_or(Value::from("")),
        ),
    ]);
    add(&mut out, "parts", Some(Value::Array(vec![part])));
    Value::Map(out)
}

/// (title, metadata, created_at) of an lmstore session for one tkr-agent-chat session map.
fn session_parts(key: &str, value: &Value) -> std::result::Result<SessionParts, String> {
    let Value::Map(entries) = value else {
        return Err("the session is not a map".into());
    };
    let title = field(value, "title").and_then(text).map(str::to_owned);
    let created = field(value, "created_at")
        .and_then(text)
        .and_then(iso_micros)
        .filter(|t| (0..=MAX_TS).contains(t));
    let mut metadata = Vec::new();
    for (k, v) in entries {
        let carried = match k.as_str() {
            Some("id") => v.as_str() == Some(key),
            Some("title") => title.is_some(),
            _ => false,
        };
        if !carried {
            metadata.push((k.clone(), v.clone()));
        }
    }
    Ok((title, codec::encode(&Value::Map(metadata)), created))
}

/// The original tkr-agent-chat session map, rebuilt from lmstore's public session map.
pub fn rebuild_session(session: &Value) -> Value {
    let mut out: Vec<(Value, Value)> = match field(session, "metadata") {
        Some(Value::Map(m)) => m.clone(),
        _ => Vec::new(),
    };
    let has = |out: &[(Value, Value)], k: &str| out.iter().any(|(n, _)| n.as_str() == Some(k));
    if !has(&out, "id") {
        if let Some(id) = field(session, "session_id") {
            out.push((Value::from("id"), id.clone()));
        }
    }
    if !has(&out, "title") {
        if let Some(t @ Value::String(_)) = field(session, "title") {
            out.push((Value::from("title"), t.clone()));
        }
    }
    Value::Map(out)
}

fn side_dbs(
    txn: &ForeignTxn<'_>,
    side: &mut SideFile,
    done: &mut u64,
) -> Result<Vec<(String, ForeignDb)>> {
    let mut out = Vec::new();
    for name in super::other_dbs(txn, &OWN_DBS)? {
        let Some(db) = txn.open_db(&name)? else {
            continue;
        };
        // context_by_session is an index of shared_contexts; it is kept too, so the side file
        // holds everything the source had that lmstore does not.
        txn.scan(db, None, &mut |k, v| {
            *done += 1;
            // task_agents values are the raw bytes `1`, not MessagePack (read as MessagePack,
            // that byte would be the integer 49).
            let value = match decode(v) {
                Ok(v) if name != "task_agents" => json(&v),
                _ => super::bytes_json(v),
            };
            side.write(&name, k, value, None)?;
            Ok(true)
        })?;
        out.push((name, db));
    }
    Ok(out)
}

pub(super) fn migrate(
    store: &Store,
    txn: &ForeignTxn<'_>,
    side: &mut SideFile,
    report: &mut MigrationReport,
    progress: &mut Progress<'_>,
) -> Result<()> {
    let missing = |n: &str| crate::Error::invalid(format!("the source has no {n} database"));
    let sessions_db = txn
        .open_db("sessions")?
        .ok_or_else(|| missing("sessions"))?;
    let messages_db = txn
        .open_db("messages")?
        .ok_or_else(|| missing("messages"))?;
    let n_sessions = txn.entries(sessions_db)?;
    let n_messages = txn.entries(messages_db)?;
    let mut known = 2 * (n_sessions + n_messages);
    for name in super::other_dbs(txn, &OWN_DBS)? {
        if let Some(db) = txn.open_db(&name)? {
            known += txn.entries(db)?;
        }
    }
    let mut done = 0u64;
    progress(0, known);
    side_dbs(txn, side, &mut done)?;
    progress(done, known);

    // Sessions first, so each keeps its own title, metadata and creation time.
    let mut batch: Vec<NewSession> = Vec::new();
    let flush_sessions =
        |batch: &mut Vec<NewSession>, report: &mut MigrationReport| -> Result<()> {
            if batch.is_empty() {
                return Ok(());
            }
            let created = store.write(|w| {
                let mut created = Vec::with_capacity(batch.len());
                for (id, title, meta, at) in batch.iter() {
                    match conversations::create_session_at(
                        w,
                        id.as_bytes(),
                        title.as_deref().map(str::as_bytes),
                        meta,
                        *at,
                    ) {
                        Ok(()) => created.push(true),
                        Err(e) if e.kind == ErrorKind::Conflict => created.push(false),
                        Err(e) => return Err(e.context(&format!("session '{id}'"))),
                    }
                }
                Ok(created)
            })?;
            for c in created {
                if c {
                    report.sessions_migrated += 1;
                    report.changed = true;
                } else {
                    report.sessions_unchanged += 1;
                }
            }
            batch.clear();
            Ok(())
        };
    txn.scan(sessions_db, None, &mut |k, v| {
        done += 1;
        let key = String::from_utf8_lossy(k).into_owned();
        let parsed = decode(v).and_then(|value| {
            conversations::keys::check_name(k, "session id").map_err(|e| e.message)?;
            session_parts(&key, &value)
        });
        match parsed {
            Ok((title, meta, at)) => {
                batch.push((key, title, meta, at));
                if batch.len() == BATCH {
                    flush_sessions(&mut batch, report)?;
                    progress(done, known);
                }
            }
            Err(why) => {
                report.failed += 1;
                let value = decode(v)
                    .map(|x| json(&x))
                    .unwrap_or_else(|_| super::bytes_json(v));
                side.write("sessions", k, value, Some(&why))?;
            }
        }
        Ok(true)
    })?;
    flush_sessions(&mut batch, report)?;

    // Messages in key order (each session's in creation order), a batch per transaction.
    let mut messages: Vec<NewMessage> = Vec::with_capacity(BATCH);
    let flush = |messages: &mut Vec<NewMessage>, report: &mut MigrationReport| -> Result<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let appended = store.write(|w| conversations::append(w, messages))?;
        for a in appended {
            if a.duplicate {
                report.messages_unchanged += 1;
            } else {
                report.messages_migrated += 1;
                report.changed = true;
            }
        }
        messages.clear();
        Ok(())
    };
    txn.scan(messages_db, None, &mut |k, v| {
        done += 1;
        match decode(v).and_then(|value| to_message(&value)) {
            Ok(m) => {
                messages.push(m);
                if messages.len() == BATCH {
                    flush(&mut messages, report)?;
                    progress(done, known);
                }
            }
            Err(why) => {
                report.failed += 1;
                let value = decode(v)
                    .map(|x| json(&x))
                    .unwrap_or_else(|_| super::bytes_json(v));
                side.write("messages", k, value, Some(&why))?;
            }
        }
        Ok(true)
    })?;
    flush(&mut messages, report)?;
    progress(done, known);

    verify(
        store,
        txn,
        sessions_db,
        messages_db,
        report,
        &mut done,
        known,
        progress,
    )
}

/// Compares a batch of source messages with the stored ones, in one read transaction.
fn check_messages(
    store: &Store,
    pending: &mut Vec<(Value, NewMessage)>,
    report: &mut MigrationReport,
) -> Result<()> {
    let verdicts = store.read(|r| {
        let mut out = Vec::with_capacity(pending.len());
        for (original, m) in pending.iter() {
            let rec = match conversations::get(r, &m.id) {
                Ok(rec) => codec::decode_value(&rec, "stored message")?,
                Err(e) if e.kind == ErrorKind::NotFound => {
                    out.push(Some("is missing"));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let placed = field(&rec, "ts").and_then(Value::as_i64) == m.ts
                && field(&rec, "session_id").and_then(text) == Some(m.session_id.as_str());
            let same =
                placed && super::canonical(&rebuild_message(&rec)) == super::canonical(original);
            out.push((!same).then_some("differs from the source"));
        }
        Ok(out)
    })?;
    for ((_, m), verdict) in pending.iter().zip(verdicts) {
        if let Some(what) = verdict {
            report.mismatch(format!("message {} {what}", Uuid::from_bytes(m.id)));
        }
    }
    pending.clear();
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn verify(
    store: &Store,
    txn: &ForeignTxn<'_>,
    sessions_db: ForeignDb,
    messages_db: ForeignDb,
    report: &mut MigrationReport,
    done: &mut u64,
    known: u64,
    progress: &mut Progress<'_>,
) -> Result<()> {
    txn.scan(sessions_db, None, &mut |k, v| {
        *done += 1;
        let Ok(original) = decode(v) else {
            return Ok(true);
        };
        if session_parts(&String::from_utf8_lossy(k), &original).is_err()
            || conversations::keys::check_name(k, "session id").is_err()
        {
            return Ok(true);
        }
        report.verified += 1;
        let stored = store.read(|r| match conversations::get_session(r, k) {
            Ok(s) => codec::decode_value(&s, "session").map(Some),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })?;
        let key = String::from_utf8_lossy(k);
        match stored {
            None => report.mismatch(format!("session '{key}' is missing")),
            Some(s) => {
                if super::canonical(&rebuild_session(&s)) != super::canonical(&original) {
                    report.mismatch(format!("session '{key}' differs from the source"));
                }
                let want = field(&original, "created_at")
                    .and_then(text)
                    .and_then(iso_micros);
                if want.is_some() && field(&s, "created_at").and_then(Value::as_i64) != want {
                    report.mismatch(format!("session '{key}' has another creation time"));
                }
            }
        }
        Ok(true)
    })?;
    // Per session, the last (ts, id) seen in source key order: lmstore ranges by (ts, id).
    let mut last: HashMap<String, (i64, [u8; 16])> = HashMap::new();
    let mut pending: Vec<(Value, NewMessage)> = Vec::with_capacity(BATCH);
    txn.scan(messages_db, None, &mut |_, v| {
        *done += 1;
        if *done % BATCH as u64 == 0 {
            progress(*done, known);
        }
        let Ok(original) = decode(v) else {
            return Ok(true);
        };
        let Ok(m) = to_message(&original) else {
            return Ok(true);
        };
        report.verified += 1;
        let ts = m.ts.unwrap_or_default();
        match last.get_mut(&m.session_id) {
            Some(prev) => {
                if (ts, m.id) <= *prev && !report.reordered_sessions.contains(&m.session_id) {
                    report.reordered_sessions.push(m.session_id.clone());
                }
                *prev = (ts, m.id);
            }
            None => {
                last.insert(m.session_id.clone(), (ts, m.id));
            }
        }
        pending.push((original, m));
        if pending.len() == BATCH {
            check_messages(store, &mut pending, report)?;
        }
        Ok(true)
    })?;
    check_messages(store, &mut pending, report)?;
    for name in ["message_by_session", "message_by_agent"] {
        let Some(db) = txn.open_db(name)? else {
            continue;
        };
        // Ids the index names, checked a batch per read transaction; None: not a UUID.
        let mut ids: Vec<Option<[u8; 16]>> = Vec::with_capacity(BATCH);
        let mut check = |ids: &mut Vec<Option<[u8; 16]>>| -> Result<()> {
            let missing = store.read(|r| {
                let mut n = 0u64;
                for id in ids.iter() {
                    let found = match id {
                        Some(id) => match conversations::get(r, id) {
                            Ok(_) => true,
                            Err(e) if e.kind == ErrorKind::NotFound => false,
                            Err(e) => return Err(e),
                        },
                        None => false,
                    };
                    n += u64::from(!found);
                }
                Ok(n)
            })?;
            report.dangling_index_entries += missing;
            ids.clear();
            Ok(())
        };
        txn.scan(db, None, &mut |_, v| {
            ids.push(
                decode(v)
                    .ok()
                    .and_then(|x| x.as_str().and_then(|s| Uuid::parse_str(s).ok()))
                    .map(Uuid::into_bytes),
            );
            if ids.len() == BATCH {
                check(&mut ids)?;
            }
            Ok(true)
        })?;
        check(&mut ids)?;
    }
    progress(known, known);
    Ok(())
}
