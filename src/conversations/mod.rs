//! Sessions and messages: appends with a strict per-session order, ranges with exact cursors,
//! and the id, agent and activity indexes, each updated in the transaction that changes the
//! record it points to. Key layouts are in [`keys`] and docs/format.md.

pub mod cursor;
pub mod keys;
pub mod record;
pub mod restore;
mod verify;

pub use cursor::{CursorKind, MAX_CURSOR};
pub use record::{NewMessage, SessionHead};
pub use verify::verify;

use crate::codec::{now_micros, write_array_len};
use crate::error::{Error, Result};
use crate::format::compress::Packing;
use crate::meta::{self, Counter};
use crate::storage::{ReadTxn, Start, Table, WriteTxn};
use std::ops::Range;

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
        let header = array_header(count);
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
        // Activity is "now" for the session just written, the latest there is: the index
        // grows at its end, where LMDB appends into full pages instead of splitting in half.
        txn.put_last(
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
    let mut bodies = record::BodySize::default();
    let mut runs = Runs::with_capacity(
        messages.len(),
        messages
            .iter()
            .map(|m| 64 + m.session_id.len() + m.content.len() + m.metadata.len())
            .sum(),
    );
    let packing = meta::packing(txn)?;
    for msg in messages {
        let existing = if msg.generated_id {
            None
        } else {
            txn.get(Table::MessageIds, &msg.id)?
        };
        if let Some(key) = existing {
            let (_, ts, _) = keys::split_entry(key)?;
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
        let times = msg.recorded_times.unwrap_or((now, now));
        bodies.add(write_message(
            txn,
            msg,
            ts,
            times,
            packing.as_ref(),
            &mut runs,
        )?);
        stored += 1;
        out.push(Appended {
            id: msg.id,
            ts,
            duplicate: false,
        });
    }
    runs.put(txn)?;
    for (session, old_activity, head) in &sessions {
        store_session(txn, session, *old_activity, head)?;
    }
    if stored > 0 {
        meta::add(txn, Counter::Messages, stored)?;
        meta::add_body(txn, bodies, 1)?;
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
    let mut body = Page::builder(page_capacity(q.limit));
    let (count, next) = range_to(txn, kind, name, q, &mut body)?;
    Ok(Page::finish(body, count, next))
}

/// Bytes kept in front of a page's records for its array header, whose size follows from the
/// count, at most `limit`: room for the larger form, given back when the page ends up short.
pub fn header_room(limit: u32) -> usize {
    if limit >= 16 {
        3
    } else {
        1
    }
}

/// Bytes a page of at most `limit` records is given at first: most chat messages take less
/// than 512 as records, and larger ones grow it.
pub fn page_capacity(limit: u32) -> usize {
    limit.min(256) as usize * 512
}

/// The MessagePack array header of a page of `count` records.
pub fn array_header(count: u32) -> Vec<u8> {
    let mut header = Vec::with_capacity(5);
    write_array_len(&mut header, count);
    header
}

/// Ranges one session (`kind` Session) or one agent across sessions (`kind` Agent), writing
/// each record to `body` (after the caller's [`header_room`]); returns the count and the
/// cursor of the next page.
pub fn range_to(
    txn: &impl ReadTxn,
    kind: CursorKind,
    name: &[u8],
    q: &RangeQuery<'_>,
    body: &mut impl record::PageWrite,
) -> Result<(u32, Option<Vec<u8>>)> {
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
        .map(|c| cursor::decode(c, kind, q.reverse, name))
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
            record::write_public(txn, v, record, body)?;
        } else {
            record::write_public(txn, k, v, body)?;
        }
        count += 1;
        if count == q.limit {
            // Only a full page needs a cursor; it is kept if the scan finds one more item.
            next = Some(cursor::encode(kind, q.reverse, name, &k[prefix.len()..]));
        }
        Ok(true)
    })?;
    Ok((count, next.filter(|_| more)))
}

fn find(txn: &impl ReadTxn, id: &[u8]) -> Result<Vec<u8>> {
    let id = record::check_id(id, "message id")?;
    txn.get(Table::MessageIds, &id)?
        .map(<[u8]>::to_vec)
        .ok_or_else(|| {
            Error::not_found(format!("message {} not found", uuid::Uuid::from_bytes(id)))
        })
}

