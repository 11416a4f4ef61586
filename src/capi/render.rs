//! Render functions: a stored template (latest, a version or an alias) or an unstored spec, plus
//! variables as one MessagePack map, to UTF-8 text; the compile check and the lint.

use super::boundary::*;
use super::env::{lms_db, store};
use crate::error::{utf8, Error, Result};
use crate::render::{self, Target};
use crate::templates::normalize_spec;
use std::ffi::{c_char, c_int};

/// Text out through the allocating form: NUL-terminated for C's convenience, the length
/// without the NUL.
fn text_out(text: &str, out: &mut *mut u8, out_len: &mut usize) -> Result<()> {
    let mut with_nul = Vec::with_capacity(text.len() + 1);
    with_nul.extend_from_slice(text.as_bytes());
    with_nul.push(0);
    copy_out(&with_nul, out, out_len)?;
    *out_len = text.len();
    Ok(())
}

/// The text pair (`char **out`, `size_t *out_len`), checked and cleared.
///
/// # Safety
/// As for `out_pair`.
unsafe fn text_pair<'a>(
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> Result<(&'a mut *mut u8, &'a mut usize)> {
    // SAFETY: forwarded caller contract on both out-pointers.
    unsafe { out_pair(out as *mut *mut u8, out_len) }
}

/// # Safety
/// As for every ABI function: the pointers are valid for their lengths during the call.
#[allow(clippy::too_many_arguments)]
unsafe fn render_stored(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    name: *const c_char,
    name_len: usize,
    by_alias: bool,
    vars: *const u8,
    vars_len: usize,
) -> Result<String> {
    // SAFETY: caller contract on db, id, name and vars.
    let store = unsafe { store(db) }?;
    // SAFETY: caller contract: the pointer is valid for its length during the call.
    let id = unsafe { required(id as *const u8, id_len, "id") }?;
    // SAFETY: caller contract: the pointer is valid for its length during the call.
    let vars = unsafe { bytes(vars, vars_len, "vars") }?;
    let target = if by_alias {
        // SAFETY: caller contract: the pointer is valid for its length during the call.
        Target::Alias(unsafe { required(name as *const u8, name_len, "alias") }?)
    } else {
        // SAFETY: caller contract: the pointer is valid for its length during the call.
        match unsafe { optional(name as *const u8, name_len, "version") }? {
            Some(v) => Target::Version(v),
            None => Target::Latest,
        }
    };
    store.render(id, target, vars)
}

/// Renders template `id` (its latest version, or exactly `version`) with `vars`, as Jinja2 3.1
/// renders it in promptlightning's environment: StrictUndefined, trim_blocks, lstrip_blocks,
/// no autoescape, Python's printing of values, the `default` and `yaml` filters. Only the
/// template's declared inputs reach it: missing ones take their default, values coerce to the
/// declared type, undeclared variables are dropped. The compiled template is cached per handle
/// (lms_options.render_cache_size), so a repeated render parses nothing; a replaced version is
/// never served stale.
///
/// @param db                 Handle from lms_open(); any thread.
/// @param id,id_len          The template id.
/// @param version,version_len  Exact version; NULL (or length 0) for the latest.
/// @param vars,vars_len      A MessagePack map of variable name -> value (nil, bool, int,
///                           float, str, array, map); NULL/0 or nil for none. Borrowed.
/// @param[out] out,out_len   The UTF-8 text in a new NUL-terminated buffer (`out_len` excludes
///                           the NUL); free with lms_bytes_free(). NULL/0 on failure.
/// @return LMS_OK; LMS_INPUT (a required input is missing or a value has the wrong type: the
///         message names the input, e.g. "missing input: topic"); LMS_RENDER (the template
///         failed: the message has the Jinja2 reason, the template id and version and the line,
///         e.g. "'audience' is undefined (template 'greet' version '1.0.0', line 3)");
///         LMS_NOT_FOUND (no such id or version); LMS_BAD_MSGPACK (vars is malformed);
///         LMS_INVALID_ARGUMENT (vars is not a map, NULL arguments); LMS_INVALID_UTF8;
///         LMS_KEY_TOO_LONG; LMS_CORRUPT.
///         Also: LMS_INTERNAL (a bug).
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_render(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    version: *const c_char,
    version_len: usize,
    vars: *const u8,
    vars_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: non-NULL out-pointers are writable for the call.
        let (out, out_len) = unsafe { text_pair(out, out_len) }?;
        // SAFETY: forwarded caller contract: every pointer is valid for its length during the call.
        let text =
            unsafe { render_stored(db, id, id_len, version, version_len, false, vars, vars_len) }?;
        text_out(&text, out, out_len)
    })
}

