//! The PostgreSQL backend: the storage traits over a PostgreSQL-compatible server, so the
//! domain code runs unchanged on it. Design and measurements: docs/postgres.md.
//!
//! Every logical table lives in one table `lmstore_kv (t, k, v)` with the primary key
//! `(t, k)`: `bytea` compares bytewise, so key order is LMDB's. Counters are kept as deltas in
//! `lmstore_counters`, one row per committing transaction, summed on read and folded together
//! now and then, so writers never meet on a hot key. A write transaction reads inside a
//! REPEATABLE READ transaction, buffers its puts and deletes, and sends them all in one
//! statement at commit; a serialization failure (two writers of the same session or template)
//! reruns it.

mod txn;

pub use txn::{PgRead, PgWrite};

use crate::error::{Error, ErrorKind, Result};
use crate::lmdb::OpenOptions;
use postgres::error::SqlState;
use postgres::{Client, NoTls, Statement};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The key limit, LMDB's: the same data fits both engines and moves between them.
pub const MAX_KEY: usize = 511;

/// How long a write keeps being rerun after serialization failures before giving up.
const RETRY_FOR: Duration = Duration::from_secs(30);

/// Commits per connection between two foldings of the counter deltas.
const FOLD_EVERY: u64 = 256;

const SCHEMA_DDL: &str = "
CREATE TABLE IF NOT EXISTS lmstore_kv (
    t smallint NOT NULL,
    k bytea NOT NULL,
    v bytea NOT NULL,
    PRIMARY KEY (t, k)
);
CREATE TABLE IF NOT EXISTS lmstore_counters (
    k bytea NOT NULL,
    v bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS lmstore_counters_k ON lmstore_counters (k);
";

/// Prepared statements of one connection.
pub(crate) struct Stmts {
    get: Statement,
    counter: Statement,
    fwd_all: Statement,
    fwd_from: Statement,
    fwd_after: Statement,
    bwd_all: Statement,
    bwd_from: Statement,
    bwd_before: Statement,
    commit: Statement,
}

pub(crate) struct Conn {
    client: Client,
    stmts: Stmts,
    commits: u64,
}

/// An open PostgreSQL store: a fixed pool of connections, each opened on first use and again
/// after it breaks.
pub struct PgStore {
    config: postgres::Config,
    display: PathBuf,
    secrets: Vec<String>,
    pool: Vec<Mutex<Option<Conn>>>,
    next: AtomicUsize,
    no_sync: bool,
    read_only: bool,
}

/// What the server said, as our error: connection trouble is I/O (the call may be retried
/// and the next call reconnects), anything else internal. Credentials are cut out.
pub(crate) fn pg_error(e: &postgres::Error, what: &str, secrets: &[String]) -> Error {
    let kind = match e.code() {
        _ if e.is_closed() => ErrorKind::Io,
        None => ErrorKind::Io,
        Some(c) if c.code().starts_with("08") || c.code().starts_with("57P") => ErrorKind::Io,
        Some(c) if c.code().starts_with("53") || c.code().starts_with("58") => ErrorKind::Io,
        Some(c) if c.code().starts_with("28") => ErrorKind::Io,
        Some(c) if c == &SqlState::INVALID_CATALOG_NAME => ErrorKind::NotFound,
        Some(c) if c == &SqlState::READ_ONLY_SQL_TRANSACTION => ErrorKind::ReadOnly,
        Some(_) => ErrorKind::Internal,
    };
    let mut text = match e.as_db_error() {
        Some(db) => format!("{what}: PostgreSQL: {}", db.message()),
        None => {
            let mut t = format!("{what}: PostgreSQL: {e}");
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                t.push_str(&format!(": {s}"));
                src = s.source();
            }
            t
        }
    };
    for s in secrets {
        if !s.is_empty() {
            text = text.replace(s.as_str(), "***");
        }
    }
    Error::new(kind, text)
}

