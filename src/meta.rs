//! The meta table: schema version and the counters that stats report, kept exactly by the
//! same write transactions that change what they count.

use crate::error::{Error, ErrorKind, Result};
use crate::format::compress::{DictionarySource, Packing};
use crate::storage::{ReadTxn, Start, Table, WriteTxn};

/// Bumped whenever the stored layout changes incompatibly. See docs/format.md. The schema
/// new stores get, and the one `upgrade` brings a schema-1 store to.
pub const SCHEMA_VERSION: u32 = 2;

/// Schema 2 whose records may name a trained compression dictionary: a store becomes schema 3
/// when its first dictionary is trained, so that builds which cannot read such records
/// (before dictionaries) refuse to open it with a version mismatch instead of reading them as
/// damaged. Nothing else differs from schema 2.
pub const SCHEMA_DICTIONARIES: u32 = 3;

/// The newest schema this build reads.
pub const SCHEMA_NEWEST: u32 = SCHEMA_DICTIONARIES;

const SCHEMA_KEY: &[u8] = b"schema_version";

#[derive(Debug, Clone, Copy)]
pub enum Counter {
    TemplateIds,
    TemplateVersions,
    TemplatesModifiedAt,
    Sessions,
    Messages,
    /// Bytes of message bodies (content and metadata) as given, and as stored after
    /// compression: together, what compression saved.
    BodyPlain,
    BodyStored,
}

impl Counter {
    fn key(self) -> &'static [u8] {
        match self {
            Counter::TemplateIds => b"count.template_ids",
            Counter::TemplateVersions => b"count.template_versions",
            Counter::TemplatesModifiedAt => b"templates.modified_at",
            Counter::Sessions => b"count.sessions",
            Counter::Messages => b"count.messages",
            Counter::BodyPlain => b"bytes.body_plain",
            Counter::BodyStored => b"bytes.body_stored",
        }
    }
}

pub fn get(txn: &impl ReadTxn, counter: Counter) -> Result<u64> {
    txn.counter(Table::Meta, counter.key())
}

pub fn set(txn: &mut impl WriteTxn, counter: Counter, value: u64) -> Result<()> {
    txn.put(Table::Meta, counter.key(), &value.to_be_bytes())
}

/// Through the storage trait, so an engine with many writers can keep counts without a hot key.
pub fn add(txn: &mut impl WriteTxn, counter: Counter, delta: i64) -> Result<()> {
    txn.add_counter(Table::Meta, counter.key(), delta)
}

/// Adds (or with `sign` -1 removes) message body sizes to their counters.
pub fn add_body(
    txn: &mut impl WriteTxn,
    size: crate::conversations::record::BodySize,
    sign: i64,
) -> Result<()> {
    if size.plain > 0 {
        add(txn, Counter::BodyPlain, sign * size.plain as i64)?;
    }
    if size.stored > 0 {
        add(txn, Counter::BodyStored, sign * size.stored as i64)?;
    }
    Ok(())
}

pub fn schema_version(txn: &impl ReadTxn) -> Result<Option<u32>> {
    match txn.get(Table::Meta, SCHEMA_KEY)? {
        None => Ok(None),
        Some(v) => v
            .try_into()
            .map(u32::from_be_bytes)
            .map(Some)
            .map_err(|_| Error::corrupt("stored schema version is not 4 bytes")),
    }
}

/// Refuses a store without a schema version (damaged: every store gets one when it is
/// created) or with one written by a newer lmstore.
pub fn check_schema(found: Option<u32>, path: &std::path::Path) -> Result<()> {
    match found {
        None => Err(Error::corrupt(format!(
            "{} has no schema version in its meta table: the store is damaged (refused, not re-stamped)",
            path.display()
        ))),
        Some(v) if v > SCHEMA_NEWEST => Err(Error::new(
            ErrorKind::VersionMismatch,
            format!(
                "{} has schema version {v}, written by a newer lmstore; this build ({}) reads up to schema {SCHEMA_NEWEST}",
                path.display(),
                env!("CARGO_PKG_VERSION")
            ),
        )),
        _ => Ok(()),
    }
}

