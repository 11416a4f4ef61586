//! Versions, options, opening and closing, stats, sync and backup.

use super::boundary::*;
use crate::error::{Error, Result};
use crate::lmdb::{
    OpenOptions, DEFAULT_FILE_MODE, DEFAULT_MAP_SIZE, DEFAULT_MAX_MAP_SIZE, DEFAULT_MAX_READERS,
};
use crate::Store;
use std::ffi::{c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Library version, major part. Compare with lms_version_number() at run time.
pub const LMS_VERSION_MAJOR: u32 = 0;
/// Library version, minor part.
pub const LMS_VERSION_MINOR: u32 = 1;
/// Library version, patch part.
pub const LMS_VERSION_PATCH: u32 = 0;
/// MAJOR * 10000 + MINOR * 100 + PATCH, as lms_version_number() returns.
pub const LMS_VERSION_NUMBER: u32 =
    LMS_VERSION_MAJOR * 10000 + LMS_VERSION_MINOR * 100 + LMS_VERSION_PATCH;
/// Bumped on any incompatible change to a signature, struct or code in this header. A program
/// built against this header should check `lms_abi_version() == LMS_ABI_VERSION` at start-up.
pub const LMS_ABI_VERSION: u32 = 1;

/// Version of ::lms_options this header describes (the `version` field).
pub const LMS_OPTIONS_VERSION: u32 = 1;
/// Open flag: open read-only; every write returns LMS_READ_ONLY.
pub const LMS_OPEN_READ_ONLY: u32 = 1;
/// Open flag: do not flush on commit (faster; a crash of the machine, not of the process, may
/// lose recent commits). Call lms_sync() to flush.
pub const LMS_OPEN_NO_SYNC: u32 = 2;
/// Backup flag: compact while copying (omit free pages).
pub const LMS_BACKUP_COMPACT: u32 = 1;

/// Options for lms_open(). Initialize with lms_options_init(), then set what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lms_options {
    /// Must be LMS_OPTIONS_VERSION.
    pub version: u32,
    /// LMS_OPEN_* flags.
    pub flags: u32,
    /// Initial map size in bytes (0: 64 MiB). The map grows by doubling when full.
    pub map_size: u64,
    /// Growth cap in bytes (0: 1 TiB); writes fail with LMS_MAP_FULL only at the cap.
    pub max_map_size: u64,
    /// Reader slots (0: 126). Each thread reading concurrently needs one.
    pub max_readers: u32,
    /// Permission bits of created files (0: 0600, owner only).
    pub file_mode: u32,
}

/// Counts and sizes for a health check, filled by lms_stat().
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct lms_stats {
    pub template_ids: u64,
    pub template_versions: u64,
    /// Microseconds since the epoch of the last template write (0: never).
    pub templates_modified_at: i64,
    pub sessions: u64,
    pub messages: u64,
    pub map_size: u64,
    pub map_used: u64,
    pub max_map_size: u64,
    pub max_readers: u32,
    pub num_readers: u32,
    pub schema_version: u32,
    /// LMDB version as MAJOR * 10000 + MINOR * 100 + PATCH.
    pub lmdb_version: u32,
}

/// An open store. Created by lms_open(), destroyed by lms_close(). Safe to share between
/// threads; every function taking it may be called concurrently.
pub struct lms_db {
    pub(crate) store: Store,
}

/// Borrows the store behind a handle.
///
/// # Safety
/// A non-NULL `db` must come from lms_open() and not have been closed.
pub(crate) unsafe fn store<'a>(db: *const lms_db) -> Result<&'a Store> {
    // SAFETY: per the contract above.
    unsafe { db.as_ref() }
        .map(|d| &d.store)
        .ok_or_else(|| Error::invalid("db is NULL"))
}

/// The library version as a static string such as "0.1.0". Never NULL, never freed.
/// @since 0.1
#[no_mangle]
pub extern "C" fn lms_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// The library version as LMS_VERSION_NUMBER computes it.
/// @since 0.1
#[no_mangle]
pub extern "C" fn lms_version_number() -> u32 {
    LMS_VERSION_NUMBER
}

/// The ABI version of the loaded library; compare with LMS_ABI_VERSION.
/// @since 0.1
#[no_mangle]
pub extern "C" fn lms_abi_version() -> u32 {
    LMS_ABI_VERSION
}

/// Fills `opts` with the defaults (version set, everything else default). NULL is a no-op.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_options_init(opts: *mut lms_options) {
    // SAFETY: a non-NULL opts points at writable lms_options memory (ABI contract).
    if let Some(o) = unsafe { opts.as_mut() } {
        *o = lms_options {
            version: LMS_OPTIONS_VERSION,
            flags: 0,
            map_size: DEFAULT_MAP_SIZE as u64,
            max_map_size: DEFAULT_MAX_MAP_SIZE as u64,
            max_readers: DEFAULT_MAX_READERS,
            file_mode: DEFAULT_FILE_MODE,
        };
    }
}

