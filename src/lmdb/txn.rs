//! Read and write transactions, implementing the storage traits over raw `mdb_*` calls.

use super::checksum::{self, CRC_LEN};
use super::pool::ReadPool;
use super::{check, ffi};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::{ReadTxn, Start, Table, Visitor, WriteTxn};
use std::marker::PhantomData;
use std::ptr;

/// What a transaction needs from its environment, copied so the txn borrows nothing.
#[derive(Clone, Copy)]
pub(crate) struct TxnCtx {
    pub dbis: [ffi::MDB_dbi; Table::ALL.len()],
    pub max_key: usize,
    pub max_value: usize,
    /// LMDB's page size: what [`WriteTxn::put_run`] lifts aside is one page's worth.
    pub page_size: usize,
    /// Values carry a checksum (schema 2): verified on every read, added on every write.
    /// Off only for schema-1 stores and while the upgrade reads their old values.
    pub checksums: bool,
}

/// What LMDB adds to an entry's key and value in a leaf page (node header and slot).
const NODE_OVERHEAD: usize = 10;

/// Values above a page's size divided by this are not lifted (see [`RwTxn::lift_gap`]).
const LARGE_VALUE_DIVISOR: usize = 4;

/// Entries taken out of a page, key and value as stored.
type Lifted = Vec<(Vec<u8>, Vec<u8>)>;

/// Reads the raw (unverified) value of `key` in `dbi`, for the schema probe.
pub(crate) fn raw_get<'t>(
    txn: *mut ffi::MDB_txn,
    dbi: ffi::MDB_dbi,
    key: &[u8],
) -> Result<Option<&'t [u8]>> {
    let mut k = val(key);
    let mut v = empty_val();
    // SAFETY: txn is live, dbi was opened in this environment, k/v are valid MDB_vals.
    let rc = unsafe { ffi::mdb_get(txn, dbi, &mut k, &mut v) };
    if rc == ffi::MDB_NOTFOUND {
        return Ok(None);
    }
    check(rc, "mdb_get")?;
    // SAFETY: v was filled by mdb_get in this live transaction.
    Ok(Some(unsafe { slice(&v) }))
}

fn val(bytes: &[u8]) -> ffi::MDB_val {
    ffi::MDB_val {
        mv_size: bytes.len(),
        mv_data: bytes.as_ptr() as *mut libc::c_void,
    }
}

fn empty_val() -> ffi::MDB_val {
    ffi::MDB_val {
        mv_size: 0,
        mv_data: ptr::null_mut(),
    }
}

/// Views an LMDB value as a slice bound to the transaction's lifetime.
///
/// # Safety
/// `v` must come from LMDB within the transaction that outlives `'a` (no write in between).
unsafe fn slice<'a>(v: &ffi::MDB_val) -> &'a [u8] {
    if v.mv_size == 0 {
        &[]
    } else {
        // SAFETY: LMDB guarantees mv_data points at mv_size readable bytes in the map.
        std::slice::from_raw_parts(v.mv_data as *const u8, v.mv_size)
    }
}

fn check_key(ctx: &TxnCtx, key: &[u8]) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid("empty key"));
    }
    if key.len() > ctx.max_key {
        return Err(Error::new(
            ErrorKind::KeyTooLong,
            format!(
                "key of {} bytes exceeds LMDB's limit of {} bytes",
                key.len(),
                ctx.max_key
            ),
        ));
    }
    Ok(())
}

/// Shared implementation of the read operations for both transaction kinds.
struct Raw<'a> {
    txn: *mut ffi::MDB_txn,
    ctx: &'a TxnCtx,
}

