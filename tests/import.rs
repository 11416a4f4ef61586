//! YAML prompt folders: typing checked against PyYAML's safe_load of the same files, a skip
//! reason (with line and column) for every refusal, dry run, atomic vs file by file, verify,
//! and export -> import round trips.

mod common;

use common::{get, open_no_sync, unpack};
use lmstore::import::{yaml, ImportOptions, ImportReport, Outcome};
use lmstore::Store;
use rmpv::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

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

/// PyYAML's safe_load of each file: Ok(value) or Err(message).
fn pyyaml(files: &[PathBuf]) -> Vec<Result<Value, String>> {
    let out = Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/yaml_reference.py"
        ))
        .args(files)
        .output()
        .expect("run the PyYAML reference");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Value::Array(items) = unpack(&out.stdout) else {
        panic!("reference output is not a list")
    };
    items
        .into_iter()
        .map(|item| match get(&item, "ok") {
            Value::Nil if get(&item, "error") != &Value::Nil => {
                Err(get(&item, "error").as_str().unwrap().to_owned())
            }
            v => Ok(v.clone()),
        })
        .collect()
}

fn no_progress() -> impl FnMut(u64, u64) {
    |_, _| {}
}

fn import(store: &Store, dir: &Path, opts: ImportOptions) -> ImportReport {
    store
        .import_folder(dir, opts, &mut no_progress())
        .expect("import")
}

fn outcome<'a>(r: &'a ImportReport, path: &str) -> &'a lmstore::import::FileReport {
    r.files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not in the report: {:?}", r.files))
}

#[test]
fn yaml_typing_matches_pyyaml_safe_load() {
    let dir = fixtures("typing");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let reference = pyyaml(&files);
    for (file, expected) in files.iter().zip(reference) {
        let text = std::fs::read_to_string(file).unwrap();
        let ours = yaml::load(&text).and_then(|n| yaml::to_value(&n.unwrap()));
        match (ours, expected) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", file.display()),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{}: lmstore read {a:?}, PyYAML read {b:?}", file.display()),
        }
    }
}

#[test]
fn yaml_typing_rules_one_by_one() {
    // Each rule of seed-formats.md §1 on its own, so a failure names the rule.
    let one = |src: &str| {
        let node = yaml::load(&format!("v: {src}\n")).unwrap().unwrap();
        let v = yaml::to_value(&node).unwrap();
        get(&v, "v").clone()
    };
    assert_eq!(one("yes"), Value::from(true));
    assert_eq!(one("Off"), Value::from(false));
    assert_eq!(one("y"), Value::from("y"));
    assert_eq!(one("1e3"), Value::from("1e3"));
    assert_eq!(one("1.0e+3"), Value::F64(1000.0));
    assert_eq!(one("1_000"), Value::from(1000));
    assert_eq!(one("017"), Value::from(15));
    assert_eq!(one("0o17"), Value::from("0o17"));
    assert_eq!(one("1:30"), Value::from(90));
    assert_eq!(one("2024-01-02"), Value::from("2024-01-02"));
    assert_eq!(one("~"), Value::Nil);
    assert_eq!(one("null"), Value::Nil);
    assert_eq!(one("1.0"), Value::F64(1.0));
    let dup = yaml::load("a: 1\na: 2\n").unwrap().unwrap();
    assert_eq!(
        yaml::to_value(&dup).unwrap(),
        Value::Map(vec![(Value::from("a"), Value::from(2))])
    );
}

#[test]
fn seed_examples_import_with_every_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed-examples");
    let report = import(&store, &root, ImportOptions::default());
    assert_eq!(report.files.len(), 10, "{:?}", report.files);
    for f in &report.files {
        assert_eq!(f.outcome, Outcome::Imported, "{f:?}");
        assert!(f.path.ends_with(".yaml"), "{}", f.path);
    }
    let rec = unpack(&store.get_template(b"summarizer", None).unwrap());
    assert_eq!(get(&rec, "version").as_str(), Some("1.0.0"));
    assert_eq!(
        get(&rec, "template").as_str(),
        Some("Summarize the following into exactly 3 bullet points:\n\n{{ input_text }}\n")
    );
    // Importing again changes nothing and says so, file by file.
    let again = import(&store, &root, ImportOptions::default());
    assert_eq!(again.count(Outcome::Unchanged), 10);
    let verify = store.verify_import(&root).unwrap();
    assert!(verify.is_clean(), "{verify:?}");
    assert_eq!(verify.matched, 10);
}

