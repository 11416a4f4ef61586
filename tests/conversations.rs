mod common;
use common::*;
use lmstore::conversations::{NewMessage, RangeQuery};
use lmstore::ErrorKind;
use rmpv::Value;

fn msg(session: &str, ts: Option<i64>, role: &str, content: &str) -> NewMessage {
    NewMessage::new(
        session.as_bytes(),
        None,
        ts,
        role.as_bytes(),
        None,
        content.as_bytes(),
        None,
        &[],
    )
    .unwrap()
}

fn contents(page: &[u8]) -> Vec<String> {
    unpack(page)
        .as_array()
        .unwrap()
        .iter()
        .map(|m| get(m, "content").as_str().unwrap().to_owned())
        .collect()
}

fn q(limit: u32, reverse: bool) -> RangeQuery<'static> {
    RangeQuery {
        limit,
        reverse,
        ..Default::default()
    }
}

#[test]
fn append_assigns_strictly_increasing_times_and_ranges_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let batch: Vec<_> = (0..5)
        .map(|i| msg("s1", None, "user", &format!("m{i}")))
        .collect();
    let res = s.append_messages(batch).unwrap();
    for w in res.windows(2) {
        assert!(w[1].ts > w[0].ts, "assigned ts must strictly increase");
    }
    // a message with a future explicit ts, then an assigned one: the assigned one is not below it
    let future = res[4].ts + 10_000_000;
    s.append_messages(vec![msg("s1", Some(future), "user", "future")])
        .unwrap();
    let after = s
        .append_messages(vec![msg("s1", None, "assistant", "after")])
        .unwrap();
    assert!(after[0].ts > future);
    let page = s.range_messages(b"s1", &q(100, false)).unwrap();
    assert_eq!(
        contents(page.bytes()),
        ["m0", "m1", "m2", "m3", "m4", "future", "after"]
    );
    assert!(page.next.is_none());
    let latest = s.range_messages(b"s1", &q(3, true)).unwrap();
    assert_eq!(contents(latest.bytes()), ["after", "future", "m4"]);
    assert!(latest.next.is_some());
    let empty = s.range_messages(b"nobody", &q(10, false)).unwrap();
    assert_eq!((empty.count, empty.bytes()), (0, &[0x90u8][..]));
    let st = s.stats().unwrap();
    assert_eq!((st.sessions, st.messages), (1, 7));
}

#[test]
fn cursor_resumes_exactly_across_equal_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let batch: Vec<_> = (0..25)
        .map(|i| {
            msg(
                "tie",
                Some(1_000 + (i / 10) as i64),
                "user",
                &format!("{i:02}"),
            )
        })
        .collect();
    s.append_messages(batch).unwrap();
    for reverse in [false, true] {
        let mut seen = Vec::new();
        let mut cursor: Option<Vec<u8>> = None;
        loop {
            let query = RangeQuery {
                limit: 4,
                reverse,
                cursor: cursor.as_deref(),
                ..Default::default()
            };
            let page = s.range_messages(b"tie", &query).unwrap();
            seen.extend(contents(page.bytes()));
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25, "reverse={reverse}");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 25, "no message twice (reverse={reverse})");
    }
    // a time window: [1001, 1002) holds exactly the ten messages with ts 1001
    let w = RangeQuery {
        start: Some(1001),
        end: Some(1002),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(s.range_messages(b"tie", &w).unwrap().count, 10);
    let w = RangeQuery {
        end: Some(1002),
        limit: 5,
        reverse: true,
        ..Default::default()
    };
    let before = contents(s.range_messages(b"tie", &w).unwrap().bytes());
    assert_eq!(before, ["19", "18", "17", "16", "15"]);
}

#[test]
fn duplicates_are_reported_and_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let id = [7u8; 16];
    let m = NewMessage::new(b"s", Some(&id), None, b"user", None, b"hello", None, &[]).unwrap();
    let first = s.append_messages(vec![m.clone()]).unwrap();
    assert!(!first[0].duplicate);
    let again = s.append_messages(vec![m]).unwrap();
    assert!(again[0].duplicate);
    assert_eq!(again[0].ts, first[0].ts);
    assert_eq!(s.stats().unwrap().messages, 1);
}

