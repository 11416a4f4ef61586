//! Rendering through the Rust API: stored templates, coercion and its messages, render errors,
//! the compiled-template cache (never stale, bounded), what put refuses, and the lint. The
//! byte-for-byte comparison with Jinja2 is tests/render/ (run by scripts/render-diff.sh).
mod common;
use common::*;
use lmstore::render::{self, check_compiles, undeclared_variables, Target};
use lmstore::templates::{normalize_spec, TemplateSpec};
use lmstore::{ErrorKind, OpenOptions, Store};
use rmpv::Value;

fn input(ty: &str, required: bool, default: Option<Value>) -> Value {
    let mut m = vec![
        (Value::from("type"), Value::from(ty)),
        (Value::from("required"), Value::from(required)),
    ];
    if let Some(d) = default {
        m.push((Value::from("default"), d));
    }
    Value::Map(m)
}

fn spec(id: &str, version: &str, text: &str, inputs: &[(&str, Value)]) -> TemplateSpec {
    normalize_spec(&pack(&map(&[
        ("id", id.into()),
        ("version", version.into()),
        ("template", text.into()),
        ("inputs", map(inputs)),
    ])))
    .unwrap()
}

fn vars(entries: &[(&str, Value)]) -> Vec<u8> {
    pack(&map(entries))
}

fn preview(text: &str, inputs: &[(&str, Value)], v: &[(&str, Value)]) -> lmstore::Result<String> {
    render::preview(&spec("p", "1", text, inputs), &vars(v))
}

fn ok(text: &str, inputs: &[(&str, Value)], v: &[(&str, Value)]) -> String {
    preview(text, inputs, v).unwrap_or_else(|e| panic!("{text}: {}", e.message))
}

fn fails(text: &str, inputs: &[(&str, Value)], v: &[(&str, Value)]) -> (ErrorKind, String) {
    let e = preview(text, inputs, v).expect_err(text);
    (e.kind, e.message)
}

fn any(ty: &str) -> Value {
    input(ty, false, None)
}

#[test]
fn values_print_as_python() {
    let inputs = [
        ("b", any("boolean")),
        ("f", any("number")),
        ("g", any("number")),
        ("i", any("number")),
        ("n", any("string")),
        ("o", any("object")),
        ("l", any("array<string>")),
    ];
    let v = [
        ("b", true.into()),
        ("f", 1e16.into()),
        ("g", 1e-5.into()),
        ("i", 3.into()),
        ("n", Value::Nil),
        (
            "o",
            map(&[
                ("k", "v".into()),
                ("x", Value::Array(vec![1.into(), 2.5.into()])),
            ]),
        ),
        ("l", Value::Array(vec!["a".into(), "it's".into()])),
    ];
    assert_eq!(
        ok(
            "{{ b }} {{ f }} {{ g }} {{ i }} {{ n }} {{ o }} {{ l }}",
            &inputs,
            &v
        ),
        "True 1e+16 1e-05 3 None {'k': 'v', 'x': [1, 2.5]} ['a', \"it's\"]"
    );
}

