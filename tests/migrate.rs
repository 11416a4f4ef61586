//! Migration of the two LMDB layouts, with sources written by Python's lmdb + msgpack the way the
//! originals wrote them (tests/python/make_sources.py): every field checked against what the
//! script wrote, original maps rebuilt, re-runs change nothing, sources stay byte-identical.

mod common;

use common::{all_messages, get, open_no_sync, unpack};
use lmstore::migrate::{canonical, tkr, MigrationReport};
use lmstore::{ErrorKind, Store};
use rmpv::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn python() -> String {
    let out = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/python-env.sh"
    ))
    .output()
    .expect("run scripts/python-env.sh");
    assert!(out.status.success(), "python-env.sh failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Writes a source of `kind` under `dir`; returns (source path, what the script wrote).
fn make_source(dir: &Path, kind: &str) -> (PathBuf, Value) {
    let path = dir.join(kind);
    let out = Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/make_sources.py"
        ))
        .arg(kind)
        .arg(&path)
        .output()
        .expect("run make_sources.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = std::fs::read(dir.join(format!("{kind}.expected.msgpack"))).unwrap();
    (path, unpack(&expected))
}

/// Every file of a directory with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// A read-only copy without lock.mdb (the migration must need neither write access nor a lock).
fn read_only_copy(src: &Path, dest: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dest).unwrap();
    std::fs::copy(src.join("data.mdb"), dest.join("data.mdb")).unwrap();
    std::fs::set_permissions(
        dest.join("data.mdb"),
        std::fs::Permissions::from_mode(0o444),
    )
    .unwrap();
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o555)).unwrap();
}

fn migrate_tkr(store: &Store, src: &Path, side: &Path) -> MigrationReport {
    let mut last = (0, 0);
    let report = store
        .migrate_tkr_agent_chat(src, side, &mut |d, k| {
            assert!(d <= k, "progress {d} of {k}");
            last = (d, k);
        })
        .expect("migrate");
    assert_eq!(last.0, last.1, "progress ends at done == known");
    report
}

