//! `lmstore dictionary train|list`: zstd dictionaries trained from the store's own messages,
//! so short chat messages compress too. Training changes how new bodies are written; nothing
//! stored is rewritten (every record names the dictionary it was written with).

use crate::exit::CliResult;
use crate::open::{open, Mode};
use crate::out::{self, Tone};
use crate::Ctx;
use clap::Subcommand;
use lmstore::meta::DictionaryInfo;
use serde_json::json;

#[derive(Subcommand, Debug)]
pub enum DictionaryCmd {
    /// Train a dictionary from the newest messages and compress new bodies with it.
    Train {
        /// Bodies (content and metadata) of this many bytes and more use the dictionary;
        /// smaller ones stay raw. Each compressed message costs read time (about 0.7 µs at
        /// 300 bytes), so a store read mostly by "latest N" may want it higher.
        #[arg(long, value_name = "BYTES", default_value_t = lmstore::format::dictionary::DEFAULT_MIN_BODY)]
        min_body: u32,
    },
    /// The store's dictionaries, oldest first; the current one has its min body.
    List,
}

/// One dictionary as `dictionary list --json` and `stat --json` show it.
pub fn to_json(d: &DictionaryInfo) -> serde_json::Value {
    json!({
        "version": d.version,
        "zstd_id": d.zstd_id,
        "bytes": d.bytes,
        "current": d.min_body.is_some(),
        "min_body": d.min_body,
    })
}

pub fn run(ctx: &Ctx, c: DictionaryCmd) -> CliResult {
    match c {
        DictionaryCmd::Train { min_body } => {
            let store = open(ctx, Mode::Write)?;
            let d = store.train_dictionary(min_body)?;
            if ctx.json {
                return out::json_doc(&to_json(&d));
            }
            out::line(&format!(
                "{} dictionary {} ({}, zstd id {}): new bodies of {} B and more are compressed with it",
                out::status("trained", Tone::Good),
                d.version,
                out::bytes(d.bytes as u64),
                d.zstd_id,
                d.min_body.unwrap_or(min_body)
            ))
        }
        DictionaryCmd::List => {
            let store = open(ctx, Mode::Read)?;
            let all = store.dictionaries()?;
            if ctx.json {
                return out::json_doc(&serde_json::Value::Array(all.iter().map(to_json).collect()));
            }
            let rows = all
                .iter()
                .map(|d| {
                    vec![
                        d.version.to_string(),
                        out::bytes(d.bytes as u64),
                        d.zstd_id.to_string(),
                        d.min_body
                            .map(|m| format!("current, from {m} B"))
                            .unwrap_or_else(|| "kept for older records".into()),
                    ]
                })
                .collect();
            out::table(&["version", "size", "zstd id", "use"], rows)
        }
    }
}
