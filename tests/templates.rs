mod common;
use common::*;
use lmstore::templates::{normalize_spec, PutOutcome};
use lmstore::ErrorKind;
use rmpv::Value;

fn spec(id: &str, version: &str, text: &str) -> lmstore::templates::TemplateSpec {
    normalize_spec(&pack(&map(&[
        ("id", id.into()),
        ("version", version.into()),
        ("template", text.into()),
    ])))
    .unwrap()
}

#[test]
fn versions_are_immutable_and_latest_is_last_put() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    assert_eq!(
        s.put_template(&spec("greet", "1.0.0", "Hi {{ name }}"), false)
            .unwrap(),
        PutOutcome::Created
    );
    assert_eq!(
        s.put_template(&spec("greet", "1.0.0", "Hi {{ name }}"), false)
            .unwrap(),
        PutOutcome::Unchanged
    );
    let err = s
        .put_template(&spec("greet", "1.0.0", "Hello"), false)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(
        err.message
            .contains("already exists with different content"),
        "{}",
        err.message
    );
    s.put_template(&spec("greet", "2.0.0", "Yo"), false)
        .unwrap();
    s.put_template(&spec("greet", "1.5.0", "Hey"), false)
        .unwrap();
    let latest = unpack(&s.get_template(b"greet", None).unwrap());
    assert_eq!(get(&latest, "version").as_str(), Some("1.5.0"));
    let exact = unpack(&s.get_template(b"greet", Some(b"2.0.0")).unwrap());
    assert_eq!(get(&exact, "template").as_str(), Some("Yo"));
    let st = s.stats().unwrap();
    assert_eq!((st.template_ids, st.template_versions), (1, 3));
    // replace keeps counts and makes it latest
    assert_eq!(
        s.put_template(&spec("greet", "1.0.0", "Hello"), true)
            .unwrap(),
        PutOutcome::Replaced
    );
    assert_eq!(
        get(&unpack(&s.get_template(b"greet", None).unwrap()), "version").as_str(),
        Some("1.0.0")
    );
    assert_eq!(s.stats().unwrap().template_versions, 3);
    // delete the latest: the one put before becomes latest
    s.delete_template(b"greet", Some(b"1.0.0")).unwrap();
    assert_eq!(
        get(&unpack(&s.get_template(b"greet", None).unwrap()), "version").as_str(),
        Some("1.5.0")
    );
    let versions = unpack(&s.list_template_versions(b"greet").unwrap());
    let names: Vec<_> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| get(v, "version").as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["2.0.0", "1.5.0"]);
    s.delete_template(b"greet", None).unwrap();
    let st = s.stats().unwrap();
    assert_eq!((st.template_ids, st.template_versions), (0, 0));
    assert_eq!(
        s.get_template(b"greet", None).unwrap_err().kind,
        ErrorKind::NotFound
    );
}

#[test]
fn aliases_and_listing() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    for id in ["b", "a", "ab", "c/x", "c/y"] {
        s.put_template(&spec(id, "1", "t"), false).unwrap();
    }
    s.put_template(&spec("a", "2", "t2"), false).unwrap();
    s.set_template_alias(b"a", b"production", b"1").unwrap();
    let rec = unpack(
        &s.with_template_by_alias(b"a", b"production", |r| r.to_vec())
            .unwrap(),
    );
    assert_eq!(get(&rec, "version").as_str(), Some("1"));
    s.set_template_alias(b"a", b"production", b"2").unwrap();
    let rec = unpack(
        &s.with_template_by_alias(b"a", b"production", |r| r.to_vec())
            .unwrap(),
    );
    assert_eq!(get(&rec, "version").as_str(), Some("2"));
    let e = s.set_template_alias(b"a", b"production", b"9").unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("no version '9'"), "{}", e.message);
    let e = s
        .with_template_by_alias(b"a", b"staging", |_| ())
        .unwrap_err();
    assert!(e.message.contains("no alias 'staging'"), "{}", e.message);
    let ids = unpack(&s.list_template_ids(b"", b"", 100).unwrap());
    assert_eq!(
        ids,
        Value::Array(vec![
            "a".into(),
            "ab".into(),
            "b".into(),
            "c/x".into(),
            "c/y".into()
        ])
    );
    let page1 = unpack(&s.list_template_ids(b"", b"", 2).unwrap());
    assert_eq!(page1, Value::Array(vec!["a".into(), "ab".into()]));
    let page2 = unpack(&s.list_template_ids(b"", b"ab", 2).unwrap());
    assert_eq!(page2, Value::Array(vec!["b".into(), "c/x".into()]));
    let prefixed = unpack(&s.list_template_ids(b"c/", b"", 10).unwrap());
    assert_eq!(prefixed, Value::Array(vec!["c/x".into(), "c/y".into()]));
    // deleting the aliased version removes the alias
    s.delete_template(b"a", Some(b"2")).unwrap();
    assert_eq!(
        unpack(&s.list_template_aliases(b"a").unwrap()),
        Value::Map(vec![])
    );
}

#[test]
fn bad_inputs_are_refused_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let long = "x".repeat(600);
    let e = s.put_template(&spec(&long, "1", "t"), false).unwrap_err();
    assert_eq!(e.kind, ErrorKind::KeyTooLong);
    assert!(
        e.message.contains("template id is 600 bytes"),
        "{}",
        e.message
    );
    let e = normalize_spec(&[0xc1]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadMsgpack);
    let e = normalize_spec(&pack(&map(&[("id", "x".into())]))).unwrap_err();
    assert!(e.message.contains("no 'template'"), "{}", e.message);
    let bad_default = map(&[
        ("id", "x".into()),
        ("template", "t".into()),
        (
            "inputs",
            map(&[(
                "n",
                map(&[("type", "number".into()), ("default", true.into())]),
            )]),
        ),
    ]);
    let e = normalize_spec(&pack(&bad_default)).unwrap_err();
    assert!(
        e.message.contains("input 'n' has a default of a boolean"),
        "{}",
        e.message
    );
    let e = s.get_template(&[0xff, 0xfe], None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidUtf8);
    assert_eq!(s.stats().unwrap().template_versions, 0);
}

#[test]
fn map_key_order_does_not_make_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let with = |meta: Value| {
        normalize_spec(&pack(&map(&[
            ("id", "t".into()),
            ("version", "1".into()),
            ("template", "x".into()),
            ("metadata", meta),
        ])))
        .unwrap()
    };
    let ab = map(&[
        ("a", "a".into()),
        ("b", map(&[("y", 1.into()), ("x", 2.into())])),
    ]);
    let ba = map(&[
        ("b", map(&[("x", 2.into()), ("y", 1.into())])),
        ("a", "a".into()),
    ]);
    assert_eq!(
        s.put_template(&with(ab), false).unwrap(),
        PutOutcome::Created
    );
    assert_eq!(
        s.put_template(&with(ba), false).unwrap(),
        PutOutcome::Unchanged
    );
    let stored = unpack(&s.get_template(b"t", None).unwrap());
    let keys: Vec<_> = get(&stored, "metadata")
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys, ["a", "b"], "stored maps are sorted by key");
}
