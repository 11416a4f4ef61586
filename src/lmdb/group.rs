//! Group commit: concurrent writers are committed together in one transaction, so they share
//! one flush.

use super::env::{lock, Env};
use super::txn::RwTxn;
use crate::error::{Error, ErrorKind, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A write job submitted to group commit; it runs in the leader's transaction.
trait GroupJob: Send + Sync {
    /// Runs the job in `txn`, keeping its value for the caller; an error aborts `txn`.
    fn run(&self, txn: &mut RwTxn<'_>) -> Result<()>;
    fn fail(&self, err: Error);
    fn is_done(&self) -> bool;
    fn mark_done(&self);
}

struct Slot<F, T> {
    work: Mutex<F>,
    result: Mutex<Option<Result<T>>>,
    done: AtomicBool,
}

impl<F, T> GroupJob for Slot<F, T>
where
    F: FnMut(&mut RwTxn<'_>) -> Result<T> + Send,
    T: Send,
{
    fn run(&self, txn: &mut RwTxn<'_>) -> Result<()> {
        let value = (lock(&self.work))(txn)?;
        *lock(&self.result) = Some(Ok(value));
        Ok(())
    }
    fn fail(&self, err: Error) {
        *lock(&self.result) = Some(Err(err));
    }
    fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
    fn mark_done(&self) {
        self.done.store(true, Ordering::Release)
    }
}

#[derive(Default)]
struct GroupState {
    pending: Vec<Arc<dyn GroupJob>>,
    leader_active: bool,
    /// Callers inside write_grouped now (queued, committing or waiting for their result).
    inside: usize,
    /// How many jobs a leader waits for before committing: the concurrency seen lately. It
    /// grows with `inside` and shrinks to what arrived when a leader's wait runs out.
    expected: usize,
    /// How long the last group commit took; a leader waits at most half of it.
    last_commit: Duration,
}

/// The group-commit queue of one environment.
#[derive(Default)]
pub(crate) struct Group {
    state: Mutex<GroupState>,
    done: Condvar,
    arrival: Condvar,
}

/// Held by the leader while it commits. When the leader unwinds (a job or the commit
/// panicked), dropping it fails every job of the group that has not been committed, marks
/// them done and hands leadership on, so no follower waits for a leader that is gone.
struct LeaderGuard<'a> {
    group: &'a Group,
    jobs: &'a [Arc<dyn GroupJob>],
    committed: bool,
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        for job in self.jobs {
            job.fail(Error::new(
                ErrorKind::Internal,
                "group commit: the thread committing this write panicked; the write was not committed",
            ));
            job.mark_done();
        }
        let mut state = lock(&self.group.state);
        state.leader_active = false;
        // The leader's own call ends with the panic instead of returning normally.
        state.inside -= 1;
        self.group.done.notify_all();
    }
}

impl Env {
    /// Like [`Env::write`], but concurrent callers are committed together in one transaction
    /// (one flush for all of them). A job that fails is dropped from the group and the others
    /// run again without it (see `commit_group`); every caller returns after the commit that
    /// holds its writes is durable.
    pub fn write_grouped<T, F>(&self, f: F) -> Result<T>
    where
        F: FnMut(&mut RwTxn<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.ensure_writable()?;
        let group = &self.group;
        let slot = Arc::new(Slot {
            work: Mutex::new(f),
            result: Mutex::new(None),
            done: AtomicBool::new(false),
        });
        let mut state = lock(&group.state);
        state.pending.push(slot.clone());
        state.inside += 1;
        state.expected = state.expected.max(state.inside);
        group.arrival.notify_one();
        loop {
            if slot.is_done() {
                state.inside -= 1;
                drop(state);
                let result = lock(&slot.result).take();
                return result.unwrap_or_else(|| {
                    Err(Error::new(
                        ErrorKind::Internal,
                        "group commit lost a result",
                    ))
                });
            }
            if !state.leader_active {
                state.leader_active = true;
                state = group.linger(state);
                let jobs = std::mem::take(&mut state.pending);
                drop(state);
                let mut guard = LeaderGuard {
                    group,
                    jobs: &jobs,
                    committed: false,
                };
                let started = Instant::now();
                self.commit_group(&jobs);
                guard.committed = true;
                for job in &jobs {
                    job.mark_done();
                }
                state = lock(&group.state);
                state.leader_active = false;
                state.last_commit = started.elapsed();
                group.done.notify_all();
                continue;
            }
            state = group.done.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Commits every job in one transaction. A job that fails is dropped with its error and
    /// the others run again without it, so one caller's failure never fails another's batch;
    /// failures are rare (input is validated before it gets here), so this costs less than a
    /// nested transaction per job, for which LMDB allocates a large dirty-page list.
    fn commit_group(&self, jobs: &[Arc<dyn GroupJob>]) {
        let mut active: Vec<&Arc<dyn GroupJob>> = jobs.iter().collect();
        while !active.is_empty() {
            let mut failed = None;
            let committed = self.write(|txn| {
                for (i, job) in active.iter().enumerate() {
                    job.run(txn).inspect_err(|_| failed = Some(i))?;
                }
                failed = None;
                Ok(())
            });
            match (committed, failed) {
                (Ok(()), _) => return,
                (Err(e), Some(i)) if active.len() > 1 => active.remove(i).fail(e),
                (Err(e), _) => {
                    for job in active {
                        job.fail(e.clone());
                    }
                    return;
                }
            }
        }
    }
}

impl Group {
    /// Before committing, a leader waits briefly for the callers that lately appended together
    /// to queue again: they were woken by the previous commit and are a few microseconds away.
    /// Without this, concurrent callers split into alternating half-size groups, each paying a
    /// flush. The wait is bounded by half the last commit's time and skipped when one caller
    /// is all there has been lately.
    fn linger<'a>(&self, mut state: MutexGuard<'a, GroupState>) -> MutexGuard<'a, GroupState> {
        if state.pending.len() >= state.expected {
            return state;
        }
        let bound = (state.last_commit / 2).min(Duration::from_millis(2));
        let deadline = Instant::now() + bound;
        while state.pending.len() < state.expected {
            let now = Instant::now();
            if now >= deadline {
                state.expected = state.pending.len().max(1);
                break;
            }
            state = self
                .arrival
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        state
    }
}
