//! One error type for every layer; the C ABI maps its kind onto a stable status code.

use std::fmt;

/// What went wrong, in the categories a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    NotFound,
    InvalidArgument,
    Conflict,
    MapFull,
    Io,
    Corrupt,
    VersionMismatch,
    Internal,
    KeyTooLong,
    InvalidUtf8,
    BadMsgpack,
    BadCursor,
    ReadOnly,
    TooLarge,
    BufferTooSmall,
    /// The path holds a file or an LMDB environment that is not an lmstore (refused untouched).
    NotAStore,
    /// The operation means nothing for this store's engine (LMDB backup on PostgreSQL).
    Unsupported,
    /// A render input is missing or has the wrong type.
    Input,
    /// The template failed to compile or render.
    Render,
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// The raw LMDB or errno code behind the error, 0 when there is none.
    pub os_code: i32,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            os_code: 0,
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, message)
    }
    pub fn bad_msgpack(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadMsgpack, message)
    }
    /// Prefix the message with what was being done, keeping kind and code.
    pub fn context(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Checks that `bytes` are UTF-8 and names the field when they are not.
pub fn utf8<'a>(bytes: &'a [u8], field: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::InvalidUtf8,
            format!(
                "{field} is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}
