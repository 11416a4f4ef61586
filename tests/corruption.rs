//! The corruption campaign: a populated store is damaged in many ways (random byte flips,
//! zeroed pages, truncations at page boundaries, swapped pages, files of other programs), and
//! each damaged copy is opened and fully read (every template, version and alias, every
//! session range both ways, every message by id, every agent, the session list, stats) in a
//! child process with a timeout. The suite fails on any crash or hang with the verifying open
//! (and, once records carry checksums, on any silently wrong record where record bytes were
//! hit), and prints the count of each outcome with and without the verifying open.
//!
//! `LMSTORE_CORRUPTIONS=N` sets the number of damaged copies (default 150; each runs twice,
//! with and without LMS_OPEN_VERIFY); `LMSTORE_CORRUPTION_SEED` changes the damage drawn;
//! `LMSTORE_CORRUPTION_ONLY=I` reruns case I alone.

mod common;

use lmstore::conversations::{NewMessage, RangeQuery};
use lmstore::lmdb::pages::{self, PageUse};
use lmstore::{ErrorKind, OpenOptions, Store};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CASE_ENV: &str = "LMSTORE_CORRUPTION_CASE";
const VERIFY_ENV: &str = "LMSTORE_CORRUPTION_VERIFY";
const EXPECTED_ENV: &str = "LMSTORE_CORRUPTION_EXPECTED";
const TIMEOUT: Duration = Duration::from_secs(60);

const TEMPLATES: usize = 24;
const SESSIONS: usize = 8;
const MESSAGES: usize = 1200;
const AGENTS: usize = 3;

fn msg_id(i: usize) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&(0x0190_0000_0000_0000u64 + i as u64).to_be_bytes());
    id[8..].copy_from_slice(&(i as u64 * 0x9e37_79b9).to_be_bytes());
    id
}

/// The store every case damages a copy of. Some values are big enough for overflow pages;
/// deletes leave free pages.
fn populate(dir: &Path) {
    let store = Store::open(
        dir,
        OpenOptions {
            no_sync: true,
            ..Default::default()
        },
    )
    .unwrap();
    for t in 0..TEMPLATES {
        for v in 0..3 {
            let text = if t % 6 == 0 {
                format!("{} {{{{ name }}}} v{v}", "long text ".repeat(700))
            } else {
                format!("Hello {{{{ name }}}} from template {t} v{v}")
            };
            let spec = common::pack(&common::map(&[
                ("id", format!("tpl-{t:02}").into()),
                ("version", format!("1.{v}.0").into()),
                ("template", text.into()),
                (
                    "metadata",
                    common::map(&[("owner", format!("team-{}", t % 4).into())]),
                ),
            ]));
            let spec = lmstore::templates::normalize_spec(&spec).unwrap();
            store.put_template(&spec, false).unwrap();
        }
        store
            .set_template_alias(format!("tpl-{t:02}").as_bytes(), b"prod", b"1.1.0")
            .unwrap();
    }
    store.delete_template(b"tpl-05", None).unwrap();
    store.delete_template(b"tpl-07", Some(b"1.2.0")).unwrap();
    for s in 0..SESSIONS {
        if s % 2 == 0 {
            let meta = common::pack(&common::map(&[("topic", format!("topic {s}").into())]));
            store
                .create_session(format!("session-{s}").as_bytes(), Some(b"a title"), &meta)
                .unwrap();
        }
    }
    let batch: Vec<NewMessage> = (0..MESSAGES)
        .map(|i| {
            let agent = format!("agent-{}", i % AGENTS);
            NewMessage::new(
                format!("session-{}", i % SESSIONS).as_bytes(),
                Some(&msg_id(i)),
                Some(1_700_000_000_000_000 + i as i64 * 1000),
                if i % 2 == 0 { b"user" } else { b"assistant" },
                (i % 4 == 0).then_some(agent.as_bytes()),
                format!("message {i}: {}", "words ".repeat(i % 40)).as_bytes(),
                None,
                &[],
            )
            .unwrap()
        })
        .collect();
    for chunk in batch.chunks(100) {
        store.append_messages(chunk.to_vec()).unwrap();
    }
    for i in (0..MESSAGES).step_by(13) {
        store.delete_message(&msg_id(i)).unwrap();
    }
    store.sync().unwrap();
}

