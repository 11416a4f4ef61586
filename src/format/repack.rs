//! A copy of the store whose pages are full: every table rewritten in key order into a new
//! store, where each put lands at the end of its table (MDB_APPEND) and LMDB fills a page
//! before starting the next. Appends to many sessions leave the messages table about two thirds
//! full (a page that holds the end of one session and the start of the next is split in the
//! middle whenever it fills, since the new key never goes last on it; see docs/format.md), and
//! LMDB's compacting copy keeps pages as they are; this is the store's VACUUM INTO. Compact
//! backups (`Store::backup` with `compact`) are written by it. When the store has a current
//! compression dictionary, message bodies written before it (or with an older one) are
//! compressed with it in the copy, as they would be if written today.

use crate::conversations::record;
use crate::error::{Error, Result};
use crate::lmdb::OpenOptions;
use crate::meta::{self, Counter};
use crate::storage::{ReadTxn, Start, Table, WriteTxn};
use crate::Store;
use std::path::Path;

/// Entries per write transaction of the copy.
const BATCH: usize = 4096;

impl Store {
    /// Writes a copy of the store with full pages into `dest`, a directory that does not exist
    /// or is empty. Reads one snapshot, so writers may go on meanwhile (their later writes are
    /// not in the copy). Returns the number of entries copied.
    pub fn repack_into(&self, dest: &Path) -> Result<u64> {
        if dest.exists()
            && std::fs::read_dir(dest)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            return Err(Error::invalid(format!(
                "{} exists and is not an empty directory",
                dest.display()
            )));
        }
        let env = self.lmdb("repack")?;
        if env.is_legacy() {
            return Err(Error::new(
                crate::ErrorKind::VersionMismatch,
                "upgrade the store to schema 2 before repacking it",
            ));
        }
        let opts = OpenOptions {
            no_sync: true,
            read_only: false,
            verify: false,
            create_parents: false,
            map_size: env.info()?.map_size as usize,
            ..env.options()
        };
        let target = Store::open(dest, opts)?;
        let out = target.lmdb("repack")?;
        let mut copied = 0u64;
        let mut stored_delta = 0i64;
        env.read(|src| {
            let packing = meta::packing(src)?;
            for table in Table::ALL {
                let mut batch: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(BATCH);
                let flush = |batch: &mut Vec<(Vec<u8>, Vec<u8>)>| -> Result<()> {
                    out.write(|txn| {
                        for (k, v) in batch.iter() {
                            txn.put_last(table, k, v)?;
                        }
                        Ok(())
                    })?;
                    batch.clear();
                    Ok(())
                };
                src.scan(table, Start::Edge, false, &mut |k, v| {
                    let value = match (&packing, table) {
                        (Some(p), Table::Messages) => {
                            let (record, before, after) = record::repacked(src, p, k, v)?;
                            stored_delta += after.stored as i64 - before.stored as i64;
                            record
                        }
                        _ => v.to_vec(),
                    };
                    batch.push((k.to_vec(), value));
                    copied += 1;
                    if batch.len() == BATCH {
                        flush(&mut batch)?;
                    }
                    Ok(true)
                })?;
                flush(&mut batch)?;
            }
            Ok(())
        })?;
        if stored_delta != 0 {
            out.write(|txn| meta::add(txn, Counter::BodyStored, stored_delta))?;
        }
        out.sync()?;
        Ok(copied)
    }
}