/// Every skip reason, with its line and column (1-based).
#[test]
fn every_skip_reason_is_reported_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let src = tempfile::tempdir().unwrap();
    copy_dir(&fixtures("skips"), src.path());
    // A file that cannot be read (a dangling link: root reads through any permission bits).
    std::os::unix::fs::symlink(
        "/nonexistent/target.yaml",
        src.path().join("unreadable.yaml"),
    )
    .unwrap();
    std::fs::write(
        src.path().join("latin1.yaml"),
        b"id: caf\xe9\ntemplate: t\n",
    )
    .unwrap();
    let report = import(&store, src.path(), ImportOptions::default());
    let expect = |path: &str, reason: &str, line: u32, col: u32| {
        let f = outcome(&report, path);
        assert_eq!(f.outcome, Outcome::Skipped, "{f:?}");
        assert!(
            f.reason.contains(reason),
            "{path}: reason {:?} lacks {reason:?}",
            f.reason
        );
        assert_eq!((f.line, f.column), (line, col), "{path}: {}", f.reason);
    };
    expect("parse_error.yaml", "YAML parse error", 3, 8);
    expect("no_id.yaml", "no `id`", 1, 1);
    expect(
        "version_number.yaml",
        "version is written as a number (1.0)",
        2,
        10,
    );
    expect(
        "bad_default.yaml",
        "input 'n' has a default of a string that does not match its type 'number'",
        6,
        14,
    );
    expect("bad_type.yaml", "input 'n' has type 'integer'", 5, 11);
    expect(
        "id_number.yaml",
        "id must be a string, found an integer",
        1,
        5,
    );
    expect("no_template.yaml", "has no `template` text", 1, 1);
    expect("empty.yaml", "the file is empty", 1, 1);
    expect("list.yml", "the file holds a list", 1, 1);
    expect("big_int.yaml", "does not fit in 64 bits", 4, 6);
    expect(
        "bad_required.yaml",
        "required must be a boolean, found a string",
        5,
        15,
    );
    expect(
        "nested/dup_a.yaml",
        "nested/deeper/dup_b.yaml has the same id+version with a different body",
        1,
        5,
    );
    expect(
        "nested/deeper/dup_b.yaml",
        "nested/dup_a.yaml has the same id+version with a different body",
        1,
        5,
    );
    expect("unreadable.yaml", "cannot read the file", 0, 0);
    expect("latin1.yaml", "not UTF-8", 0, 0);
    assert_eq!(outcome(&report, "fine.yml").outcome, Outcome::Imported);
    assert_eq!(report.files.len(), 16, "readme.txt is not a prompt file");
    assert!(report.committed);
    // The encoded report carries the same.
    let enc = unpack(&report.encode());
    assert_eq!(get(&enc, "skipped"), &Value::from(15));
    assert_eq!(get(&enc, "imported"), &Value::from(1));
}

#[test]
fn atomic_import_writes_nothing_when_a_file_fails_and_dry_run_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let atomic = ImportOptions {
        atomic: true,
        ..Default::default()
    };
    let report = import(&store, &fixtures("skips"), atomic);
    assert!(!report.committed);
    assert_eq!(outcome(&report, "fine.yml").outcome, Outcome::Imported);
    assert_eq!(store.stats().unwrap().template_versions, 0);

    let dry = ImportOptions {
        dry_run: true,
        ..Default::default()
    };
    let report = import(
        &store,
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/import/typing")
            .as_path(),
        dry,
    );
    assert!(report.dry_run && !report.committed);
    assert_eq!(report.count(Outcome::Imported), 2, "{:?}", report.files);
    assert_eq!(store.stats().unwrap().template_versions, 0);

    // An atomic import of clean files commits them all.
    let clean = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures("skips/fine.yml"), clean.path().join("fine.yml")).unwrap();
    let report = import(&store, clean.path(), atomic);
    assert!(report.committed);
    assert_eq!(store.stats().unwrap().template_versions, 1);
}

