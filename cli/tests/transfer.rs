//! `dump | restore` round-trips a store with every record kind, Unicode, large messages, odd
//! metadata values and original ids and times: the restored store's dump equals the first
//! byte for byte, and every record the API returns is byte-identical.

mod common;
use common::*;
use lmstore::conversations::{NewMessage, RangeQuery};
use lmstore::templates::normalize_spec;
use lmstore::{OpenOptions, Store};
use predicates::prelude::*;
use rmpv::Value;
use std::process::{Command, Stdio};

fn mp(v: &Value) -> Vec<u8> {
    let mut b = Vec::new();
    rmpv::encode::write_value(&mut b, v).unwrap();
    b
}

fn rich(dir: &std::path::Path) -> Vec<[u8; 16]> {
    let store = Store::open(dir, OpenOptions::default()).unwrap();
    let spec = |json: serde_json::Value| {
        let mut v = Vec::new();
        rmpv::encode::write_value(&mut v, &to_mp(&json)).unwrap();
        normalize_spec(&v).unwrap()
    };
    // Put order is not version order: latest is 1.0.0, put last.
    store
        .put_template(
            &spec(serde_json::json!({"id":"greet","version":"2.0.0","template":"Hey {{ name }}"})),
            false,
        )
        .unwrap();
    store
        .put_template(
            &spec(serde_json::json!({"id":"greet","version":"1.5.0","template":"gone"})),
            false,
        )
        .unwrap();
    store
        .put_template(
            &spec(serde_json::json!({
                "id":"greet","version":"1.0.0","template":"Grüß dich, {{ name }} 👋 — שלום",
                "description":"the greeting",
                "inputs":{"name":{"type":"string","default":"Welt","description":"who"},"n":{"type":"number","required":false},"tags":"array<string>"},
                "metadata":{"owner":"growth","weights":[0.5, 1.0, 2],"nested":{"z":1,"a":null}}
            })),
            false,
        )
        .unwrap();
    store.delete_template(b"greet", Some(b"1.5.0")).unwrap();
    store
        .put_template(
            &spec(serde_json::json!({"id":"a/b c","template":"{{ x }}"})),
            false,
        )
        .unwrap();
    store
        .set_template_alias(b"greet", b"production", b"2.0.0")
        .unwrap();
    store
        .set_template_alias(b"greet", b"canary", b"1.0.0")
        .unwrap();

    // Metadata JSON cannot express: binary, f32, NaN, a key like a tag, keys out of order.
    let odd = Value::Map(vec![
        (Value::from("zeta"), Value::from(1)),
        (Value::from("alpha"), Value::Binary(vec![0, 1, 254, 255])),
        (Value::from("f32"), Value::F32(0.25)),
        (Value::from("nan"), Value::F64(f64::NAN)),
        (
            Value::from("$dollar"),
            Value::from("a key that looks like a tag"),
        ),
        (Value::from("big"), Value::from(u64::MAX)),
    ]);
    store
        .create_session(
            b"chat-\xc3\xa9",
            Some("Ünïcödé title 🚀".as_bytes()),
            &mp(&odd),
        )
        .unwrap();
    store
        .update_session(
            b"chat-\xc3\xa9",
            None,
            Some(&mp(&Value::Map(vec![(Value::from("k"), Value::from("v"))]))),
        )
        .unwrap();
    let big = "λ".repeat(1_500_000); // 3 MB of two-byte characters
    let mut msgs = vec![
        NewMessage::new(
            b"chat-\xc3\xa9",
            None,
            Some(1_000),
            b"system",
            None,
            "be nice\n\ttabs \"quotes\" \\ \u{0}nul".as_bytes(),
            None,
            &[],
        )
        .unwrap(),
        NewMessage::new(
            b"chat-\xc3\xa9",
            None,
            Some(1_000),
            b"user",
            Some(b"alice"),
            big.as_bytes(),
            None,
            &mp(&odd),
        )
        .unwrap(),
        NewMessage::new(
            b"chat-\xc3\xa9",
            None,
            None,
            b"assistant",
            Some(b"bot"),
            "日本語のテキスト 😀".as_bytes(),
            None,
            &[],
        )
        .unwrap(),
    ];
    let first_id = msgs[0].id;
    msgs.push(
        NewMessage::new(
            b"other",
            None,
            Some(0),
            b"user",
            None,
            b"",
            Some(&first_id),
            &[],
        )
        .unwrap(),
    );
    let ids: Vec<[u8; 16]> = store
        .append_messages(msgs)
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    store
        .update_message(&ids[2], Some("edited ✓".as_bytes()), None)
        .unwrap();
    store.create_session(b"empty", None, &[]).unwrap();
    ids
}

fn to_mp(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::from(i),
            None => Value::F64(n.as_f64().unwrap()),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(to_mp).collect()),
        serde_json::Value::Object(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (Value::from(k.as_str()), to_mp(v)))
                .collect(),
        ),
    }
}

