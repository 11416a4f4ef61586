mod common;
use common::*;
use lmstore::conversations::NewMessage;
use lmstore::lmdb::Env;
use lmstore::storage::{Table, WriteTxn};
use lmstore::{ErrorKind, OpenOptions, Store};
use std::os::unix::fs::PermissionsExt;

/// Text that zstd cannot shrink (bodies are compressed when they gain), so the size of what
/// is stored is the size given.
fn incompressible(len: usize) -> String {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (b'!' + (x % 94) as u8) as char
        })
        .collect()
}

fn big_message(session: &str, kb: usize) -> NewMessage {
    NewMessage::new(
        session.as_bytes(),
        None,
        None,
        b"user",
        None,
        incompressible(kb * 1024).as_bytes(),
        None,
        &[],
    )
    .unwrap()
}

#[test]
fn full_map_grows_until_its_cap() {
    let dir = tempfile::tempdir().unwrap();
    let opts = OpenOptions {
        map_size: 256 << 10,
        max_map_size: 4 << 20,
        ..Default::default()
    };
    let s = Store::open(dir.path(), opts).unwrap();
    let start = s.stats().unwrap().env.map_size;
    for _ in 0..10 {
        s.append_messages(vec![big_message("grow", 100)]).unwrap();
    }
    let grown = s.stats().unwrap().env.map_size;
    assert!(
        grown > start,
        "map should have grown from {start}, is {grown}"
    );
    let err = loop {
        match s.append_messages(vec![big_message("grow", 100)]) {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind, ErrorKind::MapFull);
    assert!(
        err.message.contains("cap of 4194304 bytes"),
        "{}",
        err.message
    );
    let before = s.stats().unwrap().messages;
    assert_eq!(
        s.verify().unwrap(),
        before,
        "a failed append leaves nothing half-written"
    );
    let too_big = s
        .append_messages(vec![big_message("grow", 3 * 1024)])
        .unwrap_err();
    assert_eq!(too_big.kind, ErrorKind::TooLarge);
    assert!(
        too_big.message.contains("can never be stored"),
        "{}",
        too_big.message
    );
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(&dir));
    {
        let env = Env::open(dir.path(), OpenOptions::default()).unwrap();
        env.write(|txn| txn.put(Table::Meta, b"schema_version", &99u32.to_be_bytes()))
            .unwrap();
    }
    let e = Store::open(dir.path(), OpenOptions::default())
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::VersionMismatch);
    assert!(e.message.contains("schema version 99"), "{}", e.message);
}

#[test]
fn same_path_twice_shares_one_environment() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(&dir);
    let b = Store::open(&dir.path().join("."), OpenOptions::default()).unwrap();
    a.append_messages(vec![big_message("shared", 1)]).unwrap();
    assert_eq!(b.stats().unwrap().messages, 1);
    drop(a);
    b.append_messages(vec![big_message("shared", 1)]).unwrap();
    assert_eq!(b.stats().unwrap().messages, 2);
}

