//! The PostgreSQL server is killed with SIGKILL while several processes append, then started
//! again: every append that was acknowledged is there, nothing is half-written (the core's
//! verify is exact), calls in flight fail with LMS_IO and a reason, and the writers carry on
//! with the handles they had (the next call reconnects by itself).
//!
//! Needs the server of scripts/pg-server.sh, which it kills and restarts through that script;
//! run by tests/pg/run.sh with --include-ignored. A test binary of its own, because it takes
//! the server away from anything running beside it.

mod common;
use common::*;
use lmstore::conversations::NewMessage;
use lmstore::{ErrorKind, OpenOptions, Store};
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CHILD_URL: &str = "LMSTORE_PG_CRASH_URL";
const CHILD_STOP: &str = "LMSTORE_PG_CRASH_STOP";

fn hex(id: &[u8; 16]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

/// A message with a fixed id, so a batch that failed can be sent again and its messages are
/// recognised as duplicates if the failed call had in fact committed.
fn fixed(session: &str, n: u64) -> NewMessage {
    let generated = NewMessage::new(
        session.as_bytes(),
        None,
        None,
        b"user",
        None,
        b"x",
        None,
        &[],
    )
    .unwrap();
    NewMessage::new(
        session.as_bytes(),
        Some(&generated.id),
        None,
        b"user",
        (n % 2 == 0).then_some(b"agent".as_slice()),
        format!("{n}").as_bytes(),
        None,
        &[],
    )
    .unwrap()
}

/// The writer: appends batches of 1 or 3 until the stop file appears, printing `ack <id>` for
/// each message only after the call returned OK, and `err <kind> <message>` for each failure,
/// after which it sends the same batch again on the same handle.
#[test]
#[ignore = "a child process of server_killed_during_appends"]
fn crash_child() {
    let (Ok(url), Ok(stop)) = (std::env::var(CHILD_URL), std::env::var(CHILD_STOP)) else {
        panic!("{CHILD_URL} and {CHILD_STOP} must name the store and the stop file");
    };
    let me = std::process::id();
    let store = Store::open(Path::new(&url), OpenOptions::default()).expect("open");
    let started = Instant::now();
    let mut n = 0u64;
    while !Path::new(&stop).exists() {
        assert!(started.elapsed() < Duration::from_secs(120), "ran too long");
        let size = if n % 3 == 0 { 3 } else { 1 };
        let session = if n % 2 == 0 {
            "shared".to_owned()
        } else {
            format!("own-{me}")
        };
        let batch: Vec<NewMessage> = (0..size).map(|i| fixed(&session, n * 10 + i)).collect();
        n += 1;
        loop {
            match store.append_messages(batch.clone()) {
                Ok(done) => {
                    for a in done {
                        println!("ack {}", hex(&a.id));
                    }
                    break;
                }
                Err(e) => {
                    println!("err {:?} {}", e.kind, e.message);
                    std::thread::sleep(Duration::from_millis(100));
                    assert!(
                        started.elapsed() < Duration::from_secs(120),
                        "never recovered"
                    );
                }
            }
        }
    }
}

fn script(arg: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-server.sh");
    let status = Command::new(path)
        .arg(arg)
        .status()
        .expect("run pg-server.sh");
    assert!(status.success(), "pg-server.sh {arg} failed");
}

#[test]
#[ignore = "needs PostgreSQL: run tests/pg/run.sh (scripts/pg-server.sh test)"]
fn server_killed_during_appends() {
    let dir = tempfile::tempdir().unwrap();
    let url = pg_url_for(dir.path());
    let stop = dir.path().join("stop");
    let store = Store::open(Path::new(&url), OpenOptions::default()).unwrap();
    store.append_messages(vec![fixed("before", 0)]).unwrap();

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut children = Vec::new();
    let mut readers = Vec::new();
    for _ in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash_child",
                "--include-ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_URL, &url)
            .env(CHILD_STOP, &stop)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn writer");
        let out = child.stdout.take().unwrap();
        let (acked, errors) = (acked.clone(), errors.clone());
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                if let Some(id) = line.strip_prefix("ack ") {
                    acked.lock().unwrap().push(id.to_owned());
                } else if let Some(e) = line.strip_prefix("err ") {
                    errors.lock().unwrap().push(e.to_owned());
                }
            }
        }));
        children.push(child);
    }
    let wait_for = |n: usize| {
        let t = Instant::now();
        while acked.lock().unwrap().len() < n {
            assert!(t.elapsed() < Duration::from_secs(60), "writers stalled");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_for(60);
    script("kill");
    let at_kill = acked.lock().unwrap().len();
    std::thread::sleep(Duration::from_millis(500));
    script("start");
    // The handle opened before the crash works again without being reopened.
    store
        .append_messages(vec![fixed("after", 1)])
        .expect("the old handle reconnects");
    wait_for(at_kill + 60);
    std::fs::write(&stop, b"").unwrap();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a writer failed");
    }
    for r in readers {
        r.join().unwrap();
    }

    let acked = acked.lock().unwrap().clone();
    let errors = errors.lock().unwrap().clone();
    assert!(
        !errors.is_empty(),
        "the writers saw the server go away (calls in flight fail)"
    );
    for e in &errors {
        assert!(
            e.starts_with("Io "),
            "calls in flight fail with LMS_IO: {e}"
        );
        assert!(e.contains("PostgreSQL"), "the reason is given: {e}");
    }
    let ids: HashSet<&String> = acked.iter().collect();
    for id in &ids {
        let bytes: Vec<u8> = (0..16)
            .map(|i| u8::from_str_radix(&id[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        store
            .with_message(&bytes, |_| ())
            .unwrap_or_else(|e| panic!("acknowledged message {id} lost: {e}"));
    }
    let checked = store.verify().expect("indexes, counts and records agree");
    let stats = store.stats().unwrap();
    assert_eq!(checked, stats.messages);
    assert!(stats.messages as usize >= ids.len() + 2);
    let shared = all_messages(&store, "shared", 100, false);
    let ts: Vec<i64> = shared
        .iter()
        .map(|m| get(m, "ts").as_i64().unwrap())
        .collect();
    assert!(ts.windows(2).all(|w| w[0] < w[1]), "order kept");
    eprintln!(
        "{} acknowledged, {} stored, {} failed calls during the outage",
        ids.len(),
        stats.messages,
        errors.len()
    );
    let _ = ErrorKind::Io;
}
