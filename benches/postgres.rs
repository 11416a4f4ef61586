//! lmstore on PostgreSQL against what a user would write instead: a hand-written `messages`
//! table with typed columns, an index on (session, ts, id) and prepared statements, on the
//! same server in the same run; and lmstore on LMDB beside both, so the cost of leaving one
//! machine is visible. Run by scripts/bench-pg.sh (a server with fsync on); see
//! docs/benchmarks.md. LMSTORE_BENCH_SCALE=smoke runs it tiny, only to prove it works.
//!
//! Scenarios: the latest 50 of a 1,000-message session; a batched append of 1,000; a single
//! durable append; single durable appends from 1 and from 8 processes, each on its own
//! session (and, for contrast, 8 on one shared session).

use lmstore::conversations::{NewMessage, RangeQuery};
use lmstore::{OpenOptions, Store};
use postgres::{Client, NoTls};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const CHILD: &str = "--append-child";

fn msg(session: &str, n: usize) -> NewMessage {
    let content = format!("message {n}: {}", "lorem ipsum dolor sit amet ".repeat(4));
    NewMessage::new(
        session.as_bytes(),
        None,
        None,
        if n % 2 == 0 { b"user" } else { b"assistant" },
        (n % 2 == 1).then_some(b"bot".as_slice()),
        content.as_bytes(),
        None,
        &[0x81, 0xa6, b't', b'o', b'k', b'e', b'n', b's', 0x2a],
    )
    .expect("message")
}

fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

/// The hand-written peer: what a user writes without lmstore.
struct Sql {
    client: Client,
    insert: postgres::Statement,
    insert_many: postgres::Statement,
    latest: postgres::Statement,
}

/// A row as the hand-written peer hands it to its user: every column typed.
#[allow(dead_code)]
struct Row {
    session: String,
    ts: i64,
    id: Vec<u8>,
    role: String,
    agent: Option<String>,
    content: String,
    metadata: Vec<u8>,
}

impl Sql {
    fn open(url: &str, create: bool) -> Sql {
        let mut client = Client::connect(url, NoTls).expect("connect");
        if create {
            client
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS messages (
                        id bytea PRIMARY KEY,
                        session text NOT NULL,
                        ts bigint NOT NULL,
                        role text NOT NULL,
                        agent text,
                        content text NOT NULL,
                        metadata bytea NOT NULL
                    );
                    CREATE INDEX IF NOT EXISTS messages_session ON messages (session, ts, id);",
                )
                .expect("create");
        }
        let insert = client
            .prepare("INSERT INTO messages VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .expect("prepare");
        let insert_many = client
            .prepare(
                "INSERT INTO messages SELECT * FROM unnest($1::bytea[], $2::text[], $3::int8[], \
                 $4::text[], $5::text[], $6::text[], $7::bytea[])",
            )
            .expect("prepare");
        let latest = client
            .prepare(
                "SELECT session, ts, id, role, agent, content, metadata FROM messages \
                 WHERE session = $1 ORDER BY ts DESC, id DESC LIMIT $2",
            )
            .expect("prepare");
        Sql {
            client,
            insert,
            insert_many,
            latest,
        }
    }

    fn append(&mut self, m: &NewMessage, ts: i64) {
        self.client
            .execute(
                &self.insert,
                &[
                    &m.id.as_slice(),
                    &m.session_id,
                    &ts,
                    &m.role,
                    &m.agent_id,
                    &m.content,
                    &m.metadata,
                ],
            )
            .expect("insert");
    }

    fn append_batch(&mut self, ms: &[NewMessage], ts: i64) {
        let ids: Vec<&[u8]> = ms.iter().map(|m| m.id.as_slice()).collect();
        let sessions: Vec<&str> = ms.iter().map(|m| m.session_id.as_str()).collect();
        let tss: Vec<i64> = (0..ms.len() as i64).map(|i| ts + i).collect();
        let roles: Vec<&str> = ms.iter().map(|m| m.role.as_ref()).collect();
        let agents: Vec<Option<&str>> = ms.iter().map(|m| m.agent_id.as_deref()).collect();
        let contents: Vec<&str> = ms.iter().map(|m| m.content.as_str()).collect();
        let metas: Vec<&[u8]> = ms.iter().map(|m| m.metadata.as_slice()).collect();
        self.client
            .execute(
                &self.insert_many,
                &[&ids, &sessions, &tss, &roles, &agents, &contents, &metas],
            )
            .expect("insert batch");
    }

