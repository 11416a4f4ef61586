//! Read and write transactions over one pooled connection, implementing the storage traits.

use super::{is_retryable, pg_error, Conn, MAX_KEY};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::{ReadTxn, Start, Table, Visitor, WriteTxn};
use postgres::Row;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use typed_arena::Arena;

/// Every buffered write of a transaction in one statement: deletes, counter deltas, puts.
/// The buffer holds each key once, so no row is touched twice; rows go in key order, so two
/// writers lock shared rows in the same order and cannot deadlock on them.
pub(crate) const COMMIT_WRITES: &str = "\
WITH d AS (
    DELETE FROM lmstore_kv USING unnest($1::int2[], $2::bytea[]) AS x(t, k)
    WHERE lmstore_kv.t = x.t AND lmstore_kv.k = x.k
), c AS (
    INSERT INTO lmstore_counters (k, v) SELECT * FROM unnest($6::bytea[], $7::int8[])
)
INSERT INTO lmstore_kv (t, k, v) SELECT * FROM unnest($3::int2[], $4::bytea[], $5::bytea[])
ON CONFLICT (t, k) DO UPDATE SET v = EXCLUDED.v";

/// Folds the counter deltas into one row per counter. Rows committed meanwhile are not in the
/// statement's snapshot, so they are neither deleted nor summed: nothing is counted twice.
pub(crate) const FOLD_COUNTERS: &str = "\
WITH d AS (DELETE FROM lmstore_counters RETURNING k, v)
INSERT INTO lmstore_counters (k, v) SELECT k, sum(v)::bigint FROM d GROUP BY k";

/// Rows fetched by the first query of a scan; later pages grow up to [`MAX_PAGE`]. A page of
/// 50 messages (plus the one that says there are more) is one query.
const FIRST_PAGE: i64 = 64;
const MAX_PAGE: i64 = 1024;

fn check_key(key: &[u8]) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid("empty key"));
    }
    if key.len() > MAX_KEY {
        return Err(Error::new(
            ErrorKind::KeyTooLong,
            format!(
                "key of {} bytes exceeds the store's limit of {MAX_KEY} bytes",
                key.len()
            ),
        ));
    }
    Ok(())
}

fn column(row: &Row, i: usize) -> Result<&[u8]> {
    row.try_get::<_, &[u8]>(i)
        .map_err(|e| Error::corrupt(format!("unexpected column from PostgreSQL: {e}")))
}

/// A REPEATABLE READ snapshot. Values that `get` returns are kept until the transaction ends,
/// so they can be borrowed as the trait promises.
pub struct PgRead<'c> {
    conn: RefCell<&'c mut Conn>,
    arena: Arena<Vec<u8>>,
    secrets: &'c [String],
    display: &'c Path,
    broken: Cell<bool>,
    retry: Cell<bool>,
}

impl<'c> PgRead<'c> {
    pub(crate) fn new(conn: &'c mut Conn, secrets: &'c [String], display: &'c Path) -> Self {
        PgRead {
            conn: RefCell::new(conn),
            arena: Arena::new(),
            secrets,
            display,
            broken: Cell::new(false),
            retry: Cell::new(false),
        }
    }

    /// The connection failed: it is dropped and the next call opens a new one.
    pub(crate) fn broken(&self) -> bool {
        self.broken.get()
    }

    /// A serialization failure or deadlock: the transaction may be run again.
    pub(crate) fn retry(&self) -> bool {
        self.retry.get()
    }

    fn fail(&self, e: postgres::Error, what: &str) -> Error {
        if e.is_closed() || e.code().is_none() {
            self.broken.set(true);
        }
        if is_retryable(&e) {
            self.retry.set(true);
        }
        pg_error(
            &e,
            &format!("{what} ({})", self.display.display()),
            self.secrets,
        )
    }

