//! A cursor belongs to its query: used on another session or agent it is LMS_BAD_CURSOR,
//! never a silent resume from a foreign position.

mod common;
use common::*;
use lmstore::conversations::{NewMessage, RangeQuery};
use lmstore::ErrorKind;

fn msg(session: &str, agent: &str, n: u32) -> NewMessage {
    NewMessage::new(
        session.as_bytes(),
        None,
        None,
        b"assistant",
        Some(agent.as_bytes()),
        n.to_string().as_bytes(),
        None,
        &[],
    )
    .unwrap()
}

fn page(limit: u32, reverse: bool, cursor: Option<&[u8]>) -> RangeQuery<'_> {
    RangeQuery {
        limit,
        reverse,
        cursor,
        ..Default::default()
    }
}

#[test]
fn a_cursor_used_on_another_session_or_agent_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    for n in 0..4 {
        s.append_messages(vec![msg("s1", "a1", n), msg("s2", "a2", n)])
            .unwrap();
    }
    for reverse in [false, true] {
        let first = s.range_messages(b"s1", &page(2, reverse, None)).unwrap();
        let c = first.next.expect("a full page has a cursor");
        let e = s
            .range_messages(b"s2", &page(2, reverse, Some(&c)))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadCursor, "{}", e.message);
        assert_eq!(e.message, "the cursor belongs to another session's listing");
        // The right session resumes where it left off.
        let second = s
            .range_messages(b"s1", &page(2, reverse, Some(&c)))
            .unwrap();
        assert_eq!(second.count, 2);

        let first = s
            .range_agent_messages(b"a1", &page(2, reverse, None))
            .unwrap();
        let c = first.next.expect("a full page has a cursor");
        let e = s
            .range_agent_messages(b"a2", &page(2, reverse, Some(&c)))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadCursor, "{}", e.message);
        assert_eq!(e.message, "the cursor belongs to another agent's listing");
        let second = s
            .range_agent_messages(b"a1", &page(2, reverse, Some(&c)))
            .unwrap();
        assert_eq!(second.count, 2);
    }
    // A cursor of the previous format (no scope hash) is refused with a word on why.
    let first = s.range_messages(b"s1", &page(2, false, None)).unwrap();
    let mut old = first.next.unwrap();
    old.drain(3..7);
    old[0] = 1;
    let e = s
        .range_messages(b"s1", &page(2, false, Some(&old)))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadCursor);
    assert!(e.message.contains("unknown cursor format"), "{}", e.message);
}
