//! The stored MessagePack forms of messages and sessions.

use crate::codec::{decode_value, encode, field};
use crate::error::{Error, Result};
use crate::format::compress::{self, DictionarySource, Packing};
use rmp::encode as w;
use rmpv::Value;

/// The keys of a message map in a packed batch.
pub const MESSAGE_FIELDS: &[&str] = &[
    "session_id",
    "id",
    "ts",
    "role",
    "agent_id",
    "content",
    "in_reply_to",
    "metadata",
];

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
    /// Borrowed for the common roles, so most messages cost no allocation for it.
    pub role: std::borrow::Cow<'static, str>,
    pub agent_id: Option<String>,
    pub content: String,
    pub in_reply_to: Option<[u8; 16]>,
    /// A validated MessagePack map (encoded), `{}` when none was given.
    pub metadata: Vec<u8>,
    /// `created_at` and `updated_at` when they are known from elsewhere (salvage keeps a
    /// message's own); None: the time of the append.
    pub recorded_times: Option<(i64, i64)>,
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
        let role = crate::error::utf8(role, "role")?;
        let role = match ROLES.iter().find(|r| **r == role) {
            Some(common) => std::borrow::Cow::Borrowed(*common),
            None => std::borrow::Cow::Owned(role.to_owned()),
        };
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
            recorded_times: None,
        })
    }

    /// Builds a batch from a MessagePack array of message maps (the bindings' path).
    /// Decodes a packed batch: an array of message maps, each following the rule of
    /// [`crate::codec::check_fields`] with the keys of [`MESSAGE_FIELDS`].
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
        crate::codec::check_fields(item, "message", MESSAGE_FIELDS)?;
        // Text fields are MessagePack strings; ids are 16-byte binaries (a 16-character string
        // is not an id).
        let text = |name: &str| -> Result<Option<Vec<u8>>> {
            match field(item, name) {
                None | Some(Value::Nil) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_bytes().to_vec())),
                Some(other) => Err(Error::invalid(format!(
                    "{name} must be a string, got {}",
                    crate::codec::kind_name(other)
                ))),
            }
        };
        let id = |name: &str| -> Result<Option<Vec<u8>>> {
            match field(item, name) {
                None | Some(Value::Nil) => Ok(None),
                Some(Value::Binary(b)) => Ok(Some(b.clone())),
                Some(other) => Err(Error::invalid(format!(
                    "{name} must be binary (16 bytes), got {}",
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
        let session = text("session_id")?.ok_or_else(|| Error::invalid("session_id is missing"))?;
        let role = text("role")?.ok_or_else(|| Error::invalid("role is missing"))?;
        let content = text("content")?.unwrap_or_default();
        NewMessage::new(
            &session,
            id("id")?.as_deref(),
            ts,
            &role,
            text("agent_id")?.as_deref(),
            &content,
            id("in_reply_to")?.as_deref(),
            &metadata,
        )
    }

    /// The stored record (schema 2, compact) of a message written `now`: see [`encode_stored`].
    pub fn encode_record(&self, ts: i64, now: i64, packing: Option<&Packing>) -> Vec<u8> {
        self.encode_record_at(ts, now, now, packing).0
    }

    /// The stored record with the given `created_at` and `updated_at`, and its body's sizes.
    pub fn encode_record_at(
        &self,
        ts: i64,
        created_at: i64,
        updated_at: i64,
        packing: Option<&Packing>,
    ) -> (Vec<u8>, BodySize) {
        let mut out = Vec::with_capacity(32 + self.content.len() + self.metadata.len());
        let size = self.encode_record_into(&mut out, ts, created_at, updated_at, packing);
        (out, size)
    }

    /// Appends the stored record to `out` (a batch's buffer); returns its body's sizes.
    pub fn encode_record_into(
        &self,
        out: &mut Vec<u8>,
        ts: i64,
        created_at: i64,
        updated_at: i64,
        packing: Option<&Packing>,
    ) -> BodySize {
        encode_stored_into(
            out,
            &StoredFields {
                role: &self.role,
                agent_id: self.agent_id.as_deref().map(str::as_bytes),
                in_reply_to: self.in_reply_to,
                created_at,
                updated_at,
            },
            ts,
            self.content.as_bytes(),
            &self.metadata,
            packing,
        )
    }

    /// The record of schema 1 (a MessagePack map holding every field, the public form). Kept
    /// to build schema-1 fixtures and as the reference the compact form is tested against.
    pub fn encode_record_v1(&self, ts: i64, now: i64) -> Vec<u8> {
        let mut out = Vec::with_capacity(96 + self.content.len() + self.metadata.len());
        write_public_fields(
            &mut out,
            &self.id,
            self.session_id.as_bytes(),
            ts,
            &StoredFields {
                role: &self.role,
                agent_id: self.agent_id.as_deref().map(str::as_bytes),
                in_reply_to: self.in_reply_to,
                created_at: now,
                updated_at: now,
            },
            self.content.as_bytes(),
            &self.metadata,
        );
        out
    }
}

// ---- The stored message record ----------------------------------------------------------
//
// Schema 2 stores a message as a MessagePack array of 7, positional, without the fields its key
// already holds (session, ts, id):
//
//   [role, agent_id|nil, in_reply_to bin(16)|nil, created_at - ts, updated_at - created_at,
//    content str, metadata map]                                   (a raw body)
//   [..the same five.., dictionary uint, bin(zstd frame of `content str ++ metadata map`)]
//
// `role` is a positive fixint for the four common roles (0 system, 1 user, 2 assistant,
// 3 tool) and a str otherwise. Schema 1 stored the public map itself; both are read here, told
// apart by their first byte (a map or an array), so salvage and the upgrade read either.

/// The roles stored as one byte, by their index.
const ROLES: [&str; 4] = ["system", "user", "assistant", "tool"];

/// The fields of a message that are neither in its key nor in its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFields<'a> {
    pub role: &'a str,
    pub agent_id: Option<&'a [u8]>,
    pub in_reply_to: Option<[u8; 16]>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Content and metadata as stored: raw, or one zstd frame holding both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<'a> {
    /// `content` is UTF-8 text, `metadata` an encoded MessagePack map.
    Raw {
        content: &'a [u8],
        metadata: &'a [u8],
    },
    /// A zstd frame of `content str ++ metadata map` (MessagePack), with the dictionary it
    /// was compressed with.
    Packed { dictionary: u32, frame: &'a [u8] },
}

/// A stored message record, decoded without copying (both schemas).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage<'a> {
    pub fields: StoredFields<'a>,
    pub body: Body<'a>,
}

/// Builds the stored (schema 2) record; bodies that gain from it are compressed (with
/// `packing`'s dictionary when there is one).
pub fn encode_stored(
    f: &StoredFields<'_>,
    ts: i64,
    content: &[u8],
    metadata: &[u8],
    packing: Option<&Packing>,
) -> Vec<u8> {
    encode_stored_sized(f, ts, content, metadata, packing).0
}

/// [`encode_stored`], with the sizes of the body as given and as stored (the counters'
/// figures, known here without decoding the record again).
pub fn encode_stored_sized(
    f: &StoredFields<'_>,
    ts: i64,
    content: &[u8],
    metadata: &[u8],
    packing: Option<&Packing>,
) -> (Vec<u8>, BodySize) {
    let mut out = Vec::with_capacity(32 + content.len() + metadata.len());
    let size = encode_stored_into(&mut out, f, ts, content, metadata, packing);
    (out, size)
}

/// [`encode_stored_sized`], appending the record to `out`.
pub fn encode_stored_into(
    out: &mut Vec<u8>,
    f: &StoredFields<'_>,
    ts: i64,
    content: &[u8],
    metadata: &[u8],
    packing: Option<&Packing>,
) -> BodySize {
    write_stored_head(out, f, ts);
    let body_len = str_len(content.len()) + metadata.len();
    let raw = BodySize {
        plain: body_len as u64,
        stored: body_len as u64,
    };
    let smallest_packed = packing.map_or(compress::COMPRESS_MIN, |p| {
        p.min_body.min(compress::COMPRESS_MIN)
    });
    if body_len >= smallest_packed {
        let mut body = Vec::with_capacity(body_len);
        write_str_bytes(&mut body, content);
        body.extend_from_slice(metadata);
        if let Some((dictionary, frame)) = compress::pack(&body, packing) {
            let _ = w::write_uint(out, dictionary as u64);
            let _ = w::write_bin(out, &frame);
            return BodySize {
                plain: body_len as u64,
                stored: frame.len() as u64,
            };
        }
        out.extend_from_slice(&body);
        return raw;
    }
    write_str_bytes(out, content);
    out.extend_from_slice(metadata);
    raw
}

fn write_stored_head(out: &mut Vec<u8>, f: &StoredFields<'_>, ts: i64) {
    let _ = w::write_array_len(out, 7);
    match ROLES.iter().position(|r| *r == f.role) {
        Some(i) => {
            let _ = w::write_pfix(out, i as u8);
        }
        None => {
            let _ = w::write_str(out, f.role);
        }
    }
    match f.agent_id {
        Some(a) => write_str_bytes(out, a),
        None => {
            let _ = w::write_nil(out);
        }
    }
    match &f.in_reply_to {
        Some(r) => {
            let _ = w::write_bin(out, r);
        }
        None => {
            let _ = w::write_nil(out);
        }
    }
    let _ = w::write_sint(out, f.created_at.wrapping_sub(ts));
    let _ = w::write_sint(out, f.updated_at.wrapping_sub(f.created_at));
}

fn write_str_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let _ = w::write_str_len(out, s.len() as u32);
    out.extend_from_slice(s);
}

fn bad(what: &str) -> Error {
    Error::corrupt(format!("stored message record is damaged: {what}"))
}

/// A tiny reader over stored bytes; every step is bounds-checked. The stored record is read
/// for every message of every page, so its few MessagePack forms are decoded here directly
/// rather than through rmp's general readers. Steps return `Option` (two registers, where a
/// `Result` with our error would go through memory) and [`decode_stored`] names the damaged
/// field once.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }
    #[inline(always)]
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    #[inline(always)]
    fn fixed<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    #[inline(always)]
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    #[inline(always)]
    fn nil(&mut self) -> bool {
        if self.peek() == Some(0xc0) {
            self.0 = &self.0[1..];
            true
        } else {
            false
        }
    }
    /// The length after a string or binary marker of the 8-, 16- or 32-bit form, whose three
    /// markers follow `first`.
    #[inline(always)]
    fn sized(&mut self, marker: u8, first: u8) -> Option<usize> {
        match marker.wrapping_sub(first) {
            0 => self.fixed::<1>().map(|b| usize::from(b[0])),
            1 => self
                .fixed::<2>()
                .map(|b| usize::from(u16::from_be_bytes(b))),
            2 => self.fixed::<4>().map(|b| u32::from_be_bytes(b) as usize),
            _ => None,
        }
    }
    #[inline(always)]
    fn str(&mut self) -> Option<&'a [u8]> {
        let n = match self.byte()? {
            m @ 0xa0..=0xbf => usize::from(m & 0x1f),
            m => self.sized(m, 0xd9)?,
        };
        self.take(n)
    }
    #[inline(always)]
    fn bin(&mut self) -> Option<&'a [u8]> {
        let m = self.byte()?;
        let n = self.sized(m, 0xc4)?;
        self.take(n)
    }
    #[inline(always)]
    fn int(&mut self) -> Option<i64> {
        match self.byte()? {
            m @ 0x00..=0x7f => Some(i64::from(m)),
            m @ 0xe0..=0xff => Some(i64::from(m as i8)),
            0xcc => self.fixed::<1>().map(|b| i64::from(b[0])),
            0xcd => self.fixed::<2>().map(|b| i64::from(u16::from_be_bytes(b))),
            0xce => self.fixed::<4>().map(|b| i64::from(u32::from_be_bytes(b))),
            0xcf => self
                .fixed::<8>()
                .and_then(|b| i64::try_from(u64::from_be_bytes(b)).ok()),
            0xd0 => self.fixed::<1>().map(|b| i64::from(b[0] as i8)),
            0xd1 => self.fixed::<2>().map(|b| i64::from(i16::from_be_bytes(b))),
            0xd2 => self.fixed::<4>().map(|b| i64::from(i32::from_be_bytes(b))),
            0xd3 => self.fixed::<8>().map(i64::from_be_bytes),
            _ => None,
        }
    }
    #[inline(always)]
    fn array_len(&mut self) -> Option<usize> {
        match self.byte()? {
            m @ 0x90..=0x9f => Some(usize::from(m & 0x0f)),
            0xdc => self
                .fixed::<2>()
                .map(|b| usize::from(u16::from_be_bytes(b))),
            0xdd => self.fixed::<4>().map(|b| u32::from_be_bytes(b) as usize),
            _ => None,
        }
    }
}

