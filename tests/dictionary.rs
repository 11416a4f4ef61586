//! Compression dictionaries trained from a store's own messages: short messages compress,
//! records keep the dictionary they were written with across retraining, damage is
//! `Corrupt` and never wrong text, and a training killed midway loses nothing.

mod common;
use common::*;
use lmstore::conversations::record::{self, Body, StoredFields};
use lmstore::conversations::NewMessage;
use lmstore::format::compress::{self, DictionarySource, Packing};
use lmstore::storage::{ReadTxn, Table, WriteTxn};
use lmstore::{ErrorKind, OpenOptions, Store};
use rmpv::Value;

const WORDS: [&str; 24] = [
    "the",
    "model",
    "returned",
    "a",
    "summary",
    "of",
    "user's",
    "document",
    "please",
    "check",
    "context",
    "window",
    "tokens",
    "answer",
    "question",
    "retrieval",
    "function",
    "call",
    "result",
    "format",
    "json",
    "schema",
    "before",
    "sending",
];

/// A chat message of 20-70 words, different for every (round, i), the same on every call.
fn chat(round: u64, i: u64) -> String {
    let mut x = round
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(i.wrapping_mul(0xbf58_476d_1ce4_e5b9))
        | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let n = 20 + next() % 51;
    let mut s = format!("[{round}/{i}]");
    for _ in 0..n {
        s.push(' ');
        s.push_str(WORDS[(next() % WORDS.len() as u64) as usize]);
    }
    s
}

fn metadata(i: u64) -> Vec<u8> {
    pack(&map(&[("tokens", Value::from(i % 500))]))
}

#[test]
fn a_store_of_a_schema_newer_than_dictionaries_is_refused_naming_both() {
    if on_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    drop(open_no_sync(&dir));
    let env = lmstore::lmdb::Env::open(dir.path(), OpenOptions::default()).unwrap();
    env.write(|txn| txn.put(Table::Meta, b"schema_version", &4u32.to_be_bytes()))
        .unwrap();
    drop(env);
    let Err(e) = Store::open(dir.path(), OpenOptions::default()) else {
        panic!("a schema-4 store opened");
    };
    assert_eq!(e.kind, ErrorKind::VersionMismatch);
    assert!(e.message.contains("schema version 4"), "{}", e.message);
    assert!(e.message.contains("reads up to schema 3"), "{}", e.message);
}

fn append_round(s: &Store, round: u64, count: u64) {
    let batch = (0..count)
        .map(|i| {
            NewMessage::new(
                format!("session-{}", i % 5).as_bytes(),
                None,
                None,
                b"user",
                None,
                chat(round, i).as_bytes(),
                None,
                &metadata(i),
            )
            .unwrap()
        })
        .collect();
    s.append_messages(batch).unwrap();
}

/// Every message of the store's five sessions by content, checked against `chat`: the
/// number read.
fn check_all(s: &Store) -> usize {
    let mut n = 0;
    for session in 0..5 {
        for m in all_messages(s, &format!("session-{session}"), 500, false) {
            let content = get(&m, "content").as_str().expect("content").to_owned();
            let (round, i) = content[1..content.find(']').unwrap()]
                .split_once('/')
                .map(|(r, i)| (r.parse().unwrap(), i.parse().unwrap()))
                .unwrap();
            assert_eq!(
                content,
                chat(round, i),
                "message {round}/{i} reads back changed"
            );
            assert_eq!(get(&m, "metadata"), &unpack(&metadata(i)));
            n += 1;
        }
    }
    n
}

