//! Record checksums (schema 2): every value of every table is stored as `value | crc32c` where
//! the CRC32C (Castagnoli, little-endian) covers the key and the value, so a flipped byte in
//! either, or a value that landed under another key, is caught on the read that meets it.
//! Schema-1 stores ("legacy") carry no checksums; they are read as they are until upgraded.

use crate::error::{Error, Result};
use crate::storage::Table;

/// Bytes a checksum adds to every value.
pub(crate) const CRC_LEN: usize = 4;

/// The meta key whose stored length tells the two schemas apart before anything is verified:
/// schema 1 stores a bare `u32`, schema 2 the `u32` and its checksum.
pub(crate) const SCHEMA_KEY: &[u8] = b"schema_version";

pub(crate) fn crc(key: &[u8], value: &[u8]) -> u32 {
    super::crc::of_key_and_value(key, value)
}

/// Writes `value` and its checksum into `out` (exactly `value.len() + CRC_LEN` bytes).
pub(crate) fn seal_into(key: &[u8], value: &[u8], out: &mut [u8]) {
    let (body, tail) = out.split_at_mut(value.len());
    body.copy_from_slice(value);
    tail.copy_from_slice(&crc(key, value).to_le_bytes());
}

/// Checks a stored value against its checksum and returns the value without it.
pub(crate) fn open<'a>(table: Table, key: &[u8], stored: &'a [u8]) -> Result<&'a [u8]> {
    let Some(split) = stored.len().checked_sub(CRC_LEN) else {
        return Err(damaged(table, key, "is shorter than its checksum"));
    };
    let (value, tail) = stored.split_at(split);
    let mut want = [0u8; CRC_LEN];
    want.copy_from_slice(tail);
    if crc(key, value) != u32::from_le_bytes(want) {
        return Err(damaged(table, key, "does not match its checksum"));
    }
    Ok(value)
}

fn damaged(table: Table, key: &[u8], what: &str) -> Error {
    Error::corrupt(format!(
        "damaged record in table {} at key {}: the stored value {what}",
        table.name(),
        show_key(key)
    ))
}

/// A key as readable text: printable ASCII as is, other bytes escaped, long keys cut.
pub fn show_key(key: &[u8]) -> String {
    const MAX: usize = 96;
    let shown = &key[..key.len().min(MAX)];
    let mut s = format!("b\"{}\"", shown.escape_ascii());
    if key.len() > MAX {
        s.push_str(&format!("... ({} bytes)", key.len()));
    }
    s
}

/// Whether a store is schema 1 (no checksums), from the raw schema value: 4 bytes there,
/// 4 + CRC_LEN in schema 2. No value (a new store) is not legacy.
pub(crate) fn is_legacy(raw_schema: Option<&[u8]>) -> bool {
    raw_schema.is_some_and(|v| v.len() == 4)
}
