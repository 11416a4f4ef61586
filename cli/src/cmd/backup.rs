//! `lmstore backup DEST [--compact]`: a hot copy from one read snapshot (readers and writers
//! go on), with a progress bar fed by the size of the file being written. `--compact` rewrites
//! every table with full pages, lmstore's VACUUM INTO.

use crate::exit::{CliError, CliResult};
use crate::open::{open, shown, Mode};
use crate::Ctx;
use crate::{out, progress};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// An empty or missing directory to write the copy into.
    pub dest: PathBuf,
    /// Rewrite every table with full pages, leaving out free pages, and compress older message
    /// bodies with the current dictionary if there is one (smaller, slower).
    #[arg(long)]
    pub compact: bool,
}

fn check_dest(dest: &Path) -> CliResult {
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(CliError::failure(format!(
                    "backup target {} is not empty; give a new or empty directory",
                    dest.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CliError::failure(format!(
            "backup target {}: {e}",
            dest.display()
        ))),
    }
}

pub fn run(ctx: &Ctx, a: BackupArgs) -> CliResult {
    let store = open(ctx, Mode::Read)?;
    check_dest(&a.dest)?;
    let e = store.env_stat(false)?;
    let used = e.pages_used * e.page_size as u64;
    // A compacted copy leaves out the free pages (and fills the rest, so it ends up smaller).
    let expected = if a.compact {
        used.saturating_sub(e.free_pages * e.page_size as u64)
    } else {
        used
    };
    let bar = progress::bytes(expected, "backup");
    let started = Instant::now();
    let target = a.dest.join("data.mdb");
    // A compact copy grows in a staging directory and moves into place when complete.
    let staged = a.dest.join(lmstore::BACKUP_STAGING).join("data.mdb");
    let result = std::thread::scope(|scope| {
        let copy = scope.spawn(|| store.backup(&a.dest, a.compact));
        while !copy.is_finished() {
            if let Ok(m) = std::fs::metadata(&staged).or_else(|_| std::fs::metadata(&target)) {
                bar.set_position(m.len().min(expected));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        copy.join().unwrap_or_else(|_| {
            Err(lmstore::Error::new(
                lmstore::ErrorKind::Internal,
                "backup thread panicked",
            ))
        })
    });
    let written = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    if let Err(e) = result {
        bar.abandon_with_message("backup failed");
        return Err(e.into());
    }
    bar.set_length(written.max(1));
    bar.set_position(written);
    bar.finish_with_message("backup done");
    let took = started.elapsed();
    if ctx.json {
        out::json_doc(&json!({
            "dest": shown(&a.dest),
            "compact": a.compact,
            "bytes": written,
            "seconds": took.as_secs_f64(),
        }))
    } else {
        out::line(&format!(
            "backed up {} to {} in {:.2}s{}",
            out::bytes(written),
            shown(&a.dest).display(),
            took.as_secs_f64(),
            if a.compact { " (compacted)" } else { "" }
        ))
    }
}
