//! Versioned prompt templates: immutable versions, latest-by-put-order, aliases, and counts.
//!
//! Tables (docs/format.md): `tpl_versions` `id 0x00 version` -> seq(8) + record;
//! `tpl_heads` `id` -> next_seq(8) + version_count(8) + version_len(2) + latest version +
//! a copy of the latest record (so "get latest", the common read, is one lookup);
//! `tpl_seq` `id 0x00 seq(8)` -> created_at(8) + version; `tpl_aliases` `id 0x00 alias` -> version.
//! A NUL separator keeps byte order equal to id order, so ids may not contain NUL.

pub mod consistency;
mod spec;

pub use spec::{normalize_spec, TemplateSpec};

use crate::codec::{self, be_u64, now_micros};
use crate::error::{Error, ErrorKind, Result};
use crate::meta::{self, Counter};
use crate::storage::{ReadTxn, Start, Table, WriteTxn};

/// The most ids or versions one list call returns.
pub const MAX_LIST: u32 = 10_000;

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created = 0,
    Unchanged = 1,
    Replaced = 2,
}

pub(crate) fn check_name(bytes: &[u8], what: &str) -> Result<()> {
    if bytes.is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    crate::error::utf8(bytes, what)?;
    if bytes.contains(&0) {
        return Err(Error::invalid(format!("{what} contains a NUL byte")));
    }
    Ok(())
}

fn composite(txn: &impl ReadTxn, id: &[u8], tail: &[u8], what: &str) -> Result<Vec<u8>> {
    let len = id.len() + 1 + tail.len();
    if len > txn.max_key_size() {
        return Err(Error::new(
            ErrorKind::KeyTooLong,
            format!(
                "template {what} is {len} bytes with its separator; LMDB keys are limited to {} bytes",
                txn.max_key_size()
            ),
        ));
    }
    let mut key = Vec::with_capacity(len);
    key.extend_from_slice(id);
    key.push(0);
    key.extend_from_slice(tail);
    Ok(key)
}

fn check_id(txn: &impl ReadTxn, id: &[u8]) -> Result<()> {
    check_name(id, "template id")?;
    if id.len() + 9 > txn.max_key_size() {
        return Err(Error::new(
            ErrorKind::KeyTooLong,
            format!(
                "template id is {} bytes; the longest allowed is {} bytes",
                id.len(),
                txn.max_key_size() - 9
            ),
        ));
    }
    Ok(())
}

struct Head {
    next_seq: u64,
    count: u64,
    latest: Vec<u8>,
    record: Vec<u8>,
}

/// Splits a stored head into (fixed part, latest version, latest record) without copying.
fn split_head(v: &[u8]) -> Result<(&[u8], &[u8], &[u8])> {
    let truncated = || Error::corrupt("template head record is truncated");
    let vlen = u16::from_be_bytes(
        v.get(16..18)
            .ok_or_else(truncated)?
            .try_into()
            .map_err(|_| truncated())?,
    ) as usize;
    let version = v.get(18..18 + vlen).ok_or_else(truncated)?;
    Ok((&v[..16], version, &v[18 + vlen..]))
}

impl Head {
    fn decode(v: &[u8]) -> Result<Head> {
        let (fixed, version, record) = split_head(v)?;
        Ok(Head {
            next_seq: be_u64(&fixed[0..8])?,
            count: be_u64(&fixed[8..16])?,
            latest: version.to_vec(),
            record: record.to_vec(),
        })
    }
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(18 + self.latest.len() + self.record.len());
        out.extend_from_slice(&self.next_seq.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&(self.latest.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.latest);
        out.extend_from_slice(&self.record);
        out
    }
}

fn head(txn: &impl ReadTxn, id: &[u8]) -> Result<Option<Head>> {
    txn.get(Table::TplHeads, id)?.map(Head::decode).transpose()
}

fn missing(id: &[u8]) -> Error {
    Error::not_found(format!(
        "template '{}' not found",
        String::from_utf8_lossy(id)
    ))
}

fn missing_version(id: &[u8], version: &[u8]) -> Error {
    Error::not_found(format!(
        "template '{}' has no version '{}'",
        String::from_utf8_lossy(id),
        String::from_utf8_lossy(version)
    ))
}