    /// The same batch as 1,000 executions of the prepared single-row INSERT in one transaction.
    fn append_batch_rows(&mut self, ms: &[NewMessage], ts: i64) {
        let mut tx = self.client.transaction().expect("begin");
        for (i, m) in ms.iter().enumerate() {
            tx.execute(
                &self.insert,
                &[
                    &m.id.as_slice(),
                    &m.session_id,
                    &(ts + i as i64),
                    &m.role,
                    &m.agent_id,
                    &m.content,
                    &m.metadata,
                ],
            )
            .expect("insert");
        }
        tx.commit().expect("commit");
    }

    fn latest(&mut self, session: &str, n: i64) -> Vec<Row> {
        self.client
            .query(&self.latest, &[&session, &n])
            .expect("latest")
            .iter()
            .map(|r| Row {
                session: r.get(0),
                ts: r.get(1),
                id: r.get(2),
                role: r.get(3),
                agent: r.get(4),
                content: r.get(5),
                metadata: r.get(6),
            })
            .collect()
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Microseconds per call of `f`, the median of `rounds` rounds of `n` calls.
fn time_per(rounds: usize, n: usize, mut f: impl FnMut(usize)) -> f64 {
    let mut per = Vec::new();
    for r in 0..rounds {
        let t = Instant::now();
        for i in 0..n {
            f(r * n + i);
        }
        per.push(t.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    per.sort_by(|a, b| a.total_cmp(b));
    per[per.len() / 2]
}

/// The child process: opens its store, waits for the common start time (so opening is not
/// measured and every writer starts together), makes `n` single appends to `session` through
/// `kind`, and prints the time it finished (µs since the epoch).
fn child(args: &[String]) {
    let (kind, target, session) = (&args[0], &args[1], &args[2]);
    let n: usize = args[3].parse().expect("count");
    let start_at: i64 = args[4].parse().expect("start time");
    let wait = || {
        let left = start_at - now_us();
        if left > 0 {
            std::thread::sleep(std::time::Duration::from_micros(left as u64));
        }
    };
    match kind.as_str() {
        "sql" => {
            let mut sql = Sql::open(target, false);
            wait();
            for i in 0..n {
                sql.append(&msg(session, i), now_us());
            }
        }
        _ => {
            let store = Store::open(Path::new(target), OpenOptions::default()).expect("open");
            wait();
            for i in 0..n {
                store
                    .append_messages(vec![msg(session, i)])
                    .expect("append");
            }
        }
    }
    println!("{}", now_us());
}

/// Appends per second of `procs` processes doing `n` single appends each, at once.
fn processes(kind: &str, target: &str, procs: usize, n: usize, shared: bool) -> f64 {
    let exe = std::env::current_exe().expect("bench binary");
    let start_at = now_us() + 2_000_000;
    let children: Vec<_> = (0..procs)
        .map(|p| {
            let session = if shared {
                "shared".to_owned()
            } else {
                format!("w{p}-{}", now_us())
            };
            Command::new(&exe)
                .args([
                    CHILD,
                    kind,
                    target,
                    &session,
                    &n.to_string(),
                    &start_at.to_string(),
                ])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut end = start_at;
    for c in children {
        let out = c.wait_with_output().expect("wait");
        assert!(out.status.success(), "a writer failed");
        let done: i64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("finish time");
        end = end.max(done);
    }
    (procs * n) as f64 / ((end - start_at) as f64 / 1e6)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == CHILD) {
        return child(&args[i + 1..]);
    }
    let smoke = std::env::var("LMSTORE_BENCH_SCALE").is_ok_and(|s| s == "smoke");
    let url = std::env::var("LMSTORE_TEST_PG_URL")
        .expect("LMSTORE_TEST_PG_URL: run scripts/bench-pg.sh, which starts a server");
    let tag = format!("{}_{}", std::process::id(), now_us() % 1_000_000);
    let lms_url = with_schema(&url, &format!("bench_lms_{tag}"));
    let sql_url = with_schema(&url, &format!("bench_sql_{tag}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let lmdb_path = dir.path().join("lmdb");
    let lmdb_target = lmdb_path.to_string_lossy().into_owned();

    let pg = Store::open(Path::new(&lms_url), OpenOptions::default()).expect("open pg");
    let lmdb = Store::open(&lmdb_path, OpenOptions::default()).expect("open lmdb");
    let mut setup = Client::connect(&url, NoTls).expect("connect");
    setup
        .batch_execute(&format!("CREATE SCHEMA bench_sql_{tag}"))
        .expect("schema");
    let mut sql = Sql::open(&sql_url, true);

    let (rounds, reads, batches, singles, per_proc) = if smoke {
        (1, 5, 1, 5, 5)
    } else {
        (5, 200, 5, 100, 150)
    };
    let history = if smoke { 100 } else { 1000 };

    // ---- latest 50 of a long session ----
    let hist: Vec<NewMessage> = (0..history).map(|i| msg("hot", i)).collect();
    pg.append_messages(hist.clone()).expect("fill pg");
    lmdb.append_messages(hist.clone()).expect("fill lmdb");
    sql.append_batch(&hist, now_us());
    let q = RangeQuery {
        limit: 50,
        reverse: true,
        ..Default::default()
    };
    // Warm up: connections opened, statements prepared, pages cached.
    for _ in 0..20 {
        pg.range_messages(b"hot", &q).unwrap();
        sql.latest("hot", 50);
        lmdb.range_messages(b"hot", &q).unwrap();
    }
    let latest_pg = time_per(rounds, reads, |_| {
        assert_eq!(pg.range_messages(b"hot", &q).unwrap().count, 50);
    });
    let latest_sql = time_per(rounds, reads, |_| {
        assert_eq!(sql.latest("hot", 50).len(), 50);
    });
    let latest_lmdb = time_per(rounds, reads * 10, |_| {
        assert_eq!(lmdb.range_messages(b"hot", &q).unwrap().count, 50);
    });

    // ---- batched append of 1,000 ----
    let batch_of = |tag: &str, i: usize| -> Vec<NewMessage> {
        (0..1000).map(|j| msg(&format!("{tag}-{i}"), j)).collect()
    };
    let batch_pg = time_per(rounds, batches, |i| {
        pg.append_messages(batch_of("b", i)).unwrap();
    });
    let batch_sql = time_per(rounds, batches, |i| {
        sql.append_batch(&batch_of("b", i), now_us());
    });
    let batch_sql_rows = time_per(rounds, batches, |i| {
        sql.append_batch_rows(&batch_of("r", i), now_us());
    });
    let batch_lmdb = time_per(rounds, batches, |i| {
        lmdb.append_messages(batch_of("b", i)).unwrap();
    });

    // ---- single durable append ----
    let single_pg = time_per(rounds, singles, |i| {
        pg.append_messages(vec![msg("single", i)]).unwrap();
    });
    let single_sql = time_per(rounds, singles, |i| {
        sql.append(&msg("single", i), now_us());
    });
    let single_lmdb = time_per(rounds, singles, |i| {
        lmdb.append_messages(vec![msg("single", i)]).unwrap();
    });

    // ---- 1 and 8 writer processes ----
    let mut procs = Vec::new();
    for (name, kind, target) in [
        ("lmstore on PostgreSQL", "lms", lms_url.as_str()),
        ("hand-written SQL", "sql", sql_url.as_str()),
        ("lmstore on LMDB", "lms", lmdb_target.as_str()),
    ] {
        let one = processes(kind, target, 1, per_proc, false);
        let eight = processes(kind, target, 8, per_proc, false);
        let shared = processes(kind, target, 8, per_proc, true);
        procs.push((name, one, eight, shared));
    }
    pg.verify().expect("pg store verifies");

    println!("\nPostgreSQL backend vs hand-written SQL on the same server (lower is better)");
    println!(
        "{:<34} {:>14} {:>14} {:>9} {:>14}",
        "operation", "lmstore-pg µs", "hand SQL µs", "ratio", "lmstore-lmdb µs"
    );
    let row = |name: &str, a: f64, b: f64, l: f64| {
        println!("{name:<34} {a:>14.1} {b:>14.1} {:>8.2}x {l:>14.1}", a / b);
    };
    row("latest 50 of 1,000", latest_pg, latest_sql, latest_lmdb);
    row(
        "append batch of 1,000 (unnest)",
        batch_pg,
        batch_sql,
        batch_lmdb,
    );
    row(
        "append batch of 1,000 (1,000 INSERTs)",
        batch_pg,
        batch_sql_rows,
        batch_lmdb,
    );
    row("single durable append", single_pg, single_sql, single_lmdb);
    println!("\nSingle durable appends per second, separate processes (higher is better)");
    println!(
        "{:<24} {:>12} {:>14} {:>9} {:>20}",
        "store", "1 process", "8 processes", "scaling", "8 on one session"
    );
    for (name, one, eight, shared) in &procs {
        println!(
            "{name:<24} {one:>12.0} {eight:>14.0} {:>8.2}x {shared:>20.0}",
            eight / one
        );
    }
    let scaling = procs[0].2 / procs[0].1;
    println!(
        "\ngoals: latest 50 within 1.5x of SQL: {:.2}x; batch within 1.5x: {:.2}x; 8 writers >= 4x one: {scaling:.2}x",
        latest_pg / latest_sql,
        batch_pg / batch_sql
    );
    drop(pg);
    let _ = setup.batch_execute(&format!(
        "DROP SCHEMA bench_sql_{tag} CASCADE; DROP SCHEMA bench_lms_{tag} CASCADE"
    ));
}
