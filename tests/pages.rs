//! The structural reader and verifier on real stores: sound stores verify clean after every kind
//! of write, and each kind of damage is found with its page and table.

mod common;

use lmstore::conversations::NewMessage;
use lmstore::lmdb::pages::{self, Metas};
use lmstore::templates::TemplateSpec;
use lmstore::{ErrorKind, OpenOptions, Store};
use std::path::Path;

fn spec(id: &str, version: &str, text: &str) -> TemplateSpec {
    let bytes = common::pack(&common::map(&[
        ("id", id.into()),
        ("version", version.into()),
        ("template", text.into()),
    ]));
    lmstore::templates::normalize_spec(&bytes).unwrap()
}

/// A store with every table in use, big values on overflow pages, deletes and rewrites.
fn populate(dir: &Path, messages: usize) {
    let store = Store::open(
        dir,
        OpenOptions {
            no_sync: true,
            ..Default::default()
        },
    )
    .unwrap();
    for t in 0..40 {
        let big = "x".repeat(if t % 7 == 0 { 9000 } else { 40 });
        for v in 0..3 {
            store
                .put_template(
                    &spec(
                        &format!("tpl-{t}"),
                        &format!("1.{v}.0"),
                        &format!("{big} {{{{ a }}}} {v}"),
                    ),
                    false,
                )
                .unwrap();
        }
        store
            .set_template_alias(format!("tpl-{t}").as_bytes(), b"prod", b"1.1.0")
            .unwrap();
    }
    store.delete_template(b"tpl-3", None).unwrap();
    store.delete_template(b"tpl-7", Some(b"1.2.0")).unwrap();
    let mut ids = Vec::new();
    for i in 0..messages {
        let m = lmstore::conversations::NewMessage::new(
            format!("s-{}", i % 17).as_bytes(),
            None,
            None,
            b"user",
            if i % 3 == 0 {
                Some(b"agent-1".as_slice())
            } else {
                None
            },
            "hello ".repeat(1 + i % 50).as_bytes(),
            None,
            &[],
        )
        .unwrap();
        ids.push(store.append_messages(vec![m]).unwrap()[0].id);
    }
    for id in ids.iter().step_by(11) {
        store.delete_message(id).unwrap();
    }
    if messages > 0 {
        store.trim_session_to_count(b"s-3", 5).unwrap();
        store.delete_session(b"s-4").unwrap();
    }
    store.sync().unwrap();
}

#[test]
fn sound_stores_verify_clean() {
    for n in [0, 10, 3000] {
        let dir = tempfile::tempdir().unwrap();
        populate(dir.path(), n);
        let report = pages::verify_file(&pages::data_file(dir.path())).unwrap();
        assert!(report.is_ok(), "{n} messages: {:?}", report.damage);
        let names: Vec<_> = report.tables.iter().map(|t| t.name.as_str()).collect();
        assert!(
            names.contains(&"messages") && names.contains(&"tpl_heads"),
            "{names:?}"
        );
        for t in &report.tables {
            if t.name != "(main)" {
                assert_eq!(t.entries, t.recorded_entries, "{}", t.name);
            }
        }
        // The verifying open agrees, and the store still works after it.
        let store = Store::open(
            dir.path(),
            OpenOptions {
                verify: true,
                ..Default::default()
            },
        )
        .unwrap();
        store.get_template(b"tpl-0", None).unwrap();
    }
}

fn page_size(dir: &Path) -> u64 {
    let metas = Metas::read(&pages::data_file(dir)).unwrap();
    metas.current().0.unwrap().page_size as u64
}

#[test]
fn truncation_is_refused_at_open_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 500);
    let path = pages::data_file(dir.path());
    let ps = page_size(dir.path());
    let len = std::fs::metadata(&path).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 3 * ps).unwrap();
    let err = Store::open(dir.path(), OpenOptions::default())
        .err()
        .expect("refused");
    assert_eq!(err.kind, ErrorKind::Corrupt, "{}", err.message);
    assert!(err.message.contains("truncated"), "{}", err.message);
    assert!(err.message.contains("data.mdb"), "{}", err.message);
}

/// The first page of `table` with the given type (1 branch, 2 leaf), from a sound file.
fn page_of(dir: &Path, table: &str, flags: u16) -> u64 {
    let map = pages::page_map(&pages::data_file(dir)).unwrap();
    map.iter()
        .position(|p| p.table == table && p.flags == flags)
        .unwrap_or_else(|| panic!("no page of type {flags} in {table}")) as u64
}