/// Every read the campaign makes, in a fixed order.
#[derive(Debug, Clone)]
enum Query {
    Latest(String),
    Version(String, String),
    Alias(String),
    ListIds,
    Versions(String),
    Aliases(String),
    Range(String, bool),
    Message(usize),
    Agent(usize),
    Session(usize),
    Sessions,
    Stats,
}

fn queries() -> Vec<Query> {
    let mut q = vec![Query::ListIds, Query::Sessions, Query::Stats];
    for t in 0..TEMPLATES {
        let id = format!("tpl-{t:02}");
        q.push(Query::Latest(id.clone()));
        q.push(Query::Alias(id.clone()));
        q.push(Query::Versions(id.clone()));
        q.push(Query::Aliases(id.clone()));
        for v in 0..3 {
            q.push(Query::Version(id.clone(), format!("1.{v}.0")));
        }
    }
    for s in 0..SESSIONS {
        q.push(Query::Range(format!("session-{s}"), false));
        q.push(Query::Range(format!("session-{s}"), true));
        q.push(Query::Session(s));
    }
    q.extend((0..AGENTS).map(Query::Agent));
    q.extend((0..MESSAGES).map(Query::Message));
    q
}

/// Pages through a range with a small limit, so cursors are exercised too.
fn all_pages(
    mut next: impl FnMut(Option<&[u8]>) -> lmstore::Result<lmstore::conversations::Page>,
) -> lmstore::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut cursor: Option<Vec<u8>> = None;
    loop {
        let page = next(cursor.as_deref())?;
        out.extend_from_slice(page.bytes());
        match page.next {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

fn range(reverse: bool, cursor: Option<&[u8]>) -> RangeQuery<'_> {
    RangeQuery {
        limit: 37,
        reverse,
        cursor,
        ..Default::default()
    }
}

fn run(store: &Store, q: &Query) -> lmstore::Result<Vec<u8>> {
    match q {
        Query::Latest(id) => store.get_template(id.as_bytes(), None),
        Query::Version(id, v) => store.get_template(id.as_bytes(), Some(v.as_bytes())),
        Query::Alias(id) => store.with_template_by_alias(id.as_bytes(), b"prod", <[u8]>::to_vec),
        Query::ListIds => store.list_template_ids(b"", b"", 1000),
        Query::Versions(id) => store.list_template_versions(id.as_bytes()),
        Query::Aliases(id) => store.list_template_aliases(id.as_bytes()),
        Query::Range(s, reverse) => {
            all_pages(|c| store.range_messages(s.as_bytes(), &range(*reverse, c)))
        }
        Query::Message(i) => store.with_message(&msg_id(*i), <[u8]>::to_vec),
        Query::Agent(a) => all_pages(|c| {
            store.range_agent_messages(format!("agent-{a}").as_bytes(), &range(false, c))
        }),
        Query::Session(s) => store.get_session(format!("session-{s}").as_bytes()),
        Query::Sessions => all_pages(|c| store.list_sessions(c, 3)),
        Query::Stats => store.stats().map(|s| {
            [s.template_ids, s.template_versions, s.sessions, s.messages]
                .iter()
                .flat_map(|n| n.to_be_bytes())
                .collect()
        }),
    }
}

/// A read's result as the campaign compares it: 0 and the bytes, or the error kind's code.
fn encode_results(results: &[lmstore::Result<Vec<u8>>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in results {
        let (status, bytes): (u8, &[u8]) = match r {
            Ok(b) => (0, b),
            Err(e) => (kind_code(e.kind), &[]),
        };
        out.push(status);
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

fn decode_results(mut b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let status = b[0];
        let len = u32::from_le_bytes(b[1..5].try_into().unwrap()) as usize;
        out.push((status, b[5..5 + len].to_vec()));
        b = &b[5 + len..];
    }
    out
}

fn kind_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::NotFound => 1,
        ErrorKind::Corrupt => 6,
        _ => 99,
    }
}

/// In the child: open the damaged copy, run every query, compare with the sound store's
/// results, and print one line: `OUTCOME <class> <detail>`.
#[test]
fn corruption_child() {
    let Ok(dir) = std::env::var(CASE_ENV) else {
        return;
    };
    let verify = std::env::var(VERIFY_ENV).is_ok_and(|v| v == "1");
    let expected = decode_results(&std::fs::read(std::env::var(EXPECTED_ENV).unwrap()).unwrap());
    let (class, detail) = match Store::open(
        Path::new(&dir),
        OpenOptions {
            verify,
            ..Default::default()
        },
    ) {
        Err(e) => (
            match e.kind {
                ErrorKind::Corrupt => "corrupt",
                ErrorKind::NotAStore => "not-a-store",
                _ => "other",
            },
            format!("open: {:?}: {}", e.kind, e.message),
        ),
        Ok(store) => classify(&store, &expected),
    };
    println!("OUTCOME {class} {}", detail.replace('\n', " "));
    std::io::stdout().flush().unwrap();
}

fn classify(store: &Store, expected: &[(u8, Vec<u8>)]) -> (&'static str, String) {
    let mut first_corrupt = None;
    let mut first_other = None;
    for (q, (want_status, want)) in queries().iter().zip(expected) {
        let got = run(store, q);
        let wrong = match &got {
            Ok(bytes) => *want_status != 0 || bytes != want,
            // Not found where the sound store had the record is silent loss, not an error.
            Err(e) if e.kind == ErrorKind::NotFound => *want_status != 1,
            Err(_) => false,
        };
        if wrong {
            let got = match &got {
                Ok(b) => format!("{} bytes", b.len()),
                Err(e) => format!("{:?}", e.kind),
            };
            return (
                "wrong",
                format!("{q:?}: got {got}, the sound store gave status {want_status}"),
            );
        }
        match got {
            Err(e) if e.kind == ErrorKind::Corrupt => {
                first_corrupt.get_or_insert(format!("{q:?}: {}", e.message));
            }
            Err(e) if e.kind != ErrorKind::NotFound => {
                first_other.get_or_insert(format!("{q:?}: {:?}: {}", e.kind, e.message));
            }
            _ => {}
        }
    }
    match (first_corrupt, first_other) {
        (Some(d), _) => ("corrupt", d),
        (None, Some(d)) => ("other", d),
        (None, None) => ("unaffected", String::new()),
    }
}

/// A small, seedable generator (xorshift64*), so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Debug, Clone)]
enum Damage {
    Flip(Vec<(u64, u8)>),
    ZeroPage(u64),
    Truncate(u64),
    Swap(u64, u64),
    Foreign(&'static str),
}

fn plan(n: usize, file_pages: u64, file_len: u64, rng: &mut Rng) -> Vec<Damage> {
    let mut out = vec![
        Damage::Foreign("random"),
        Damage::Foreign("text"),
        Damage::Foreign("sqlite"),
        Damage::Foreign("zeros"),
    ];
    // Truncations at page boundaries: every one when the budget allows, else evenly spread.
    let truncations = (n / 4).max(1) as u64;
    let step = (file_pages / truncations).max(1);
    out.extend((0..file_pages).step_by(step as usize).map(Damage::Truncate));
    while out.len() < n {
        out.push(match rng.below(10) {
            0..=4 => Damage::Flip(
                (0..1 + rng.below(4))
                    .map(|_| (rng.below(file_len), 1 + rng.below(255) as u8))
                    .collect(),
            ),
            5..=7 => Damage::ZeroPage(rng.below(file_pages)),
            _ => Damage::Swap(2 + rng.below(file_pages - 2), 2 + rng.below(file_pages - 2)),
        });
    }
    out
}

fn apply(damage: &Damage, file: &Path, ps: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
        .unwrap();
    match damage {
        Damage::Flip(bytes) => {
            for &(at, x) in bytes {
                let mut b = [0u8];
                f.read_exact_at(&mut b, at).unwrap();
                f.write_all_at(&[b[0] ^ x], at).unwrap();
            }
        }
        Damage::ZeroPage(p) => f.write_all_at(&vec![0; ps as usize], p * ps).unwrap(),
        Damage::Truncate(p) => f.set_len(p * ps).unwrap(),
        Damage::Swap(a, b) => {
            let (mut pa, mut pb) = (vec![0; ps as usize], vec![0; ps as usize]);
            f.read_exact_at(&mut pa, a * ps).unwrap();
            f.read_exact_at(&mut pb, b * ps).unwrap();
            f.write_all_at(&pb, a * ps).unwrap();
            f.write_all_at(&pa, b * ps).unwrap();
        }
        Damage::Foreign(kind) => {
            drop(f);
            std::fs::remove_file(file).unwrap();
            match *kind {
                "random" => {
                    let mut rng = Rng(42);
                    let bytes: Vec<u8> = (0..65536).map(|_| rng.next() as u8).collect();
                    std::fs::write(file, bytes).unwrap();
                }
                "text" => std::fs::write(file, "not a database\n".repeat(500)).unwrap(),
                "zeros" => std::fs::write(file, vec![0u8; 1 << 20]).unwrap(),
                _ => {
                    let db = rusqlite::Connection::open(file).unwrap();
                    db.execute_batch(
                        "CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB);
                         INSERT INTO t VALUES ('a', zeroblob(5000)), ('b', 'x');",
                    )
                    .unwrap();
                }
            }
        }
    }
}

/// Whether any damaged byte falls on record bytes (keys and values of a table's leaves, or
/// overflow data): where the record checksums must turn damage into LMS_CORRUPT.
fn hits_records(damage: &Damage, map: &[PageUse], ps: u64) -> bool {
    let data_table = |u: &PageUse| !u.table.is_empty() && !u.table.starts_with('(');
    match damage {
        Damage::Flip(bytes) => bytes.iter().any(|&(at, _)| {
            let Some(u) = map.get((at / ps) as usize) else {
                return false;
            };
            let off = (at % ps) as usize;
            data_table(u)
                && match u.flags {
                    2 => off >= u.data_start,
                    1 => false,
                    _ => true,
                }
        }),
        // A whole page replaced: record bytes when it holds a value's overflow data (the
        // continuation pages of a run carry no header, so only a checksum can tell).
        Damage::ZeroPage(p) => overflow_data(map, *p, data_table),
        Damage::Swap(a, b) => {
            overflow_data(map, *a, data_table) || overflow_data(map, *b, data_table)
        }
        _ => false,
    }
}

fn overflow_data(map: &[PageUse], p: u64, data_table: impl Fn(&PageUse) -> bool) -> bool {
    map.get(p as usize)
        .is_some_and(|u| data_table(u) && !matches!(u.flags, 1 | 2))
}

/// A message record without the times the salvage sets anew (created_at, updated_at).
fn message_content(record: &[u8]) -> Vec<(String, rmpv::Value)> {
    let value = common::unpack(record);
    value
        .as_map()
        .unwrap()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), Some("created_at" | "updated_at")))
        .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.clone()))
        .collect()
}