#[test]
fn coercion_follows_promptlightning() {
    let num = [("x", any("number"))];
    assert_eq!(ok("{{ x }}", &num, &[("x", "5".into())]), "5.0");
    assert_eq!(ok("{{ x }}", &num, &[("x", " 2.5 ".into())]), "2.5");
    assert_eq!(ok("{{ x }}", &num, &[("x", 3.into())]), "3");
    assert_eq!(
        fails("{{ x }}", &num, &[("x", "abc".into())]),
        (
            ErrorKind::Input,
            "could not convert string to float: 'abc'".into()
        )
    );
    assert_eq!(
        fails("{{ x }}", &num, &[("x", true.into())]),
        (
            ErrorKind::Input,
            "type mismatch for 'x': expected number".into()
        )
    );
    let b = [("x", any("boolean"))];
    assert_eq!(ok("{{ x }}", &b, &[("x", "banana".into())]), "False");
    assert_eq!(ok("{{ x }}", &b, &[("x", "Y".into())]), "True");
    assert_eq!(ok("{{ x }}", &b, &[("x", 2.into())]), "True");
    let s = [("x", any("string"))];
    assert_eq!(
        ok("{{ x }}", &s, &[("x", Value::Array(vec!["a".into()]))]),
        "['a']"
    );
    assert_eq!(ok("{{ x }}", &s, &[("x", 5.0.into())]), "5.0");
    let a = [("x", any("array<string>"))];
    assert_eq!(ok("{{ x }}", &a, &[("x", "one".into())]), "['one']");
    assert_eq!(
        fails("{{ x }}", &a, &[("x", Value::Array(vec![1.into()]))]).1,
        "type mismatch for 'x': expected array<string>"
    );
    let o = [("x", any("object"))];
    assert_eq!(
        fails("{{ x }}", &o, &[("x", "{\"a\": 1}".into())]).1,
        "type mismatch for 'x': expected object"
    );
    let req = [("who", input("string", true, None))];
    assert_eq!(
        fails("{{ who }}", &req, &[]),
        (ErrorKind::Input, "missing input: who".into())
    );
    let defaulted = [("who", input("string", true, Some("world".into())))];
    assert_eq!(ok("Hi {{ who }}", &defaulted, &[]), "Hi world");
    // Undeclared variables never reach the template, even when it uses that name.
    let (kind, msg) = fails("{{ extra }}", &[], &[("extra", "x".into())]);
    assert_eq!(kind, ErrorKind::Render);
    assert_eq!(
        msg,
        "'extra' is undefined (template 'p' version '1', line 1)"
    );
}

#[test]
fn render_errors_are_jinja2_worded() {
    let o = [("user", any("object")), ("n", any("object"))];
    let v = [("user", map(&[("name", "A".into())])), ("n", Value::Nil)];
    let cases = [
        ("{{ audience }}", "'audience' is undefined"),
        (
            "line\n{{ user.tier }}",
            "'dict object' has no attribute 'tier'",
        ),
        (
            "{% for x in n %}{% endfor %}",
            "'NoneType' object is not iterable",
        ),
        ("{{ 1 / 0 }}", "division by zero"),
        ("{% if audience %}x{% endif %}", "'audience' is undefined"),
        ("{{ audience|default('x') }}", "'audience' is undefined"),
    ];
    for (text, reason) in cases {
        let (kind, msg) = fails(text, &o, &v);
        assert_eq!(kind, ErrorKind::Render, "{text}");
        let line = if text.starts_with("line\n") { 2 } else { 1 };
        assert_eq!(
            msg,
            format!("{reason} (template 'p' version '1', line {line})"),
            "{text}"
        );
    }
    assert_eq!(ok("{{ x is defined }}", &[], &[]), "False");
}

#[test]
fn promptlightning_filters() {
    let i = [
        ("e", any("string")),
        ("z", any("number")),
        ("l", any("array<string>")),
    ];
    let v = [
        ("e", "".into()),
        ("z", 0.into()),
        ("l", Value::Array(vec!["yes".into(), "a: b".into()])),
    ];
    assert_eq!(
        ok(
            "{{ e|default('fb') }}|{{ z|default('fb') }}|{{ l|yaml }}",
            &i,
            &v
        ),
        "fb|0|- 'yes'\n- 'a: b'"
    );
    assert_eq!(
        ok(
            "{{ 'a b c d e f g h i j k l'|truncate(9, true, '…') }}|{{ 2.5|round }}|{{ 1|yaml }}",
            &[],
            &[]
        ),
        "a b c d …|2.0|1"
    );
    assert_eq!(ok("{% set _ = l.append('x') %}{{ l|length }}", &i, &v), "3");
}

