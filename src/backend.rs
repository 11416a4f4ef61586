//! Which engine a [`crate::Store`] runs on. The domain code is generic over the
//! [`crate::storage`] traits; a store hands it one of the two transaction enums below, which
//! forward every call to the engine's own transaction. One branch per storage call is all the
//! dispatch costs, and the domain code exists once for every engine.
//!
//! New `impl Store` blocks use `self.read(..)`, `self.write(..)` and `self.write_grouped(..)`
//! (in store.rs) and never name an engine.

use crate::error::Result;
use crate::lmdb::{RoTxn, RwTxn};
use crate::storage::{ReadTxn, Start, Table, Visitor, WriteTxn};

#[cfg(feature = "postgres")]
use crate::pg;

/// An open engine.
pub(crate) enum Backend {
    Lmdb(crate::lmdb::EnvHandle),
    #[cfg(feature = "postgres")]
    Pg(Box<pg::PgStore>),
}

/// A read transaction of either engine, as the domain sees it.
pub enum Read<'a, 'e> {
    Lmdb(&'a RoTxn<'e>),
    #[cfg(feature = "postgres")]
    Pg(&'a pg::PgRead<'e>),
}

/// A write transaction of either engine, as the domain sees it.
pub enum Write<'a, 'e> {
    Lmdb(&'a mut RwTxn<'e>),
    #[cfg(feature = "postgres")]
    Pg(&'a mut pg::PgWrite<'e>),
}

/// Runs `$body` with `$t` bound to the engine transaction inside `$txn`.
macro_rules! each {
    ($ty:ident, $txn:expr, $t:ident => $body:expr) => {
        match $txn {
            $ty::Lmdb($t) => $body,
            #[cfg(feature = "postgres")]
            $ty::Pg($t) => $body,
        }
    };
}

/// Both transaction kinds read alike: each call goes to the engine's own transaction.
macro_rules! read_txn {
    ($ty:ident) => {
        impl ReadTxn for $ty<'_, '_> {
            fn get(&self, table: Table, key: &[u8]) -> Result<Option<&[u8]>> {
                each!($ty, self, t => t.get(table, key))
            }
            fn scan(
                &self,
                table: Table,
                start: Start<'_>,
                backward: bool,
                visit: &mut Visitor<'_>,
            ) -> Result<()> {
                each!($ty, self, t => t.scan(table, start, backward, visit))
            }
            fn max_key_size(&self) -> usize {
                each!($ty, self, t => t.max_key_size())
            }
            fn counter(&self, table: Table, key: &[u8]) -> Result<u64> {
                each!($ty, self, t => t.counter(table, key))
            }
        }
    };
}
read_txn!(Read);
read_txn!(Write);

impl WriteTxn for Write<'_, '_> {
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<()> {
        each!(Write, self, t => t.put(table, key, value))
    }
    fn put_last(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<()> {
        each!(Write, self, t => t.put_last(table, key, value))
    }
    fn put_run(&mut self, table: Table, run: &[(&[u8], &[u8])]) -> Result<()> {
        each!(Write, self, t => t.put_run(table, run))
    }
    fn del(&mut self, table: Table, key: &[u8]) -> Result<bool> {
        each!(Write, self, t => t.del(table, key))
    }
    fn add_counter(&mut self, table: Table, key: &[u8], delta: i64) -> Result<()> {
        each!(Write, self, t => t.add_counter(table, key, delta))
    }
}