const NOT_A_STRING: &str = "expected a string";
const NOT_AN_INTEGER: &str = "expected an integer";

/// Decodes a stored schema-2 record (an array). Schema-1 records (maps) are not handled here:
/// see [`write_public`], which copies them as they are.
#[inline]
pub fn decode_stored(stored: &[u8], ts: i64) -> Result<StoredMessage<'_>> {
    decode_fields(stored, ts).map_err(bad)
}

/// [`decode_stored`], naming what is damaged with a static string until the one place that
/// builds the error.
#[inline(always)]
fn decode_fields(stored: &[u8], ts: i64) -> std::result::Result<StoredMessage<'_>, &'static str> {
    let mut r = Reader(stored);
    if r.array_len().ok_or("not an array")? != 7 {
        return Err("wrong number of fields");
    }
    let role = match r.peek() {
        Some(b @ 0..=3) => {
            r.byte();
            ROLES[b as usize]
        }
        _ => std::str::from_utf8(r.str().ok_or(NOT_A_STRING)?).map_err(|_| "role is not UTF-8")?,
    };
    let agent_id = if r.nil() {
        None
    } else {
        Some(r.str().ok_or(NOT_A_STRING)?)
    };
    let in_reply_to = if r.nil() {
        None
    } else {
        Some(
            r.bin()
                .ok_or("expected binary")?
                .try_into()
                .map_err(|_| "in_reply_to is not 16 bytes")?,
        )
    };
    let created_at = ts.wrapping_add(r.int().ok_or(NOT_AN_INTEGER)?);
    let updated_at = created_at.wrapping_add(r.int().ok_or(NOT_AN_INTEGER)?);
    let body = match r.peek() {
        Some(0xa0..=0xbf | 0xd9..=0xdb) => {
            let content = r.str().ok_or(NOT_A_STRING)?;
            Body::Raw {
                content,
                metadata: r.0,
            }
        }
        _ => {
            let dictionary = r
                .int()
                .ok_or(NOT_AN_INTEGER)
                .and_then(|d| u32::try_from(d).map_err(|_| "dictionary version"))?;
            let frame = r.bin().ok_or("expected binary")?;
            if !r.0.is_empty() {
                return Err("trailing bytes");
            }
            Body::Packed { dictionary, frame }
        }
    };
    Ok(StoredMessage {
        fields: StoredFields {
            role,
            agent_id,
            in_reply_to,
            created_at,
            updated_at,
        },
        body,
    })
}

