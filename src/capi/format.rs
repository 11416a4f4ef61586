//! The stored format: schema upgrade and compression dictionaries.

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
/// @param[out] out_from  Optional (NULL to ignore): the schema the store had: 1, or 2 or 3
///                       (schema 2 with compression dictionaries), when there was nothing to
///                       do. 0 after a failure.
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

/// A compression dictionary held by a store (see lms_train_dictionary()).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct lms_dictionary_info {
    /// Its version in this store, counting up from 1; records name the version they use.
    pub version: u32,
    /// The id zstd derived from its content (written into every frame made with it).
    pub zstd_id: u32,
    /// Its size in bytes.
    pub bytes: u64,
    /// For the current dictionary, the body size (content and metadata, in bytes) from which
    /// new bodies are compressed with it; 0 for the earlier ones.
    pub min_body: u32,
}

fn dictionary_info(d: &crate::meta::DictionaryInfo) -> lms_dictionary_info {
    lms_dictionary_info {
        version: d.version,
        zstd_id: d.zstd_id,
        bytes: d.bytes as u64,
        min_body: d.min_body.unwrap_or(0),
    }
}

/// Trains a zstd dictionary from the store's newest messages (their content and metadata, up
/// to 4 MiB), stores it under the next version and makes it current: from then on, new and
/// updated message bodies of `min_body` bytes and more are compressed with it, so short chat
/// messages compress too. Nothing already stored is rewritten: every record names the
/// dictionary it was written with, and all of them stay. Reads inflate in the library, so
/// callers see plain text. Training reads one snapshot (readers and writers go on) and
/// stores the result in one transaction: a training cut short changes nothing. The first
/// training makes a schema-2 store schema 3, which lmstore builds without dictionaries refuse
/// to open (LMS_VERSION_MISMATCH) rather than read such records as damaged.
///
/// Inflating costs read time: about 0.7 µs per 300-byte message (docs/format.md), so a
/// store read mostly by "latest N" and small on disk already may keep `min_body` high.
///
/// @param db        Handle from lms_open(), not read-only.
/// @param min_body  Body size from which new bodies use the dictionary: 0 for the default
///                  (256 bytes), else at least 32.
/// @param[out] out  Optional (NULL to ignore): the new dictionary.
/// @return LMS_OK; LMS_INVALID_ARGUMENT (db NULL; min_body from 1 to 31; fewer than 500
///         messages in the store; the message names the cause); LMS_READ_ONLY;
///         LMS_VERSION_MISMATCH (a schema-1 store: lms_upgrade() first); LMS_CORRUPT (a
///         sampled message could not be read); LMS_MAP_FULL; LMS_IO.
///         Also: LMS_INTERNAL (a bug).
/// @since 0.3
#[no_mangle]
pub unsafe extern "C" fn lms_train_dictionary(
    db: *mut lms_db,
    min_body: u32,
    out: *mut lms_dictionary_info,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on db.
        let trained = unsafe { store(db) }?.train_dictionary(min_body)?;
        if !out.is_null() {
            // SAFETY: caller contract: a non-NULL out points at a writable lms_dictionary_info.
            unsafe { *out = dictionary_info(&trained) };
        }
        Ok(())
    })
}

/// Lists the store's compression dictionaries, oldest first, into `out` (room for `cap`).
///
/// @param db              Handle from lms_open().
/// @param[out] out        Array of `cap` entries; may be NULL when `cap` is 0.
/// @param cap             Entries `out` has room for.
/// @param[out] out_count  Required: how many dictionaries the store holds (also when that is
///                        more than `cap`; then the first `cap` are written).
/// @return LMS_OK; LMS_INVALID_ARGUMENT (db or out_count NULL, out NULL with cap > 0);
///         LMS_CORRUPT (a stored dictionary is damaged). Also: LMS_INTERNAL (a bug).
/// @since 0.3
#[no_mangle]
pub unsafe extern "C" fn lms_list_dictionaries(
    db: *mut lms_db,
    out: *mut lms_dictionary_info,
    cap: usize,
    out_count: *mut usize,
) -> c_int {
    boundary(|| {
        if out_count.is_null() {
            return Err(crate::Error::invalid("out_count is NULL"));
        }
        if out.is_null() && cap > 0 {
            return Err(crate::Error::invalid("out is NULL but cap is not 0"));
        }
        // SAFETY: caller contract: a non-NULL out_count points at a writable size_t.
        unsafe { *out_count = 0 };
        // SAFETY: caller contract on db.
        let all = unsafe { store(db) }?.dictionaries()?;
        for (i, d) in all.iter().take(cap).enumerate() {
            // SAFETY: caller contract: out has room for `cap` entries and i < cap.
            unsafe { *out.add(i) = dictionary_info(d) };
        }
        // SAFETY: as above.
        unsafe { *out_count = all.len() };
        Ok(())
    })
}
