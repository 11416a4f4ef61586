//! The stored format (schema 2): record checksums, the compact message record and its
//! compressed bodies, and the upgrade of a schema-1 store built by the schema-1 code.

mod common;
use common::*;
use lmstore::conversations::record::{self, Body, StoredFields};
use lmstore::conversations::{NewMessage, RangeQuery};
use lmstore::format::compress::NoDictionaries;
use lmstore::lmdb::Env;
use lmstore::storage::{ReadTxn, Table, WriteTxn};
use lmstore::{ErrorKind, OpenOptions, Store};
use rmpv::Value;
use std::path::Path;

#[allow(clippy::too_many_arguments)]
fn message(
    session: &str,
    id: u8,
    ts: i64,
    role: &str,
    agent: Option<&str>,
    content: &str,
    reply: Option<u8>,
    metadata: &[u8],
) -> NewMessage {
    NewMessage::new(
        session.as_bytes(),
        Some(&[id; 16]),
        Some(ts),
        role.as_bytes(),
        agent.map(str::as_bytes),
        content.as_bytes(),
        reply.map(|r| [r; 16]).as_ref().map(|r| &r[..]),
        metadata,
    )
    .unwrap()
}

fn latest(s: &Store, session: &str, limit: u32) -> Vec<u8> {
    let q = RangeQuery {
        limit,
        reverse: true,
        ..Default::default()
    };
    s.range_messages(session.as_bytes(), &q)
        .unwrap()
        .bytes()
        .to_vec()
}

/// Text zstd gains on (a tool output) and text it cannot shrink.
fn compressible(len: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(&format!("row {i}: status ok, latency {} ms\n", i % 17));
        i += 1;
    }
    s.truncate(len);
    s
}

fn all_kinds() -> Vec<NewMessage> {
    let tokens = pack(&map(&[("tokens", 12.into()), ("model", "m-1".into())]));
    vec![
        message("k", 1, 10, "user", None, "plain", None, &[]),
        message(
            "k",
            2,
            20,
            "assistant",
            Some("bot"),
            "with agent",
            Some(1),
            &tokens,
        ),
        message("k", 3, 30, "system", None, "", None, &tokens),
        message(
            "k",
            4,
            40,
            "tool",
            Some("t"),
            &compressible(4000),
            None,
            &tokens,
        ),
        message(
            "k",
            5,
            50,
            "critic",
            None,
            "caf\u{e9} \u{1F600}",
            Some(4),
            &[],
        ),
        message(
            "k",
            6,
            60,
            "a-role-of-forty-bytes-is-still-just-text",
            None,
            "x",
            None,
            &[],
        ),
        message(
            "k",
            7,
            1_700_000_000_000_000,
            "user",
            None,
            &"y".repeat(70_000),
            None,
            &[],
        ),
    ]
}

#[test]
fn every_message_kind_round_trips_through_the_compact_record() {
    let now = 1_800_000_000_000_000;
    for m in all_kinds() {
        let ts = m.ts.unwrap();
        let key = lmstore::conversations::keys::entry(m.session_id.as_bytes(), ts, &m.id);
        let stored = m.encode_record(ts, now, None);
        let v1 = m.encode_record_v1(ts, now);
        // The public record rebuilt from the compact one is byte for byte the schema-1 record.
        assert_eq!(
            record::public_record(&NoDictionaries, &key, &stored).unwrap(),
            v1,
            "{}",
            m.role
        );
        // A schema-1 record reads as itself, and converts to the same compact record.
        assert_eq!(
            record::public_record(&NoDictionaries, &key, &v1).unwrap(),
            v1
        );
        assert_eq!(record::restore_as_v2(&key, &v1).unwrap(), stored);
        let decoded = record::decode_stored(&stored, ts).unwrap();
        assert_eq!(
            decoded.fields,
            StoredFields {
                role: &m.role,
                agent_id: m.agent_id.as_deref().map(str::as_bytes),
                in_reply_to: m.in_reply_to,
                created_at: now,
                updated_at: now,
            }
        );
        let packed = matches!(decoded.body, Body::Packed { .. });
        assert_eq!(
            packed,
            m.content.len() >= 1024,
            "large compressible bodies are packed, small ones raw ({})",
            m.content.len()
        );
        if packed {
            assert!(stored.len() < m.content.len() / 2, "compression gained");
        }
        assert_eq!(record::agent_of(&key, &stored).unwrap(), m.agent_id.clone());
    }
}

