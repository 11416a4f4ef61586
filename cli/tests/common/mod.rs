//! Shared helpers: the real binary against real stores in temp directories.
#![allow(dead_code)]

use assert_cmd::Command;
use lmstore::conversations::NewMessage;
use lmstore::templates::TemplateSpec;
use lmstore::{OpenOptions, Store};
use std::path::Path;

/// `lmstore --store DIR ...` with a clean environment (no LMSTORE, no colour).
pub fn lm(store: &Path) -> Command {
    let mut c = Command::cargo_bin("lmstore").expect("the lmstore binary is built");
    c.env_remove("LMSTORE")
        .env("NO_COLOR", "1")
        .arg("--store")
        .arg(store);
    c
}

pub fn lm_bare() -> Command {
    let mut c = Command::cargo_bin("lmstore").expect("the lmstore binary is built");
    c.env_remove("LMSTORE").env("NO_COLOR", "1");
    c
}

pub fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| {
        panic!(
            "not one JSON document ({e}):\n{}",
            String::from_utf8_lossy(out)
        )
    })
}

/// Runs `lmstore --store DIR ARGS...`, requires exit code `code`, parses its JSON output.
pub fn lm_json(store: &Path, args: &[&str], code: i32) -> serde_json::Value {
    json(&lm(store).args(args).assert().code(code).get_output().stdout)
}

pub fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line ({e}): {l}")))
        .collect()
}

pub fn spec(id: &str, version: &str, text: &str) -> TemplateSpec {
    TemplateSpec::from_parts(id, Some(version), text, Some("a test template"), &[], &[]).unwrap()
}

pub fn msg(session: &str, role: &str, agent: Option<&str>, content: &str) -> NewMessage {
    NewMessage::new(
        session.as_bytes(),
        None,
        None,
        role.as_bytes(),
        agent.map(str::as_bytes),
        content.as_bytes(),
        None,
        &[],
    )
    .unwrap()
}

/// A store with two templates (three versions, one alias) and two sessions (five messages).
pub fn sample(dir: &Path) {
    let store = Store::open(dir, OpenOptions::default()).unwrap();
    store
        .put_template(&spec("greet", "1.0.0", "Hello {{ name }}"), false)
        .unwrap();
    store
        .put_template(&spec("greet", "1.1.0", "Hi {{ name }}!"), false)
        .unwrap();
    store
        .put_template(&spec("summary", "0.1.0", "Summarize: {{ text }}"), false)
        .unwrap();
    store
        .set_template_alias(b"greet", b"production", b"1.0.0")
        .unwrap();
    store
        .append_messages(vec![
            msg("chat-1", "user", None, "hello"),
            msg("chat-1", "assistant", Some("bot"), "hi there"),
            msg("chat-1", "user", None, "how are you?"),
        ])
        .unwrap();
    store
        .append_messages(vec![
            msg("chat-2", "user", None, "first"),
            msg("chat-2", "assistant", Some("bot"), "second"),
        ])
        .unwrap();
}

/// Every file under `dir` with its bytes, to prove a command wrote nothing.
pub fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(snapshot(&p));
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}
