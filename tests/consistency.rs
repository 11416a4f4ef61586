//! Store::consistency_report (and lms_verify behind it) names every kind of damage. The damage is
//! made behind the library's back through the storage layer, as a crash or a bug would leave it.

use lmstore::conversations::NewMessage;
use lmstore::lmdb::{Env, OpenOptions};
use lmstore::storage::{ReadTxn, Start, Table, WriteTxn};
use lmstore::templates::TemplateSpec;
use lmstore::Store;

fn sample(dir: &std::path::Path) -> Store {
    let store = Store::open(dir, OpenOptions::default()).unwrap();
    for v in ["1.0.0", "1.1.0"] {
        let spec =
            TemplateSpec::from_parts("greet", Some(v), "Hi {{ n }}", None, &[], &[]).unwrap();
        store.put_template(&spec, false).unwrap();
    }
    store
        .set_template_alias(b"greet", b"prod", b"1.0.0")
        .unwrap();
    let msgs = (0..3)
        .map(|i| {
            NewMessage::new(
                b"s1",
                None,
                None,
                b"user",
                Some(b"bot"),
                format!("m{i}").as_bytes(),
                None,
                &[],
            )
            .unwrap()
        })
        .collect();
    store.append_messages(msgs).unwrap();
    store
}

fn first_key(env: &Env, table: Table) -> Vec<u8> {
    env.read(|txn| {
        let mut key = Vec::new();
        txn.scan(table, Start::Edge, false, &mut |k, _| {
            key = k.to_vec();
            Ok(false)
        })?;
        Ok(key)
    })
    .unwrap()
}

#[test]
fn a_consistent_store_reports_its_counts_and_no_problems() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample(dir.path());
    let r = store.consistency_report().unwrap();
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!(
        (r.messages, r.template_ids, r.template_versions, r.aliases),
        (3, 1, 2, 1)
    );
}

#[test]
fn every_kind_of_damage_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample(dir.path());
    let env = Env::open(dir.path(), OpenOptions::default()).unwrap();
    // A message loses its id index entry; an alias points nowhere; a version loses its
    // put-order entry; the template counter drifts.
    let id_key = first_key(&env, Table::MessageIds);
    let seq_key = first_key(&env, Table::TplSeq);
    env.write(|txn| {
        txn.del(Table::MessageIds, &id_key)?;
        txn.put(Table::TplAliases, b"greet\0staging", b"9.9.9")?;
        txn.del(Table::TplSeq, &seq_key)?;
        txn.put(Table::Meta, b"count.template_versions", &7u64.to_be_bytes())
    })
    .unwrap();
    let r = store.consistency_report().unwrap();
    let all = r.problems.join("\n");
    assert!(!r.ok());
    for words in [
        "has no matching id index entry",
        "alias 'staging' of template 'greet' points at version '9.9.9', which does not exist",
        "template 'greet' has 1 put-order entries for 2 versions",
        "counters say 1 template ids and 7 versions; the tables hold 1 and 2",
    ] {
        assert!(all.contains(words), "missing '{words}' in:\n{all}");
    }
}

#[test]
fn env_stat_lists_tables_the_free_list_and_live_readers() {
    let dir = tempfile::tempdir().unwrap();
    let store = sample(dir.path());
    store.delete_template(b"greet", Some(b"1.0.0")).unwrap(); // frees pages
    let s = store.env_stat(true).unwrap();
    assert_eq!(s.tables.len(), 10);
    let messages = s.tables.iter().find(|t| t.name == "messages").unwrap();
    assert_eq!(messages.entries, 3);
    assert!(messages.payload_bytes > 0 && messages.fill.is_some_and(|f| f > 0.0 && f <= 1.0));
    assert_eq!(s.main.entries, 10, "the main database names the ten tables");
    assert!(s.free_pages > 0, "a delete leaves free pages");
    assert!(s.pages_used > 0 && s.page_size >= 4096 && s.last_txn_id > 0);
    let me = std::process::id() as i32;
    assert!(
        s.readers.iter().any(|r| r.pid == me && r.alive),
        "{:?}",
        s.readers
    );
    let before = store.last_txn_id().unwrap();
    store.set_template_alias(b"greet", b"x", b"1.1.0").unwrap();
    assert_eq!(store.last_txn_id().unwrap(), before + 1);
    assert_eq!(store.clear_stale_readers().unwrap(), 0);
}
