//! The template half of the consistency check: every head against the versions it counts, the
//! put-order index against the versions, every alias against its target, and the counters
//! against a count. Unlike the first-problem check of conversations, it lists every problem.

use super::{head, split_version_value, Head};
use crate::codec::be_u64;
use crate::error::Result;
use crate::meta::{self, Counter};
use crate::storage::{ReadTxn, Start, Table};
use std::collections::{BTreeMap, HashMap};

/// What the template check counted and found.
#[derive(Debug, Clone, Default)]
pub struct TemplateCheck {
    pub ids: u64,
    pub versions: u64,
    pub aliases: u64,
    pub problems: Vec<String>,
}

fn split_id(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let nul = key.iter().position(|&b| b == 0)?;
    Some((&key[..nul], &key[nul + 1..]))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Checks the four template tables against each other and the counters.
pub fn check(txn: &impl ReadTxn) -> Result<TemplateCheck> {
    let mut out = TemplateCheck::default();
    // id -> version -> seq, from the version records.
    let mut versions: BTreeMap<Vec<u8>, HashMap<Vec<u8>, u64>> = BTreeMap::new();
    let mut problems = Vec::new();
    txn.scan(Table::TplVersions, Start::Edge, false, &mut |k, v| {
        match (split_id(k), split_version_value(v)) {
            (Some((id, version)), Ok((seq, _))) => {
                versions
                    .entry(id.to_vec())
                    .or_default()
                    .insert(version.to_vec(), seq);
            }
            (None, _) => problems.push(format!("version key '{}' has no id separator", text(k))),
            (_, Err(e)) => problems.push(format!("version '{}': {}", text(k), e.message)),
        }
        out.versions += 1;
        Ok(true)
    })?;
    let mut seq_entries: HashMap<Vec<u8>, u64> = HashMap::new();
    txn.scan(Table::TplSeq, Start::Edge, false, &mut |k, v| {
        let Some((id, seq)) = split_id(k) else {
            problems.push(format!("put-order key '{}' has no id separator", text(k)));
            return Ok(true);
        };
        *seq_entries.entry(id.to_vec()).or_default() += 1;
        let seq = be_u64(seq).unwrap_or(u64::MAX);
        let version = v.get(8..).unwrap_or_default();
        match versions.get(id).and_then(|vs| vs.get(version)) {
            Some(&stored) if stored == seq => {}
            Some(_) => problems.push(format!(
                "template '{}' version '{}': the put-order index and the version disagree on its sequence number",
                text(id),
                text(version)
            )),
            None => problems.push(format!(
                "template '{}': the put-order index names version '{}', which does not exist",
                text(id),
                text(version)
            )),
        }
        Ok(true)
    })?;
    let mut heads: Vec<Vec<u8>> = Vec::new();
    txn.scan(Table::TplHeads, Start::Edge, false, &mut |k, _| {
        heads.push(k.to_vec());
        Ok(true)
    })?;
    for id in &heads {
        out.ids += 1;
        let h: Head = match head(txn, id) {
            Ok(Some(h)) => h,
            Ok(None) => continue,
            Err(e) => {
                problems.push(format!("template '{}': {}", text(id), e.message));
                continue;
            }
        };
        let held = versions.get(id.as_slice());
        let n = held.map_or(0, |v| v.len() as u64);
        if h.count != n {
            problems.push(format!(
                "template '{}' records {} versions but holds {n}",
                text(id),
                h.count
            ));
        }
        let ordered = seq_entries.get(id.as_slice()).copied().unwrap_or(0);
        if ordered != n {
            problems.push(format!(
                "template '{}' has {ordered} put-order entries for {n} versions",
                text(id)
            ));
        }
        match held.and_then(|v| v.get(&h.latest)) {
            None => problems.push(format!(
                "template '{}': its latest version '{}' does not exist",
                text(id),
                text(&h.latest)
            )),
            Some(&seq) if held.is_some_and(|v| v.values().any(|&s| s > seq)) => {
                problems.push(format!(
                    "template '{}': latest is '{}' but a version was put after it",
                    text(id),
                    text(&h.latest)
                ))
            }
            Some(_) => {}
        }
        if held.is_some_and(|v| v.values().any(|&s| s >= h.next_seq)) {
            problems.push(format!(
                "template '{}' has a version numbered past its next sequence number",
                text(id)
            ));
        }
    }
    for id in versions.keys() {
        if heads.binary_search(id).is_err() {
            problems.push(format!(
                "versions of template '{}' exist without its head",
                text(id)
            ));
        }
    }
    txn.scan(Table::TplAliases, Start::Edge, false, &mut |k, v| {
        out.aliases += 1;
        match split_id(k) {
            Some((id, _)) if versions.get(id).is_some_and(|vs| vs.contains_key(v)) => {}
            Some((id, alias)) => problems.push(format!(
                "alias '{}' of template '{}' points at version '{}', which does not exist",
                text(alias),
                text(id),
                text(v)
            )),
            None => problems.push(format!("alias key '{}' has no id separator", text(k))),
        }
        Ok(true)
    })?;
    let counted = (
        meta::get(txn, Counter::TemplateIds)?,
        meta::get(txn, Counter::TemplateVersions)?,
    );
    if counted != (out.ids, out.versions) {
        problems.push(format!(
            "counters say {} template ids and {} versions; the tables hold {} and {}",
            counted.0, counted.1, out.ids, out.versions
        ));
    }
    out.problems = problems;
    Ok(out)
}
