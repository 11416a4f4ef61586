//! Input strictness is one rule (docs/input.md): MessagePack's reserved byte 0xc1 is refused
//! wherever it occurs; the template spec, its input declarations and each message of a packed
//! batch refuse unknown keys, duplicate keys and values of the wrong type.

mod common;
use common::*;
use lmstore::conversations::NewMessage;
use lmstore::templates::normalize_spec;
use lmstore::ErrorKind;
use rmpv::Value;

fn v(s: &str) -> Value {
    Value::from(s)
}

/// Encodes `value`, whose only nil is a placeholder, with that nil turned into 0xc1.
fn with_reserved_byte(value: &Value) -> Vec<u8> {
    let mut bytes = pack(value);
    let at: Vec<_> = (0..bytes.len()).filter(|&i| bytes[i] == 0xc0).collect();
    assert_eq!(
        at.len(),
        1,
        "the placeholder nil must be the only 0xc0 byte"
    );
    bytes[at[0]] = 0xc1;
    bytes
}

fn message(extra: Vec<(Value, Value)>) -> Value {
    let mut m = vec![(v("session_id"), v("s")), (v("role"), v("user"))];
    m.extend(extra);
    Value::Map(m)
}

fn batch_err(items: Vec<Value>) -> lmstore::Error {
    NewMessage::batch_from_msgpack(&pack(&Value::Array(items))).unwrap_err()
}

#[test]
fn a_packed_batch_refuses_unknown_and_duplicate_keys_and_wrong_types() {
    type Case = (Vec<(Value, Value)>, ErrorKind, &'static str);
    let cases: Vec<Case> = vec![
        (
            vec![(v("sesion"), v("x"))],
            ErrorKind::InvalidArgument,
            "message 0: message has an unknown field 'sesion' (known: session_id, id, ts, role, agent_id, content, in_reply_to, metadata)",
        ),
        (
            vec![(v("role"), v("assistant"))],
            ErrorKind::InvalidArgument,
            "message 0: message has the field 'role' twice",
        ),
        (
            vec![(v("id"), v("0123456789abcdef"))],
            ErrorKind::InvalidArgument,
            "message 0: id must be binary (16 bytes), got a string",
        ),
        (
            vec![(v("in_reply_to"), v("0123456789abcdef"))],
            ErrorKind::InvalidArgument,
            "message 0: in_reply_to must be binary (16 bytes), got a string",
        ),
        (
            vec![(v("content"), Value::Binary(b"hi".to_vec()))],
            ErrorKind::InvalidArgument,
            "message 0: content must be a string, got binary data",
        ),
        (
            vec![(v("ts"), v("now"))],
            ErrorKind::InvalidArgument,
            "message 0: ts must be an integer, got a string",
        ),
        (
            vec![(Value::from(1), v("x"))],
            ErrorKind::BadMsgpack,
            "message 0: message has a key that is not a UTF-8 string",
        ),
    ];
    for (extra, kind, says) in cases {
        let e = batch_err(vec![message(extra)]);
        assert_eq!(e.kind, kind, "{}", e.message);
        assert_eq!(e.message, says);
    }
    // The second message is named when it is the bad one.
    let e = batch_err(vec![message(vec![]), message(vec![(v("x"), v("y"))])]);
    assert!(e.message.starts_with("message 1: "), "{}", e.message);
    // Nil is absent, and a real id is accepted.
    let ok = NewMessage::batch_from_msgpack(&pack(&Value::Array(vec![message(vec![
        (v("agent_id"), Value::Nil),
        (v("id"), Value::Binary(vec![1; 16])),
    ])])))
    .unwrap();
    assert_eq!(ok.len(), 1);
}

#[test]
fn the_reserved_byte_is_refused_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    // In a packed batch's metadata.
    let batch = Value::Array(vec![message(vec![(
        v("metadata"),
        Value::Map(vec![(v("k"), Value::Nil)]),
    )])]);
    let e = NewMessage::batch_from_msgpack(&with_reserved_byte(&batch)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadMsgpack, "{}", e.message);
    assert!(e.message.contains("reserved marker 0xc1"), "{}", e.message);
    // In a template spec's metadata and inputs.
    for field in ["metadata", "inputs"] {
        let spec = Value::Map(vec![
            (v("id"), v("t")),
            (v("template"), v("hi")),
            (v(field), Value::Map(vec![(v("k"), Value::Nil)])),
        ]);
        let e = normalize_spec(&with_reserved_byte(&spec)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadMsgpack, "{field}: {}", e.message);
        assert_eq!(
            e.message,
            "template spec is not valid MessagePack: reserved marker 0xc1"
        );
    }
    // In a message's metadata through the struct path, and in a session's metadata.
    let md = with_reserved_byte(&Value::Map(vec![(v("k"), Value::Nil)]));
    let e = NewMessage::new(b"s", None, None, b"user", None, b"x", None, &md).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadMsgpack, "{}", e.message);
    let e = s.create_session(b"s", None, &md).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadMsgpack, "{}", e.message);
    assert_eq!(s.stats().unwrap().sessions, 0);
}

#[test]
fn a_template_spec_follows_the_same_rule() {
    let spec = |entries: Vec<(Value, Value)>| pack(&Value::Map(entries));
    let base = || vec![(v("id"), v("t")), (v("template"), v("hi"))];

    let mut dup = base();
    dup.push((v("id"), v("u")));
    let e = normalize_spec(&spec(dup)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert_eq!(e.message, "template spec has the field 'id' twice");

    let mut unknown = base();
    unknown.push((v("tempalte"), v("x")));
    let e = normalize_spec(&spec(unknown)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(
        e.message
            .starts_with("template spec has an unknown field 'tempalte' (known: id, version"),
        "{}",
        e.message
    );

    let mut wrong = base();
    wrong.push((v("version"), Value::from(2)));
    let e = normalize_spec(&spec(wrong)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert_eq!(
        e.message,
        "template spec.version must be a string, got an integer"
    );

    let mut decl = base();
    decl.push((
        v("inputs"),
        Value::Map(vec![(
            v("name"),
            Value::Map(vec![(v("type"), v("string")), (v("type"), v("number"))]),
        )]),
    ));
    let e = normalize_spec(&spec(decl)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert_eq!(e.message, "input 'name' has the field 'type' twice");

    // created_at is a known field (honoured by imports), not refused.
    let mut created = base();
    created.push((v("created_at"), Value::from(1_700_000_000_000_000i64)));
    normalize_spec(&spec(created)).unwrap();
}
