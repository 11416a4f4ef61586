//! Every command of the real binary against real stores: human output, `--json` parsed back,
//! exit codes, and bad input (missing store, wrong argument types, a store of another program)
//! refused with a clear message and nothing written.

mod common;
use common::*;
use lmstore::{OpenOptions, Store};
use predicates::prelude::*;

#[test]
fn help_names_every_command_and_the_exit_codes() {
    let out = lm_bare()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    for c in [
        "stat",
        "verify",
        "backup",
        "templates",
        "sessions",
        "messages",
        "doctor",
        "completions",
    ] {
        assert!(text.contains(c), "help lacks {c}:\n{text}");
    }
    assert!(text.contains("Exit codes: 0 ok, 1 failure"));
    assert!(text.contains("LMSTORE"));
    for sub in [
        vec!["stat", "--help"],
        vec!["backup", "--help"],
        vec!["templates", "--help"],
        vec!["templates", "put", "--help"],
        vec!["messages", "tail", "--help"],
        vec!["sessions", "list", "--help"],
        vec!["doctor", "--help"],
    ] {
        lm_bare()
            .args(&sub)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: lmstore"));
    }
}

#[test]
fn completions_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        lm_bare()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("lmstore"));
    }
    lm_bare().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn no_store_given_is_a_usage_error() {
    lm_bare()
        .arg("stat")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "pass --store PATH or set the LMSTORE environment variable",
        ));
}

#[test]
fn the_store_comes_from_lmstore_when_no_flag_is_given() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let out = lm_bare()
        .env("LMSTORE", dir.path())
        .args(["stat", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json(&out)["counts"]["messages"], 5);
}

#[test]
fn a_missing_store_is_not_found_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    for args in [
        vec!["stat"],
        vec!["verify"],
        vec!["sessions", "list"],
        vec!["messages", "tail", "s"],
        vec!["templates", "list"],
        vec!["templates", "delete", "x"],
        vec!["templates", "alias", "x", "a", "1"],
        vec!["doctor"],
    ] {
        lm(&missing)
            .args(&args)
            .assert()
            .code(3)
            .stderr(predicate::str::contains("no lmstore store at"));
        assert!(!missing.exists(), "{args:?} created the store");
    }
    // An empty directory is no store either, and stays empty.
    lm(dir.path())
        .arg("stat")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("holds no data.mdb"));
    assert!(snapshot(dir.path()).is_empty());
}

#[test]
fn a_store_of_another_program_is_refused_untouched() {
    // A file that is not LMDB at all.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.mdb"), b"SQLite format 3\0 not ours").unwrap();
    let before = snapshot(dir.path());
    for args in [vec!["stat"], vec!["templates", "delete", "x"]] {
        let out = lm(dir.path())
            .args(&args)
            .assert()
            .code(1)
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8_lossy(&out);
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
    }
    // verify reads the pages with lmstore's own reader and names what is wrong.
    lm(dir.path())
        .arg("verify")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("page damage: page 0"));
    let after = snapshot(dir.path());
    assert_eq!(
        before.iter().find(|(p, _)| p.ends_with("data.mdb")),
        after.iter().find(|(p, _)| p.ends_with("data.mdb"))
    );

    // A real LMDB environment that some other program wrote.
    let foreign = tempfile::tempdir().unwrap();
    {
        // SAFETY (of heed's open): nothing else has this fresh environment open.
        let env = unsafe { heed::EnvOpenOptions::new().max_dbs(4).open(foreign.path()) }.unwrap();
        let mut wtxn = env.write_txn().unwrap();
        let db: heed::Database<heed::types::Str, heed::types::Str> =
            env.create_database(&mut wtxn, Some("orders")).unwrap();
        db.put(&mut wtxn, "1", "coffee").unwrap();
        wtxn.commit().unwrap();
    }
    let data = std::fs::read(foreign.path().join("data.mdb")).unwrap();
    for args in [
        vec!["stat"],
        vec!["templates", "alias", "x", "a", "1"],
        vec!["messages", "tail", "s"],
    ] {
        lm(foreign.path())
            .args(&args)
            .assert()
            .code(1)
            .stderr(predicate::str::contains("but not an lmstore"));
    }
    assert_eq!(
        std::fs::read(foreign.path().join("data.mdb")).unwrap(),
        data,
        "data.mdb changed"
    );
}

