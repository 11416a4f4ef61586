//! The stored MessagePack forms of messages and sessions.

use crate::codec::{decode_value, encode, field};
use crate::error::{Error, Result};
use rmp::encode as w;
use rmpv::Value;

/// The latest timestamp a caller may give: the last microsecond of year 9999. Bounding it keeps
/// every assigned timestamp (`last + 1`) far from overflow.
pub const MAX_TS: i64 = 253_402_300_799_999_999;

/// A message as the caller gives it, validated; ids are generated here so that a retry after
/// map growth writes the same ids.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub session_id: String,
    pub id: [u8; 16],
    /// The id was generated here (a fresh UUIDv7), so it cannot already be stored.
    pub generated_id: bool,
    pub ts: Option<i64>,
    pub role: String,
    pub agent_id: Option<String>,
    pub content: String,
    pub in_reply_to: Option<[u8; 16]>,
    /// A validated MessagePack map (encoded), `{}` when none was given.
    pub metadata: Vec<u8>,
}

pub fn check_id(bytes: &[u8], what: &str) -> Result<[u8; 16]> {
    bytes.try_into().map_err(|_| {
        Error::invalid(format!(
            "{what} must be 16 bytes (a UUID), got {}",
            bytes.len()
        ))
    })
}

/// Validates metadata bytes and returns them as stored (`{}` when empty).
pub fn metadata_bytes(bytes: &[u8], what: &str) -> Result<Vec<u8>> {
    if bytes.is_empty() {
        return Ok(vec![0x80]);
    }
    crate::codec::validate_map(bytes, what)?;
    Ok(bytes.to_vec())
}

impl NewMessage {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        session_id: &[u8],
        id: Option<&[u8]>,
        ts: Option<i64>,
        role: &[u8],
        agent_id: Option<&[u8]>,
        content: &[u8],
        in_reply_to: Option<&[u8]>,
        metadata: &[u8],
    ) -> Result<NewMessage> {
        let session_id = super::keys::check_name(session_id, "session_id")?;
        let (id, generated_id) = match id {
            Some(b) => (check_id(b, "message id")?, false),
            None => (*uuid::Uuid::now_v7().as_bytes(), true),
        };
        if let Some(ts) = ts {
            if !(0..=MAX_TS).contains(&ts) {
                return Err(Error::invalid(format!(
                    "ts must be microseconds since the epoch, between 0 and {MAX_TS} (the end of year 9999), got {ts}"
                )));
            }
        }
        if role.is_empty() {
            return Err(Error::invalid("role is empty"));
        }
        let role = crate::error::utf8(role, "role")?.to_owned();
        let agent_id = match agent_id {
            Some(a) => Some(super::keys::check_name(a, "agent_id")?.to_owned()),
            None => None,
        };
        let content = crate::error::utf8(content, "content")?.to_owned();
        let in_reply_to = in_reply_to
            .map(|r| check_id(r, "in_reply_to"))
            .transpose()?;
        let metadata = metadata_bytes(metadata, "message metadata")?;
        Ok(NewMessage {
            session_id: session_id.to_owned(),
            id,
            generated_id,
            ts,
            role,
            agent_id,
            content,
            in_reply_to,
            metadata,
        })
    }

    /// Builds a batch from a MessagePack array of message maps (the bindings' path).
    pub fn batch_from_msgpack(bytes: &[u8]) -> Result<Vec<NewMessage>> {
        let value = decode_value(bytes, "message batch")?;
        let Value::Array(items) = value else {
            return Err(Error::bad_msgpack(
                "message batch must be a MessagePack array of maps",
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| Self::from_value(item).map_err(|e| e.context(&format!("message {i}"))))
            .collect()
    }

    fn from_value(item: &Value) -> Result<NewMessage> {
        crate::codec::check_map(item, "message")?;
        let bytes_of = |name: &str| -> Result<Option<Vec<u8>>> {
            match field(item, name) {
                None | Some(Value::Nil) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_bytes().to_vec())),
                Some(Value::Binary(b)) => Ok(Some(b.clone())),
                Some(other) => Err(Error::invalid(format!(
                    "{name} must be a string or binary, got {}",
                    crate::codec::kind_name(other)
                ))),
            }
        };
        let ts = match field(item, "ts") {
            None | Some(Value::Nil) => None,
            Some(Value::Integer(i)) => match i.as_i64() {
                Some(0) => None,
                Some(v) => Some(v),
                None => return Err(Error::invalid("ts is out of range")),
            },
            Some(other) => {
                return Err(Error::invalid(format!(
                    "ts must be an integer, got {}",
                    crate::codec::kind_name(other)
                )))
            }
        };
        let metadata = match field(item, "metadata") {
            None | Some(Value::Nil) => Vec::new(),
            Some(m) => {
                crate::codec::check_map(m, "message metadata")?;
                encode(m)
            }
        };
        let session =
            bytes_of("session_id")?.ok_or_else(|| Error::invalid("session_id is missing"))?;
        let role = bytes_of("role")?.ok_or_else(|| Error::invalid("role is missing"))?;
        let content = bytes_of("content")?.unwrap_or_default();
        NewMessage::new(
            &session,
            bytes_of("id")?.as_deref(),
            ts,
            &role,
            bytes_of("agent_id")?.as_deref(),
            &content,
            bytes_of("in_reply_to")?.as_deref(),
            &metadata,
        )
    }

    pub fn encode_record(&self, ts: i64, now: i64) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + self.content.len() + self.metadata.len());
        let fields = 8 + self.agent_id.is_some() as u32 + self.in_reply_to.is_some() as u32;
        let _ = w::write_map_len(&mut out, fields);
        let _ = w::write_str(&mut out, "id");
        let _ = w::write_bin(&mut out, &self.id);
        let _ = w::write_str(&mut out, "session_id");
        let _ = w::write_str(&mut out, &self.session_id);
        let _ = w::write_str(&mut out, "ts");
        let _ = w::write_sint(&mut out, ts);
        let _ = w::write_str(&mut out, "role");
        let _ = w::write_str(&mut out, &self.role);
        if let Some(agent) = &self.agent_id {
            let _ = w::write_str(&mut out, "agent_id");
            let _ = w::write_str(&mut out, agent);
        }
        let _ = w::write_str(&mut out, "content");
        let _ = w::write_str(&mut out, &self.content);
        if let Some(r) = &self.in_reply_to {
            let _ = w::write_str(&mut out, "in_reply_to");
            let _ = w::write_bin(&mut out, r);
        }
        let _ = w::write_str(&mut out, "metadata");
        out.extend_from_slice(&self.metadata);
        let _ = w::write_str(&mut out, "created_at");
        let _ = w::write_sint(&mut out, now);
        let _ = w::write_str(&mut out, "updated_at");
        let _ = w::write_sint(&mut out, now);
        out
    }
}

