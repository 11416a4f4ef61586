//! Opaque page cursors: the position of the last item returned, so the next page resumes
//! exactly after it even when timestamps tie.

use crate::error::{Error, ErrorKind, Result};

const FORMAT: u8 = 1;
/// Largest encoded cursor: header(3) + activity(8) + session name(255).
pub const MAX_CURSOR: usize = 3 + 8 + 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    Session = 1,
    Agent = 2,
    Sessions = 3,
}

pub fn encode(kind: CursorKind, reverse: bool, position: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + position.len());
    out.extend_from_slice(&[FORMAT, kind as u8, reverse as u8]);
    out.extend_from_slice(position);
    out
}

/// Checks a cursor against the query it is being used with and returns its position bytes.
pub fn decode(bytes: &[u8], kind: CursorKind, reverse: bool) -> Result<&[u8]> {
    let bad = |why: &str| Error::new(ErrorKind::BadCursor, format!("malformed cursor: {why}"));
    if bytes.len() < 3 || bytes.len() > MAX_CURSOR {
        return Err(bad(&format!(
            "{} bytes is not a cursor length",
            bytes.len()
        )));
    }
    if bytes[0] != FORMAT {
        return Err(bad("unknown cursor format"));
    }
    if bytes[1] != kind as u8 {
        return Err(bad("the cursor belongs to a different kind of listing"));
    }
    if bytes[2] > 1 || (bytes[2] == 1) != reverse {
        return Err(bad("the cursor was made for the opposite direction"));
    }
    let position = &bytes[3..];
    let ok = match kind {
        CursorKind::Session | CursorKind::Agent => position.len() == 24,
        CursorKind::Sessions => position.len() > 8,
    };
    if !ok {
        return Err(bad("position has the wrong length"));
    }
    Ok(position)
}
