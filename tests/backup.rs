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