impl Raw<'_> {
    fn get<'t>(&self, table: Table, key: &[u8]) -> Result<Option<&'t [u8]>> {
        check_key(self.ctx, key)?;
        match raw_get(self.txn, self.ctx.dbis[table as usize], key)? {
            Some(stored) => self.open(table, key, stored).map(Some),
            None if self.ctx.checksums => self.check_neighbours(table, key).map(|()| None),
            None => Ok(None),
        }
    }

    /// A key that is absent may be a key whose bytes were damaged: the search for it ends next
    /// to where it sits in its page, so the entries on either side of that spot are checked,
    /// and "not found" is only said when both are sound.
    fn check_neighbours(&self, table: Table, key: &[u8]) -> Result<()> {
        let guard = CursorGuard::open(self.txn, self.ctx, table)?;
        let mut k = val(key);
        let mut v = empty_val();
        // SAFETY: the cursor is open on the live transaction; k/v are valid MDB_vals.
        let mut rc = unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_SET_RANGE) };
        if rc == ffi::MDB_NOTFOUND {
            // SAFETY: as above.
            rc = unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_LAST) };
        } else if rc == 0 {
            // SAFETY: k and v were just filled by LMDB for this live transaction.
            let (found, stored) = unsafe { (slice(&k), slice(&v)) };
            self.open(table, found, stored)?;
            // SAFETY: as above.
            rc = unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_PREV) };
        }
        if rc == ffi::MDB_NOTFOUND {
            return Ok(());
        }
        check(rc, "mdb_cursor_get")?;
        // SAFETY: k and v were just filled by LMDB for this live transaction.
        let (found, stored) = unsafe { (slice(&k), slice(&v)) };
        self.open(table, found, stored).map(|_| ())
    }

    fn open<'t>(&self, table: Table, key: &[u8], stored: &'t [u8]) -> Result<&'t [u8]> {
        if self.ctx.checksums {
            checksum::open(table, key, stored)
        } else {
            Ok(stored)
        }
    }

    fn scan(
        &self,
        table: Table,
        start: Start<'_>,
        backward: bool,
        visit: &mut Visitor<'_>,
    ) -> Result<()> {
        let guard = CursorGuard::open(self.txn, self.ctx, table)?;
        let mut k = empty_val();
        let mut v = empty_val();
        let step = if backward {
            ffi::MDB_PREV
        } else {
            ffi::MDB_NEXT
        };
        let mut rc = match start {
            Start::Edge => {
                let op = if backward {
                    ffi::MDB_LAST
                } else {
                    ffi::MDB_FIRST
                };
                // SAFETY: the cursor is open on the live transaction; k and v are MDB_vals LMDB fills in.
                unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, op) }
            }
            Start::At(key) => {
                if key.len() > self.ctx.max_key {
                    return Err(Error::new(
                        ErrorKind::KeyTooLong,
                        "scan start key exceeds LMDB's key limit",
                    ));
                }
                k = val(key);
                // SAFETY: the cursor is open on the live transaction; k and v are MDB_vals LMDB fills in.
                let rc =
                    unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_SET_RANGE) };
                // SAFETY: on success k was just filled by mdb_cursor_get in this live transaction.
                let past = rc == 0 && unsafe { slice(&k) } != key;
                if !backward {
                    rc
                } else if rc == ffi::MDB_NOTFOUND {
                    // SAFETY: the cursor is open on the live transaction; k and v are MDB_vals LMDB fills in.
                    unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_LAST) }
                } else if past {
                    // SAFETY: the cursor is open on the live transaction; k and v are MDB_vals LMDB fills in.
                    unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_PREV) }
                } else {
                    rc
                }
            }
        };
        loop {
            if rc == ffi::MDB_NOTFOUND {
                return Ok(());
            }
            check(rc, "mdb_cursor_get")?;
            // SAFETY: k and v were just filled by LMDB for this live transaction.
            let (key, stored) = unsafe { (slice(&k), slice(&v)) };
            if !visit(key, self.open(table, key, stored)?)? {
                return Ok(());
            }
            // SAFETY: the cursor is open on the live transaction; k and v are MDB_vals LMDB fills in.
            rc = unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, step) };
        }
    }
}

struct CursorGuard(*mut ffi::MDB_cursor);

