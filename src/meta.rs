//! The meta table: schema version and the counters that stats report, kept exactly by the
//! same write transactions that change what they count.

use crate::codec::be_u64;
use crate::error::{Error, ErrorKind, Result};
use crate::storage::{ReadTxn, Table, WriteTxn};

/// Bumped whenever the stored layout changes incompatibly. See docs/format.md.
pub const SCHEMA_VERSION: u32 = 1;

const SCHEMA_KEY: &[u8] = b"schema_version";

#[derive(Debug, Clone, Copy)]
pub enum Counter {
    TemplateIds,
    TemplateVersions,
    TemplatesModifiedAt,
    Sessions,
    Messages,
}

impl Counter {
    fn key(self) -> &'static [u8] {
        match self {
            Counter::TemplateIds => b"count.template_ids",
            Counter::TemplateVersions => b"count.template_versions",
            Counter::TemplatesModifiedAt => b"templates.modified_at",
            Counter::Sessions => b"count.sessions",
            Counter::Messages => b"count.messages",
        }
    }
}

pub fn get(txn: &impl ReadTxn, counter: Counter) -> Result<u64> {
    match txn.get(Table::Meta, counter.key())? {
        Some(v) => be_u64(v),
        None => Ok(0),
    }
}

pub fn set(txn: &mut impl WriteTxn, counter: Counter, value: u64) -> Result<()> {
    txn.put(Table::Meta, counter.key(), &value.to_be_bytes())
}

pub fn add(txn: &mut impl WriteTxn, counter: Counter, delta: i64) -> Result<()> {
    let current = get(txn, counter)?;
    let next = current
        .checked_add_signed(delta)
        .ok_or_else(|| Error::corrupt(format!("counter {:?} would go below zero", counter)))?;
    set(txn, counter, next)
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

/// Stamps a new store with our schema version, or refuses one written by a newer lmstore.
pub fn check_schema(found: Option<u32>, path: &std::path::Path) -> Result<()> {
    match found {
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
