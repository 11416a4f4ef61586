//! The prompt commands of the real binary: import a folder of YAML prompts, render what was
//! imported (exactly the text, nothing added), input and render errors with their exit codes,
//! lint, export, and the import report as a table and as JSON.

mod common;
use common::*;
use std::path::PathBuf;

fn seed_examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/seed-examples/promptlightning")
}

#[test]
fn import_then_render_exactly_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = lm(&store)
        .args(["--json", "import"])
        .arg(seed_examples())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json(&out);
    assert_eq!(report["committed"], true, "{report}");
    let files = report["files"].as_array().expect("files");
    assert_eq!(files.len(), 10, "{report}");
    // A second import changes nothing, and the human table names every file.
    let table = lm(&store)
        .arg("import")
        .arg(seed_examples())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    assert!(
        table.contains("OUTCOME") && table.contains("unchanged"),
        "{table}"
    );
    assert!(table.contains("analyzer.yaml"), "{table}");

    let text = lm(&store)
        .args(["render", "analyzer", "--var", "content=Hello"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.starts_with("Please provide a general analysis of the following content:\n\nHello\n"),
        "{text:?}"
    );
    // Jinja2 drops the template's one trailing newline; nothing is added back.
    assert!(text.ends_with("examples from the content."), "{text:?}");

    let dest = dir.path().join("export");
    lm(&store).arg("export").arg(&dest).assert().success();
    assert!(dest.join("analyzer.yaml").is_file());
}

#[test]
fn render_errors_have_their_own_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    lm(&store)
        .arg("import")
        .arg(seed_examples())
        .assert()
        .success();
    let out = lm(&store).args(["render", "analyzer"]).assert().code(4);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("missing input: content"), "{err}");
    assert!(out.get_output().stdout.is_empty());

    lm(&store)
        .args(["render", "no-such-template"])
        .assert()
        .code(3);
    lm(&store)
        .args(["render", "analyzer", "--var", "novalue"])
        .assert()
        .code(2);

    // A template that fails while rendering: exit 5, Jinja2's reason on stderr.
    let spec_dir = dir.path().join("bad");
    std::fs::create_dir(&spec_dir).unwrap();
    std::fs::write(
        spec_dir.join("t.yaml"),
        "id: div\nversion: '1'\ntemplate: '{{ n / 0 }}'\ninputs:\n  n:\n    type: number\n",
    )
    .unwrap();
    lm(&store).arg("import").arg(&spec_dir).assert().success();
    let out = lm(&store)
        .args(["--json", "render", "div", "--var", "n=3"])
        .assert()
        .code(5);
    let err = json(&out.get_output().stderr);
    assert_eq!(err["error"]["kind"], "render", "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("division by zero"),
        "{err}"
    );
}

#[test]
fn import_reports_skips_with_their_place_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let src = dir.path().join("prompts");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("noid.yaml"), "template: hi\n").unwrap();
    let out = lm(&store)
        .args(["--json", "import"])
        .arg(&src)
        .assert()
        .code(1);
    let report = json(&out.get_output().stdout);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files[0]["outcome"], "skipped", "{report}");
}

#[test]
fn lint_names_undeclared_variables() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let src = dir.path().join("prompts");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(
        src.join("t.yaml"),
        "id: t\nversion: '1'\ntemplate: '{{ a }} {{ b }}'\ninputs:\n  a: {type: string}\n",
    )
    .unwrap();
    lm(&store).arg("import").arg(&src).assert().success();
    let out = lm(&store).args(["--json", "lint", "t"]).assert().code(1);
    let doc = json(&out.get_output().stdout);
    assert_eq!(doc["undeclared"], serde_json::json!(["b"]), "{doc}");
}
