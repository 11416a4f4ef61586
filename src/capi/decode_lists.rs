//! Decoders for the list results (template ids, versions, aliases, sessions, one session) into
//! structs of (pointer, length) views, like lms_template_decode(), so a C program needs nothing
//! but the header to read any result.

use super::boundary::*;
use super::decode::{int, keep, lms_str, packed, text};
use crate::codec::{decode_value, field};
use crate::error::{Error, Result};
use rmpv::Value;
use std::ffi::c_int;

/// Template ids from lms_list_templates(), in order. Free with lms_str_list_free().
#[repr(C)]
pub struct lms_str_list {
    pub items: *const lms_str,
    pub count: usize,
}

/// One version of a template, from lms_list_template_versions().
#[repr(C)]
pub struct lms_template_version {
    pub version: lms_str,
    /// Microseconds since the epoch.
    pub created_at: i64,
}

/// Versions from lms_list_template_versions(), oldest first. Free with lms_version_list_free().
#[repr(C)]
pub struct lms_version_list {
    pub items: *const lms_template_version,
    pub count: usize,
}

/// One alias of a template, from lms_list_template_aliases().
#[repr(C)]
pub struct lms_template_alias {
    pub alias: lms_str,
    pub version: lms_str,
}

/// Aliases from lms_list_template_aliases(), in the map's order (by alias). Free with
/// lms_alias_list_free().
#[repr(C)]
pub struct lms_alias_list {
    pub items: *const lms_template_alias,
    pub count: usize,
}

/// A session, from lms_get_session() or a page of lms_list_sessions().
#[repr(C)]
pub struct lms_session {
    pub session_id: lms_str,
    /// NULL/0 when the session has no title.
    pub title: lms_str,
    /// MessagePack map.
    pub metadata: lms_str,
    pub created_at: i64,
    pub updated_at: i64,
    /// Time of the newest message; 0 when there is none.
    pub last_ts: i64,
    pub last_activity: i64,
    pub message_count: u64,
}

/// Sessions in page order. Free with lms_session_list_free().
#[repr(C)]
pub struct lms_session_list {
    pub items: *const lms_session,
    pub count: usize,
}

/// Owns the bytes and items the views point into; the public list comes first (repr(C)), so
/// the pointer handed out can be turned back into the box.
#[repr(C)]
struct Owned<L, I> {
    public: L,
    storage: Vec<Box<[u8]>>,
    items: Vec<I>,
}

/// A public list of views: built over the items its [`Owned`] box keeps.
trait ViewList: Sized {
    type Item;
    fn over(items: &[Self::Item]) -> Self;
}

macro_rules! view_list {
    ($list:ty, $item:ty) => {
        impl ViewList for $list {
            type Item = $item;
            fn over(items: &[$item]) -> Self {
                Self {
                    items: items.as_ptr(),
                    count: items.len(),
                }
            }
        }
    };
}
view_list!(lms_str_list, lms_str);
view_list!(lms_version_list, lms_template_version);
view_list!(lms_alias_list, lms_template_alias);
view_list!(lms_session_list, lms_session);

type Parse<I> = unsafe fn(&mut Vec<Box<[u8]>>, *const u8, usize) -> Result<Vec<I>>;

/// The body of every `lms_*_decode`: parse, box the items with the bytes they view, hand out
/// the list. On failure `*out` is NULL.
///
/// # Safety
/// `out` as [`out_ptr`]; a non-NULL `data` must point at `len` readable bytes for the call.
unsafe fn decode_list<L: ViewList>(
    data: *const u8,
    len: usize,
    out: *mut *mut L,
    parse: Parse<L::Item>,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract on out.
        let out = unsafe { out_ptr(out, "out") }?;
        *out = std::ptr::null_mut();
        let mut storage = Vec::new();
        // SAFETY: caller contract on data.
        let items = unsafe { parse(&mut storage, data, len) }?;
        // The items' heap buffer does not move when the Vec moves into the box.
        let owned = Box::new(Owned {
            public: L::over(&items),
            storage,
            items,
        });
        *out = Box::into_raw(owned) as *mut L;
        Ok(())
    })
}

