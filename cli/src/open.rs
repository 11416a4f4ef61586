//! Finding and opening the store. Nothing here creates a store unless the command asks to
//! (restore); an existing store is always opened read-only first, so a directory of another
//! program is refused before anything could be written to it.

use crate::exit::{CliError, CliResult};
use crate::Ctx;
use lmstore::{OpenOptions, Store};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read-only: never takes the write lock.
    Read,
    /// Writes to an existing store.
    Write,
    /// Writes, creating the store when the directory (or its data file) does not exist yet.
    Create,
}

pub fn store_path(ctx: &Ctx) -> CliResult<&Path> {
    ctx.store.as_deref().ok_or_else(|| {
        CliError::usage("no store given: pass --store PATH or set the LMSTORE environment variable")
    })
}

/// Whether `path` holds a store (a directory with data.mdb), checking what can be told from
/// the file system alone.
fn existing(path: &Path) -> CliResult<bool> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(CliError::failure(format!("{}: {e}", path.display()))),
        Ok(m) if !m.is_dir() => Err(CliError::failure(format!(
            "{} is a file, not an lmstore store (a store is a directory holding data.mdb)",
            path.display()
        ))),
        Ok(_) => Ok(path.join("data.mdb").exists()),
    }
}

pub fn open(ctx: &Ctx, mode: Mode) -> CliResult<Store> {
    open_path(store_path(ctx)?, mode)
}

/// Whether `path` is a PostgreSQL URL rather than a directory.
pub fn is_url(path: &Path) -> bool {
    path.to_str()
        .is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

pub fn open_path(path: &Path, mode: Mode) -> CliResult<Store> {
    if is_url(path) {
        // The server says whether the store exists; read-only never creates its tables.
        return Store::open(
            path,
            OpenOptions {
                read_only: mode == Mode::Read,
                ..Default::default()
            },
        )
        .map_err(|e| refuse(path, e));
    }
    if !existing(path)? {
        if mode != Mode::Create {
            return Err(CliError::not_found(format!(
                "no lmstore store at {} ({})",
                path.display(),
                if path.exists() {
                    "the directory holds no data.mdb"
                } else {
                    "no such directory"
                }
            )));
        }
        return Ok(Store::open(path, OpenOptions::default())?);
    }
    let read_only = Store::open(
        path,
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .map_err(|e| refuse(path, e))?;
    if mode == Mode::Read {
        return Ok(read_only);
    }
    drop(read_only);
    Ok(Store::open(path, OpenOptions::default())?)
}

/// Open errors name the store; a foreign LMDB environment is "not an lmstore", a failure
/// rather than "not found" (the directory exists; it holds something else).
fn refuse(path: &Path, e: lmstore::Error) -> CliError {
    let foreign = e.message.contains("is not an lmstore");
    let mut err = CliError::from(e);
    if foreign {
        err.code = crate::exit::FAILURE;
        err.kind = "failure";
    }
    if !err.message.contains(&path.display().to_string()) {
        err.message = format!("{}: {}", path.display(), err.message);
    }
    err
}

/// A canonical form of a path for reports.
pub fn shown(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}