fn is_v1(stored: &[u8]) -> bool {
    matches!(stored.first(), Some(0x80..=0x8f | 0xde | 0xdf))
}

thread_local! {
    static INFLATED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Splits an inflated body into its content string and metadata map.
fn split_body(body: &[u8]) -> Result<(&[u8], &[u8])> {
    let mut r = Reader(body);
    let content = r.str().ok_or_else(|| bad(NOT_A_STRING))?;
    Ok((content, r.0))
}

/// Appends the public message record (the map documented in docs/format.md) of the message
/// stored under `key` (a `messages` key) to `out`. Schema-1 records are that map already.
pub fn write_public(
    dicts: &(impl DictionarySource + ?Sized),
    key: &[u8],
    stored: &[u8],
    out: &mut impl PageWrite,
) -> Result<()> {
    if is_v1(stored) {
        out.put(stored);
        return Ok(());
    }
    let (session, ts, id) = super::keys::split_entry(key)?;
    // decode_stored() inlined by hand: here, on every record of every page, returning the
    // decoded record inside a Result cost ~15% of the rebuild (measured).
    let m = match decode_fields(stored, ts) {
        Ok(m) => m,
        Err(what) => return Err(bad(what)),
    };
    match m.body {
        Body::Raw { content, metadata } => {
            write_public_fields(out, &id, session, ts, &m.fields, content, metadata);
            Ok(())
        }
        packed @ Body::Packed { .. } => INFLATED.with(|cell| {
            let mut buf = cell.borrow_mut();
            let (content, metadata) = plain_parts(dicts, packed, &mut buf)?;
            write_public_fields(out, &id, session, ts, &m.fields, content, metadata);
            Ok(())
        }),
    }
}

/// Where public records are written: a growing Vec, or the ABI's page (library memory handed
/// to the caller, or the caller's own buffer).
pub trait PageWrite {
    fn put(&mut self, bytes: &[u8]);

    /// Appends `rec` (exactly `rec.len` bytes), usually by handing a [`Sink`] over its room
    /// to [`PublicRecord::emit`].
    fn put_record(&mut self, rec: &PublicRecord<'_>);
}

impl PageWrite for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn put_record(&mut self, rec: &PublicRecord<'_>) {
        let at = self.len();
        self.resize(at + rec.len, 0);
        let mut slot = Slot {
            buf: &mut self[at..],
            at: 0,
        };
        rec.emit(&mut slot);
        debug_assert_eq!(slot.at, rec.len, "the record's size was counted wrong");
    }
}

/// A record's room, written piece by piece: the two dozen small pieces of a message cost more
/// as separate appends to a growing buffer than sizing the record first does.
pub trait Sink {
    fn bytes(&mut self, b: &[u8]);

    #[inline(always)]
    fn str(&mut self, s: &[u8]) {
        let n = s.len();
        if n < 32 {
            self.bytes(&[0xa0 | n as u8]);
        } else if n < 256 {
            self.bytes(&[0xd9, n as u8]);
        } else if n < 65536 {
            let [hi, lo] = (n as u16).to_be_bytes();
            self.bytes(&[0xda, hi, lo]);
        } else {
            let [b0, b1, b2, b3] = (n as u32).to_be_bytes();
            self.bytes(&[0xdb, b0, b1, b2, b3]);
        }
        self.bytes(s);
    }

    #[inline(always)]
    fn id(&mut self, id: &[u8; 16]) {
        self.bytes(&[0xc4, 16]);
        self.bytes(id);
    }

    /// An integer in its shortest MessagePack form, as `rmp::encode::write_sint` picks it.
    /// Each form is written with its constant size, which compiles to plain stores.
    #[inline(always)]
    fn sint(&mut self, n: i64) {
        if (-32..128).contains(&n) {
            self.bytes(&[n as i8 as u8]);
        } else if n >= 0 {
            if n <= u8::MAX as i64 {
                self.bytes(&[0xcc, n as u8]);
            } else if n <= u16::MAX as i64 {
                let [a, b] = (n as u16).to_be_bytes();
                self.bytes(&[0xcd, a, b]);
            } else if n <= u32::MAX as i64 {
                let [a, b, c, d] = (n as u32).to_be_bytes();
                self.bytes(&[0xce, a, b, c, d]);
            } else {
                let [a, b, c, d, e, f, g, h] = (n as u64).to_be_bytes();
                self.bytes(&[0xcf, a, b, c, d, e, f, g, h]);
            }
        } else if n >= i8::MIN as i64 {
            self.bytes(&[0xd0, n as i8 as u8]);
        } else if n >= i16::MIN as i64 {
            let [a, b] = (n as i16).to_be_bytes();
            self.bytes(&[0xd1, a, b]);
        } else if n >= i32::MIN as i64 {
            let [a, b, c, d] = (n as i32).to_be_bytes();
            self.bytes(&[0xd2, a, b, c, d]);
        } else {
            let [a, b, c, d, e, f, g, h] = n.to_be_bytes();
            self.bytes(&[0xd3, a, b, c, d, e, f, g, h]);
        }
    }
}

/// A sink over initialised bytes (bounds-checked).
pub struct Slot<'b> {
    pub buf: &'b mut [u8],
    pub at: usize,
}

