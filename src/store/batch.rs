//! Several write operations run in call order, consecutive transactional ones in one
//! transaction (one durable commit), with a result per operation. This is what a binding with
//! an event loop needs: writes issued together commit together and in order, one call occupies
//! one thread, and every failure comes back with the call instead of in thread-local state.
//!
//! An operation that fails leaves nothing behind and does not fail the others: the transaction
//! is run again without it. That costs a rerun of the operations before it, so once reruns add
//! up to more than the batch itself, the ones that succeeded are committed first (one more
//! commit) and the rest continue in a new transaction. Reruns are exact because an operation's
//! effect depends only on the transaction's state, which the abort restored.
//!
//! The wire format (a MessagePack array of operations, each an array naming the operation) is
//! documented in docs/format.md, "Write batches".

use super::Store;
use crate::codec::{decode_value, kind_name};
use crate::conversations::{self, Appended, NewMessage};
use crate::error::{Error, ErrorKind, Result};
use crate::templates::{self, normalize_spec, PutOutcome, TemplateSpec};
use rmpv::Value;
use std::path::PathBuf;

/// The most operations one batch may hold (a binding splits larger queues).
pub(crate) const MAX_BATCH_OPS: usize = 65_536;

/// `update_*` flags, the same bits as the C calls' LMS_UPDATE_*.
const UPDATE_CONTENT: u64 = 1;
const UPDATE_METADATA: u64 = 2;
const UPDATE_TITLE: u64 = 4;

/// One write operation of a batch.
#[derive(Debug, Clone)]
pub enum WriteOp {
    PutTemplate {
        spec: TemplateSpec,
        replace: bool,
    },
    DeleteTemplate {
        id: Vec<u8>,
        version: Option<Vec<u8>>,
    },
    SetTemplateAlias {
        id: Vec<u8>,
        alias: Vec<u8>,
        version: Vec<u8>,
    },
    DeleteTemplateAlias {
        id: Vec<u8>,
        alias: Vec<u8>,
    },
    Append(Vec<NewMessage>),
    UpdateMessage {
        id: Vec<u8>,
        content: Option<Vec<u8>>,
        metadata: Option<Vec<u8>>,
    },
    DeleteMessage {
        id: Vec<u8>,
    },
    TrimSession {
        session: Vec<u8>,
        keep: u64,
    },
    TrimSessionBefore {
        session: Vec<u8>,
        before: i64,
    },
    CreateSession {
        session: Vec<u8>,
        title: Option<Vec<u8>>,
        metadata: Vec<u8>,
    },
    UpdateSession {
        session: Vec<u8>,
        title: Option<Option<Vec<u8>>>,
        metadata: Option<Vec<u8>>,
    },
    DeleteSession {
        session: Vec<u8>,
    },
    /// Flushes to disk (stores opened with no_sync); runs outside any transaction.
    Sync,
    /// A hot backup into `path`; runs outside any transaction, after the writes before it.
    Backup {
        path: PathBuf,
        compact: bool,
    },
}

/// What a successful operation produced.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    /// Nothing to report (deletes, aliases, updates, session creation, sync, backup).
    Done,
    Put(PutOutcome),
    Appended(Vec<Appended>),
    /// Messages deleted (trims, delete_session).
    Count(u64),
}

impl WriteOp {
    fn transactional(&self) -> bool {
        !matches!(self, WriteOp::Sync | WriteOp::Backup { .. })
    }

