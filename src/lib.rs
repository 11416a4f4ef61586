//! lmstore: an embedded, crash-safe store for versioned prompt templates and conversation
//! history, over LMDB. Layers, bottom up: [`lmdb`] (environment, transactions, map growth),
//! [`storage`] (the narrow interface the domain uses), [`templates`] and [`conversations`]
//! (the domain), [`Store`] (the safe API), and `capi` (the C ABI, nothing but translation).

// Every `unsafe` block says why it is sound (clippy's lint turns a missing `// SAFETY:` line
// into an error under `-D warnings`).
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod error;
pub mod format;
pub mod lmdb;
pub mod storage;

pub use error::{Error, ErrorKind, Result};
mod backend;
pub mod capi;
pub mod codec;
pub mod conversations;
pub mod import;
pub mod meta;
pub mod migrate;
pub mod ops;
#[cfg(feature = "postgres")]
mod pg;
pub mod recovery;
pub mod render;
mod store;
pub mod templates;
pub mod transfer;

pub use lmdb::OpenOptions;
pub use store::{Stats, Store, WriteOp, WriteOutcome, BACKUP_STAGING};
