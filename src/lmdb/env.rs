//! The LMDB environment: one per path per process, shared by every handle on that path. It
//! opens the file, runs reads and writes, and grows the map; the read-transaction pool is in
//! `pool.rs` and group commit in `group.rs`.

use super::group::Group;
use super::pool::ReadPool;
use super::txn::{RoTxn, RwTxn, TxnCtx};
use super::{check, checksum, ffi};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::{Table, WriteTxn};
use std::collections::HashMap;
use std::ffi::CString;
use std::marker::PhantomData;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

/// How to open an environment. Zero values mean "the default".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    pub map_size: usize,
    pub max_map_size: usize,
    pub max_readers: u32,
    pub read_only: bool,
    pub no_sync: bool,
    pub file_mode: u32,
    /// Compiled templates kept for rendering (0: 256).
    pub render_cache_size: u32,
    /// PostgreSQL stores: connections kept open (0: 4). Unused by LMDB.
    pub pool_size: u32,
    /// PostgreSQL stores: how long to wait for a connection, in ms (0: 5000). Unused by LMDB.
    pub connect_timeout_ms: u32,
    /// Walk every page with our own reader before LMDB maps the file (LMS_OPEN_VERIFY).
    pub verify: bool,
    /// Create missing parent directories too (LMS_OPEN_CREATE_PARENTS); otherwise only the
    /// store's own directory is created, so a mistyped path is an error, not a new store.
    pub create_parents: bool,
}

pub const DEFAULT_MAP_SIZE: usize = 64 << 20;
pub const DEFAULT_MAX_MAP_SIZE: usize = 1 << 40;
pub const DEFAULT_MAX_READERS: u32 = 126;
pub const DEFAULT_FILE_MODE: u32 = 0o600;
pub const DEFAULT_RENDER_CACHE_SIZE: u32 = 256;
pub const DEFAULT_POOL_SIZE: u32 = 4;
pub const DEFAULT_CONNECT_TIMEOUT_MS: u32 = 5000;

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            map_size: DEFAULT_MAP_SIZE,
            max_map_size: DEFAULT_MAX_MAP_SIZE,
            max_readers: DEFAULT_MAX_READERS,
            read_only: false,
            no_sync: false,
            file_mode: DEFAULT_FILE_MODE,
            render_cache_size: DEFAULT_RENDER_CACHE_SIZE,
            pool_size: DEFAULT_POOL_SIZE,
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            verify: false,
            create_parents: false,
        }
    }
}

impl OpenOptions {
    fn normalized(mut self) -> Result<Self> {
        let page = 4096;
        if self.map_size == 0 {
            self.map_size = DEFAULT_MAP_SIZE;
        }
        if self.max_map_size == 0 {
            self.max_map_size = DEFAULT_MAX_MAP_SIZE.max(self.map_size);
        }
        if self.max_readers == 0 {
            self.max_readers = DEFAULT_MAX_READERS;
        }
        if self.file_mode == 0 {
            self.file_mode = DEFAULT_FILE_MODE;
        }
        if self.render_cache_size == 0 {
            self.render_cache_size = DEFAULT_RENDER_CACHE_SIZE;
        }
        if self.pool_size == 0 {
            self.pool_size = DEFAULT_POOL_SIZE;
        }
        if self.connect_timeout_ms == 0 {
            self.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
        }
        if self.file_mode & !0o777 != 0 {
            return Err(Error::invalid(format!(
                "file_mode {:o} has bits outside 0777",
                self.file_mode
            )));
        }
        if self.max_map_size < self.map_size {
            return Err(Error::invalid(format!(
                "max_map_size ({}) is smaller than map_size ({})",
                self.max_map_size, self.map_size
            )));
        }
        self.map_size = self.map_size.div_ceil(page) * page;
        self.max_map_size = self.max_map_size.div_ceil(page) * page;
        Ok(self)
    }
}