/// Salvages the damaged copy (our own reader only, in this process: it must never crash) and
/// checks that every message outside the damaged pages came back, with its content.
fn check_salvage(
    sound: &[u8],
    damage: &Damage,
    pristine: &Path,
    case: &Path,
    ps: u64,
) -> Result<(), String> {
    let file = pages::data_file(case);
    std::fs::write(&file, sound).unwrap();
    let _ = std::fs::remove_file(case.join("lock.mdb"));
    apply(damage, &file, ps);
    let dest = case.join("salvaged");
    let report = lmstore::recovery::salvage(case, &dest).map_err(|e| e.to_string())?;
    // The records a damaged leaf page held are lost with it; any other page's damage (a
    // branch, an index, the free list) must cost no message.
    let sound_file = pages::data_file(pristine);
    let mut lost = std::collections::HashSet::new();
    let touched: Vec<u64> = match damage {
        Damage::ZeroPage(p) => vec![*p],
        Damage::Swap(a, b) => vec![*a, *b],
        Damage::Flip(bytes) => bytes.iter().map(|(at, _)| at / ps).collect(),
        _ => Vec::new(),
    };
    for p in touched {
        lost.extend(pages::leaf_keys(&sound_file, p).unwrap_or_default());
    }
    let got = Store::open(&dest, OpenOptions::default()).map_err(|e| e.to_string())?;
    let want = Store::open(
        pristine,
        OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    for i in 0..MESSAGES {
        let Ok(record) = want.with_message(&msg_id(i), <[u8]>::to_vec) else {
            continue; // deleted before the damage
        };
        let value = common::unpack(&record);
        let session = common::get(&value, "session_id")
            .as_str()
            .unwrap()
            .to_string();
        let ts = common::get(&value, "ts").as_i64().unwrap();
        let mut key = vec![session.len() as u8];
        key.extend_from_slice(session.as_bytes());
        key.extend_from_slice(&(ts as u64).to_be_bytes());
        key.extend_from_slice(&msg_id(i));
        if lost.contains(&key) {
            continue;
        }
        match got.with_message(&msg_id(i), <[u8]>::to_vec) {
            Ok(r) if message_content(&r) == message_content(&record) => {}
            Ok(_) => return Err(format!("message {i} came back different ({report:?})")),
            Err(e) => {
                return Err(format!(
                    "message {i} outside the damaged pages was not recovered: {e} (recovered {}, lost {:?})",
                    report.messages,
                    report.lost.first()
                ))
            }
        }
    }
    Ok(())
}

#[derive(Default)]
struct Tally {
    counts: std::collections::BTreeMap<String, u64>,
    examples: Vec<String>,
}

impl Tally {
    fn add(&mut self, class: &str, example: String) {
        *self.counts.entry(class.to_string()).or_default() += 1;
        // A few examples of each bad outcome.
        let seen = self.counts[class];
        if matches!(
            class,
            "crash" | "hang" | "wrong (structure hit)" | "wrong (record bytes hit)"
        ) && seen <= 4
        {
            self.examples.push(format!("[{class}] {example}"));
        }
    }
    fn get(&self, class: &str) -> u64 {
        self.counts.get(class).copied().unwrap_or(0)
    }
}

fn run_child(case: &Path, expected: &Path, verify: bool) -> (String, String) {
    let mut cmd = common::child_test("corruption_child", CASE_ENV, case);
    cmd.env(VERIFY_ENV, if verify { "1" } else { "0" })
        .env(EXPECTED_ENV, expected)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let output = child.wait_with_output().ok();
    let out = String::from_utf8_lossy(output.as_ref().map_or(&[][..], |o| &o.stdout));
    let err = String::from_utf8_lossy(output.as_ref().map_or(&[][..], |o| &o.stderr));
    let last_words = err.lines().last().unwrap_or_default().to_string();
    let Some(status) = status else {
        return ("hang".into(), format!("no answer in {TIMEOUT:?}"));
    };
    if let Some(line) = out
        .lines()
        .find_map(|l| l.split_once("OUTCOME ").map(|(_, rest)| rest))
    {
        let (class, detail) = line.split_once(' ').unwrap_or((line, ""));
        return (class.to_string(), detail.to_string());
    }
    match status.signal() {
        Some(sig) => (
            "crash".into(),
            format!("killed by signal {sig}: {last_words}"),
        ),
        None => (
            "crash".into(),
            format!("exited with {status} without an outcome: {}", out.trim()),
        ),
    }
}

#[test]
fn corruption_campaign() {
    if std::env::var(CASE_ENV).is_ok() {
        return;
    }
    let n: usize = std::env::var("LMSTORE_CORRUPTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let seed: u64 = std::env::var("LMSTORE_CORRUPTION_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_1234_abcd_0001);
    let work = tempfile::tempdir().unwrap();
    let pristine = work.path().join("pristine");
    populate(&pristine);
    let expected = work.path().join("expected.bin");
    {
        let store = Store::open(&pristine, OpenOptions::default()).unwrap();
        let results: Vec<_> = queries().iter().map(|q| run(&store, q)).collect();
        assert!(results
            .iter()
            .all(|r| !matches!(r, Err(e) if e.kind != ErrorKind::NotFound)));
        std::fs::write(&expected, encode_results(&results)).unwrap();
    }
    let data = pages::data_file(&pristine);
    let sound = std::fs::read(&data).unwrap();
    let map = pages::page_map(&data).unwrap();
    let ps = pages::Metas::read(&data)
        .unwrap()
        .current()
        .0
        .unwrap()
        .page_size as u64;
    let file_pages = sound.len() as u64 / ps;
    let mut rng = Rng(seed);
    let cases = plan(n, file_pages, sound.len() as u64, &mut rng);
    let (mut with_verify, mut without) = (Tally::default(), Tally::default());
    let started = Instant::now();
    let (mut salvaged, mut salvage_failures) = (0, Vec::new());
    // LMSTORE_CORRUPTION_ONLY=I reruns one case of a campaign (same N and seed) to debug it.
    let only: Option<usize> = std::env::var("LMSTORE_CORRUPTION_ONLY")
        .ok()
        .and_then(|v| v.parse().ok());
    for (i, damage) in cases.iter().enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let case: PathBuf = work.path().join(format!("case-{i}"));
        std::fs::create_dir_all(&case).unwrap();
        let file = pages::data_file(&case);
        let record_hit = hits_records(damage, &map, ps);
        for (verify, tally) in [(true, &mut with_verify), (false, &mut without)] {
            std::fs::write(&file, &sound).unwrap();
            let _ = std::fs::remove_file(case.join("lock.mdb"));
            apply(damage, &file, ps);
            let (mut class, detail) = run_child(&case, &expected, verify);
            if class == "wrong" {
                class = if record_hit {
                    "wrong (record bytes hit)".into()
                } else {
                    "wrong (structure hit)".into()
                };
            }
            tally.add(&class, format!("case {i} {damage:?}: {detail}"));
        }
        // Salvage every second damaged copy (all with LMSTORE_CORRUPTIONS set by hand).
        let sample = std::env::var("LMSTORE_CORRUPTIONS").is_ok() || i % 2 == 0;
        if let (true, Damage::ZeroPage(_) | Damage::Swap(..) | Damage::Flip(_)) = (sample, damage) {
            salvaged += 1;
            if let Err(e) = check_salvage(&sound, damage, &pristine, &case, ps) {
                salvage_failures.push(format!("case {i} {damage:?}: {e}"));
            }
        }
        std::fs::remove_dir_all(&case).unwrap();
    }
    let checksums = lmstore::meta::SCHEMA_VERSION >= 2;
    for (name, t) in [
        ("with LMS_OPEN_VERIFY", &with_verify),
        ("without", &without),
    ] {
        println!(
            "corruption campaign, {} cases {name}: {:?}",
            cases.len(),
            t.counts
        );
        for e in &t.examples {
            println!("  {e}");
        }
    }
    println!(
        "({} pages of {ps} bytes, seed {seed}, {:.1} s; record checksums: {checksums})",
        file_pages,
        started.elapsed().as_secs_f64()
    );
    println!(
        "salvage: {salvaged} damaged copies, {} lost a message outside the damaged pages",
        salvage_failures.len()
    );
    for f in &salvage_failures {
        println!("  {f}");
    }
    assert_eq!(
        with_verify.get("crash"),
        0,
        "crashes with the verifying open"
    );
    assert_eq!(with_verify.get("hang"), 0, "hangs with the verifying open");
    assert!(salvage_failures.is_empty(), "salvage lost intact messages");
    if checksums {
        assert_eq!(
            with_verify.get("wrong (record bytes hit)"),
            0,
            "silently wrong records where record bytes were hit"
        );
    }
}
