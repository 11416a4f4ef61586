//! Template functions. Templates cross the ABI as MessagePack: a spec map going in (validated,
//! normalized), the stored record coming out exactly as stored, so a get never decodes.
//! C callers who prefer fields use lms_put_template_fields() and lms_template_decode().

use super::boundary::*;
use super::env::{lms_db, store};
use crate::error::{utf8, Error, Result};
use crate::templates::{normalize_spec, TemplateSpec};
use std::ffi::{c_char, c_int};

/// Put flag: replace an existing version whose content differs instead of failing with LMS_CONFLICT.
pub const LMS_PUT_REPLACE: u32 = 1;
/// Put outcome: a new version was stored.
pub const LMS_PUT_CREATED: u32 = 0;
/// Put outcome: the version existed with identical content; nothing changed.
pub const LMS_PUT_UNCHANGED: u32 = 1;
/// Put outcome: the version existed with other content and was replaced (LMS_PUT_REPLACE).
pub const LMS_PUT_REPLACED: u32 = 2;

/// A template given field by field, for lms_put_template_fields(). Every (pointer, length)
/// pair is borrowed for the call only; a NULL pointer with length 0 means "absent".
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lms_template_fields {
    /// Required. UTF-8, no NUL bytes.
    pub id: *const c_char,
    pub id_len: usize,
    /// Optional; "0.1.0" when absent.
    pub version: *const c_char,
    pub version_len: usize,
    /// Required. The template text (Jinja2 syntax); stored as the record's `template` field
    /// (`template` is a C++ keyword, hence the name).
    pub text: *const c_char,
    pub text_len: usize,
    /// Optional.
    pub description: *const c_char,
    pub description_len: usize,
    /// Optional MessagePack map: input name -> {type, required, default, description}.
    pub inputs: *const u8,
    pub inputs_len: usize,
    /// Optional MessagePack map of free-form metadata.
    pub metadata: *const u8,
    pub metadata_len: usize,
}

/// The shared tail of the two put functions: flag check, the write, the outcome.
///
/// # Safety
/// `db` must be NULL or a handle from lms_open() not yet closed; a non-NULL `out_outcome`
/// must be valid for a write of a `u32`.
unsafe fn put(
    db: *mut lms_db,
    spec: Result<TemplateSpec>,
    flags: u32,
    out_outcome: *mut u32,
) -> Result<()> {
    if flags & !LMS_PUT_REPLACE != 0 {
        return Err(Error::invalid(format!("unknown put flags 0x{flags:x}")));
    }
    // SAFETY: forwarded caller contract on db.
    let store = unsafe { store(db) }?;
    let outcome = store.put_template(&spec?, flags & LMS_PUT_REPLACE != 0)?;
    // SAFETY: a non-NULL out_outcome is writable (ABI contract); NULL means "not wanted".
    if let Some(o) = unsafe { out_outcome.as_mut() } {
        *o = outcome as u32;
    }
    Ok(())
}

/// Stores one template version given as a MessagePack map with the keys `id`, `version`
/// (default "0.1.0"), `template`, `description`, `inputs`, `metadata`. Versions are immutable:
/// putting identical content again succeeds with LMS_PUT_UNCHANGED; different content fails
/// with LMS_CONFLICT unless `flags` has LMS_PUT_REPLACE. The version put last becomes the latest.
///
/// @param db          Handle from lms_open().
/// @param spec,spec_len  The MessagePack map; borrowed for the call.
/// @param flags       0 or LMS_PUT_REPLACE.
/// @param[out] out_outcome  LMS_PUT_CREATED / _UNCHANGED / _REPLACED; may be NULL.
/// @return LMS_OK; LMS_CONFLICT (the version exists with other content); LMS_BAD_MSGPACK;
///         LMS_INVALID_ARGUMENT (NULL db or spec, missing or unknown field, bad input declaration,
///         unknown flags); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too
///         long); LMS_READ_ONLY; LMS_MAP_FULL (at max_map_size); LMS_TOO_LARGE; LMS_IO or
///         LMS_CORRUPT; LMS_INTERNAL. Nothing is written on failure. On failure *out_outcome is
///         unspecified.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_put_template(
    db: *mut lms_db,
    spec: *const u8,
    spec_len: usize,
    flags: u32,
    out_outcome: *mut u32,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on spec.
        let spec = unsafe { required(spec, spec_len, "spec") }?;
        // SAFETY: forwarded ABI contract on db and out_outcome.
        unsafe { put(db, normalize_spec(spec), flags, out_outcome) }
    })
}