/// Writes what a new store holds from its first commit on (see [`Env::open_init`]).
pub type Init = dyn Fn(&mut RwTxn<'_>) -> Result<()>;

/// Live numbers about the environment, for stats.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvInfo {
    pub map_size: u64,
    pub map_used: u64,
    pub max_map_size: u64,
    pub max_readers: u32,
    pub num_readers: u32,
}

/// One LMDB environment. Shared through [`EnvHandle`]s; closed when the last one drops.
pub struct Env {
    pub(super) raw: *mut ffi::MDB_env,
    pub(super) ctx: TxnCtx,
    pub(super) opts: OpenOptions,
    pub(super) path: PathBuf,
    /// Readers and writers hold it shared; growing the map holds it exclusively, because LMDB
    /// allows mdb_env_set_mapsize only while this process has no transaction open.
    resize: RwLock<()>,
    read_pool: ReadPool,
    pub(super) group: Group,
    /// A schema-1 store: values carry no checksums, and writes wait for the upgrade.
    legacy: AtomicBool,
    /// Reader slots of dead processes that opening this environment cleared (for `doctor`).
    stale_cleared_at_open: u32,
}

// SAFETY: MDB_env is thread-safe; with MDB_NOTLS transactions are not bound to threads, and
// every mutable piece of our own state is behind a lock.
unsafe impl Send for Env {}
// SAFETY: as above.
unsafe impl Sync for Env {}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic inside a critical section cannot leave these structures half-updated in a way
    // that matters more than refusing all further service, so recover the guard.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Open environments of this process by canonical path, with their handle counts.
type Registry = Mutex<HashMap<PathBuf, (Arc<Env>, usize)>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// A counted reference to a registered environment.
pub struct EnvHandle {
    env: Arc<Env>,
    read_only: bool,
}

impl std::ops::Deref for EnvHandle {
    type Target = Env;
    fn deref(&self) -> &Env {
        &self.env
    }
}

impl EnvHandle {
    pub fn read_only(&self) -> bool {
        self.read_only
    }
}

impl Drop for EnvHandle {
    fn drop(&mut self) {
        let mut reg = lock(registry());
        let gone = match reg.get_mut(&self.env.path) {
            Some((env, count)) if Arc::ptr_eq(env, &self.env) => {
                *count -= 1;
                *count == 0
            }
            _ => false,
        };
        if gone {
            // The environment closes here, under the registry lock, so a concurrent open of the
            // same path cannot create a second environment before this one is gone.
            reg.remove(&self.env.path);
            if reg.is_empty() {
                // Give the table's memory back, so a process that closed everything holds nothing.
                *reg = HashMap::new();
            }
        }
    }
}

impl Env {
    /// Opens `path` (a directory, created if missing unless read-only) or joins the environment
    /// this process already has open there.
    pub fn open(path: &Path, opts: OpenOptions) -> Result<EnvHandle> {
        Self::open_init(path, opts, &|_| Ok(()))
    }

