//! The safe Rust API: one [`Store`] per open handle. Every method is one transaction.

use crate::conversations::{self, Appended, CursorKind, NewMessage, Page, RangeQuery};
use crate::error::{Error, ErrorKind, Result};
use crate::lmdb::{self, Env, EnvInfo, OpenOptions};
use crate::meta::{self, Counter};
use crate::templates::{self, PutOutcome, TemplateSpec};
use std::path::Path;

/// A handle on an open store. Handles on the same path share one LMDB environment.
pub struct Store {
    env: lmdb::EnvHandle,
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
}

impl Store {
    pub fn open(path: &Path, opts: OpenOptions) -> Result<Store> {
        let env = Env::open(path, opts)?;
        let found = env.read(|txn| meta::schema_version(txn))?;
        meta::check_schema(found, env.path())?;
        if found.is_none() && !env.read_only() {
            env.write(|txn| meta::stamp_schema(txn))?;
        }
        Ok(Store { env })
    }

    fn writable(&self) -> Result<&Env> {
        if self.env.read_only() {
            return Err(Error::new(
                ErrorKind::ReadOnly,
                "this handle was opened read-only",
            ));
        }
        Ok(&self.env)
    }

    pub fn path(&self) -> &Path {
        self.env.path()
    }

    pub fn sync(&self) -> Result<()> {
        self.writable()?.sync()
    }

    pub fn stats(&self) -> Result<Stats> {
        let info = self.env.info()?;
        self.env.read(|txn| {
            Ok(Stats {
                template_ids: meta::get(txn, Counter::TemplateIds)?,
                template_versions: meta::get(txn, Counter::TemplateVersions)?,
                templates_modified_at: meta::get(txn, Counter::TemplatesModifiedAt)? as i64,
                sessions: meta::get(txn, Counter::Sessions)?,
                messages: meta::get(txn, Counter::Messages)?,
                env: info,
                schema_version: meta::schema_version(txn)?.unwrap_or(0),
            })
        })
    }

    pub fn backup(&self, dest: &Path, compact: bool) -> Result<()> {
        self.env.backup(dest, compact)
    }

    // ---- templates ----

    pub fn put_template(&self, spec: &TemplateSpec, replace: bool) -> Result<PutOutcome> {
        self.writable()?
            .write(|txn| templates::put(txn, spec, replace))
    }

    /// Hands the stored record of a template to `f` without copying it first.
    pub fn with_template<T>(
        &self,
        id: &[u8],
        version: Option<&[u8]>,
        f: impl FnOnce(&[u8]) -> T,
    ) -> Result<T> {
        self.env.read(|txn| templates::get(txn, id, version).map(f))
    }

    pub fn with_template_by_alias<T>(
        &self,
        id: &[u8],
        alias: &[u8],
        f: impl FnOnce(&[u8]) -> T,
    ) -> Result<T> {
        self.env.read(|txn| {
            let version = templates::resolve_alias(txn, id, alias)?;
            templates::get(txn, id, Some(&version)).map(f)
        })
    }

    pub fn get_template(&self, id: &[u8], version: Option<&[u8]>) -> Result<Vec<u8>> {
        self.with_template(id, version, <[u8]>::to_vec)
    }

    pub fn list_template_ids(&self, prefix: &[u8], after: &[u8], limit: u32) -> Result<Vec<u8>> {
        self.env
            .read(|txn| templates::list_ids(txn, prefix, after, limit))
    }

    pub fn list_template_versions(&self, id: &[u8]) -> Result<Vec<u8>> {
        self.env.read(|txn| templates::list_versions(txn, id))
    }

    pub fn delete_template(&self, id: &[u8], version: Option<&[u8]>) -> Result<()> {
        self.writable()?
            .write(|txn| templates::delete(txn, id, version))
    }

    pub fn set_template_alias(&self, id: &[u8], alias: &[u8], version: &[u8]) -> Result<()> {
        self.writable()?
            .write(|txn| templates::set_alias(txn, id, alias, version))
    }

    pub fn delete_template_alias(&self, id: &[u8], alias: &[u8]) -> Result<()> {
        self.writable()?
            .write(|txn| templates::delete_alias(txn, id, alias))
    }

    pub fn list_template_aliases(&self, id: &[u8]) -> Result<Vec<u8>> {
        self.env.read(|txn| templates::list_aliases(txn, id))
    }

    // ---- conversations ----

    /// Appends a batch atomically. Concurrent appends from many threads are committed together
    /// (group commit), each caller returning once its own batch is durable.
    pub fn append_messages(&self, messages: Vec<NewMessage>) -> Result<Vec<Appended>> {
        let env = self.writable()?;
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        env.write_grouped(move |txn| conversations::append(txn, &messages))
    }

    pub fn range_messages(&self, session: &[u8], q: &RangeQuery<'_>) -> Result<Page> {
        self.env
            .read(|txn| conversations::range(txn, CursorKind::Session, session, q))
    }

    pub fn range_agent_messages(&self, agent: &[u8], q: &RangeQuery<'_>) -> Result<Page> {
        self.env
            .read(|txn| conversations::range(txn, CursorKind::Agent, agent, q))
    }

    pub fn with_message<T>(&self, id: &[u8], f: impl FnOnce(&[u8]) -> T) -> Result<T> {
        self.env.read(|txn| conversations::get(txn, id).map(f))
    }

    pub fn update_message(
        &self,
        id: &[u8],
        content: Option<&[u8]>,
        metadata: Option<&[u8]>,
    ) -> Result<()> {
        self.writable()?
            .write(|txn| conversations::update(txn, id, content, metadata))
    }

    pub fn delete_message(&self, id: &[u8]) -> Result<()> {
        self.writable()?.write(|txn| conversations::delete(txn, id))
    }

    pub fn trim_session_to_count(&self, session: &[u8], keep: u64) -> Result<u64> {
        self.writable()?
            .write(|txn| conversations::trim_to_count(txn, session, keep))
    }

    pub fn trim_session_before(&self, session: &[u8], before: i64) -> Result<u64> {
        self.writable()?
            .write(|txn| conversations::trim_before(txn, session, before))
    }

    pub fn create_session(
        &self,
        session: &[u8],
        title: Option<&[u8]>,
        metadata: &[u8],
    ) -> Result<()> {
        self.writable()?
            .write(|txn| conversations::create_session(txn, session, title, metadata))
    }

    pub fn get_session(&self, session: &[u8]) -> Result<Vec<u8>> {
        self.env
            .read(|txn| conversations::get_session(txn, session))
    }

    pub fn update_session(
        &self,
        session: &[u8],
        title: Option<&[u8]>,
        metadata: Option<&[u8]>,
    ) -> Result<()> {
        self.writable()?
            .write(|txn| conversations::update_session(txn, session, title, metadata))
    }

    pub fn delete_session(&self, session: &[u8]) -> Result<u64> {
        self.writable()?
            .write(|txn| conversations::delete_session(txn, session))
    }

    /// Checks every conversation index against the records and counters (see
    /// [`conversations::verify`]); returns the number of messages checked.
    pub fn verify(&self) -> Result<u64> {
        self.env.read(|txn| conversations::verify(txn))
    }

    pub fn list_sessions(&self, cursor: Option<&[u8]>, limit: u32) -> Result<Page> {
        self.env
            .read(|txn| conversations::list_sessions(txn, cursor, limit))
    }
}
