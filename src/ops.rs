//! Operational views of a store for health checks and tools: a consistency report that lists
//! every problem, the detailed environment statistics, and the cheap change signal a follower
//! waits on.

use crate::conversations;
use crate::error::{ErrorKind, Result};
use crate::lmdb::EnvStat;
use crate::templates::consistency;
use crate::Store;

/// The result of [`Store::consistency_report`]: what was checked and every problem found.
#[derive(Debug, Clone, Default)]
pub struct ConsistencyReport {
    pub messages: u64,
    pub template_ids: u64,
    pub template_versions: u64,
    pub aliases: u64,
    /// Each problem in words, naming what disagrees; empty when the store is consistent.
    pub problems: Vec<String>,
}

impl ConsistencyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Store {
    /// Checks every index against its records and every counter against a count, templates
    /// and conversations, from one snapshot. Damage is reported in the result, not as an error;
    /// an error means the check itself could not run.
    pub fn consistency_report(&self) -> Result<ConsistencyReport> {
        self.read(|txn| {
            let t = consistency::check(txn)?;
            let mut report = ConsistencyReport {
                template_ids: t.ids,
                template_versions: t.versions,
                aliases: t.aliases,
                problems: t.problems,
                ..Default::default()
            };
            match conversations::verify(txn) {
                Ok(n) => report.messages = n,
                Err(e) if e.kind == ErrorKind::Corrupt => report.problems.push(e.message),
                Err(e) => return Err(e),
            }
            Ok(report)
        })
    }

    /// Per-table B-tree statistics, the free list and the reader table (see
    /// [`crate::lmdb::Env::detailed_stat`]); `measure_fill` reads every record.
    pub fn env_stat(&self, measure_fill: bool) -> Result<EnvStat> {
        self.lmdb("stat")?.detailed_stat(measure_fill)
    }

    /// The id of the last committed write, by any process: it changes exactly when the store
    /// does, and reading it costs no data access, so followers poll it.
    pub fn last_txn_id(&self) -> Result<u64> {
        self.lmdb("last_txn_id")?.last_txn_id()
    }

    /// Reader slots of dead processes cleared when this process opened the store.
    pub fn stale_readers_cleared_at_open(&self) -> u32 {
        self.lmdb("reader table")
            .map_or(0, |env| env.stale_readers_cleared_at_open())
    }

    /// Clears reader slots of dead processes now; returns how many.
    pub fn clear_stale_readers(&self) -> Result<u32> {
        self.lmdb("reader table")?.clear_stale_readers()
    }
}