fn write_page(dir: &Path, pgno: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let ps = page_size(dir);
    assert_eq!(bytes.len() as u64, ps);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(pages::data_file(dir))
        .unwrap();
    f.write_all_at(bytes, pgno * ps).unwrap();
}

fn read_page(dir: &Path, pgno: u64) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let ps = page_size(dir);
    let mut buf = vec![0; ps as usize];
    let f = std::fs::File::open(pages::data_file(dir)).unwrap();
    f.read_exact_at(&mut buf, pgno * ps).unwrap();
    buf
}

#[test]
fn damage_is_reported_with_page_and_table() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 3000);
    let leaf = page_of(dir.path(), "messages", 2);
    let zero = vec![0u8; page_size(dir.path()) as usize];
    write_page(dir.path(), leaf, &zero);
    let report = lmstore::recovery::verify_path(dir.path()).unwrap();
    assert!(!report.is_ok());
    let d = &report.damage[0];
    assert_eq!((d.page, d.table.as_str()), (Some(leaf), "messages"), "{d}");
    assert!(d.what.contains("header says page 0"), "{d}");

    // The verifying open refuses it before LMDB maps the file, naming the same place.
    let err = Store::open(
        dir.path(),
        OpenOptions {
            verify: true,
            ..Default::default()
        },
    )
    .err()
    .expect("refused");
    assert_eq!(err.kind, ErrorKind::Corrupt);
    assert!(
        err.message.contains(&format!("page {leaf} (messages)")),
        "{}",
        err.message
    );
}

#[test]
fn swapped_pages_and_disordered_keys_are_found() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 3000);
    let map = pages::page_map(&pages::data_file(dir.path())).unwrap();
    let leaves: Vec<u64> = (0..map.len() as u64)
        .filter(|&p| map[p as usize].table == "messages" && map[p as usize].flags == 2)
        .collect();
    let (a, b) = (leaves[1], leaves[5]);
    let (pa, pb) = (read_page(dir.path(), a), read_page(dir.path(), b));
    write_page(dir.path(), a, &pb);
    write_page(dir.path(), b, &pa);
    let report = lmstore::recovery::verify_path(dir.path()).unwrap();
    assert!(
        report
            .damage
            .iter()
            .any(|d| d.page == Some(a) && d.table == "messages"),
        "{:?}",
        report.damage
    );

    // Swapped back but with their page numbers rewritten, the pages pass the header check and
    // only the key order gives them away.
    let mut fa = pb.clone();
    fa[..8].copy_from_slice(&a.to_ne_bytes());
    let mut fb = pa.clone();
    fb[..8].copy_from_slice(&b.to_ne_bytes());
    write_page(dir.path(), a, &fa);
    write_page(dir.path(), b, &fb);
    let report = lmstore::recovery::verify_path(dir.path()).unwrap();
    assert!(
        report
            .damage
            .iter()
            .any(|d| d.what.contains("out of order")),
        "{:?}",
        report.damage
    );
}

/// Every message key and template version key of a sound store, read by our own reader.
fn keys_of(dir: &Path, table: &str) -> Vec<Vec<u8>> {
    let path = pages::data_file(dir);
    let meta = Metas::read(&path).unwrap().current().0.unwrap();
    let mut reader = pages::Reader::open(&path, meta).unwrap();
    let db = reader
        .tables()
        .into_iter()
        .find(|t| t.0 == table)
        .unwrap()
        .1;
    let mut keys = Vec::new();
    reader.walk(table, &db, false, &mut |_, k, _| keys.push(k.to_vec()));
    keys
}

fn salvage(src: &Path) -> (tempfile::TempDir, lmstore::recovery::SalvageReport) {
    let dest = tempfile::tempdir().unwrap();
    let report = lmstore::recovery::salvage(src, dest.path()).unwrap();
    (dest, report)
}

