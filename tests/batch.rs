//! Store::write_batch: call order, one transaction, failures isolated per operation, also when
//! so many fail that the successful prefix is committed early instead of rerun.

mod common;

use common::*;
use lmstore::{ErrorKind, WriteOp, WriteOutcome};
use rmpv::Value;

fn append_op(session: &str, content: &str) -> Vec<u8> {
    let msg = map(&[
        ("session_id", Value::from(session)),
        ("role", Value::from("user")),
        ("content", Value::from(content)),
    ]);
    pack(&Value::Array(vec![
        Value::from("append"),
        Value::Binary(pack(&Value::Array(vec![msg]))),
    ]))
}

fn delete_missing() -> Vec<u8> {
    pack(&Value::Array(vec![
        Value::from("delete_message"),
        Value::Binary(vec![7; 16]),
    ]))
}

fn batch(ops: &[Vec<u8>]) -> Vec<u8> {
    let items = ops.iter().map(|o| unpack(o)).collect();
    pack(&Value::Array(items))
}

#[test]
fn failures_are_isolated_and_order_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    // 400 operations, every other one failing: far more reruns than the batch's size, so the
    // successful prefix gets committed early at least once.
    let mut ops = Vec::new();
    for i in 0..200 {
        ops.push(append_op("s", &format!("m{i}")));
        ops.push(delete_missing());
    }
    let parsed = WriteOp::parse_batch(&batch(&ops)).unwrap();
    let results = store.write_batch(parsed);
    assert_eq!(results.len(), 400);
    for (i, r) in results.iter().enumerate() {
        if i % 2 == 0 {
            assert!(
                matches!(r, Ok(WriteOutcome::Appended(a)) if a.len() == 1),
                "op {i}: {r:?}"
            );
        } else {
            let e = r.as_ref().unwrap_err();
            assert_eq!(e.kind, ErrorKind::NotFound, "op {i}: {e:?}");
        }
    }
    let contents: Vec<String> = all_messages(&store, "s", 1000, false)
        .iter()
        .map(|m| get(m, "content").as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    assert_eq!(contents, expected);
    assert_eq!(store.stats().unwrap().messages, 200);
}

#[test]
fn malformed_operations_fail_alone_with_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_no_sync(&dir);
    let ops = vec![
        append_op("s", "a"),
        pack(&Value::from(3)),
        pack(&Value::Array(vec![
            Value::from("trim_session"),
            Value::from("s"),
        ])),
        append_op("s", "b"),
    ];
    let parsed = WriteOp::parse_batch(&batch(&ops)).unwrap();
    let results = store.write_batch(parsed);
    let e1 = results[1].as_ref().unwrap_err();
    assert_eq!(e1.kind, ErrorKind::BadMsgpack);
    assert!(e1.message.starts_with("operation 1: "), "{}", e1.message);
    let e2 = results[2].as_ref().unwrap_err();
    assert_eq!(e2.kind, ErrorKind::InvalidArgument);
    assert!(
        e2.message.contains("trim_session: keep is missing"),
        "{}",
        e2.message
    );
    assert!(results[0].is_ok() && results[3].is_ok());
    assert_eq!(store.stats().unwrap().messages, 2);
    let not_array = WriteOp::parse_batch(&pack(&Value::from("x"))).unwrap_err();
    assert_eq!(not_array.kind, ErrorKind::BadMsgpack);
}