    /// Parses a batch: a MessagePack array of operations. The array itself must be well formed;
    /// an operation that is not gives its own error, in its place, and the others still run.
    pub fn parse_batch(bytes: &[u8]) -> Result<Vec<Result<WriteOp>>> {
        let value = decode_value(bytes, "write batch")?;
        let Value::Array(items) = value else {
            return Err(Error::bad_msgpack(format!(
                "write batch must be a MessagePack array of operations, got {}",
                kind_name(&value)
            )));
        };
        if items.len() > MAX_BATCH_OPS {
            return Err(Error::invalid(format!(
                "write batch holds {} operations; the most is {MAX_BATCH_OPS}",
                items.len()
            )));
        }
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| WriteOp::parse(v).map_err(|e| e.context(&format!("operation {i}"))))
            .collect())
    }

    fn parse(v: &Value) -> Result<WriteOp> {
        let Value::Array(a) = v else {
            return Err(Error::bad_msgpack(format!(
                "an operation must be an array [name, args...], got {}",
                kind_name(v)
            )));
        };
        let name = match a.first() {
            Some(Value::String(s)) => s.as_str().unwrap_or_default(),
            _ => return Err(Error::bad_msgpack("an operation must start with its name")),
        };
        let args = Args { name, items: a };
        let op = match name {
            "put_template" => WriteOp::PutTemplate {
                spec: normalize_spec(args.bytes(1, "spec")?)?,
                replace: args.boolean(2, "replace")?,
            },
            "delete_template" => WriteOp::DeleteTemplate {
                id: args.bytes(1, "id")?.to_vec(),
                version: args.opt_bytes(2, "version")?.filter(|v| !v.is_empty()),
            },
            "set_template_alias" => WriteOp::SetTemplateAlias {
                id: args.bytes(1, "id")?.to_vec(),
                alias: args.bytes(2, "alias")?.to_vec(),
                version: args.bytes(3, "version")?.to_vec(),
            },
            "delete_template_alias" => WriteOp::DeleteTemplateAlias {
                id: args.bytes(1, "id")?.to_vec(),
                alias: args.bytes(2, "alias")?.to_vec(),
            },
            "append" => {
                WriteOp::Append(NewMessage::batch_from_msgpack(args.bytes(1, "messages")?)?)
            }
            "update_message" => {
                let flags = args.flags(4, UPDATE_CONTENT | UPDATE_METADATA)?;
                WriteOp::UpdateMessage {
                    id: args.bytes(1, "id")?.to_vec(),
                    content: (flags & UPDATE_CONTENT != 0)
                        .then(|| args.opt_bytes(2, "content"))
                        .transpose()?
                        .map(|c| c.unwrap_or_default()),
                    metadata: (flags & UPDATE_METADATA != 0)
                        .then(|| args.opt_bytes(3, "metadata"))
                        .transpose()?
                        .map(|m| m.unwrap_or_default()),
                }
            }
            "delete_message" => WriteOp::DeleteMessage {
                id: args.bytes(1, "id")?.to_vec(),
            },
            "trim_session" => WriteOp::TrimSession {
                session: args.bytes(1, "session_id")?.to_vec(),
                keep: args.uint(2, "keep")?,
            },
            "trim_session_before" => WriteOp::TrimSessionBefore {
                session: args.bytes(1, "session_id")?.to_vec(),
                before: args.int(2, "before")?,
            },
            "create_session" => WriteOp::CreateSession {
                session: args.bytes(1, "session_id")?.to_vec(),
                title: args.opt_bytes(2, "title")?.filter(|t| !t.is_empty()),
                metadata: args.opt_bytes(3, "metadata")?.unwrap_or_default(),
            },
            "update_session" => {
                let flags = args.flags(4, UPDATE_TITLE | UPDATE_METADATA)?;
                WriteOp::UpdateSession {
                    session: args.bytes(1, "session_id")?.to_vec(),
                    title: (flags & UPDATE_TITLE != 0)
                        .then(|| args.opt_bytes(2, "title"))
                        .transpose()?
                        .map(|t| t.filter(|t| !t.is_empty())),
                    metadata: (flags & UPDATE_METADATA != 0)
                        .then(|| args.opt_bytes(3, "metadata"))
                        .transpose()?
                        .map(|m| m.unwrap_or_default()),
                }
            }
            "delete_session" => WriteOp::DeleteSession {
                session: args.bytes(1, "session_id")?.to_vec(),
            },
            "sync" => WriteOp::Sync,
            "backup" => {
                let path = args.bytes(1, "path")?;
                if path.contains(&0) {
                    return Err(Error::invalid("backup: path contains a NUL byte"));
                }
                WriteOp::Backup {
                    path: PathBuf::from(std::str::from_utf8(path).map_err(|_| {
                        Error::new(ErrorKind::InvalidUtf8, "backup: path is not UTF-8")
                    })?),
                    compact: args.boolean(2, "compact")?,
                }
            }
            other => {
                return Err(Error::invalid(format!("unknown write operation '{other}'")));
            }
        };
        if a.len() > args.arity() {
            return Err(Error::invalid(format!(
                "{name}: {} arguments given, it takes {}",
                a.len() - 1,
                args.arity() - 1
            )));
        }
        Ok(op)
    }

    fn run(&self, txn: &mut crate::backend::Write<'_, '_>) -> Result<WriteOutcome> {
        use WriteOutcome::{Count, Done};
        Ok(match self {
            WriteOp::PutTemplate { spec, replace } => {
                WriteOutcome::Put(templates::put(txn, spec, *replace)?)
            }
            WriteOp::DeleteTemplate { id, version } => {
                templates::delete(txn, id, version.as_deref()).map(|_| Done)?
            }
            WriteOp::SetTemplateAlias { id, alias, version } => {
                templates::set_alias(txn, id, alias, version).map(|_| Done)?
            }
            WriteOp::DeleteTemplateAlias { id, alias } => {
                templates::delete_alias(txn, id, alias).map(|_| Done)?
            }
            WriteOp::Append(messages) => {
                WriteOutcome::Appended(conversations::append(txn, messages)?)
            }
            WriteOp::UpdateMessage {
                id,
                content,
                metadata,
            } => conversations::update(txn, id, content.as_deref(), metadata.as_deref())
                .map(|_| Done)?,
            WriteOp::DeleteMessage { id } => conversations::delete(txn, id).map(|_| Done)?,
            WriteOp::TrimSession { session, keep } => {
                Count(conversations::trim_to_count(txn, session, *keep)?)
            }
            WriteOp::TrimSessionBefore { session, before } => {
                Count(conversations::trim_before(txn, session, *before)?)
            }
            WriteOp::CreateSession {
                session,
                title,
                metadata,
            } => conversations::create_session(txn, session, title.as_deref(), metadata)
                .map(|_| Done)?,
            WriteOp::UpdateSession {
                session,
                title,
                metadata,
            } => conversations::update_session(
                txn,
                session,
                title.as_ref().map(|t| t.as_deref().unwrap_or_default()),
                metadata.as_deref(),
            )
            .map(|_| Done)?,
            WriteOp::DeleteSession { session } => {
                Count(conversations::delete_session(txn, session)?)
            }
            WriteOp::Sync | WriteOp::Backup { .. } => {
                return Err(Error::new(
                    ErrorKind::Internal,
                    "sync and backup run outside transactions",
                ))
            }
        })
    }
}