impl Sink for Slot<'_> {
    #[inline(always)]
    fn bytes(&mut self, b: &[u8]) {
        self.buf[self.at..self.at + b.len()].copy_from_slice(b);
        self.at += b.len();
    }
}

fn str_len(n: usize) -> usize {
    n + match n {
        0..32 => 1,
        32..256 => 2,
        256..65536 => 3,
        _ => 5,
    }
}

fn sint_len(n: i64) -> usize {
    match n {
        -32..128 => 1,
        128..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        0x1_0000_0000.. => 9,
        -0x80..-32 => 2,
        -0x8000..-0x80 => 3,
        -0x8000_0000..-0x8000 => 5,
        _ => 9,
    }
}

const ID_LEN: usize = 18;

/// A message's public record (the map documented in docs/format.md), sized before it is
/// written.
pub struct PublicRecord<'a> {
    id: &'a [u8; 16],
    session: &'a [u8],
    ts: i64,
    fields: &'a StoredFields<'a>,
    content: &'a [u8],
    metadata: &'a [u8],
    /// Bytes [`PublicRecord::emit`] writes.
    pub len: usize,
}

impl PublicRecord<'_> {
    /// The bytes [`PublicRecord::emit`] writes.
    fn size(&self) -> usize {
        let f = self.fields;
        // The field names' strings, with their one-byte headers, and the map's header.
        let mut len = 1 + 3 + 11 + 3 + 5 + 8 + 9 + 11 + 11;
        len += ID_LEN + str_len(self.session.len()) + sint_len(self.ts) + str_len(f.role.len());
        len += str_len(self.content.len()) + self.metadata.len();
        len += sint_len(f.created_at) + sint_len(f.updated_at);
        if let Some(agent) = f.agent_id {
            len += 9 + str_len(agent.len());
        }
        if f.in_reply_to.is_some() {
            len += 12 + ID_LEN;
        }
        len
    }

    /// Writes the record's `len` bytes to `o`.
    #[inline(always)]
    pub fn emit(&self, o: &mut impl Sink) {
        let f = self.fields;
        let entries = 8 + f.agent_id.is_some() as u8 + f.in_reply_to.is_some() as u8;
        o.bytes(&[0x80 | entries]);
        o.bytes(b"\xa2id");
        o.id(self.id);
        o.bytes(b"\xaasession_id");
        o.str(self.session);
        o.bytes(b"\xa2ts");
        o.sint(self.ts);
        o.bytes(b"\xa4role");
        o.str(f.role.as_bytes());
        if let Some(agent) = f.agent_id {
            o.bytes(b"\xa8agent_id");
            o.str(agent);
        }
        o.bytes(b"\xa7content");
        o.str(self.content);
        if let Some(r) = &f.in_reply_to {
            o.bytes(b"\xabin_reply_to");
            o.id(r);
        }
        o.bytes(b"\xa8metadata");
        o.bytes(self.metadata);
        o.bytes(b"\xaacreated_at");
        o.sint(f.created_at);
        o.bytes(b"\xaaupdated_at");
        o.sint(f.updated_at);
    }
}

