//! The read-transaction pool: reset read transactions kept for `mdb_txn_renew`, so a read
//! costs no lock and no reader-slot search.

use super::{check, ffi};
use crate::error::Result;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The most reset read transactions kept for reuse (each holds a reader slot).
const SLOTS: usize = 16;

/// Taking a transaction is a swap out of a slot and parking one is a compare-and-swap into an
/// empty slot. With MDB_NOTLS a reset transaction is not tied to the thread that made it.
pub(crate) struct ReadPool {
    slots: [AtomicPtr<ffi::MDB_txn>; SLOTS],
    cap: usize,
}

impl ReadPool {
    /// A pool that parks at most one transaction per eight reader slots, so pooled
    /// transactions never starve other processes of slots.
    pub(crate) fn new(max_readers: u32) -> ReadPool {
        ReadPool {
            slots: Default::default(),
            cap: (max_readers as usize / 8).clamp(1, SLOTS),
        }
    }

    /// Starts a read transaction on `env`, renewing a pooled one when there is one.
    ///
    /// # Safety
    /// `env` must be the open environment every pooled transaction belongs to, and the caller
    /// must hold the environment's resize lock (shared) until it hands the transaction back
    /// through [`ReadPool::finish`].
    pub(crate) unsafe fn begin(&self, env: *mut ffi::MDB_env) -> Result<*mut ffi::MDB_txn> {
        let pooled = self.slots[..self.cap]
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
            // SAFETY: a txn whose renew failed is still ours to abort, once.
            unsafe { ffi::mdb_txn_abort(raw) };
            check(rc, "mdb_txn_renew")?;
        }
        let mut raw: *mut ffi::MDB_txn = ptr::null_mut();
        check(
            // SAFETY: the caller promises env is open; raw is an out-pointer.
            unsafe { ffi::mdb_txn_begin(env, ptr::null_mut(), ffi::MDB_RDONLY, &mut raw) },
            "mdb_txn_begin(read)",
        )?;
        Ok(raw)
    }

    /// Ends a read transaction: resets it and parks it for reuse, or aborts it when the pool
    /// is full.
    ///
    /// # Safety
    /// `raw` must be a live read transaction from [`ReadPool::begin`] on this pool, not used
    /// again by the caller.
    pub(crate) unsafe fn finish(&self, raw: *mut ffi::MDB_txn) {
        // SAFETY: raw is a live read txn; reset releases its snapshot but keeps the slot.
        unsafe { ffi::mdb_txn_reset(raw) };
        let parked = self.slots[..self.cap].iter().any(|slot| {
            slot.compare_exchange(ptr::null_mut(), raw, Ordering::Release, Ordering::Relaxed)
                .is_ok()
        });
        if !parked {
            // SAFETY: raw is a reset read txn nobody else holds, ended once.
            unsafe { ffi::mdb_txn_abort(raw) };
        }
    }

    /// Aborts every pooled transaction. Called with the resize lock held exclusively (or from
    /// the environment's Drop), so no reader is between taking and parking one.
    pub(crate) fn drain(&self) {
        for slot in &self.slots {
            let raw = slot.swap(ptr::null_mut(), Ordering::Acquire);
            if !raw.is_null() {
                // SAFETY: pooled txns are reset read txns owned by the pool, each aborted once
                // because the swap took it out.
                unsafe { ffi::mdb_txn_abort(raw) };
            }
        }
    }
}
