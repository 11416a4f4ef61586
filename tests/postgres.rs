//! What only the PostgreSQL backend has: opening by URL, its errors, the schema version, the
//! operations that mean nothing there, counters kept without a hot key, and several processes
//! appending to one store. The domain tests run on PostgreSQL too (tests/pg/run.sh runs them
//! with LMSTORE_TEST_BACKEND=pg). Every test here needs the server of scripts/pg-server.sh and
//! is run by tests/pg/run.sh with --include-ignored; without LMSTORE_TEST_PG_URL they fail.

mod common;
use common::*;
use lmstore::conversations::{NewMessage, RangeQuery};
use lmstore::{ErrorKind, OpenOptions, Store};
use std::path::Path;

const NEEDS_PG: &str = "needs PostgreSQL: run tests/pg/run.sh (scripts/pg-server.sh test)";
const CHILD_ENV: &str = "LMSTORE_PG_CHILD_URL";

fn open_url(url: &str) -> Store {
    Store::open(Path::new(url), OpenOptions::default()).expect("open PostgreSQL store")
}

fn fresh() -> (tempfile::TempDir, String, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = pg_url_for(dir.path());
    let store = open_url(&url);
    (dir, url, store)
}

fn msg(session: &str, content: &str) -> NewMessage {
    NewMessage::new(
        session.as_bytes(),
        None,
        None,
        b"user",
        None,
        content.as_bytes(),
        None,
        &[],
    )
    .unwrap()
}

/// A direct connection to the store's schema, to look at or damage what lmstore wrote.
fn raw(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect")
}

#[test]
#[ignore = "needs PostgreSQL: run tests/pg/run.sh (scripts/pg-server.sh test)"]
fn opens_creates_its_tables_and_refuses_a_newer_schema() {
    let (_dir, url, store) = fresh();
    let stats = store.stats().unwrap();
    assert_eq!(stats.schema_version, lmstore::meta::SCHEMA_VERSION);
    assert_eq!(
        (stats.messages, stats.sessions, stats.env.map_size),
        (0, 0, 0)
    );
    drop(store);
    let mut c = raw(&url);
    let tables: i64 = c
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_name IN ('lmstore_kv', 'lmstore_counters')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 2);
    // A reopen finds the stamp and keeps it.
    open_url(&url);
    c.execute(
        "UPDATE lmstore_kv SET v = '\\x00000063' WHERE t = 0 AND k = 'schema_version'",
        &[],
    )
    .unwrap();
    let e = Store::open(Path::new(&url), OpenOptions::default())
        .err()
        .expect("a newer schema is refused");
    assert_eq!(e.kind, ErrorKind::VersionMismatch, "{e}");
    assert!(e.message.contains("schema version 99"), "{e}");
    assert!(e.message.contains("newer lmstore"), "{e}");
    assert!(!e.message.contains("user=postgres"), "no credentials: {e}");
}

#[test]
#[ignore = "needs PostgreSQL: run tests/pg/run.sh (scripts/pg-server.sh test)"]
fn credentials_never_appear_in_errors() {
    let _ = NEEDS_PG;
    // Nothing listens on port 1: the reason is given, the password and user are not.
    let url = "postgres://alice:hunter2-secret@127.0.0.1:1/app?connect_timeout=2";
    let e = Store::open(Path::new(url), OpenOptions::default())
        .err()
        .expect("nothing listens there");
    assert_eq!(e.kind, ErrorKind::Io, "{e}");
    assert!(e.message.contains("connecting"), "{e}");
    assert!(e.message.to_lowercase().contains("refused"), "{e}");
    assert!(
        !e.message.contains("hunter2") && !e.message.contains("alice"),
        "{e}"
    );
    assert!(e.message.contains("postgres://127.0.0.1:1/app"), "{e}");

    let e = Store::open(
        Path::new("postgres://alice:hunter2-secret@host:notaport/app"),
        OpenOptions::default(),
    )
    .err()
    .expect("a bad port is refused");
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
    assert!(e.message.contains("invalid postgres URL"), "{e}");
    assert!(
        !e.message.contains("hunter2") && !e.message.contains("alice"),
        "{e}"
    );

    // The server rejects an unknown database by name; the password still stays out.
    let base = std::env::var("LMSTORE_TEST_PG_URL").expect("LMSTORE_TEST_PG_URL");
    let wrong = base.replacen("/lmstore?", "/no_such_db?", 1) + "&password=hunter2-secret";
    let e = Store::open(Path::new(&wrong), OpenOptions::default())
        .err()
        .expect("no such database");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.message.contains("no_such_db"), "{e}");
    assert!(!e.message.contains("hunter2"), "{e}");
}

#[test]
#[ignore = "needs PostgreSQL: run tests/pg/run.sh (scripts/pg-server.sh test)"]
fn lmdb_operations_are_unsupported_and_stats_and_verify_work() {
    let (dir, _url, store) = fresh();
    let e = store
        .backup(&dir.path().join("copy"), false)
        .expect_err("no LMDB backup of a PostgreSQL store");
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(e.message.contains("backup is an LMDB operation"), "{e}");
    store.sync().unwrap();
    let batch: Vec<_> = (0..30)
        .map(|i| msg(&format!("s{}", i % 3), &format!("m{i}")))
        .collect();
    store.append_messages(batch).unwrap();
    let stats = store.stats().unwrap();
    assert_eq!((stats.messages, stats.sessions), (30, 3));
    assert_eq!(store.verify().unwrap(), 30);
    assert!(store.path().to_string_lossy().starts_with("postgres://"));
}