    fn fetch(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>> {
        check_key(key)?;
        let mut conn = self.conn.borrow_mut();
        let conn = &mut **conn;
        let row = conn
            .client
            .query_opt(&conn.stmts.get, &[&(table as i16), &key])
            .map_err(|e| self.fail(e, "reading"))?;
        row.map(|r| column(&r, 0).map(<[u8]>::to_vec)).transpose()
    }

    /// The stored base value and the sum of the deltas of a counter.
    fn fetch_counter(&self, table: Table, key: &[u8]) -> Result<(Option<Vec<u8>>, i64)> {
        let mut conn = self.conn.borrow_mut();
        let conn = &mut **conn;
        let row = conn
            .client
            .query_one(&conn.stmts.counter, &[&(table as i16), &key])
            .map_err(|e| self.fail(e, "reading a counter"))?;
        let base = row
            .try_get::<_, Option<Vec<u8>>>(0)
            .map_err(|e| Error::corrupt(format!("unexpected counter from PostgreSQL: {e}")))?;
        let sum = row
            .try_get::<_, Option<i64>>(1)
            .map_err(|e| Error::corrupt(format!("unexpected counter from PostgreSQL: {e}")))?;
        Ok((base, sum.unwrap_or(0)))
    }

    /// One page of a scan, in the scan's direction, from `from` (inclusive or not).
    fn page(
        &self,
        table: Table,
        from: Option<&[u8]>,
        inclusive: bool,
        backward: bool,
        limit: i64,
    ) -> Result<Vec<Row>> {
        let mut conn = self.conn.borrow_mut();
        let conn = &mut **conn;
        let s = &conn.stmts;
        let stmt = match (backward, from.is_some(), inclusive) {
            (false, false, _) => &s.fwd_all,
            (false, true, true) => &s.fwd_from,
            (false, true, false) => &s.fwd_after,
            (true, false, _) => &s.bwd_all,
            (true, true, true) => &s.bwd_from,
            (true, true, false) => &s.bwd_before,
        };
        conn.client
            .query(stmt, &[&(table as i16), &from, &limit])
            .map_err(|e| self.fail(e, "scanning"))
    }

    fn scan_db(
        &self,
        table: Table,
        start: Start<'_>,
        backward: bool,
        visit: &mut Visitor<'_>,
    ) -> Result<()> {
        let mut from = match start {
            Start::Edge => None,
            Start::At(k) => {
                if k.len() > MAX_KEY {
                    return Err(Error::new(
                        ErrorKind::KeyTooLong,
                        "scan start key exceeds the store's key limit",
                    ));
                }
                Some(k.to_vec())
            }
        };
        let mut inclusive = true;
        let mut limit = FIRST_PAGE;
        loop {
            // The rows are fetched before any is visited, so the visitor may read too.
            let rows = self.page(table, from.as_deref(), inclusive, backward, limit)?;
            for row in &rows {
                if !visit(column(row, 0)?, column(row, 1)?)? {
                    return Ok(());
                }
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == limit => {
                    from = Some(column(last, 0)?.to_vec());
                    inclusive = false;
                    limit = (limit * 4).min(MAX_PAGE);
                }
                _ => return Ok(()),
            }
        }
    }
}

impl ReadTxn for PgRead<'_> {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<&[u8]>> {
        Ok(self
            .fetch(table, key)?
            .map(|v| self.arena.alloc(v).as_slice()))
    }
    fn scan(
        &self,
        table: Table,
        start: Start<'_>,
        backward: bool,
        visit: &mut Visitor<'_>,
    ) -> Result<()> {
        self.scan_db(table, start, backward, visit)
    }
    fn max_key_size(&self) -> usize {
        MAX_KEY
    }
    fn counter(&self, table: Table, key: &[u8]) -> Result<u64> {
        let (base, sum) = self.fetch_counter(table, key)?;
        total(base.as_deref(), sum, 0, key)
    }
}

fn total(base: Option<&[u8]>, sum: i64, pending: i64, key: &[u8]) -> Result<u64> {
    let base = match base {
        Some(v) => crate::codec::be_u64(v)? as i128,
        None => 0,
    };
    u64::try_from(base + sum as i128 + pending as i128).map_err(|_| {
        Error::corrupt(format!(
            "counter {} is below zero",
            String::from_utf8_lossy(key)
        ))
    })
}

/// One buffered write: the key and its new value (None: deleted).
type Buffered<'a> = (&'a Vec<u8>, &'a Option<Vec<u8>>);

/// A write transaction: reads go to the server (seeing this transaction's own buffered
/// writes first); writes are buffered and sent at commit in one statement.
pub struct PgWrite<'c> {
    read: PgRead<'c>,
    /// Per table: key -> new value, or None for a delete.
    overlay: Vec<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
    deltas: BTreeMap<Vec<u8>, i64>,
}

impl<'c> PgWrite<'c> {
    pub(crate) fn new(conn: &'c mut Conn, secrets: &'c [String], display: &'c Path) -> Self {
        PgWrite {
            read: PgRead::new(conn, secrets, display),
            overlay: vec![BTreeMap::new(); Table::ALL.len()],
            deltas: BTreeMap::new(),
        }
    }

    pub(crate) fn broken(&self) -> bool {
        self.read.broken()
    }

    pub(crate) fn retry(&self) -> bool {
        self.read.retry()
    }