/// lms_put_template() with the spec given as separate fields.
/// @param fields  Borrowed for the call.
/// @return As lms_put_template(): LMS_OK; LMS_CONFLICT; LMS_BAD_MSGPACK (inputs or metadata);
///         LMS_INVALID_ARGUMENT (NULL db or fields, missing id or text, a NUL in a key, unknown flags);
///         LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long);
///         LMS_READ_ONLY; LMS_MAP_FULL (at max_map_size); LMS_TOO_LARGE; LMS_IO or LMS_CORRUPT;
///         LMS_INTERNAL. Nothing is written on failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_put_template_fields(
    db: *mut lms_db,
    fields: *const lms_template_fields,
    flags: u32,
    out_outcome: *mut u32,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL fields points at a readable struct whose pairs obey the slice contract.
        let f = unsafe { fields.as_ref() }.ok_or_else(|| Error::invalid("fields is NULL"))?;
        let spec = (|| {
            // SAFETY: each pair is a caller-provided (pointer, length) slice.
            let id = utf8(
                unsafe { required(f.id as *const u8, f.id_len, "id") }?,
                "template id",
            )?;
            // SAFETY: a non-NULL version points at its stated length of readable bytes (ABI contract).
            let version = unsafe { optional(f.version as *const u8, f.version_len, "version") }?
                .map(|v| utf8(v, "version"))
                .transpose()?;
            let template = utf8(
                // SAFETY: a non-NULL text points at its stated length of readable bytes (ABI contract).
                unsafe { bytes(f.text as *const u8, f.text_len, "text") }?,
                "template",
            )?;
            if f.text.is_null() {
                return Err(Error::invalid("text (the template) is NULL"));
            }
            let description =
                // SAFETY: a non-NULL description points at its stated length of readable bytes (ABI contract).
                unsafe { optional(f.description as *const u8, f.description_len, "description") }?
                    .map(|d| utf8(d, "description"))
                    .transpose()?;
            // SAFETY: a non-NULL inputs points at its stated length of readable bytes (ABI contract).
            let inputs = unsafe { bytes(f.inputs, f.inputs_len, "inputs") }?;
            // SAFETY: a non-NULL metadata points at its stated length of readable bytes (ABI contract).
            let metadata = unsafe { bytes(f.metadata, f.metadata_len, "metadata") }?;
            TemplateSpec::from_parts(id, version, template, description, inputs, metadata)
        })();
        // SAFETY: forwarded ABI contract on db and out_outcome.
        unsafe { put(db, spec, flags, out_outcome) }
    })
}

/// Copies out the stored record (a MessagePack map: id, version, template, description?,
/// inputs, metadata, created_at) of template `id` at `version`, or at its latest version.
///
/// @param id,id_len  The template id.
/// @param version,version_len  Exact version; NULL (or length 0) for the latest (the one put last).
/// @param[out] out,out_len  A new buffer; free with lms_bytes_free(). NULL/0 on failure.
/// @return LMS_OK; LMS_NOT_FOUND (no such id or version: the message says which);
///         LMS_INVALID_ARGUMENT (NULL db or pointer or out); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG
///         (a key that is not UTF-8 or too long); LMS_IO or LMS_CORRUPT (LMDB failed, or stored
///         data is damaged); LMS_INTERNAL. On failure *out is NULL and *out_len 0.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_get_template(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    version: *const c_char,
    version_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let (out, out_len) = unsafe { out_pair(out, out_len) }?;
        // SAFETY: caller contract on db, id and version.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL id points at its stated length of readable bytes (ABI contract).
        let id = unsafe { required(id as *const u8, id_len, "id") }?;
        // SAFETY: a non-NULL version points at its stated length of readable bytes (ABI contract).
        let version = unsafe { optional(version as *const u8, version_len, "version") }?;
        store.with_template(id, version, |record| copy_out(record, out, out_len))?
    })
}

