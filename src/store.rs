//! The safe Rust API: one [`Store`] per open handle. Every method is one transaction.

use crate::backend::{Backend, Read, Write};
use crate::conversations::{self, Appended, CursorKind, NewMessage, Page, RangeQuery};
use crate::error::{Error, ErrorKind, Result};
use crate::lmdb::{Env, EnvHandle, EnvInfo, OpenOptions};
use crate::meta::{self, Counter};
use crate::templates::{self, PutOutcome, TemplateSpec};
use std::path::Path;

mod batch;
pub(crate) use batch::MAX_BATCH_OPS;
pub use batch::{WriteOp, WriteOutcome};

/// A handle on an open store: an LMDB directory (handles on the same path share one
/// environment) or, with the `postgres` feature, a `postgres://` URL.
pub struct Store {
    backend: Backend,
    read_only: bool,
    pub(crate) render_cache: crate::render::Cache,
}

/// Counts and sizes for a health check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub template_ids: u64,
    pub template_versions: u64,
    pub templates_modified_at: i64,
    pub sessions: u64,
    pub messages: u64,
    pub env: EnvInfo,
    pub schema_version: u32,
    /// Bytes of message bodies (content and metadata) as given, and as stored: the difference
    /// is what compression saved.
    pub body_bytes: u64,
    pub body_stored_bytes: u64,
}

/// Where a compact backup is written until it is complete (inside the backup's directory).
pub const BACKUP_STAGING: &str = ".lmstore-backup-in-progress";

impl Store {
    /// Opens an LMDB store in directory `path`, or a PostgreSQL one when `path` is a
    /// `postgres://` or `postgresql://` URL.
    pub fn open(path: &Path, opts: OpenOptions) -> Result<Store> {
        let backend = Self::open_backend(path, opts)?;
        let store = Store {
            backend,
            read_only: opts.read_only,
            render_cache: crate::render::Cache::new(opts.render_cache_size as usize),
        };
        let mut found = store
            .read(|txn| meta::schema_version(txn))
            .map_err(|e| e.context(&store.path().display().to_string()))?;
        // An LMDB store gets its schema version in the transaction that creates it (see
        // open_backend), so one without it is damaged: refused by check_schema, never stamped
        // again with its counts at 0. A PostgreSQL store is stamped on its first open.
        if found.is_none() && !opts.read_only && store.lmdb("").is_err() {
            store.write(|txn| meta::stamp_schema(txn))?;
            found = store.read(|txn| meta::schema_version(txn))?;
        }
        meta::check_schema(found, store.path())?;
        Ok(store)
    }

    fn open_backend(path: &Path, opts: OpenOptions) -> Result<Backend> {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        if bytes.starts_with(b"postgres://") || bytes.starts_with(b"postgresql://") {
            #[cfg(feature = "postgres")]
            return crate::pg::PgStore::open(bytes, opts).map(|s| Backend::Pg(Box::new(s)));
            #[cfg(not(feature = "postgres"))]
            return Err(Error::new(
                ErrorKind::Unsupported,
                "this build of lmstore has no PostgreSQL backend (cargo feature `postgres`)",
            ));
        }
        Env::open_init(path, opts, &|txn| meta::stamp_schema(txn)).map(Backend::Lmdb)
    }