#[test]
fn a_trained_dictionary_compresses_short_messages_and_they_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    append_round(&s, 0, 1000);
    let before = s.stats().unwrap();
    assert_eq!(
        before.body_bytes, before.body_stored_bytes,
        "short bodies stay raw without a dictionary"
    );
    assert!(s.dictionaries().unwrap().is_empty());
    assert_eq!(before.schema_version, 2);

    let d = s.train_dictionary(0).unwrap();
    assert_eq!(d.version, 1);
    assert_eq!(d.min_body, Some(256));
    assert_eq!(
        s.stats().unwrap().schema_version,
        3,
        "the first dictionary makes the store schema 3, so builds without dictionaries refuse it"
    );
    if !on_pg() {
        assert_eq!(s.upgrade().unwrap().from_schema, 3, "nothing to upgrade");
    }
    assert!(d.bytes > 1000 && d.bytes <= 32 << 10, "{} bytes", d.bytes);
    assert_eq!(s.dictionaries().unwrap(), vec![d.clone()]);

    append_round(&s, 1, 1000);
    let after = s.stats().unwrap();
    let plain = after.body_bytes - before.body_bytes;
    let stored = after.body_stored_bytes - before.body_stored_bytes;
    assert!(
        stored * 2 < plain,
        "bodies written with the dictionary take {stored} of {plain} bytes"
    );
    assert_eq!(check_all(&s), 2000);

    // An update re-encodes with the current dictionary and reads back.
    let page = s
        .range_messages(
            b"session-0",
            &lmstore::conversations::RangeQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .unwrap();
    let first = unpack(page.bytes());
    let id = get(&first[0], "id").as_slice().unwrap().to_vec();
    let longer = format!("{} {}", chat(0, 0), chat(0, 0));
    s.update_message(&id, Some(longer.as_bytes()), None)
        .unwrap();
    s.with_message(&id, |m| {
        assert_eq!(get(&unpack(m), "content").as_str(), Some(longer.as_str()))
    })
    .unwrap();
    assert_eq!(s.verify().unwrap(), 2000);
}

#[test]
fn records_written_under_an_old_dictionary_read_after_retraining() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    append_round(&s, 0, 800);
    assert_eq!(s.train_dictionary(0).unwrap().version, 1);
    append_round(&s, 1, 800);
    let second = s.train_dictionary(300).unwrap();
    assert_eq!(second.version, 2);
    assert_eq!(second.min_body, Some(300));
    append_round(&s, 2, 800);
    let all = s.dictionaries().unwrap();
    assert_eq!(all.iter().map(|d| d.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        all[0].min_body, None,
        "only the current dictionary has a min_body"
    );
    assert_ne!(all[0].zstd_id, all[1].zstd_id);
    assert_eq!(check_all(&s), 2400);
    // As a fresh process would: every dictionary loaded from the store again.
    compress::forget_prepared_dictionaries();
    drop(s);
    let s = open_no_sync(&dir);
    assert_eq!(check_all(&s), 2400);
}

#[test]
fn training_refuses_too_few_messages_a_tiny_min_body_and_a_read_only_handle() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    let e = s.train_dictionary(0).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("too few messages"), "{}", e.message);
    assert!(e.message.contains("0 found"), "{}", e.message);
    append_round(&s, 0, 600);
    let e = s.train_dictionary(8).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("min_body 8"), "{}", e.message);
    assert!(
        s.dictionaries().unwrap().is_empty(),
        "a refused training stored something"
    );
    if !on_pg() {
        drop(s);
        let ro = open_at(
            dir.path(),
            OpenOptions {
                read_only: true,
                ..Default::default()
            },
        );
        assert_eq!(
            ro.train_dictionary(0).unwrap_err().kind,
            ErrorKind::ReadOnly
        );
    }
}

/// The dictionaries of one test, as a store's meta table would hold them.
struct Held(Vec<(u32, Vec<u8>)>);

impl DictionarySource for Held {
    fn dictionary_bytes(&self, version: u32) -> lmstore::Result<Option<&[u8]>> {
        Ok(self
            .0
            .iter()
            .find(|d| d.0 == version)
            .map(|d| d.1.as_slice()))
    }
}

fn trained(round: u64) -> Vec<u8> {
    let samples: Vec<Vec<u8>> = (0..2000).map(|i| chat(round, i).into_bytes()).collect();
    zstd::dict::from_samples(&samples, 16 << 10).unwrap()
}

