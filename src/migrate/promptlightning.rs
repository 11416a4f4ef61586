//! promptlightning's `LMDBRegistry` (seed-formats.md §3): `templates` (id -> latest spec),
//! `version_index` (`id:version` -> raw id, kept after the version's content is overwritten),
//! `metadata` (`count` of saves, `last_modified`).

use super::{decode, json, MigrationReport, Progress, SideFile, BATCH};
use crate::codec;
use crate::error::{ErrorKind, Result};
use crate::lmdb::foreign::ForeignTxn;
use crate::templates::{self, normalize_spec, PutOutcome, TemplateSpec};
use crate::Store;
use rmpv::Value;
use std::collections::HashMap;

const SPEC_FIELDS: [&str; 6] = [
    "id",
    "version",
    "description",
    "template",
    "inputs",
    "metadata",
];

/// The source spec as lmstore's put takes it; fields lmstore does not model are returned too.
fn spec_of(v: &Value) -> std::result::Result<(TemplateSpec, Vec<String>), String> {
    let Value::Map(entries) = v else {
        return Err("the record is not a map".into());
    };
    let mut kept = Vec::new();
    let mut extra = Vec::new();
    for (k, val) in entries {
        match k.as_str() {
            Some(name) if SPEC_FIELDS.contains(&name) => {
                if !(val.is_nil() && matches!(name, "description" | "version")) {
                    kept.push((k.clone(), val.clone()));
                }
            }
            _ => extra.push(format!("{k}")),
        }
    }
    let spec = normalize_spec(&codec::encode(&Value::Map(kept))).map_err(|e| e.message)?;
    Ok((spec, extra))
}

fn int_of(txn: &ForeignTxn<'_>, db: crate::lmdb::foreign::ForeignDb, key: &[u8]) -> Option<i64> {
    let v = txn.get(db, key).ok()??;
    decode(v).ok()?.as_i64()
}

pub(super) fn migrate(
    store: &Store,
    txn: &ForeignTxn<'_>,
    side: &mut SideFile,
    report: &mut MigrationReport,
    progress: &mut Progress<'_>,
) -> Result<()> {
    let templates_db = txn
        .open_db("templates")?
        .ok_or_else(|| crate::Error::invalid("the source has no templates database"))?;
    let index_db = txn.open_db("version_index")?;
    if let Some(meta) = txn.open_db("metadata")? {
        report.source_count = int_of(txn, meta, b"count");
        report.source_last_modified = int_of(txn, meta, b"last_modified");
    }
    for name in super::other_dbs(txn, &["templates", "version_index", "metadata"])? {
        if let Some(db) = txn.open_db(&name)? {
            txn.scan(db, None, &mut |k, v| {
                let value = decode(v)
                    .map(|v| json(&v))
                    .unwrap_or_else(|_| super::bytes_json(v));
                side.write(&name, k, value, None)?;
                Ok(true)
            })?;
        }
    }
    let known = txn.entries(templates_db)?;
    let mut done = 0u64;
    progress(0, known * 2);
    // The latest version of each id, for the version_index pass and the verification.
    let mut latest: HashMap<String, String> = HashMap::new();
    let mut batch: Vec<TemplateSpec> = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<TemplateSpec>, report: &mut MigrationReport| -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let outcomes = store.write(|w| {
            batch
                .iter()
                .map(|spec| templates::put(w, spec, false).map_err(|e| (spec.id.clone(), e)))
                .map(|r| match r {
                    Ok(o) => Ok(Ok(o)),
                    Err((id, e)) if e.kind == ErrorKind::Conflict => Ok(Err((id, e.message))),
                    Err((_, e)) => Err(e),
                })
                .collect::<Result<Vec<_>>>()
        })?;
        for o in outcomes {
            match o {
                Ok(PutOutcome::Unchanged) => report.templates_unchanged += 1,
                Ok(_) => {
                    report.templates_migrated += 1;
                    report.changed = true;
                }
                // The store already holds this id+version with another body: nothing is
                // overwritten, and the verification names it.
                Err(_) => {}
            }
        }
        batch.clear();
        Ok(())
    };
    txn.scan(templates_db, None, &mut |k, v| {
        done += 1;
        let value = match decode(v) {
            Ok(v) => v,
            Err(why) => {
                report.failed += 1;
                side.write("templates", k, super::bytes_json(v), Some(&why))?;
                return Ok(true);
            }
        };
        match spec_of(&value) {
            Ok((spec, extra)) => {
                if !extra.is_empty() {
                    let why = format!("fields lmstore does not model: {}", extra.join(", "));
                    side.write("templates", k, json(&value), Some(&why))?;
                }
                latest.insert(spec.id.clone(), spec.version.clone());
                batch.push(spec);
                if batch.len() == BATCH {
                    flush(&mut batch, report)?;
                    progress(done, known * 2);
                }
            }
            Err(why) => {
                report.failed += 1;
                side.write("templates", k, json(&value), Some(&why))?;
            }
        }
        Ok(true)
    })?;
    flush(&mut batch, report)?;

    if let Some(index) = index_db {
        txn.scan(index, None, &mut |k, v| {
            let key = String::from_utf8_lossy(k);
            let id = String::from_utf8_lossy(v);
            let version = key
                .strip_prefix(id.as_ref())
                .and_then(|rest| rest.strip_prefix(':'))
                .unwrap_or(&key)
                .to_owned();
            if latest.get(id.as_ref()) != Some(&version) {
                report.lost_versions.push((id.into_owned(), version));
            }
            Ok(true)
        })?;
    }

    // Verification: every source spec against the stored version, field by field.
    txn.scan(templates_db, None, &mut |_, v| {
        done += 1;
        let Ok(Ok((spec, _))) = decode(v).map(|v| spec_of(&v)) else {
            return Ok(true);
        };
        report.verified += 1;
        let same = store.read(|r| {
            match templates::get(r, spec.id.as_bytes(), Some(spec.version.as_bytes())) {
                Ok(record) => spec.same_content_as(record),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(false),
                Err(e) => Err(e),
            }
        })?;
        if !same {
            report.mismatch(format!(
                "template '{}' version '{}' differs from the source",
                spec.id, spec.version
            ));
        }
        if done % BATCH as u64 == 0 {
            progress(done, known * 2);
        }
        Ok(true)
    })?;
    progress(known * 2, known * 2);
    Ok(())
}