#[test]
fn a_cut_or_bent_compact_record_is_corrupt_never_a_crash() {
    // The reader decodes the compact record by hand: every prefix of every kind, and every
    // record with one byte changed, either reads (a change the format cannot see, such as a
    // different character) or is LMS_CORRUPT naming the damage; none panics. (A raw body's
    // metadata is the record's tail and is not parsed on read: the checksum guards it, so
    // prefixes are cut before it.)
    for m in all_kinds() {
        let ts = m.ts.unwrap();
        let key = lmstore::conversations::keys::entry(m.session_id.as_bytes(), ts, &m.id);
        let stored = m.encode_record(ts, 1_800_000_000_000_000, None);
        let tail = match record::decode_stored(&stored, ts).unwrap().body {
            Body::Raw { metadata, .. } => metadata.len(),
            Body::Packed { .. } => 0,
        };
        for cut in 0..(stored.len() - tail).min(300) {
            let e = record::public_record(&NoDictionaries, &key, &stored[..cut]).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Corrupt, "cut at {cut}: {}", e.message);
            assert!(
                e.message.starts_with("stored message record is damaged")
                    || e.message.contains("compressed"),
                "cut at {cut}: {}",
                e.message
            );
        }
        for at in 0..stored.len().min(64) {
            for bit in 0..8 {
                let mut bent = stored.clone();
                bent[at] ^= 1 << bit;
                if let Err(e) = record::public_record(&NoDictionaries, &key, &bent) {
                    assert_eq!(e.kind, ErrorKind::Corrupt, "{}", e.message);
                }
            }
        }
    }
}

#[test]
fn incompressible_bodies_stay_raw() {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..5000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let metadata = pack(&map(&[("blob", Value::Binary(noise))]));
    let m = message("n", 1, 1, "user", None, "random bytes", None, &metadata);
    let stored = m.encode_record(1, 1, None);
    assert!(matches!(
        record::decode_stored(&stored, 1).unwrap().body,
        Body::Raw { .. }
    ));
}

#[test]
fn stored_messages_read_back_as_the_documented_records() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    let kinds = all_kinds();
    s.append_messages(kinds.clone()).unwrap();
    let page = unpack(&latest(&s, "k", 100));
    let items = page.as_array().unwrap();
    assert_eq!(items.len(), kinds.len());
    for (got, m) in items.iter().rev().zip(&kinds) {
        assert_eq!(get(got, "content").as_str(), Some(m.content.as_str()));
        assert_eq!(get(got, "role").as_str(), Some(m.role.as_ref()));
        assert_eq!(get(got, "session_id").as_str(), Some("k"));
        assert_eq!(get(got, "ts").as_i64(), m.ts);
        let by_id = s.with_message(&m.id, |r| r.to_vec()).unwrap();
        assert_eq!(&unpack(&by_id), got);
    }
    // Updating a packed message keeps it packed and readable; its agent index stays right.
    s.update_message(&[4; 16], Some(compressible(5000).as_bytes()), None)
        .unwrap();
    let after = unpack(&s.with_message(&[4; 16], |r| r.to_vec()).unwrap());
    assert_eq!(
        get(&after, "content").as_str(),
        Some(&compressible(5000)[..])
    );
    assert_eq!(get(&after, "agent_id").as_str(), Some("t"));
    let st = s.stats().unwrap();
    assert!(
        st.body_stored_bytes + 8000 < st.body_bytes,
        "stats show what compression saved: {} of {}",
        st.body_stored_bytes,
        st.body_bytes
    );
    s.delete_message(&[4; 16]).unwrap();
    assert_eq!(s.verify().unwrap(), kinds.len() as u64 - 1);
    s.delete_session(b"k").unwrap();
    let st = s.stats().unwrap();
    assert_eq!(
        (st.body_bytes, st.body_stored_bytes),
        (0, 0),
        "the body counters are exact"
    );
}