#[test]
fn conflicts_are_reported_unless_replace_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let src = tempfile::tempdir().unwrap();
    let file = src.path().join("a.yaml");
    std::fs::write(&file, "id: a\nversion: '1'\ntemplate: one\n").unwrap();
    import(&store, src.path(), ImportOptions::default());
    std::fs::write(&file, "id: a\nversion: '1'\ntemplate: two\n").unwrap();
    let report = import(&store, src.path(), ImportOptions::default());
    let f = outcome(&report, "a.yaml");
    assert_eq!(f.outcome, Outcome::Conflict);
    assert!(
        f.reason.contains("already exists with different content"),
        "{}",
        f.reason
    );
    let v = store.verify_import(src.path()).unwrap();
    assert_eq!(v.mismatched.len(), 1);
    let replace = ImportOptions {
        replace: true,
        ..Default::default()
    };
    let report = import(&store, src.path(), replace);
    assert_eq!(outcome(&report, "a.yaml").outcome, Outcome::Replaced);
    let rec = unpack(&store.get_template(b"a", Some(b"1")).unwrap());
    assert_eq!(get(&rec, "template").as_str(), Some("two"));
    assert!(store.verify_import(src.path()).unwrap().is_clean());
}

#[test]
fn verify_reports_missing_and_extra() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("a.yaml"), "id: a\ntemplate: t\n").unwrap();
    std::fs::write(src.path().join("b.yaml"), "id: b\ntemplate: t\n").unwrap();
    import(&store, src.path(), ImportOptions::default());
    std::fs::remove_file(src.path().join("b.yaml")).unwrap();
    std::fs::write(src.path().join("c.yaml"), "id: c\ntemplate: t\n").unwrap();
    let v = store.verify_import(src.path()).unwrap();
    assert_eq!(v.matched, 1);
    assert_eq!(
        v.missing,
        vec![("c.yaml".to_owned(), "c".to_owned(), "0.1.0".to_owned())]
    );
    assert_eq!(v.extra, vec![("b".to_owned(), "0.1.0".to_owned())]);
    let enc = unpack(&v.encode());
    assert_eq!(get(&enc, "clean"), &Value::from(false));
}

#[test]
fn missing_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let err = store
        .import_folder(
            Path::new("/nonexistent/prompts"),
            ImportOptions::default(),
            &mut no_progress(),
        )
        .unwrap_err();
    assert_eq!(err.kind, lmstore::ErrorKind::NotFound);
    assert!(
        err.message.contains("/nonexistent/prompts"),
        "{}",
        err.message
    );
}

#[test]
fn progress_reports_done_and_known() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let mut seen = Vec::new();
    store
        .import_folder(&fixtures("skips"), ImportOptions::default(), &mut |d, k| {
            seen.push((d, k))
        })
        .unwrap();
    assert_eq!(seen.first(), Some(&(0, 14)));
    assert_eq!(seen.last(), Some(&(14, 14)));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Every (id, version) -> stored record, the versions of each id with their times, latest and
/// aliases: what "an identical store" means.
fn snapshot(store: &Store) -> Vec<(String, Value, Value, Value, Vec<Value>)> {
    let ids = unpack(&store.list_template_ids(b"", b"", 10_000).unwrap());
    let mut out = Vec::new();
    for id in ids.as_array().unwrap() {
        let id = id.as_str().unwrap();
        let versions = unpack(&store.list_template_versions(id.as_bytes()).unwrap());
        let latest = unpack(&store.get_template(id.as_bytes(), None).unwrap());
        let aliases = unpack(&store.list_template_aliases(id.as_bytes()).unwrap());
        let records = versions
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let v = get(v, "version").as_str().unwrap();
                unpack(
                    &store
                        .get_template(id.as_bytes(), Some(v.as_bytes()))
                        .unwrap(),
                )
            })
            .collect();
        out.push((id.to_owned(), versions, latest, aliases, records));
    }
    out
}