pub fn stamp_schema(txn: &mut impl WriteTxn) -> Result<()> {
    if schema_version(txn)?.is_none() {
        txn.put(Table::Meta, SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
    }
    Ok(())
}

// ---- Compression dictionaries -------------------------------------------------------------
//
// `dict.v.<version u32 BE>` holds a trained zstd dictionary; versions count up from 1 and an
// entry is never replaced or removed, because records name the version they were written with.
// `dict.current` names the one new bodies are compressed with:
// `version u32 BE | zstd id u32 BE | min_body u32 BE`.

const DICT_PREFIX: &[u8] = b"dict.v.";
const DICT_CURRENT: &[u8] = b"dict.current";

pub(crate) fn is_dictionary_key(key: &[u8]) -> bool {
    key.starts_with(DICT_PREFIX)
}

pub(crate) fn dictionary_key(version: u32) -> Vec<u8> {
    let mut key = DICT_PREFIX.to_vec();
    key.extend_from_slice(&version.to_be_bytes());
    key
}

impl<T: ReadTxn + ?Sized> DictionarySource for T {
    fn dictionary_bytes(&self, version: u32) -> Result<Option<&[u8]>> {
        self.get(Table::Meta, &dictionary_key(version))
    }
}

/// A stored dictionary, as `lmstore stat` and the APIs list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictionaryInfo {
    pub version: u32,
    /// The id zstd derived from its content (and writes into every frame made with it).
    pub zstd_id: u32,
    pub bytes: usize,
    /// The body size from which new bodies are compressed with it; None unless current.
    pub min_body: Option<u32>,
}

fn current_dictionary(txn: &impl ReadTxn) -> Result<Option<(u32, u32, u32)>> {
    let Some(v) = txn.get(Table::Meta, DICT_CURRENT)? else {
        return Ok(None);
    };
    let words: [u8; 12] = v
        .try_into()
        .map_err(|_| Error::corrupt("meta entry dict.current is not 12 bytes"))?;
    let word = |i: usize| u32::from_be_bytes([words[i], words[i + 1], words[i + 2], words[i + 3]]);
    Ok(Some((word(0), word(4), word(8))))
}

/// How new message bodies are compressed: with the current dictionary, if there is one.
pub fn packing(txn: &impl ReadTxn) -> Result<Option<Packing>> {
    current_dictionary(txn)?
        .map(|(version, id, min_body)| Packing::new(txn, version, id, min_body as usize))
        .transpose()
}

/// Every stored dictionary, oldest first; the current one carries its `min_body`.
pub fn dictionaries(txn: &impl ReadTxn) -> Result<Vec<DictionaryInfo>> {
    let current = current_dictionary(txn)?;
    let mut out = Vec::new();
    txn.scan(Table::Meta, Start::At(DICT_PREFIX), false, &mut |k, v| {
        let Some(version) = k.strip_prefix(DICT_PREFIX) else {
            return Ok(false);
        };
        let version = version
            .try_into()
            .map(u32::from_be_bytes)
            .map_err(|_| Error::corrupt("a dictionary's meta key has no 4-byte version"))?;
        let zstd_id = crate::format::compress::dictionary_id(v).ok_or_else(|| {
            Error::corrupt(format!("compression dictionary {version} is damaged"))
        })?;
        out.push(DictionaryInfo {
            version,
            zstd_id,
            bytes: v.len(),
            min_body: current
                .filter(|c| c.0 == version)
                .map(|(_, _, min_body)| min_body),
        });
        Ok(true)
    })?;
    Ok(out)
}

/// Stores a newly trained dictionary under the next version and makes it current; returns
/// it as listed. Earlier versions stay: their records still need them. A dictionary equal to
/// the current one (trained again on the same messages) keeps its version; only `min_body`
/// changes.
pub fn add_dictionary(
    txn: &mut impl WriteTxn,
    bytes: &[u8],
    min_body: u32,
) -> Result<DictionaryInfo> {
    let zstd_id = crate::format::compress::dictionary_id(bytes)
        .ok_or_else(|| Error::invalid("the trained dictionary has no zstd dictionary header"))?;
    let same_as_current = match current_dictionary(txn)? {
        Some((v, id, _)) if id == zstd_id && txn.dictionary_bytes(v)? == Some(bytes) => Some(v),
        _ => None,
    };
    if schema_version(txn)? == Some(SCHEMA_VERSION) {
        txn.put(Table::Meta, SCHEMA_KEY, &SCHEMA_DICTIONARIES.to_be_bytes())?;
    }
    let version = match same_as_current {
        Some(v) => v,
        None => {
            let next = dictionaries(txn)?.last().map_or(1, |d| d.version + 1);
            txn.put(Table::Meta, &dictionary_key(next), bytes)?;
            next
        }
    };
    let mut current = Vec::with_capacity(12);
    for word in [version, zstd_id, min_body] {
        current.extend_from_slice(&word.to_be_bytes());
    }
    txn.put(Table::Meta, DICT_CURRENT, &current)?;
    Ok(DictionaryInfo {
        version,
        zstd_id,
        bytes: bytes.len(),
        min_body: Some(min_body),
    })
}
