//! Read-only access to an LMDB environment that another program wrote (the migration sources
//! of seed-formats.md §3 and §4): named databases, DUPSORT included, read in key order.
//!
//! Opened `MDB_RDONLY | MDB_NOLOCK`, so nothing in the source directory is written, not even
//! `lock.mdb` (a reader slot would change it), and a read-only copy opens as well as the
//! original. The price of no lock: the source must not be written while it is read.

use super::{check, ffi};
use crate::error::{Error, ErrorKind, Result};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;

/// Up to this many named databases are opened (the sources have 3 and 9).
const MAX_DBS: u32 = 64;

/// An open foreign environment; closed on drop.
pub struct ForeignEnv {
    env: *mut ffi::MDB_env,
}

/// A named database of a foreign environment, valid for the environment's lifetime.
#[derive(Debug, Clone, Copy)]
pub struct ForeignDb {
    dbi: ffi::MDB_dbi,
}

/// Called with (key, value) for each entry of a scan; returns whether to go on.
pub type ForeignVisitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<bool> + 'a;

/// A read transaction over the whole environment.
pub struct ForeignTxn<'e> {
    txn: *mut ffi::MDB_txn,
    _env: &'e ForeignEnv,
}

impl Drop for ForeignEnv {
    fn drop(&mut self) {
        // SAFETY: env came from mdb_env_create, every transaction borrowed it and has ended.
        unsafe { ffi::mdb_env_close(self.env) };
    }
}

impl Drop for ForeignTxn<'_> {
    fn drop(&mut self) {
        // SAFETY: txn is live and ended exactly once, here.
        unsafe { ffi::mdb_txn_abort(self.txn) };
    }
}

fn not_lmdb(path: &Path, why: &str) -> Error {
    Error::invalid(format!(
        "{} is not an LMDB environment: {why}",
        path.display()
    ))
}

impl ForeignEnv {
    /// Opens the environment in directory `path` (which holds `data.mdb`) read-only.
    pub fn open(path: &Path) -> Result<ForeignEnv> {
        let meta = std::fs::metadata(path).map_err(|e| {
            let kind = if e.kind() == std::io::ErrorKind::NotFound {
                ErrorKind::NotFound
            } else {
                ErrorKind::Io
            };
            Error::new(kind, format!("migration source {}: {e}", path.display()))
        })?;
        if !meta.is_dir() {
            return Err(not_lmdb(
                path,
                "it is a file; give the directory that holds data.mdb",
            ));
        }
        let data = path.join("data.mdb");
        match std::fs::metadata(&data) {
            Ok(m) if m.is_file() => {}
            _ => return Err(not_lmdb(path, "it has no data.mdb")),
        }
        let cpath = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| Error::invalid("source path contains a NUL byte"))?;
        let mut env: *mut ffi::MDB_env = ptr::null_mut();
        // SAFETY: env is an out-pointer.
        check(unsafe { ffi::mdb_env_create(&mut env) }, "mdb_env_create")?;
        let handle = ForeignEnv { env };
        check(
            // SAFETY: env is fresh; setters are allowed before mdb_env_open.
            unsafe { ffi::mdb_env_set_maxdbs(env, MAX_DBS as _) },
            "mdb_env_set_maxdbs",
        )?;
        let flags = ffi::MDB_RDONLY | ffi::MDB_NOLOCK | ffi::MDB_NOTLS;
        // SAFETY: env is fresh, cpath is a valid C string; mode is unused read-only.
        let rc = unsafe { ffi::mdb_env_open(env, cpath.as_ptr(), flags, 0o400) };
        match rc {
            0 => Ok(handle),
            ffi::MDB_INVALID | ffi::MDB_VERSION_MISMATCH => Err(not_lmdb(
                path,
                "data.mdb has no valid LMDB header (another file format, or damaged)",
            )),
            rc => check(rc, "opening the migration source").map(|_| handle),
        }
    }

    /// Runs `f` in one read transaction (a consistent snapshot of the source).
    pub fn read<T>(&self, f: impl FnOnce(&ForeignTxn<'_>) -> Result<T>) -> Result<T> {
        let mut txn: *mut ffi::MDB_txn = ptr::null_mut();
        check(
            // SAFETY: env is open; txn is an out-pointer.
            unsafe { ffi::mdb_txn_begin(self.env, ptr::null_mut(), ffi::MDB_RDONLY, &mut txn) },
            "mdb_txn_begin (read)",
        )?;
        let txn = ForeignTxn { txn, _env: self };
        f(&txn)
    }
}

fn val(bytes: &[u8]) -> ffi::MDB_val {
    ffi::MDB_val {
        mv_size: bytes.len(),
        mv_data: bytes.as_ptr() as *mut libc::c_void,
    }
}

fn empty() -> ffi::MDB_val {
    ffi::MDB_val {
        mv_size: 0,
        mv_data: ptr::null_mut(),
    }
}

/// # Safety
/// `v` must have been filled by LMDB in a transaction that outlives `'a`.
unsafe fn slice<'a>(v: &ffi::MDB_val) -> &'a [u8] {
    if v.mv_size == 0 {
        &[]
    } else {
        // SAFETY: LMDB guarantees mv_data points at mv_size readable bytes in the map.
        std::slice::from_raw_parts(v.mv_data as *const u8, v.mv_size)
    }
}

