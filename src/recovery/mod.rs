//! Damaged stores: the structural verifier (every page of every table, checked by our own
//! reader in `lmdb::pages`) and salvage of every intact record into a new store.

mod salvage;

pub use crate::lmdb::pages::{Damage, TableSummary, VerifyReport};
pub use salvage::{salvage, SalvageReport};

use crate::error::{Error, Result};
use crate::lmdb::pages;
use crate::Store;
use rmp::encode as w;
use std::path::Path;

/// Verifies the store in directory `dir` without opening it with LMDB (so a damaged file
/// cannot crash the caller). Damage is in the report, not an error.
pub fn verify_path(dir: &Path) -> Result<VerifyReport> {
    let file = pages::data_file(dir);
    if !file.is_file() {
        return Err(Error::not_found(format!(
            "{} holds no store (no data.mdb)",
            dir.display()
        )));
    }
    pages::verify_file(&file)
}

impl Store {
    /// Verifies every page of every table of this open store, on the snapshot of a read
    /// transaction held during the walk (writers go on meanwhile).
    pub fn verify_pages(&self) -> Result<VerifyReport> {
        self.lmdb("verify_pages")?.verify_pages()
    }
}

fn damage_list(out: &mut Vec<u8>, damage: &[Damage]) {
    let _ = w::write_array_len(out, damage.len() as u32);
    for d in damage {
        let _ = w::write_map_len(out, 3);
        let _ = w::write_str(out, "page");
        match d.page {
            Some(p) => {
                let _ = w::write_uint(out, p);
            }
            None => {
                let _ = w::write_nil(out);
            }
        }
        let _ = w::write_str(out, "table");
        let _ = w::write_str(out, &d.table);
        let _ = w::write_str(out, "what");
        let _ = w::write_str(out, &d.what);
    }
}

/// The report as one MessagePack map (the form the C ABI returns; docs/reliability.md).
pub fn verify_report_msgpack(r: &VerifyReport) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = w::write_map_len(&mut out, 9);
    let _ = w::write_str(&mut out, "ok");
    let _ = w::write_bool(&mut out, r.is_ok());
    for (name, n) in [
        ("page_size", r.page_size as u64),
        ("last_page", r.last_page),
        ("file_pages", r.file_pages),
        ("txnid", r.txnid),
        ("free_pages", r.free_pages),
        ("damage_count", r.damage_count),
    ] {
        let _ = w::write_str(&mut out, name);
        let _ = w::write_uint(&mut out, n);
    }
    let _ = w::write_str(&mut out, "tables");
    let _ = w::write_array_len(&mut out, r.tables.len() as u32);
    for t in &r.tables {
        let _ = w::write_map_len(&mut out, 5);
        let _ = w::write_str(&mut out, "name");
        let _ = w::write_str(&mut out, &t.name);
        for (name, n) in [
            ("entries", t.entries),
            ("recorded_entries", t.recorded_entries),
            ("depth", t.depth as u64),
            ("pages", t.pages),
        ] {
            let _ = w::write_str(&mut out, name);
            let _ = w::write_uint(&mut out, n);
        }
    }
    let _ = w::write_str(&mut out, "damage");
    damage_list(&mut out, &r.damage);
    out
}
