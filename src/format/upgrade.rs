//! Schema 1 -> 2: every value of every table gains its checksum, and message records move to
//! the compact form. One write transaction: a crash (kill -9 included) leaves the store as it
//! was, schema 1 and readable, and running the upgrade again starts over.

use crate::conversations::record;
use crate::error::Result;
use crate::lmdb::checksum::SCHEMA_KEY;
use crate::meta::{self, Counter, SCHEMA_VERSION};
use crate::storage::{ReadTxn, Start, Table, WriteTxn};
use crate::Store;

/// Entries read before they are rewritten, so the upgrade holds a bounded part of a table in
/// memory, never all of it.
const CHUNK: usize = 512;

/// What [`Store::upgrade`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upgraded {
    /// The schema the store had before (2 when there was nothing to do).
    pub from_schema: u32,
    /// Values rewritten (every entry of every table).
    pub values: u64,
    /// Message records re-encoded in the compact form.
    pub messages: u64,
}

impl Store {
    /// Rewrites a schema-1 store as schema 2 in one transaction; a store already at schema 2
    /// (or 3, schema 2 with compression dictionaries) is left alone. No other transaction of
    /// this process runs meanwhile; other processes should have the store closed (one that
    /// still holds it open at schema 1 sees the new schema on its next transaction).
    pub fn upgrade(&self) -> Result<Upgraded> {
        let env = self.lmdb("upgrade")?;
        if env.read_only() {
            return Err(crate::Error::new(
                crate::ErrorKind::ReadOnly,
                "this handle was opened read-only; upgrading rewrites the store",
            ));
        }
        if !env.is_legacy() {
            return Ok(Upgraded {
                from_schema: self
                    .read(|txn| meta::schema_version(txn))?
                    .unwrap_or(SCHEMA_VERSION),
                ..Default::default()
            });
        }
        env.rewrite(|txn| {
            let mut done = Upgraded {
                from_schema: 1,
                ..Default::default()
            };
            let mut bodies = record::BodySize::default();
            for table in Table::ALL {
                let mut after: Option<Vec<u8>> = None;
                loop {
                    txn.set_checksums(false);
                    let mut chunk: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(CHUNK);
                    let start = match &after {
                        Some(k) => Start::At(k),
                        None => Start::Edge,
                    };
                    txn.scan(table, start, false, &mut |k, v| {
                        if after.as_deref() == Some(k) {
                            return Ok(true);
                        }
                        chunk.push((k.to_vec(), v.to_vec()));
                        Ok(chunk.len() < CHUNK)
                    })?;
                    txn.set_checksums(true);
                    let Some((last, _)) = chunk.last() else { break };
                    let last = last.clone();
                    for (k, v) in &chunk {
                        let value = match table {
                            Table::Messages => {
                                done.messages += 1;
                                let v2 = record::restore_as_v2(k, v)?;
                                bodies.add(record::body_size(k, &v2)?);
                                v2
                            }
                            Table::Meta if k == SCHEMA_KEY => SCHEMA_VERSION.to_be_bytes().to_vec(),
                            _ => v.clone(),
                        };
                        txn.put(table, k, &value)?;
                        done.values += 1;
                    }
                    after = Some(last);
                }
            }
            meta::set(txn, Counter::BodyPlain, bodies.plain)?;
            meta::set(txn, Counter::BodyStored, bodies.stored)?;
            Ok(done)
        })
    }
}
