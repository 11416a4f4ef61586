//! `lmstore dump [-o FILE]` and `lmstore restore [FILE]`: the library's versioned JSON Lines
//! dump (`Store::dump` / `Store::restore`), with progress bars on a terminal.

use crate::exit::{CliError, CliResult};
use crate::open::{open, open_path, store_path, Mode};
use crate::Ctx;
use crate::{out, progress};
use clap::Args;
use serde_json::json;
use std::io::{BufReader, BufWriter, Read};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DumpArgs {
    /// Write the dump here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The dump to load ('-' or nothing for stdin).
    pub input: Option<PathBuf>,
}

fn counts_json(c: &lmstore::transfer::TransferCounts) -> serde_json::Value {
    json!({
        "template_versions": c.template_versions,
        "aliases": c.aliases,
        "sessions": c.sessions,
        "messages": c.messages,
    })
}

pub fn dump(ctx: &Ctx, a: DumpArgs) -> CliResult {
    let store = open(ctx, Mode::Read)?;
    let s = store.stats()?;
    let bar = progress::items(s.template_versions + s.sessions + s.messages, "dump");
    let mut tick = |c: &lmstore::transfer::TransferCounts| {
        let done = c.records();
        if bar.length().is_some_and(|l| done > l) {
            bar.set_length(done);
        }
        bar.set_position(done);
    };
    let counts = match &a.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| CliError::failure(format!("{}: {e}", path.display())))?;
            let mut w = BufWriter::new(file);
            store.dump(&mut w, &mut tick)?
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            store.dump(&mut w, &mut tick).map_err(|e| {
                if e.message.contains("Broken pipe") {
                    CliError::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
                } else {
                    e.into()
                }
            })?
        }
    };
    bar.finish_with_message("dump done");
    // The dump itself may be on stdout: the summary goes to stderr, or to stdout with -o.
    match (&a.output, ctx.json) {
        (Some(_), true) => out::json_doc(&counts_json(&counts)),
        (Some(path), false) => out::line(&format!(
            "dumped {} template versions, {} aliases, {} sessions, {} messages to {}",
            counts.template_versions,
            counts.aliases,
            counts.sessions,
            counts.messages,
            path.display()
        )),
        (None, _) => Ok(()),
    }
}

pub fn restore(ctx: &Ctx, a: RestoreArgs) -> CliResult {
    let path = store_path(ctx)?.to_path_buf();
    let created = !path.exists();
    let (reader, size): (Box<dyn Read>, u64) =
        match a.input.as_ref().filter(|p| p.as_os_str() != "-") {
            Some(p) => {
                let f = std::fs::File::open(p)
                    .map_err(|e| CliError::failure(format!("{}: {e}", p.display())))?;
                let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                (Box::new(f), size)
            }
            None => (Box::new(std::io::stdin()), 0),
        };
    let store = open_path(&path, Mode::Create)?;
    let bar = if size > 0 {
        progress::bytes(size, "restore")
    } else {
        progress::items(0, "restore")
    };
    let mut input = BufReader::with_capacity(1 << 20, reader);
    let result = store.restore(&mut input, &mut |c, read| {
        if size > 0 {
            bar.set_position(read);
        } else {
            bar.set_position(c.records());
        }
    });
    let counts = match result {
        Ok(c) => c,
        Err(e) => {
            bar.abandon_with_message("restore failed");
            drop(store);
            // Nothing half-written: a store this command created goes away with the failure.
            if created {
                let _ = std::fs::remove_dir_all(&path);
            }
            return Err(e.into());
        }
    };
    bar.finish_with_message("restore done");
    if ctx.json {
        return out::json_doc(&counts_json(&counts));
    }
    out::line(&format!(
        "restored {} template versions, {} aliases, {} sessions, {} messages into {}",
        counts.template_versions,
        counts.aliases,
        counts.sessions,
        counts.messages,
        path.display()
    ))
}
