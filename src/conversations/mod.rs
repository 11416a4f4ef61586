//! Sessions and messages: appends with a strict per-session order, ranges with exact cursors,
//! and the id, agent and activity indexes, each updated in the transaction that changes the
//! record it points to. Key layouts are in [`keys`] and docs/format.md.

pub mod cursor;
pub mod keys;
pub mod record;

pub use cursor::{CursorKind, MAX_CURSOR};
pub use record::{NewMessage, SessionHead};

use crate::codec::{now_micros, write_array_len};
use crate::error::{Error, Result};
use crate::meta::{self, Counter};
use crate::storage::{ReadTxn, Start, Table, WriteTxn};
use std::collections::HashMap;

/// The most items one page may hold.
pub const MAX_PAGE: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub id: [u8; 16],
    pub ts: i64,
    /// The id was already stored; nothing was written.
    pub duplicate: bool,
}

/// Which messages a range returns. Times are microseconds; `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, Default)]
pub struct RangeQuery<'a> {
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub limit: u32,
    pub reverse: bool,
    pub cursor: Option<&'a [u8]>,
}

/// One page: a MessagePack array of records, and the cursor for the next page (None at the end).
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Room for the array header, then the records; the header is written last, right-aligned
    /// in its room, so the records are copied from the map exactly once.
    buf: Vec<u8>,
    start: usize,
    pub count: u32,
    pub next: Option<Vec<u8>>,
}

const HEADER_ROOM: usize = 5;

impl Page {
    fn builder(capacity: usize) -> Vec<u8> {
        let mut buf = Vec::with_capacity(HEADER_ROOM + capacity);
        buf.resize(HEADER_ROOM, 0);
        buf
    }

    fn finish(mut buf: Vec<u8>, count: u32, next: Option<Vec<u8>>) -> Page {
        let mut header = Vec::with_capacity(HEADER_ROOM);
        write_array_len(&mut header, count);
        let start = HEADER_ROOM - header.len();
        buf[start..HEADER_ROOM].copy_from_slice(&header);
        Page {
            buf,
            start,
            count,
            next,
        }
    }

    /// The page as one MessagePack array.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

fn check_limit(limit: u32) -> Result<()> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(Error::invalid(format!(
            "limit must be between 1 and {MAX_PAGE}, got {limit}"
        )));
    }
    Ok(())
}

fn load_session(txn: &impl ReadTxn, session: &[u8]) -> Result<Option<SessionHead>> {
    txn.get(Table::Sessions, session)?
        .map(SessionHead::decode)
        .transpose()
}

fn store_session(
    txn: &mut impl WriteTxn,
    session: &[u8],
    old_activity: Option<i64>,
    head: &SessionHead,
) -> Result<()> {
    if old_activity != Some(head.last_activity) {
        if let Some(old) = old_activity {
            txn.del(Table::SessionActivity, &keys::activity(old, session))?;
        }
        txn.put(
            Table::SessionActivity,
            &keys::activity(head.last_activity, session),
            &[],
        )?;
    }
    txn.put(Table::Sessions, session, &head.encode())
}

