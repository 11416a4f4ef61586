//! Backups refuse a target that is not empty and are readable by their owner only.

mod common;
use common::*;
use lmstore::{ErrorKind, OpenOptions, Store};
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_backup_refuses_a_non_empty_target_and_touches_nothing_there() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.create_session(b"s", None, &[0x80]).unwrap();
    let dest = tempfile::tempdir().unwrap();
    std::fs::write(dest.path().join("notes.txt"), b"mine").unwrap();
    for compact in [false, true] {
        let e = s.backup(dest.path(), compact).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Io, "{}", e.message);
        assert_eq!(e.os_code, libc::ENOTEMPTY, "{}", e.message);
        assert!(
            e.message.contains("is not empty (it holds notes.txt)"),
            "{}",
            e.message
        );
    }
    let names: Vec<_> = std::fs::read_dir(dest.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["notes.txt"]);
    assert_eq!(
        std::fs::read(dest.path().join("notes.txt")).unwrap(),
        b"mine"
    );

    // A second backup into the first one's directory is refused the same way.
    let copy = dest.path().join("copy");
    s.backup(&copy, false).unwrap();
    let e = s.backup(&copy, true).unwrap_err();
    assert_eq!(e.os_code, libc::ENOTEMPTY, "{}", e.message);
}

#[test]
fn a_backup_is_readable_by_its_owner_only() {
    // A permissive umask, as in many daemons: the copy must still be private.
    // SAFETY: umask only swaps the process's file-creation mask.
    let old = unsafe { libc::umask(0o022) };
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.create_session(b"s", None, &[0x80]).unwrap();
    let dest = tempfile::tempdir().unwrap();
    for (name, compact) in [("plain", false), ("compact", true)] {
        let copy = dest.path().join(name);
        s.backup(&copy, compact).unwrap();
        let file = std::fs::metadata(copy.join("data.mdb")).unwrap();
        assert_eq!(file.permissions().mode() & 0o777, 0o600, "{name}");
        let d = std::fs::metadata(&copy).unwrap();
        assert_eq!(
            d.permissions().mode() & 0o077,
            0,
            "{name}: directory open to others"
        );
        let restored = Store::open(&copy, OpenOptions::default()).unwrap();
        assert_eq!(restored.stats().unwrap().sessions, 1);
    }
    // An existing empty directory is fine.
    let empty = dest.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    s.backup(&empty, false).unwrap();
    // SAFETY: restores the mask saved above.
    unsafe { libc::umask(old) };
}

const BACKUP_CHILD_ENV: &str = "LMSTORE_BACKUP_CHILD_DIR";

/// Run as a separate process by `a_compact_backup_cut_short_is_not_a_store`: compact-backs up
/// the store in `$LMSTORE_BACKUP_CHILD_DIR/store` into `.../copy`, and is killed meanwhile.
#[test]
#[ignore = "a child process of a_compact_backup_cut_short_is_not_a_store"]
fn compact_backup_child() {
    let dir = child_dir(BACKUP_CHILD_ENV);
    let s = Store::open(&dir.join("store"), OpenOptions::default()).unwrap();
    s.backup(&dir.join("copy"), true).unwrap();
}

#[test]
fn a_compact_backup_cut_short_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(
            &dir.path().join("store"),
            OpenOptions {
                no_sync: true,
                ..OpenOptions::default()
            },
        )
        .unwrap();
        let body = "a sentence of a chat message, long enough to fill pages. ".repeat(8);
        for round in 0..40 {
            let batch = (0..500)
                .map(|i| {
                    lmstore::conversations::NewMessage::new(
                        format!("s{}", i % 7).as_bytes(),
                        None,
                        None,
                        b"user",
                        None,
                        format!("{round}/{i} {body}").as_bytes(),
                        None,
                        &[],
                    )
                    .unwrap()
                })
                .collect();
            s.append_messages(batch).unwrap();
        }
        s.sync().unwrap();
    }
    let copy = dir.path().join("copy");
    let staged = copy.join(lmstore::BACKUP_STAGING).join("data.mdb");
    let mut child = child_test("compact_backup_child", BACKUP_CHILD_ENV, dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the copy has started to grow.
    let started = std::time::Instant::now();
    while std::fs::metadata(&staged).map_or(true, |m| m.len() < 1 << 20) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the backup finished before it could be cut short; give it more to copy"
        );
        assert!(started.elapsed().as_secs() < 60, "the copy never started");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !copy.join("data.mdb").exists(),
        "a partial copy is in place"
    );
    let read_only = OpenOptions {
        read_only: true,
        ..OpenOptions::default()
    };
    let Err(e) = Store::open(&copy, read_only) else {
        panic!("the directory of a backup cut short opened as a store");
    };
    assert_eq!(e.kind, ErrorKind::NotFound, "{}", e.message);
    // The leftover says what it is, and a new backup needs a new or emptied directory.
    let e = Store::open(&dir.path().join("store"), OpenOptions::default())
        .unwrap()
        .backup(&copy, true)
        .unwrap_err();
    assert!(e.message.contains(lmstore::BACKUP_STAGING), "{}", e.message);
}