#[test]
fn damaged_compressed_bodies_are_corrupt_never_wrong_text() {
    let m = message("z", 9, 5, "tool", None, &compressible(6000), None, &[]);
    let key = lmstore::conversations::keys::entry(b"z", 5, &m.id);
    let stored = m.encode_record(5, 5, None);
    let good = record::public_record(&NoDictionaries, &key, &stored).unwrap();
    let mut corrupt = 0;
    for i in 0..stored.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = stored.clone();
            bad[i] ^= bit;
            match record::public_record(&NoDictionaries, &key, &bad) {
                Ok(public) => {
                    // Only flips in the fields before the body can decode; the body must
                    // never come back different.
                    let v = unpack(&public);
                    assert_eq!(
                        get(&v, "content").as_str(),
                        Some(&compressible(6000)[..]),
                        "byte {i} bit {bit:#x} changed the text"
                    );
                }
                Err(e) => {
                    assert_eq!(e.kind, ErrorKind::Corrupt, "byte {i}: {e}");
                    corrupt += 1;
                }
            }
        }
    }
    assert!(corrupt > stored.len(), "most flips are caught ({corrupt})");
    for cut in 0..stored.len() {
        let e = record::public_record(&NoDictionaries, &key, &stored[..cut]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Corrupt, "cut at {cut}");
    }
    assert_eq!(unpack(&good).as_map().map(Vec::len), Some(8));
}

/// Flips every occurrence of `needle` in the store's file (the first byte of each), with the
/// store closed.
fn flip_in_file(dir: &Path, needle: &[u8]) -> usize {
    let path = dir.join("data.mdb");
    let mut bytes = std::fs::read(&path).unwrap();
    let mut hits = 0;
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i] ^= 0x20;
            hits += 1;
            i += needle.len();
        } else {
            i += 1;
        }
    }
    std::fs::write(&path, bytes).unwrap();
    hits
}

#[test]
fn a_flipped_record_byte_is_corrupt_naming_table_and_key() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(&dir);
        s.append_messages(vec![
            message("sess", 1, 100, "user", None, "keep me intact", None, &[]),
            message("sess", 2, 200, "user", None, "MARKER-flip-me", None, &[]),
        ])
        .unwrap();
        let spec = lmstore::templates::normalize_spec(&pack(&map(&[
            ("id", "tpl".into()),
            ("template", "TEMPLATE-flip-me".into()),
        ])))
        .unwrap();
        s.put_template(&spec, false).unwrap();
    }
    assert!(flip_in_file(dir.path(), b"MARKER-flip-me") >= 1);
    assert!(flip_in_file(dir.path(), b"TEMPLATE-flip-me") >= 1);
    let s = open(&dir);
    let e = s.with_message(&[2; 16], |r| r.to_vec()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt);
    assert!(
        e.message.contains("table messages") && e.message.contains("sess"),
        "names table and key: {e}"
    );
    let q = RangeQuery {
        limit: 10,
        ..Default::default()
    };
    let e = s.range_messages(b"sess", &q).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt, "{e}");
    // The intact message is still there, by id.
    let ok = unpack(&s.with_message(&[1; 16], |r| r.to_vec()).unwrap());
    assert_eq!(get(&ok, "content").as_str(), Some("keep me intact"));
    let e = s.get_template(b"tpl", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Corrupt);
    assert!(e.message.contains("tpl_"), "{e}");
    assert_eq!(s.verify().unwrap_err().kind, ErrorKind::Corrupt);
}

fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema1/data.mdb");
    std::fs::copy(src, dir.path().join("data.mdb")).unwrap();
    dir
}

/// Everything a reader sees of the fixture, as bytes.
fn snapshot(s: &Store) -> Vec<Vec<u8>> {
    let mut out = vec![
        latest(s, "s1", 100),
        latest(s, "s2", 100),
        s.get_template(b"greet", None).unwrap(),
        s.get_template(b"greet", Some(b"1.0.0")).unwrap(),
        s.get_template(b"other", None).unwrap(),
        s.with_template_by_alias(b"greet", b"production", <[u8]>::to_vec)
            .unwrap(),
        s.list_template_ids(b"", b"", 10).unwrap(),
        s.list_template_versions(b"greet").unwrap(),
        s.list_template_aliases(b"greet").unwrap(),
        s.get_session(b"s1").unwrap(),
        s.list_sessions(None, 10).unwrap().bytes().to_vec(),
    ];
    for id in 1..=5u8 {
        out.push(s.with_message(&[id; 16], |r| r.to_vec()).unwrap());
    }
    let q = RangeQuery {
        limit: 10,
        ..Default::default()
    };
    out.push(s.range_agent_messages(b"bot", &q).unwrap().bytes().to_vec());
    out
}