/// Stored value of a version: seq(8) then the MessagePack record the caller gets back.
pub(crate) fn split_version_value(v: &[u8]) -> Result<(u64, &[u8])> {
    if v.len() < 9 {
        return Err(Error::corrupt("template version record is truncated"));
    }
    Ok((be_u64(&v[..8])?, &v[8..]))
}

/// Puts one version. `spec` is a MessagePack map (see [`normalize_spec`]).
pub fn put(txn: &mut impl WriteTxn, spec: &TemplateSpec, replace: bool) -> Result<PutOutcome> {
    let id = spec.id.as_bytes();
    let version = spec.version.as_bytes();
    check_id(txn, id)?;
    check_name(version, "template version")?;
    crate::render::check_spec(spec)?;
    let vkey = composite(txn, id, version, "id + version")?;
    let now = now_micros();
    let mut head = head(txn, id)?;
    let mut outcome = PutOutcome::Created;
    if let Some(existing) = txn.get(Table::TplVersions, &vkey)? {
        let (old_seq, record) = split_version_value(existing)?;
        if spec.same_content_as(record)? {
            return Ok(PutOutcome::Unchanged);
        }
        if !replace {
            return Err(Error::conflict(format!(
                "template '{}' version '{}' already exists with different content; versions are immutable (put a new version, or ask to replace)",
                spec.id, spec.version
            )));
        }
        let seq_key = composite(txn, id, &old_seq.to_be_bytes(), "id")?;
        txn.del(Table::TplSeq, &seq_key)?;
        outcome = PutOutcome::Replaced;
    }
    let record = spec.encode_record(now);
    let h = head.get_or_insert(Head {
        next_seq: 0,
        count: 0,
        latest: Vec::new(),
        record: Vec::new(),
    });
    let seq = h.next_seq;
    h.next_seq += 1;
    if outcome == PutOutcome::Created {
        h.count += 1;
    }
    h.latest = version.to_vec();
    h.record = record.clone();
    let head_bytes = h.encode();
    let is_new_id = h.count == 1 && outcome == PutOutcome::Created;

    let mut value = Vec::with_capacity(8 + record.len());
    value.extend_from_slice(&seq.to_be_bytes());
    value.extend_from_slice(&record);
    txn.put(Table::TplVersions, &vkey, &value)?;
    let seq_key = composite(txn, id, &seq.to_be_bytes(), "id")?;
    let mut seq_val = spec.created_at.unwrap_or(now).to_be_bytes().to_vec();
    seq_val.extend_from_slice(version);
    txn.put(Table::TplSeq, &seq_key, &seq_val)?;
    txn.put(Table::TplHeads, id, &head_bytes)?;
    if outcome == PutOutcome::Created {
        meta::add(txn, Counter::TemplateVersions, 1)?;
        if is_new_id {
            meta::add(txn, Counter::TemplateIds, 1)?;
        }
    }
    meta::set(txn, Counter::TemplatesModifiedAt, now as u64)?;
    Ok(outcome)
}

/// Borrows the stored record of `id` at `version`, or at its latest version when `version` is None.
pub fn get<'t>(txn: &'t impl ReadTxn, id: &[u8], version: Option<&[u8]>) -> Result<&'t [u8]> {
    check_id(txn, id)?;
    match version {
        Some(v) => {
            check_name(v, "template version")?;
            let vkey = composite(txn, id, v, "id + version")?;
            match txn.get(Table::TplVersions, &vkey)? {
                Some(value) => split_version_value(value).map(|(_, r)| r),
                None if txn.get(Table::TplHeads, id)?.is_none() => Err(missing(id)),
                None => Err(missing_version(id, v)),
            }
        }
        None => {
            let stored = txn.get(Table::TplHeads, id)?.ok_or_else(|| missing(id))?;
            split_head(stored).map(|(_, _, record)| record)
        }
    }
}

/// Resolves an alias to its version.
pub fn resolve_alias(txn: &impl ReadTxn, id: &[u8], alias: &[u8]) -> Result<Vec<u8>> {
    check_id(txn, id)?;
    check_name(alias, "alias")?;
    let akey = composite(txn, id, alias, "id + alias")?;
    match txn.get(Table::TplAliases, &akey)? {
        Some(v) => Ok(v.to_vec()),
        None if txn.get(Table::TplHeads, id)?.is_none() => Err(missing(id)),
        None => Err(Error::not_found(format!(
            "template '{}' has no alias '{}'",
            String::from_utf8_lossy(id),
            String::from_utf8_lossy(alias)
        ))),
    }
}

