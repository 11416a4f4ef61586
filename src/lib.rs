//! lmstore: an embedded, crash-safe store for versioned prompt templates and conversation
//! history, over LMDB. Layers, bottom up: [`lmdb`] (environment, transactions, map growth),
//! [`storage`] (the narrow interface the domain uses), [`templates`] and [`conversations`]
//! (the domain), [`Store`] (the safe API), and `capi` (the C ABI, nothing but translation).

pub mod error;
pub mod lmdb;
pub mod storage;

pub use error::{Error, ErrorKind, Result};
pub mod capi;
pub mod codec;
pub mod conversations;
pub mod meta;
mod store;
pub mod templates;

pub use lmdb::OpenOptions;
pub use store::{Stats, Store};