#[test]
fn a_schema_1_store_opens_reads_and_upgrades() {
    let dir = fixture_copy();
    let s = Store::open(dir.path(), OpenOptions::default()).unwrap();
    let st = s.stats().unwrap();
    assert_eq!((st.schema_version, st.messages, st.sessions), (1, 5, 2));
    assert_eq!((st.template_ids, st.template_versions), (2, 3));
    let before = snapshot(&s);
    let s1 = unpack(&before[0]);
    let contents: Vec<&str> = s1
        .as_array()
        .unwrap()
        .iter()
        .map(|m| get(m, "content").as_str().unwrap())
        .collect();
    assert_eq!(contents, ["caf\u{e9} \u{1F600}", "hi there", "hello"]);
    assert_eq!(
        get(&unpack(&before[5]), "template").as_str(),
        Some("Hello {{ name }}")
    );
    assert_eq!(s.verify().unwrap(), 5);

    // Writes wait for the upgrade, and say so.
    let e = s
        .append_messages(vec![message("s1", 9, 9, "user", None, "new", None, &[])])
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::VersionMismatch);
    // Training a dictionary is a write too: refused the same way before it samples anything.
    let t = s.train_dictionary(0).unwrap_err();
    assert_eq!(t.kind, ErrorKind::VersionMismatch, "{t}");
    assert!(t.message.contains("upgrade"), "{t}");
    assert!(
        e.message.contains("schema version 1") && e.message.contains("upgrade"),
        "{e}"
    );

    // A read-only handle cannot upgrade.
    let ro = Store::open(
        dir.path(),
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    );
    if let Ok(ro) = ro {
        assert_eq!(ro.upgrade().unwrap_err().kind, ErrorKind::ReadOnly);
    }

    let done = s.upgrade().unwrap();
    assert_eq!((done.from_schema, done.messages), (1, 5));
    assert_eq!(s.stats().unwrap().schema_version, 2);
    assert_eq!(
        snapshot(&s),
        before,
        "every read is the same after the upgrade"
    );
    assert_eq!(s.verify().unwrap(), 5);
    // Upgrading again is nothing to do.
    assert_eq!(s.upgrade().unwrap().from_schema, 2);
    s.append_messages(vec![message("s1", 9, 9, "user", None, "new", None, &[])])
        .unwrap();
    drop(s);

    // Reopened: schema 2, checksums on (a flipped byte is now caught), the large tool output
    // compressed.
    let s = Store::open(dir.path(), OpenOptions::default()).unwrap();
    assert_eq!(s.stats().unwrap().schema_version, 2);
    assert_eq!(s.verify().unwrap(), 6);
    let usage = s.usage().unwrap();
    let messages = usage.table("messages").unwrap();
    assert_eq!(messages.entries, 6);
    assert!(
        messages.value_bytes < 2000,
        "the 8 KB tool output is stored compressed"
    );
    let st = s.stats().unwrap();
    assert!(st.body_stored_bytes * 4 < st.body_bytes, "{st:?}");
    drop(s);
    assert!(flip_in_file(dir.path(), b"hi there") >= 1);
    let s = Store::open(dir.path(), OpenOptions::default()).unwrap();
    assert_eq!(
        s.with_message(&[2; 16], |r| r.to_vec()).unwrap_err().kind,
        ErrorKind::Corrupt
    );
}

#[test]
fn a_new_store_is_schema_2_and_upgrade_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    assert_eq!(s.stats().unwrap().schema_version, 2);
    assert_eq!(s.upgrade().unwrap().from_schema, 2);
}

#[test]
fn usage_counts_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    s.append_messages(all_kinds()).unwrap();
    let u = s.usage().unwrap();
    let m = u.table("messages").unwrap();
    assert_eq!(m.entries, 7);
    assert_eq!(u.table("message_ids").unwrap().entries, 7);
    assert_eq!(u.table("agent_index").unwrap().entries, 2);
    assert!(m.leaf_pages >= 1, "{m:?}");
    let fill = m.leaf_fill(u.page_size);
    assert!(fill > 0.0 && fill <= 1.0, "{fill}");
    assert!(u.file_pages > m.pages());
}

/// Appends to many sessions in turn: the pattern that leaves pages two thirds full.
fn interleaved_store(dir: &tempfile::TempDir) -> Store {
    rotating_store(dir, 40)
}

/// 12 sessions of 320 messages, appended `batch` at a time to each session in turn.
fn rotating_store(dir: &tempfile::TempDir, batch: usize) -> Store {
    let s = open_no_sync(dir);
    for round in 0..320 / batch {
        for session in 0..12 {
            let batch = (0..batch)
                .map(|i| {
                    let n = round * batch + i;
                    NewMessage::new(
                        format!("session-{session:02}").as_bytes(),
                        None,
                        Some(1_000_000 + n as i64),
                        b"user",
                        (i % 3 == 0).then_some(&b"agent"[..]),
                        format!("message {n} of session {session}, some words to fill a page")
                            .as_bytes(),
                        None,
                        &[],
                    )
                    .unwrap()
                })
                .collect();
            s.append_messages(batch).unwrap();
        }
    }
    s
}