fn check_limit(limit: u32) -> Result<()> {
    if limit == 0 || limit > MAX_LIST {
        return Err(Error::invalid(format!(
            "limit must be between 1 and {MAX_LIST}, got {limit}"
        )));
    }
    Ok(())
}

/// Ids in byte order, starting after `after` (exclusive), restricted to `prefix`, as a
/// MessagePack array of strings.
pub fn list_ids(txn: &impl ReadTxn, prefix: &[u8], after: &[u8], limit: u32) -> Result<Vec<u8>> {
    check_limit(limit)?;
    for (bytes, what) in [(prefix, "prefix"), (after, "after")] {
        if bytes.len() > txn.max_key_size() {
            return Err(Error::new(
                ErrorKind::KeyTooLong,
                format!("{what} is longer than any template id can be"),
            ));
        }
        crate::error::utf8(bytes, what)?;
    }
    let start = if after > prefix { after } else { prefix };
    let mut ids: Vec<Vec<u8>> = Vec::new();
    let begin = if start.is_empty() {
        Start::Edge
    } else {
        Start::At(start)
    };
    txn.scan(Table::TplHeads, begin, false, &mut |k, _| {
        if !k.starts_with(prefix) {
            return Ok(false);
        }
        if !after.is_empty() && k == after {
            return Ok(true);
        }
        ids.push(k.to_vec());
        Ok((ids.len() as u32) < limit)
    })?;
    let mut out = Vec::new();
    codec::write_array_len(&mut out, ids.len() as u32);
    for id in ids {
        let _ = rmp::encode::write_str(&mut out, &String::from_utf8_lossy(&id));
    }
    Ok(out)
}

/// The versions of `id` in put order (oldest first), as a MessagePack array of
/// `{version, created_at}` maps.
pub fn list_versions(txn: &impl ReadTxn, id: &[u8]) -> Result<Vec<u8>> {
    check_id(txn, id)?;
    if txn.get(Table::TplHeads, id)?.is_none() {
        return Err(missing(id));
    }
    let prefix = composite(txn, id, &[], "id")?;
    let mut items: Vec<(i64, Vec<u8>)> = Vec::new();
    txn.scan(Table::TplSeq, Start::At(&prefix), false, &mut |k, v| {
        if !k.starts_with(&prefix) {
            return Ok(false);
        }
        if v.len() < 8 {
            return Err(Error::corrupt("template sequence record is truncated"));
        }
        items.push((be_u64(v)? as i64, v[8..].to_vec()));
        Ok(true)
    })?;
    let mut out = Vec::new();
    codec::write_array_len(&mut out, items.len() as u32);
    for (created_at, version) in items {
        let _ = rmp::encode::write_map_len(&mut out, 2);
        let _ = rmp::encode::write_str(&mut out, "version");
        let _ = rmp::encode::write_str(&mut out, &String::from_utf8_lossy(&version));
        let _ = rmp::encode::write_str(&mut out, "created_at");
        let _ = rmp::encode::write_sint(&mut out, created_at);
    }
    Ok(out)
}

fn collect_prefix(
    txn: &impl ReadTxn,
    table: Table,
    prefix: &[u8],
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    txn.scan(table, Start::At(prefix), false, &mut |k, v| {
        if !k.starts_with(prefix) {
            return Ok(false);
        }
        out.push((k.to_vec(), v.to_vec()));
        Ok(true)
    })?;
    Ok(out)
}