pub(crate) fn is_retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if c == &SqlState::T_R_SERIALIZATION_FAILURE || c == &SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// The URL without user, password or a `password=` parameter: what error messages and
/// `Store::path` show.
fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (authority_path, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match authority_path.find('/') {
        Some(i) => authority_path.split_at(i),
        None => (authority_path, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let mut out = format!("{scheme}://{host}{path}");
    if let Some(q) = query {
        let kept: Vec<&str> = q
            .split('&')
            .filter(|p| {
                let name = p.split('=').next().unwrap_or("");
                !name.eq_ignore_ascii_case("password") && !name.eq_ignore_ascii_case("user")
            })
            .collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    out
}

impl PgStore {
    pub fn open(url: &[u8], opts: OpenOptions) -> Result<PgStore> {
        let url = crate::error::utf8(url, "postgres URL")?;
        let display = redact(url);
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            Error::invalid(format!("invalid postgres URL {display}: {e}"))
        })?;
        let mut secrets = Vec::new();
        if let Some(p) = config.get_password() {
            secrets.push(String::from_utf8_lossy(p).into_owned());
        }
        let timeout = if opts.connect_timeout_ms == 0 {
            crate::lmdb::DEFAULT_CONNECT_TIMEOUT_MS
        } else {
            opts.connect_timeout_ms
        };
        let size = if opts.pool_size == 0 {
            crate::lmdb::DEFAULT_POOL_SIZE
        } else {
            opts.pool_size
        };
        config.connect_timeout(Duration::from_millis(timeout as u64));
        if config.get_application_name().is_none() {
            config.application_name("lmstore");
        }
        let store = PgStore {
            config,
            display: PathBuf::from(display),
            secrets,
            pool: (0..size).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            no_sync: opts.no_sync,
            read_only: opts.read_only,
        };
        store.create_schema()?;
        Ok(store)
    }

    pub fn display(&self) -> &Path {
        &self.display
    }

    fn err(&self, e: &postgres::Error, what: &str) -> Error {
        pg_error(
            e,
            &format!("{what} ({})", self.display.display()),
            &self.secrets,
        )
    }

    /// Creates the tables (and the schema the URL's search_path names, when missing) under an
    /// advisory lock, so processes opening a new database together do not race.
    fn create_schema(&self) -> Result<()> {
        let mut slot = self.slot();
        let conn = self.connected(&mut slot)?;
        let client = &mut conn.client;
        if self.read_only {
            return Ok(());
        }
        let run = |client: &mut Client| -> std::result::Result<(), postgres::Error> {
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock(7370616)", &[])?;
            let current: Option<String> = tx.query_one("SELECT current_schema()", &[])?.get(0);
            if current.is_none() {
                let path: String = tx.query_one("SHOW search_path", &[])?.get(0);
                let first = path.split(',').next().unwrap_or("").trim();
                if !first.is_empty() && first != "\"$user\"" {
                    let name = first.trim_matches('"').replace('"', "\"\"");
                    tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{name}\""))?;
                }
            }
            tx.batch_execute(SCHEMA_DDL)?;
            tx.commit()
        };
        let out = run(client).map_err(|e| self.err(&e, "creating the lmstore tables"));
        if out.is_err() {
            *slot = None;
        } else if let Some(c) = slot.as_mut() {
            // The tables may be new: prepare again against them.
            match prepare(&mut c.client) {
                Ok(s) => c.stmts = s,
                Err(e) => return Err(self.err(&e, "preparing statements")),
            }
        }
        out
    }

    /// A pool slot: the first free one (so a lone caller keeps reusing one warm connection
    /// and the others are opened only under concurrency), else waits for one in turn.
    fn slot(&self) -> MutexGuard<'_, Option<Conn>> {
        for slot in &self.pool {
            if let Ok(g) = slot.try_lock() {
                return g;
            }
        }
        let n = self.pool.len();
        self.pool[self.next.fetch_add(1, Ordering::Relaxed) % n]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The slot's connection, opened when it has none or the last one broke.
    fn connected<'s>(&self, slot: &'s mut Option<Conn>) -> Result<&'s mut Conn> {
        if slot.as_ref().is_some_and(|c| c.client.is_closed()) {
            *slot = None;
        }
        if slot.is_none() {
            *slot = Some(self.connect()?);
        }
        slot.as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Internal, "connection slot empty"))
    }

    fn connect(&self) -> Result<Conn> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(|e| self.err(&e, "connecting"))?;
        let mut setup = String::from("SET default_transaction_isolation = 'repeatable read';");
        if self.no_sync {
            setup.push_str("SET synchronous_commit = off;");
        }
        client
            .batch_execute(&setup)
            .map_err(|e| self.err(&e, "setting up the connection"))?;
        // Before the tables exist (a new database) statements cannot be prepared yet;
        // create_schema prepares them after creating the tables.
        let stmts = match prepare(&mut client) {
            Ok(s) => s,
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) && !self.read_only => {
                placeholder(&mut client).map_err(|e| self.err(&e, "preparing statements"))?
            }
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
                return Err(Error::not_found(format!(
                    "{} holds no lmstore store (table lmstore_kv is missing)",
                    self.display.display()
                )))
            }
            Err(e) => return Err(self.err(&e, "preparing statements")),
        };
        Ok(Conn {
            client,
            stmts,
            commits: 0,
        })
    }

    /// Takes a connection and starts a transaction on it. A connection that turns out to be
    /// dead when the transaction starts (the server restarted since it was last used) is
    /// replaced once: nothing was sent that could have taken effect.
    fn begin<'s>(&self, slot: &'s mut Option<Conn>, sql: &str) -> Result<&'s mut Conn> {
        for attempt in 0..2 {
            let conn = self.connected(slot)?;
            match conn.client.batch_execute(sql) {
                Ok(()) => break,
                Err(e) if attempt == 0 && (e.is_closed() || e.code().is_none()) => {
                    *slot = None;
                }
                Err(e) => {
                    let err = self.err(&e, "starting a transaction");
                    if e.is_closed() || e.code().is_none() {
                        *slot = None;
                    }
                    return Err(err);
                }
            }
        }
        self.connected(slot)
    }

    /// Runs `f` on a REPEATABLE READ snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&PgRead<'_>) -> Result<T>) -> Result<T> {
        let mut slot = self.slot();
        let conn = self.begin(&mut slot, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        let txn = PgRead::new(conn, &self.secrets, &self.display);
        let out = f(&txn);
        let broken = txn.broken();
        drop(txn);
        if broken {
            *slot = None;
            return out;
        }
        if let Some(conn) = slot.as_mut() {
            // A read-only transaction has nothing to commit; ending it either way is the same.
            if conn.client.batch_execute("COMMIT").is_err() {
                *slot = None;
            }
        }
        out
    }

    /// Runs `f` in a REPEATABLE READ transaction and commits its buffered writes in one
    /// statement; reruns it on a serialization failure or deadlock.
    pub fn write<T>(&self, mut f: impl FnMut(&mut PgWrite<'_>) -> Result<T>) -> Result<T> {
        if self.read_only {
            return Err(Error::new(
                ErrorKind::ReadOnly,
                "the store was opened read-only",
            ));
        }
        let mut slot = self.slot();
        let mut attempt = 0u32;
        let started = std::time::Instant::now();
        loop {
            let conn = self.begin(&mut slot, "BEGIN ISOLATION LEVEL REPEATABLE READ")?;
            let mut txn = PgWrite::new(conn, &self.secrets, &self.display);
            let out = f(&mut txn).and_then(|v| txn.commit().map(|()| v));
            let (broken, retry) = (txn.broken(), txn.retry());
            drop(txn);
            if broken {
                *slot = None;
                return out;
            }
            let Some(conn) = slot.as_mut() else {
                return out;
            };
            match out {
                Ok(v) => {
                    conn.commits += 1;
                    if conn.commits % FOLD_EVERY == 0 {
                        // Folding is housekeeping: its failure loses nothing.
                        let _ = conn.client.batch_execute(txn::FOLD_COUNTERS);
                    }
                    return Ok(v);
                }
                Err(e) => {
                    if conn.client.batch_execute("ROLLBACK").is_err() {
                        // The connection died after the failure. Nothing was committed, so a
                        // serialization failure still runs again, on a new connection (whose
                        // open fails with LMS_IO and the reason while the server is down).
                        *slot = None;
                        if !retry {
                            return Err(e);
                        }
                    } else if !retry {
                        return Err(e);
                    }
                    if started.elapsed() > RETRY_FOR {
                        return Err(e.context(&format!(
                            "gave up after {attempt} serialization failures in a row"
                        )));
                    }
                    attempt += 1;
                    std::thread::sleep(backoff(attempt));
                }
            }
        }
    }
}