/// A copy of [`interleaved_store`] verifies and holds the same messages and counters.
fn assert_same_messages(s: &Store, packed: &Store) {
    assert_eq!(packed.verify().unwrap(), 12 * 8 * 40);
    let (a, b) = (s.stats().unwrap(), packed.stats().unwrap());
    assert_eq!(
        (a.messages, a.sessions, a.body_bytes, a.schema_version),
        (b.messages, b.sessions, b.body_bytes, b.schema_version)
    );
    for session in 0..12 {
        let name = format!("session-{session:02}");
        assert_eq!(latest(s, &name, 500), latest(packed, &name, 500));
    }
}

fn messages_fill(u: &lmstore::lmdb::Usage) -> f64 {
    u.table("messages").unwrap().leaf_fill(u.page_size)
}

#[test]
fn repack_fills_pages_and_keeps_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let s = interleaved_store(&dir);
    let copy = tempfile::tempdir().unwrap();
    let target = copy.path().join("packed");
    let copied = s.repack_into(&target).unwrap();
    assert!(copied > 12 * 8 * 40);
    let packed = Store::open(&target, OpenOptions::default()).unwrap();
    assert_same_messages(&s, &packed);
    let (ua, ub) = (s.usage().unwrap(), packed.usage().unwrap());
    assert!(
        messages_fill(&ub) > 0.9 && messages_fill(&ub) > messages_fill(&ua),
        "repacked {:.2} vs appended {:.2}",
        messages_fill(&ub),
        messages_fill(&ua)
    );
    // The target must be new.
    let e = s.repack_into(&target).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("not an empty directory"), "{e}");
}

#[test]
fn a_compact_backup_has_full_pages_and_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let s = interleaved_store(&dir);
    let copies = tempfile::tempdir().unwrap();
    let (plain, compact) = (copies.path().join("plain"), copies.path().join("compact"));
    s.backup(&plain, false).unwrap();
    s.backup(&compact, true).unwrap();
    // A backup is the data file alone, like LMDB's own copy.
    let names: Vec<_> = std::fs::read_dir(&compact)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["data.mdb"]);
    let size = |d: &std::path::Path| std::fs::metadata(d.join("data.mdb")).unwrap().len();
    assert!(
        size(&compact) * 10 < size(&plain) * 8,
        "compact {} vs plain {}",
        size(&compact),
        size(&plain)
    );
    let packed = Store::open(&compact, OpenOptions::default()).unwrap();
    assert_same_messages(&s, &packed);
    let fill = messages_fill(&packed.usage().unwrap());
    println!("RFILL {fill:.3}");
    assert!(fill > 0.9, "{fill:.2}");
    // The copy is a store like any other: it takes writes.
    packed
        .append_messages(vec![NewMessage::new(
            b"session-00",
            None,
            None,
            b"user",
            None,
            b"after the copy",
            None,
            &[],
        )
        .unwrap()])
        .unwrap();
    assert_eq!(packed.stats().unwrap().messages, 12 * 8 * 40 + 1);
}

#[test]
fn integers_are_rebuilt_in_their_shortest_form() {
    // The public record's ts, created_at and updated_at must be byte for byte what schema 1
    // stored (rmp's write_sint), at every size boundary.
    let edges: Vec<i64> = [
        0i64, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296,
    ]
    .iter()
    .flat_map(|&n| [n, n.saturating_add(1)])
    .chain([
        -1,
        -32,
        -33,
        -128,
        -129,
        -32768,
        -32769,
        -2147483648,
        -2147483649,
        i64::MIN,
        i64::MAX,
    ])
    .collect();
    for created in edges {
        let m = message("i", 1, 300, "user", None, "x", None, &[]);
        let key = lmstore::conversations::keys::entry(b"i", 300, &m.id);
        let stored = m.encode_record(300, created, None);
        assert_eq!(
            record::public_record(&NoDictionaries, &key, &stored).unwrap(),
            m.encode_record_v1(300, created),
            "{created}"
        );
    }
}