/// Deletes one version (and the aliases pointing at it), or the whole id when `version` is None.
pub fn delete(txn: &mut impl WriteTxn, id: &[u8], version: Option<&[u8]>) -> Result<()> {
    check_id(txn, id)?;
    let mut h = head(txn, id)?.ok_or_else(|| missing(id))?;
    let prefix = composite(txn, id, &[], "id")?;
    let now = now_micros();
    let Some(version) = version else {
        for table in [Table::TplVersions, Table::TplSeq, Table::TplAliases] {
            for (k, _) in collect_prefix(txn, table, &prefix)? {
                txn.del(table, &k)?;
            }
        }
        txn.del(Table::TplHeads, id)?;
        meta::add(txn, Counter::TemplateVersions, -(h.count as i64))?;
        meta::add(txn, Counter::TemplateIds, -1)?;
        return meta::set(txn, Counter::TemplatesModifiedAt, now as u64);
    };
    check_name(version, "template version")?;
    let vkey = composite(txn, id, version, "id + version")?;
    let seq = match txn.get(Table::TplVersions, &vkey)? {
        Some(v) => split_version_value(v)?.0,
        None => return Err(missing_version(id, version)),
    };
    txn.del(Table::TplVersions, &vkey)?;
    txn.del(
        Table::TplSeq,
        &composite(txn, id, &seq.to_be_bytes(), "id")?,
    )?;
    for (k, v) in collect_prefix(txn, Table::TplAliases, &prefix)? {
        if v == version {
            txn.del(Table::TplAliases, &k)?;
        }
    }
    meta::add(txn, Counter::TemplateVersions, -1)?;
    h.count -= 1;
    if h.count == 0 {
        txn.del(Table::TplHeads, id)?;
        meta::add(txn, Counter::TemplateIds, -1)?;
    } else {
        if h.latest == version {
            let mut latest = None;
            txn.scan(
                Table::TplSeq,
                Start::At(&composite(txn, id, &[0xff; 8], "id")?),
                true,
                &mut |k, v| {
                    if k.starts_with(&prefix) && v.len() >= 8 {
                        latest = Some(v[8..].to_vec());
                    }
                    Ok(false)
                },
            )?;
            h.latest = latest
                .ok_or_else(|| Error::corrupt("template has versions but no sequence entries"))?;
            let latest_key = composite(txn, id, &h.latest, "id + version")?;
            let value = txn
                .get(Table::TplVersions, &latest_key)?
                .ok_or_else(|| Error::corrupt("template sequence points at a missing version"))?;
            h.record = split_version_value(value)?.1.to_vec();
        }
        txn.put(Table::TplHeads, id, &h.encode())?;
    }
    meta::set(txn, Counter::TemplatesModifiedAt, now as u64)
}

/// Points `alias` at an existing `version` of `id`, creating or moving it.
pub fn set_alias(txn: &mut impl WriteTxn, id: &[u8], alias: &[u8], version: &[u8]) -> Result<()> {
    check_id(txn, id)?;
    check_name(alias, "alias")?;
    check_name(version, "template version")?;
    let vkey = composite(txn, id, version, "id + version")?;
    if txn.get(Table::TplVersions, &vkey)?.is_none() {
        if txn.get(Table::TplHeads, id)?.is_none() {
            return Err(missing(id));
        }
        return Err(missing_version(id, version));
    }
    let akey = composite(txn, id, alias, "id + alias")?;
    txn.put(Table::TplAliases, &akey, version)?;
    meta::set(txn, Counter::TemplatesModifiedAt, now_micros() as u64)
}

pub fn delete_alias(txn: &mut impl WriteTxn, id: &[u8], alias: &[u8]) -> Result<()> {
    resolve_alias(txn, id, alias)?;
    let akey = composite(txn, id, alias, "id + alias")?;
    txn.del(Table::TplAliases, &akey)?;
    meta::set(txn, Counter::TemplatesModifiedAt, now_micros() as u64)
}

/// Aliases of `id` as a MessagePack map alias -> version.
pub fn list_aliases(txn: &impl ReadTxn, id: &[u8]) -> Result<Vec<u8>> {
    check_id(txn, id)?;
    if txn.get(Table::TplHeads, id)?.is_none() {
        return Err(missing(id));
    }
    let prefix = composite(txn, id, &[], "id")?;
    let entries = collect_prefix(txn, Table::TplAliases, &prefix)?;
    let mut out = Vec::new();
    let _ = rmp::encode::write_map_len(&mut out, entries.len() as u32);
    for (k, v) in entries {
        let _ = rmp::encode::write_str(&mut out, &String::from_utf8_lossy(&k[prefix.len()..]));
        let _ = rmp::encode::write_str(&mut out, &String::from_utf8_lossy(&v));
    }
    Ok(out)
}