fn write_public_fields(
    out: &mut impl PageWrite,
    id: &[u8; 16],
    session: &[u8],
    ts: i64,
    f: &StoredFields<'_>,
    content: &[u8],
    metadata: &[u8],
) {
    let mut rec = PublicRecord {
        id,
        session,
        ts,
        fields: f,
        content,
        metadata,
        len: 0,
    };
    rec.len = rec.size();
    out.put_record(&rec);
}

/// The public record of one stored message, as a new buffer.
pub fn public_record(
    dicts: &(impl DictionarySource + ?Sized),
    key: &[u8],
    stored: &[u8],
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(stored.len() + 128);
    write_public(dicts, key, stored, &mut out)?;
    Ok(out)
}

/// Re-encodes any stored record (schema 1 or 2) as a schema-2 record (the upgrade's step).
pub fn restore_as_v2(key: &[u8], stored: &[u8]) -> Result<Vec<u8>> {
    // Schema-1 records hold no compressed bodies; a schema-2 one here was written without a
    // dictionary (the upgrade runs before any can be trained).
    let public = public_record(&compress::NoDictionaries, key, stored)?;
    let ts = key_ts(key)?;
    let value = decode_value(&public, "stored message").map_err(|e| Error::corrupt(e.message))?;
    let text = |name: &str| field(&value, name).and_then(|v| v.as_str());
    let int = |name: &str| field(&value, name).and_then(|v| v.as_i64());
    let role = text("role").ok_or_else(|| bad("role is missing"))?;
    let agent = text("agent_id").map(str::as_bytes);
    let in_reply_to = match field(&value, "in_reply_to") {
        Some(Value::Binary(b)) => Some(
            b.as_slice()
                .try_into()
                .map_err(|_| bad("in_reply_to is not 16 bytes"))?,
        ),
        _ => None,
    };
    let content = text("content").ok_or_else(|| bad("content is missing"))?;
    let metadata = field(&value, "metadata")
        .map(encode)
        .unwrap_or_else(|| vec![0x80]);
    Ok(encode_stored(
        &StoredFields {
            role,
            agent_id: agent,
            in_reply_to,
            created_at: int("created_at").ok_or_else(|| bad("created_at is missing"))?,
            updated_at: int("updated_at").ok_or_else(|| bad("updated_at is missing"))?,
        },
        ts,
        content.as_bytes(),
        &metadata,
        None,
    ))
}