    /// Runs `f` on a consistent read snapshot of whichever engine this store uses.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Read<'_, '_>) -> Result<T>) -> Result<T> {
        match &self.backend {
            Backend::Lmdb(env) => env.read(|txn| f(&Read::Lmdb(txn))),
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => pg.read(|txn| f(&Read::Pg(txn))),
        }
    }

    /// Runs `f` in one atomic write transaction. `f` may run more than once (a full LMDB map
    /// grows and retries; a PostgreSQL serialization failure retries), so it must have no
    /// effects outside the transaction.
    pub(crate) fn write<T>(&self, mut f: impl FnMut(&mut Write<'_, '_>) -> Result<T>) -> Result<T> {
        self.writable()?;
        match &self.backend {
            Backend::Lmdb(env) => env.write(|txn| f(&mut Write::Lmdb(txn))),
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => pg.write(|txn| f(&mut Write::Pg(txn))),
        }
    }

    /// Like [`Store::write`]; on LMDB concurrent callers share one commit (group commit).
    pub(crate) fn write_grouped<T, F>(&self, mut f: F) -> Result<T>
    where
        F: FnMut(&mut Write<'_, '_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.writable()?;
        match &self.backend {
            Backend::Lmdb(env) => env.write_grouped(move |txn| f(&mut Write::Lmdb(txn))),
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => pg.write(|txn| f(&mut Write::Pg(txn))),
        }
    }

    /// The LMDB environment, for the operations that exist only there.
    #[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
    pub(crate) fn lmdb(&self, what: &str) -> Result<&EnvHandle> {
        match &self.backend {
            Backend::Lmdb(env) => Ok(env),
            #[cfg(feature = "postgres")]
            Backend::Pg(_) => Err(Error::new(
                ErrorKind::Unsupported,
                format!("{what} is an LMDB operation; this store is on PostgreSQL"),
            )),
        }
    }

    /// Fails as a write would (read-only handle, schema-1 store) before work that ends in
    /// one, so a long preparation is not spent on a store that will refuse it.
    pub(crate) fn check_writable(&self) -> Result<()> {
        self.writable()?;
        match &self.backend {
            Backend::Lmdb(env) => env.refuse_legacy(),
            #[cfg(feature = "postgres")]
            Backend::Pg(_) => Ok(()),
        }
    }

    fn writable(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::new(
                ErrorKind::ReadOnly,
                "this handle was opened read-only",
            ));
        }
        Ok(())
    }

    /// The directory, or for PostgreSQL the URL without its credentials.
    pub fn path(&self) -> &Path {
        match &self.backend {
            Backend::Lmdb(env) => env.path(),
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => pg.display(),
        }
    }

    /// Flushes commits made with no_sync. On PostgreSQL every commit is flushed by the server
    /// (or, with no_sync, within its wal_writer_delay), so there is nothing to do.
    pub fn sync(&self) -> Result<()> {
        self.writable()?;
        match &self.backend {
            Backend::Lmdb(env) => env.sync(),
            #[cfg(feature = "postgres")]
            Backend::Pg(_) => Ok(()),
        }
    }

    pub fn stats(&self) -> Result<Stats> {
        let info = match &self.backend {
            Backend::Lmdb(env) => env.info()?,
            #[cfg(feature = "postgres")]
            Backend::Pg(_) => EnvInfo::default(),
        };
        self.read(|txn| {
            Ok(Stats {
                template_ids: meta::get(txn, Counter::TemplateIds)?,
                template_versions: meta::get(txn, Counter::TemplateVersions)?,
                templates_modified_at: meta::get(txn, Counter::TemplatesModifiedAt)? as i64,
                sessions: meta::get(txn, Counter::Sessions)?,
                messages: meta::get(txn, Counter::Messages)?,
                env: info,
                schema_version: meta::schema_version(txn)?.unwrap_or(0),
                body_bytes: meta::get(txn, Counter::BodyPlain)?,
                body_stored_bytes: meta::get(txn, Counter::BodyStored)?,
            })
        })
    }

    /// A consistent copy of the store in `dest` (a new or empty directory) while readers and
    /// writers go on. `compact` rewrites every table with full pages ([`Store::repack_into`]):
    /// LMDB's own compacting copy only leaves out free pages, and keeps the half-full pages
    /// that appends to many sessions leave behind. A schema-1 store is copied by LMDB.
    pub fn backup(&self, dest: &Path, compact: bool) -> Result<()> {
        let env = self.lmdb("backup")?;
        if !compact || env.is_legacy() {
            return env.backup(dest, compact);
        }
        env.prepare_backup_target(dest)?;
        // The copy is written in a staging directory and its data file renamed into `dest`
        // when complete: a copy cut short (kill -9, power loss) must not look like a backup,
        // and a store written by appends is readable at every commit.
        let staging = dest.join(BACKUP_STAGING);
        let done = self.repack_into(&staging).and_then(|_| {
            std::fs::rename(staging.join("data.mdb"), dest.join("data.mdb"))
                .and_then(|()| std::fs::File::open(dest)?.sync_all())
                .map_err(|e| crate::lmdb::io_error(e, "moving the finished copy into place"))
        });
        // Nothing has the staging store open any more: its lock file (and, after a failure,
        // its data file) go.
        let _ = std::fs::remove_dir_all(&staging);
        done.map_err(|e| e.context(&format!("backup to {}", dest.display())))
    }

    // ---- templates ----

    pub fn put_template(&self, spec: &TemplateSpec, replace: bool) -> Result<PutOutcome> {
        self.write(|txn| templates::put(txn, spec, replace))
    }

    /// Hands the stored record of a template to `f` without copying it first.
    pub fn with_template<T>(
        &self,
        id: &[u8],
        version: Option<&[u8]>,
        f: impl FnOnce(&[u8]) -> T,
    ) -> Result<T> {
        self.read(|txn| templates::get(txn, id, version).map(f))
    }

    pub fn with_template_by_alias<T>(
        &self,
        id: &[u8],
        alias: &[u8],
        f: impl FnOnce(&[u8]) -> T,
    ) -> Result<T> {
        self.read(|txn| {
            let version = templates::resolve_alias(txn, id, alias)?;
            templates::get(txn, id, Some(&version)).map(f)
        })
    }

    pub fn get_template(&self, id: &[u8], version: Option<&[u8]>) -> Result<Vec<u8>> {
        self.with_template(id, version, <[u8]>::to_vec)
    }

    pub fn list_template_ids(&self, prefix: &[u8], after: &[u8], limit: u32) -> Result<Vec<u8>> {
        self.read(|txn| templates::list_ids(txn, prefix, after, limit))
    }

    pub fn list_template_versions(&self, id: &[u8]) -> Result<Vec<u8>> {
        self.read(|txn| templates::list_versions(txn, id))
    }

    pub fn delete_template(&self, id: &[u8], version: Option<&[u8]>) -> Result<()> {
        self.write(|txn| templates::delete(txn, id, version))
    }

    pub fn set_template_alias(&self, id: &[u8], alias: &[u8], version: &[u8]) -> Result<()> {
        self.write(|txn| templates::set_alias(txn, id, alias, version))
    }

    pub fn delete_template_alias(&self, id: &[u8], alias: &[u8]) -> Result<()> {
        self.write(|txn| templates::delete_alias(txn, id, alias))
    }

    pub fn list_template_aliases(&self, id: &[u8]) -> Result<Vec<u8>> {
        self.read(|txn| templates::list_aliases(txn, id))
    }

    // ---- conversations ----

    /// Appends a batch atomically. Concurrent appends from many threads are committed together
    /// (group commit), each caller returning once its own batch is durable.
    pub fn append_messages(&self, messages: Vec<NewMessage>) -> Result<Vec<Appended>> {
        self.writable()?;
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        self.write_grouped(move |txn| conversations::append(txn, &messages))
    }

    pub fn range_messages(&self, session: &[u8], q: &RangeQuery<'_>) -> Result<Page> {
        self.read(|txn| conversations::range(txn, CursorKind::Session, session, q))
    }

    /// A session's (`kind` Session) or an agent's messages written record by record to
    /// `out`, after the [`conversations::header_room`] the caller kept; returns the count and
    /// the next page's cursor.
    pub fn range_to(
        &self,
        kind: CursorKind,
        name: &[u8],
        q: &RangeQuery<'_>,
        out: &mut impl crate::conversations::record::PageWrite,
    ) -> Result<(u32, Option<Vec<u8>>)> {
        self.read(|txn| conversations::range_to(txn, kind, name, q, out))
    }

    pub fn range_agent_messages(&self, agent: &[u8], q: &RangeQuery<'_>) -> Result<Page> {
        self.read(|txn| conversations::range(txn, CursorKind::Agent, agent, q))
    }

    pub fn with_message<T>(&self, id: &[u8], f: impl FnOnce(&[u8]) -> T) -> Result<T> {
        self.read(|txn| conversations::get(txn, id).map(|r| f(&r)))
    }

    pub fn update_message(
        &self,
        id: &[u8],
        content: Option<&[u8]>,
        metadata: Option<&[u8]>,
    ) -> Result<()> {
        self.write(|txn| conversations::update(txn, id, content, metadata))
    }

    pub fn delete_message(&self, id: &[u8]) -> Result<()> {
        self.write(|txn| conversations::delete(txn, id))
    }

    pub fn trim_session_to_count(&self, session: &[u8], keep: u64) -> Result<u64> {
        self.write(|txn| conversations::trim_to_count(txn, session, keep))
    }

    pub fn trim_session_before(&self, session: &[u8], before: i64) -> Result<u64> {
        self.write(|txn| conversations::trim_before(txn, session, before))
    }

    pub fn create_session(
        &self,
        session: &[u8],
        title: Option<&[u8]>,
        metadata: &[u8],
    ) -> Result<()> {
        self.write(|txn| conversations::create_session(txn, session, title, metadata))
    }

    pub fn get_session(&self, session: &[u8]) -> Result<Vec<u8>> {
        self.read(|txn| conversations::get_session(txn, session))
    }

    pub fn update_session(
        &self,
        session: &[u8],
        title: Option<&[u8]>,
        metadata: Option<&[u8]>,
    ) -> Result<()> {
        self.write(|txn| conversations::update_session(txn, session, title, metadata))
    }

    pub fn delete_session(&self, session: &[u8]) -> Result<u64> {
        self.write(|txn| conversations::delete_session(txn, session))
    }

    /// Checks every conversation index against the records and counters (see
    /// [`conversations::verify`]); returns the number of messages checked.
    pub fn verify(&self) -> Result<u64> {
        self.read(|txn| conversations::verify(txn))
    }

    pub fn list_sessions(&self, cursor: Option<&[u8]>, limit: u32) -> Result<Page> {
        self.read(|txn| conversations::list_sessions(txn, cursor, limit))
    }
}