/// Appends `messages` in one transaction. Assigned timestamps never go below a session's last
/// one (they advance by at least 1 µs), so a clock stepping back cannot reorder history.
pub fn append(txn: &mut impl WriteTxn, messages: &[NewMessage]) -> Result<Vec<Appended>> {
    let now = now_micros();
    // The sessions this batch touches, with their activity before it. A batch usually holds
    // one session or a few, so a short list searched from its end beats hashing every message.
    let mut sessions: Vec<(&[u8], Option<i64>, SessionHead)> = Vec::new();
    let mut out = Vec::with_capacity(messages.len());
    let mut stored = 0i64;
    for msg in messages {
        let existing = if msg.generated_id {
            None
        } else {
            txn.get(Table::MessageIds, &msg.id)?
        };
        if let Some(key) = existing {
            let (ts, _) = keys::tail(key, 1 + *key.first().unwrap_or(&0) as usize)?;
            out.push(Appended {
                id: msg.id,
                ts,
                duplicate: true,
            });
            continue;
        }
        let session = msg.session_id.as_bytes();
        let slot = match sessions.iter().rposition(|(name, _, _)| *name == session) {
            Some(slot) => slot,
            None => {
                let entry = match load_session(txn, session)? {
                    Some(h) => (session, Some(h.last_activity), h),
                    None => {
                        meta::add(txn, Counter::Sessions, 1)?;
                        let fresh = SessionHead {
                            created_at: now,
                            updated_at: now,
                            metadata: vec![0x80],
                            ..Default::default()
                        };
                        (session, None, fresh)
                    }
                };
                sessions.push(entry);
                sessions.len() - 1
            }
        };
        let head = &mut sessions[slot].2;
        let ts = match msg.ts {
            Some(ts) => ts,
            None if head.message_count == 0 && head.last_ts == 0 => now,
            None => now.max(head.last_ts.saturating_add(1)),
        };
        head.last_ts = head.last_ts.max(ts);
        head.last_activity = head.last_activity.max(now);
        head.message_count += 1;
        let key = keys::entry(session, ts, &msg.id);
        txn.put(Table::Messages, &key, &msg.encode_record(ts, now))?;
        if msg.generated_id {
            txn.put_last(Table::MessageIds, &msg.id, &key)?;
        } else {
            txn.put(Table::MessageIds, &msg.id, &key)?;
        }
        if let Some(agent) = &msg.agent_id {
            txn.put(
                Table::AgentIndex,
                &keys::entry(agent.as_bytes(), ts, &msg.id),
                &key,
            )?;
        }
        stored += 1;
        out.push(Appended {
            id: msg.id,
            ts,
            duplicate: false,
        });
    }
    for (session, old_activity, head) in &sessions {
        store_session(txn, session, *old_activity, head)?;
    }
    if stored > 0 {
        meta::add(txn, Counter::Messages, stored)?;
    }
    Ok(out)
}

/// Ranges one session (`kind` Session) or one agent across sessions (`kind` Agent).
pub fn range(
    txn: &impl ReadTxn,
    kind: CursorKind,
    name: &[u8],
    q: &RangeQuery<'_>,
) -> Result<Page> {
    let what = if kind == CursorKind::Agent {
        "agent_id"
    } else {
        "session_id"
    };
    keys::check_name(name, what)?;
    check_limit(q.limit)?;
    let table = if kind == CursorKind::Agent {
        Table::AgentIndex
    } else {
        Table::Messages
    };
    let prefix = keys::prefix(name);
    let position = q
        .cursor
        .map(|c| cursor::decode(c, kind, q.reverse))
        .transpose()?;
    let mut start_key = prefix.clone();
    match (position, q.reverse) {
        (Some(pos), _) => start_key.extend_from_slice(pos),
        (None, false) => {
            start_key.extend_from_slice(&(q.start.unwrap_or(0).max(0) as u64).to_be_bytes())
        }
        (None, true) => match q.end {
            Some(end) => start_key.extend_from_slice(&(end.max(0) as u64).to_be_bytes()),
            None => start_key.extend_from_slice(&[0xff; 8]),
        },
    }
    let mut body = Page::builder(q.limit.min(256) as usize * 256);
    let mut count = 0u32;
    let mut next = None;
    let mut more = false;
    txn.scan(table, Start::At(&start_key), q.reverse, &mut |k, v| {
        if !k.starts_with(&prefix) {
            return Ok(false);
        }
        if position.is_some() && k == start_key.as_slice() {
            return Ok(true); // the cursor is exclusive
        }
        let (ts, _) = keys::tail(k, prefix.len())?;
        let in_window = q.start.is_none_or(|s| ts >= s) && q.end.is_none_or(|e| ts < e);
        if !in_window {
            // Forward scans end past `end`; backward scans end before `start`.
            return Ok(!((q.reverse && q.start.is_some_and(|s| ts < s))
                || (!q.reverse && q.end.is_some_and(|e| ts >= e))));
        }
        if count == q.limit {
            more = true;
            return Ok(false);
        }
        if kind == CursorKind::Agent {
            let record = txn
                .get(Table::Messages, v)?
                .ok_or_else(|| Error::corrupt("agent index points at a missing message"))?;
            body.extend_from_slice(record);
        } else {
            body.extend_from_slice(v);
        }
        count += 1;
        if count == q.limit {
            // Only a full page needs a cursor; it is kept if the scan finds one more item.
            next = Some(cursor::encode(kind, q.reverse, &k[prefix.len()..]));
        }
        Ok(true)
    })?;
    Ok(Page::finish(body, count, next.filter(|_| more)))
}