#[test]
fn a_damaged_dictionary_or_compressed_record_is_corrupt_never_wrong_text() {
    let dict = trained(7);
    let id = compress::dictionary_id(&dict).unwrap();
    let good = Held(vec![(1, dict.clone())]);
    let packing = Packing::new(&good, 1, id, 64).unwrap();
    let content = chat(7, 1);
    let fields = StoredFields {
        role: "assistant",
        agent_id: None,
        in_reply_to: None,
        created_at: 10,
        updated_at: 10,
    };
    let stored = record::encode_stored(&fields, 10, content.as_bytes(), &[0x80], Some(&packing));
    let m = record::decode_stored(&stored, 10).unwrap();
    let Body::Packed {
        dictionary: 1,
        frame,
    } = m.body
    else {
        panic!(
            "a {}-byte chat message was not compressed with the dictionary",
            content.len()
        );
    };
    let frame = frame.to_vec();
    let key = lmstore::conversations::keys::entry(b"s", 10, &[3; 16]);
    let public = record::public_record(&good, &key, &stored).unwrap();
    assert_eq!(
        get(&unpack(&public), "content").as_str(),
        Some(content.as_str())
    );

    // Loaded fresh each time, from what the store holds under version 1.
    let read = |dicts: &Held, stored: &[u8]| {
        compress::forget_prepared_dictionaries();
        record::public_record(dicts, &key, stored)
    };
    let e = read(&Held(vec![]), &stored).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt);
    assert!(
        e.message
            .contains("dictionary 1, which this store does not hold"),
        "{}",
        e.message
    );
    let e = read(&Held(vec![(1, trained(8))]), &stored).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt);
    assert!(
        e.message.contains("dictionary 1 is damaged"),
        "{}",
        e.message
    );
    // A dictionary with its header intact and a byte changed anywhere after it.
    for at in (8..dict.len()).step_by(dict.len() / 97 + 1) {
        let mut bent = dict.clone();
        bent[at] ^= 0x5a;
        match read(&Held(vec![(1, bent)]), &stored) {
            Ok(p) => assert_eq!(p, public, "byte {at} of the dictionary changed the text"),
            Err(e) => assert_eq!(e.kind, ErrorKind::Corrupt, "byte {at}: {}", e.message),
        }
    }
    // The frame bent in place (a record whose checksum was rewritten to match).
    let at = stored.len() - frame.len();
    for i in 0..frame.len() {
        let mut bent = stored.clone();
        bent[at + i] ^= 0x01;
        match read(&good, &bent) {
            Ok(p) => assert_eq!(p, public, "byte {i} of the frame changed the text"),
            Err(e) => assert_eq!(e.kind, ErrorKind::Corrupt, "byte {i}: {}", e.message),
        }
    }
}

#[test]
fn a_dictionary_damaged_in_the_store_is_corrupt_on_read() {
    if on_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    append_round(&s, 0, 600);
    s.train_dictionary(0).unwrap();
    append_round(&s, 1, 10);
    drop(s);
    // Another valid dictionary under version 1, sealed with a matching checksum: only the
    // id that the frames name can tell.
    let env = lmstore::lmdb::Env::open(dir.path(), OpenOptions::default()).unwrap();
    env.write(|txn| txn.put(Table::Meta, b"dict.v.\0\0\0\x01", &trained(9)))
        .unwrap();
    drop(env);
    compress::forget_prepared_dictionaries();
    let s = open_no_sync(&dir);
    let q = lmstore::conversations::RangeQuery {
        limit: 500,
        ..Default::default()
    };
    let e = s.range_messages(b"session-0", &q).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt);
    assert!(
        e.message.contains("dictionary 1 is damaged"),
        "{}",
        e.message
    );
    // Appends refuse too, naming the damage: the current dictionary is the damaged one.
    let e = s
        .append_messages(vec![NewMessage::new(
            b"session-9",
            None,
            None,
            b"user",
            None,
            chat(5, 5).as_bytes(),
            None,
            &[],
        )
        .unwrap()])
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt, "{}", e.message);
}

#[test]
fn salvage_keeps_and_compact_backups_recompress_dictionary_messages() {
    if on_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    {
        let s = open_at(&src, OpenOptions::default());
        append_round(&s, 0, 600);
        s.train_dictionary(0).unwrap();
        append_round(&s, 1, 600);
    }
    let copy = dir.path().join("copy");
    let before = {
        let s = Store::open(&src, OpenOptions::default()).unwrap();
        s.backup(&copy, true).unwrap();
        s.stats().unwrap()
    };
    compress::forget_prepared_dictionaries();
    let c = Store::open(&copy, OpenOptions::default()).unwrap();
    assert_eq!(check_all(&c), 1200);
    assert_eq!(c.dictionaries().unwrap().len(), 1);
    // The messages written before the dictionary are compressed with it in the compact copy,
    // and the counters say so.
    let after = c.stats().unwrap();
    assert_eq!(after.body_bytes, before.body_bytes);
    assert!(
        after.body_stored_bytes * 10 < before.body_stored_bytes * 8,
        "{} stored bytes in the copy against {} in the store",
        after.body_stored_bytes,
        before.body_stored_bytes
    );
    assert_eq!(c.verify().unwrap(), 1200);
    assert_eq!(stored_body_bytes(&copy), after.body_stored_bytes);
    // A compact copy of the copy has nothing left to compress: the same stored bytes.
    let again = dir.path().join("again");
    c.backup(&again, true).unwrap();
    let a = Store::open(&again, OpenOptions::default()).unwrap();
    assert_eq!(
        a.stats().unwrap().body_stored_bytes,
        after.body_stored_bytes
    );
    assert_eq!(check_all(&a), 1200);

    compress::forget_prepared_dictionaries();
    let saved = dir.path().join("saved");
    let report = lmstore::recovery::salvage(&src, &saved).unwrap();
    assert_eq!(report.messages, 1200, "{:?}", report.lost);
    let s = Store::open(&saved, OpenOptions::default()).unwrap();
    assert_eq!(check_all(&s), 1200);
}

