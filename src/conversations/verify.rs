//! The conversation indexes checked against the records and the counters.

use super::{keys, record, SessionHead};
use crate::error::{Error, Result};
use crate::meta::{self, Counter};
use crate::storage::{ReadTxn, Start, Table};
use std::collections::HashMap;

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
        let (session, ts, id) = keys::split_entry(k)?;
        if txn.get(Table::MessageIds, &id)? != Some(k) {
            problem = Some(format!(
                "message {} has no matching id index entry",
                uuid::Uuid::from_bytes(id)
            ));
            return Ok(false);
        }
        if let Some(agent) = record::agent_of(k, v)? {
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
