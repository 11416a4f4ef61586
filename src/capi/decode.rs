//! Optional helpers for C callers without a MessagePack library: decode a stored template or a
//! page of messages into structs of (pointer, length) views.

use super::boundary::*;
use crate::codec::{decode_value, encode, field};
use crate::error::{Error, Result};
use rmpv::Value;
use std::ffi::{c_char, c_int};

/// A borrowed view of bytes owned by the decoded struct that holds it. NULL/0 when absent.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct lms_str {
    pub ptr: *const c_char,
    pub len: usize,
}

/// A decoded template record. All views point into memory owned by this struct; free it with
/// lms_template_free().
#[repr(C)]
pub struct lms_template {
    pub id: lms_str,
    pub version: lms_str,
    /// The template text (the record's `template` field; named `text` because `template` is a C++ keyword).
    pub text: lms_str,
    /// NULL/0 when absent.
    pub description: lms_str,
    /// MessagePack map of input declarations.
    pub inputs: lms_str,
    /// MessagePack map.
    pub metadata: lms_str,
    /// Microseconds since the epoch.
    pub created_at: i64,
}

/// A decoded message record; views into its ::lms_message_list.
#[repr(C)]
pub struct lms_message {
    pub id: [u8; 16],
    pub session_id: lms_str,
    pub ts: i64,
    pub role: lms_str,
    /// NULL/0 when absent.
    pub agent_id: lms_str,
    pub content: lms_str,
    /// Meaningful when has_reply_to is 1.
    pub in_reply_to: [u8; 16],
    pub has_reply_to: u32,
    pub reserved: u32,
    /// MessagePack map.
    pub metadata: lms_str,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Decoded messages, in page order. Free with lms_message_list_free().
#[repr(C)]
pub struct lms_message_list {
    pub items: *const lms_message,
    pub count: usize,
}

/// Owns the bytes the views point into; the public struct comes first so the pointer handed
/// out can be turned back into the box.
#[repr(C)]
struct Owned<T> {
    public: T,
    storage: Vec<Box<[u8]>>,
    items: Vec<lms_message>,
}

pub(super) fn keep(storage: &mut Vec<Box<[u8]>>, bytes: Vec<u8>) -> lms_str {
    let boxed = bytes.into_boxed_slice();
    let view = lms_str {
        ptr: boxed.as_ptr() as *const c_char,
        len: boxed.len(),
    };
    storage.push(boxed);
    view
}

const NONE: lms_str = lms_str {
    ptr: std::ptr::null(),
    len: 0,
};

pub(super) fn text(storage: &mut Vec<Box<[u8]>>, v: &Value, name: &str) -> Result<lms_str> {
    match field(v, name) {
        None | Some(Value::Nil) => Ok(NONE),
        Some(Value::String(s)) => Ok(keep(storage, s.as_bytes().to_vec())),
        Some(_) => Err(Error::bad_msgpack(format!(
            "record field '{name}' is not a string"
        ))),
    }
}

pub(super) fn packed(storage: &mut Vec<Box<[u8]>>, v: &Value, name: &str) -> lms_str {
    keep(
        storage,
        encode(field(v, name).unwrap_or(&Value::Map(Vec::new()))),
    )
}

pub(super) fn int(v: &Value, name: &str) -> i64 {
    field(v, name).and_then(Value::as_i64).unwrap_or(0)
}

fn id16(v: &Value, name: &str) -> Result<Option<[u8; 16]>> {
    match field(v, name) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Binary(b)) => b
            .as_slice()
            .try_into()
            .map(Some)
            .map_err(|_| Error::bad_msgpack(format!("record field '{name}' is not 16 bytes"))),
        Some(_) => Err(Error::bad_msgpack(format!(
            "record field '{name}' is not binary"
        ))),
    }
}