/// The body bytes as stored, counted record by record (what the counter must say).
fn stored_body_bytes(dir: &std::path::Path) -> u64 {
    let env = lmstore::lmdb::Env::open(dir, OpenOptions::default()).unwrap();
    env.read(|txn| {
        let mut total = 0;
        txn.scan(
            Table::Messages,
            lmstore::storage::Start::Edge,
            false,
            &mut |k, v| {
                total += record::body_size(k, v)?.stored;
                Ok(true)
            },
        )?;
        Ok(total)
    })
    .unwrap()
}

const TRAIN_CHILD_ENV: &str = "LMSTORE_TRAIN_CHILD_DIR";

/// Run as a separate process by `a_training_killed_midway_loses_nothing`: trains and appends
/// in turn until it is killed, noting each committed append in `acked`.
#[test]
#[ignore = "a child process of a_training_killed_midway_loses_nothing"]
fn train_child() {
    let dir = child_dir(TRAIN_CHILD_ENV);
    let s = Store::open(&dir.join("store"), OpenOptions::default()).unwrap();
    for round in 1.. {
        s.train_dictionary(0).unwrap();
        append_round(&s, round, 200);
        std::fs::write(dir.join("acked"), round.to_string()).unwrap();
    }
}

#[test]
fn a_training_killed_midway_loses_nothing() {
    if on_pg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(&dir.path().join("store"), OpenOptions::default()).unwrap();
        append_round(&s, 0, 1000);
    }
    let acked = dir.path().join("acked");
    let mut child = child_test("train_child", TRAIN_CHILD_ENV, dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let rounds = |p: &std::path::Path| -> u64 {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    while rounds(&acked) < 3 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child stopped by itself"
        );
        assert!(
            started.elapsed().as_secs() < 120,
            "the child made no progress"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // Somewhere inside a training or an append of the next round.
    std::thread::sleep(std::time::Duration::from_millis(
        7 * (started.elapsed().as_millis() as u64 % 13),
    ));
    child.kill().unwrap();
    child.wait().unwrap();
    let done = rounds(&acked);

    let s = Store::open(&dir.path().join("store"), OpenOptions::default()).unwrap();
    let dicts = s.dictionaries().unwrap();
    let versions: Vec<u32> = dicts.iter().map(|d| d.version).collect();
    assert!(
        versions.len() as u64 >= done,
        "{versions:?} after {done} rounds"
    );
    assert_eq!(versions, (1..=versions.len() as u32).collect::<Vec<_>>());
    let n = check_all(&s) as u64;
    // Every acknowledged round is there; the round being written is there whole or not at all.
    assert!(
        n == 1000 + 200 * done || n == 1000 + 200 * (done + 1),
        "{n} messages after {done} rounds"
    );
    assert_eq!(s.verify().unwrap(), n);
    assert_eq!(
        s.train_dictionary(0).unwrap().version,
        versions.len() as u32 + 1
    );
    append_round(&s, 99, 50);
    assert_eq!(check_all(&s) as u64, n + 50);
}

#[test]
fn the_current_dictionary_is_stored_with_its_id_and_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    append_round(&s, 0, 600);
    let d = s.train_dictionary(512).unwrap();
    assert_eq!(d.min_body, Some(512));
    // Bodies below the threshold stay raw; from it on they use the dictionary.
    let before = s.stats().unwrap();
    append_round(&s, 1, 100);
    let after = s.stats().unwrap();
    assert_eq!(
        after.body_bytes - before.body_bytes,
        after.body_stored_bytes - before.body_stored_bytes,
        "bodies under 512 bytes were compressed"
    );
}

#[test]
fn training_again_on_the_same_messages_keeps_the_version_and_takes_the_new_min_body() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    append_round(&s, 0, 600);
    let first = s.train_dictionary(0).unwrap();
    let again = s.train_dictionary(400).unwrap();
    assert_eq!(
        again.version, first.version,
        "an identical dictionary got a new version"
    );
    assert_eq!(again.zstd_id, first.zstd_id);
    assert_eq!(again.min_body, Some(400));
    assert_eq!(s.dictionaries().unwrap(), vec![again]);
}
