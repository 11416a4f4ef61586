//! Entry points racing with map growth, by a thread of this process and by another process:
//! stats, opens (writable and read-only), reads and writes go on while the map doubles.

mod common;
use common::*;
use lmstore::conversations::NewMessage;
use lmstore::{OpenOptions, Store};
use std::sync::atomic::{AtomicBool, Ordering};

const CHILD_ENV: &str = "LMSTORE_GROWTH_CHILD_DIR";
/// The map grows from this size by doubling, many times during each test.
const SMALL: OpenOptions = OpenOptions {
    map_size: 64 << 10,
    max_map_size: 0,
    max_readers: 0,
    read_only: false,
    no_sync: true,
    file_mode: 0,
    render_cache_size: 0,
    pool_size: 0,
    connect_timeout_ms: 0,
    verify: false,
    create_parents: false,
};

fn message(session: &str, n: usize) -> NewMessage {
    NewMessage::new(
        session.as_bytes(),
        None,
        None,
        b"user",
        None,
        format!("{n}:{}", "x".repeat(3000)).as_bytes(),
        None,
        &[],
    )
    .unwrap()
}

#[test]
fn stats_and_reads_while_a_thread_grows_the_map() {
    // Each round grows a new store's map from 64 KiB about eight times while three threads
    // call stats and read; unguarded, stats read LMDB's meta pages while the map is remapped.
    let rounds: usize = std::env::var("LMSTORE_GROWTH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    for round in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), SMALL).unwrap();
        let start = s.stats().unwrap().env.map_size;
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for n in 0..1500 {
                    s.append_messages(vec![message("grow", n)]).unwrap();
                }
                done.store(true, Ordering::Release);
            });
            for _ in 0..3 {
                scope.spawn(|| {
                    let mut last = 0;
                    while !done.load(Ordering::Acquire) {
                        let st = s.stats().unwrap();
                        assert!(st.env.map_size >= last, "the map shrank");
                        assert!(st.env.map_used <= st.env.map_size);
                        last = st.env.map_size;
                    }
                });
            }
        });
        let end = s.stats().unwrap().env.map_size;
        assert!(
            end >= start * 32,
            "round {round}: the map grew only from {start} to {end}"
        );
        assert_eq!(s.verify().unwrap(), 1500);
    }
}

/// Run as a separate process by `opens_and_stats_while_another_process_grows_the_map`.
#[test]
#[ignore = "a child process of opens_and_stats_while_another_process_grows_the_map"]
fn growth_child() {
    let dir = std::env::var(CHILD_ENV)
        .unwrap_or_else(|_| panic!("{CHILD_ENV} must name the store directory"));
    let s = Store::open(dir.as_ref(), SMALL).unwrap();
    for n in 0..3000 {
        s.append_messages(vec![message("child", n)]).unwrap();
    }
    println!("GROWTH-CHILD-DONE");
}

#[test]
fn opens_and_stats_while_another_process_grows_the_map() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), SMALL).unwrap());
    let mut child = child_test("growth_child", CHILD_ENV, dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let ro = OpenOptions {
        read_only: true,
        ..SMALL
    };
    let mut opens = 0u64;
    let mut seen = Vec::new();
    while child.try_wait().unwrap().is_none() {
        // Each open is this process's only handle, so it opens the environment afresh while
        // the child grows it; a writable open and a read-only one in turn.
        let opts = if opens % 2 == 0 { SMALL } else { ro };
        let s = Store::open(dir.path(), opts)
            .unwrap_or_else(|e| panic!("open {opens} while the child grows the map: {e}"));
        let st = s.stats().unwrap_or_else(|e| panic!("stats {opens}: {e}"));
        seen.push(st.env.map_size);
        s.range_messages(
            b"child",
            &lmstore::conversations::RangeQuery {
                limit: 3,
                reverse: true,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("range {opens}: {e}"));
        if opens % 2 == 0 {
            s.create_session(format!("p{opens}").as_bytes(), None, &[])
                .unwrap_or_else(|e| panic!("write {opens}: {e}"));
        }
        opens += 1;
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("GROWTH-CHILD-DONE"),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(opens > 0, "no open ran beside the child");
    let s = Store::open(dir.path(), SMALL).unwrap();
    assert_eq!(s.stats().unwrap().messages, 3000);
    assert!(s.stats().unwrap().env.map_size > 64 << 10);
    eprintln!(
        "{opens} opens beside the growing child; map sizes seen: {:?}..{:?}",
        seen.first(),
        seen.last()
    );
}