fn find(txn: &impl ReadTxn, id: &[u8]) -> Result<Vec<u8>> {
    let id = record::check_id(id, "message id")?;
    txn.get(Table::MessageIds, &id)?
        .map(<[u8]>::to_vec)
        .ok_or_else(|| {
            Error::not_found(format!("message {} not found", uuid::Uuid::from_bytes(id)))
        })
}

/// Borrows the stored record of one message.
pub fn get<'t>(txn: &'t impl ReadTxn, id: &[u8]) -> Result<&'t [u8]> {
    let key = find(txn, id)?;
    txn.get(Table::Messages, &key)?
        .ok_or_else(|| Error::corrupt("message id index points at a missing message"))
}

/// Replaces a message's content and/or metadata; its place (session, ts, id) stays.
pub fn update(
    txn: &mut impl WriteTxn,
    id: &[u8],
    content: Option<&[u8]>,
    metadata: Option<&[u8]>,
) -> Result<()> {
    let content = content
        .map(|c| crate::error::utf8(c, "content"))
        .transpose()?;
    let metadata = metadata
        .map(|m| record::metadata_bytes(m, "message metadata"))
        .transpose()?;
    if content.is_none() && metadata.is_none() {
        return Err(Error::invalid("update names neither content nor metadata"));
    }
    let key = find(txn, id)?;
    let record = txn
        .get(Table::Messages, &key)?
        .ok_or_else(|| Error::corrupt("message id index points at a missing message"))?;
    let updated = record::update_record(record, content, metadata.as_deref(), now_micros())?;
    txn.put(Table::Messages, &key, &updated)
}

/// Removes one message by its messages key, with its index entries and counts.
fn remove(txn: &mut impl WriteTxn, key: &[u8], head: &mut SessionHead) -> Result<()> {
    let session_len = 1 + *key.first().unwrap_or(&0) as usize;
    let (ts, id) = keys::tail(key, session_len)?;
    let agent = match txn.get(Table::Messages, key)? {
        Some(record) => record::agent_of(record)?,
        None => return Err(Error::corrupt("message key vanished during delete")),
    };
    txn.del(Table::Messages, key)?;
    txn.del(Table::MessageIds, &id)?;
    if let Some(agent) = agent {
        txn.del(Table::AgentIndex, &keys::entry(agent.as_bytes(), ts, &id))?;
    }
    head.message_count = head.message_count.saturating_sub(1);
    Ok(())
}

fn session_for_update(txn: &impl ReadTxn, session: &[u8]) -> Result<SessionHead> {
    load_session(txn, session)?.ok_or_else(|| {
        Error::not_found(format!(
            "session '{}' not found",
            String::from_utf8_lossy(session)
        ))
    })
}

pub fn delete(txn: &mut impl WriteTxn, id: &[u8]) -> Result<()> {
    let key = find(txn, id)?;
    let session = keys::session_of(&key)?.to_vec();
    let mut head = session_for_update(txn, &session)?;
    let activity = head.last_activity;
    remove(txn, &key, &mut head)?;
    store_session(txn, &session, Some(activity), &head)?;
    meta::add(txn, Counter::Messages, -1)
}

fn collect_keys(
    txn: &impl ReadTxn,
    prefix: &[u8],
    backward: bool,
    mut keep: impl FnMut(&[u8]) -> Result<Option<bool>>,
) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut start = prefix.to_vec();
    if backward {
        start.extend_from_slice(&[0xff; 8]);
    }
    txn.scan(Table::Messages, Start::At(&start), backward, &mut |k, _| {
        if !k.starts_with(prefix) {
            return Ok(false);
        }
        match keep(k)? {
            None => Ok(false),
            Some(true) => Ok(true),
            Some(false) => {
                out.push(k.to_vec());
                Ok(true)
            }
        }
    })?;
    Ok(out)
}

fn delete_keys(txn: &mut impl WriteTxn, session: &[u8], doomed: Vec<Vec<u8>>) -> Result<u64> {
    if doomed.is_empty() {
        return Ok(0);
    }
    let mut head = session_for_update(txn, session)?;
    let activity = head.last_activity;
    for key in &doomed {
        remove(txn, key, &mut head)?;
    }
    store_session(txn, session, Some(activity), &head)?;
    meta::add(txn, Counter::Messages, -(doomed.len() as i64))?;
    Ok(doomed.len() as u64)
}

