//! Binary composite keys. Integers are big-endian so byte order is numeric order; variable
//! fields carry a one-byte length prefix so no separator can occur inside them.
//!
//! messages:         len(1) session | ts(8) | id(16)  -> message record
//! message_ids:      id(16)                           -> messages key
//! agent_index:      len(1) agent | ts(8) | id(16)    -> messages key
//! sessions:         session                          -> session record
//! session_activity: last_activity(8) | session       -> (empty)

use crate::error::{Error, Result};

pub const MAX_NAME: usize = 255;
pub const ID_LEN: usize = 16;

/// Checks a session or agent id and returns it as text.
pub fn check_name<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str> {
    if bytes.is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    if bytes.len() > MAX_NAME {
        return Err(Error::new(
            crate::ErrorKind::KeyTooLong,
            format!("{what} is {} bytes; the limit is {MAX_NAME}", bytes.len()),
        ));
    }
    crate::error::utf8(bytes, what)
}

/// `len | name`, the prefix shared by every key of one session or agent.
pub fn prefix(name: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + name.len() + 8 + ID_LEN);
    k.push(name.len() as u8);
    k.extend_from_slice(name);
    k
}

pub fn entry(name: &[u8], ts: i64, id: &[u8; ID_LEN]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + name.len() + 8 + ID_LEN);
    entry_into(&mut k, name, ts, id);
    k
}

/// Appends `len | name | ts | id` to `out`.
pub fn entry_into(out: &mut Vec<u8>, name: &[u8], ts: i64, id: &[u8; ID_LEN]) {
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&(ts as u64).to_be_bytes());
    out.extend_from_slice(id);
}

/// Splits the `ts | id` tail off an entry key whose prefix has `prefix_len` bytes.
pub fn tail(key: &[u8], prefix_len: usize) -> Result<(i64, [u8; ID_LEN])> {
    let t = key
        .get(prefix_len..)
        .filter(|t| t.len() == 8 + ID_LEN)
        .ok_or_else(|| Error::corrupt("message key has the wrong length"))?;
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&t[..8]);
    let mut id = [0u8; ID_LEN];
    id.copy_from_slice(&t[8..]);
    Ok((u64::from_be_bytes(ts) as i64, id))
}

/// A messages key's session, timestamp and id (the read path splits every key it returns).
#[inline(always)]
pub fn split_entry(key: &[u8]) -> Result<(&[u8], i64, [u8; ID_LEN])> {
    entry_parts(key).ok_or_else(|| Error::corrupt("message key has the wrong length"))
}

#[inline(always)]
fn entry_parts(key: &[u8]) -> Option<(&[u8], i64, [u8; ID_LEN])> {
    let (&len, rest) = key.split_first()?;
    let (session, rest) = rest.split_at_checked(usize::from(len))?;
    let (ts, id) = rest.split_first_chunk::<8>()?;
    let id: [u8; ID_LEN] = id.try_into().ok()?;
    Some((session, u64::from_be_bytes(*ts) as i64, id))
}

pub fn activity(last_activity: i64, session: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(8 + session.len());
    k.extend_from_slice(&(last_activity as u64).to_be_bytes());
    k.extend_from_slice(session);
    k
}