/// lms_render() into a buffer the caller owns (no NUL is written).
///
/// @param buf,cap       Caller-owned buffer of `cap` bytes (NULL/0 to ask for the size).
/// @param[out] out_len  The text's length in bytes, also when it does not fit.
/// @return LMS_OK; LMS_BUFFER_TOO_SMALL (`*out_len` is the size needed; `buf` untouched; call
///         again with a larger buffer, which renders again); otherwise as lms_render().
///         Also: LMS_INVALID_ARGUMENT (NULL db or pointer); LMS_INTERNAL (a bug).
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_render_into(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    version: *const c_char,
    version_len: usize,
    vars: *const u8,
    vars_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: a non-NULL out_len is writable for the call.
        let out_len = unsafe { out_ptr(out_len, "out_len") }?;
        *out_len = 0;
        // SAFETY: forwarded caller contract: every pointer is valid for its length during the call.
        let text =
            unsafe { render_stored(db, id, id_len, version, version_len, false, vars, vars_len) }?;
        // SAFETY: caller contract: buf holds cap writable bytes, apart from our text.
        unsafe { copy_into(text.as_bytes(), buf as *mut u8, cap, out_len) }
    })
}

/// Like lms_render(), resolving `alias` (e.g. "production") to its version first.
/// @param alias,alias_len  The alias; required.
/// @return As lms_render(); LMS_NOT_FOUND also when the alias does not exist.
///         Also: LMS_OK on success; LMS_INVALID_ARGUMENT (NULL db or pointer); LMS_INTERNAL (a bug).
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_render_by_alias(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    alias: *const c_char,
    alias_len: usize,
    vars: *const u8,
    vars_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: non-NULL out-pointers are writable for the call.
        let (out, out_len) = unsafe { text_pair(out, out_len) }?;
        // SAFETY: forwarded caller contract: every pointer is valid for its length during the call.
        let text =
            unsafe { render_stored(db, id, id_len, alias, alias_len, true, vars, vars_len) }?;
        text_out(&text, out, out_len)
    })
}

/// lms_render_by_alias() into a buffer the caller owns; as lms_render_into().
/// @return As lms_render_into(): LMS_OK; LMS_BUFFER_TOO_SMALL; LMS_NOT_FOUND; LMS_INPUT; LMS_RENDER; LMS_INVALID_ARGUMENT (NULL db or pointer); LMS_IO or LMS_CORRUPT; LMS_INTERNAL (a bug).
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_render_by_alias_into(
    db: *mut lms_db,
    id: *const c_char,
    id_len: usize,
    alias: *const c_char,
    alias_len: usize,
    vars: *const u8,
    vars_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: a non-NULL out_len is writable for the call.
        let out_len = unsafe { out_ptr(out_len, "out_len") }?;
        *out_len = 0;
        // SAFETY: forwarded caller contract: every pointer is valid for its length during the call.
        let text =
            unsafe { render_stored(db, id, id_len, alias, alias_len, true, vars, vars_len) }?;
        // SAFETY: caller contract: buf holds cap writable bytes, apart from our text.
        unsafe { copy_into(text.as_bytes(), buf as *mut u8, cap, out_len) }
    })
}

/// # Safety
/// As for every ABI function.
unsafe fn render_spec(
    spec: *const u8,
    spec_len: usize,
    vars: *const u8,
    vars_len: usize,
) -> Result<String> {
    // SAFETY: caller contract on spec and vars.
    let spec = normalize_spec(unsafe { required(spec, spec_len, "spec") }?)?;
    // SAFETY: caller contract: the pointer is valid for its length during the call.
    let vars = unsafe { bytes(vars, vars_len, "vars") }?;
    render::check_spec(&spec)?;
    render::preview(&spec, vars)
}