/// Positional arguments of one operation, with errors that name the operation and argument.
struct Args<'a> {
    name: &'a str,
    items: &'a [Value],
}

impl<'a> Args<'a> {
    fn arity(&self) -> usize {
        match self.name {
            "sync" => 1,
            "append" | "delete_message" | "delete_session" => 2,
            "put_template"
            | "delete_template"
            | "delete_template_alias"
            | "trim_session"
            | "trim_session_before"
            | "backup" => 3,
            "set_template_alias" | "create_session" => 4,
            _ => 5,
        }
    }

    fn get(&self, i: usize) -> Option<&'a Value> {
        self.items.get(i).filter(|v| !v.is_nil())
    }

    fn wrong(&self, what: &str, want: &str, got: &Value) -> Error {
        Error::invalid(format!(
            "{}: {what} must be {want}, got {}",
            self.name,
            kind_name(got)
        ))
    }

    fn opt_bytes(&self, i: usize, what: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.opt_slice(i, what)?.map(<[u8]>::to_vec))
    }

    fn opt_slice(&self, i: usize, what: &str) -> Result<Option<&'a [u8]>> {
        match self.get(i) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_bytes())),
            Some(Value::Binary(b)) => Ok(Some(b)),
            Some(other) => Err(self.wrong(what, "a string or binary", other)),
        }
    }

    fn bytes(&self, i: usize, what: &str) -> Result<&'a [u8]> {
        match self.opt_slice(i, what)? {
            Some(b) if !b.is_empty() => Ok(b),
            _ => Err(Error::invalid(format!("{}: {what} is missing", self.name))),
        }
    }

    fn boolean(&self, i: usize, what: &str) -> Result<bool> {
        match self.get(i) {
            None => Ok(false),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(other) => Err(self.wrong(what, "a boolean", other)),
        }
    }

    fn int(&self, i: usize, what: &str) -> Result<i64> {
        match self.get(i) {
            Some(Value::Integer(n)) => n
                .as_i64()
                .ok_or_else(|| Error::invalid(format!("{}: {what} is out of range", self.name))),
            Some(other) => Err(self.wrong(what, "an integer", other)),
            None => Err(Error::invalid(format!("{}: {what} is missing", self.name))),
        }
    }

    fn uint(&self, i: usize, what: &str) -> Result<u64> {
        match self.get(i) {
            Some(Value::Integer(n)) => n.as_u64().ok_or_else(|| {
                Error::invalid(format!("{}: {what} must not be negative", self.name))
            }),
            Some(other) => Err(self.wrong(what, "an integer", other)),
            None => Err(Error::invalid(format!("{}: {what} is missing", self.name))),
        }
    }

    fn flags(&self, i: usize, known: u64) -> Result<u64> {
        let f = self.uint(i, "flags")?;
        if f & !known != 0 {
            return Err(Error::invalid(format!(
                "{}: unknown flags 0x{f:x}",
                self.name
            )));
        }
        if f == 0 {
            return Err(Error::invalid(format!("{}: nothing to update", self.name)));
        }
        Ok(f)
    }
}

