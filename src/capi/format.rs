//! The stored format: schema upgrade.

use super::boundary::*;
use super::env::{lms_db, store};
use std::ffi::c_int;

/// Rewrites a store of schema 1 (lmstore before 0.2's record checksums) as schema 2 in one
/// transaction: every value gains its checksum and messages their compact form. A schema-1
/// store opens and reads as it is but refuses writes (LMS_VERSION_MISMATCH) until upgraded.
/// A store already at schema 2 is left alone. Other transactions of this process wait while
/// it runs; other processes should have the store closed. A crash during the upgrade leaves the
/// store at schema 1; run it again.
///
/// @param db             Handle from lms_open(), not read-only.
/// @param[out] out_from  Optional (NULL to ignore): the schema the store had, 1 or 2 (2: there
///                       was nothing to do). 0 after a failure.
/// @return LMS_OK; LMS_INVALID_ARGUMENT (db NULL); LMS_READ_ONLY; LMS_CORRUPT (a schema-1
///         record could not be read: nothing was changed); LMS_MAP_FULL (at max_map_size:
///         the upgrade needs room for a second copy of what it rewrites); LMS_IO.
///         Also: LMS_INTERNAL (a bug).
/// @since 0.2
#[no_mangle]
pub unsafe extern "C" fn lms_upgrade(db: *mut lms_db, out_from: *mut u32) -> c_int {
    boundary(|| {
        if !out_from.is_null() {
            // SAFETY: caller contract: a non-NULL out_from points at a writable u32.
            unsafe { *out_from = 0 };
        }
        // SAFETY: caller contract on db.
        let done = unsafe { store(db) }?.upgrade()?;
        if !out_from.is_null() {
            // SAFETY: as above.
            unsafe { *out_from = done.from_schema };
        }
        Ok(())
    })
}