/// Keeps a session's newest `keep` messages; returns how many were deleted.
pub fn trim_to_count(txn: &mut impl WriteTxn, session: &[u8], keep: u64) -> Result<u64> {
    keys::check_name(session, "session_id")?;
    let mut seen = 0u64;
    let doomed = collect_keys(txn, &keys::prefix(session), true, |_| {
        seen += 1;
        Ok(Some(seen <= keep))
    })?;
    delete_keys(txn, session, doomed)
}

/// Deletes a session's messages with ts < `before`; returns how many.
pub fn trim_before(txn: &mut impl WriteTxn, session: &[u8], before: i64) -> Result<u64> {
    keys::check_name(session, "session_id")?;
    let prefix = keys::prefix(session);
    let doomed = collect_keys(txn, &prefix, false, |k| {
        let (ts, _) = keys::tail(k, prefix.len())?;
        Ok(if ts < before { Some(false) } else { None })
    })?;
    delete_keys(txn, session, doomed)
}

pub fn create_session(
    txn: &mut impl WriteTxn,
    session: &[u8],
    title: Option<&[u8]>,
    metadata: &[u8],
) -> Result<()> {
    keys::check_name(session, "session_id")?;
    let title = title
        .map(|t| crate::error::utf8(t, "title").map(str::to_owned))
        .transpose()?;
    let metadata = record::metadata_bytes(metadata, "session metadata")?;
    if load_session(txn, session)?.is_some() {
        return Err(Error::conflict(format!(
            "session '{}' already exists",
            String::from_utf8_lossy(session)
        )));
    }
    let now = now_micros();
    let head = SessionHead {
        created_at: now,
        updated_at: now,
        last_activity: now,
        title,
        metadata,
        ..Default::default()
    };
    store_session(txn, session, None, &head)?;
    meta::add(txn, Counter::Sessions, 1)
}

/// The public form of a session (a MessagePack map).
pub fn get_session(txn: &impl ReadTxn, session: &[u8]) -> Result<Vec<u8>> {
    keys::check_name(session, "session_id")?;
    let head = session_for_update(txn, session)?;
    let mut out = Vec::with_capacity(128);
    head.write_public(session, &mut out);
    Ok(out)
}

/// Sets a session's title and/or metadata (None leaves a field as it is).
pub fn update_session(
    txn: &mut impl WriteTxn,
    session: &[u8],
    title: Option<&[u8]>,
    metadata: Option<&[u8]>,
) -> Result<()> {
    keys::check_name(session, "session_id")?;
    let title = title
        .map(|t| crate::error::utf8(t, "title").map(str::to_owned))
        .transpose()?;
    let metadata = metadata
        .map(|m| record::metadata_bytes(m, "session metadata"))
        .transpose()?;
    if title.is_none() && metadata.is_none() {
        return Err(Error::invalid("update names neither title nor metadata"));
    }
    let mut head = session_for_update(txn, session)?;
    let activity = head.last_activity;
    if let Some(t) = title {
        // An empty title is no title: (NULL, 0) across the ABI clears it.
        head.title = Some(t).filter(|t| !t.is_empty());
    }
    if let Some(m) = metadata {
        head.metadata = m;
    }
    head.updated_at = now_micros();
    store_session(txn, session, Some(activity), &head)
}

/// Deletes a session with all its messages and index entries; returns how many messages went.
pub fn delete_session(txn: &mut impl WriteTxn, session: &[u8]) -> Result<u64> {
    keys::check_name(session, "session_id")?;
    let head = session_for_update(txn, session)?;
    let doomed = collect_keys(txn, &keys::prefix(session), false, |_| Ok(Some(false)))?;
    let deleted = delete_keys(txn, session, doomed)?;
    txn.del(
        Table::SessionActivity,
        &keys::activity(head.last_activity, session),
    )?;
    txn.del(Table::Sessions, session)?;
    meta::add(txn, Counter::Sessions, -1)?;
    Ok(deleted)
}