#[test]
#[ignore = "needs PostgreSQL: run tests/pg/run.sh (scripts/pg-server.sh test)"]
fn read_only_open_of_a_missing_store_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let url = pg_url_for(dir.path());
    // The schema exists (so the search path resolves) but holds no store.
    raw(&std::env::var("LMSTORE_TEST_PG_URL").unwrap())
        .batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            url.rsplit("%3D").next().unwrap()
        ))
        .unwrap();
    let e = Store::open(
        Path::new(&url),
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .err()
    .expect("nothing there");
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.message.contains("holds no lmstore store"), "{e}");
    // A writable handle creates it; a read-only one then reads and refuses writes.
    open_url(&url)
        .append_messages(vec![msg("s", "hello")])
        .unwrap();
    let ro = Store::open(
        Path::new(&url),
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(all_messages(&ro, "s", 10, false).len(), 1);
    let e = ro.append_messages(vec![msg("s", "no")]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
}

#[test]
#[ignore = "needs PostgreSQL: run tests/pg/run.sh (scripts/pg-server.sh test)"]
fn counters_have_no_hot_row_and_stay_exact_when_folded() {
    let dir = tempfile::tempdir().unwrap();
    let url = pg_url_for(dir.path());
    // One connection, so it reaches the folding point (every 256 commits) within the test.
    let store = Store::open(
        Path::new(&url),
        OpenOptions {
            pool_size: 1,
            no_sync: true,
            ..Default::default()
        },
    )
    .unwrap();
    for i in 0..300 {
        store
            .append_messages(vec![msg(&format!("s{}", i % 7), "x")])
            .unwrap();
    }
    let stats = store.stats().unwrap();
    assert_eq!((stats.messages, stats.sessions), (300, 7));
    let mut c = raw(&url);
    let rows: i64 = c
        .query_one("SELECT count(*) FROM lmstore_counters", &[])
        .unwrap()
        .get(0);
    // Folded at commit 256 into one row per counter, then one row per commit since.
    // An append commits up to four counters (messages, sessions, body bytes plain and stored);
    // without folding 300 appends would leave over 1,000 rows.
    assert!(rows < 200, "{rows} delta rows left after folding");
    let hot: i64 = c
        .query_one(
            "SELECT count(*) FROM lmstore_kv WHERE t = 0 AND k LIKE 'count.%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(hot, 0, "no counter lives in a single shared row");
    assert_eq!(store.verify().unwrap(), 300);
}

/// The child of [`processes_append_to_one_store_at_once`]: appends to its own session and to
/// a shared one, singly and in batches.
#[test]
#[ignore = "a child process of processes_append_to_one_store_at_once"]
fn append_child() {
    let url = std::env::var(CHILD_ENV)
        .unwrap_or_else(|_| panic!("{CHILD_ENV} must name the store's URL"));
    let me = std::process::id();
    let store = open_url(&url);
    for i in 0..40 {
        let batch = if i % 4 == 0 {
            (0..5)
                .map(|j| msg(&format!("own-{me}"), &format!("{me}:{i}:{j}")))
                .collect()
        } else {
            vec![
                msg("shared", &format!("{me}:{i}")),
                msg(&format!("own-{me}"), &format!("{me}:{i}")),
            ]
        };
        store.append_messages(batch).expect("append");
    }
}

#[test]
#[ignore = "needs PostgreSQL: run tests/pg/run.sh (scripts/pg-server.sh test)"]
fn processes_append_to_one_store_at_once() {
    let (_dir, url, store) = fresh();
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut cmd =
                std::process::Command::new(std::env::current_exe().expect("test binary path"));
            cmd.args([
                "--exact",
                "append_child",
                "--include-ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &url)
            .spawn()
            .expect("spawn child")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a child failed");
    }
    // 40 rounds: 10 batches of 5 own, 30 of 1 shared + 1 own.
    let stats = store.stats().unwrap();
    assert_eq!(stats.messages, 4 * (10 * 5 + 30 * 2));
    assert_eq!(stats.sessions, 5);
    assert_eq!(store.verify().unwrap(), stats.messages);
    let shared = all_messages(&store, "shared", 7, false);
    assert_eq!(shared.len(), 4 * 30);
    let ts: Vec<i64> = shared
        .iter()
        .map(|m| get(m, "ts").as_i64().unwrap())
        .collect();
    assert!(
        ts.windows(2).all(|w| w[0] < w[1]),
        "assigned times strictly increase in the shared session"
    );
    // Each writer's own messages of the shared session keep its order.
    for m in &shared {
        let text = get(m, "content").as_str().unwrap();
        assert!(text.contains(':'), "{text}");
    }
    let mut last: std::collections::HashMap<String, u32> = Default::default();
    for m in &shared {
        let text = get(m, "content").as_str().unwrap();
        let (who, n) = text.split_once(':').unwrap();
        let n: u32 = n.parse().unwrap();
        if let Some(prev) = last.insert(who.to_owned(), n) {
            assert!(n > prev, "writer {who} out of order: {prev} then {n}");
        }
    }
    let q = RangeQuery {
        limit: 50,
        reverse: true,
        ..Default::default()
    };
    let page = store.range_messages(b"shared", &q).unwrap();
    assert_eq!(page.count, 50);
}