#[test]
fn appends_rotating_over_sessions_fill_their_pages() {
    // Before runs were written with what follows them lifted aside, LMDB split every page of
    // these stores in half as it filled: 53% full in batches of 40 (82% now), 56% one message
    // at a time (71% now).
    for (batch, want) in [(40, 0.78), (1, 0.68)] {
        let dir = tempfile::tempdir().unwrap();
        let s = rotating_store(&dir, batch);
        let fill = messages_fill(&s.usage().unwrap());
        assert!(fill > want, "batches of {batch}: {fill:.2}");
        assert_same_messages(&s, &s);
    }
}

fn entry_value(i: usize) -> Vec<u8> {
    format!("{i:04} {}", "v".repeat(100)).into_bytes()
}

/// The values under `keys` as read (checksums verified), or the error kind of each read.
fn read_all(env: &Env, keys: &[Vec<u8>]) -> Vec<std::result::Result<Vec<u8>, ErrorKind>> {
    env.read(|txn| {
        Ok(keys
            .iter()
            .map(|k| match txn.get(Table::Messages, k) {
                Ok(v) => Ok(v.map(<[u8]>::to_vec).unwrap_or_default()),
                Err(e) => Err(e.kind),
            })
            .collect())
    })
    .unwrap()
}

#[test]
fn a_run_between_stored_keys_leaves_its_neighbours_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let key = |s: char, i: usize| format!("{s}-{i:04}").into_bytes();
    // Four entries in each of three sessions: one leaf page, so the run after a-0003 lifts
    // b-0000 and b-0001 aside and stops at b-0002, a large value on overflow pages.
    let mut stored = Vec::new();
    for s in ['a', 'b', 'c'] {
        stored.extend((0..4).map(|i| key(s, i)));
    }
    {
        let env = Env::open(dir.path(), OpenOptions::default()).unwrap();
        env.write(|txn| {
            for k in &stored {
                let i = (k[5] - b'0') as usize;
                txn.put(Table::Messages, k, &entry_value(i))?;
            }
            txn.put(Table::Messages, &key('b', 2), &vec![b'L'; 20_000])
        })
        .unwrap();
        let u = env.usage().unwrap();
        assert_eq!(u.table("messages").unwrap().leaf_pages, 1);
    }
    // The values of a-0001, b-0001 and c-0001 are damaged in the file: b-0001, lifted aside,
    // must come back exactly as damaged as it was.
    assert_eq!(flip_in_file(dir.path(), &entry_value(1)[..8]), 3);
    let env = Env::open(dir.path(), OpenOptions::default()).unwrap();
    let before = read_all(&env, &stored);
    assert_eq!(before[4 + 1], Err(ErrorKind::Corrupt));
    assert_eq!(before[4 + 2].as_ref().unwrap().len(), 20_000);

    // New keys after a-0003 (in front of b-0000), one key that replaces b-0003, and new keys
    // past the last one.
    let mut run: Vec<(Vec<u8>, Vec<u8>)> =
        (4..104).map(|i| (key('a', i), entry_value(i))).collect();
    run.push((key('b', 3), b"replaced".to_vec()));
    run.extend((4..44).map(|i| (key('c', i), entry_value(i))));
    let refs: Vec<(&[u8], &[u8])> = run.iter().map(|(k, v)| (&k[..], &v[..])).collect();
    env.write(|txn| txn.put_run(Table::Messages, &refs))
        .unwrap();

    let mut after = read_all(&env, &stored);
    assert_eq!(after[4 + 3], Ok(b"replaced".to_vec()));
    after[4 + 3] = before[4 + 3].clone();
    assert!(after == before, "a stored neighbour changed");
    let run_keys: Vec<Vec<u8>> = run.iter().map(|(k, _)| k.clone()).collect();
    let run_values: Vec<_> = run.iter().map(|(_, v)| Ok(v.clone())).collect();
    assert!(
        read_all(&env, &run_keys) == run_values,
        "the run reads back"
    );
}

#[test]
fn a_dump_restores_through_runs_with_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let s = interleaved_store(&dir);
    let mut dump = Vec::new();
    s.dump(&mut dump, &mut |_| {}).unwrap();
    let target = tempfile::tempdir().unwrap();
    let restored = open_no_sync(&target);
    restored
        .restore(&mut std::io::Cursor::new(dump), &mut |_, _| {})
        .unwrap();
    assert_same_messages(&s, &restored);
    let agents = |s: &Store| s.usage().unwrap().table("agent_index").unwrap().entries;
    assert_eq!(agents(&restored), agents(&s));
}
