//! The narrow interface between the domain (templates, conversations) and the key-value engine.
//! Everything the domain needs is an ordered map per table with get, put, delete and a directed
//! scan: exactly what LMDB, TiKV or FoundationDB offer, so another backend implements these two
//! traits and nothing above them changes.

use crate::error::{Error, Result};

/// The logical tables. Each is an LMDB named database; their key layouts are in docs/format.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Meta = 0,
    TplVersions,
    TplHeads,
    TplSeq,
    TplAliases,
    Messages,
    MessageIds,
    AgentIndex,
    Sessions,
    SessionActivity,
}

impl Table {
    pub const ALL: [Table; 10] = [
        Table::Meta,
        Table::TplVersions,
        Table::TplHeads,
        Table::TplSeq,
        Table::TplAliases,
        Table::Messages,
        Table::MessageIds,
        Table::AgentIndex,
        Table::Sessions,
        Table::SessionActivity,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::TplVersions => "tpl_versions",
            Table::TplHeads => "tpl_heads",
            Table::TplSeq => "tpl_seq",
            Table::TplAliases => "tpl_aliases",
            Table::Messages => "messages",
            Table::MessageIds => "message_ids",
            Table::AgentIndex => "agent_index",
            Table::Sessions => "sessions",
            Table::SessionActivity => "session_activity",
        }
    }
}

/// Where a scan starts.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// The first key (forward) or the last key (backward).
    Edge,
    /// Forward: the first key >= this. Backward: the last key <= this.
    At(&'a [u8]),
}

/// Called for each entry of a scan with (key, value); returns whether to go on.
pub type Visitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<bool> + 'a;

/// Read access. Slices returned borrow the transaction and die with it or with the next write.
pub trait ReadTxn {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<&[u8]>>;
    /// Visits entries in key order (or reverse) from `start` until `visit` returns `Ok(false)`.
    fn scan(
        &self,
        table: Table,
        start: Start<'_>,
        backward: bool,
        visit: &mut Visitor<'_>,
    ) -> Result<()>;
    /// The largest key size the engine accepts.
    fn max_key_size(&self) -> usize;
    /// A counter kept by [`WriteTxn::add_counter`]: 0 when absent. By default it is one
    /// big-endian u64 value under `key`; an engine with many concurrent writers may keep it
    /// in pieces and sum them here, so writers never meet on one hot key.
    fn counter(&self, table: Table, key: &[u8]) -> Result<u64> {
        match self.get(table, key)? {
            Some(v) => crate::codec::be_u64(v),
            None => Ok(0),
        }
    }
}

/// Write access inside one atomic transaction.
pub trait WriteTxn: ReadTxn {
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<()>;
    /// Puts a key the caller expects to sort after every key in the table (a time-ordered id),
    /// letting the engine skip the search; behaves as [`WriteTxn::put`] when it does not.
    fn put_last(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<()>;
    /// Puts a run of new entries sorted by key (a session's messages of one batch), which
    /// mostly sort together between the same two stored keys. An engine whose pages split
    /// in half when a key lands in the middle of one (LMDB) may lift the entries that follow
    /// the run aside and put them back after it, so the run is written as appends that fill
    /// their pages. What is stored afterwards is exactly what plain puts would store.
    fn put_run(&mut self, table: Table, run: &[(&[u8], &[u8])]) -> Result<()> {
        for (key, value) in run {
            self.put(table, key, value)?;
        }
        Ok(())
    }
    /// Removes `key`; returns whether it was there.
    fn del(&mut self, table: Table, key: &[u8]) -> Result<bool>;
    /// Adds `delta` to the counter under `key` (see [`ReadTxn::counter`]).
    fn add_counter(&mut self, table: Table, key: &[u8], delta: i64) -> Result<()> {
        let next = self
            .counter(table, key)?
            .checked_add_signed(delta)
            .ok_or_else(|| {
                Error::corrupt(format!(
                    "counter {} would go below zero",
                    String::from_utf8_lossy(key)
                ))
            })?;
        self.put(table, key, &next.to_be_bytes())
    }
}