/// The public record of one message.
pub fn get(txn: &impl ReadTxn, id: &[u8]) -> Result<Vec<u8>> {
    let key = find(txn, id)?;
    let stored = txn
        .get(Table::Messages, &key)?
        .ok_or_else(|| Error::corrupt("message id index points at a missing message"))?;
    record::public_record(txn, &key, stored)
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
    let before = record::body_size(&key, record)?;
    let packing = meta::packing(txn)?;
    let (updated, after) = record::update_record(
        txn,
        packing.as_ref(),
        &key,
        record,
        content,
        metadata.as_deref(),
        now_micros(),
    )?;
    txn.put(Table::Messages, &key, &updated)?;
    meta::add_body(txn, before, -1)?;
    meta::add_body(txn, after, 1)
}

/// Entries of a batch of new messages, put last and sorted: each session's new messages (and
/// each agent's) then sit together, and LMDB can write them as runs (see
/// [`WriteTxn::put_run`]). Collected by appends and restores, put by [`Runs::put`] in the same
/// transaction.
#[derive(Default)]
pub struct Runs {
    /// The batch's keys and records back to back: one growing buffer rather than two
    /// allocations per message (measured: allocation was a sixth of an append's CPU).
    bytes: Vec<u8>,
    /// (key, value) ranges in `bytes`.
    messages: Vec<(Range<usize>, Range<usize>)>,
    agents: Vec<(Range<usize>, Range<usize>)>,
}

impl Runs {
    /// Room for `messages` of about `bytes` in all, so the buffer grows once.
    pub fn with_capacity(messages: usize, bytes: usize) -> Runs {
        Runs {
            bytes: Vec::with_capacity(bytes),
            messages: Vec::with_capacity(messages),
            agents: Vec::new(),
        }
    }

    pub fn put(self, txn: &mut impl WriteTxn) -> Result<()> {
        let bytes = &self.bytes;
        for (table, mut entries) in [
            (Table::Messages, self.messages),
            (Table::AgentIndex, self.agents),
        ] {
            entries.sort_unstable_by(|a, b| bytes[a.0.clone()].cmp(&bytes[b.0.clone()]));
            let run: Vec<(&[u8], &[u8])> = entries
                .iter()
                .map(|(k, v)| (&bytes[k.clone()], &bytes[v.clone()]))
                .collect();
            txn.put_run(table, &run)?;
        }
        Ok(())
    }
}

/// Writes a new message: its id index entry at once (later messages of the batch are checked
/// against it), its record and agent index entry into `runs`. The one list of a message's
/// entries, undone by [`remove`]. Returns the sizes of its body, for the counters.
pub(crate) fn write_message(
    txn: &mut impl WriteTxn,
    msg: &NewMessage,
    ts: i64,
    (created_at, updated_at): (i64, i64),
    packing: Option<&Packing>,
    runs: &mut Runs,
) -> Result<record::BodySize> {
    let start = runs.bytes.len();
    keys::entry_into(&mut runs.bytes, msg.session_id.as_bytes(), ts, &msg.id);
    let key = start..runs.bytes.len();
    let size = msg.encode_record_into(&mut runs.bytes, ts, created_at, updated_at, packing);
    let record = key.end..runs.bytes.len();
    debug_assert_eq!(
        record::body_size(&runs.bytes[key.clone()], &runs.bytes[record.clone()]).ok(),
        Some(size)
    );
    if msg.generated_id {
        // A fresh UUIDv7 sorts after every stored id, so LMDB can append it.
        txn.put_last(Table::MessageIds, &msg.id, &runs.bytes[key.clone()])?;
    } else {
        txn.put(Table::MessageIds, &msg.id, &runs.bytes[key.clone()])?;
    }
    if let Some(agent) = &msg.agent_id {
        let start = runs.bytes.len();
        keys::entry_into(&mut runs.bytes, agent.as_bytes(), ts, &msg.id);
        let agent_key = start..runs.bytes.len();
        runs.bytes.extend_from_within(key.clone());
        runs.agents
            .push((agent_key.clone(), agent_key.end..runs.bytes.len()));
    }
    runs.messages.push((key, record));
    Ok(size)
}

