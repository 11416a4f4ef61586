//! LMDB access: the only module that calls `mdb_*`. It owns the environment (one per path per
//! process), transactions, cursors, map growth and group commit, and exposes them to the domain
//! through the narrow [`crate::storage`] traits.

pub mod checksum;
mod crc;
mod env;
pub(crate) mod ffi;
pub mod foreign;
mod group;
mod open;
pub mod pages;
mod pool;
mod stat;
#[cfg(test)]
mod tests;
mod txn;
mod usage;

pub(crate) use env::io_error;
pub use env::{
    Env, EnvHandle, EnvInfo, Init, OpenOptions, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_FILE_MODE,
    DEFAULT_MAP_SIZE, DEFAULT_MAX_MAP_SIZE, DEFAULT_MAX_READERS, DEFAULT_POOL_SIZE,
    DEFAULT_RENDER_CACHE_SIZE,
};
pub use stat::{EnvStat, ReaderSlot, TableStat};
pub use txn::{RoTxn, RwTxn};
pub use usage::{TableUsage, Usage};

use crate::error::{Error, ErrorKind};
use std::ffi::CStr;

/// MDB_PROBLEM ("unexpected problem - txn should abort"), from LMDB 0.9.23 on; the legacy
/// binding predates it.
const MDB_PROBLEM: libc::c_int = -30779;

/// The kind of an LMDB return code. Every code LMDB defines is listed, so none falls through to
/// "internal": LMDB's own codes say what happened to the data or which limit was hit, errno
/// values are the operating system's.
fn kind_of(rc: libc::c_int) -> ErrorKind {
    match rc {
        ffi::MDB_NOTFOUND => ErrorKind::NotFound,
        ffi::MDB_KEYEXIST => ErrorKind::Conflict,
        ffi::MDB_MAP_FULL => ErrorKind::MapFull,
        ffi::MDB_TXN_FULL => ErrorKind::TooLarge,
        ffi::MDB_BAD_VALSIZE => ErrorKind::KeyTooLong,
        ffi::MDB_VERSION_MISMATCH => ErrorKind::VersionMismatch,
        // Damaged pages, or a tree too deep or too full to be one LMDB writes.
        ffi::MDB_CORRUPTED
        | ffi::MDB_PAGE_NOTFOUND
        | ffi::MDB_INVALID
        | ffi::MDB_CURSOR_FULL
        | ffi::MDB_PAGE_FULL
        | ffi::MDB_BAD_DBI => ErrorKind::Corrupt,
        // A named table that is a plain key in this file: another program's LMDB environment.
        ffi::MDB_INCOMPATIBLE => ErrorKind::NotAStore,
        // A transaction or the environment hit a fatal error (a failed write or flush), a
        // process limit was reached, or another process keeps growing the map.
        ffi::MDB_PANIC
        | ffi::MDB_BAD_TXN
        | MDB_PROBLEM
        | ffi::MDB_READERS_FULL
        | ffi::MDB_TLS_FULL
        | ffi::MDB_DBS_FULL
        | ffi::MDB_BAD_RSLOT
        | ffi::MDB_MAP_RESIZED => ErrorKind::Io,
        libc::EINVAL => ErrorKind::InvalidArgument,
        libc::ENOENT => ErrorKind::NotFound,
        libc::EROFS => ErrorKind::ReadOnly,
        // errno values, and any code a future LMDB adds.
        _ => ErrorKind::Io,
    }
}

/// Turns an LMDB return code into our error, keeping the raw code for diagnostics.
pub(crate) fn check(rc: libc::c_int, what: &str) -> Result<(), Error> {
    if rc == 0 {
        return Ok(());
    }
    Err(Error {
        kind: kind_of(rc),
        message: format!("{what}: {}", strerror(rc)),
        os_code: rc,
    })
}

/// LMDB's description of a return code (errno values get the system's).
pub(crate) fn strerror(rc: libc::c_int) -> String {
    // SAFETY: mdb_strerror returns a pointer to a static or thread-safe string for any code.
    unsafe { CStr::from_ptr(ffi::mdb_strerror(rc)) }
        .to_string_lossy()
        .into_owned()
}

/// The LMDB library version this build links, as (major, minor, patch).
pub fn lmdb_version() -> (i32, i32, i32) {
    let (mut major, mut minor, mut patch) = (0, 0, 0);
    // SAFETY: mdb_version only writes the three ints we pass.
    unsafe { ffi::mdb_version(&mut major, &mut minor, &mut patch) };
    (major, minor, patch)
}
