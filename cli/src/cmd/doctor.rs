//! `lmstore doctor`: the problems people meet in the field, each with its fix. Stale reader
//! slots are cleared (that is always safe: their processes are gone); permissions are fixed
//! with `--fix`; the rest say what to do.

use crate::exit::{CliError, CliResult, FAILURE};
use crate::open::{is_url, open_path, store_path, Mode};
use crate::out::{self, Tone};
use crate::Ctx;
use clap::Args;
use serde_json::{json, Value as Json};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// Apply the fixes that are safe to apply (file permissions).
    #[arg(long)]
    pub fix: bool,
    /// The growth cap the application opens the store with, in bytes (default: lmstore's
    /// default, 1 TiB). A map near its cap refuses writes soon.
    #[arg(long, value_name = "BYTES")]
    pub max_map_size: Option<u64>,
    /// Warn when the map is used beyond this fraction of the cap.
    #[arg(long, default_value_t = 0.8)]
    pub cap_warning: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Status {
    Ok,
    Fixed,
    Warning,
    Problem,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Fixed => "fixed",
            Status::Warning => "warning",
            Status::Problem => "problem",
        }
    }
}

struct Check {
    name: &'static str,
    status: Status,
    detail: String,
    fix: Option<String>,
}

fn permissions(path: &Path, apply: bool) -> Check {
    let mut loose = Vec::new();
    let mut files = vec![(path.to_path_buf(), 0o700)];
    for f in ["data.mdb", "lock.mdb"] {
        files.push((path.join(f), 0o600));
    }
    for (f, mode) in &files {
        if let Ok(m) = std::fs::metadata(f) {
            let bits = m.permissions().mode() & 0o777;
            // Files: group or others may read or write. The directory: any access at all.
            let loose_bits = if *mode == 0o700 { 0o077 } else { 0o066 };
            if bits & loose_bits != 0 {
                loose.push((f.clone(), bits, *mode));
            }
        }
    }
    if loose.is_empty() {
        return Check {
            name: "permissions",
            status: Status::Ok,
            detail: "the store is readable by its owner only".into(),
            fix: None,
        };
    }
    let listed = loose
        .iter()
        .map(|(f, bits, _)| format!("{} is {bits:o}", f.display()))
        .collect::<Vec<_>>()
        .join(", ");
    let fix = format!(
        "chmod 700 {0} && chmod 600 {0}/data.mdb {0}/lock.mdb (or run lmstore doctor --fix)",
        path.display()
    );
    if apply {
        let failed: Vec<String> = loose
            .iter()
            .filter_map(|(f, _, mode)| {
                std::fs::set_permissions(f, std::fs::Permissions::from_mode(*mode))
                    .err()
                    .map(|e| format!("{}: {e}", f.display()))
            })
            .collect();
        if failed.is_empty() {
            return Check {
                name: "permissions",
                status: Status::Fixed,
                detail: format!("others could read the store ({listed}); now owner-only"),
                fix: None,
            };
        }
        return Check {
            name: "permissions",
            status: Status::Problem,
            detail: format!(
                "others can read the store ({listed}); fixing failed: {}",
                failed.join(", ")
            ),
            fix: Some(fix),
        };
    }
    Check {
        name: "permissions",
        status: Status::Warning,
        detail: format!("others can read the store ({listed})"),
        fix: Some(fix),
    }
}

/// Below this many pages (4 MiB of 4 KiB pages) a store is too small for its fill to matter.
const FILL_MIN_PAGES: u64 = 1024;
/// A compact backup this much smaller than the file is worth a warning.
const FILL_WASTE: f64 = 0.25;

/// Appends to many sessions leave the messages table about two thirds full, and deletes leave
/// free pages: how much a compact backup would give back.
fn page_fill(u: &lmstore::lmdb::Usage) -> Check {
    let compact = u.compact_pages().min(u.file_pages);
    let saved = 1.0 - compact as f64 / u.file_pages.max(1) as f64;
    let wasteful = u.file_pages >= FILL_MIN_PAGES && saved >= FILL_WASTE;
    let bytes = |pages: u64| out::bytes(pages * u.page_size as u64);
    Check {
        name: "page fill",
        status: if wasteful { Status::Warning } else { Status::Ok },
        detail: format!(
            "{} in the file, {} of them free; a compact backup would take about {} ({:.0}% less)",
            bytes(u.file_pages),
            bytes(u.free_pages),
            bytes(compact),
            saved * 100.0
        ),
        fix: wasteful.then(|| {
            "`lmstore backup --compact DEST` writes a copy with full pages while the store stays in use; stop the applications, then swap the copy in".to_owned()
        }),
    }
}

