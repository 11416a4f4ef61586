//! `lmstore sessions list`: sessions by most recent activity.

use crate::exit::CliResult;
use crate::json::{decode, field, to_json};
use crate::open::{open, Mode};
use crate::out;
use crate::Ctx;
use clap::Subcommand;
use serde_json::Value as Json;

#[derive(Subcommand, Debug)]
pub enum SessionsCmd {
    /// Sessions, most recently active first.
    List {
        /// How many to show (0: all).
        #[arg(long, short = 'n', default_value_t = 100)]
        limit: u64,
    },
}

/// Every session (up to `limit`, 0 for all), newest activity first, paging underneath.
pub fn collect(store: &lmstore::Store, limit: u64) -> CliResult<Vec<Json>> {
    let mut out = Vec::new();
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let want = if limit == 0 {
            1000
        } else {
            (limit - out.len() as u64).min(1000) as u32
        };
        if want == 0 {
            break;
        }
        let page = store.list_sessions(cursor.as_deref(), want)?;
        if let Json::Array(items) = to_json(&decode(page.bytes())?) {
            out.extend(items);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(out)
}

pub fn run(ctx: &Ctx, c: SessionsCmd) -> CliResult {
    match c {
        SessionsCmd::List { limit } => {
            let store = open(ctx, Mode::Read)?;
            let sessions = collect(&store, limit)?;
            if ctx.json {
                return out::json_doc(&Json::Array(sessions));
            }
            let rows = sessions
                .iter()
                .map(|s| {
                    vec![
                        field(s, "session_id")
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        field(s, "message_count").to_string(),
                        out::time(field(s, "last_activity").as_i64().unwrap_or(0)),
                        out::time(field(s, "created_at").as_i64().unwrap_or(0)),
                        field(s, "title").as_str().unwrap_or("").to_owned(),
                    ]
                })
                .collect();
            out::table(
                &["session", "messages", "last activity", "created", "title"],
                rows,
            )
        }
    }
}