fn side_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn tkr_agent_chat_store_migrates_field_by_field_and_rebuilds_exactly() {
    let work = tempfile::tempdir().unwrap();
    let (src, expected) = make_source(work.path(), "tkr");
    let before = files(&src);
    let ro = work.path().join("ro");
    read_only_copy(&src, &ro);
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let side = work.path().join("side.jsonl");
    let report = migrate_tkr(&store, &ro, &side);

    let messages = get(&expected, "messages").as_array().unwrap();
    let sessions = get(&expected, "sessions").as_map().unwrap();
    assert_eq!(report.kind, "tkr-agent-chat");
    assert!(report.changed);
    assert_eq!(report.sessions_migrated, sessions.len() as u64);
    assert_eq!(report.messages_migrated, messages.len() as u64);
    assert_eq!(report.failed, 0);
    assert_eq!(report.mismatches, 0, "{:?}", report.mismatch_examples);
    assert_eq!(report.verified, (sessions.len() + messages.len()) as u64);
    assert!(report.reordered_sessions.is_empty());
    assert_eq!(report.dangling_index_entries, 0);
    let side_counts: BTreeMap<String, u64> = get(&expected, "side")
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(report.side_records, side_counts);

    // Messages, field by field.
    let ts = get(&expected, "ts").as_array().unwrap();
    for (m, ts) in messages.iter().zip(ts) {
        let uuid = uuid::Uuid::parse_str(get(m, "message_uuid").as_str().unwrap()).unwrap();
        let rec = unpack(&store.with_message(uuid.as_bytes(), <[u8]>::to_vec).unwrap());
        assert_eq!(get(&rec, "ts"), ts, "{uuid}");
        assert_eq!(get(&rec, "session_id"), get(m, "session_id"));
        assert_eq!(get(&rec, "role"), get(m, "type"));
        match get(m, "agent_id") {
            Value::String(a) => assert_eq!(get(&rec, "agent_id").as_str(), a.as_str()),
            _ => assert_eq!(get(&rec, "agent_id"), &Value::Nil),
        }
        match get(m, "in_reply_to").as_str() {
            Some(r) => assert_eq!(
                get(&rec, "in_reply_to"),
                &Value::Binary(uuid::Uuid::parse_str(r).unwrap().as_bytes().to_vec())
            ),
            None => assert_eq!(get(&rec, "in_reply_to"), &Value::Nil),
        }
        let texts: Vec<&str> = get(m, "parts")
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| get(p, "type").as_str() == Some("text"))
            .map(|p| get(p, "content").as_str().unwrap())
            .collect();
        assert_eq!(
            get(&rec, "content").as_str(),
            Some(texts.join("\n").as_str())
        );
        assert_eq!(
            canonical(&tkr::rebuild_message(&rec)),
            canonical(m),
            "message {uuid} does not rebuild"
        );
        // The nil-versus-absent distinction of agent_id survives.
        let meta = get(&rec, "metadata");
        let had_nil = m
            .as_map()
            .unwrap()
            .iter()
            .any(|(k, v)| k.as_str() == Some("agent_id") && v.is_nil());
        let keeps_nil = meta
            .as_map()
            .unwrap()
            .iter()
            .any(|(k, _)| k.as_str() == Some("agent_id"));
        assert_eq!(had_nil, keeps_nil);
    }
    // Each session ranges in the original order (its keys' order).
    for (sid, original) in sessions {
        let sid = sid.as_str().unwrap();
        let want: Vec<&Value> = messages
            .iter()
            .filter(|m| get(m, "session_id").as_str() == Some(sid))
            .map(|m| get(m, "message_uuid"))
            .collect();
        let got: Vec<Value> = all_messages(&store, sid, 5, false)
            .iter()
            .map(|r| {
                Value::from(
                    tkr::rebuild_message(r)
                        .as_map()
                        .unwrap()
                        .iter()
                        .find(|(k, _)| k.as_str() == Some("message_uuid"))
                        .unwrap()
                        .1
                        .as_str()
                        .unwrap(),
                )
            })
            .collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "order of {sid}");
        let s = unpack(&store.get_session(sid.as_bytes()).unwrap());
        assert_eq!(get(&s, "title"), get(original, "title"));
        assert_eq!(
            get(&s, "created_at"),
            get(get(&expected, "session_ts"), sid)
        );
        assert_eq!(
            get(get(&s, "metadata"), "session_type"),
            get(original, "session_type")
        );
        assert_eq!(canonical(&tkr::rebuild_session(&s)), canonical(original));
    }
    // The side file holds every agent card, context, task and task agent whole.
    let lines = side_lines(&side);
    assert_eq!(lines.len() as u64, side_counts.values().sum::<u64>());
    let card = lines
        .iter()
        .find(|l| l["db"] == "agent_cards" && l["key"] == "agent-b")
        .unwrap();
    assert_eq!(card["value"]["config"]["temperature"], 0.2);
    assert!(card["value"]["icon_path"].is_null());
    let ta = lines.iter().find(|l| l["db"] == "task_agents").unwrap();
    assert_eq!(ta["value"], "1");

    // A second run changes nothing and says so; the side file is the same.
    let side_before = std::fs::read(&side).unwrap();
    let again = migrate_tkr(&store, &ro, &side);
    assert!(!again.changed);
    assert_eq!(again.messages_unchanged, messages.len() as u64);
    assert_eq!(again.sessions_unchanged, sessions.len() as u64);
    assert_eq!((again.messages_migrated, again.sessions_migrated), (0, 0));
    assert_eq!(again.mismatches, 0);
    assert_eq!(std::fs::read(&side).unwrap(), side_before);
    let enc = unpack(&again.encode());
    assert_eq!(get(&enc, "changed"), &Value::from(false));

    // The original source (with its lock file) works too and stays byte-identical.
    let dir2 = tempfile::tempdir().unwrap();
    let store2 = open_no_sync(&dir2);
    let r2 = migrate_tkr(&store2, &src, &work.path().join("side2.jsonl"));
    assert_eq!(r2.mismatches, 0);
    assert_eq!(files(&src), before, "the source changed");
    assert!(!ro.join("lock.mdb").exists(), "a lock file was created");
}