/// A random pause that grows with the attempts (up to about 10 ms), so writers that collided
/// on one session or template do not collide again in lockstep.
fn backoff(attempt: u32) -> Duration {
    let cap = (100u64 << attempt.min(7)).min(10_000);
    let noise = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64)
        ^ (std::process::id() as u64).wrapping_mul(0x9e37_79b9);
    Duration::from_micros(cap / 2 + noise % (cap / 2 + 1))
}

fn prepare(client: &mut Client) -> std::result::Result<Stmts, postgres::Error> {
    let scan = |cond: &str, order: &str| {
        format!(
            "SELECT k, v FROM lmstore_kv WHERE t = $1::int2 {cond} \
             ORDER BY t {order}, k {order} LIMIT $3::int8"
        )
    };
    Ok(Stmts {
        get: client.prepare("SELECT v FROM lmstore_kv WHERE t = $1 AND k = $2")?,
        counter: client.prepare(
            "SELECT (SELECT v FROM lmstore_kv WHERE t = $1 AND k = $2), \
             (SELECT sum(v)::bigint FROM lmstore_counters WHERE k = $2)",
        )?,
        fwd_all: client.prepare(&scan("AND $2::bytea IS NULL", "ASC"))?,
        fwd_from: client.prepare(&scan("AND k >= $2", "ASC"))?,
        fwd_after: client.prepare(&scan("AND k > $2", "ASC"))?,
        bwd_all: client.prepare(&scan("AND $2::bytea IS NULL", "DESC"))?,
        bwd_from: client.prepare(&scan("AND k <= $2", "DESC"))?,
        bwd_before: client.prepare(&scan("AND k < $2", "DESC"))?,
        commit: client.prepare(txn::COMMIT_WRITES)?,
    })
}

/// Stand-ins until the tables exist: every one is a valid statement that is never run.
fn placeholder(client: &mut Client) -> std::result::Result<Stmts, postgres::Error> {
    let s = client.prepare("SELECT 1")?;
    Ok(Stmts {
        get: s.clone(),
        counter: s.clone(),
        fwd_all: s.clone(),
        fwd_from: s.clone(),
        fwd_after: s.clone(),
        bwd_all: s.clone(),
        bwd_from: s.clone(),
        bwd_before: s.clone(),
        commit: s,
    })
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_drops_credentials() {
        assert_eq!(
            redact("postgres://alice:s3cret@db.example:5432/app?sslmode=disable&password=x"),
            "postgres://db.example:5432/app?sslmode=disable"
        );
        assert_eq!(
            redact("postgres:///lmstore?host=/tmp/x&user=postgres"),
            "postgres:///lmstore?host=/tmp/x"
        );
    }
}
