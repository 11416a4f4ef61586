//! The stored format as a whole: where its bytes go ([`Store::usage`]), the schema upgrade
//! and the compression dictionaries. The record encodings themselves live with their domain
//! (`conversations::record`, `templates`); docs/format.md describes all of it.

use crate::error::Result;
use crate::lmdb::Usage;
use crate::Store;

impl Store {
    /// Per-table entries, pages and leaf fill, and the free pages of the file (a full scan of
    /// sizes: for stats and tools).
    pub fn usage(&self) -> Result<Usage> {
        self.lmdb("usage")?.usage()
    }
}

pub mod compress;
pub mod dictionary;
mod repack;
mod upgrade;

pub use upgrade::Upgraded;
