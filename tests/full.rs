//! Full map, full disk: the store reports what is full, loses nothing acknowledged, and takes
//! writes again as soon as there is room.

use lmstore::conversations::NewMessage;
use lmstore::{ErrorKind, OpenOptions, Store};

fn message(session: &str, kb: usize, n: usize) -> NewMessage {
    NewMessage::new(
        session.as_bytes(),
        None,
        None,
        b"user",
        None,
        format!("{n}:{}", noise(n as u64, kb * 1024)).as_bytes(),
        None,
        &[],
    )
    .unwrap()
}

/// Printable text that zstd cannot shrink much, so `kb` of it takes about that much disk
/// (the store compresses large bodies; a run of one letter would never fill anything).
fn noise(seed: u64, len: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b' ' + (x % 95) as u8)
        })
        .collect()
}

/// Appends `kb`-sized messages until the store refuses one; returns how many it took and the
/// refusal.
fn fill(s: &Store, session: &str, kb: usize) -> (usize, lmstore::Error) {
    for n in 0.. {
        if let Err(e) = s.append_messages(vec![message(session, kb, n)]) {
            return (n, e);
        }
    }
    unreachable!()
}

#[test]
fn deleting_at_the_cap_makes_room_for_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let opts = OpenOptions {
        map_size: 1 << 20,
        max_map_size: 1 << 20,
        ..Default::default()
    };
    let s = Store::open(dir.path(), opts).unwrap();
    for round in 0..3 {
        let (n, e) = fill(&s, "a", 16);
        assert!(n > 10, "round {round}: only {n} messages fit");
        assert_eq!(e.kind, ErrorKind::MapFull, "{}", e.message);
        assert!(e.message.contains("cap of 1048576 bytes"), "{}", e.message);
        // Trimming makes room: the very next write that fits succeeds.
        assert_eq!(s.trim_session_to_count(b"a", 0).unwrap(), n as u64);
        s.append_messages(vec![message("a", 16, 0)])
            .unwrap_or_else(|e| panic!("round {round}: the write after trimming failed: {e}"));

        let (m, e) = fill(&s, "b", 16);
        assert_eq!(e.kind, ErrorKind::MapFull, "{}", e.message);
        assert!(
            m > 10,
            "round {round}: only {m} messages fit after trimming"
        );
        // Deleting a session does too.
        assert_eq!(s.delete_session(b"b").unwrap(), m as u64);
        s.append_messages(vec![message("c", 16, 0)])
            .unwrap_or_else(|e| panic!("round {round}: the write after deleting failed: {e}"));
        s.trim_session_to_count(b"a", 0).unwrap();
        s.trim_session_to_count(b"c", 0).unwrap();
    }
    assert_eq!(s.verify().unwrap(), s.stats().unwrap().messages);
}

/// A small tmpfs mounted for one test and unmounted when dropped. Mounting needs root (CI runs
/// as root here); elsewhere the test says why it did not run, except under CI, where it fails.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI must be able to mount a tmpfs for the full-disk test: {why}"
                );
                eprintln!("SKIPPED: cannot mount a tmpfs (needs root): {why}");
                None
            }
        }
    }
    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn a_full_disk_is_reported_as_such_and_loses_nothing() {
    let Some(fs) = Tmpfs::mount("3m") else {
        return;
    };
    // Room the test frees later, as an operator would.
    let ballast = fs.path().join("ballast");
    std::fs::write(&ballast, vec![7u8; 1 << 20]).unwrap();
    let path = fs.path().join("store");
    let s = Store::open(&path, OpenOptions::default()).unwrap();
    let mut acked = Vec::new();
    let mut failure = None;
    for n in 0..10_000 {
        // Large messages: LMDB writes them as runs of pages, which the full filesystem cuts
        // short (LMDB's EIO), not only refuses (ENOSPC).
        match s.append_messages(vec![message("disk", 100, n)]) {
            Ok(r) => acked.push(r[0].id),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let e = failure.expect("a 3 MiB filesystem filled up");
    assert!(acked.len() > 5, "only {} messages fit", acked.len());
    assert_eq!(e.kind, ErrorKind::Io, "{}", e.message);
    assert_eq!(e.os_code, libc::ENOSPC, "{}", e.message);
    assert!(
        e.message.contains("No space left on device"),
        "{}",
        e.message
    );
    // Further writes fail the same way, and reads go on.
    for kb in [100, 8, 1] {
        let again = s.append_messages(vec![message("disk", kb, 0)]);
        if let Err(again) = again {
            assert_eq!(again.os_code, libc::ENOSPC, "{}", again.message);
        }
    }
    for id in &acked {
        s.with_message(id, |_| ())
            .expect("an acknowledged message is readable");
    }
    drop(s);

    // Reopened on the still-full disk: everything acknowledged is there and consistent.
    let s = Store::open(&path, OpenOptions::default()).unwrap();
    for id in &acked {
        s.with_message(id, |_| ())
            .expect("an acknowledged message survived the full disk");
    }
    assert_eq!(s.verify().unwrap(), s.stats().unwrap().messages);

    // Space freed: writes work again.
    std::fs::remove_file(&ballast).unwrap();
    for n in 0..20 {
        s.append_messages(vec![message("disk", 8, n)])
            .unwrap_or_else(|e| panic!("write {n} after freeing space: {e}"));
    }
    assert_eq!(s.verify().unwrap(), s.stats().unwrap().messages);
}