impl CursorGuard {
    /// A cursor on `table` in the live transaction `txn`, closed when dropped.
    fn open(txn: *mut ffi::MDB_txn, ctx: &TxnCtx, table: Table) -> Result<CursorGuard> {
        let mut cursor: *mut ffi::MDB_cursor = ptr::null_mut();
        // SAFETY: txn is live and the dbi belongs to its environment; cursor is an out-pointer.
        let rc = unsafe { ffi::mdb_cursor_open(txn, ctx.dbis[table as usize], &mut cursor) };
        check(rc, "mdb_cursor_open")?;
        Ok(CursorGuard(cursor))
    }
}
impl Drop for CursorGuard {
    fn drop(&mut self) {
        // SAFETY: the cursor was opened by mdb_cursor_open and is closed exactly once, before its txn ends.
        unsafe { ffi::mdb_cursor_close(self.0) }
    }
}

/// A read-only snapshot. Created by [`super::Env::read`]; dropping it (also when a reader
/// panics) hands the transaction back to the pool, so no reader slot or snapshot leaks.
pub struct RoTxn<'e> {
    pub(crate) raw: *mut ffi::MDB_txn,
    pub(crate) ctx: TxnCtx,
    pub(crate) pool: &'e ReadPool,
}

impl Drop for RoTxn<'_> {
    fn drop(&mut self) {
        // SAFETY: raw came from this pool's begin and is finished once, here.
        unsafe { self.pool.finish(self.raw) }
    }
}

impl ReadTxn for RoTxn<'_> {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<&[u8]>> {
        Raw {
            txn: self.raw,
            ctx: &self.ctx,
        }
        .get(table, key)
    }
    fn scan(
        &self,
        table: Table,
        start: Start<'_>,
        backward: bool,
        visit: &mut Visitor<'_>,
    ) -> Result<()> {
        Raw {
            txn: self.raw,
            ctx: &self.ctx,
        }
        .scan(table, start, backward, visit)
    }
    fn max_key_size(&self) -> usize {
        self.ctx.max_key
    }
}

/// A write transaction. Created by [`super::Env::write`]; committed by
/// [`RwTxn::commit`], aborted when dropped otherwise (as heed does), so an error or a panic
/// inside a write never leaves LMDB's write lock held.
pub struct RwTxn<'e> {
    pub(crate) raw: *mut ffi::MDB_txn,
    pub(crate) ctx: TxnCtx,
    pub(crate) _env: PhantomData<&'e ()>,
}

impl RwTxn<'_> {
    /// Commits the transaction; it is ended whatever the result.
    pub(crate) fn commit(mut self) -> Result<()> {
        let raw = std::mem::replace(&mut self.raw, ptr::null_mut());
        // SAFETY: raw is the live write txn this value owned; commit ends it, and Drop sees
        // NULL so it is never ended twice.
        check(unsafe { ffi::mdb_txn_commit(raw) }, "mdb_txn_commit")
    }
}

impl Drop for RwTxn<'_> {
    fn drop(&mut self) {
        if !self.raw.is_null() {
            // SAFETY: raw is a live write txn that was not committed; aborted once.
            unsafe { ffi::mdb_txn_abort(self.raw) }
        }
    }
}

impl ReadTxn for RwTxn<'_> {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<&[u8]>> {
        Raw {
            txn: self.raw,
            ctx: &self.ctx,
        }
        .get(table, key)
    }
    fn scan(
        &self,
        table: Table,
        start: Start<'_>,
        backward: bool,
        visit: &mut Visitor<'_>,
    ) -> Result<()> {
        Raw {
            txn: self.raw,
            ctx: &self.ctx,
        }
        .scan(table, start, backward, visit)
    }
    fn max_key_size(&self) -> usize {
        self.ctx.max_key
    }
}

