//! Foreign files are refused untouched: a plain LMDB environment that is not an lmstore, and a
//! store whose meta table or schema version is missing or damaged. Every case checks that the
//! files are byte for byte what they were before the open.

use lmstore::{ErrorKind, OpenOptions, Store};
use std::ffi::CString;
use std::path::Path;
use std::ptr;

use lmdb_master_sys as mdb;

/// Writes a plain LMDB environment into `dir` the way another program would: `tables` named
/// databases (None: the main database) with one key each.
fn foreign_env(dir: &Path, tables: &[Option<&str>]) {
    let path = CString::new(dir.to_str().unwrap()).unwrap();
    // SAFETY: the classic LMDB sequence on a fresh env handle; every return code is checked
    // and every handle is closed before returning.
    unsafe {
        let mut env = ptr::null_mut();
        assert_eq!(mdb::mdb_env_create(&mut env), 0);
        assert_eq!(mdb::mdb_env_set_maxdbs(env, 8), 0);
        assert_eq!(mdb::mdb_env_open(env, path.as_ptr(), 0, 0o600), 0);
        let mut txn = ptr::null_mut();
        assert_eq!(mdb::mdb_txn_begin(env, ptr::null_mut(), 0, &mut txn), 0);
        for table in tables {
            let name = table.map(|t| CString::new(t).unwrap());
            let mut dbi = 0;
            let name_ptr = name.as_ref().map_or(ptr::null(), |n| n.as_ptr());
            assert_eq!(
                mdb::mdb_dbi_open(txn, name_ptr, mdb::MDB_CREATE, &mut dbi),
                0
            );
            let (mut k, mut v) = (b"user:1".to_vec(), b"alice".to_vec());
            let mut key = mdb::MDB_val {
                mv_size: k.len(),
                mv_data: k.as_mut_ptr().cast(),
            };
            let mut val = mdb::MDB_val {
                mv_size: v.len(),
                mv_data: v.as_mut_ptr().cast(),
            };
            assert_eq!(mdb::mdb_put(txn, dbi, &mut key, &mut val, 0), 0);
        }
        assert_eq!(mdb::mdb_txn_commit(txn), 0);
        mdb::mdb_env_close(env);
    }
}

/// Every file of the directory with its bytes, so "untouched" is checked exactly. The lock
/// file is LMDB's scratch space for readers, rewritten by any open, so it is left out.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != "lock.mdb")
        .map(|e| {
            let meta = e.metadata().unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
                meta.modified().unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

/// Opens `dir` writable and read-only; both must fail with `kind` and a message containing
/// `says`, and leave every file as it was.
fn refused(dir: &Path, kind: ErrorKind, says: &str) {
    let before = snapshot(dir);
    let files_before = names(dir);
    for read_only in [false, true] {
        let e = Store::open(
            dir,
            OpenOptions {
                read_only,
                ..Default::default()
            },
        )
        .err()
        .unwrap_or_else(|| panic!("{} was opened (read_only {read_only})", dir.display()));
        assert_eq!(e.kind, kind, "read_only {read_only}: {}", e.message);
        assert!(
            e.message.contains(says),
            "read_only {read_only}: {}",
            e.message
        );
        assert!(
            e.message
                .contains(&dir.canonicalize().unwrap().display().to_string()),
            "the message names the path: {}",
            e.message
        );
        assert!(
            before == snapshot(dir),
            "read_only {read_only}: {} was modified",
            dir.display()
        );
        assert_eq!(names(dir), files_before, "files were added");
    }
}

#[test]
fn plain_lmdb_environments_are_refused_untouched() {
    let cases: [(&[Option<&str>], &str); 5] = [
        (&[None], "holds \"user:1\", which is not an lmstore table"),
        (
            &[Some("users")],
            "holds \"users\", which is not an lmstore table",
        ),
        // lmstore's table names without its meta table
        (
            &[Some("messages"), Some("sessions")],
            "without lmstore's meta table",
        ),
        // the meta table beside a table of another program
        (&[Some("meta"), Some("users")], "holds \"users\""),
        // the meta table beside plain keys in the main database
        (&[Some("meta"), None], "holds \"user:1\""),
    ];
    for (tables, says) in cases {
        let dir = tempfile::tempdir().unwrap();
        foreign_env(dir.path(), tables);
        refused(dir.path(), ErrorKind::NotAStore, says);
    }
}

#[test]
fn a_store_without_its_schema_version_is_refused_not_restamped() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), OpenOptions::default()).unwrap();
        store
            .create_session(b"s", None, &[0x80])
            .expect("a write before the damage");
    }
    {
        let env = lmstore::lmdb::Env::open(dir.path(), OpenOptions::default()).unwrap();
        env.write(|txn| {
            use lmstore::storage::{Table, WriteTxn};
            txn.del(Table::Meta, b"schema_version").map(|_| ())
        })
        .unwrap();
    }
    refused(dir.path(), ErrorKind::Corrupt, "has no schema version");

    // A damaged one (not 4 bytes) is refused too.
    {
        let env = lmstore::lmdb::Env::open(dir.path(), OpenOptions::default()).unwrap();
        env.write(|txn| {
            use lmstore::storage::{Table, WriteTxn};
            txn.put(Table::Meta, b"schema_version", &[0, 1])
        })
        .unwrap();
    }
    refused(
        dir.path(),
        ErrorKind::Corrupt,
        "schema version is not 4 bytes",
    );
}

#[test]
fn a_new_store_has_its_schema_version_from_its_first_commit() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), OpenOptions::default()).unwrap());
    let ro = Store::open(
        dir.path(),
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        ro.stats().unwrap().schema_version,
        lmstore::meta::SCHEMA_VERSION
    );
}

#[test]
fn read_only_open_of_an_empty_or_missing_store_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let ro = OpenOptions {
        read_only: true,
        ..Default::default()
    };
    for path in [dir.path().to_path_buf(), dir.path().join("missing")] {
        let e = Store::open(&path, ro).err().unwrap();
        assert_eq!(
            e.kind,
            ErrorKind::NotFound,
            "{}: {}",
            path.display(),
            e.message
        );
        assert!(
            e.message.contains("no data.mdb") || e.message.contains("No such file"),
            "{}",
            e.message
        );
        assert!(
            !path.join("data.mdb").exists(),
            "a read-only open created a file"
        );
    }
}

#[test]
fn open_creates_its_own_directory_but_not_missing_parents() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("stores-typo").join("main");
    let e = Store::open(&typo, OpenOptions::default()).err().unwrap();
    assert_eq!(e.kind, ErrorKind::NotFound, "{}", e.message);
    assert_eq!(e.os_code, libc::ENOENT);
    assert_eq!(
        e.message,
        format!(
            "the parent directory of {} does not exist (LMS_OPEN_CREATE_PARENTS creates it)",
            typo.display()
        )
    );
    assert!(
        !dir.path().join("stores-typo").exists(),
        "a parent was created"
    );

    // Its own directory is created.
    let own = dir.path().join("store");
    drop(Store::open(&own, OpenOptions::default()).unwrap());
    assert!(own.join("data.mdb").exists());

    // Parents on request.
    let deep = dir.path().join("a").join("b").join("store");
    let s = Store::open(
        &deep,
        OpenOptions {
            create_parents: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.stats().unwrap().messages, 0);
}