/// Renders a template spec that is not stored (a preview), exactly as lms_render() would once
/// it is put. Needs no handle; compiles every time (nothing is cached).
///
/// @param spec,spec_len  A MessagePack spec map as for lms_put_template().
/// @param vars,vars_len  As for lms_render().
/// @param[out] out,out_len  As for lms_render().
/// @return LMS_OK; LMS_INPUT; LMS_RENDER (including a template that does not compile: line and
///         column in the message); LMS_BAD_MSGPACK; LMS_INVALID_ARGUMENT (a spec put would
///         refuse, vars not a map); LMS_INVALID_UTF8.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_render_preview(
    spec: *const u8,
    spec_len: usize,
    vars: *const u8,
    vars_len: usize,
    out: *mut *mut c_char,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: non-NULL out-pointers are writable for the call.
        let (out, out_len) = unsafe { text_pair(out, out_len) }?;
        // SAFETY: forwarded caller contract.
        let text = unsafe { render_spec(spec, spec_len, vars, vars_len) }?;
        text_out(&text, out, out_len)
    })
}

/// lms_render_preview() into a buffer the caller owns; as lms_render_into().
/// @return As lms_render_into(): LMS_OK; LMS_BUFFER_TOO_SMALL; LMS_NOT_FOUND; LMS_INPUT; LMS_RENDER; LMS_INVALID_ARGUMENT (NULL db or pointer); LMS_IO or LMS_CORRUPT; LMS_INTERNAL (a bug).
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_render_preview_into(
    spec: *const u8,
    spec_len: usize,
    vars: *const u8,
    vars_len: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: a non-NULL out_len is writable for the call.
        let out_len = unsafe { out_ptr(out_len, "out_len") }?;
        *out_len = 0;
        // SAFETY: forwarded caller contract.
        let text = unsafe { render_spec(spec, spec_len, vars, vars_len) }?;
        // SAFETY: caller contract: buf holds cap writable bytes, apart from our text.
        unsafe { copy_into(text.as_bytes(), buf as *mut u8, cap, out_len) }
    })
}

/// Checks that a template text compiles, as lms_put_template() does before storing it.
///
/// @param text,text_len       The template text (UTF-8).
/// @param[out] out_line,out_column  Where it fails (1-based; the column counts characters);
///                            0 when it compiles. Either may be NULL.
/// @return LMS_OK; LMS_RENDER (does not compile; the message has the reason, line and column);
///         LMS_INVALID_UTF8; LMS_INVALID_ARGUMENT (text NULL with a length).
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_template_check(
    text: *const c_char,
    text_len: usize,
    out_line: *mut u32,
    out_column: *mut u32,
) -> c_int {
    boundary(|| {
        let set = |l: usize, c: usize| {
            for (ptr, v) in [(out_line, l), (out_column, c)] {
                // SAFETY: a non-NULL out-pointer is writable (ABI contract); NULL: not wanted.
                if let Some(p) = unsafe { ptr.as_mut() } {
                    *p = v.try_into().unwrap_or(u32::MAX);
                }
            }
        };
        set(0, 0);
        // SAFETY: caller contract on text.
        let text = utf8(
            // SAFETY: caller contract: the pointer is valid for its length during the call.
            unsafe { bytes(text as *const u8, text_len, "text") }?,
            "text",
        )?;
        render::check_compiles(text).map_err(|c| {
            set(c.line, c.column);
            Error::new(crate::ErrorKind::Render, c.to_string())
        })
    })
}

/// The variables a template spec uses but neither declares as inputs nor sets itself (a lint:
/// under StrictUndefined each would fail the render), as a MessagePack array of strings,
/// sorted. Empty when there are none.
///
/// @param spec,spec_len     A MessagePack spec map as for lms_put_template().
/// @param[out] out,out_len  A new buffer; free with lms_bytes_free().
/// @return LMS_OK; LMS_RENDER (the text does not compile); LMS_BAD_MSGPACK;
///         LMS_INVALID_ARGUMENT; LMS_INVALID_UTF8.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_template_lint(
    spec: *const u8,
    spec_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    boundary(|| {
        // SAFETY: caller contract: non-NULL out-pointers are writable for the call.
        let (out, out_len) = unsafe { out_pair(out, out_len) }?;
        // SAFETY: caller contract on spec.
        let spec = normalize_spec(unsafe { required(spec, spec_len, "spec") }?)?;
        render::check_spec(&spec)?;
        let names = render::undeclared_variables(&spec);
        let list = rmpv::Value::Array(names.into_iter().map(rmpv::Value::from).collect());
        copy_out(&crate::codec::encode(&list), out, out_len)
    })
}