impl RwTxn<'_> {
    fn put_flags(
        &mut self,
        table: Table,
        key: &[u8],
        value: &[u8],
        flags: libc::c_uint,
    ) -> Result<libc::c_int> {
        check_key(&self.ctx, key)?;
        let stored_len = value.len() + if self.ctx.checksums { CRC_LEN } else { 0 };
        if stored_len > self.ctx.max_value {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!(
                    "a value of {} bytes can never be stored: the largest value a map capped at {} bytes (max_map_size) accepts is {} bytes",
                    value.len(),
                    self.ctx.max_value * 2,
                    self.ctx.max_value
                ),
            ));
        }
        if !self.ctx.checksums {
            return Ok(self.put_as_stored(table, key, value, flags));
        }
        let mut k = val(key);
        // MDB_RESERVE: LMDB makes room in the page and we write value and checksum there, one
        // copy instead of building the sealed value first.
        let mut v = ffi::MDB_val {
            mv_size: stored_len,
            mv_data: ptr::null_mut(),
        };
        // SAFETY: live write txn; k points at caller memory; LMDB reserves stored_len bytes.
        let rc = unsafe {
            ffi::mdb_put(
                self.raw,
                self.ctx.dbis[table as usize],
                &mut k,
                &mut v,
                flags | ffi::MDB_RESERVE,
            )
        };
        if rc == 0 {
            // SAFETY: on success v points at stored_len writable bytes reserved in a dirty page
            // of this transaction, valid until the next write; we fill all of them now.
            let out = unsafe { std::slice::from_raw_parts_mut(v.mv_data as *mut u8, stored_len) };
            checksum::seal_into(key, value, out);
        }
        Ok(rc)
    }

    /// Puts `value` exactly as given (no checksum added); returns LMDB's code.
    fn put_as_stored(
        &mut self,
        table: Table,
        key: &[u8],
        value: &[u8],
        flags: libc::c_uint,
    ) -> libc::c_int {
        let mut k = val(key);
        let mut v = val(value);
        // SAFETY: live write txn; k/v point at caller memory that LMDB copies before returning.
        unsafe {
            ffi::mdb_put(
                self.raw,
                self.ctx.dbis[table as usize],
                &mut k,
                &mut v,
                flags,
            )
        }
    }

    /// Finds the gap a run starting at `first` goes into and takes out the entries that follow
    /// it on its leaf page. Returns None when `first` is past every stored key; otherwise the
    /// stored key the gap ends at (`first` itself when it is stored: then nothing is lifted)
    /// and the entries taken out, as stored (checksum included, unverified: a damaged
    /// neighbour goes back exactly as it was).
    ///
    /// Lifting more would be worse than lifting none: a page emptied below a quarter is
    /// rebalanced with nodes from its left neighbour, the gap's own page, which puts stored
    /// entries right after the gap again. LMDB hands out keys in place, inside their page, and
    /// a page this transaction has not changed sits in the map at an address aligned to the
    /// page size, so two keys share a page when their addresses agree above the page-size
    /// bits; on a page already changed (a heap copy) the test can err, which costs fill, never
    /// correctness. Stops at a large value (on overflow pages, it would be copied for nothing)
    /// and after a page's worth of bytes.
    fn lift_gap(&mut self, table: Table, first: &[u8]) -> Result<Option<(Vec<u8>, Lifted)>> {
        let page = self.ctx.page_size;
        let page_of = |v: &ffi::MDB_val| v.mv_data as usize / page;
        let guard = CursorGuard::open(self.raw, &self.ctx, table)?;
        let mut k = val(first);
        let mut v = empty_val();
        let mut lifted = Vec::new();
        // SAFETY: here and in every mdb_cursor_get below, the cursor is open on the live write
        // transaction and k/v are MDB_vals LMDB fills in; nothing is written until it is closed.
        let rc = unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_SET_RANGE) };
        if rc == ffi::MDB_NOTFOUND {
            return Ok(None);
        }
        check(rc, "mdb_cursor_get")?;
        // SAFETY: k was just filled by LMDB for this live transaction.
        let next = unsafe { slice(&k) }.to_vec();
        if next == first {
            return Ok(Some((next, lifted)));
        }
        let gap_page = page_of(&k);
        // SAFETY: as above.
        let rc = unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_PREV) };
        if rc == ffi::MDB_NOTFOUND {
            // The gap is the table's start: the run goes in front of the first page whatever
            // is lifted (emptied, that page is dropped and the next one is first).
            return Ok(Some((next, lifted)));
        }
        check(rc, "mdb_cursor_get")?;
        if page_of(&k) != gap_page {
            // The gap is at a page boundary: nothing follows it on its page.
            return Ok(Some((next, lifted)));
        }
        // SAFETY: as above; back on `next`.
        let mut rc = unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_NEXT) };
        let mut bytes = 0;
        while rc == 0
            && page_of(&k) == gap_page
            && bytes < page
            && v.mv_size <= page / LARGE_VALUE_DIVISOR
        {
            // SAFETY: k and v were just filled by LMDB for this live transaction.
            let (key, stored) = unsafe { (slice(&k), slice(&v)) };
            bytes += key.len() + stored.len() + NODE_OVERHEAD;
            lifted.push((key.to_vec(), stored.to_vec()));
            // SAFETY: as above.
            rc = unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_NEXT) };
        }
        if rc != ffi::MDB_NOTFOUND {
            check(rc, "mdb_cursor_get")?;
        }
        drop(guard);
        for (key, _) in &lifted {
            self.del(table, key)?;
        }
        Ok(Some((next, lifted)))
    }

    /// Puts back what [`RwTxn::lift_gap`] took out, byte for byte.
    fn put_back(&mut self, table: Table, lifted: &Lifted) -> Result<()> {
        for (key, stored) in lifted {
            let rc = self.put_as_stored(table, key, stored, ffi::MDB_NOOVERWRITE);
            check(rc, "mdb_put(put back)")?;
        }
        Ok(())
    }

    /// Turns checksums off (to read a schema-1 store's values during the upgrade) or on.
    pub(crate) fn set_checksums(&mut self, on: bool) {
        self.ctx.checksums = on;
    }
}