#[test]
fn export_then_import_gives_an_identical_store() {
    let a_dir = tempfile::tempdir().unwrap();
    let a = open_no_sync(&a_dir);
    import(&a, &fixtures("typing"), ImportOptions::default());
    import(&a, &fixtures("skips"), ImportOptions::default());
    // Several versions, put out of version order, awkward ids and texts, aliases.
    let put = |id: &str, version: &str, text: &str, meta: Value| {
        let spec = lmstore::templates::TemplateSpec::from_parts(
            id,
            Some(version),
            text,
            Some("desc: with \"quotes\"\n and a line"),
            &[],
            &common::pack(&meta),
        )
        .unwrap();
        a.put_template(&spec, false).unwrap();
    };
    let meta = common::map(&[
        ("f", Value::F64(1e16)),
        ("g", Value::F64(-0.5e-7)),
        ("i", Value::from(-3)),
        ("s", Value::from("yes")),
        ("n", Value::Nil),
        (
            "l",
            Value::Array(vec![Value::from("1.0"), Value::from(true)]),
        ),
    ]);
    put("multi/ver", "2.0.0", "second\n\n", meta.clone());
    put("multi/ver", "1.0.0", "first", meta.clone());
    put(
        "multi/ver",
        "3.0.0",
        "  leading spaces\r\nand CRLF\ttab ",
        meta.clone(),
    );
    put(
        ".hidden id",
        "1",
        "日本語 עברית 👩‍👩‍👧\u{2028}sep\u{feff}",
        meta,
    );
    a.set_template_alias(b"multi/ver", b"production", b"2.0.0")
        .unwrap();
    a.set_template_alias(b"multi/ver", b"canary", b"3.0.0")
        .unwrap();

    let out = tempfile::tempdir().unwrap();
    let export = a.export_folder(&out.path().join("export")).unwrap();
    assert_eq!(export.aliases, 2);
    let b_dir = tempfile::tempdir().unwrap();
    let b = open_no_sync(&b_dir);
    let report = import(
        &b,
        &out.path().join("export"),
        ImportOptions {
            atomic: true,
            ..Default::default()
        },
    );
    assert!(report.committed, "{:?}", report.files);
    assert_eq!(report.files.len() as u64, export.files);
    assert_eq!(snapshot(&a), snapshot(&b));
    assert!(b
        .verify_import(&out.path().join("export"))
        .unwrap()
        .is_clean());
    assert!(a
        .verify_import(&out.path().join("export"))
        .unwrap()
        .is_clean());

    // The exported files read the same in PyYAML, and the original LocalRegistry's lookup (the
    // first file whose `id` matches) can only find the latest version.
    let mut files = Vec::new();
    collect_files(&out.path().join("export"), &mut files);
    files.sort();
    let reference = pyyaml(&files);
    let mut with_id = std::collections::HashMap::new();
    for (file, expected) in files.iter().zip(reference) {
        let text = std::fs::read_to_string(file).unwrap();
        let ours = yaml::to_value(&yaml::load(&text).unwrap().unwrap()).unwrap();
        let theirs = expected.unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(ours, theirs, "{}", file.display());
        if let Some(id) = get(&theirs, "id").as_str() {
            assert!(
                with_id.insert(id.to_owned(), file.clone()).is_none(),
                "two files carry id {id}"
            );
            let latest = unpack(&a.get_template(id.as_bytes(), None).unwrap());
            assert_eq!(get(&theirs, "version"), get(&latest, "version"));
            assert_eq!(get(&theirs, "template"), get(&latest, "template"));
        }
    }
    // Exporting into a folder that is not empty is refused.
    let err = a.export_folder(&out.path().join("export")).unwrap_err();
    assert!(err.message.contains("is not empty"), "{}", err.message);
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn created_at_is_honoured_when_given() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(
        src.path().join("a.yaml"),
        "id: a\ntemplate: t\ncreated_at: 1700000000123456\n",
    )
    .unwrap();
    import(&store, src.path(), ImportOptions::default());
    let rec = unpack(&store.get_template(b"a", None).unwrap());
    assert_eq!(
        get(&rec, "created_at"),
        &Value::from(1_700_000_000_123_456i64)
    );
    let versions = unpack(&store.list_template_versions(b"a").unwrap());
    assert_eq!(
        get(&versions[0], "created_at"),
        &Value::from(1_700_000_000_123_456i64)
    );
}

#[test]
fn a_template_that_does_not_compile_is_skipped_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let src = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures("compile/compile_error.yaml"),
        src.path().join("compile_error.yaml"),
    )
    .unwrap();
    std::fs::write(
        src.path().join("block.yaml"),
        "id: block\ntemplate: |\n  fine line\n  {{ broken + }}\n",
    )
    .unwrap();
    let report = import(&store, src.path(), ImportOptions::default());
    let f = outcome(&report, "compile_error.yaml");
    assert_eq!(f.outcome, Outcome::Skipped);
    assert!(
        f.reason.starts_with("template does not compile: "),
        "{}",
        f.reason
    );
    assert!(f.reason.contains("of the template text"), "{}", f.reason);
    assert_eq!((f.line, f.column), (2, 11));
    let b = outcome(&report, "block.yaml");
    assert_eq!(b.outcome, Outcome::Skipped);
    assert!(b.reason.contains("line 2"), "{}", b.reason);
    assert_eq!(store.stats().unwrap().template_versions, 0);
    // The PyYAML view of the file is a valid spec: only the compile check refuses it.
    let reference = pyyaml(&[fixtures("compile/compile_error.yaml")]);
    assert!(reference[0].is_ok());
}