#[test]
fn stored_templates_render_by_id_version_and_alias_and_the_cache_is_never_stale() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    let name = [("name", input("string", true, None))];
    s.put_template(&spec("g", "1", "Hi {{ name }}", &name), false)
        .unwrap();
    s.put_template(&spec("g", "2", "Hello {{ name }}", &name), false)
        .unwrap();
    s.set_template_alias(b"g", b"prod", b"1").unwrap();
    let v = vars(&[("name", "Ann".into())]);
    assert_eq!(s.render(b"g", Target::Latest, &v).unwrap(), "Hello Ann");
    assert_eq!(s.render(b"g", Target::Version(b"1"), &v).unwrap(), "Hi Ann");
    assert_eq!(
        s.render(b"g", Target::Alias(b"prod"), &v).unwrap(),
        "Hi Ann"
    );
    // A hit returns the very same compiled template.
    let a = s.compiled(b"g", Target::Latest).unwrap();
    let b = s.compiled(b"g", Target::Latest).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
    // Replacing a version, a new latest and a moved alias are all seen at once.
    s.put_template(&spec("g", "1", "Yo {{ name }}", &name), true)
        .unwrap();
    assert_eq!(s.render(b"g", Target::Version(b"1"), &v).unwrap(), "Yo Ann");
    assert_eq!(s.render(b"g", Target::Latest, &v).unwrap(), "Yo Ann");
    s.put_template(&spec("g", "3", "Hey {{ name }}", &name), false)
        .unwrap();
    assert_eq!(s.render(b"g", Target::Latest, &v).unwrap(), "Hey Ann");
    s.set_template_alias(b"g", b"prod", b"3").unwrap();
    assert_eq!(
        s.render(b"g", Target::Alias(b"prod"), &v).unwrap(),
        "Hey Ann"
    );

    let e = s.render(b"nope", Target::Latest, &v).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    let e = s.render(b"g", Target::Latest, b"\x91\x01").unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert_eq!(
        e.message,
        "render variables must be a MessagePack map, got an array"
    );
    let e = s.render(b"g", Target::Latest, b"\x81\xa1").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadMsgpack);
    let e = s.render(b"g", Target::Latest, &vars(&[])).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ErrorKind::Input, "missing input: name")
    );
}

#[test]
fn the_cache_is_bounded_by_render_cache_size() {
    let dir = tempfile::tempdir().unwrap();
    let opts = OpenOptions {
        render_cache_size: 2,
        no_sync: true,
        ..OpenOptions::default()
    };
    let s = Store::open(dir.path(), opts).unwrap();
    assert_eq!(s.render_cache().capacity(), 2);
    for i in 0..5 {
        let id = format!("t{i}");
        s.put_template(&spec(&id, "1", "{{ 1 + 1 }}", &[]), false)
            .unwrap();
        assert_eq!(s.render(id.as_bytes(), Target::Latest, &[]).unwrap(), "2");
    }
    assert_eq!(s.render_cache().len(), 2);
    let dflt = tempfile::tempdir().unwrap();
    assert_eq!(
        open_no_sync(&dflt).render_cache().capacity(),
        render::DEFAULT_CACHE_SIZE
    );
}

#[test]
fn put_refuses_what_cannot_render() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    let e = s
        .put_template(&spec("bad", "1", "ok\n  {% if x %}", &[]), false)
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Render);
    assert!(
        e.message
            .starts_with("template 'bad' version '1' does not compile: "),
        "{}",
        e.message
    );
    assert!(e.message.ends_with("(line 2, column 11)"), "{}", e.message);
    assert_eq!(s.stats().unwrap().template_versions, 0);
    let bad_default = normalize_spec(&pack(&map(&[
        ("id", "d".into()),
        ("template", "{{ n }}".into()),
        (
            "inputs",
            map(&[("n", input("number", false, Some("x".into())))]),
        ),
    ])))
    .unwrap_err();
    assert_eq!(bad_default.kind, ErrorKind::InvalidArgument);
    assert!(bad_default
        .message
        .contains("does not match its type 'number'"));
}

#[test]
fn check_and_lint() {
    let c = check_compiles("a\nb {{ x + }}").unwrap_err();
    assert_eq!((c.line, c.column), (2, 10));
    assert!(check_compiles("{% for x in y %}{{ x }}{% endfor %}").is_ok());
    let s = spec(
        "l",
        "1",
        "{% set t = 1 %}{{ a }}{{ b.c }}{{ t }}{% for i in items %}{{ i }}{% endfor %}",
        &[("a", any("string"))],
    );
    assert_eq!(undeclared_variables(&s), vec!["b", "items"]);
}