    /// [`Env::open`] that runs `init` in the transaction that creates the tables of a new
    /// store, so a store never exists without what `init` writes (its schema version).
    pub fn open_init(path: &Path, opts: OpenOptions, init: &Init) -> Result<EnvHandle> {
        let opts = opts.normalized()?;
        if !opts.read_only && !path.exists() {
            let made = if opts.create_parents {
                std::fs::create_dir_all(path)
            } else {
                std::fs::create_dir(path)
            };
            made.map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error {
                    kind: ErrorKind::NotFound,
                    message: format!(
                        "the parent directory of {} does not exist (LMS_OPEN_CREATE_PARENTS creates it)",
                        path.display()
                    ),
                    os_code: libc::ENOENT,
                },
                _ => io_error(e, &format!("creating directory {}", path.display())),
            })?;
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::Permissions::from_mode(dir_mode(opts.file_mode));
            let _ = std::fs::set_permissions(path, mode);
        }
        let canonical = path
            .canonicalize()
            .map_err(|e| io_error(e, &format!("opening {}", path.display())))?;
        let mut reg = lock(registry());
        if let Some((env, count)) = reg.get_mut(&canonical) {
            if env.opts.read_only && !opts.read_only {
                return Err(Error::invalid(format!(
                    "{} is already open read-only in this process; close it before opening it writable",
                    canonical.display()
                )));
            }
            *count += 1;
            return Ok(EnvHandle {
                env: env.clone(),
                read_only: opts.read_only,
            });
        }
        super::pages::check_before_open(&canonical, opts.verify)?;
        let env = Arc::new(Env::create(&canonical, opts, init)?);
        reg.insert(canonical, (env.clone(), 1));
        Ok(EnvHandle {
            env,
            read_only: opts.read_only,
        })
    }

    fn create(path: &Path, opts: OpenOptions, init: &Init) -> Result<Env> {
        let mut raw: *mut ffi::MDB_env = ptr::null_mut();
        // SAFETY: raw is an out-pointer; on success we own the env and close it in Drop or below.
        check(unsafe { ffi::mdb_env_create(&mut raw) }, "mdb_env_create")?;
        let close_on_err = |e: Error| {
            // SAFETY: raw came from mdb_env_create and is not used after this.
            unsafe { ffi::mdb_env_close(raw) };
            e
        };
        let cpath = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| Error::invalid("path contains a NUL byte"))
            .map_err(close_on_err)?;
        let mut flags = ffi::MDB_NOTLS;
        if opts.read_only {
            flags |= ffi::MDB_RDONLY;
        }
        if opts.no_sync {
            flags |= ffi::MDB_NOSYNC;
        }
        let mut dead = 0;
        // SAFETY: raw is a fresh env; these setters are allowed before mdb_env_open.
        unsafe {
            check(
                ffi::mdb_env_set_mapsize(raw, opts.map_size as _),
                "mdb_env_set_mapsize",
            )
            .map_err(close_on_err)?;
            check(
                ffi::mdb_env_set_maxdbs(raw, Table::ALL.len() as _),
                "mdb_env_set_maxdbs",
            )
            .map_err(close_on_err)?;
            check(
                ffi::mdb_env_set_maxreaders(raw, opts.max_readers as _),
                "mdb_env_set_maxreaders",
            )
            .map_err(close_on_err)?;
            check(
                ffi::mdb_env_open(raw, cpath.as_ptr(), flags, opts.file_mode as _),
                "mdb_env_open",
            )
            .map_err(|e| {
                close_on_err(if opts.read_only && e.os_code == libc::ENOENT {
                    Error::not_found(format!(
                        "{} holds no lmstore (no data.mdb; opened read-only, so none was created)",
                        path.display()
                    ))
                } else if e.os_code == libc::EROFS {
                    Error {
                        message: format!(
                            "{} is on a read-only filesystem; open it read-only (LMS_OPEN_READ_ONLY)",
                            path.display()
                        ),
                        ..e
                    }
                } else {
                    e.context(&format!("opening {}", path.display()))
                })
            })?;
            // Clear reader slots left by processes that died holding them.
            check(ffi::mdb_reader_check(raw, &mut dead), "mdb_reader_check")
                .map_err(close_on_err)?;
        }
        // SAFETY: the env is open.
        let max_key = unsafe { ffi::mdb_env_get_maxkeysize(raw) } as usize;
        // SAFETY: MDB_stat is plain data that mdb_env_stat fills; the env is open.
        let page_size = unsafe {
            let mut stat: ffi::MDB_stat = std::mem::zeroed();
            check(ffi::mdb_env_stat(raw, &mut stat), "mdb_env_stat").map_err(close_on_err)?;
            stat.ms_psize as usize
        };
        let mut env = Env {
            raw,
            ctx: TxnCtx {
                dbis: [0; Table::ALL.len()],
                max_key,
                max_value: opts.max_map_size / 2,
                page_size,
                checksums: true,
            },
            opts,
            path: path.to_path_buf(),
            resize: RwLock::new(()),
            read_pool: ReadPool::new(opts.max_readers),
            group: Group::default(),
            legacy: AtomicBool::new(false),
            stale_cleared_at_open: dead.max(0) as u32,
        };
        env.open_tables(init)?;
        let legacy = env.read(|txn| {
            let raw = txn_raw_schema(txn.raw, &env.ctx)?;
            Ok(checksum::is_legacy(raw))
        })?;
        env.legacy.store(legacy, Ordering::Release);
        Ok(env)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn options(&self) -> OpenOptions {
        self.opts
    }

    /// How many stale reader slots this process cleared when it opened the environment.
    pub fn stale_readers_cleared_at_open(&self) -> u32 {
        self.stale_cleared_at_open
    }

    /// Runs `f` on a read snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&RoTxn<'_>) -> Result<T>) -> Result<T> {
        loop {
            let guard = self.resize.read().unwrap_or_else(|p| p.into_inner());
            // SAFETY: the env is open and the resize lock is held until the txn is finished.
            let raw = match unsafe { self.read_pool.begin(self.raw) } {
                Ok(raw) => raw,
                Err(e) if e.os_code == ffi::MDB_MAP_RESIZED => {
                    drop(guard);
                    self.adopt_foreign_resize()?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let txn = RoTxn {
                raw,
                ctx: self.txn_ctx(raw),
                pool: &self.read_pool,
            };
            let out = f(&txn);
            // The snapshot ends before the resize lock is released (also on unwind: locals
            // drop in reverse order).
            drop(txn);
            drop(guard);
            return out;
        }
    }

    fn begin_write(&self) -> Result<*mut ffi::MDB_txn> {
        let mut raw: *mut ffi::MDB_txn = ptr::null_mut();
        // SAFETY: the env is open; raw is an out-pointer.
        let rc = unsafe { ffi::mdb_txn_begin(self.raw, ptr::null_mut(), 0, &mut raw) };
        if rc == libc::EACCES {
            // LMDB's answer to a write transaction on an environment it opened read-only.
            return Err(Error {
                kind: ErrorKind::ReadOnly,
                message: format!("{} was opened read-only", self.path.display()),
                os_code: rc,
            });
        }
        check(rc, "mdb_txn_begin(write)")?;
        Ok(raw)
    }

    fn current_map_size(&self) -> usize {
        // SAFETY: zeroed MDB_envinfo is a valid out-struct.
        let mut info: ffi::MDB_envinfo = unsafe { std::mem::zeroed() };
        // SAFETY: env is open; info is a valid out-pointer.
        unsafe { ffi::mdb_env_info(self.raw, &mut info) };
        info.me_mapsize as usize
    }

    /// Doubles the map (up to the cap) after a write found it full at `seen` bytes.
    fn grow(&self, seen: usize) -> Result<()> {
        let _exclusive = self.resize.write().unwrap_or_else(|p| p.into_inner());
        let current = self.current_map_size();
        if current > seen {
            return Ok(()); // another thread grew it while we waited
        }
        if current >= self.opts.max_map_size {
            return Err(Error {
                kind: ErrorKind::MapFull,
                message: format!(
                    "the map is full at its cap of {} bytes (max_map_size); raise the cap or delete data",
                    self.opts.max_map_size
                ),
                os_code: ffi::MDB_MAP_FULL,
            });
        }
        let next = current.saturating_mul(2).min(self.opts.max_map_size);
        self.read_pool.drain();
        // SAFETY: we hold the resize lock exclusively, so no transaction of this process is open.
        check(
            unsafe { ffi::mdb_env_set_mapsize(self.raw, next as _) },
            "mdb_env_set_mapsize",
        )
    }

    /// Another process grew the map: adopt its size before starting a transaction.
    fn adopt_foreign_resize(&self) -> Result<()> {
        let _exclusive = self.resize.write().unwrap_or_else(|p| p.into_inner());
        self.read_pool.drain();
        // SAFETY: exclusive resize lock held; size 0 adopts the size recorded in the file.
        check(
            unsafe { ffi::mdb_env_set_mapsize(self.raw, 0) },
            "mdb_env_set_mapsize",
        )
    }

    /// The context of a transaction just begun. A schema-1 store looks at its schema again on
    /// every transaction, so an upgrade committed by another process is seen at once.
    fn txn_ctx(&self, raw: *mut ffi::MDB_txn) -> TxnCtx {
        let mut ctx = self.ctx;
        if self.legacy.load(Ordering::Acquire) {
            match txn_raw_schema(raw, &ctx) {
                Ok(v) if !checksum::is_legacy(v) => self.legacy.store(false, Ordering::Release),
                _ => ctx.checksums = false,
            }
        }
        ctx
    }

    /// Whether the store is schema 1 (read as it is until [`Env::rewrite`] upgrades it).
    pub fn is_legacy(&self) -> bool {
        self.legacy.load(Ordering::Acquire)
    }

    pub(crate) fn refuse_legacy(&self) -> Result<()> {
        if self.is_legacy() {
            return Err(Error::new(
                ErrorKind::VersionMismatch,
                format!(
                    "{} has schema version 1 and is read-only until upgraded to schema 2 (lms_upgrade, Store::upgrade)",
                    self.path.display()
                ),
            ));
        }
        Ok(())
    }

    /// Runs `f` in one write transaction while no other transaction of this process is open,
    /// with checksums off for reading old values (the caller turns them on to write), and
    /// marks the store schema 2 when it commits. For the schema upgrade only.
    pub fn rewrite<T>(&self, mut f: impl FnMut(&mut RwTxn<'_>) -> Result<T>) -> Result<T> {
        self.ensure_writable()?;
        let _exclusive = self.resize.write().unwrap_or_else(|p| p.into_inner());
        self.read_pool.drain();
        loop {
            let raw = self.begin_write()?;
            let mut txn = RwTxn {
                raw,
                ctx: self.ctx,
                _env: PhantomData,
            };
            txn.set_checksums(false);
            // Dropping `txn` on an error (or a panic) aborts it.
            let outcome = f(&mut txn).and_then(|v| txn.commit().map(|()| v));
            match outcome {
                Err(e) if e.kind == ErrorKind::MapFull => {
                    let current = self.current_map_size();
                    if current >= self.opts.max_map_size {
                        return Err(e);
                    }
                    let next = current.saturating_mul(2).min(self.opts.max_map_size);
                    // SAFETY: we hold the resize lock exclusively and our txn has ended.
                    let rc = unsafe { ffi::mdb_env_set_mapsize(self.raw, next as _) };
                    check(rc, "mdb_env_set_mapsize")?;
                }
                Ok(v) => {
                    self.legacy.store(false, Ordering::Release);
                    return Ok(v);
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) fn ensure_writable(&self) -> Result<()> {
        if self.opts.read_only {
            return Err(Error::new(
                ErrorKind::ReadOnly,
                "the store was opened read-only",
            ));
        }
        Ok(())
    }

    /// Runs `f` in a write transaction and commits it. When the map fills up, the transaction
    /// is rolled back, the map grows, and `f` runs again, so `f` must not have side effects
    /// outside the transaction.
    pub fn write<T>(&self, mut f: impl FnMut(&mut RwTxn<'_>) -> Result<T>) -> Result<T> {
        self.ensure_writable()?;
        let mut reclaimed = false;
        loop {
            let guard = self.resize.read().unwrap_or_else(|p| p.into_inner());
            let seen = self.current_map_size();
            let raw = match self.begin_write() {
                Ok(raw) => raw,
                Err(e) if e.os_code == ffi::MDB_MAP_RESIZED => {
                    drop(guard);
                    self.adopt_foreign_resize()?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut txn = RwTxn {
                raw,
                ctx: self.txn_ctx(raw),
                _env: PhantomData,
            };
            // On an error, and on a panic inside `f`, dropping `txn` aborts it before the
            // resize lock is released.
            let outcome = self
                .refuse_legacy()
                .and_then(|_| f(&mut txn))
                .and_then(|v| {
                    #[cfg(test)]
                    super::tests::maybe_panic_in_write();
                    txn.commit().map(|()| v)
                });
            drop(guard);
            match outcome {
                Err(e) if e.os_code == libc::EIO => return Err(self.disk_full_or(e)),
                Err(e) if e.kind == ErrorKind::MapFull => match self.grow(seen) {
                    Err(full) if full.kind == ErrorKind::MapFull && !reclaimed => {
                        reclaimed = true;
                        self.reclaim().map_err(|_| full)?;
                    }
                    other => other?,
                },
                other => return other,
            }
        }
    }

    /// LMDB reports a write that the filesystem cut short as EIO (a short `pwrite` sets no
    /// errno); when the filesystem under the store has no room left, that is what happened,
    /// and the caller should hear "no space left on device".
    fn disk_full_or(&self, e: Error) -> Error {
        let Ok(dir) = CString::new(self.path.as_os_str().as_bytes()) else {
            return e;
        };
        // SAFETY: zeroed statvfs is a valid out-struct.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: dir is NUL-terminated and st is a valid out-pointer.
        if unsafe { libc::statvfs(dir.as_ptr(), &mut st) } != 0 {
            return e;
        }
        let free = st.f_bavail as u64 * st.f_frsize as u64;
        if free >= 64 << 10 {
            return e;
        }
        let what = e.message.split(':').next().unwrap_or("write");
        Error {
            kind: ErrorKind::Io,
            message: format!(
                "{what}: {} ({} has {free} bytes free; the write was not committed)",
                super::strerror(libc::ENOSPC),
                self.path.display()
            ),
            os_code: libc::ENOSPC,
        }
    }

    /// LMDB reuses the pages a commit freed only from the second write transaction after it
    /// on, so right after a delete at the cap the next write still finds the map full. One
    /// small commit that leaves the data as it was moves that horizon, and the write runs again.
    fn reclaim(&self) -> Result<()> {
        const KEY: &[u8] = b"\0reclaim";
        let _guard = self.resize.read().unwrap_or_else(|p| p.into_inner());
        let mut txn = RwTxn {
            raw: self.begin_write()?,
            ctx: self.ctx,
            _env: PhantomData,
        };
        txn.put(Table::Meta, KEY, b"")?;
        txn.del(Table::Meta, KEY)?;
        txn.commit()
    }

    /// Flushes everything committed so far to disk (for stores opened with no_sync).
    pub fn sync(&self) -> Result<()> {
        self.ensure_writable()?;
        // Shared: the map is not remapped while it is flushed.
        let _guard = self.resize.read().unwrap_or_else(|p| p.into_inner());
        // SAFETY: env is open; force=1 flushes even under MDB_NOSYNC.
        check(unsafe { ffi::mdb_env_sync(self.raw, 1) }, "mdb_env_sync")
    }

    /// Map and reader figures. mdb_env_info and mdb_env_stat read the meta pages inside the
    /// map, so they run under the resize lock like a transaction: growth by another thread
    /// would otherwise unmap them mid-read (SIGSEGV/SIGBUS).
    pub fn info(&self) -> Result<EnvInfo> {
        let _guard = self.resize.read().unwrap_or_else(|p| p.into_inner());
        // SAFETY: zeroed structs are valid out-params for these calls on an open env, and the
        // resize lock keeps the map in place while they read it.
        let (info, stat) = unsafe {
            let mut info: ffi::MDB_envinfo = std::mem::zeroed();
            let mut stat: ffi::MDB_stat = std::mem::zeroed();
            check(ffi::mdb_env_info(self.raw, &mut info), "mdb_env_info")?;
            check(ffi::mdb_env_stat(self.raw, &mut stat), "mdb_env_stat")?;
            (info, stat)
        };
        Ok(EnvInfo {
            map_size: info.me_mapsize as u64,
            map_used: (info.me_last_pgno as u64 + 1) * stat.ms_psize as u64,
            max_map_size: self.opts.max_map_size as u64,
            max_readers: info.me_maxreaders,
            num_readers: info.me_numreaders,
        })
    }

    /// Makes `dest` an empty directory for a backup (created with the store's directory mode
    /// when missing); a directory holding anything is refused and left as it is.
    pub fn prepare_backup_target(&self, dest: &Path) -> Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        let target = dest.display();
        match std::fs::read_dir(dest) {
            Ok(mut entries) => {
                if let Some(entry) = entries.next() {
                    let name = entry.map(|e| e.file_name().to_string_lossy().into_owned());
                    return Err(Error {
                        kind: ErrorKind::Io,
                        message: format!(
                            "backup target {target} is not empty (it holds {}); choose a new or empty directory",
                            name.as_deref().unwrap_or("an unreadable entry")
                        ),
                        os_code: libc::ENOTEMPTY,
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
                .recursive(true)
                .mode(dir_mode(self.opts.file_mode))
                .create(dest)
                .map_err(|e| io_error(e, &format!("creating {target}")))?,
            Err(e) => return Err(io_error(e, &format!("backup target {target}"))),
        }
        Ok(())
    }

    /// Writes a consistent copy of the environment into the empty (or new) directory `dest`
    /// while readers and writers go on (LMDB copies from a read snapshot). The copy gets the
    /// store's file mode from the moment it exists, so it is never readable by others.
    pub fn backup(&self, dest: &Path, compact: bool) -> Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;
        let target = dest.display();
        self.prepare_backup_target(dest)?;
        let file_path = dest.join("data.mdb");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(self.opts.file_mode)
            .open(&file_path)
            .map_err(|e| io_error(e, &format!("creating {}", file_path.display())))?;
        let flags = if compact { ffi::MDB_CP_COMPACT } else { 0 };
        let copied = {
            let _guard = self.resize.read().unwrap_or_else(|p| p.into_inner());
            // SAFETY: env is open and the fd is an open, writable file we own for the call;
            // LMDB opens its own read txn.
            let rc = unsafe { ffi::mdb_env_copyfd2(self.raw, file.as_raw_fd(), flags) };
            check(rc, "mdb_env_copyfd2")
        }
        .and_then(|()| {
            file.sync_all()
                .map_err(|e| io_error(e, "flushing the backup"))
        });
        if let Err(e) = copied {
            drop(file);
            let _ = std::fs::remove_file(&file_path);
            return Err(e.context(&format!("backup to {target}")));
        }
        Ok(())
    }
}

/// The stored (unverified) schema value, which tells the two checksum modes apart.
fn txn_raw_schema<'t>(raw: *mut ffi::MDB_txn, ctx: &TxnCtx) -> Result<Option<&'t [u8]>> {
    super::txn::raw_get(raw, ctx.dbis[Table::Meta as usize], checksum::SCHEMA_KEY)
}

/// The mode of a store's directory: the file mode, searchable where readable, and always
/// usable by its owner.
pub(super) fn dir_mode(file_mode: u32) -> u32 {
    file_mode | ((file_mode & 0o444) >> 2) | 0o700
}

pub(crate) fn io_error(e: std::io::Error, what: &str) -> Error {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound => ErrorKind::NotFound,
        std::io::ErrorKind::PermissionDenied => ErrorKind::Io,
        _ => ErrorKind::Io,
    };
    Error {
        kind,
        message: format!("{what}: {e}"),
        os_code: e.raw_os_error().unwrap_or(0),
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.read_pool.drain();
        // SAFETY: the last reference is gone, so no transaction of ours is open; closed once.
        unsafe { ffi::mdb_env_close(self.raw) }
    }
}