/// The bytes of a message body as given (content string and metadata map, MessagePack) and as
/// stored (the same, or its compressed frame): what compression saved, kept in `meta`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BodySize {
    pub plain: u64,
    pub stored: u64,
}

impl BodySize {
    pub fn add(&mut self, other: BodySize) {
        self.plain += other.plain;
        self.stored += other.stored;
    }
}

/// The timestamp a `messages` key holds.
fn key_ts(key: &[u8]) -> Result<i64> {
    Ok(super::keys::split_entry(key)?.1)
}

impl Body<'_> {
    /// Its sizes as given and as stored (the counters' figures).
    fn size(&self) -> Result<BodySize> {
        Ok(match self {
            Body::Raw { content, metadata } => {
                let n = (str_len(content.len()) + metadata.len()) as u64;
                BodySize {
                    plain: n,
                    stored: n,
                }
            }
            Body::Packed { frame, .. } => BodySize {
                plain: zstd::zstd_safe::get_frame_content_size(frame)
                    .ok()
                    .flatten()
                    .ok_or_else(|| bad("compressed body without its size"))?,
                stored: frame.len() as u64,
            },
        })
    }
}

/// A body's content and metadata as given; a compressed one is inflated into `inflated`.
fn plain_parts<'a>(
    dicts: &(impl DictionarySource + ?Sized),
    body: Body<'a>,
    inflated: &'a mut Vec<u8>,
) -> Result<(&'a [u8], &'a [u8])> {
    match body {
        Body::Raw { content, metadata } => Ok((content, metadata)),
        Body::Packed { dictionary, frame } => {
            compress::unpack(dicts, dictionary, frame, inflated)?;
            split_body(inflated)
        }
    }
}