/// # Safety
/// `list` is NULL or came from [`decode_list`] with the same `L`, and is freed once.
unsafe fn free_list<L: ViewList>(list: *mut L) {
    if !list.is_null() {
        // SAFETY: caller contract; the public list is the first field of the repr(C) box.
        drop(unsafe { Box::from_raw(list as *mut Owned<L, L::Item>) });
    }
}

/// # Safety
/// A non-NULL `data` must point at `len` readable bytes for the call.
unsafe fn items(data: *const u8, len: usize, what: &str) -> Result<Vec<Value>> {
    // SAFETY: forwarded caller contract.
    let v = decode_value(unsafe { required(data, len, "data") }?, what)?;
    match v {
        Value::Array(items) => Ok(items),
        other => Err(Error::bad_msgpack(format!(
            "{what} must be an array, got {}",
            crate::codec::kind_name(&other)
        ))),
    }
}

fn string(storage: &mut Vec<Box<[u8]>>, v: &Value, what: &str) -> Result<lms_str> {
    match v {
        Value::String(s) => Ok(keep(storage, s.as_bytes().to_vec())),
        _ => Err(Error::bad_msgpack(format!("{what} is not a string"))),
    }
}

fn session(storage: &mut Vec<Box<[u8]>>, v: &Value) -> Result<lms_session> {
    crate::codec::check_map(v, "session")?;
    if !matches!(field(v, "session_id"), Some(Value::String(_))) {
        return Err(Error::bad_msgpack(
            "not a session: 'session_id' is missing or not a string",
        ));
    }
    let count = field(v, "message_count")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Ok(lms_session {
        session_id: text(storage, v, "session_id")?,
        title: text(storage, v, "title")?,
        metadata: packed(storage, v, "metadata"),
        created_at: int(v, "created_at"),
        updated_at: int(v, "updated_at"),
        last_ts: int(v, "last_ts"),
        last_activity: int(v, "last_activity"),
        message_count: count,
    })
}

/// # Safety
/// A non-NULL `data` must point at `len` readable bytes for the call.
unsafe fn parse_template_ids(
    storage: &mut Vec<Box<[u8]>>,
    data: *const u8,
    len: usize,
) -> Result<Vec<lms_str>> {
    // SAFETY: caller contract on data.
    unsafe { items(data, len, "template id list") }?
        .iter()
        .map(|v| string(storage, v, "a template id"))
        .collect()
}

/// Decodes the ids from lms_list_templates() (an array of strings) into views.
/// @param data,len   The bytes; not kept after the call.
/// @param[out] out   A new list; free with lms_str_list_free().
/// @return LMS_OK; LMS_BAD_MSGPACK (not the shape this decoder reads); LMS_INVALID_ARGUMENT
///         (NULL out, NULL or empty data); LMS_INTERNAL. On failure *out is NULL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_template_ids_decode(
    data: *const u8,
    len: usize,
    out: *mut *mut lms_str_list,
) -> c_int {
    // SAFETY: the caller's contract on data and out is decode_list's.
    unsafe { decode_list(data, len, out, parse_template_ids) }
}

/// Frees a list from lms_template_ids_decode(). NULL is a no-op.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_str_list_free(list: *mut lms_str_list) {
    // SAFETY: caller contract: list is NULL or from the matching decoder, freed once.
    unsafe { free_list(list) }
}

/// # Safety
/// A non-NULL `data` must point at `len` readable bytes for the call.
unsafe fn parse_template_versions(
    storage: &mut Vec<Box<[u8]>>,
    data: *const u8,
    len: usize,
) -> Result<Vec<lms_template_version>> {
    // SAFETY: caller contract on data.
    unsafe { items(data, len, "version list") }?
        .iter()
        .map(|v| {
            crate::codec::check_map(v, "a version")?;
            let Some(version) = field(v, "version") else {
                return Err(Error::bad_msgpack("a version has no 'version'"));
            };
            Ok(lms_template_version {
                version: string(storage, version, "version")?,
                created_at: int(v, "created_at"),
            })
        })
        .collect()
}