struct Cursor(*mut ffi::MDB_cursor);

impl Drop for Cursor {
    fn drop(&mut self) {
        // SAFETY: the cursor is open and closed once, before its transaction ends.
        unsafe { ffi::mdb_cursor_close(self.0) };
    }
}

impl ForeignTxn<'_> {
    /// The names of the named databases (the keys of the main database).
    pub fn db_names(&self) -> Result<Vec<String>> {
        let mut dbi: ffi::MDB_dbi = 0;
        check(
            // SAFETY: txn is live; a NULL name opens the main database, which lists the named ones.
            unsafe { ffi::mdb_dbi_open(self.txn, ptr::null(), 0, &mut dbi) },
            "mdb_dbi_open (main)",
        )?;
        let main = ForeignDb { dbi };
        let mut names = Vec::new();
        self.scan(main, None, &mut |k, _| {
            names.push(String::from_utf8_lossy(k).into_owned());
            Ok(true)
        })?;
        Ok(names)
    }

    /// Opens a named database; `None` when the source has none by that name.
    pub fn open_db(&self, name: &str) -> Result<Option<ForeignDb>> {
        let cname = CString::new(name).map_err(|_| Error::invalid("database name has a NUL"))?;
        let mut dbi: ffi::MDB_dbi = 0;
        // SAFETY: txn is live; flags 0 open an existing database with its stored flags
        // (DUPSORT included) and never create one.
        let rc = unsafe { ffi::mdb_dbi_open(self.txn, cname.as_ptr(), 0, &mut dbi) };
        match rc {
            ffi::MDB_NOTFOUND => Ok(None),
            ffi::MDB_INCOMPATIBLE => Err(Error::invalid(format!(
                "'{name}' in the source is not a database"
            ))),
            rc => check(rc, "mdb_dbi_open").map(|_| Some(ForeignDb { dbi })),
        }
    }

    /// How many entries a database holds (every duplicate counted).
    pub fn entries(&self, db: ForeignDb) -> Result<u64> {
        // SAFETY: MDB_stat is plain data; mdb_stat fills it.
        let mut stat: ffi::MDB_stat = unsafe { std::mem::zeroed() };
        check(
            // SAFETY: txn is live, dbi was opened in it.
            unsafe { ffi::mdb_stat(self.txn, db.dbi, &mut stat) },
            "mdb_stat",
        )?;
        Ok(stat.ms_entries as u64)
    }

    pub fn get(&self, db: ForeignDb, key: &[u8]) -> Result<Option<&[u8]>> {
        if key.is_empty() {
            return Ok(None);
        }
        let mut k = val(key);
        let mut v = empty();
        // SAFETY: txn is live, dbi belongs to it, k/v are valid.
        let rc = unsafe { ffi::mdb_get(self.txn, db.dbi, &mut k, &mut v) };
        if rc == ffi::MDB_NOTFOUND || rc == ffi::MDB_BAD_VALSIZE {
            return Ok(None);
        }
        check(rc, "mdb_get")?;
        // SAFETY: v was filled by mdb_get in this live transaction.
        Ok(Some(unsafe { slice(&v) }))
    }

    /// Visits entries in key order (each duplicate of a DUPSORT key in value order) from the
    /// first key >= `start`, until `visit` returns false.
    pub fn scan(
        &self,
        db: ForeignDb,
        start: Option<&[u8]>,
        visit: &mut ForeignVisitor<'_>,
    ) -> Result<()> {
        let mut raw: *mut ffi::MDB_cursor = ptr::null_mut();
        check(
            // SAFETY: txn is live and dbi belongs to it; raw is an out-pointer.
            unsafe { ffi::mdb_cursor_open(self.txn, db.dbi, &mut raw) },
            "mdb_cursor_open",
        )?;
        let cursor = Cursor(raw);
        let mut k = empty();
        let mut v = empty();
        // SAFETY (each mdb_cursor_get): the cursor is open on the live transaction.
        let mut rc = match start {
            Some(s) if !s.is_empty() => {
                k = val(s);
                // SAFETY: the cursor is open; k points at the caller's start key for this call.
                unsafe { ffi::mdb_cursor_get(cursor.0, &mut k, &mut v, ffi::MDB_SET_RANGE) }
            }
            // SAFETY: the cursor is open; k and v are out-values.
            _ => unsafe { ffi::mdb_cursor_get(cursor.0, &mut k, &mut v, ffi::MDB_FIRST) },
        };
        loop {
            if rc == ffi::MDB_NOTFOUND {
                return Ok(());
            }
            if rc == ffi::MDB_CORRUPTED || rc == ffi::MDB_PAGE_NOTFOUND {
                return Err(Error::corrupt(
                    "the migration source is damaged (a page could not be read)",
                ));
            }
            check(rc, "mdb_cursor_get")?;
            // SAFETY: k and v were just filled by LMDB in this live transaction.
            let (key, value) = unsafe { (slice(&k), slice(&v)) };
            if !visit(key, value)? {
                return Ok(());
            }
            // SAFETY: as above.
            rc = unsafe { ffi::mdb_cursor_get(cursor.0, &mut k, &mut v, ffi::MDB_NEXT) };
        }
    }
}
