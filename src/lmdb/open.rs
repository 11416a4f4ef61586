//! Opening the tables of an environment, after deciding what the file holds: nothing yet (a
//! new store), an lmstore, or something else, which is refused before anything is written.

use super::env::{Env, Init};
use super::txn::RwTxn;
use super::{check, ffi};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::Table;
use std::ffi::CString;
use std::marker::PhantomData;
use std::ptr;

/// What the main database of an environment says about it.
enum Shape {
    /// No named database at all: a file LMDB has just created.
    Empty,
    /// The `meta` table and nothing but lmstore tables.
    Store,
}

impl Env {
    /// Starts a transaction while the environment is being opened, adopting a map another
    /// process grew meanwhile (no transaction of ours exists yet, so that is allowed here).
    fn begin_at_open(&self, flags: libc::c_uint) -> Result<*mut ffi::MDB_txn> {
        loop {
            let mut txn: *mut ffi::MDB_txn = ptr::null_mut();
            // SAFETY: the env is open and this process has no other transaction on it.
            let rc = unsafe { ffi::mdb_txn_begin(self.raw, ptr::null_mut(), flags, &mut txn) };
            if rc != ffi::MDB_MAP_RESIZED {
                check(rc, "mdb_txn_begin")?;
                return Ok(txn);
            }
            // SAFETY: no transaction of this process is open on the env; 0 adopts the size
            // recorded in the file.
            let rc = unsafe { ffi::mdb_env_set_mapsize(self.raw, 0) };
            check(rc, "mdb_env_set_mapsize")?;
        }
    }

    /// Reads the names in the main database, where LMDB keeps one entry per named table, in
    /// a read transaction: nothing is written before the file is known to be ours.
    fn shape(&self) -> Result<Shape> {
        let txn = self.begin_at_open(ffi::MDB_RDONLY)?;
        let names = main_names(txn);
        // SAFETY: txn is a live read txn of ours, ended once; it opened no table handle.
        unsafe { ffi::mdb_txn_abort(txn) };
        let names = names?;
        let path = self.path.display();
        if names.is_empty() {
            return Ok(Shape::Empty);
        }
        if let Some(other) = names.iter().find(|n| {
            !Table::ALL
                .iter()
                .any(|t| t.name().as_bytes() == n.as_slice())
        }) {
            return Err(Error::new(
                ErrorKind::NotAStore,
                format!(
                    "{path} is an LMDB environment but not an lmstore: it holds \"{}\", which is not an lmstore table; it was left untouched",
                    String::from_utf8_lossy(other).escape_debug()
                ),
            ));
        }
        if !names.iter().any(|n| n == Table::Meta.name().as_bytes()) {
            return Err(Error::new(
                ErrorKind::NotAStore,
                format!(
                    "{path} is an LMDB environment without lmstore's meta table, so not an lmstore; it was left untouched"
                ),
            ));
        }
        Ok(Shape::Store)
    }

    pub(super) fn open_tables(&mut self, init: &Init) -> Result<()> {
        let shape = self.shape()?;
        let read_only = self.opts.read_only;
        if read_only && matches!(shape, Shape::Empty) {
            return Err(Error::not_found(format!(
                "{} holds no lmstore yet (opened read-only, so none was created)",
                self.path.display()
            )));
        }
        // A writable env creates missing tables; a read-only one opens those that exist.
        let txn = self.begin_at_open(if read_only { ffi::MDB_RDONLY } else { 0 })?;
        let mut txn = RwTxn {
            raw: txn,
            ctx: self.ctx,
            _env: PhantomData,
        };
        for table in Table::ALL {
            let name = CString::new(table.name())
                .map_err(|_| Error::new(ErrorKind::Internal, "table name"))?;
            let mut dbi: ffi::MDB_dbi = 0;
            let flags = if read_only { 0 } else { ffi::MDB_CREATE };
            // SAFETY: txn is live; name is NUL-terminated. On failure txn's Drop aborts it.
            let rc = unsafe { ffi::mdb_dbi_open(txn.raw, name.as_ptr(), flags, &mut dbi) };
            check(rc, &format!("opening table {}", table.name())).map_err(|e| {
                if e.kind == ErrorKind::NotFound {
                    Error::not_found(format!(
                        "{} is not a complete lmstore (table {} is missing)",
                        self.path.display(),
                        table.name()
                    ))
                } else {
                    e
                }
            })?;
            txn.ctx.dbis[table as usize] = dbi;
        }
        if matches!(shape, Shape::Empty) {
            init(&mut txn)?;
        }
        let dbis = txn.ctx.dbis;
        // Committing (a read-only transaction too) keeps the table handles open.
        txn.commit()?;
        self.ctx.dbis = dbis;
        Ok(())
    }
}

/// The keys of the main database (table names, in a store), at most a few dozen.
fn main_names(txn: *mut ffi::MDB_txn) -> Result<Vec<Vec<u8>>> {
    let mut main: ffi::MDB_dbi = 0;
    // SAFETY: txn is live; a NULL name opens the main database, which is always there.
    let rc = unsafe { ffi::mdb_dbi_open(txn, ptr::null(), 0, &mut main) };
    check(rc, "opening the main database")?;
    let mut cursor: *mut ffi::MDB_cursor = ptr::null_mut();
    // SAFETY: txn is live and main is its main database; cursor is an out-pointer.
    let rc = unsafe { ffi::mdb_cursor_open(txn, main, &mut cursor) };
    check(rc, "mdb_cursor_open")?;
    let mut names = Vec::new();
    let mut op = ffi::MDB_FIRST;
    let rc = loop {
        let mut k = ffi::MDB_val {
            mv_size: 0,
            mv_data: ptr::null_mut(),
        };
        // lmdb-sys's MDB_val is not Copy, so each is built on its own.
        let mut v = ffi::MDB_val {
            mv_size: 0,
            mv_data: ptr::null_mut(),
        };
        // SAFETY: cursor is open on the live txn; k and v are MDB_vals LMDB fills in.
        let rc = unsafe { ffi::mdb_cursor_get(cursor, &mut k, &mut v, op) };
        if rc != 0 || names.len() > 64 {
            break rc;
        }
        // SAFETY: LMDB filled k with mv_size readable bytes valid while txn lives.
        names.push(
            unsafe { std::slice::from_raw_parts(k.mv_data as *const u8, k.mv_size) }.to_vec(),
        );
        op = ffi::MDB_NEXT;
    };
    // SAFETY: the cursor is open and closed once, before its transaction ends.
    unsafe { ffi::mdb_cursor_close(cursor) };
    match rc {
        0 | ffi::MDB_NOTFOUND => Ok(names),
        rc => check(rc, "reading the main database").map(|()| names),
    }
}
