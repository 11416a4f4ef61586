//! The meta table: schema version and the counters that stats report, kept exactly by the
//! same write transactions that change what they count.

use crate::error::{Error, ErrorKind, Result};
use crate::storage::{ReadTxn, Table, WriteTxn};

/// Bumped whenever the stored layout changes incompatibly. See docs/format.md.
pub const SCHEMA_VERSION: u32 = 2;

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
        Some(v) if v > SCHEMA_VERSION => Err(Error::new(
            ErrorKind::VersionMismatch,
            format!(
                "{} has schema version {v}, written by a newer lmstore; this build ({}) reads up to schema {SCHEMA_VERSION}",
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
