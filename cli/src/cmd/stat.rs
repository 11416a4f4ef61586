//! `lmstore stat`: what `mdb_stat -aefr` and the store's counters say, from one snapshot.

use crate::exit::CliResult;
use crate::open::{is_url, open, shown, Mode};
use crate::out;
use crate::Ctx;
use clap::Args;
use lmstore::meta::DictionaryInfo;
use serde_json::json;

#[derive(Args, Debug)]
pub struct StatArgs {
    /// Skip measuring page fill (it reads every record; the rest is instant).
    #[arg(long)]
    pub no_fill: bool,
}

pub fn run(ctx: &Ctx, a: StatArgs) -> CliResult {
    let store = open(ctx, Mode::Read)?;
    let s = store.stats()?;
    let dicts = store.dictionaries()?;
    if is_url(store.path()) {
        return counts_only(ctx, &store, &s, &dicts);
    }
    let e = store.env_stat(!a.no_fill)?;
    let (ma, mi, pa) = lmstore::lmdb::lmdb_version();
    let map_used = e.pages_used * e.page_size as u64;
    let stale = e.readers.iter().filter(|r| !r.alive).count();
    let cleared = store.stale_readers_cleared_at_open();
    let doc = json!({
        "store": shown(store.path()),
        "lmstore_version": env!("CARGO_PKG_VERSION"),
        "schema_version": s.schema_version,
        "lmdb_version": format!("{ma}.{mi}.{pa}"),
        "counts": {
            "template_ids": s.template_ids,
            "template_versions": s.template_versions,
            "sessions": s.sessions,
            "messages": s.messages,
        },
        "templates_modified_at": s.templates_modified_at,
        "bodies": bodies_json(&s, &dicts),
        "map": {
            "size": e.map_size,
            "used": map_used,
            "used_fraction": map_used as f64 / e.map_size.max(1) as f64,
            "page_size": e.page_size,
            "pages_used": e.pages_used,
            "free_pages": e.free_pages,
            "free_list_pages": e.free_db.pages(),
        },
        "last_txn_id": e.last_txn_id,
        "readers": {
            "max": e.max_readers,
            "in_use": e.readers.len(),
            "stale": stale,
            "stale_cleared_at_open": cleared,
            "slots": e.readers.iter().map(|r| json!({
                "pid": r.pid, "thread": r.thread, "txn_id": r.txn_id, "alive": r.alive,
            })).collect::<Vec<_>>(),
        },
        "tables": e.tables.iter().chain([&e.main, &e.free_db]).map(|t| json!({
            "name": t.name,
            "entries": t.entries,
            "depth": t.depth,
            "branch_pages": t.branch_pages,
            "leaf_pages": t.leaf_pages,
            "overflow_pages": t.overflow_pages,
            "payload_bytes": if a.no_fill || t.name.starts_with('(') { None } else { Some(t.payload_bytes) },
            "fill": t.fill,
        })).collect::<Vec<_>>(),
    });
    if ctx.json {
        return out::json_doc(&doc);
    }
    let counts = count_rows(&s, &dicts);
    out::pairs(&[
        ("store", shown(store.path()).display().to_string()),
        (
            "versions",
            format!(
                "lmstore {}, schema {}, LMDB {ma}.{mi}.{pa}",
                env!("CARGO_PKG_VERSION"),
                s.schema_version
            ),
        ),
        counts[0].clone(),
        counts[1].clone(),
        counts[2].clone(),
        (
            "map",
            format!(
                "{} used of {} mapped ({:.1}%), page size {}",
                out::bytes(map_used),
                out::bytes(e.map_size),
                100.0 * map_used as f64 / e.map_size.max(1) as f64,
                e.page_size
            ),
        ),
        (
            "free pages",
            format!(
                "{} ({}) in a free list of {} pages",
                e.free_pages,
                out::bytes(e.free_pages * e.page_size as u64),
                e.free_db.pages()
            ),
        ),
        (
            "readers",
            format!(
                "{} of {} slots in use, {} stale{}",
                e.readers.len(),
                e.max_readers,
                stale,
                if cleared > 0 {
                    format!(" ({cleared} stale cleared when this command opened the store)")
                } else {
                    String::new()
                }
            ),
        ),
        ("last txn", e.last_txn_id.to_string()),
    ])?;
    out::line("")?;
    let rows = e
        .tables
        .iter()
        .chain([&e.main, &e.free_db])
        .map(|t| {
            vec![
                t.name.clone(),
                t.entries.to_string(),
                t.depth.to_string(),
                t.branch_pages.to_string(),
                t.leaf_pages.to_string(),
                t.overflow_pages.to_string(),
                t.fill
                    .map(|f| format!("{:.0}%", f * 100.0))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    out::table(
        &[
            "table", "entries", "depth", "branch", "leaf", "overflow", "fill",
        ],
        rows,
    )
}

/// A PostgreSQL store: the counts and versions (map, pages and readers are LMDB's).
fn counts_only(
    ctx: &Ctx,
    store: &lmstore::Store,
    s: &lmstore::Stats,
    dicts: &[DictionaryInfo],
) -> CliResult {
    if ctx.json {
        return out::json_doc(&json!({
            "store": store.path(),
            "backend": "postgres",
            "lmstore_version": env!("CARGO_PKG_VERSION"),
            "schema_version": s.schema_version,
            "counts": {
                "template_ids": s.template_ids,
                "template_versions": s.template_versions,
                "sessions": s.sessions,
                "messages": s.messages,
            },
            "templates_modified_at": s.templates_modified_at,
            "bodies": bodies_json(s, dicts),
        }));
    }
    let counts = count_rows(s, dicts);
    out::pairs(&[
        ("store", store.path().display().to_string()),
        (
            "versions",
            format!(
                "lmstore {}, schema {}, PostgreSQL backend",
                env!("CARGO_PKG_VERSION"),
                s.schema_version
            ),
        ),
        counts[0].clone(),
        counts[1].clone(),
        counts[2].clone(),
    ])
}

/// Message bodies (content and metadata) as given and as stored: what compression saved, and
/// with which dictionary new bodies are compressed.
fn bodies_json(s: &lmstore::Stats, dicts: &[DictionaryInfo]) -> serde_json::Value {
    json!({
        "bytes": s.body_bytes,
        "stored_bytes": s.body_stored_bytes,
        "saved_fraction": saved(s),
        "dictionaries": dicts.len(),
        "current_dictionary": current(dicts).map(crate::cmd::dictionary::to_json),
    })
}

fn current(dicts: &[DictionaryInfo]) -> Option<&DictionaryInfo> {
    dicts.iter().find(|d| d.min_body.is_some())
}

fn saved(s: &lmstore::Stats) -> f64 {
    if s.body_bytes == 0 {
        0.0
    } else {
        1.0 - s.body_stored_bytes as f64 / s.body_bytes as f64
    }
}

/// The lines of counts both backends show.
fn count_rows(s: &lmstore::Stats, dicts: &[DictionaryInfo]) -> [(&'static str, String); 3] {
    let dictionary = match current(dicts) {
        Some(d) => format!(
            "; new bodies from {} B use dictionary {} of {}",
            d.min_body.unwrap_or(0),
            d.version,
            dicts.len()
        ),
        None => "; no dictionary (lmstore dictionary train)".into(),
    };
    [
        (
            "templates",
            format!(
                "{} ids, {} versions (last change {})",
                s.template_ids,
                s.template_versions,
                out::time(s.templates_modified_at)
            ),
        ),
        (
            "conversations",
            format!("{} sessions, {} messages", s.sessions, s.messages),
        ),
        (
            "bodies",
            format!(
                "{} of message text and metadata stored in {} (compression saved {:.1}%{dictionary})",
                out::bytes(s.body_bytes),
                out::bytes(s.body_stored_bytes),
                100.0 * saved(s)
            ),
        ),
    ]
}