#[test]
fn get_update_delete_trim_and_agent_index() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let meta = pack(&map(&[("tokens", 12.into())]));
    let mut batch = Vec::new();
    for i in 0..10 {
        let agent: Option<&[u8]> = if i % 2 == 0 { Some(b"bot") } else { None };
        batch.push(
            NewMessage::new(
                b"s",
                None,
                None,
                b"assistant",
                agent,
                format!("c{i}").as_bytes(),
                None,
                &meta,
            )
            .unwrap(),
        );
    }
    // far in the future, so it sorts after every assigned timestamp in the agent's range
    let later = lmstore::codec::now_micros() + 3_600_000_000;
    batch.push(
        NewMessage::new(
            b"other",
            None,
            Some(later),
            b"assistant",
            Some(b"bot"),
            b"elsewhere",
            None,
            &[],
        )
        .unwrap(),
    );
    let res = s.append_messages(batch).unwrap();
    let rec = unpack(&s.with_message(&res[3].id, |r| r.to_vec()).unwrap());
    assert_eq!(get(&rec, "content").as_str(), Some("c3"));
    assert_eq!(get(get(&rec, "metadata"), "tokens").as_i64(), Some(12));
    s.update_message(&res[3].id, Some(b"edited"), None).unwrap();
    let page = s.range_messages(b"s", &q(100, false)).unwrap();
    assert_eq!(
        contents(page.bytes())[3],
        "edited",
        "an update keeps the message's place"
    );
    let agent = s.range_agent_messages(b"bot", &q(100, false)).unwrap();
    assert_eq!(
        contents(agent.bytes()),
        ["c0", "c2", "c4", "c6", "c8", "elsewhere"]
    );
    s.delete_message(&res[0].id).unwrap();
    assert_eq!(
        s.with_message(&res[0].id, |_| ()).unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        s.range_agent_messages(b"bot", &q(100, false))
            .unwrap()
            .count,
        5
    );
    assert_eq!(s.trim_session_to_count(b"s", 4).unwrap(), 5);
    assert_eq!(
        contents(s.range_messages(b"s", &q(100, false)).unwrap().bytes()),
        ["c6", "c7", "c8", "c9"]
    );
    assert_eq!(s.trim_session_before(b"s", res[8].ts).unwrap(), 2);
    assert_eq!(
        s.range_agent_messages(b"bot", &q(100, false))
            .unwrap()
            .count,
        2
    );
    let session = unpack(&s.get_session(b"s").unwrap());
    assert_eq!(get(&session, "message_count").as_u64(), Some(2));
    assert_eq!(s.stats().unwrap().messages, 3);
    assert_eq!(s.delete_session(b"s").unwrap(), 2);
    assert_eq!(s.get_session(b"s").unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(
        s.range_agent_messages(b"bot", &q(100, false))
            .unwrap()
            .count,
        1
    );
    let st = s.stats().unwrap();
    assert_eq!((st.sessions, st.messages), (1, 1));
}

#[test]
fn sessions_list_by_recent_activity_with_paging() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.create_session(
        b"explicit",
        Some(b"Title"),
        &pack(&map(&[("k", "v".into())])),
    )
    .unwrap();
    assert_eq!(
        s.create_session(b"explicit", None, &[]).unwrap_err().kind,
        ErrorKind::Conflict
    );
    for name in ["a", "b", "c"] {
        std::thread::sleep(std::time::Duration::from_millis(2));
        s.append_messages(vec![msg(name, None, "user", "x")])
            .unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(2));
    s.append_messages(vec![msg("a", None, "user", "again")])
        .unwrap();
    let ids = |data: &[u8]| -> Vec<String> {
        unpack(data)
            .as_array()
            .unwrap()
            .iter()
            .map(|m| get(m, "session_id").as_str().unwrap().to_owned())
            .collect()
    };
    let p1 = s.list_sessions(None, 2).unwrap();
    assert_eq!(ids(p1.bytes()), ["a", "c"]);
    let p2 = s.list_sessions(p1.next.as_deref(), 2).unwrap();
    assert_eq!(ids(p2.bytes()), ["b", "explicit"]);
    assert!(p2.next.is_none());
    s.update_session(b"explicit", Some(b"New"), None).unwrap();
    let e = unpack(&s.get_session(b"explicit").unwrap());
    assert_eq!(get(&e, "title").as_str(), Some("New"));
    assert_eq!(get(get(&e, "metadata"), "k").as_str(), Some("v"));
}