#[test]
fn salvage_recovers_everything_outside_the_damaged_pages() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 3000);
    let src = Store::open(dir.path(), OpenOptions::default()).unwrap();
    let before = src.stats().unwrap();
    drop(src);
    let all = keys_of(dir.path(), "messages");
    let leaf = page_of(dir.path(), "messages", 2);
    let lost = pages::leaf_keys(&pages::data_file(dir.path()), leaf).unwrap();
    let zero = vec![0u8; page_size(dir.path()) as usize];
    write_page(dir.path(), leaf, &zero);

    let (dest, report) = salvage(dir.path());
    assert_eq!(
        report.messages as usize,
        all.len() - lost.len(),
        "{report:?}"
    );
    assert_eq!(report.template_versions, before.template_versions);
    assert_eq!(report.aliases, 39);
    assert!(
        report.damage.iter().any(|d| d.page == Some(leaf)),
        "{:?}",
        report.damage
    );
    let out = Store::open(dest.path(), OpenOptions::default()).unwrap();
    let after = out.stats().unwrap();
    assert_eq!(after.messages as usize, all.len() - lost.len());
    assert_eq!(after.template_ids, before.template_ids);
    assert_eq!(out.verify().unwrap() as usize, all.len() - lost.len());
    // Latest is still the version put last; aliases still resolve.
    let rec = common::unpack(&out.get_template(b"tpl-0", None).unwrap());
    assert_eq!(common::get(&rec, "version").as_str(), Some("1.2.0"));
    let rec = common::unpack(&out.get_template(b"tpl-7", None).unwrap());
    assert_eq!(common::get(&rec, "version").as_str(), Some("1.1.0"));
    assert!(pages::verify_file(&pages::data_file(dest.path()))
        .unwrap()
        .is_ok());
}

#[test]
fn salvage_reads_leaves_below_a_damaged_branch_and_without_meta_pages() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 3000);
    let all = keys_of(dir.path(), "messages");
    let versions = keys_of(dir.path(), "tpl_versions");
    let branch = page_of(dir.path(), "messages", 1);
    let zero = vec![0u8; page_size(dir.path()) as usize];
    write_page(dir.path(), branch, &zero);
    let (_dest, report) = salvage(dir.path());
    assert_eq!(report.messages as usize, all.len(), "{report:?}");
    assert!(report.orphan_pages > 0);

    // With both meta pages gone, every page is an orphan: everything still comes back.
    write_page(dir.path(), 0, &zero);
    write_page(dir.path(), 1, &zero);
    let (dest, report) = salvage(dir.path());
    assert!(report.messages as usize >= all.len(), "{report:?}");
    assert!(
        report.template_versions as usize >= versions.len(),
        "{report:?}"
    );
    let out = Store::open(dest.path(), OpenOptions::default()).unwrap();
    assert!(out.verify().is_ok());
}

/// A damaged separator key in a branch page makes an intact leaf look out of place: the walk
/// refuses that leaf, and salvage must still read it (found by the corruption campaign).
#[test]
fn salvage_reads_an_intact_leaf_that_a_damaged_separator_misplaces() {
    let u16_at = |b: &[u8], at: usize| u16::from_ne_bytes([b[at], b[at + 1]]) as usize;
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 3000);
    let all = keys_of(dir.path(), "messages");
    // A separator becomes its child's first key plus one: the child's key 0 is then below the
    // range its parent gives it, while the branch itself stays in order. The key must fit the
    // separator's room, so the first leaf whose first key is as long as its separator is taken
    // (a separator may be an older, shorter key: LMDB keeps it when that key goes).
    let map = pages::page_map(&pages::data_file(dir.path())).unwrap();
    let branches = map
        .iter()
        .enumerate()
        .filter(|(_, p)| p.table == "messages" && p.flags == 1)
        .map(|(pgno, _)| pgno as u64);
    let (branch, mut page, node, child, ksize, mut key) = branches
        .flat_map(|branch| {
            let page = read_page(dir.path(), branch);
            let nodes = (u16_at(&page, 12) - 16) / 2;
            (1..nodes).map(move |i| (branch, page.clone(), i))
        })
        .find_map(|(branch, page, i)| {
            let node = u16_at(&page, 16 + 2 * i);
            let child = (u16_at(&page, node) | u16_at(&page, node + 2) << 16) as u64;
            let ksize = u16_at(&page, node + 6);
            let leaf = read_page(dir.path(), child);
            let first = u16_at(&leaf, 16);
            let key = leaf[first + 8..first + 8 + u16_at(&leaf, first + 6)].to_vec();
            let usable =
                u16_at(&leaf, 10) & 2 != 0 && key.len() == ksize && key.last() != Some(&0xff);
            usable.then_some((branch, page, node, child, ksize, key))
        })
        .expect("a leaf whose first key is as long as its separator");
    *key.last_mut().unwrap() += 1;
    page[node + 8..node + 8 + ksize].copy_from_slice(&key);
    write_page(dir.path(), branch, &page);

    let report = lmstore::recovery::verify_path(dir.path()).unwrap();
    assert!(
        report
            .damage
            .iter()
            .any(|d| d.page == Some(child) && d.what.contains("out of order")),
        "{:?}",
        report.damage
    );
    let (dest, report) = salvage(dir.path());
    assert_eq!(report.messages as usize, all.len(), "{report:?}");
    let out = Store::open(dest.path(), OpenOptions::default()).unwrap();
    assert_eq!(out.verify().unwrap() as usize, all.len());
}