/// Reads the agent of a stored message record, for index maintenance.
pub fn agent_of(record: &[u8]) -> Result<Option<String>> {
    let value = decode_value(record, "stored message").map_err(|e| Error::corrupt(e.message))?;
    Ok(field(&value, "agent_id")
        .and_then(|a| a.as_str())
        .map(str::to_owned))
}

/// Rewrites a stored message with new content and/or metadata and a new updated_at.
pub fn update_record(
    record: &[u8],
    content: Option<&str>,
    metadata: Option<&[u8]>,
    now: i64,
) -> Result<Vec<u8>> {
    let value = decode_value(record, "stored message").map_err(|e| Error::corrupt(e.message))?;
    let Value::Map(mut entries) = value else {
        return Err(Error::corrupt("stored message is not a map"));
    };
    let metadata = metadata.map(|m| decode_value(m, "metadata")).transpose()?;
    for (k, v) in entries.iter_mut() {
        match k.as_str() {
            Some("content") if content.is_some() => *v = Value::from(content.unwrap_or_default()),
            Some("metadata") if metadata.is_some() => {
                if let Some(m) = metadata.clone() {
                    *v = m
                }
            }
            Some("updated_at") => *v = Value::from(now),
            _ => {}
        }
    }
    Ok(encode(&Value::Map(entries)))
}

/// The fixed-width part of a session record; the rest is a MessagePack map {title, metadata}.
#[derive(Debug, Clone, Default)]
pub struct SessionHead {
    pub created_at: i64,
    pub updated_at: i64,
    pub last_ts: i64,
    pub last_activity: i64,
    pub message_count: u64,
    pub title: Option<String>,
    /// Encoded MessagePack map.
    pub metadata: Vec<u8>,
}

impl SessionHead {
    pub fn decode(v: &[u8]) -> Result<SessionHead> {
        if v.len() < 40 {
            return Err(Error::corrupt("session record is truncated"));
        }
        let n = |i: usize| crate::codec::be_u64(&v[i * 8..]);
        let rest =
            decode_value(&v[40..], "stored session").map_err(|e| Error::corrupt(e.message))?;
        Ok(SessionHead {
            created_at: n(0)? as i64,
            updated_at: n(1)? as i64,
            last_ts: n(2)? as i64,
            last_activity: n(3)? as i64,
            message_count: n(4)?,
            title: field(&rest, "title")
                .and_then(|t| t.as_str())
                .map(str::to_owned),
            metadata: field(&rest, "metadata")
                .map(encode)
                .unwrap_or_else(|| vec![0x80]),
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.metadata.len());
        for n in [
            self.created_at as u64,
            self.updated_at as u64,
            self.last_ts as u64,
            self.last_activity as u64,
            self.message_count,
        ] {
            out.extend_from_slice(&n.to_be_bytes());
        }
        let _ = w::write_map_len(&mut out, 2);
        let _ = w::write_str(&mut out, "title");
        match &self.title {
            Some(t) => {
                let _ = w::write_str(&mut out, t);
            }
            None => {
                let _ = w::write_nil(&mut out);
            }
        }
        let _ = w::write_str(&mut out, "metadata");
        out.extend_from_slice(&self.metadata);
        out
    }

    /// The form callers get: one MessagePack map with every field.
    pub fn write_public(&self, session_id: &[u8], out: &mut Vec<u8>) {
        let _ = w::write_map_len(out, 8);
        let _ = w::write_str(out, "session_id");
        let _ = w::write_str(out, &String::from_utf8_lossy(session_id));
        let _ = w::write_str(out, "title");
        match &self.title {
            Some(t) => {
                let _ = w::write_str(out, t);
            }
            None => {
                let _ = w::write_nil(out);
            }
        }
        let _ = w::write_str(out, "metadata");
        out.extend_from_slice(&self.metadata);
        for (name, n) in [
            ("created_at", self.created_at),
            ("updated_at", self.updated_at),
            ("last_ts", self.last_ts),
            ("last_activity", self.last_activity),
        ] {
            let _ = w::write_str(out, name);
            let _ = w::write_sint(out, n);
        }
        let _ = w::write_str(out, "message_count");
        let _ = w::write_uint(out, self.message_count);
    }
}