/// Removes one message by its messages key, with its index entries and counts; returns the
/// sizes of its body, for the counters.
fn remove(txn: &mut impl WriteTxn, key: &[u8], head: &mut SessionHead) -> Result<record::BodySize> {
    let (_, ts, id) = keys::split_entry(key)?;
    let (agent, size) = match txn.get(Table::Messages, key)? {
        Some(record) => (
            record::agent_of(key, record)?,
            record::body_size(key, record)?,
        ),
        None => return Err(Error::corrupt("message key vanished during delete")),
    };
    txn.del(Table::Messages, key)?;
    txn.del(Table::MessageIds, &id)?;
    if let Some(agent) = agent {
        txn.del(Table::AgentIndex, &keys::entry(agent.as_bytes(), ts, &id))?;
    }
    head.message_count = head.message_count.saturating_sub(1);
    Ok(size)
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
    let session = keys::split_entry(&key)?.0.to_vec();
    let mut head = session_for_update(txn, &session)?;
    let activity = head.last_activity;
    let size = remove(txn, &key, &mut head)?;
    store_session(txn, &session, Some(activity), &head)?;
    meta::add_body(txn, size, -1)?;
    meta::add(txn, Counter::Messages, -1)
}

/// What [`collect_keys`] does with the key it meets.
enum Pick {
    /// Leave this message and go on.
    Keep,
    /// Collect this message's key and go on.
    Take,
    /// End the scan here.
    Stop,
}

fn collect_keys(
    txn: &impl ReadTxn,
    prefix: &[u8],
    backward: bool,
    mut pick: impl FnMut(&[u8]) -> Result<Pick>,
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
        match pick(k)? {
            Pick::Stop => Ok(false),
            Pick::Keep => Ok(true),
            Pick::Take => {
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
    let mut bodies = record::BodySize::default();
    for key in &doomed {
        bodies.add(remove(txn, key, &mut head)?);
    }
    store_session(txn, session, Some(activity), &head)?;
    meta::add_body(txn, bodies, -1)?;
    meta::add(txn, Counter::Messages, -(doomed.len() as i64))?;
    Ok(doomed.len() as u64)
}

/// Keeps a session's newest `keep` messages; returns how many were deleted.
pub fn trim_to_count(txn: &mut impl WriteTxn, session: &[u8], keep: u64) -> Result<u64> {
    keys::check_name(session, "session_id")?;
    let mut seen = 0u64;
    let doomed = collect_keys(txn, &keys::prefix(session), true, |_| {
        seen += 1;
        Ok(if seen <= keep { Pick::Keep } else { Pick::Take })
    })?;
    delete_keys(txn, session, doomed)
}

/// Deletes a session's messages with ts < `before`; returns how many.
pub fn trim_before(txn: &mut impl WriteTxn, session: &[u8], before: i64) -> Result<u64> {
    keys::check_name(session, "session_id")?;
    let prefix = keys::prefix(session);
    let doomed = collect_keys(txn, &prefix, false, |k| {
        let (ts, _) = keys::tail(k, prefix.len())?;
        Ok(if ts < before { Pick::Take } else { Pick::Stop })
    })?;
    delete_keys(txn, session, doomed)
}

pub fn create_session(
    txn: &mut impl WriteTxn,
    session: &[u8],
    title: Option<&[u8]>,
    metadata: &[u8],
) -> Result<()> {
    create_session_at(txn, session, title, metadata, None)
}

/// [`create_session`] with the creation time given (µs), for imports and migrations that carry
/// the original one; `None` means now.
pub fn create_session_at(
    txn: &mut impl WriteTxn,
    session: &[u8],
    title: Option<&[u8]>,
    metadata: &[u8],
    created_at: Option<i64>,
) -> Result<()> {
    keys::check_name(session, "session_id")?;
    if let Some(t) = created_at {
        if !(0..=record::MAX_TS).contains(&t) {
            return Err(Error::invalid(format!(
                "session created_at must be between 0 and {} µs, got {t}",
                record::MAX_TS
            )));
        }
    }
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
        created_at: created_at.unwrap_or(now),
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
    let doomed = collect_keys(txn, &keys::prefix(session), false, |_| Ok(Pick::Take))?;
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
        .map(|c| cursor::decode(c, CursorKind::Sessions, true, b""))
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
        last.map(|p| cursor::encode(CursorKind::Sessions, true, b"", &p))
    } else {
        None
    };
    Ok(Page::finish(body, count, next))
}
