//! Versions, options, opening and closing, stats, sync and backup.

use super::boundary::*;
use crate::error::{Error, Result};
use crate::lmdb::{
    OpenOptions, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_FILE_MODE, DEFAULT_MAP_SIZE,
    DEFAULT_MAX_MAP_SIZE, DEFAULT_MAX_READERS, DEFAULT_POOL_SIZE, DEFAULT_RENDER_CACHE_SIZE,
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

/// Version of ::lms_options this header describes (the `version` field). Version 1 (the struct
/// without the fields after `file_mode`) is still accepted.
pub const LMS_OPTIONS_VERSION: u32 = 2;
/// Open flag: open read-only; every write returns LMS_READ_ONLY.
pub const LMS_OPEN_READ_ONLY: u32 = 1;
/// Open flag: do not flush on commit (faster; a crash of the machine, not of the process, may
/// lose recent commits). Call lms_sync() to flush.
pub const LMS_OPEN_NO_SYNC: u32 = 2;
/// Open flag: before LMDB maps the file, walk every page of every table with lmstore's own
/// bounds-checked reader; a damaged file is refused with LMS_CORRUPT naming the page and table.
/// Costs one read of the whole file; without it, open checks only the meta pages, the file's
/// length and the table roots.
pub const LMS_OPEN_VERIFY: u32 = 4;
/// Open flag: create missing parent directories of `path` too. Without it only the store's own
/// directory is created, and a missing parent is LMS_NOT_FOUND, so a mistyped path never
/// silently gives a new, empty store.
pub const LMS_OPEN_CREATE_PARENTS: u32 = 8;
/// Backup flag: compact while copying: every table is rewritten with full pages and free pages
/// are left out (a schema-1 store: free pages left out only).
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
    /// Compiled templates kept for rendering (0: 256). @since options version 2
    pub render_cache_size: u32,
    /// PostgreSQL stores: connections kept open to the server (0: 4). @since options version 2
    pub pool_size: u32,
    /// PostgreSQL stores: how long to wait when connecting, in milliseconds (0: 5000).
    /// @since options version 2
    pub connect_timeout_ms: u32,
}

/// The version-1 layout of lms_options, read first so a caller's smaller struct is never read
/// past its end.
#[repr(C)]
#[derive(Clone, Copy)]
struct LmsOptionsV1 {
    version: u32,
    flags: u32,
    map_size: u64,
    max_map_size: u64,
    max_readers: u32,
    file_mode: u32,
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
/// @return The library's version, e.g. "0.1.0": a static NUL-terminated string.
/// @since 0.1
#[no_mangle]
pub extern "C" fn lms_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// The library version as LMS_VERSION_NUMBER computes it.
/// @return MAJOR * 10000 + MINOR * 100 + PATCH, comparable with LMS_VERSION_NUMBER.
/// @since 0.1
#[no_mangle]
pub extern "C" fn lms_version_number() -> u32 {
    LMS_VERSION_NUMBER
}

/// The ABI version of the loaded library; compare with LMS_ABI_VERSION.
/// @return The ABI version the library implements; a program built against LMS_ABI_VERSION needs
///         the same number.
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
            render_cache_size: DEFAULT_RENDER_CACHE_SIZE,
            pool_size: DEFAULT_POOL_SIZE,
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
        };
    }
}

/// Reads the caller's options as far as their version says they reach.
///
/// # Safety
/// A non-NULL `opts` points at an lms_options of the version in its first field (a version-1
/// struct is shorter).
unsafe fn read_options(opts: *const lms_options) -> Result<Option<lms_options>> {
    // SAFETY: every version starts with the version-1 layout.
    let Some(v1) = (unsafe { (opts as *const LmsOptionsV1).as_ref() }).copied() else {
        return Ok(None);
    };
    match v1.version {
        1 => Ok(Some(lms_options {
            version: 1,
            flags: v1.flags,
            map_size: v1.map_size,
            max_map_size: v1.max_map_size,
            max_readers: v1.max_readers,
            file_mode: v1.file_mode,
            render_cache_size: 0,
            pool_size: 0,
            connect_timeout_ms: 0,
        })),
        // SAFETY: the caller says this is a whole version-2 struct.
        LMS_OPTIONS_VERSION => Ok(unsafe { opts.as_ref() }.copied()),
        v => Err(Error::invalid(format!(
            "lms_options.version is {v}; this library accepts 1 to {LMS_OPTIONS_VERSION} (call lms_options_init)"
        ))),
    }
}

