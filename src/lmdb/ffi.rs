//! The one place that chooses which LMDB build we link: `lmdb-master-sys` (maintained, the
//! default) or `lmdb-sys` (LMDB 0.9.21, for sharing a live environment with stock 0.9 tools).
//! Both expose the same `mdb_*` functions, so nothing else in the crate knows which it is.

#[cfg(all(feature = "lmdb-master", not(feature = "lmdb-legacy")))]
pub use lmdb_master_sys::*;

#[cfg(feature = "lmdb-legacy")]
pub use lmdb_sys::*;

#[cfg(not(any(feature = "lmdb-master", feature = "lmdb-legacy")))]
compile_error!("enable exactly one of the features `lmdb-master` (default) or `lmdb-legacy`");
