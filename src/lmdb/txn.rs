//! Read and write transactions, implementing the storage traits over raw `mdb_*` calls.

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
        let mut k = val(key);
        let mut v = empty_val();
        // SAFETY: txn is live, dbi was opened in this environment, k/v are valid MDB_vals.
        let rc = unsafe { ffi::mdb_get(self.txn, self.ctx.dbis[table as usize], &mut k, &mut v) };
        if rc == ffi::MDB_NOTFOUND {
            return Ok(None);
        }
        check(rc, "mdb_get")?;
        // SAFETY: v was filled by mdb_get in this live transaction.
        Ok(Some(unsafe { slice(&v) }))
    }

    fn scan(
        &self,
        table: Table,
        start: Start<'_>,
        backward: bool,
        visit: &mut Visitor<'_>,
    ) -> Result<()> {
        let mut cursor: *mut ffi::MDB_cursor = ptr::null_mut();
        // SAFETY: txn is live and dbi belongs to its environment; cursor is an out-pointer.
        check(
            unsafe { ffi::mdb_cursor_open(self.txn, self.ctx.dbis[table as usize], &mut cursor) },
            "mdb_cursor_open",
        )?;
        let guard = CursorGuard(cursor);
        let mut k = empty_val();
        let mut v = empty_val();
        let step = if backward {
            ffi::MDB_PREV
        } else {
            ffi::MDB_NEXT
        };
        // SAFETY (all mdb_cursor_get calls below): the cursor is open on the live transaction
        // and k/v are valid MDB_vals that LMDB fills in.
        let mut rc = match start {
            Start::Edge => {
                let op = if backward {
                    ffi::MDB_LAST
                } else {
                    ffi::MDB_FIRST
                };
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
                let rc =
                    unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_SET_RANGE) };
                if !backward {
                    rc
                } else if rc == ffi::MDB_NOTFOUND {
                    unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, ffi::MDB_LAST) }
                } else if rc == 0 && unsafe { slice(&k) } != key {
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
            let (key, value) = unsafe { (slice(&k), slice(&v)) };
            if !visit(key, value)? {
                return Ok(());
            }
            rc = unsafe { ffi::mdb_cursor_get(guard.0, &mut k, &mut v, step) };
        }
    }
}

struct CursorGuard(*mut ffi::MDB_cursor);
impl Drop for CursorGuard {
    fn drop(&mut self) {
        // SAFETY: the cursor was opened by mdb_cursor_open and is closed exactly once, before its txn ends.
        unsafe { ffi::mdb_cursor_close(self.0) }
    }
}

/// A read-only snapshot. Created by [`super::Env::read`].
pub struct RoTxn<'e> {
    pub(crate) raw: *mut ffi::MDB_txn,
    pub(crate) ctx: TxnCtx,
    pub(crate) _env: PhantomData<&'e ()>,
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

/// A write transaction (or a nested child of one). Created by [`super::Env::write`].
pub struct RwTxn<'e> {
    pub(crate) raw: *mut ffi::MDB_txn,
    pub(crate) ctx: TxnCtx,
    pub(crate) _env: PhantomData<&'e ()>,
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
        if value.len() > self.ctx.max_value {
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
        let mut k = val(key);
        let mut v = val(value);
        // SAFETY: live write txn; k/v point at caller memory that LMDB copies before returning.
        Ok(unsafe {
            ffi::mdb_put(
                self.raw,
                self.ctx.dbis[table as usize],
                &mut k,
                &mut v,
                flags,
            )
        })
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