/// Sessions by most recent activity (newest first), as a page of session maps.
pub fn list_sessions(txn: &impl ReadTxn, cursor: Option<&[u8]>, limit: u32) -> Result<Page> {
    check_limit(limit)?;
    let position = cursor
        .map(|c| cursor::decode(c, CursorKind::Sessions, true))
        .transpose()?;
    let start = match position {
        Some(p) => Start::At(p),
        None => Start::Edge,
    };
    let mut body = Page::builder(limit.min(256) as usize * 128);
    let mut count = 0u32;
    let mut last = None;
    let mut more = false;
    txn.scan(Table::SessionActivity, start, true, &mut |k, _| {
        if position == Some(k) {
            return Ok(true);
        }
        if count == limit {
            more = true;
            return Ok(false);
        }
        let session = k
            .get(8..)
            .ok_or_else(|| Error::corrupt("activity key is truncated"))?;
        let head = load_session(txn, session)?
            .ok_or_else(|| Error::corrupt("activity index points at a missing session"))?;
        head.write_public(session, &mut body);
        count += 1;
        last = Some(k.to_vec());
        Ok(true)
    })?;
    let next = if more {
        last.map(|p| cursor::encode(CursorKind::Sessions, true, &p))
    } else {
        None
    };
    Ok(Page::finish(body, count, next))
}

/// Checks that every index agrees with the records and the counters: each message has its id
/// and agent entries, every index entry points at a message, session counts and the activity
/// index match. Returns the number of messages checked, or a Corrupt error naming the first
/// disagreement.
pub fn verify(txn: &impl ReadTxn) -> Result<u64> {
    let corrupt = |what: String| Err(Error::corrupt(what));
    let mut messages = 0u64;
    let mut per_session: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut problem: Option<String> = None;
    txn.scan(Table::Messages, Start::Edge, false, &mut |k, v| {
        let session = keys::session_of(k)?;
        let (ts, id) = keys::tail(k, 1 + session.len())?;
        if txn.get(Table::MessageIds, &id)? != Some(k) {
            problem = Some(format!(
                "message {} has no matching id index entry",
                uuid::Uuid::from_bytes(id)
            ));
            return Ok(false);
        }
        if let Some(agent) = record::agent_of(v)? {
            if txn.get(Table::AgentIndex, &keys::entry(agent.as_bytes(), ts, &id))? != Some(k) {
                problem = Some(format!(
                    "message {} has no matching agent index entry",
                    uuid::Uuid::from_bytes(id)
                ));
                return Ok(false);
            }
        }
        *per_session.entry(session.to_vec()).or_default() += 1;
        messages += 1;
        Ok(true)
    })?;
    if let Some(p) = problem {
        return corrupt(p);
    }
    for (table, what) in [
        (Table::MessageIds, "id index"),
        (Table::AgentIndex, "agent index"),
    ] {
        let mut entries = 0u64;
        txn.scan(table, Start::Edge, false, &mut |_, v| {
            if txn.get(Table::Messages, v)?.is_none() {
                problem = Some(format!("{what} points at a missing message"));
                return Ok(false);
            }
            entries += 1;
            Ok(true)
        })?;
        if let Some(p) = problem.take() {
            return corrupt(p);
        }
        if table == Table::MessageIds && entries != messages {
            return corrupt(format!(
                "{entries} id index entries for {messages} messages"
            ));
        }
    }
    let mut sessions = 0u64;
    txn.scan(Table::Sessions, Start::Edge, false, &mut |k, v| {
        let head = SessionHead::decode(v)?;
        let counted = per_session.remove(k).unwrap_or(0);
        if head.message_count != counted {
            problem = Some(format!(
                "session '{}' records {} messages but holds {counted}",
                String::from_utf8_lossy(k),
                head.message_count
            ));
            return Ok(false);
        }
        if txn
            .get(
                Table::SessionActivity,
                &keys::activity(head.last_activity, k),
            )?
            .is_none()
        {
            problem = Some(format!(
                "session '{}' is missing from the activity index",
                String::from_utf8_lossy(k)
            ));
            return Ok(false);
        }
        sessions += 1;
        Ok(true)
    })?;
    if let Some(p) = problem {
        return corrupt(p);
    }
    if let Some((orphan, _)) = per_session.into_iter().next() {
        return corrupt(format!(
            "messages of session '{}' exist without the session",
            String::from_utf8_lossy(&orphan)
        ));
    }
    let counted = (
        meta::get(txn, Counter::Messages)?,
        meta::get(txn, Counter::Sessions)?,
    );
    if counted != (messages, sessions) {
        return corrupt(format!(
            "counters say {} messages in {} sessions; the tables hold {messages} in {sessions}",
            counted.0, counted.1
        ));
    }
    Ok(messages)
}
