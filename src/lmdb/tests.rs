//! Panics inside writes: they must never leave LMDB's write lock or the group-commit state
//! held. The panic is injected by a test-only hook inside [`super::Env::write`], after the
//! caller's work and before the commit, the worst moment.

use super::{Env, OpenOptions};
use crate::error::ErrorKind;
use crate::storage::{ReadTxn, Table, WriteTxn};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

thread_local! {
    /// Writes on this thread left to run before the hook panics; 0 disarms it.
    static PANIC_AFTER: Cell<u32> = const { Cell::new(0) };
}

pub(super) fn maybe_panic_in_write() {
    PANIC_AFTER.with(|n| match n.get() {
        0 => {}
        1 => {
            n.set(0);
            panic!("injected panic inside a write");
        }
        k => n.set(k - 1),
    });
}

fn arm(writes_before: u32) {
    PANIC_AFTER.with(|n| n.set(writes_before + 1));
}

/// Runs `f` on its own thread and fails the test if it has not finished within a generous
/// bound: a wedged write lock shows up as a hang, not as an error.
fn finishes<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what} hung (did a panic leave a lock held?)"))
}

fn value(env: &Env, key: &[u8]) -> Option<Vec<u8>> {
    env.read(|txn| Ok(txn.get(Table::Meta, key)?.map(<[u8]>::to_vec)))
        .expect("read")
}

#[test]
fn a_panic_inside_a_write_aborts_it_and_the_next_write_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let env = std::sync::Arc::new(Env::open(dir.path(), OpenOptions::default()).unwrap());
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        arm(0);
        env.write(|txn| txn.put(Table::Meta, b"k", b"lost"))
    }));
    assert!(panicked.is_err(), "the hook did not panic");
    assert_eq!(value(&env, b"k"), None, "the panicked write was committed");

    // A panic in the caller's own closure, too.
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        env.write(|txn| -> crate::Result<()> {
            txn.put(Table::Meta, b"k", b"lost")?;
            panic!("caller's panic")
        })
    }));
    assert!(panicked.is_err());

    let e2 = env.clone();
    finishes("the write after a panic", move || {
        e2.write(|txn| txn.put(Table::Meta, b"k", b"kept"))
    })
    .expect("the write after a panic failed");
    assert_eq!(value(&env, b"k").as_deref(), Some(&b"kept"[..]));

    // Readers that panic hand their transaction back too: the map can still grow.
    for _ in 0..64 {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            env.read(|_| -> crate::Result<()> { panic!("reader panic") })
        }));
    }
    assert_eq!(value(&env, b"k").as_deref(), Some(&b"kept"[..]));
}

#[test]
fn a_panicking_group_leader_fails_its_group_and_the_next_group_commits() {
    let dir = tempfile::tempdir().unwrap();
    let env = std::sync::Arc::new(Env::open(dir.path(), OpenOptions::default()).unwrap());
    const WRITERS: usize = 8;
    // Round 1: one job of the group panics while the group's transaction is open. Its caller
    // sees the panic; every other caller returns (committed, or an error saying the write
    // was not committed), none waits forever.
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(WRITERS));
    let outcomes = finishes("a group with a panicking job", {
        let env = env.clone();
        move || {
            let handles: Vec<_> = (0..WRITERS)
                .map(|i| {
                    let env = env.clone();
                    let barrier = barrier.clone();
                    std::thread::spawn(move || {
                        barrier.wait();
                        env.write_grouped(move |txn| {
                            txn.put(Table::Meta, format!("r1.{i}").as_bytes(), b"v")?;
                            if i == 0 {
                                panic!("injected panic inside a grouped write");
                            }
                            Ok(())
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join()).collect::<Vec<_>>()
        }
    });
    let mut panics = 0;
    for (i, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Err(_) => panics += 1,
            Ok(Ok(())) => assert_eq!(
                value(&env, format!("r1.{i}").as_bytes()).as_deref(),
                Some(&b"v"[..])
            ),
            Ok(Err(e)) => {
                assert_eq!(e.kind, ErrorKind::Internal);
                assert!(
                    e.message.contains("panicked; the write was not committed"),
                    "{}",
                    e.message
                );
                assert_eq!(value(&env, format!("r1.{i}").as_bytes()), None);
            }
        }
    }
    assert!(panics >= 1, "the injected panic never reached a caller");
    assert_eq!(
        value(&env, b"r1.0"),
        None,
        "the panicking job was committed"
    );

    // Round 2: the same hook inside the leader's write transaction itself.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        arm(0);
        env.write_grouped(|txn| txn.put(Table::Meta, b"r2", b"lost"))
    }));
    assert!(outcome.is_err(), "the hook did not panic");
    assert_eq!(value(&env, b"r2"), None);

    // Round 3: a fresh group of concurrent writers all commit.
    let results = finishes("the group after a panic", {
        let env = env.clone();
        move || {
            let handles: Vec<_> = (0..WRITERS)
                .map(|i| {
                    let env = env.clone();
                    std::thread::spawn(move || {
                        env.write_grouped(move |txn| {
                            txn.put(Table::Meta, format!("r3.{i}").as_bytes(), b"v")
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        }
    });
    for (i, r) in results.into_iter().enumerate() {
        r.unwrap_or_else(|e| panic!("writer {i} after the panic: {}", e.message));
        assert_eq!(
            value(&env, format!("r3.{i}").as_bytes()).as_deref(),
            Some(&b"v"[..])
        );
    }
    // And a plain write.
    env.write(|txn| txn.put(Table::Meta, b"after", b"v"))
        .unwrap();
}

#[test]
fn no_lmdb_code_is_reported_as_internal() {
    // Every code LMDB defines, from MDB_KEYEXIST (-30799) to MDB_PROBLEM (-30779), and a few
    // errno values a write can meet.
    for rc in (-30799..=-30779).chain([libc::EIO, libc::ENOSPC, libc::EROFS, libc::EACCES]) {
        let e = super::check(rc, "op").expect_err("a non-zero code is an error");
        assert_ne!(e.kind, ErrorKind::Internal, "code {rc}: {}", e.message);
        assert_eq!(e.os_code, rc);
        assert!(e.message.starts_with("op: "), "{}", e.message);
    }
    let resized = super::check(super::ffi::MDB_MAP_RESIZED, "mdb_txn_begin").unwrap_err();
    assert_eq!(resized.kind, ErrorKind::Io);
    assert!(
        resized.message.contains("MDB_MAP_RESIZED"),
        "{}",
        resized.message
    );
    let foreign = super::check(super::ffi::MDB_INCOMPATIBLE, "opening table meta").unwrap_err();
    assert_eq!(foreign.kind, ErrorKind::NotAStore);
    let space = super::check(libc::ENOSPC, "mdb_txn_commit").unwrap_err();
    assert_eq!(space.kind, ErrorKind::Io);
    assert_eq!(space.message, "mdb_txn_commit: No space left on device");
}