/// Decodes the versions from lms_list_template_versions() (an array of {version, created_at})
/// into views.
/// @param data,len   The bytes; not kept after the call.
/// @param[out] out   A new list; free with lms_version_list_free().
/// @return LMS_OK; LMS_BAD_MSGPACK (not the shape this decoder reads); LMS_INVALID_ARGUMENT
///         (NULL out, NULL or empty data); LMS_INTERNAL. On failure *out is NULL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_template_versions_decode(
    data: *const u8,
    len: usize,
    out: *mut *mut lms_version_list,
) -> c_int {
    // SAFETY: the caller's contract on data and out is decode_list's.
    unsafe { decode_list(data, len, out, parse_template_versions) }
}

/// Frees a list from lms_template_versions_decode(). NULL is a no-op.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_version_list_free(list: *mut lms_version_list) {
    // SAFETY: caller contract: list is NULL or from the matching decoder, freed once.
    unsafe { free_list(list) }
}

/// # Safety
/// A non-NULL `data` must point at `len` readable bytes for the call.
unsafe fn parse_template_aliases(
    storage: &mut Vec<Box<[u8]>>,
    data: *const u8,
    len: usize,
) -> Result<Vec<lms_template_alias>> {
    // SAFETY: caller contract on data.
    let v = decode_value(unsafe { required(data, len, "data") }?, "alias map")?;
    let Value::Map(entries) = v else {
        return Err(Error::bad_msgpack("the alias list must be a map"));
    };
    entries
        .iter()
        .map(|(k, v)| {
            Ok(lms_template_alias {
                alias: string(storage, k, "an alias")?,
                version: string(storage, v, "an alias's version")?,
            })
        })
        .collect()
}

/// Decodes the aliases from lms_list_template_aliases() (a map alias -> version) into views.
/// @param data,len   The bytes; not kept after the call.
/// @param[out] out   A new list; free with lms_alias_list_free().
/// @return LMS_OK; LMS_BAD_MSGPACK (not the shape this decoder reads); LMS_INVALID_ARGUMENT
///         (NULL out, NULL or empty data); LMS_INTERNAL. On failure *out is NULL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_template_aliases_decode(
    data: *const u8,
    len: usize,
    out: *mut *mut lms_alias_list,
) -> c_int {
    // SAFETY: the caller's contract on data and out is decode_list's.
    unsafe { decode_list(data, len, out, parse_template_aliases) }
}

/// Frees a list from lms_template_aliases_decode(). NULL is a no-op.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_alias_list_free(list: *mut lms_alias_list) {
    // SAFETY: caller contract: list is NULL or from the matching decoder, freed once.
    unsafe { free_list(list) }
}

/// # Safety
/// A non-NULL `data` must point at `len` readable bytes for the call.
unsafe fn parse_sessions(
    storage: &mut Vec<Box<[u8]>>,
    data: *const u8,
    len: usize,
) -> Result<Vec<lms_session>> {
    // SAFETY: caller contract on data.
    let v = decode_value(unsafe { required(data, len, "data") }?, "sessions")?;
    let records = match v {
        Value::Array(items) => items,
        one @ Value::Map(_) => vec![one],
        _ => {
            return Err(Error::bad_msgpack(
                "expected an array of sessions or one session",
            ))
        }
    };
    records.iter().map(|r| session(storage, r)).collect()
}

/// Decodes a page from lms_list_sessions() (an array of sessions), or one session from
/// lms_get_session() (a list of one), into views.
/// @param data,len   The bytes; not kept after the call.
/// @param[out] out   A new list; free with lms_session_list_free().
/// @return LMS_OK; LMS_BAD_MSGPACK (not the shape this decoder reads); LMS_INVALID_ARGUMENT
///         (NULL out, NULL or empty data); LMS_INTERNAL. On failure *out is NULL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_sessions_decode(
    data: *const u8,
    len: usize,
    out: *mut *mut lms_session_list,
) -> c_int {
    // SAFETY: the caller's contract on data and out is decode_list's.
    unsafe { decode_list(data, len, out, parse_sessions) }
}

/// Frees a list from lms_sessions_decode(). NULL is a no-op.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_session_list_free(list: *mut lms_session_list) {
    // SAFETY: caller contract: list is NULL or from the matching decoder, freed once.
    unsafe { free_list(list) }
}