/// lms_get_template() into a buffer the caller owns: the caller allocates nothing and frees
/// nothing. Meant for hot loops and bindings that reuse one buffer.
///
/// @param buf,cap   Caller-owned buffer of `cap` bytes (NULL/0 to ask for the size).
/// @param[out] out_len  The record's length, also when it does not fit.
/// @return LMS_OK; LMS_BUFFER_TOO_SMALL (*out_len says how much is needed; buf untouched);
///         LMS_NOT_FOUND; LMS_INVALID_ARGUMENT (NULL db or pointer, buf NULL with a capacity);
///         LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long); LMS_IO or
///         LMS_CORRUPT (LMDB failed, or stored data is damaged); LMS_INTERNAL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_get_template_into(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    version: *const c_char,
    version_len: usize,
    buf: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let out_len = unsafe { out_ptr(out_len, "out_len") }?;
        *out_len = 0;
        // SAFETY: caller contract on db, id and version.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL id points at its stated length of readable bytes (ABI contract).
        let id = unsafe { required(id as *const u8, id_len, "id") }?;
        // SAFETY: a non-NULL version points at its stated length of readable bytes (ABI contract).
        let version = unsafe { optional(version as *const u8, version_len, "version") }?;
        // SAFETY: a non-NULL buf has cap writable bytes (ABI contract), apart from library memory.
        store.with_template(id, version, |record| unsafe {
            copy_into(record, buf, cap, out_len)
        })?
    })
}

/// Like lms_get_template(), resolving `alias` (e.g. "production") to its version first.
/// @return LMS_OK; LMS_NOT_FOUND (the id or the alias does not exist: the message says which);
///         LMS_INVALID_ARGUMENT (NULL db or pointer or out); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG
///         (a key that is not UTF-8 or too long); LMS_IO or LMS_CORRUPT (LMDB failed, or stored
///         data is damaged); LMS_INTERNAL. On failure *out is NULL and *out_len 0.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_get_template_by_alias(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    alias: *const c_char,
    alias_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let (out, out_len) = unsafe { out_pair(out, out_len) }?;
        // SAFETY: caller contract on db, id and alias.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL id points at its stated length of readable bytes (ABI contract).
        let id = unsafe { required(id as *const u8, id_len, "id") }?;
        // SAFETY: a non-NULL alias points at its stated length of readable bytes (ABI contract).
        let alias = unsafe { required(alias as *const u8, alias_len, "alias") }?;
        store.with_template_by_alias(id, alias, |record| copy_out(record, out, out_len))?
    })
}

/// Lists template ids in byte order as a MessagePack array of strings.
///
/// @param prefix,prefix_len  Only ids starting with this; NULL/0 for all.
/// @param after,after_len    Start after this id (exclusive): pass the last id of the previous
///                           page to get the next one; NULL/0 to start at the beginning.
/// @param limit              1..10000 ids per page. A page shorter than `limit` is the last.
/// @param[out] out,out_len   A new buffer; free with lms_bytes_free().
/// @return LMS_OK; LMS_INVALID_ARGUMENT (NULL db or pointer, limit 0 or above LMS_MAX_PAGE);
///         LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long); LMS_IO or
///         LMS_CORRUPT (LMDB failed, or stored data is damaged); LMS_INTERNAL. On failure *out is
///         NULL and *out_len 0.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_list_templates(
    db: *mut lms_db,
    prefix: *const c_char,
    prefix_len: usize,
    after: *const c_char,
    after_len: usize,
    limit: u32,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let (out, out_len) = unsafe { out_pair(out, out_len) }?;
        // SAFETY: caller contract on db, prefix and after.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL prefix points at its stated length of readable bytes (ABI contract).
        let prefix = unsafe { bytes(prefix as *const u8, prefix_len, "prefix") }?;
        // SAFETY: a non-NULL after points at its stated length of readable bytes (ABI contract).
        let after = unsafe { bytes(after as *const u8, after_len, "after") }?;
        copy_out(
            &store.list_template_ids(prefix, after, limit)?,
            out,
            out_len,
        )
    })
}

/// Lists the versions of `id` in the order they were put (oldest first), as a MessagePack
/// array of maps {version: string, created_at: int (µs)}.
/// @param[out] out,out_len  A new buffer; free with lms_bytes_free().
/// @return LMS_OK; LMS_NOT_FOUND (the id does not exist); LMS_INVALID_ARGUMENT (NULL db or pointer
///         or out); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long);
///         LMS_IO or LMS_CORRUPT (LMDB failed, or stored data is damaged); LMS_INTERNAL. On failure
///         *out is NULL and *out_len 0.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_list_template_versions(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let (out, out_len) = unsafe { out_pair(out, out_len) }?;
        // SAFETY: caller contract on db and id.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL id points at its stated length of readable bytes (ABI contract).
        let id = unsafe { required(id as *const u8, id_len, "id") }?;
        copy_out(&store.list_template_versions(id)?, out, out_len)
    })
}