#[test]
fn promptlightning_registry_migrates_and_reports_lost_versions() {
    let work = tempfile::tempdir().unwrap();
    let (src, expected) = make_source(work.path(), "promptlightning");
    let before = files(&src);
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let side = work.path().join("side.jsonl");
    let report = store
        .migrate_promptlightning(&src, &side, &mut |_, _| {})
        .unwrap();
    assert!(report.changed);
    assert_eq!(report.templates_migrated, 3);
    assert_eq!(report.failed, 0);
    assert_eq!(report.mismatches, 0, "{:?}", report.mismatch_examples);
    assert_eq!(report.verified, 3);
    assert_eq!(report.source_count, get(&expected, "count").as_i64());
    let mut lost = report.lost_versions.clone();
    lost.sort();
    let want: Vec<(String, String)> = get(&expected, "lost")
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_owned(),
                p[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(lost, want);
    for (id, version) in get(&expected, "latest").as_map().unwrap() {
        let rec = unpack(
            &store
                .get_template(id.as_str().unwrap().as_bytes(), None)
                .unwrap(),
        );
        assert_eq!(get(&rec, "version"), version);
    }
    let s = unpack(&store.get_template(b"summarizer", None).unwrap());
    assert_eq!(get(&s, "description").as_str(), Some("bullets"));
    assert_eq!(get(get(get(&s, "inputs"), "n"), "default"), &Value::from(3));
    assert_eq!(get(get(&s, "metadata"), "owner").as_str(), Some("ops"));
    let n = unpack(&store.get_template(b"nodesc", None).unwrap());
    assert_eq!(get(&n, "description"), &Value::Nil);
    let g = unpack(&store.get_template(b"greeter", None).unwrap());
    assert_eq!(
        get(&g, "template").as_str(),
        Some("Hello {{ name }} 👋 שלום 你好\r\n\tbye")
    );
    let again = store
        .migrate_promptlightning(&src, &side, &mut |_, _| {})
        .unwrap();
    assert!(!again.changed);
    assert_eq!(again.templates_unchanged, 3);
    assert_eq!(files(&src), before, "the source changed");
}

#[test]
fn bad_sources_are_refused_with_what_was_found() {
    let work = tempfile::tempdir().unwrap();
    let (pl, _) = make_source(work.path(), "promptlightning");
    let (tk, _) = make_source(work.path(), "tkr");
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let side = work.path().join("side.jsonl");
    let tkr_err = |p: &Path| {
        store
            .migrate_tkr_agent_chat(p, &side, &mut |_, _| {})
            .unwrap_err()
    };
    let e = tkr_err(&pl);
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(
        e.message
            .contains("is a promptlightning store, not a tkr-agent-chat one"),
        "{}",
        e.message
    );
    let e = store
        .migrate_promptlightning(&tk, &side, &mut |_, _| {})
        .unwrap_err();
    assert!(
        e.message
            .contains("is a tkr-agent-chat store, not a promptlightning one"),
        "{}",
        e.message
    );
    let e = tkr_err(&work.path().join("missing"));
    assert_eq!(e.kind, ErrorKind::NotFound);
    let junk = work.path().join("junk");
    std::fs::create_dir_all(&junk).unwrap();
    std::fs::write(junk.join("data.mdb"), vec![7u8; 64 * 1024]).unwrap();
    let e = tkr_err(&junk);
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(
        e.message.contains("is not an LMDB environment"),
        "{}",
        e.message
    );
    let e = tkr_err(&junk.join("data.mdb"));
    assert!(e.message.contains("it is a file"), "{}", e.message);
    let e = tkr_err(dir.path());
    assert!(e.message.contains("is an lmstore store"), "{}", e.message);
    // Nothing was written by any refused run.
    assert_eq!(store.stats().unwrap().messages, 0);
}
