//! Writing sessions and messages back exactly as a dump recorded them (restore): original
//! times and counts instead of "now", through the same keys and indexes as appends.

use super::record::{self, NewMessage, SessionHead};
use super::{keys, load_session, store_session, Runs};
use crate::error::{Error, Result};
use crate::meta::{self, Counter};
use crate::storage::{Table, WriteTxn};

/// Writes a session head as recorded: created/updated/last times, message count, title and
/// metadata. Its messages are restored with [`restore_message`], which leaves the head alone.
pub fn restore_session(txn: &mut impl WriteTxn, session: &[u8], head: &SessionHead) -> Result<()> {
    keys::check_name(session, "session_id")?;
    record::metadata_bytes(&head.metadata, "session metadata")?;
    for (what, t) in [
        ("created_at", head.created_at),
        ("updated_at", head.updated_at),
        ("last_ts", head.last_ts),
        ("last_activity", head.last_activity),
    ] {
        if !(0..=record::MAX_TS).contains(&t) {
            return Err(Error::invalid(format!(
                "session {what} must be between 0 and {} µs, got {t}",
                record::MAX_TS
            )));
        }
    }
    if load_session(txn, session)?.is_some() {
        return Err(Error::conflict(format!(
            "session '{}' already exists",
            String::from_utf8_lossy(session)
        )));
    }
    store_session(txn, session, None, head)?;
    meta::add(txn, Counter::Sessions, 1)
}

/// Writes one message with its recorded `ts`, `created_at` and `updated_at`, with its id and
/// agent index entries; the record and the agent entry go into `runs`, which the caller puts
/// before its transaction ends. `msg.ts` must be set.
pub fn restore_message(
    txn: &mut impl WriteTxn,
    msg: &NewMessage,
    created_at: i64,
    updated_at: i64,
    runs: &mut Runs,
) -> Result<()> {
    let ts = msg
        .ts
        .ok_or_else(|| Error::invalid("a restored message needs its ts"))?;
    if txn.get(Table::MessageIds, &msg.id)?.is_some() {
        return Err(Error::conflict(format!(
            "message {} already exists",
            uuid::Uuid::from_bytes(msg.id)
        )));
    }
    let packing = crate::meta::packing(txn)?;
    let size = super::write_message(
        txn,
        msg,
        ts,
        (created_at, updated_at),
        packing.as_ref(),
        runs,
    )?;
    meta::add_body(txn, size, 1)?;
    meta::add(txn, Counter::Messages, 1)
}