#[test]
fn salvage_refuses_bad_arguments_and_never_crashes_on_junk() {
    let dir = tempfile::tempdir().unwrap();
    let err = lmstore::recovery::salvage(dir.path(), &dir.path().join("out")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.message.contains("no data.mdb"), "{}", err.message);
    populate(dir.path(), 10);
    let err = lmstore::recovery::salvage(dir.path(), dir.path()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
    assert!(err.message.contains("not empty"), "{}", err.message);
    // Junk of every size salvages to an empty store with the damage reported.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for len in [0usize, 1, 100, 4096, 8192, 40_000] {
        let junk = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        std::fs::write(pages::data_file(junk.path()), &bytes).unwrap();
        let (_, report) = salvage(junk.path());
        assert_eq!(report.messages + report.template_versions, 0);
        let v = lmstore::recovery::verify_path(junk.path()).unwrap();
        assert!(!v.is_ok() || len == 0, "{len}");
    }
}

#[test]
fn salvage_keeps_creation_times_and_titles() {
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 40);
    let store = Store::open(dir.path(), OpenOptions::default()).unwrap();
    store
        .create_session(b"titled", Some(b"A title"), &[])
        .unwrap();
    let tpl = store.get_template(b"tpl-1", Some(b"1.0.0")).unwrap();
    let session = store.get_session(b"titled").unwrap();
    // An edited message: its updated_at differs from its created_at.
    let old = store
        .append_messages(vec![NewMessage::new(
            b"titled",
            None,
            None,
            b"user",
            None,
            b"first words",
            None,
            &[],
        )
        .unwrap()])
        .unwrap()[0]
        .id;
    std::thread::sleep(std::time::Duration::from_millis(2));
    store
        .update_message(&old, Some(b"edited words"), None)
        .unwrap();
    let edited = common::unpack(&store.with_message(&old, |r| r.to_vec()).unwrap());
    assert_ne!(
        common::get(&edited, "created_at"),
        common::get(&edited, "updated_at")
    );
    drop(store);
    let (dest, report) = salvage(dir.path());
    assert_eq!(report.lost_count, 0, "{report:?}");
    let out = Store::open(dest.path(), OpenOptions::default()).unwrap();
    let t0 = common::unpack(&tpl);
    let t1 = common::unpack(&out.get_template(b"tpl-1", Some(b"1.0.0")).unwrap());
    assert_eq!(
        common::get(&t0, "created_at"),
        common::get(&t1, "created_at")
    );
    let s0 = common::unpack(&session);
    let s1 = common::unpack(&out.get_session(b"titled").unwrap());
    assert_eq!(
        common::get(&s0, "created_at"),
        common::get(&s1, "created_at")
    );
    assert_eq!(common::get(&s1, "title").as_str(), Some("A title"));
    // Messages keep their own times, and an edit stays an edit.
    let back = common::unpack(&out.with_message(&old, |r| r.to_vec()).unwrap());
    for name in ["created_at", "updated_at", "ts", "content"] {
        assert_eq!(
            common::get(&edited, name),
            common::get(&back, name),
            "{name}"
        );
    }
    assert!(out.verify().is_ok());
}

#[test]
fn foreign_files_are_not_a_store_and_damaged_metas_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(pages::data_file(dir.path()), "not a database\n".repeat(600)).unwrap();
    let before = std::fs::read(pages::data_file(dir.path())).unwrap();
    let err = Store::open(dir.path(), OpenOptions::default())
        .err()
        .expect("refused");
    assert_eq!(err.kind, ErrorKind::NotAStore, "{}", err.message);
    assert!(err.message.contains("not an LMDB file"), "{}", err.message);
    assert_eq!(std::fs::read(pages::data_file(dir.path())).unwrap(), before);

    // A store whose two meta pages are zeroed is damaged, not foreign.
    let dir = tempfile::tempdir().unwrap();
    populate(dir.path(), 10);
    let zero = vec![0u8; page_size(dir.path()) as usize];
    write_page(dir.path(), 0, &zero);
    write_page(dir.path(), 1, &zero);
    let err = Store::open(dir.path(), OpenOptions::default())
        .err()
        .expect("refused");
    assert_eq!(err.kind, ErrorKind::Corrupt, "{}", err.message);
    assert!(err.message.contains("both meta pages"), "{}", err.message);
}