/// Everything the API returns about a store, as bytes.
fn fingerprint(dir: &std::path::Path, ids: &[[u8; 16]]) -> Vec<Vec<u8>> {
    let s = Store::open(
        dir,
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let st = s.stats().unwrap();
    let mut out = vec![format!(
        "{} {} {} {} {}",
        st.template_ids, st.template_versions, st.sessions, st.messages, st.templates_modified_at
    )
    .into_bytes()];
    for id in ["greet", "a/b c"] {
        out.push(s.get_template(id.as_bytes(), None).unwrap());
        out.push(s.list_template_versions(id.as_bytes()).unwrap());
        out.push(s.list_template_aliases(id.as_bytes()).unwrap());
        for v in ["1.0.0", "2.0.0"] {
            if let Ok(r) = s.get_template(id.as_bytes(), Some(v.as_bytes())) {
                out.push(r);
            }
        }
    }
    for id in ids {
        out.push(s.with_message(id, |r| r.to_vec()).unwrap());
    }
    out.push(s.list_sessions(None, 100).unwrap().bytes().to_vec());
    for session in [&b"chat-\xc3\xa9"[..], b"other", b"empty"] {
        out.push(s.get_session(session).unwrap());
        let q = RangeQuery {
            limit: 100,
            ..Default::default()
        };
        out.push(s.range_messages(session, &q).unwrap().bytes().to_vec());
    }
    let q = RangeQuery {
        limit: 100,
        ..Default::default()
    };
    out.push(
        s.range_agent_messages(b"alice", &q)
            .unwrap()
            .bytes()
            .to_vec(),
    );
    out
}

#[test]
fn dump_restore_round_trips_every_record_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let ids = rich(&a);
    let d1 = dir.path().join("d1.jsonl");
    let out = lm(&a)
        .args(["dump", "--json", "-o"])
        .arg(&d1)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let summary = json(&out);
    assert_eq!(
        summary,
        serde_json::json!({"template_versions":3,"aliases":2,"sessions":3,"messages":4})
    );
    let text = std::fs::read_to_string(&d1).unwrap();
    let lines = json_lines(text.as_bytes());
    assert_eq!(lines[0]["lmstore_dump"], 1);
    assert_eq!(lines.last().unwrap()["kind"], "end");
    assert!(text.contains("Grüß dich"), "Unicode is written as itself");
    assert!(
        text.contains(r#"["alpha",{"$bin":"0001feff"}]"#),
        "binary metadata is tagged"
    );
    let kinds: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "template").count(), 3);

    let out = lm(&b)
        .args(["restore", "--json"])
        .arg(&d1)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json(&out), summary);
    let d2 = dir.path().join("d2.jsonl");
    lm(&b).args(["dump", "-o"]).arg(&d2).assert().success();
    assert!(
        std::fs::read(&d1).unwrap() == std::fs::read(&d2).unwrap(),
        "the restored store dumps differently"
    );
    assert_eq!(fingerprint(&a, &ids), fingerprint(&b, &ids));
    lm(&b).arg("verify").assert().success();

    // The same through a pipe: lmstore dump | lmstore restore.
    let bin = assert_cmd::cargo::cargo_bin("lmstore");
    let mut dump = Command::new(&bin)
        .arg("--store")
        .arg(&a)
        .arg("dump")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let status = Command::new(&bin)
        .arg("--store")
        .arg(&c)
        .arg("restore")
        .stdin(dump.stdout.take().unwrap())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success() && dump.wait().unwrap().success());
    assert_eq!(fingerprint(&a, &ids), fingerprint(&c, &ids));
}

#[test]
fn restore_refuses_bad_dumps_and_stores_that_are_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    sample(&a);
    let d = dir.path().join("d.jsonl");
    lm(&a).args(["dump", "-o"]).arg(&d).assert().success();
    let text = std::fs::read_to_string(&d).unwrap();

    // Into a store that holds data: refused, nothing written.
    let before = snapshot(&a);
    lm(&a)
        .arg("restore")
        .arg(&d)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("restore needs an empty store"));
    assert_eq!(
        snapshot(&a).iter().find(|(p, _)| p.ends_with("data.mdb")),
        before.iter().find(|(p, _)| p.ends_with("data.mdb"))
    );

    let cases: Vec<(String, &str)> = vec![
        (
            text.lines().take(4).collect::<Vec<_>>().join("\n") + "\n",
            "without its end record",
        ),
        ("{\"hello\":1}\n".to_owned(), "not an lmstore dump"),
        (
            "{\"lmstore_dump\":9}\n".to_owned(),
            "written by a newer lmstore",
        ),
        (
            text.replacen("\"kind\":\"message\"", "\"kind\":\"mystery\"", 1),
            "unknown record kind 'mystery'",
        ),
        (
            text.replacen("\"ts\":", "\"ts\":\"soon\",\"x\":", 1),
            "'ts' is missing or not an integer",
        ),
        (
            "{\"lmstore_dump\":1}\n{not json\n".to_owned(),
            "dump line 2: not a JSON object",
        ),
        (String::new(), "the dump is empty"),
    ];
    for (i, (bad, words)) in cases.iter().enumerate() {
        let target = dir.path().join(format!("bad{i}"));
        lm(&target)
            .arg("restore")
            .write_stdin(bad.clone())
            .assert()
            .code(1)
            .stderr(predicate::str::contains(*words));
        assert!(
            !target.exists(),
            "a failed restore left {} behind",
            target.display()
        );
    }
    lm(&dir.path().join("x"))
        .args(["restore", "/nonexistent/dump.jsonl"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("No such file"));
}