/// The body of a stored schema-2 record as it was given (`content str ++ metadata map`, the
/// bytes that are compressed), appended to `out`: a sample for training a dictionary.
pub fn plain_body(
    dicts: &(impl DictionarySource + ?Sized),
    key: &[u8],
    stored: &[u8],
    out: &mut Vec<u8>,
) -> Result<()> {
    if is_v1(stored) {
        return Err(bad("a schema-1 record in a schema-2 store"));
    }
    let mut inflated = Vec::new();
    let (content, metadata) = plain_parts(
        dicts,
        decode_stored(stored, key_ts(key)?)?.body,
        &mut inflated,
    )?;
    write_str_bytes(out, content);
    out.extend_from_slice(metadata);
    Ok(())
}

/// A stored schema-2 record with its body compressed as `packing` compresses new ones (for
/// compact copies, so older messages gain from a dictionary trained after them), and the body
/// sizes as stored before and after. A body already written with that dictionary is kept.
pub fn repacked(
    dicts: &(impl DictionarySource + ?Sized),
    packing: &Packing,
    key: &[u8],
    stored: &[u8],
) -> Result<(Vec<u8>, BodySize, BodySize)> {
    let ts = key_ts(key)?;
    let m = decode_stored(stored, ts)?;
    let before = m.body.size()?;
    if matches!(m.body, Body::Packed { dictionary, .. } if dictionary == packing.version) {
        return Ok((stored.to_vec(), before, before));
    }
    let mut inflated = Vec::new();
    let (content, metadata) = plain_parts(dicts, m.body, &mut inflated)?;
    let (record, after) = encode_stored_sized(&m.fields, ts, content, metadata, Some(packing));
    Ok((record, before, after))
}