impl Store {
    /// Runs `ops` in order and returns one result per operation. Consecutive transactional
    /// operations share one transaction and one (durable, unless no_sync) commit; sync and
    /// backup run on their own between them. A failed operation changes nothing and does not
    /// fail the others, except that a failed commit fails every operation it held.
    pub fn write_batch(&self, ops: Vec<Result<WriteOp>>) -> Vec<Result<WriteOutcome>> {
        let mut results: Vec<Option<Result<WriteOutcome>>> = Vec::with_capacity(ops.len());
        let mut runnable: Vec<Option<WriteOp>> = Vec::with_capacity(ops.len());
        for op in ops {
            match op {
                Ok(op) => {
                    results.push(None);
                    runnable.push(Some(op));
                }
                Err(e) => {
                    results.push(Some(Err(e)));
                    runnable.push(None);
                }
            }
        }
        let mut i = 0;
        while i < runnable.len() {
            match &runnable[i] {
                None => i += 1,
                Some(WriteOp::Sync) => {
                    results[i] = Some(self.sync().map(|_| WriteOutcome::Done));
                    i += 1;
                }
                Some(WriteOp::Backup { path, compact }) => {
                    results[i] = Some(self.backup(path, *compact).map(|_| WriteOutcome::Done));
                    i += 1;
                }
                Some(_) => {
                    let end = (i..runnable.len())
                        .find(|&k| runnable[k].as_ref().is_some_and(|op| !op.transactional()))
                        .unwrap_or(runnable.len());
                    self.commit_run(&runnable[i..end], &mut results[i..end]);
                    i = end;
                }
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Error::new(
                        ErrorKind::Internal,
                        "write batch left an operation without a result",
                    ))
                })
            })
            .collect()
    }

    /// Commits a run of transactional operations; fills every `None` in `results`.
    fn commit_run(&self, ops: &[Option<WriteOp>], results: &mut [Option<Result<WriteOutcome>>]) {
        if let Err(e) = self.writable() {
            return settle_all(results, &e);
        }
        let mut start = 0;
        let mut end = ops.len();
        let mut rerun_budget = ops.len();
        let mut done: Vec<(usize, WriteOutcome)> = Vec::new();
        while start < ops.len() {
            let mut failed: Option<(usize, Error)> = None;
            let committed = self.write(|txn| {
                failed = None;
                done.clear();
                for k in start..end {
                    let Some(op) = &ops[k] else { continue };
                    if results[k].is_some() {
                        continue;
                    }
                    match op.run(txn) {
                        Ok(v) => done.push((k, v)),
                        Err(e) => {
                            failed = Some((k, e.clone()));
                            return Err(e);
                        }
                    }
                }
                Ok(())
            });
            match (committed, failed) {
                (Ok(()), _) => {
                    for (k, v) in done.drain(..) {
                        results[k] = Some(Ok(v));
                    }
                    start = end;
                    end = ops.len();
                }
                // Map growth is handled inside write(); any other failure of one operation
                // drops just that one.
                (Err(_), Some((k, e))) => {
                    results[k] = Some(Err(e));
                    if done.len() > rerun_budget {
                        // Commit what succeeded so far rather than rerunning it again.
                        end = k;
                    } else {
                        rerun_budget -= done.len();
                    }
                }
                (Err(e), None) => {
                    settle_all(&mut results[start..], &e);
                    return;
                }
            }
        }
    }
}

fn settle_all(results: &mut [Option<Result<WriteOutcome>>], e: &Error) {
    for r in results.iter_mut().filter(|r| r.is_none()) {
        *r = Some(Err(e.clone()));
    }
}
