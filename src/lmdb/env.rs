//! The LMDB environment: one per path per process, shared by every handle on that path.

use super::txn::{RoTxn, RwTxn, TxnCtx};
use super::{check, ffi};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::Table;
use std::collections::HashMap;
use std::ffi::CString;
use std::marker::PhantomData;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock};

/// How to open an environment. Zero values mean "the default".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    pub map_size: usize,
    pub max_map_size: usize,
    pub max_readers: u32,
    pub read_only: bool,
    pub no_sync: bool,
    pub file_mode: u32,
}

pub const DEFAULT_MAP_SIZE: usize = 64 << 20;
pub const DEFAULT_MAX_MAP_SIZE: usize = 1 << 40;
pub const DEFAULT_MAX_READERS: u32 = 126;
pub const DEFAULT_FILE_MODE: u32 = 0o600;

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            map_size: DEFAULT_MAP_SIZE,
            max_map_size: DEFAULT_MAX_MAP_SIZE,
            max_readers: DEFAULT_MAX_READERS,
            read_only: false,
            no_sync: false,
            file_mode: DEFAULT_FILE_MODE,
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

/// Live numbers about the environment, for stats.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvInfo {
    pub map_size: u64,
    pub map_used: u64,
    pub max_map_size: u64,
    pub max_readers: u32,
    pub num_readers: u32,
}

/// The most reset read transactions kept for reuse (each holds a reader slot).
const READ_POOL_SLOTS: usize = 16;

/// A write job submitted to group commit; it runs in the leader's transaction.
trait GroupJob: Send + Sync {
    /// Runs the job in `txn`, keeping its value for the caller; an error aborts `txn`.
    fn run(&self, txn: &mut RwTxn<'_>) -> Result<()>;
    fn fail(&self, err: Error);
    fn is_done(&self) -> bool;
    fn mark_done(&self);
}

struct Slot<F, T> {
    work: Mutex<F>,
    result: Mutex<Option<Result<T>>>,
    done: std::sync::atomic::AtomicBool,
}

impl<F, T> GroupJob for Slot<F, T>
where
    F: FnMut(&mut RwTxn<'_>) -> Result<T> + Send,
    T: Send,
{
    fn run(&self, txn: &mut RwTxn<'_>) -> Result<()> {
        let value = (lock(&self.work))(txn)?;
        *lock(&self.result) = Some(Ok(value));
        Ok(())
    }
    fn fail(&self, err: Error) {
        *lock(&self.result) = Some(Err(err));
    }
    fn is_done(&self) -> bool {
        self.done.load(std::sync::atomic::Ordering::Acquire)
    }
    fn mark_done(&self) {
        self.done.store(true, std::sync::atomic::Ordering::Release)
    }
}

#[derive(Default)]
struct GroupState {
    pending: Vec<Arc<dyn GroupJob>>,
    leader_active: bool,
    /// Callers inside write_grouped now (queued, committing or waiting for their result).
    inside: usize,
    /// How many jobs a leader waits for before committing: the concurrency seen lately. It
    /// grows with `inside` and shrinks to what arrived when a leader's wait runs out.
    expected: usize,
    /// How long the last group commit took; a leader waits at most half of it.
    last_commit: std::time::Duration,
}

/// One LMDB environment. Shared through [`EnvHandle`]s; closed when the last one drops.
pub struct Env {
    raw: *mut ffi::MDB_env,
    ctx: TxnCtx,
    opts: OpenOptions,
    path: PathBuf,
    /// Readers and writers hold it shared; growing the map holds it exclusively, because LMDB
    /// allows mdb_env_set_mapsize only while this process has no transaction open.
    resize: RwLock<()>,
    /// Reset read transactions ready for mdb_txn_renew: taking one is a swap, so a read costs
    /// no lock and no reader-slot search. With MDB_NOTLS a reset transaction is not tied to
    /// the thread that made it.
    read_pool: [AtomicPtr<ffi::MDB_txn>; READ_POOL_SLOTS],
    read_pool_cap: usize,
    group: Mutex<GroupState>,
    group_done: Condvar,
    group_arrival: Condvar,
}

// SAFETY: MDB_env is thread-safe; with MDB_NOTLS transactions are not bound to threads, and
// every mutable piece of our own state is behind a lock.
unsafe impl Send for Env {}
// SAFETY: as above.
unsafe impl Sync for Env {}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
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
        let opts = opts.normalized()?;
        if !opts.read_only && !path.exists() {
            std::fs::create_dir_all(path)
                .map_err(|e| io_error(e, &format!("creating directory {}", path.display())))?;
            use std::os::unix::fs::PermissionsExt;
            let dir_mode = opts.file_mode | ((opts.file_mode & 0o444) >> 2) | 0o700;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(dir_mode));
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
        let env = Arc::new(Env::create(&canonical, opts)?);
        reg.insert(canonical, (env.clone(), 1));
        Ok(EnvHandle {
            env,
            read_only: opts.read_only,
        })
    }

