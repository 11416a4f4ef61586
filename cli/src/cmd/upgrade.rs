//! `lmstore upgrade`: rewrites a store written by lmstore 0.1 (schema 1) in the current format
//! (schema 2: checksummed values, compact message records). A schema-1 store reads as it is
//! but refuses writes until upgraded. One write transaction: a crash leaves the old store, and
//! running the command again starts over. Other processes should have the store closed.

use crate::exit::CliResult;
use crate::open::{open, Mode};
use crate::out::{self, Tone};
use crate::Ctx;
use serde_json::json;

pub fn run(ctx: &Ctx) -> CliResult {
    let store = open(ctx, Mode::Write)?;
    let done = store.upgrade()?;
    let changed = done.from_schema < lmstore::meta::SCHEMA_VERSION;
    let to = done.from_schema.max(lmstore::meta::SCHEMA_VERSION);
    if ctx.json {
        out::json_doc(&json!({
            "from_schema": done.from_schema,
            "to_schema": to,
            "upgraded": changed,
            "values": done.values,
            "messages": done.messages,
        }))?;
    } else if changed {
        out::line(&format!(
            "{} schema {} -> {to}: {} values rewritten, {} messages in the compact form",
            out::status("upgraded", Tone::Good),
            done.from_schema,
            done.values,
            done.messages
        ))?;
    } else {
        out::line(&format!(
            "{} already at schema {to}; nothing to do",
            out::status("ok", Tone::Good)
        ))?;
    }
    Ok(())
}