    /// Sends the buffered writes and commits.
    pub(crate) fn commit(&mut self) -> Result<()> {
        let (mut dt, mut dk, mut pt, mut pk, mut pv) = (vec![], vec![], vec![], vec![], vec![]);
        for (t, map) in self.overlay.iter().enumerate() {
            for (k, v) in map {
                match v {
                    Some(v) => {
                        pt.push(t as i16);
                        pk.push(k.as_slice());
                        pv.push(v.as_slice());
                    }
                    None => {
                        dt.push(t as i16);
                        dk.push(k.as_slice());
                    }
                }
            }
        }
        let (ck, cv): (Vec<&[u8]>, Vec<i64>) = self
            .deltas
            .iter()
            .filter(|(_, d)| **d != 0)
            .map(|(k, d)| (k.as_slice(), *d))
            .unzip();
        let mut conn = self.read.conn.borrow_mut();
        let conn = &mut **conn;
        if !(pk.is_empty() && dk.is_empty() && ck.is_empty()) {
            let sent = conn
                .client
                .execute(&conn.stmts.commit, &[&dt, &dk, &pt, &pk, &pv, &ck, &cv]);
            if let Err(e) = sent {
                return Err(self.read.fail(e, "writing"));
            }
        }
        conn.client
            .batch_execute("COMMIT")
            .map_err(|e| self.read.fail(e, "committing"))
    }
}

impl ReadTxn for PgWrite<'_> {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<&[u8]>> {
        match self.overlay[table as usize].get(key) {
            Some(v) => Ok(v.as_deref()),
            None => self.read.get(table, key),
        }
    }

    fn scan(
        &self,
        table: Table,
        start: Start<'_>,
        backward: bool,
        visit: &mut Visitor<'_>,
    ) -> Result<()> {
        let buffered = &self.overlay[table as usize];
        if buffered.is_empty() {
            return self.read.scan_db(table, start, backward, visit);
        }
        let range: (Bound<&[u8]>, Bound<&[u8]>) = match (start, backward) {
            (Start::Edge, _) => (Bound::Unbounded, Bound::Unbounded),
            (Start::At(k), false) => (Bound::Included(k), Bound::Unbounded),
            (Start::At(k), true) => (Bound::Unbounded, Bound::Included(k)),
        };
        let mut mine: Box<dyn Iterator<Item = Buffered<'_>>> = if backward {
            Box::new(buffered.range::<[u8], _>(range).rev())
        } else {
            Box::new(buffered.range::<[u8], _>(range))
        };
        let mut next = mine.next();
        // Whether `a` comes before `b` in the scan's direction.
        let before = |a: &[u8], b: &[u8]| if backward { a > b } else { a < b };
        let mut stopped = false;
        self.read.scan_db(table, start, backward, &mut |k, v| {
            while let Some((bk, bv)) = next {
                if before(bk, k) {
                    next = mine.next();
                    if let Some(bv) = bv {
                        if !visit(bk, bv)? {
                            stopped = true;
                            return Ok(false);
                        }
                    }
                    continue;
                }
                if bk.as_slice() == k {
                    // Replaced or deleted by this transaction.
                    next = mine.next();
                    let go = match bv {
                        Some(bv) => visit(bk, bv)?,
                        None => true,
                    };
                    stopped = !go;
                    return Ok(go);
                }
                break;
            }
            let go = visit(k, v)?;
            stopped = !go;
            Ok(go)
        })?;
        while let (false, Some((bk, bv))) = (stopped, next) {
            if let Some(bv) = bv {
                if !visit(bk, bv)? {
                    break;
                }
            }
            next = mine.next();
        }
        Ok(())
    }

    fn max_key_size(&self) -> usize {
        MAX_KEY
    }

    fn counter(&self, table: Table, key: &[u8]) -> Result<u64> {
        let (db_base, sum) = self.read.fetch_counter(table, key)?;
        let base = match self.overlay[table as usize].get(key) {
            Some(v) => v.clone(),
            None => db_base,
        };
        let pending = self.deltas.get(key).copied().unwrap_or(0);
        total(base.as_deref(), sum, pending, key)
    }
}

impl WriteTxn for PgWrite<'_> {
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<()> {
        check_key(key)?;
        self.overlay[table as usize].insert(key.to_vec(), Some(value.to_vec()));
        Ok(())
    }

    fn put_last(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<()> {
        self.put(table, key, value)
    }

    fn del(&mut self, table: Table, key: &[u8]) -> Result<bool> {
        check_key(key)?;
        let existed = match self.overlay[table as usize].get(key) {
            Some(v) => v.is_some(),
            None => self.read.fetch(table, key)?.is_some(),
        };
        self.overlay[table as usize].insert(key.to_vec(), None);
        Ok(existed)
    }

    /// Buffers the delta: committed as a row of its own, so concurrent writers never update
    /// the same counter row.
    fn add_counter(&mut self, _table: Table, key: &[u8], delta: i64) -> Result<()> {
        *self.deltas.entry(key.to_vec()).or_insert(0) += delta;
        Ok(())
    }
}