impl WriteTxn for RwTxn<'_> {
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<()> {
        let rc = self.put_flags(table, key, value, 0)?;
        check(rc, "mdb_put")
    }

    fn put_last(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<()> {
        // MDB_APPEND refuses (KEYEXIST) a key that is not past the last one; then search.
        match self.put_flags(table, key, value, ffi::MDB_APPEND)? {
            ffi::MDB_KEYEXIST => self.put(table, key, value),
            rc => check(rc, "mdb_put(append)"),
        }
    }

    fn put_run(&mut self, table: Table, run: &[(&[u8], &[u8])]) -> Result<()> {
        let mut rest = run;
        while let Some((first, _)) = rest.first() {
            // A key put in the middle of a full page splits it in half; with what follows
            // the gap on its page lifted out, each new key is the page's last, and LMDB moves
            // on to a fresh page instead. Measured worth it down to single messages: the
            // lifting costs less than the pages it saves take to write.
            let Some((next, lifted)) = self.lift_gap(table, first)? else {
                // Past every stored key: MDB_APPEND leaves each page full.
                for (key, value) in rest {
                    self.put_last(table, key, value)?;
                }
                return Ok(());
            };
            // The entries before `next` all go into the gap in front of it (just the first
            // when it replaces `next`).
            let gap = rest.partition_point(|(k, _)| *k < next.as_slice());
            let (group, tail) = rest.split_at(gap.max(1));
            for (key, value) in group {
                self.put(table, key, value)?;
            }
            self.put_back(table, &lifted)?;
            rest = tail;
        }
        Ok(())
    }

    fn del(&mut self, table: Table, key: &[u8]) -> Result<bool> {
        check_key(&self.ctx, key)?;
        let mut k = val(key);
        // SAFETY: live write txn; a NULL data pointer deletes the key's only value.
        let rc = unsafe {
            ffi::mdb_del(
                self.raw,
                self.ctx.dbis[table as usize],
                &mut k,
                ptr::null_mut(),
            )
        };
        if rc == ffi::MDB_NOTFOUND {
            return Ok(false);
        }
        check(rc, "mdb_del")?;
        Ok(true)
    }
}