#[test]
fn wrong_argument_types_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    lm(dir.path())
        .args(["messages", "tail", "chat-1", "-n", "many"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'many'"));
    lm(dir.path())
        .args(["messages", "get", "not-a-uuid"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'not-a-uuid'"));
    lm(dir.path()).args(["frobnicate"]).assert().code(2);
    lm(dir.path())
        .args([
            "templates",
            "get",
            "greet",
            "--version",
            "1",
            "--alias",
            "a",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}

#[test]
fn stat_reports_counts_tables_readers_and_versions() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let out = lm(dir.path())
        .args(["stat", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s = json(&out);
    assert_eq!(s["counts"]["template_ids"], 2);
    assert_eq!(s["counts"]["template_versions"], 3);
    assert_eq!(s["counts"]["sessions"], 2);
    assert_eq!(s["counts"]["messages"], 5);
    assert_eq!(s["schema_version"], lmstore::meta::SCHEMA_VERSION);
    assert!(s["lmdb_version"].as_str().unwrap().starts_with("0.9."));
    assert!(s["map"]["size"].as_u64().unwrap() >= s["map"]["used"].as_u64().unwrap());
    assert!(s["map"]["page_size"].as_u64().unwrap() >= 4096);
    let tables = s["tables"].as_array().unwrap();
    let messages = tables.iter().find(|t| t["name"] == "messages").unwrap();
    assert_eq!(messages["entries"], 5);
    let fill = messages["fill"].as_f64().unwrap();
    assert!(fill > 0.0 && fill <= 1.0, "fill {fill}");
    assert!(tables.iter().any(|t| t["name"] == "(free)"));
    assert!(s["map"]["free_pages"].is_u64());
    // This process's own read slot is listed and alive.
    assert_eq!(s["readers"]["stale"], 0);
    assert!(s["readers"]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["alive"] == true));

    let out = lm(dir.path())
        .arg("stat")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    for words in [
        "2 ids, 3 versions",
        "2 sessions, 5 messages",
        "TABLE",
        "messages",
        "FILL",
        "readers",
    ] {
        assert!(text.contains(words), "missing {words}:\n{text}");
    }
    assert!(!text.contains('\x1b'), "escape codes with NO_COLOR");
    assert!(text.contains("compression saved 0.0%"), "{text}");
    lm(dir.path())
        .args(["stat", "--no-fill", "--json"])
        .assert()
        .success();

    // A large, repetitive tool output is compressed; stat says how much that saved.
    let store = Store::open(dir.path(), OpenOptions::default()).unwrap();
    let big = "tool output line with some repeated words\n".repeat(500);
    store
        .append_messages(vec![msg("chat-3", "tool", None, &big)])
        .unwrap();
    drop(store);
    let s = lm_json(dir.path(), &["stat", "--json"], 0);
    let given = s["bodies"]["bytes"].as_u64().unwrap();
    let stored = s["bodies"]["stored_bytes"].as_u64().unwrap();
    assert!(given > big.len() as u64, "{s}");
    assert!(stored < given / 4, "{s}");
    assert!(
        s["bodies"]["saved_fraction"].as_f64().unwrap() > 0.75,
        "{s}"
    );
}

#[test]
fn verify_passes_a_good_store_and_names_every_problem_of_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let out = lm(dir.path())
        .args(["verify", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let r = json(&out);
    assert_eq!(r["ok"], true);
    assert_eq!(r["pages"]["ok"], true);
    assert_eq!(r["pages"]["damage_count"], 0);
    assert!(r["pages"]["file_pages"].as_u64().unwrap() > 0);
    assert_eq!(r["checked"]["messages"], 5);
    assert_eq!(r["checked"]["aliases"], 1);
    lm(dir.path())
        .arg("verify")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "5 messages, 2 template ids, 3 versions, 1 aliases checked",
        ));

    let env = lmstore::lmdb::Env::open(dir.path(), Default::default()).unwrap();
    use lmstore::storage::{Table, WriteTxn};
    env.write(|txn| {
        txn.put(Table::TplAliases, b"greet\0staging", b"7.0.0")?;
        txn.put(Table::Meta, b"count.messages", &9u64.to_be_bytes())
    })
    .unwrap();
    drop(env);
    let out = lm(dir.path())
        .args(["verify", "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let r = json(&out);
    assert_eq!(r["ok"], false);
    let problems: Vec<&str> = r["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("alias 'staging' of template 'greet' points at version '7.0.0'"));
    assert!(problems[1].contains("counters say 9 messages"));
    lm(dir.path()).arg("verify").assert().code(1).stdout(
        predicate::str::contains("problem: alias 'staging'")
            .and(predicate::str::contains("2 problems")),
    );
}

#[test]
fn backup_copies_a_store_that_opens_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let dest = tempfile::tempdir().unwrap();
    for (name, compact) in [("plain", false), ("compact", true)] {
        let target = dest.path().join(name);
        let mut c = lm(dir.path());
        c.args(["backup", "--json"]).arg(&target);
        if compact {
            c.arg("--compact");
        }
        let out = c.assert().success().get_output().clone();
        assert!(
            out.stderr.is_empty(),
            "progress drawn without a terminal: {:?}",
            out.stderr
        );
        let r = json(&out.stdout);
        assert_eq!(r["compact"], compact);
        assert!(r["bytes"].as_u64().unwrap() > 0);
        let out = lm(&target)
            .args(["stat", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        assert_eq!(json(&out)["counts"]["messages"], 5);
        lm(&target).arg("verify").assert().success();
    }
    // A target that is not empty is refused and left alone.
    let busy = dest.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("keep.txt"), b"mine").unwrap();
    lm(dir.path())
        .arg("backup")
        .arg(&busy)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not empty"));
    assert_eq!(snapshot(&busy).len(), 1);
}

#[test]
fn templates_put_get_list_versions_alias_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let specs = tempfile::tempdir().unwrap();
    let file = specs.path().join("t.json");
    std::fs::write(
        &file,
        r#"{"id":"welcome","version":"1.0.0","template":"Grüß dich, {{ name }} 👋","inputs":{"name":{"type":"string"}},"metadata":{"team":"growth"}}"#,
    )
    .unwrap();
    // put creates the store when it is missing.
    let out = lm(&store)
        .args(["templates", "put", "--json"])
        .arg(&file)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        json(&out),
        serde_json::json!({"id":"welcome","version":"1.0.0","outcome":"created"})
    );
    lm(&store)
        .args(["templates", "put"])
        .arg(&file)
        .assert()
        .success()
        .stdout("unchanged welcome 1.0.0\n");
    // From stdin, a second version; then a conflicting re-put of 1.0.0.
    lm(&store)
        .args(["templates", "put", "-"])
        .write_stdin(r#"{"id":"welcome","version":"1.1.0","template":"Hi {{ name }}"}"#)
        .assert()
        .success()
        .stdout("created welcome 1.1.0\n");
    lm(&store)
        .args(["templates", "put", "-"])
        .write_stdin(r#"{"id":"welcome","version":"1.0.0","template":"changed"}"#)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "already exists with different content",
        ));
    lm(&store)
        .args(["templates", "put", "-"])
        .write_stdin("{not json")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not valid JSON"));
    lm(&store)
        .args(["templates", "put", "-"])
        .write_stdin(r#"{"id":"x","template":"t","inputs":{"a":{"type":"date"}}}"#)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("input 'a' has type 'date'"));

    let out = lm(&store)
        .args([
            "templates",
            "get",
            "welcome",
            "--version",
            "1.0.0",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let t = json(&out);
    assert_eq!(t["template"], "Grüß dich, {{ name }} 👋");
    assert_eq!(t["metadata"]["team"], "growth");
    assert!(t["created_at"].as_i64().unwrap() > 0);
    lm(&store)
        .args([
            "templates",
            "get",
            "welcome",
            "--version",
            "1.0.0",
            "--text",
        ])
        .assert()
        .success()
        .stdout("Grüß dich, {{ name }} 👋");

    lm(&store)
        .args(["templates", "alias", "welcome", "production", "1.0.0"])
        .assert()
        .success();
    let out = lm(&store)
        .args(["templates", "alias", "welcome", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json(&out), serde_json::json!({"production": "1.0.0"}));
    lm(&store)
        .args(["templates", "alias", "welcome", "production"])
        .assert()
        .success()
        .stdout("1.0.0\n");
    let out = lm(&store)
        .args([
            "templates",
            "get",
            "welcome",
            "--alias",
            "production",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json(&out)["version"], "1.0.0");
    lm(&store)
        .args(["templates", "alias", "welcome", "staging", "9.9.9"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("has no version '9.9.9'"));

    let out = lm(&store)
        .args(["templates", "versions", "welcome", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json(&out);
    assert_eq!(v[0]["version"], "1.0.0");
    assert_eq!(v[0]["aliases"], serde_json::json!(["production"]));
    assert_eq!(v[1]["latest"], true);
    let out = lm(&store)
        .args(["templates", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        json(&out),
        serde_json::json!([{"id":"welcome","latest":"1.1.0","versions":2,"created_at":json(&out)[0]["created_at"],"description":null}])
    );
    lm(&store)
        .args(["templates", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("welcome  1.1.0"));

    lm(&store)
        .args(["templates", "alias", "welcome", "production", "--delete"])
        .assert()
        .success();
    lm(&store)
        .args(["templates", "alias", "welcome", "production"])
        .assert()
        .code(3);
    lm(&store)
        .args(["templates", "delete", "welcome", "--version", "1.1.0"])
        .assert()
        .success();
    let out = lm(&store)
        .args(["templates", "get", "welcome", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json(&out)["version"], "1.0.0");
    lm(&store)
        .args(["templates", "delete", "welcome"])
        .assert()
        .success();
    lm(&store)
        .args(["templates", "get", "welcome"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("template 'welcome' not found"));
    lm(&store)
        .args(["--json", "templates", "get", "welcome"])
        .assert()
        .code(3)
        .stderr(predicate::function(|e: &str| {
            let v: serde_json::Value = serde_json::from_str(e.trim()).unwrap();
            v["error"]["kind"] == "not_found" && v["error"]["exit_code"] == 3
        }));
}

#[test]
fn sessions_list_and_messages_tail_and_get() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let out = lm(dir.path())
        .args(["sessions", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s = json(&out);
    let ids: Vec<&str> = s
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["chat-2", "chat-1"], "most recent activity first");
    assert_eq!(s[1]["message_count"], 3);
    lm(dir.path())
        .args(["sessions", "list", "-n", "1", "--json"])
        .assert()
        .success()
        .stdout(predicate::function(|o: &str| {
            serde_json::from_str::<serde_json::Value>(o)
                .unwrap()
                .as_array()
                .unwrap()
                .len()
                == 1
        }));
    lm(dir.path())
        .args(["sessions", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("chat-1   3"));

    let out = lm(dir.path())
        .args(["messages", "tail", "chat-1", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines = json_lines(&out);
    let contents: Vec<&str> = lines
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        ["hello", "hi there", "how are you?"],
        "oldest first"
    );
    assert_eq!(lines[1]["agent_id"], "bot");
    let out = lm(dir.path())
        .args(["messages", "tail", "chat-1", "-n", "2", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_lines(&out)[0]["content"], "hi there");
    lm(dir.path())
        .args(["messages", "tail", "chat-1", "-n", "1"])
        .assert()
        .success()
        .stdout(predicate::str::ends_with("user: how are you?\n"));
    lm(dir.path())
        .args(["messages", "tail", "nobody"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("session 'nobody' not found"));

    let id = lines[1]["id"].as_str().unwrap().to_owned();
    let out = lm(dir.path())
        .args(["messages", "get", &id, "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let m = json(&out);
    assert_eq!(
        (
            m["id"].as_str().unwrap(),
            m["session_id"].as_str().unwrap(),
            m["role"].as_str().unwrap()
        ),
        (id.as_str(), "chat-1", "assistant")
    );
    lm(dir.path())
        .args(["messages", "get", &id])
        .assert()
        .success()
        .stdout(predicate::str::ends_with("\nhi there\n"));
    lm(dir.path())
        .args(["messages", "get", "0190a0b0-0000-7000-8000-000000000000"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not found"));
}

#[test]
fn doctor_reports_each_check_and_fixes_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    sample(&store);
    let out = lm(&store)
        .args(["doctor", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let d = json(&out);
    assert_eq!(d["ok"], true);
    let names: Vec<&str> = d["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "stale readers",
            "schema",
            "map size",
            "page fill",
            "consistency",
            "permissions"
        ]
    );

    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        store.join("data.mdb"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = lm(&store)
        .args(["doctor", "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let d = json(&out);
    let perm = &d["checks"][5];
    assert_eq!(perm["status"], "warning");
    assert!(perm["detail"].as_str().unwrap().contains("data.mdb is 644"));
    assert!(perm["fix"].as_str().unwrap().contains("chmod 600"));
    lm(&store)
        .args(["doctor", "--fix"])
        .assert()
        .success()
        .stdout(predicate::str::contains("fixed    permissions"));
    let mode = std::fs::metadata(store.join("data.mdb"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);

    // A map near the cap the application uses.
    let out = lm(&store)
        .args(["doctor", "--json", "--max-map-size", "100000"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let d = json(&out);
    assert_eq!(d["checks"][2]["status"], "warning");
    assert!(d["checks"][2]["fix"]
        .as_str()
        .unwrap()
        .contains("raise max_map_size"));
}

/// The "page fill" check of `lmstore doctor --json`, which exits with `code`.
fn page_fill_check(store: &std::path::Path, code: i32) -> serde_json::Value {
    let d = lm_json(store, &["doctor", "--json"], code);
    d["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "page fill")
        .unwrap()
        .clone()
}

#[test]
fn doctor_points_to_a_compact_backup_when_pages_are_mostly_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    {
        let s = Store::open(
            &store,
            OpenOptions {
                no_sync: true,
                ..OpenOptions::default()
            },
        )
        .unwrap();
        // ~8 MiB of messages in 8 sessions, then 6 of them deleted: most pages go free.
        let body = "x".repeat(900);
        for round in 0..10 {
            for session in 0..8 {
                let batch = (0..100)
                    .map(|i| {
                        msg(
                            &format!("s{session}"),
                            "user",
                            None,
                            &format!("{round} {i} {body}"),
                        )
                    })
                    .collect();
                s.append_messages(batch).unwrap();
            }
        }
        for session in 2..8 {
            s.delete_session(format!("s{session}").as_bytes()).unwrap();
        }
        s.sync().unwrap();
    }
    let fill = page_fill_check(&store, 1);
    assert_eq!(fill["status"], "warning", "{fill}");
    assert!(
        fill["fix"]
            .as_str()
            .unwrap()
            .contains("lmstore backup --compact"),
        "{fill}"
    );
    let copy = dir.path().join("copy");
    lm(&store)
        .args(["backup", "--compact"])
        .arg(&copy)
        .assert()
        .success();
    let size = |d: &std::path::Path| std::fs::metadata(d.join("data.mdb")).unwrap().len();
    assert!(
        size(&copy) * 2 < size(&store),
        "{} vs {}",
        size(&copy),
        size(&store)
    );
    let fill = page_fill_check(&copy, 0);
    assert_eq!(fill["status"], "ok", "{fill}");
    assert_eq!(
        lm_json(&copy, &["stat", "--json"], 0)["counts"]["messages"],
        2000
    );
}

#[test]
fn doctor_explains_a_store_of_a_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let env = lmstore::lmdb::Env::open(dir.path(), Default::default()).unwrap();
    use lmstore::storage::{Table, WriteTxn};
    env.write(|txn| txn.put(Table::Meta, b"schema_version", &99u32.to_be_bytes()))
        .unwrap();
    drop(env);
    let out = lm(dir.path())
        .args(["doctor", "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let d = json(&out);
    let schema = &d["checks"][0];
    assert_eq!(schema["name"], "schema");
    assert!(schema["detail"]
        .as_str()
        .unwrap()
        .contains("schema version 99"));
    assert!(schema["fix"].as_str().unwrap().contains("upgrade lmstore"));
    lm(dir.path())
        .arg("stat")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("written by a newer lmstore"));
}

#[test]
fn doctor_clears_stale_readers_of_a_killed_process() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    sample(&store);
    // Followers hold reader slots (their read transactions are pooled). LMDB resets the reader
    // table when the first process opens the store, so a stale slot only exists while another
    // process keeps the store open: one follower stays, the other is killed with SIGKILL.
    let follow = || {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lmstore"))
            .arg("--store")
            .arg(&store)
            .args(["messages", "tail", "chat-1", "--follow"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Keep the pipe open: a follower whose reader goes away exits, as `| head` wants.
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        std::io::BufRead::read_line(&mut out, &mut first).unwrap();
        assert!(!first.is_empty());
        (child, out)
    };
    let (stays, _pipe) = follow();
    // Killed when the test ends, whatever happens.
    struct Reaped(std::process::Child);
    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _stays = Reaped(stays);
    let (mut killed, _pipe2) = follow();
    killed.kill().unwrap();
    killed.wait().unwrap();
    let out = lm(&store)
        .args(["doctor", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let d = json(&out);
    assert_eq!(d["checks"][0]["status"], "fixed", "{d}");
    assert!(d["checks"][0]["detail"]
        .as_str()
        .unwrap()
        .starts_with("cleared 1 reader slot"));
    let out = lm(&store)
        .args(["doctor", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json(&out)["checks"][0]["status"], "ok");
}

/// A store written by lmstore 0.1 (the committed schema-1 fixture): doctor says what to do,
/// writes are refused until `upgrade`, which keeps every record and is idempotent.
#[test]
fn upgrade_rewrites_a_schema_1_store_and_doctor_points_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/schema1/data.mdb");
    std::fs::copy(fixture, dir.path().join("data.mdb")).unwrap();
    let store = dir.path();

    let d = lm_json(store, &["doctor", "--json"], 1);
    let schema = &d["checks"][1];
    assert_eq!(schema["name"], "schema");
    assert_eq!(schema["status"], "warning");
    assert!(schema["detail"].as_str().unwrap().contains("schema 1"));
    assert!(schema["fix"].as_str().unwrap().contains("lmstore upgrade"));

    let before = lm_json(store, &["templates", "get", "greet", "--json"], 0);
    lm(store)
        .args(["templates", "put", "-"])
        .write_stdin(r#"{"id":"fresh","version":"1","template":"hi"}"#)
        .assert()
        .failure()
        .stderr(predicate::str::contains("upgrade"));

    let up = lm_json(store, &["upgrade", "--json"], 0);
    assert_eq!(up["from_schema"], 1);
    assert_eq!(up["to_schema"], 2);
    assert_eq!(up["upgraded"], true);
    assert_eq!(up["messages"], 5);
    assert!(up["values"].as_u64().unwrap() > 5);

    let after = lm_json(store, &["templates", "get", "greet", "--json"], 0);
    assert_eq!(before, after);
    lm(store).arg("verify").assert().success();
    lm(store)
        .args(["templates", "put", "-"])
        .write_stdin(r#"{"id":"fresh","version":"1","template":"hi"}"#)
        .assert()
        .success();
    lm(store)
        .arg("upgrade")
        .assert()
        .success()
        .stdout(predicate::str::contains("already at schema 2"));
    // The copied fixture is 644, so doctor still warns about permissions, not the schema.
    let d = lm_json(store, &["doctor", "--json"], 1);
    assert_eq!(d["checks"][1]["status"], "ok");
    assert_eq!(d["checks"][1]["detail"], "schema 2, the current format");
}

#[test]
fn dictionary_train_list_and_stat() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), OpenOptions::default()).unwrap();
        store
            .append_messages(vec![msg("chat-1", "user", None, "hello")])
            .unwrap();
    }
    // Too few messages: refused, naming why, and nothing stored.
    lm(dir.path())
        .args(["dictionary", "train"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("too few messages"));
    assert_eq!(
        lm_json(dir.path(), &["dictionary", "list", "--json"], 0),
        serde_json::json!([])
    );
    let chat = |round: usize| {
        let store = Store::open(dir.path(), OpenOptions::default()).unwrap();
        let words = [
            "model", "answer", "context", "tokens", "please", "summary", "the", "a",
        ];
        let batch = (0..800)
            .map(|i: usize| {
                let text: Vec<&str> = (0..20 + i % 50)
                    .map(|k| words[(i * 7 + k * k + round) % 8])
                    .collect();
                msg(
                    "chat-2",
                    "user",
                    None,
                    &format!("{round}/{i}: {}", text.join(" ")),
                )
            })
            .collect();
        store.append_messages(batch).unwrap();
    };
    chat(0);
    lm(dir.path())
        .args(["dictionary", "train", "--min-body", "8"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("min_body 8"));
    lm(dir.path())
        .args(["dictionary", "train", "--min-body", "ten"])
        .assert()
        .code(2);
    lm(dir.path())
        .args(["dictionary", "train"])
        .assert()
        .success()
        .stdout(predicate::str::contains("trained dictionary 1"))
        .stdout(predicate::str::contains("256 B and more"));
    // The same messages train the same dictionary: it keeps its version, with the new min body.
    let d = lm_json(
        dir.path(),
        &["dictionary", "train", "--min-body", "400", "--json"],
        0,
    );
    assert_eq!(d["version"], 1, "{d}");
    assert_eq!(d["min_body"], 400, "{d}");
    chat(1);
    let d = lm_json(
        dir.path(),
        &["dictionary", "train", "--min-body", "400", "--json"],
        0,
    );
    assert_eq!(d["version"], 2, "{d}");
    assert_eq!(d["min_body"], 400, "{d}");
    let list = lm_json(dir.path(), &["dictionary", "list", "--json"], 0);
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    assert_eq!(list[0]["current"], false, "{list}");
    assert_eq!(list[1]["current"], true, "{list}");
    let s = lm_json(dir.path(), &["stat", "--json"], 0);
    assert_eq!(s["bodies"]["dictionaries"], 2, "{s}");
    assert_eq!(s["bodies"]["current_dictionary"]["version"], 2, "{s}");
    lm(dir.path())
        .args(["stat", "--no-fill"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "new bodies from 400 B use dictionary 2 of 2",
        ));
    lm(dir.path())
        .args(["dictionary", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("kept for older records"));
    lm(dir.path())
        .arg("upgrade")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "already at schema 3; nothing to do",
        ));
}