fn to_open_options(o: Option<&lms_options>) -> Result<OpenOptions> {
    let Some(o) = o else {
        return Ok(OpenOptions::default());
    };
    if o.version != LMS_OPTIONS_VERSION {
        return Err(Error::invalid(format!(
            "lms_options.version is {}; this library expects {LMS_OPTIONS_VERSION} (call lms_options_init)",
            o.version
        )));
    }
    if o.flags & !(LMS_OPEN_READ_ONLY | LMS_OPEN_NO_SYNC) != 0 {
        return Err(Error::invalid(format!(
            "unknown open flags 0x{:x}",
            o.flags
        )));
    }
    let size = |v: u64, what: &str| {
        usize::try_from(v)
            .map_err(|_| Error::invalid(format!("{what} is too large for this platform")))
    };
    Ok(OpenOptions {
        map_size: size(o.map_size, "map_size")?,
        max_map_size: size(o.max_map_size, "max_map_size")?,
        max_readers: o.max_readers,
        read_only: o.flags & LMS_OPEN_READ_ONLY != 0,
        no_sync: o.flags & LMS_OPEN_NO_SYNC != 0,
        file_mode: o.file_mode,
    })
}

/// Opens (creating if needed) the store in directory `path`.
///
/// Opening a path this process already has open shares its LMDB environment (LMDB forbids two
/// in one process); the first open's map and sync options apply to all. Stale reader slots left
/// by crashed processes are cleared.
///
/// @param path,path_len  Directory path bytes (no NUL needed or allowed inside).
/// @param opts           Options from lms_options_init(), or NULL for defaults.
/// @param[out] out       The new handle; set to NULL on failure. Close with lms_close().
/// @return LMS_OK; LMS_INVALID_ARGUMENT (bad options, NULL path); LMS_NOT_FOUND (read-only
///         open of a missing store); LMS_VERSION_MISMATCH (written by a newer lmstore);
///         LMS_CORRUPT; LMS_IO. Detail: lms_last_error().
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_open(
    path: *const c_char,
    path_len: usize,
    opts: *const lms_options,
    out: *mut *mut lms_db,
) -> c_int {
    boundary(|| {
        let out = out_ptr(out, "out")?;
        *out = std::ptr::null_mut();
        // SAFETY: caller contract: path points at path_len bytes.
        let path = unsafe { required(path as *const u8, path_len, "path") }?;
        if path.contains(&0) {
            return Err(Error::invalid("path contains a NUL byte"));
        }
        // SAFETY: a non-NULL opts points at a readable lms_options.
        let opts = to_open_options(unsafe { opts.as_ref() })?;
        let store = Store::open(Path::new(std::ffi::OsStr::from_bytes(path)), opts)?;
        *out = Box::into_raw(Box::new(lms_db { store }));
        Ok(())
    })
}

/// Closes a handle from lms_open(). NULL is a no-op. The handle must not be in use by another
/// thread and must not be used again. The environment closes with its last handle.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_close(db: *mut lms_db) {
    if db.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: db came from Box::into_raw in lms_open and is closed once (caller contract).
        drop(unsafe { Box::from_raw(db) });
    });
}

/// Flushes committed writes to disk; needed only with LMS_OPEN_NO_SYNC.
/// @return LMS_OK; LMS_INVALID_ARGUMENT; LMS_READ_ONLY; LMS_IO.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_sync(db: *mut lms_db) -> c_int {
    // SAFETY: caller contract on db.
    boundary(|| unsafe { store(db) }?.sync())
}

/// Fills `out` with counts and sizes. Counts are kept by the write transactions, not scanned.
/// @param[out] out Caller-owned struct to fill.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_stat(db: *mut lms_db, out: *mut lms_stats) -> c_int {
    boundary(|| {
        let out = out_ptr(out, "out")?;
        // SAFETY: caller contract on db.
        let s = unsafe { store(db) }?.stats()?;
        let (ma, mi, pa) = crate::lmdb::lmdb_version();
        *out = lms_stats {
            template_ids: s.template_ids,
            template_versions: s.template_versions,
            templates_modified_at: s.templates_modified_at,
            sessions: s.sessions,
            messages: s.messages,
            map_size: s.env.map_size,
            map_used: s.env.map_used,
            max_map_size: s.env.max_map_size,
            max_readers: s.env.max_readers,
            num_readers: s.env.num_readers,
            schema_version: s.schema_version,
            lmdb_version: (ma * 10000 + mi * 100 + pa) as u32,
        };
        Ok(())
    })
}

/// Writes a consistent copy of the store into directory `path` (created if missing; it must be
/// empty) while readers and writers go on.
/// @param flags 0 or LMS_BACKUP_COMPACT.
/// @return LMS_OK; LMS_INVALID_ARGUMENT; LMS_IO (e.g. the target is not empty).
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_backup(
    db: *mut lms_db,
    path: *const c_char,
    path_len: usize,
    flags: u32,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on db and path.
        let store = unsafe { store(db) }?;
        let path = unsafe { required(path as *const u8, path_len, "path") }?;
        if flags & !LMS_BACKUP_COMPACT != 0 {
            return Err(Error::invalid(format!("unknown backup flags 0x{flags:x}")));
        }
        if path.contains(&0) {
            return Err(Error::invalid("path contains a NUL byte"));
        }
        store.backup(
            Path::new(std::ffi::OsStr::from_bytes(path)),
            flags & LMS_BACKUP_COMPACT != 0,
        )
    })
}
