//! A store on a read-only filesystem, through a private mount namespace (`unshare -m`) so the
//! read-only bind mount is seen by the child process alone.

mod common;
use common::*;
use lmstore::conversations::NewMessage;
use lmstore::{ErrorKind, OpenOptions, Store};

const CHILD_ENV: &str = "LMSTORE_ROFS_CHILD";

#[test]
#[ignore = "a child process of a_store_on_a_read_only_filesystem"]
fn rofs_child() {
    let dir = std::env::var(CHILD_ENV)
        .unwrap_or_else(|_| panic!("{CHILD_ENV} must name the store directory"));
    let dir = std::path::Path::new(&dir);
    // The mount really is read-only here.
    let probe = std::fs::write(dir.join("probe"), b"x").unwrap_err();
    assert_eq!(probe.raw_os_error(), Some(libc::EROFS));

    let e = Store::open(dir, OpenOptions::default()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::ReadOnly, "{}", e.message);
    assert_eq!(e.os_code, libc::EROFS, "{}", e.message);
    assert!(
        e.message
            .contains("is on a read-only filesystem; open it read-only"),
        "{}",
        e.message
    );

    let ro = Store::open(
        dir,
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("read-only open on a read-only filesystem: {}", e.message));
    let page = all_messages(&ro, "s", 100, false);
    assert_eq!(page.len(), 3);
    assert_eq!(get(&page[2], "content").as_str(), Some("m2"));
    assert_eq!(ro.stats().unwrap().messages, 3);
    let w = ro
        .append_messages(vec![NewMessage::new(
            b"s",
            None,
            None,
            b"user",
            None,
            b"x",
            None,
            &[],
        )
        .unwrap()])
        .unwrap_err();
    assert_eq!(w.kind, ErrorKind::ReadOnly, "{}", w.message);
    println!("ROFS-CHILD-OK");
}

#[test]
fn a_store_on_a_read_only_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(&dir);
        for i in 0..3 {
            let content = format!("m{i}");
            s.append_messages(vec![NewMessage::new(
                b"s",
                None,
                None,
                b"user",
                None,
                content.as_bytes(),
                None,
                &[],
            )
            .unwrap()])
                .unwrap();
        }
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount --bind "$D" "$D" && mount -o remount,bind,ro "$D" && exec "$@""#)
        .arg("sh")
        .arg(exe)
        .args(["--exact", "rofs_child", "--include-ignored", "--nocapture"])
        .env("D", dir.path())
        .env(CHILD_ENV, dir.path())
        .output()
        .expect("running unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && !stdout.contains("running 1 test") {
        // unshare or mount refused: no privileges here.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must be able to make a private mount namespace: {stderr}"
        );
        eprintln!("SKIPPED: cannot make a private read-only mount (needs root): {stderr}");
        return;
    }
    assert!(
        out.status.success() && stdout.contains("ROFS-CHILD-OK"),
        "child failed:\n{stdout}\n{stderr}"
    );
    // Outside the namespace the directory is writable as before.
    Store::open(dir.path(), OpenOptions::default()).unwrap();
}
