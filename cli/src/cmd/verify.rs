//! `lmstore verify`: first every page of every table with lmstore's own bounds-checked reader
//! (the file is not opened with LMDB, so damage cannot crash the tool), then, when the pages
//! are sound, every index against its records and every counter against a count. Each
//! problem is named; exit 1 on any.

use crate::exit::{CliError, CliResult};
use crate::open::{is_url, open, store_path, Mode};
use crate::out::{self, Tone};
use crate::Ctx;
use serde_json::json;

pub fn run(ctx: &Ctx) -> CliResult {
    let path = store_path(ctx)?;
    if is_url(path) {
        return run_records_only(ctx);
    }
    if !path.join("data.mdb").is_file() {
        // No store here: let open say so in its words.
        open(ctx, Mode::Read)?;
    }
    let pages = lmstore::recovery::verify_path(path)?;
    let mut problems: Vec<String> = pages
        .damage
        .iter()
        .map(|d| format!("page damage: {d}"))
        .collect();
    if pages.damage_count > pages.damage.len() as u64 {
        problems.push(format!(
            "... and {} more damaged places",
            pages.damage_count - pages.damage.len() as u64
        ));
    }
    // LMDB opens the file and records are read only when the pages are sound.
    let consistency = if pages.is_ok() {
        Some(open(ctx, Mode::Read)?.consistency_report()?)
    } else {
        None
    };
    if let Some(c) = &consistency {
        problems.extend(c.problems.iter().cloned());
    }
    let ok = problems.is_empty();
    if ctx.json {
        out::json_doc(&json!({
            "ok": ok,
            "pages": {
                "ok": pages.is_ok(),
                "page_size": pages.page_size,
                "file_pages": pages.file_pages,
                "free_pages": pages.free_pages,
                "damage_count": pages.damage_count,
                "damage": pages.damage.iter().map(|d| json!({
                    "page": d.page, "table": d.table, "what": d.what,
                })).collect::<Vec<_>>(),
            },
            "checked": consistency.as_ref().map(|c| json!({
                "messages": c.messages,
                "template_ids": c.template_ids,
                "template_versions": c.template_versions,
                "aliases": c.aliases,
            })),
            "problems": problems,
        }))?;
    } else {
        let summary = match &consistency {
            Some(c) => format!(
                "{} pages, {} messages, {} template ids, {} versions, {} aliases checked",
                pages.file_pages, c.messages, c.template_ids, c.template_versions, c.aliases
            ),
            None => format!(
                "{} pages checked; records not checked because pages are damaged",
                pages.file_pages
            ),
        };
        if ok {
            out::line(&format!("{} {summary}", out::status("ok", Tone::Good)))?;
        } else {
            for p in &problems {
                out::line(&format!("{} {p}", out::status("problem:", Tone::Bad)))?;
            }
            out::line(&format!("{} problems; {summary}", problems.len()))?;
        }
    }
    if ok {
        Ok(())
    } else {
        Err(CliError::reported(crate::exit::FAILURE))
    }
}

/// A PostgreSQL store has no pages of ours to walk: the server checks its own. Every index
/// against its records and every counter against a count, as for LMDB.
fn run_records_only(ctx: &Ctx) -> CliResult {
    let c = open(ctx, Mode::Read)?.consistency_report()?;
    let ok = c.problems.is_empty();
    if ctx.json {
        out::json_doc(&json!({
            "ok": ok,
            "pages": null,
            "checked": {
                "messages": c.messages,
                "template_ids": c.template_ids,
                "template_versions": c.template_versions,
                "aliases": c.aliases,
            },
            "problems": c.problems,
        }))?;
    } else {
        let summary = format!(
            "{} messages, {} template ids, {} versions, {} aliases checked (PostgreSQL: no pages to walk)",
            c.messages, c.template_ids, c.template_versions, c.aliases
        );
        if ok {
            out::line(&format!("{} {summary}", out::status("ok", Tone::Good)))?;
        } else {
            for p in &c.problems {
                out::line(&format!("{} {p}", out::status("problem:", Tone::Bad)))?;
            }
            out::line(&format!("{} problems; {summary}", c.problems.len()))?;
        }
    }
    if ok {
        Ok(())
    } else {
        Err(CliError::reported(crate::exit::FAILURE))
    }
}
