//! LMDB access: the only module that calls `mdb_*`. It owns the environment (one per path per
//! process), transactions, cursors, map growth and group commit, and exposes them to the domain
//! through the narrow [`crate::storage`] traits.

mod env;
pub(crate) mod ffi;
mod txn;

pub use env::{
    Env, EnvHandle, EnvInfo, OpenOptions, DEFAULT_FILE_MODE, DEFAULT_MAP_SIZE,
    DEFAULT_MAX_MAP_SIZE, DEFAULT_MAX_READERS,
};
pub use txn::{RoTxn, RwTxn};

use crate::error::{Error, ErrorKind};
use std::ffi::CStr;

/// Turns an LMDB return code into our error, keeping the raw code for diagnostics.
pub(crate) fn check(rc: libc::c_int, what: &str) -> Result<(), Error> {
    if rc == 0 {
        return Ok(());
    }
    let kind = match rc {
        ffi::MDB_NOTFOUND => ErrorKind::NotFound,
        ffi::MDB_MAP_FULL => ErrorKind::MapFull,
        ffi::MDB_CORRUPTED | ffi::MDB_PAGE_NOTFOUND | ffi::MDB_INVALID => ErrorKind::Corrupt,
        ffi::MDB_VERSION_MISMATCH => ErrorKind::VersionMismatch,
        ffi::MDB_BAD_VALSIZE => ErrorKind::KeyTooLong,
        libc::EACCES if what.starts_with("mdb_txn_begin") => ErrorKind::ReadOnly,
        libc::EINVAL => ErrorKind::InvalidArgument,
        rc if rc > 0 => ErrorKind::Io,
        _ => ErrorKind::Internal,
    };
    // SAFETY: mdb_strerror returns a pointer to a static or thread-safe string for any code.
    let text = unsafe { CStr::from_ptr(ffi::mdb_strerror(rc)) }.to_string_lossy();
    Err(Error {
        kind,
        message: format!("{what}: {text}"),
        os_code: rc,
    })
}

/// The LMDB library version this build links, as (major, minor, patch).
pub fn lmdb_version() -> (i32, i32, i32) {
    let (mut major, mut minor, mut patch) = (0, 0, 0);
    // SAFETY: mdb_version only writes the three ints we pass.
    unsafe { ffi::mdb_version(&mut major, &mut minor, &mut patch) };
    (major, minor, patch)
}