#[test]
fn bad_input_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.append_messages(vec![msg("s", None, "user", "keep")])
        .unwrap();
    let e = NewMessage::new(b"s", None, None, b"user", None, &[0xff, 0xfe], None, &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidUtf8);
    assert!(
        e.message.contains("content is not valid UTF-8"),
        "{}",
        e.message
    );
    let e = NewMessage::new(
        b"s",
        None,
        None,
        b"user",
        None,
        b"x",
        None,
        &pack(&Value::from(3)),
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadMsgpack);
    assert!(
        e.message.contains("must be a MessagePack map"),
        "{}",
        e.message
    );
    let e =
        NewMessage::new(b"s", None, None, b"user", None, b"x", Some(&[1, 2, 3]), &[]).unwrap_err();
    assert!(
        e.message.contains("in_reply_to must be 16 bytes"),
        "{}",
        e.message
    );
    let e = s.range_messages(b"s", &q(0, false)).unwrap_err();
    assert!(
        e.message.contains("limit must be between 1 and 10000"),
        "{}",
        e.message
    );
    assert_eq!(
        s.range_messages(b"s", &q(10_001, false)).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    let bad = RangeQuery {
        limit: 5,
        cursor: Some(b"garbage"),
        ..Default::default()
    };
    assert_eq!(
        s.range_messages(b"s", &bad).unwrap_err().kind,
        ErrorKind::BadCursor
    );
    // a cursor from a forward range used backward is refused
    let batch: Vec<_> = (0..3)
        .map(|i| msg("s", None, "user", &i.to_string()))
        .collect();
    s.append_messages(batch).unwrap();
    let fwd = s.range_messages(b"s", &q(1, false)).unwrap().next.unwrap();
    let wrong = RangeQuery {
        limit: 1,
        reverse: true,
        cursor: Some(&fwd),
        ..Default::default()
    };
    let e = s.range_messages(b"s", &wrong).unwrap_err();
    assert!(e.message.contains("opposite direction"), "{}", e.message);
    let long = "s".repeat(300);
    let e =
        NewMessage::new(long.as_bytes(), None, None, b"user", None, b"x", None, &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::KeyTooLong);
    assert_eq!(s.stats().unwrap().messages, 4);
    // one bad message in a batch stores none of it
    let batch = vec![
        msg("s", None, "user", "ok"),
        msg("s", Some(5), "user", "fine"),
    ];
    let dup_id = s.append_messages(batch).unwrap()[0].id;
    assert_eq!(s.stats().unwrap().messages, 6);
    let _ = dup_id;
}

#[test]
fn batch_from_msgpack_validates_each_message() {
    let good = Value::Array(vec![map(&[
        ("session_id", "s".into()),
        ("role", "user".into()),
        ("content", "hi".into()),
    ])]);
    assert_eq!(
        NewMessage::batch_from_msgpack(&pack(&good)).unwrap().len(),
        1
    );
    let bad = Value::Array(vec![
        map(&[
            ("session_id", "s".into()),
            ("role", "user".into()),
            ("content", "hi".into()),
        ]),
        map(&[("session_id", "s".into()), ("content", "no role".into())]),
    ]);
    let e = NewMessage::batch_from_msgpack(&pack(&bad)).unwrap_err();
    assert!(
        e.message.starts_with("message 1: role is missing"),
        "{}",
        e.message
    );
    let e = NewMessage::batch_from_msgpack(&pack(&map(&[]))).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadMsgpack);
}

#[test]
fn metadata_validation_walks_every_shape() {
    use lmstore::codec::validate_map;
    let nested = map(&[
        (
            "parts",
            Value::Array(vec![
                map(&[("type", "text".into()), ("n", 1.5.into())]),
                Value::Binary(vec![1, 2, 3]),
            ]),
        ),
        ("big", Value::from(u64::MAX)),
        ("neg", Value::from(-70000i64)),
        ("ext", Value::Ext(5, vec![9; 20])),
        ("nil", Value::Nil),
        ("long", "y".repeat(70000).into()),
    ]);
    validate_map(&pack(&nested), "m").unwrap();
    let wide = Value::Map(
        (0..70000)
            .map(|i| (Value::from(format!("k{i}")), Value::from(i)))
            .collect(),
    );
    validate_map(&pack(&wide), "m").unwrap();
    for (bytes, words) in [
        (pack(&Value::from(1)), "must be a MessagePack map"),
        (vec![0x81, 0x01, 0x02], "key that is not a string"),
        (vec![0x81, 0xa1, b'k'], "truncated"),
        (vec![0x81, 0xa1, 0xff, 0x01], "not valid UTF-8"),
        (vec![0x80, 0x00], "trailing bytes"),
        (vec![0x81, 0xa1, b'k', 0xc1], "reserved marker"),
        (
            vec![0x81, 0xa1, b'k', 0xdd, 0xff, 0xff, 0xff, 0xff],
            "truncated container",
        ),
    ] {
        let e = validate_map(&bytes, "metadata").unwrap_err();
        assert!(e.message.contains(words), "{bytes:?}: {}", e.message);
    }
    let mut deep = vec![0x81, 0xa1, b'k'];
    deep.extend(std::iter::repeat_n(0x91, 100));
    deep.push(0xc0);
    assert!(validate_map(&deep, "m")
        .unwrap_err()
        .message
        .contains("nested deeper"));
}

#[test]
fn an_empty_title_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.create_session(b"t", Some(b"First"), &[]).unwrap();
    s.update_session(b"t", Some(b""), None).unwrap();
    assert_eq!(
        get(&unpack(&s.get_session(b"t").unwrap()), "title"),
        &Value::Nil
    );
}

#[test]
fn timestamps_past_year_9999_are_refused() {
    let e =
        NewMessage::new(b"s", None, Some(i64::MAX), b"user", None, b"x", None, &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("end of year 9999"), "{}", e.message);
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let last = lmstore::conversations::record::MAX_TS;
    s.append_messages(vec![msg("s", Some(last), "user", "last")])
        .unwrap();
    let next = s
        .append_messages(vec![msg("s", None, "user", "after")])
        .unwrap();
    assert!(next[0].ts > last, "assigned time stays above the last one");
}