/// The body sizes of a stored schema-2 record (a schema-1 record counts as its whole length).
pub fn body_size(key: &[u8], stored: &[u8]) -> Result<BodySize> {
    if is_v1(stored) {
        let n = stored.len() as u64;
        return Ok(BodySize {
            plain: n,
            stored: n,
        });
    }
    decode_stored(stored, key_ts(key)?)?.body.size()
}

/// Reads the agent of a stored message record, for index maintenance.
pub fn agent_of(key: &[u8], stored: &[u8]) -> Result<Option<String>> {
    if is_v1(stored) {
        let value =
            decode_value(stored, "stored message").map_err(|e| Error::corrupt(e.message))?;
        return Ok(field(&value, "agent_id")
            .and_then(|a| a.as_str())
            .map(str::to_owned));
    }
    let ts = key_ts(key)?;
    let m = decode_stored(stored, ts)?;
    m.fields
        .agent_id
        .map(|a| {
            std::str::from_utf8(a)
                .map(str::to_owned)
                .map_err(|_| bad("agent_id is not UTF-8"))
        })
        .transpose()
}

/// Rewrites a stored message with new content and/or metadata and a new updated_at; returns
/// the new record and its body's sizes.
pub fn update_record(
    dicts: &(impl DictionarySource + ?Sized),
    packing: Option<&Packing>,
    key: &[u8],
    stored: &[u8],
    content: Option<&str>,
    metadata: Option<&[u8]>,
    now: i64,
) -> Result<(Vec<u8>, BodySize)> {
    let v2;
    let stored = if is_v1(stored) {
        v2 = restore_as_v2(key, stored)?;
        &v2[..]
    } else {
        stored
    };
    let ts = key_ts(key)?;
    let m = decode_stored(stored, ts)?;
    let mut inflated = Vec::new();
    let (old_content, old_metadata) = plain_parts(dicts, m.body, &mut inflated)?;
    let fields = StoredFields {
        updated_at: now,
        ..m.fields.clone()
    };
    Ok(encode_stored_sized(
        &fields,
        ts,
        content.map(str::as_bytes).unwrap_or(old_content),
        metadata.unwrap_or(old_metadata),
        packing,
    ))
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

#[cfg(test)]
mod tests {
    use super::{Sink, Slot};
    use rmp::encode as w;

    fn sunk(write: impl Fn(&mut Slot<'_>), len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        let mut slot = Slot {
            buf: &mut buf,
            at: 0,
        };
        write(&mut slot);
        assert_eq!(slot.at, len, "wrote exactly its size");
        buf
    }

    #[test]
    fn sink_forms_match_rmp() {
        let mut edges = vec![i64::MIN, i64::MAX, 0, 1, -1];
        for bound in [32i64, 128, 256, 1 << 15, 1 << 16, 1 << 31, 1 << 32] {
            edges.extend([bound - 1, bound, bound + 1, -bound - 1, -bound, -bound + 1]);
        }
        for n in edges {
            let mut want = Vec::new();
            let _ = w::write_sint(&mut want, n);
            assert_eq!(sunk(|s| s.sint(n), want.len()), want, "sint {n}");
            assert_eq!(super::sint_len(n), want.len(), "sint_len {n}");
        }
        for n in [0usize, 31, 32, 255, 256, 65535, 65536] {
            let text = vec![b'x'; n];
            let mut want = Vec::new();
            let _ = w::write_str_len(&mut want, n as u32);
            want.extend_from_slice(&text);
            assert_eq!(sunk(|s| s.str(&text), want.len()), want, "str of {n}");
            assert_eq!(super::str_len(n), want.len(), "str_len {n}");
        }
    }
}