fn to_open_options(o: Option<&lms_options>) -> Result<OpenOptions> {
    let Some(o) = o else {
        return Ok(OpenOptions::default());
    };
    let known = LMS_OPEN_READ_ONLY | LMS_OPEN_NO_SYNC | LMS_OPEN_VERIFY | LMS_OPEN_CREATE_PARENTS;
    if o.flags & !known != 0 {
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
        render_cache_size: o.render_cache_size,
        pool_size: o.pool_size,
        connect_timeout_ms: o.connect_timeout_ms,
        verify: o.flags & LMS_OPEN_VERIFY != 0,
        create_parents: o.flags & LMS_OPEN_CREATE_PARENTS != 0,
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
/// @return LMS_OK; LMS_INVALID_ARGUMENT (NULL path or out, options of an unknown version or with
///         unknown flags); LMS_NOT_FOUND (read-only open of a missing or empty store);
///         LMS_NOT_A_STORE (the path holds an LMDB environment of another program, refused
///         without writing to it); LMS_VERSION_MISMATCH (written by a newer lmstore);
///         LMS_CORRUPT (damaged, including a store whose schema version is missing, which is
///         never stamped again); LMS_IO; LMS_INTERNAL. On failure *out is NULL.
///         Detail: lms_last_error().
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_open(
    path: *const c_char,
    path_len: usize,
    opts: *const lms_options,
    out: *mut *mut lms_db,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let out = unsafe { out_ptr(out, "out") }?;
        *out = std::ptr::null_mut();
        // SAFETY: caller contract: path points at path_len bytes.
        let path = unsafe { required(path as *const u8, path_len, "path") }?;
        if path.contains(&0) {
            return Err(Error::invalid("path contains a NUL byte"));
        }
        // SAFETY: a non-NULL opts points at a readable lms_options of its stated version.
        let opts = to_open_options(unsafe { read_options(opts) }?.as_ref())?;
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
    // The handle is gone either way, so nothing observes a half-dropped one.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: db came from Box::into_raw in lms_open and is closed once (caller contract).
        drop(unsafe { Box::from_raw(db) });
    }));
}

/// Flushes committed writes to disk; needed only with LMS_OPEN_NO_SYNC.
/// @return LMS_OK; LMS_INVALID_ARGUMENT (NULL db); LMS_READ_ONLY; LMS_IO; LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_sync(db: *mut lms_db) -> c_int {
    // SAFETY: caller contract on db.
    boundary(|| unsafe { store(db) }?.sync())
}

/// Fills `out` with counts and sizes. Counts are kept by the write transactions, not scanned.
/// @param[out] out Caller-owned struct to fill.
/// @return LMS_OK; LMS_INVALID_ARGUMENT (NULL db or pointer); LMS_IO or LMS_CORRUPT (LMDB failed,
///         or stored data is damaged); LMS_INTERNAL. On failure *out is unspecified.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_stat(db: *mut lms_db, out: *mut lms_stats) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let out = unsafe { out_ptr(out, "out") }?;
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
/// empty) while readers and writers go on. The copy gets the store's file mode (0600 by
/// default) from its creation on; a failed backup removes the partial copy. A compact copy is
/// written in the subdirectory `.lmstore-backup-in-progress` and its data.mdb moved into `path`
/// when complete, so a copy cut short (kill -9, power loss) never looks like a backup. In a
/// compact copy of a store with a compression dictionary (lms_train_dictionary()), message
/// bodies written before the current dictionary are compressed with it, as new ones are.
/// @param flags 0 or LMS_BACKUP_COMPACT.
/// @return LMS_OK; LMS_INVALID_ARGUMENT (NULL db or path, a path with NUL, unknown flags);
///         LMS_IO (the target is not empty, os code ENOTEMPTY, and nothing in it was touched;
///         or the copy failed, e.g. ENOSPC); LMS_CORRUPT (a compact copy met a damaged record:
///         no copy is left); LMS_UNSUPPORTED (a PostgreSQL store); LMS_INTERNAL.
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
        // SAFETY: a non-NULL path points at its stated length of readable bytes (ABI contract).
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