pub fn run(ctx: &Ctx, a: DoctorArgs) -> CliResult {
    let path = store_path(ctx)?;
    let mut checks = Vec::new();
    match open_path(path, Mode::Read) {
        Err(e) if e.code == crate::exit::NOT_FOUND => return Err(e),
        Err(e) => {
            let newer = e.message.contains("newer lmstore");
            checks.push(Check {
                name: if newer { "schema" } else { "open" },
                status: Status::Problem,
                detail: e.message.clone(),
                fix: Some(if newer {
                    format!(
                        "this lmstore ({}) is older than the one that wrote the store: upgrade lmstore (and the library the application links) before touching it",
                        env!("CARGO_PKG_VERSION")
                    )
                } else {
                    "restore the latest backup, or salvage what is intact into a new store".into()
                }),
            });
        }
        Ok(store) => {
            // Reader slots, the map and file modes are LMDB's; a PostgreSQL store has none.
            let lmdb = !is_url(path);
            if lmdb {
                let at_open = store.stale_readers_cleared_at_open();
                let now = store.clear_stale_readers()?;
                let cleared = at_open + now;
                checks.push(Check {
                    name: "stale readers",
                    status: if cleared > 0 { Status::Fixed } else { Status::Ok },
                    detail: if cleared > 0 {
                        format!("cleared {cleared} reader slots left by crashed processes (they pinned old pages and made the file grow)")
                    } else {
                        "no reader slots of dead processes".into()
                    },
                    fix: None,
                });
            }
            let stats = store.stats()?;
            let current = lmstore::meta::SCHEMA_VERSION;
            let old_format = stats.schema_version < current;
            checks.push(Check {
                name: "schema",
                status: if old_format { Status::Warning } else { Status::Ok },
                detail: if old_format {
                    format!("schema {} (lmstore 0.1): reads work, writes are refused until the store is upgraded to schema {current}", stats.schema_version)
                } else {
                    format!("schema {}, the current format", stats.schema_version)
                },
                fix: old_format.then(|| {
                    "stop the applications that use the store, then run `lmstore upgrade`".to_owned()
                }),
            });
            if lmdb {
                let cap = a
                    .max_map_size
                    .unwrap_or(lmstore::lmdb::DEFAULT_MAX_MAP_SIZE as u64);
                let used = stats.env.map_used;
                let fraction = used as f64 / cap.max(1) as f64;
                checks.push(Check {
                    name: "map size",
                    status: if fraction >= a.cap_warning { Status::Warning } else { Status::Ok },
                    detail: format!(
                        "{} used of a {} cap ({:.1}%)",
                        out::bytes(used),
                        out::bytes(cap),
                        fraction * 100.0
                    ),
                    fix: (fraction >= a.cap_warning).then(|| {
                        "raise max_map_size where the application opens the store, or delete and trim data and then `lmstore backup --compact` to a new directory and swap it in".to_owned()
                    }),
                });
            }
            if lmdb {
                checks.push(page_fill(&store.usage()?));
            }
            let report = store.consistency_report()?;
            checks.push(Check {
                name: "consistency",
                status: if report.ok() { Status::Ok } else { Status::Problem },
                detail: if report.ok() {
                    "every index and counter agrees with the records".into()
                } else {
                    report.problems.join("; ")
                },
                fix: (!report.ok()).then(|| {
                    "lmstore dump the store and restore the dump into a new one (indexes and counters are rebuilt), then swap it in".to_owned()
                }),
            });
        }
    }
    if !is_url(path) {
        checks.push(permissions(path, a.fix));
    }
    let failed = checks
        .iter()
        .any(|c| matches!(c.status, Status::Warning | Status::Problem));
    if ctx.json {
        out::json_doc(&json!({
            "ok": !failed,
            "checks": checks.iter().map(|c| json!({
                "name": c.name,
                "status": c.status.word(),
                "detail": c.detail,
                "fix": c.fix,
            })).collect::<Vec<Json>>(),
        }))?;
    } else {
        for c in &checks {
            let tone = match c.status {
                Status::Ok | Status::Fixed => Tone::Good,
                Status::Warning => Tone::Warn,
                Status::Problem => Tone::Bad,
            };
            out::line(&format!(
                "{:<8} {:<14} {}",
                out::status(c.status.word(), tone),
                c.name,
                c.detail
            ))?;
            if let Some(f) = &c.fix {
                out::line(&format!("{:<8} {:<14} fix: {f}", "", ""))?;
            }
        }
    }
    if failed {
        return Err(CliError::reported(FAILURE));
    }
    Ok(())
}
