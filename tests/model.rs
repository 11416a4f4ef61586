//! Random operation sequences checked against a simple in-memory model: what the store says
//! must always equal what the model says, and every index must stay consistent.

mod common;
use common::{all_messages, get, map, open_no_sync, pack, unpack};
use lmstore::conversations::{NewMessage, RangeQuery};
use lmstore::templates::{normalize_spec, PutOutcome};
use lmstore::ErrorKind;
use std::collections::BTreeMap;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Default)]
struct TemplateModel {
    /// id -> versions in put order, with their text
    ids: BTreeMap<String, Vec<(String, String)>>,
}

#[test]
fn templates_match_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    let mut m = TemplateModel::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for step in 0..3000 {
        let id = format!("t{}", rng.below(12));
        let version = format!("{}.0", rng.below(5));
        let text = format!("text {}", rng.below(3));
        match rng.below(10) {
            0..=5 => {
                let spec = normalize_spec(&pack(&map(&[
                    ("id", id.as_str().into()),
                    ("version", version.as_str().into()),
                    ("template", text.as_str().into()),
                ])))
                .unwrap();
                let replace = rng.below(4) == 0;
                let versions = m.ids.entry(id.clone()).or_default();
                let existing = versions.iter().position(|(v, _)| *v == version);
                let got = s.put_template(&spec, replace);
                match existing {
                    None => {
                        assert_eq!(got.unwrap(), PutOutcome::Created, "step {step}");
                        versions.push((version, text));
                    }
                    Some(i) if versions[i].1 == text => {
                        assert_eq!(got.unwrap(), PutOutcome::Unchanged, "step {step}")
                    }
                    Some(i) if replace => {
                        assert_eq!(got.unwrap(), PutOutcome::Replaced, "step {step}");
                        versions.remove(i);
                        versions.push((version, text));
                    }
                    Some(_) => {
                        assert_eq!(got.unwrap_err().kind, ErrorKind::Conflict, "step {step}")
                    }
                }
                if versions.is_empty() {
                    m.ids.remove(&id);
                }
            }
            6 | 7 => {
                let got = s.delete_template(id.as_bytes(), Some(version.as_bytes()));
                match m
                    .ids
                    .get_mut(&id)
                    .and_then(|vs| vs.iter().position(|(v, _)| *v == version).map(|i| (vs, i)))
                {
                    Some((vs, i)) => {
                        got.unwrap();
                        vs.remove(i);
                        if vs.is_empty() {
                            m.ids.remove(&id);
                        }
                    }
                    None => assert_eq!(got.unwrap_err().kind, ErrorKind::NotFound, "step {step}"),
                }
            }
            8 => {
                let got = s.delete_template(id.as_bytes(), None);
                match m.ids.remove(&id) {
                    Some(_) => got.unwrap(),
                    None => assert_eq!(got.unwrap_err().kind, ErrorKind::NotFound),
                }
            }
            _ => {
                let got = s.get_template(id.as_bytes(), None);
                match m.ids.get(&id).and_then(|vs| vs.last()) {
                    Some((v, t)) => {
                        let rec = unpack(&got.unwrap());
                        assert_eq!(
                            get(&rec, "version").as_str(),
                            Some(v.as_str()),
                            "step {step}"
                        );
                        assert_eq!(
                            get(&rec, "template").as_str(),
                            Some(t.as_str()),
                            "step {step}"
                        );
                    }
                    None => assert_eq!(got.unwrap_err().kind, ErrorKind::NotFound),
                }
            }
        }
        let st = s.stats().unwrap();
        let versions: usize = m.ids.values().map(Vec::len).sum();
        assert_eq!(
            (st.template_ids as usize, st.template_versions as usize),
            (m.ids.len(), versions),
            "step {step}"
        );
    }
    let listed = unpack(&s.list_template_ids(b"", b"", 100).unwrap());
    let model_ids: Vec<rmpv::Value> = m.ids.keys().map(|k| k.as_str().into()).collect();
    assert_eq!(listed, rmpv::Value::Array(model_ids));
    for (id, versions) in &m.ids {
        let listed = unpack(&s.list_template_versions(id.as_bytes()).unwrap());
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|v| get(v, "version").as_str().unwrap())
            .collect();
        let model: Vec<&str> = versions.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(names, model, "put order of {id}");
    }
}

#[test]
fn messages_match_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_no_sync(&dir);
    // session -> (ts, id, content), kept sorted by (ts, id)
    let mut model: BTreeMap<String, Vec<(i64, [u8; 16], String)>> = BTreeMap::new();
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for step in 0..1500 {
        let session = format!("s{}", rng.below(4));
        match rng.below(10) {
            0..=5 => {
                let n = 1 + rng.below(4);
                let batch: Vec<_> = (0..n)
                    .map(|i| {
                        let ts = if rng.below(3) == 0 {
                            Some(1 + rng.below(50) as i64)
                        } else {
                            None
                        };
                        let content = format!("{step}.{i}");
                        NewMessage::new(
                            session.as_bytes(),
                            None,
                            ts,
                            b"user",
                            Some(b"agent"),
                            content.as_bytes(),
                            None,
                            &[],
                        )
                        .unwrap()
                    })
                    .collect();
                let contents: Vec<String> = batch.iter().map(|m| m.content.clone()).collect();
                let res = s.append_messages(batch).unwrap();
                let entries = model.entry(session.clone()).or_default();
                for (r, c) in res.iter().zip(contents) {
                    entries.push((r.ts, r.id, c));
                }
                entries.sort();
            }
            6 => {
                let keep = rng.below(6);
                let deleted = s.trim_session_to_count(session.as_bytes(), keep);
                let entries = model.entry(session.clone()).or_default();
                let expected = entries.len().saturating_sub(keep as usize);
                if entries.is_empty() {
                    assert!(matches!(deleted, Ok(0)), "step {step}");
                } else {
                    assert_eq!(deleted.unwrap() as usize, expected, "step {step}");
                }
                entries.drain(..expected);
            }
            7 => {
                let entries = model.entry(session.clone()).or_default();
                if !entries.is_empty() {
                    let i = rng.below(entries.len() as u64) as usize;
                    let (_, id, _) = entries.remove(i);
                    s.delete_message(&id).unwrap();
                }
            }
            _ => {
                let limit = 1 + rng.below(7) as u32;
                let reverse = rng.below(2) == 0;
                let got: Vec<String> = all_messages(&s, &session, limit, reverse)
                    .iter()
                    .map(|m| get(m, "content").as_str().unwrap().to_owned())
                    .collect();
                let mut want: Vec<String> = model
                    .get(&session)
                    .map(|e| e.iter().map(|(_, _, c)| c.clone()).collect())
                    .unwrap_or_default();
                if reverse {
                    want.reverse();
                }
                assert_eq!(
                    got, want,
                    "step {step}: {session} limit {limit} reverse {reverse}"
                );
            }
        }
    }
    let total: usize = model.values().map(Vec::len).sum();
    assert_eq!(s.verify().unwrap() as usize, total);
    let agent = s
        .range_agent_messages(
            b"agent",
            &RangeQuery {
                limit: 10_000,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(agent.count as usize, total);
}