#[test]
fn read_only_handles_refuse_writes() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(&dir));
    let ro = Store::open(
        dir.path(),
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let e = ro.append_messages(vec![big_message("s", 1)]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::ReadOnly);
    let e = Store::open(dir.path(), OpenOptions::default())
        .err()
        .unwrap();
    assert!(
        e.message.contains("already open read-only"),
        "{}",
        e.message
    );
    drop(ro);
    let missing = Store::open(
        &dir.path().join("nope"),
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert_eq!(missing.kind, ErrorKind::NotFound);
}

#[test]
fn files_are_private_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    drop(Store::open(&path, OpenOptions::default()).unwrap());
    let mode = std::fs::metadata(path.join("data.mdb"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let shared = dir.path().join("shared");
    drop(
        Store::open(
            &shared,
            OpenOptions {
                file_mode: 0o640,
                ..Default::default()
            },
        )
        .unwrap(),
    );
    assert_eq!(
        std::fs::metadata(shared.join("data.mdb"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o640
    );
}

#[test]
fn concurrent_appends_commit_together_and_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let opts = OpenOptions {
        max_map_size: 64 << 20,
        ..Default::default()
    };
    let s = Store::open(dir.path(), opts).unwrap();
    std::thread::scope(|scope| {
        for t in 0..8 {
            let s = &s;
            scope.spawn(move || {
                for i in 0..50 {
                    if t == 0 && i == 25 {
                        let e = s
                            .append_messages(vec![big_message("t0", 40 * 1024)])
                            .unwrap_err();
                        assert_eq!(e.kind, ErrorKind::TooLarge);
                        continue;
                    }
                    let m = NewMessage::new(
                        format!("t{t}").as_bytes(),
                        None,
                        None,
                        b"user",
                        Some(b"a"),
                        b"hi",
                        None,
                        &[],
                    )
                    .unwrap();
                    s.append_messages(vec![m]).unwrap();
                }
            });
        }
    });
    assert_eq!(s.stats().unwrap().messages, 8 * 50 - 1);
    assert_eq!(s.verify().unwrap(), 399);
}

#[test]
fn hot_backup_is_consistent_while_writing() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let dest = tempfile::tempdir().unwrap();
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for _ in 0..200 {
                s.append_messages(vec![big_message("b", 1)]).unwrap();
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(5));
        s.backup(&dest.path().join("copy"), true).unwrap();
        writer.join().unwrap();
    });
    let copy = Store::open(&dest.path().join("copy"), OpenOptions::default()).unwrap();
    let n = copy.verify().unwrap();
    assert_eq!(copy.stats().unwrap().messages, n);
    let e = s.backup(&dest.path().join("copy"), false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io, "{}", e.message);
}

const GROW_CHILD_ENV: &str = "LMSTORE_GROW_CHILD_DIR";

/// Run as a separate process by `map_grown_by_another_process_is_adopted`.
#[test]
#[ignore = "a child process of map_grown_by_another_process_is_adopted"]
fn grow_child() {
    let dir = std::env::var(GROW_CHILD_ENV)
        .unwrap_or_else(|_| panic!("{GROW_CHILD_ENV} must name the store directory"));
    let s = Store::open(
        dir.as_ref(),
        OpenOptions {
            map_size: 256 << 10,
            ..Default::default()
        },
    )
    .unwrap();
    for _ in 0..40 {
        s.append_messages(vec![big_message("child", 100)]).unwrap();
    }
}

#[test]
fn map_grown_by_another_process_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(
        dir.path(),
        OpenOptions {
            map_size: 256 << 10,
            ..Default::default()
        },
    )
    .unwrap();
    s.append_messages(vec![big_message("parent", 1)]).unwrap();
    let status = child_test("grow_child", GROW_CHILD_ENV, dir.path())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    // this process still has the small map; its next transactions must adopt the larger one
    assert_eq!(s.stats().unwrap().messages, 41);
    s.append_messages(vec![big_message("parent", 1)]).unwrap();
    assert_eq!(s.verify().unwrap(), 42);
}

#[test]
fn readers_on_many_threads_while_the_map_grows() {
    let dir = tempfile::tempdir().unwrap();
    let opts = OpenOptions {
        map_size: 256 << 10,
        max_readers: 32,
        ..Default::default()
    };
    let s = Store::open(dir.path(), opts).unwrap();
    s.append_messages(vec![big_message("r", 1)]).unwrap();
    let start = s.stats().unwrap().env.map_size;
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let q = lmstore::conversations::RangeQuery {
                    limit: 5,
                    reverse: true,
                    ..Default::default()
                };
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let page = s.range_messages(b"r", &q).unwrap();
                    assert!(page.count >= 1);
                }
            });
        }
        for _ in 0..60 {
            s.append_messages(vec![big_message("r", 64)]).unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    assert!(
        s.stats().unwrap().env.map_size > start,
        "the map grew under the readers"
    );
    assert_eq!(s.verify().unwrap(), 61);
}