/// Decodes a template record from lms_get_template() into field views.
/// @param record,len     The record bytes; not kept after the call.
/// @param[out] out       A new lms_template; free with lms_template_free().
/// @return LMS_OK; LMS_BAD_MSGPACK (the bytes are not a template record); LMS_INVALID_ARGUMENT
///         (NULL out, NULL data with a length); LMS_INTERNAL. On failure *out is NULL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_template_decode(
    record: *const u8,
    len: usize,
    out: *mut *mut lms_template,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let out = unsafe { out_ptr(out, "out") }?;
        *out = std::ptr::null_mut();
        // SAFETY: caller contract on record.
        let v = decode_value(
            unsafe { required(record, len, "record") }?,
            "template record",
        )?;
        crate::codec::check_map(&v, "template record")?;
        for name in ["id", "version", "template"] {
            if !matches!(field(&v, name), Some(Value::String(_))) {
                return Err(Error::bad_msgpack(format!(
                    "not a template record: '{name}' is missing or not a string"
                )));
            }
        }
        let mut storage = Vec::new();
        let public = lms_template {
            id: text(&mut storage, &v, "id")?,
            version: text(&mut storage, &v, "version")?,
            text: text(&mut storage, &v, "template")?,
            description: text(&mut storage, &v, "description")?,
            inputs: packed(&mut storage, &v, "inputs"),
            metadata: packed(&mut storage, &v, "metadata"),
            created_at: int(&v, "created_at"),
        };
        *out = Box::into_raw(Box::new(Owned {
            public,
            storage,
            items: Vec::new(),
        })) as *mut lms_template;
        Ok(())
    })
}

/// Frees a template from lms_template_decode(). NULL is a no-op.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_template_free(tpl: *mut lms_template) {
    if !tpl.is_null() {
        // SAFETY: tpl came from Box<Owned<lms_template>> in lms_template_decode, whose first
        // field it is (repr(C)); freed once.
        drop(unsafe { Box::from_raw(tpl as *mut Owned<lms_template>) });
    }
}

fn message(storage: &mut Vec<Box<[u8]>>, v: &Value) -> Result<lms_message> {
    crate::codec::check_map(v, "message record")?;
    let reply = id16(v, "in_reply_to")?;
    Ok(lms_message {
        id: id16(v, "id")?.ok_or_else(|| Error::bad_msgpack("message record has no id"))?,
        session_id: text(storage, v, "session_id")?,
        ts: int(v, "ts"),
        role: text(storage, v, "role")?,
        agent_id: text(storage, v, "agent_id")?,
        content: text(storage, v, "content")?,
        in_reply_to: reply.unwrap_or([0; 16]),
        has_reply_to: reply.is_some() as u32,
        reserved: 0,
        metadata: packed(storage, v, "metadata"),
        created_at: int(v, "created_at"),
        updated_at: int(v, "updated_at"),
    })
}

/// Decodes a page from lms_range_messages() (an array of records) or one record from
/// lms_get_message() into message views.
/// @param data,len   The bytes; not kept after the call.
/// @param[out] out   A new list; free with lms_message_list_free().
/// @return LMS_OK; LMS_BAD_MSGPACK (not an array of message records); LMS_INVALID_ARGUMENT (NULL
///         out, NULL data with a length); LMS_INTERNAL. On failure *out is NULL.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_messages_decode(
    data: *const u8,
    len: usize,
    out: *mut *mut lms_message_list,
) -> c_int {
    boundary(|| {
        // SAFETY: a non-NULL out-parameter is valid for writes for the call (ABI contract).
        let out = unsafe { out_ptr(out, "out") }?;
        *out = std::ptr::null_mut();
        // SAFETY: caller contract on data.
        let v = decode_value(unsafe { required(data, len, "data") }?, "messages")?;
        let records = match v {
            Value::Array(items) => items,
            single @ Value::Map(_) => vec![single],
            _ => {
                return Err(Error::bad_msgpack(
                    "expected an array of message records or one record",
                ))
            }
        };
        let mut storage = Vec::new();
        let items = records
            .iter()
            .map(|r| message(&mut storage, r))
            .collect::<Result<Vec<_>>>()?;
        let mut owned = Box::new(Owned {
            public: lms_message_list {
                items: std::ptr::null(),
                count: items.len(),
            },
            storage,
            items,
        });
        owned.public.items = owned.items.as_ptr();
        *out = Box::into_raw(owned) as *mut lms_message_list;
        Ok(())
    })
}

/// Frees a list from lms_messages_decode(). NULL is a no-op.
/// @since 0.1
#[no_mangle]
pub unsafe extern "C" fn lms_message_list_free(list: *mut lms_message_list) {
    if !list.is_null() {
        // SAFETY: list came from Box<Owned<lms_message_list>> in lms_messages_decode (first
        // field, repr(C)); freed once.
        drop(unsafe { Box::from_raw(list as *mut Owned<lms_message_list>) });
    }
}
