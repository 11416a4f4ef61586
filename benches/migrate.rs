//! Import of a folder of YAML prompt files and migration of a tkr-agent-chat store, each against
//! lmstore's own batched durable append rate measured in the same run (the limit of the write
//! path both use). Memory: the process's anonymous resident memory (heap; the source's mmap is
//! file-backed and excluded) sampled through the progress callback.
//!
//! Knobs: LMSTORE_BENCH_SCALE (`smoke`, or a factor of the full sizes: 10,000 files;
//! 1,000 sessions x 1,000 messages). The source is written by tests/python/make_sources.py.

mod common;

use common::Run;
use lmstore::conversations::NewMessage;
use lmstore::import::ImportOptions;
use lmstore::{OpenOptions, Store};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn rss_anon_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("RssAnon:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn open(dir: &Path) -> Store {
    Store::open(dir, OpenOptions::default()).expect("open")
}

/// Durable appends of `sessions x per` short messages in batches of `batch` (the migration
/// writes 10,000 per commit), with random v4 ids as the migrated messages have, or
/// time-ordered v7 ids as lmstore generates them: messages per second.
fn append_rate(dir: &Path, sessions: usize, per: usize, batch_size: usize, v4: bool) -> f64 {
    let store = open(dir);
    let mut batch = Vec::with_capacity(batch_size);
    let start = Instant::now();
    let mut n = 0usize;
    for s in 0..sessions {
        let session = format!("sess-{s:05}");
        for m in 0..per {
            let content = format!("message {m} of {session}");
            let meta = rmp_meta(m);
            batch.push(
                NewMessage::new(
                    session.as_bytes(),
                    Some(
                        if v4 {
                            uuid::Uuid::new_v4()
                        } else {
                            uuid::Uuid::now_v7()
                        }
                        .as_bytes(),
                    ),
                    Some(1_747_130_499_000_000 + (s * 100_000 + m * 2) as i64 * 1_000_000),
                    b"user",
                    (m % 4 == 0).then_some(&b"agent-a"[..]),
                    content.as_bytes(),
                    None,
                    &meta,
                )
                .expect("message"),
            );
            n += 1;
            if batch.len() == batch_size {
                store
                    .append_messages(std::mem::take(&mut batch))
                    .expect("append");
            }
        }
    }
    if !batch.is_empty() {
        store.append_messages(batch).expect("append");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Metadata of about the size the migration stores per message.
fn rmp_meta(m: usize) -> Vec<u8> {
    let v = rmpv::Value::Map(vec![
        (
            "message_metadata".into(),
            rmpv::Value::Map(vec![("socket_id".into(), format!("sock-{m}").into())]),
        ),
        ("created_at".into(), "2025-05-13T10:01:39.395424".into()),
        ("in_reply_to".into(), rmpv::Value::Nil),
    ]);
    lmstore::codec::encode(&v)
}

fn write_yaml_files(dir: &Path, n: usize) {
    for i in 0..n {
        let sub = dir.join(format!("group-{:03}", i % 100));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            sub.join(format!("prompt-{i:05}.yaml")),
            format!(
                "id: prompt-{i:05}\nversion: 1.0.0\ndescription: Prompt number {i}\ntemplate: |\n  You are assistant {i}.\n  {{% if tone %}}Tone: {{{{ tone }}}}{{% endif %}}\n  Answer: {{{{ question }}}}\ninputs:\n  question:\n    type: string\n  tone:\n    type: string\n    required: false\n    default: neutral\nmetadata:\n  tags: [bench, yes, 1.5]\n  owner: team-{}\n",
                i % 7
            ),
        )
        .unwrap();
    }
}

fn main() {
    let run = Run::from_env(0.001);
    let files = run.scaled(10_000.0, 20);
    let sessions = run.scaled(1_000.0, 4);
    let per = if run.smoke { 25 } else { 1_000 };
    let tmp = tempfile::tempdir().expect("tempdir");
    println!(
        "# import/migrate benchmark: {files} YAML files; {sessions} sessions x {per} messages"
    );

    // Peer: the batched durable append rate, same machine, same run.
    let append = append_rate(&tmp.path().join("append"), sessions, per, 10_000, true);
    let append_v7 = append_rate(&tmp.path().join("append-v7"), sessions, per, 1_000, false);
    println!(
        "batched durable append (the peer): {append:.0} messages/s with v4 ids in batches of 10,000; {append_v7:.0}/s with v7 ids in batches of 1,000"
    );

    let yaml = tmp.path().join("yaml");
    write_yaml_files(&yaml, files);
    let store = open(&tmp.path().join("imported"));
    let start = Instant::now();
    let report = store
        .import_folder(&yaml, ImportOptions::default(), &mut |_, _| {})
        .expect("import");
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(report.files.len(), files);
    assert_eq!(report.count(lmstore::import::Outcome::Imported), files);
    let import_rate = files as f64 / secs;
    println!(
        "YAML import (file by file, durable): {import_rate:.0} files/s ({secs:.2} s) = {:.0}% of the append rate in records/s",
        100.0 * import_rate / append
    );

    // The source, written the way tkr-agent-chat wrote it.
    let python = Command::new("scripts/python-env.sh")
        .output()
        .expect("python-env.sh");
    let python = String::from_utf8(python.stdout).unwrap().trim().to_owned();
    let src = tmp.path().join("tkr");
    let made = Command::new(&python)
        .args(["tests/python/make_sources.py", "tkr"])
        .arg(&src)
        .args([sessions.to_string(), per.to_string()])
        .status()
        .expect("make_sources.py");
    assert!(made.success());
    let store = open(&tmp.path().join("migrated"));
    let base = rss_anon_kb();
    let mut peak = base;
    let mut samples = 0u64;
    let start = Instant::now();
    let report = store
        .migrate_tkr_agent_chat(&src, &tmp.path().join("side.jsonl"), &mut |_, _| {
            samples += 1;
            peak = peak.max(rss_anon_kb());
        })
        .expect("migrate");
    let secs = start.elapsed().as_secs_f64();
    let messages = (sessions * per) as f64;
    assert_eq!(report.messages_migrated as f64, messages);
    assert_eq!(report.mismatches, 0);
    let rate = messages / secs;
    println!(
        "tkr-agent-chat migration incl. verification: {rate:.0} messages/s ({secs:.2} s) = {:.0}% of the append rate (goal >= 60%)",
        100.0 * rate / append
    );
    println!(
        "anonymous memory during the migration: {} KiB at start, {} KiB peak (+{} KiB over {samples} samples)",
        base,
        peak,
        peak - base
    );
}
