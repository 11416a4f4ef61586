//! Where the bytes of a store go: per table, its entries, B-tree pages (branch, leaf, overflow),
//! how full its leaf pages are, and the pages on LMDB's free list. `lmstore stat`, the
//! benchmarks and the format work read the same figures from here.

use super::env::Env;
use super::stat::{db_stat, env_info, env_of, free_pages, walk};
use crate::error::Result;
use crate::storage::Table;

/// LMDB's page header (`PAGEHDRSZ`): what a leaf page cannot use for nodes.
const PAGE_HEADER: u64 = 16;
/// A leaf node's header (`NODESIZE`) and its slot in the page's pointer array (`indx_t`).
const NODE_HEADER: u64 = 8;
const NODE_SLOT: u64 = 2;

/// One table's share of the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableUsage {
    pub name: &'static str,
    pub entries: u64,
    pub depth: u32,
    pub branch_pages: u64,
    pub leaf_pages: u64,
    pub overflow_pages: u64,
    /// Bytes of keys and of values as stored (values that live on overflow pages included).
    pub key_bytes: u64,
    pub value_bytes: u64,
    /// Bytes of leaf pages that nodes occupy (headers, keys, inline values, slots): the part of
    /// `leaf_pages` that is not empty space.
    pub leaf_used: u64,
}

impl TableUsage {
    /// Pages of every kind.
    pub fn pages(&self) -> u64 {
        self.branch_pages + self.leaf_pages + self.overflow_pages
    }

    /// How full the leaf pages are, 0.0..=1.0 (1.0 for a table without leaves).
    pub fn leaf_fill(&self, page_size: u32) -> f64 {
        let room = self.leaf_pages * (page_size as u64 - PAGE_HEADER);
        if room == 0 {
            1.0
        } else {
            self.leaf_used as f64 / room as f64
        }
    }
}

/// The whole file: every table, the free list and what is left.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    pub page_size: u32,
    /// Pages the file holds up to the last one in use (`me_last_pgno + 1`).
    pub file_pages: u64,
    /// Pages on the free list, reusable by later writes.
    pub free_pages: u64,
    pub tables: Vec<TableUsage>,
}

/// How full a compact backup fills leaf pages: LMDB fills an appended page as far as whole
/// entries fit (94-99% measured, docs/benchmarks.md); the lower end, so estimates do not
/// promise more than a backup gives.
const COMPACT_FILL: f64 = 0.94;

impl Usage {
    pub fn table(&self, name: &str) -> Option<&TableUsage> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// About how many pages a compact backup of this store takes (`Store::backup` with
    /// `compact`): every leaf filled as a copy in key order fills it, no free pages, the two
    /// meta pages.
    pub fn compact_pages(&self) -> u64 {
        let room = (self.page_size as u64).saturating_sub(PAGE_HEADER) as f64 * COMPACT_FILL;
        let leaves = |t: &TableUsage| (t.leaf_used as f64 / room.max(1.0)).ceil() as u64;
        2 + self
            .tables
            .iter()
            .map(|t| t.branch_pages + t.overflow_pages + leaves(t))
            .sum::<u64>()
    }
}

impl Env {
    /// Measures every table on one read snapshot. It visits every entry (sizes only, no
    /// decoding, no checksum work), so it costs a full scan: for stats and tools, not hot paths.
    pub fn usage(&self) -> Result<Usage> {
        self.read(|txn| {
            let (info, stat) = env_info(env_of(txn))?;
            let mut usage = Usage {
                page_size: stat.ms_psize,
                file_pages: info.me_last_pgno as u64 + 1,
                ..Default::default()
            };
            let psize = stat.ms_psize as u64;
            // LMDB moves a value to overflow pages when its node would exceed `me_nodemax`.
            let node_max = (((psize - PAGE_HEADER) / 2) & !1) - NODE_SLOT;
            for table in Table::ALL {
                let dbi = txn.ctx.dbis[table as usize];
                let stat = db_stat(txn, dbi)?;
                let mut t = TableUsage {
                    name: table.name(),
                    entries: stat.ms_entries as u64,
                    depth: stat.ms_depth,
                    branch_pages: stat.ms_branch_pages as u64,
                    leaf_pages: stat.ms_leaf_pages as u64,
                    overflow_pages: stat.ms_overflow_pages as u64,
                    ..Default::default()
                };
                walk(txn, dbi, |k, v| {
                    let (k, v) = (k.len() as u64, v.len() as u64);
                    t.key_bytes += k;
                    t.value_bytes += v;
                    let mut node = NODE_HEADER + k + v;
                    if node > node_max {
                        node = NODE_HEADER + k + std::mem::size_of::<usize>() as u64;
                    }
                    t.leaf_used += node.next_multiple_of(2) + NODE_SLOT;
                })?;
                usage.tables.push(t);
            }
            usage.free_pages = free_pages(txn)?;
            Ok(usage)
        })
    }
}
