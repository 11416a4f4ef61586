//! Opaque page cursors: the position of the last item returned, so the next page resumes
//! exactly after it even when timestamps tie, and a short hash of the query's session or agent,
//! so a cursor used with another one is refused instead of resuming it from a foreign place.

use crate::error::{Error, ErrorKind, Result};

/// Format 2 added the scope hash; format 1 cursors (without it) are refused.
const FORMAT: u8 = 2;
const HEADER: usize = 3 + 4;
/// Largest encoded cursor: header(3) + scope hash(4) + activity(8) + session name(255).
pub const MAX_CURSOR: usize = HEADER + 8 + 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    Session = 1,
    Agent = 2,
    Sessions = 3,
}

/// CRC32C of the session or agent id the listing is over (empty for the session list):
/// enough to tell queries apart, not a secret.
fn scope_hash(scope: &[u8]) -> [u8; 4] {
    crc32c::crc32c(scope).to_be_bytes()
}

/// A cursor for the listing of `kind` over `scope` (the session or agent id; empty for the
/// session list) in the given direction, positioned after `position`.
pub fn encode(kind: CursorKind, reverse: bool, scope: &[u8], position: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + position.len());
    out.extend_from_slice(&[FORMAT, kind as u8, reverse as u8]);
    out.extend_from_slice(&scope_hash(scope));
    out.extend_from_slice(position);
    out
}

/// Checks a cursor against the query it is being used with and returns its position bytes.
pub fn decode<'c>(
    bytes: &'c [u8],
    kind: CursorKind,
    reverse: bool,
    scope: &[u8],
) -> Result<&'c [u8]> {
    let bad = |why: &str| Error::new(ErrorKind::BadCursor, format!("malformed cursor: {why}"));
    if bytes.len() < HEADER || bytes.len() > MAX_CURSOR {
        return Err(bad(&format!(
            "{} bytes is not a cursor length",
            bytes.len()
        )));
    }
    if bytes[0] != FORMAT {
        return Err(bad(
            "unknown cursor format (cursors of an older lmstore are not accepted; start the listing again)",
        ));
    }
    if bytes[1] != kind as u8 {
        return Err(bad("the cursor belongs to a different kind of listing"));
    }
    if bytes[2] > 1 || (bytes[2] == 1) != reverse {
        return Err(bad("the cursor was made for the opposite direction"));
    }
    if bytes[3..HEADER] != scope_hash(scope) {
        return Err(Error::new(
            ErrorKind::BadCursor,
            match kind {
                CursorKind::Session => "the cursor belongs to another session's listing",
                CursorKind::Agent => "the cursor belongs to another agent's listing",
                CursorKind::Sessions => "malformed cursor: its scope does not match",
            },
        ));
    }
    let position = &bytes[HEADER..];
    let ok = match kind {
        CursorKind::Session | CursorKind::Agent => position.len() == 24,
        CursorKind::Sessions => position.len() > 8,
    };
    if !ok {
        return Err(bad("position has the wrong length"));
    }
    Ok(position)
}