    fn create(path: &Path, opts: OpenOptions) -> Result<Env> {
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
            .map_err(|e| close_on_err(e.context(&format!("opening {}", path.display()))))?;
            // Clear reader slots left by processes that died holding them.
            let mut dead = 0;
            check(ffi::mdb_reader_check(raw, &mut dead), "mdb_reader_check")
                .map_err(close_on_err)?;
        }
        // SAFETY: the env is open.
        let max_key = unsafe { ffi::mdb_env_get_maxkeysize(raw) } as usize;
        let mut env = Env {
            raw,
            ctx: TxnCtx {
                dbis: [0; Table::ALL.len()],
                max_key,
                max_value: opts.max_map_size / 2,
            },
            opts,
            path: path.to_path_buf(),
            resize: RwLock::new(()),
            read_pool: Default::default(),
            read_pool_cap: (opts.max_readers as usize / 8).clamp(1, 16),
            group: Mutex::new(GroupState::default()),
            group_done: Condvar::new(),
            group_arrival: Condvar::new(),
        };
        env.open_tables()?;
        Ok(env)
    }

    fn open_tables(&mut self) -> Result<()> {
        // A writable env creates missing tables; a read-only one opens those that exist.
        let create = !self.opts.read_only;
        let mut txn: *mut ffi::MDB_txn = ptr::null_mut();
        let begin_flags = if create { 0 } else { ffi::MDB_RDONLY };
        // SAFETY: the env is open and no other transaction of ours exists yet.
        check(
            unsafe { ffi::mdb_txn_begin(self.raw, ptr::null_mut(), begin_flags, &mut txn) },
            "mdb_txn_begin",
        )?;
        for table in Table::ALL {
            let name = CString::new(table.name())
                .map_err(|_| Error::new(ErrorKind::Internal, "table name"))?;
            let mut dbi: ffi::MDB_dbi = 0;
            let flags = if create { ffi::MDB_CREATE } else { 0 };
            // SAFETY: txn is live; name is NUL-terminated.
            let rc = unsafe { ffi::mdb_dbi_open(txn, name.as_ptr(), flags, &mut dbi) };
            if rc != 0 {
                // SAFETY: txn is live and ended once.
                unsafe { ffi::mdb_txn_abort(txn) };
                return check(rc, &format!("opening table {}", table.name())).map_err(|e| {
                    if e.kind == ErrorKind::NotFound {
                        Error::not_found(format!(
                            "{} is not an lmstore database (table {} is missing)",
                            self.path.display(),
                            table.name()
                        ))
                    } else {
                        e
                    }
                });
            }
            self.ctx.dbis[table as usize] = dbi;
        }
        // SAFETY: txn is live and ended once; committing keeps the dbi handles valid.
        check(unsafe { ffi::mdb_txn_commit(txn) }, "mdb_txn_commit")
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn options(&self) -> OpenOptions {
        self.opts
    }

    /// Runs `f` on a read snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&RoTxn<'_>) -> Result<T>) -> Result<T> {
        loop {
            let guard = self.resize.read().unwrap_or_else(|p| p.into_inner());
            let raw = match self.begin_read() {
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
                ctx: self.ctx,
                _env: PhantomData,
            };
            let out = f(&txn);
            self.end_read(raw);
            drop(guard);
            return out;
        }
    }

    fn begin_read(&self) -> Result<*mut ffi::MDB_txn> {
        let pooled = self.read_pool[..self.read_pool_cap]
            .iter()
            .filter(|slot| !slot.load(Ordering::Relaxed).is_null())
            .map(|slot| slot.swap(ptr::null_mut(), Ordering::Acquire))
            .find(|raw| !raw.is_null());
        if let Some(raw) = pooled {
            // SAFETY: raw is a reset read txn of this env, now owned by this call alone.
            let rc = unsafe { ffi::mdb_txn_renew(raw) };
            if rc == 0 {
                return Ok(raw);
            }
            // SAFETY: a txn whose renew failed is still ours to abort.
            unsafe { ffi::mdb_txn_abort(raw) };
            check(rc, "mdb_txn_renew")?;
        }
        let mut raw: *mut ffi::MDB_txn = ptr::null_mut();
        // SAFETY: env is open; raw is an out-pointer.
        check(
            unsafe { ffi::mdb_txn_begin(self.raw, ptr::null_mut(), ffi::MDB_RDONLY, &mut raw) },
            "mdb_txn_begin(read)",
        )?;
        Ok(raw)
    }

    fn end_read(&self, raw: *mut ffi::MDB_txn) {
        // SAFETY: raw is a live read txn; reset releases its snapshot but keeps the slot.
        unsafe { ffi::mdb_txn_reset(raw) };
        let parked = self.read_pool[..self.read_pool_cap].iter().any(|slot| {
            slot.compare_exchange(ptr::null_mut(), raw, Ordering::Release, Ordering::Relaxed)
                .is_ok()
        });
        if !parked {
            // SAFETY: raw is a reset read txn nobody else holds, ended once.
            unsafe { ffi::mdb_txn_abort(raw) };
        }
    }

    /// Aborts every pooled transaction. Called with the resize lock held exclusively (or from
    /// Drop), so no reader is between taking and parking one.
    fn drain_read_pool(&self) {
        for slot in &self.read_pool {
            let raw = slot.swap(ptr::null_mut(), Ordering::Acquire);
            if !raw.is_null() {
                // SAFETY: pooled txns are reset read txns owned by the pool.
                unsafe { ffi::mdb_txn_abort(raw) };
            }
        }
    }

    fn begin_write(&self) -> Result<*mut ffi::MDB_txn> {
        let mut raw: *mut ffi::MDB_txn = ptr::null_mut();
        // SAFETY: env is open; raw is an out-pointer.
        check(
            unsafe { ffi::mdb_txn_begin(self.raw, ptr::null_mut(), 0, &mut raw) },
            "mdb_txn_begin(write)",
        )?;
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
        self.drain_read_pool();
        // SAFETY: we hold the resize lock exclusively, so no transaction of this process is open.
        check(
            unsafe { ffi::mdb_env_set_mapsize(self.raw, next as _) },
            "mdb_env_set_mapsize",
        )
    }

    /// Another process grew the map: adopt its size before starting a transaction.
    fn adopt_foreign_resize(&self) -> Result<()> {
        let _exclusive = self.resize.write().unwrap_or_else(|p| p.into_inner());
        self.drain_read_pool();
        // SAFETY: exclusive resize lock held; size 0 adopts the size recorded in the file.
        check(
            unsafe { ffi::mdb_env_set_mapsize(self.raw, 0) },
            "mdb_env_set_mapsize",
        )
    }

    fn ensure_writable(&self) -> Result<()> {
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
                ctx: self.ctx,
                _env: PhantomData,
            };
            let outcome = match f(&mut txn) {
                Ok(v) => {
                    // SAFETY: raw is live; commit ends it whatever the result.
                    let rc = unsafe { ffi::mdb_txn_commit(raw) };
                    check(rc, "mdb_txn_commit").map(|_| v)
                }
                Err(e) => {
                    // SAFETY: raw is live and ended once.
                    unsafe { ffi::mdb_txn_abort(raw) };
                    Err(e)
                }
            };
            drop(guard);
            match outcome {
                Err(e) if e.kind == ErrorKind::MapFull => self.grow(seen)?,
                other => return other,
            }
        }
    }

    /// Like [`Env::write`], but concurrent callers are committed together in one transaction
    /// (one flush for all of them). Each job runs in its own nested transaction, so one job's
    /// failure rolls back only that job; every caller returns after the commit that holds its
    /// writes is durable.
    pub fn write_grouped<T, F>(&self, f: F) -> Result<T>
    where
        F: FnMut(&mut RwTxn<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.ensure_writable()?;
        let slot = Arc::new(Slot {
            work: Mutex::new(f),
            result: Mutex::new(None),
            done: std::sync::atomic::AtomicBool::new(false),
        });
        let mut state = lock(&self.group);
        state.pending.push(slot.clone());
        state.inside += 1;
        state.expected = state.expected.max(state.inside);
        self.group_arrival.notify_one();
        loop {
            if slot.is_done() {
                state.inside -= 1;
                drop(state);
                let result = lock(&slot.result).take();
                return result.unwrap_or_else(|| {
                    Err(Error::new(
                        ErrorKind::Internal,
                        "group commit lost a result",
                    ))
                });
            }
            if !state.leader_active {
                state.leader_active = true;
                state = self.linger(state);
                let jobs = std::mem::take(&mut state.pending);
                drop(state);
                let started = std::time::Instant::now();
                self.commit_group(&jobs);
                for job in &jobs {
                    job.mark_done();
                }
                state = lock(&self.group);
                state.leader_active = false;
                state.last_commit = started.elapsed();
                self.group_done.notify_all();
                continue;
            }
            state = self
                .group_done
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Commits every job in one transaction. A job that fails is dropped with its error and
    /// the others run again without it, so one caller's failure never fails another's batch;
    /// failures are rare (input is validated before it gets here), so this costs less than a
    /// nested transaction per job, for which LMDB allocates a large dirty-page list.
    fn commit_group(&self, jobs: &[Arc<dyn GroupJob>]) {
        let mut active: Vec<&Arc<dyn GroupJob>> = jobs.iter().collect();
        while !active.is_empty() {
            let mut failed = None;
            let committed = self.write(|txn| {
                for (i, job) in active.iter().enumerate() {
                    job.run(txn).inspect_err(|_| failed = Some(i))?;
                }
                failed = None;
                Ok(())
            });
            match (committed, failed) {
                (Ok(()), _) => return,
                (Err(e), Some(i)) if active.len() > 1 => active.remove(i).fail(e),
                (Err(e), _) => {
                    for job in active {
                        job.fail(e.clone());
                    }
                    return;
                }
            }
        }
    }

    /// Before committing, a leader waits briefly for the callers that lately appended together
    /// to queue again: they were woken by the previous commit and are a few microseconds away.
    /// Without this, concurrent callers split into alternating half-size groups, each paying a
    /// flush. The wait is bounded by half the last commit's time and skipped when one caller
    /// is all there has been lately.
    fn linger<'a>(&self, mut state: MutexGuard<'a, GroupState>) -> MutexGuard<'a, GroupState> {
        if state.pending.len() >= state.expected {
            return state;
        }
        let bound = (state.last_commit / 2).min(std::time::Duration::from_millis(2));
        let deadline = std::time::Instant::now() + bound;
        while state.pending.len() < state.expected {
            let now = std::time::Instant::now();
            if now >= deadline {
                state.expected = state.pending.len().max(1);
                break;
            }
            state = self
                .group_arrival
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        state
    }

    /// Flushes everything committed so far to disk (for stores opened with no_sync).
    pub fn sync(&self) -> Result<()> {
        self.ensure_writable()?;
        // SAFETY: env is open; force=1 flushes even under MDB_NOSYNC.
        check(unsafe { ffi::mdb_env_sync(self.raw, 1) }, "mdb_env_sync")
    }

    pub fn info(&self) -> Result<EnvInfo> {
        // SAFETY: zeroed structs are valid out-params for these calls on an open env.
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

    /// Writes a consistent copy of the environment into the empty directory `dest` while
    /// readers and writers go on (LMDB copies from a read snapshot).
    pub fn backup(&self, dest: &Path, compact: bool) -> Result<()> {
        if !dest.exists() {
            std::fs::create_dir_all(dest)
                .map_err(|e| io_error(e, &format!("creating {}", dest.display())))?;
        }
        let cpath = CString::new(dest.as_os_str().as_bytes())
            .map_err(|_| Error::invalid("backup path contains a NUL byte"))?;
        let flags = if compact { ffi::MDB_CP_COMPACT } else { 0 };
        let _guard = self.resize.read().unwrap_or_else(|p| p.into_inner());
        // SAFETY: env is open and cpath is NUL-terminated; LMDB opens its own read txn.
        check(
            unsafe { ffi::mdb_env_copy2(self.raw, cpath.as_ptr(), flags) },
            "mdb_env_copy2",
        )
        .map_err(|e| e.context(&format!("backup to {}", dest.display())))
    }
}

fn io_error(e: std::io::Error, what: &str) -> Error {
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
        self.drain_read_pool();
        // SAFETY: the last reference is gone, so no transaction of ours is open; closed once.
        unsafe { ffi::mdb_env_close(self.raw) }
    }
}
