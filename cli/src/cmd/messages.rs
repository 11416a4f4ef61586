//! `lmstore messages tail SESSION [-n N] [--follow]` and `messages get ID`.
//!
//! Following never reads data to find out whether something changed: it polls LMDB's last
//! committed transaction id (a read of the meta page, in memory) every 100 ms and reads the
//! session only when that id moved, so another process's append shows within ~0.1 s.

use crate::exit::{CliError, CliResult};
use crate::json::{decode, field, to_json};
use crate::open::{open, Mode};
use crate::out;
use crate::Ctx;
use clap::Subcommand;
use lmstore::conversations::RangeQuery;
use lmstore::ErrorKind;
use serde_json::Value as Json;
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum MessagesCmd {
    /// The last messages of a session, oldest first; --follow prints new ones as they arrive.
    Tail {
        session: String,
        /// How many of the latest messages to print first.
        #[arg(short = 'n', long = "lines", default_value_t = 50)]
        n: u32,
        /// Keep running and print messages appended from now on (by any process).
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// One message by id.
    Get {
        /// The message id (a UUID).
        id: uuid::Uuid,
    },
}

const POLL: Duration = Duration::from_millis(100);

fn page(store: &lmstore::Store, session: &str, q: &RangeQuery<'_>) -> CliResult<(Vec<Json>, bool)> {
    let p = store.range_messages(session.as_bytes(), q)?;
    let items = match to_json(&decode(p.bytes())?) {
        Json::Array(items) => items,
        _ => Vec::new(),
    };
    Ok((items, p.next.is_some()))
}

fn print(ctx: &Ctx, m: &Json) -> CliResult {
    if ctx.json {
        return out::json_line(m);
    }
    let who = match field(m, "agent_id").as_str() {
        Some(a) => format!("{}@{a}", field(m, "role").as_str().unwrap_or("")),
        None => field(m, "role").as_str().unwrap_or("").to_owned(),
    };
    let text = format!(
        "{}  {who}: {}",
        out::time(field(m, "ts").as_i64().unwrap_or(0)),
        field(m, "content").as_str().unwrap_or("")
    );
    let mut stdout = std::io::stdout().lock();
    use std::io::Write;
    writeln!(stdout, "{text}")?;
    stdout.flush()?;
    Ok(())
}

/// (ts, id) of a message, the order of a session.
fn position(m: &Json) -> (i64, String) {
    (
        field(m, "ts").as_i64().unwrap_or(0),
        field(m, "id").as_str().unwrap_or("").to_owned(),
    )
}

fn tail(ctx: &Ctx, session: &str, n: u32, follow: bool) -> CliResult {
    let store = open(ctx, Mode::Read)?;
    match store.get_session(session.as_bytes()) {
        Ok(_) => {}
        Err(e) if e.kind == ErrorKind::NotFound && follow => {}
        Err(e) => return Err(e.into()),
    }
    // Taken before anything is read: a commit that lands while the tail below is read moves
    // the id past this one, so the loop reads again (what was printed is skipped by position).
    let mut seen_txn = if follow { store.last_txn_id()? } else { 0 };
    let mut last: Option<(i64, String)> = None;
    if n > 0 {
        let q = RangeQuery {
            limit: n.min(lmstore::conversations::MAX_PAGE),
            reverse: true,
            ..Default::default()
        };
        let (mut items, _) = page(&store, session, &q)?;
        items.reverse();
        for m in &items {
            print(ctx, m)?;
        }
        last = items.last().map(position);
    }
    if !follow {
        return Ok(());
    }
    // Where to resume when nothing was printed: after whatever the session holds now.
    if last.is_none() {
        let q = RangeQuery {
            limit: 1,
            reverse: true,
            ..Default::default()
        };
        last = page(&store, session, &q)?.0.last().map(position);
    }
    loop {
        std::thread::sleep(POLL);
        let txn = store.last_txn_id()?;
        if txn == seen_txn {
            continue;
        }
        seen_txn = txn;
        loop {
            let q = RangeQuery {
                start: last.as_ref().map(|(ts, _)| *ts),
                limit: 1000,
                ..Default::default()
            };
            let (items, more) = page(&store, session, &q)?;
            for m in items {
                let pos = position(&m);
                if last.as_ref().is_some_and(|l| pos <= *l) {
                    continue;
                }
                print(ctx, &m)?;
                last = Some(pos);
            }
            if !more {
                break;
            }
        }
    }
}

pub fn run(ctx: &Ctx, c: MessagesCmd) -> CliResult {
    match c {
        MessagesCmd::Tail { session, n, follow } => tail(ctx, &session, n, follow),
        MessagesCmd::Get { id } => {
            let store = open(ctx, Mode::Read)?;
            let m = store
                .with_message(id.as_bytes(), |r| decode(r).map(|v| to_json(&v)))
                .map_err(CliError::from)??;
            if ctx.json {
                return out::json_doc(&m);
            }
            let mut rows = vec![
                ("id", field(&m, "id").as_str().unwrap_or("").to_owned()),
                (
                    "session",
                    field(&m, "session_id").as_str().unwrap_or("").to_owned(),
                ),
                ("time", out::time(field(&m, "ts").as_i64().unwrap_or(0))),
                ("role", field(&m, "role").as_str().unwrap_or("").to_owned()),
            ];
            if let Some(a) = field(&m, "agent_id").as_str() {
                rows.push(("agent", a.to_owned()));
            }
            if let Some(r) = field(&m, "in_reply_to").as_str() {
                rows.push(("in reply to", r.to_owned()));
            }
            rows.push(("metadata", field(&m, "metadata").to_string()));
            out::pairs(&rows)?;
            out::line("")?;
            out::line(field(&m, "content").as_str().unwrap_or(""))
        }
    }
}