/// Deletes one version of `id` (and aliases pointing at it), or the whole id with all its
/// versions and aliases when `version` is NULL/0. If the latest version goes, the one put
/// before it becomes the latest.
/// @return LMS_OK; LMS_NOT_FOUND (the message says whether the id or the version is missing);
///         LMS_INVALID_ARGUMENT (NULL db or pointer); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key
///         that is not UTF-8 or too long); LMS_READ_ONLY; LMS_MAP_FULL (at max_map_size);
///         LMS_TOO_LARGE; LMS_IO or LMS_CORRUPT; LMS_INTERNAL. Nothing is written on failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_delete_template(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    version: *const c_char,
    version_len: usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on db, id and version.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL id points at its stated length of readable bytes (ABI contract).
        let id = unsafe { required(id as *const u8, id_len, "id") }?;
        // SAFETY: a non-NULL version points at its stated length of readable bytes (ABI contract).
        let version = unsafe { optional(version as *const u8, version_len, "version") }?;
        store.delete_template(id, version)
    })
}

/// Points `alias` of template `id` at an existing `version`, creating or moving it.
/// @return LMS_OK; LMS_NOT_FOUND (the id or version does not exist); LMS_INVALID_ARGUMENT (NULL db
///         or pointer); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long);
///         LMS_READ_ONLY; LMS_MAP_FULL (at max_map_size); LMS_TOO_LARGE; LMS_IO or LMS_CORRUPT;
///         LMS_INTERNAL. Nothing is written on failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_set_template_alias(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    alias: *const c_char,
    alias_len: usize,
    version: *const c_char,
    version_len: usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on every pointer.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL id points at its stated length of readable bytes (ABI contract).
        let id = unsafe { required(id as *const u8, id_len, "id") }?;
        // SAFETY: a non-NULL alias points at its stated length of readable bytes (ABI contract).
        let alias = unsafe { required(alias as *const u8, alias_len, "alias") }?;
        // SAFETY: a non-NULL version points at its stated length of readable bytes (ABI contract).
        let version = unsafe { required(version as *const u8, version_len, "version") }?;
        store.set_template_alias(id, alias, version)
    })
}

/// Removes an alias.
/// @return LMS_OK; LMS_NOT_FOUND (the id or alias does not exist); LMS_INVALID_ARGUMENT (NULL db or
///         pointer); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG (a key that is not UTF-8 or too long);
///         LMS_READ_ONLY; LMS_MAP_FULL (at max_map_size); LMS_TOO_LARGE; LMS_IO or LMS_CORRUPT;
///         LMS_INTERNAL. Nothing is written on failure.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_delete_template_alias(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    alias: *const c_char,
    alias_len: usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on every pointer.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL id points at its stated length of readable bytes (ABI contract).
        let id = unsafe { required(id as *const u8, id_len, "id") }?;
        // SAFETY: a non-NULL alias points at its stated length of readable bytes (ABI contract).
        let alias = unsafe { required(alias as *const u8, alias_len, "alias") }?;
        store.delete_template_alias(id, alias)
    })
}

/// Lists the aliases of `id` as a MessagePack map alias -> version.
/// @param[out] out,out_len  A new buffer; free with lms_bytes_free().
/// @return LMS_OK (an empty map when the id has no aliases); LMS_NOT_FOUND (the id does not exist);
///         LMS_INVALID_ARGUMENT (NULL db or pointer or out); LMS_INVALID_UTF8 or LMS_KEY_TOO_LONG
///         (a key that is not UTF-8 or too long); LMS_IO or LMS_CORRUPT (LMDB failed, or stored
///         data is damaged); LMS_INTERNAL. On failure *out is NULL and *out_len 0.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_list_template_aliases(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let (out, out_len) = unsafe { out_pair(out, out_len) }?;
        // SAFETY: caller contract on db and id.
        let store = unsafe { store(db) }?;
        // SAFETY: a non-NULL id points at its stated length of readable bytes (ABI contract).
        let id = unsafe { required(id as *const u8, id_len, "id") }?;
        copy_out(&store.list_template_aliases(id)?, out, out_len)
    })
}
