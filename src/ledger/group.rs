//! Group commit for the SQLite ledger's per-delivery writes (a settled attempt, a state report):
//! writers arriving while one transaction commits queue up, and the next writer to get the
//! connection commits all of them in one transaction. A run to 10,000 endpoints then pays for
//! a few hundred commits, not 20,000, whatever `synchronous` costs per commit.
//!
//! Crash safety is that of one transaction per write: a writer returns only after the
//! transaction holding its write committed. Each write runs under its own savepoint, so one
//! that fails (an unknown delivery) is rolled back alone and answers with its own error; if the
//! whole transaction cannot commit, each write of it is tried again alone.

use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, TransactionBehavior};

use super::write::{report_in, settled_in};
use super::{DeliveryId, Result, Settled, StateReport};

/// Where a queued write's answer goes, and the answer kept until its transaction commits.
#[derive(Debug)]
pub(super) struct Reply<R> {
    to: SyncSender<Result<R>>,
    kept: Option<Result<R>>,
}

impl<R> Reply<R> {
    pub(super) fn new(to: SyncSender<Result<R>>) -> Reply<R> {
        Reply { to, kept: None }
    }

    /// Keep `answer` for after the commit; true when the write worked.
    fn keep(&mut self, answer: Result<R>) -> bool {
        let ok = answer.is_ok();
        self.kept = Some(answer);
        ok
    }

    fn send(self) {
        if let Some(answer) = self.kept {
            let _ = self.to.send(answer);
        }
    }
}

/// A write waiting for its group's transaction.
#[derive(Debug)]
pub(super) enum Waiting {
    Settled(Settled, Reply<i64>),
    Report(StateReport, Reply<Option<DeliveryId>>),
}

impl Waiting {
    /// Run inside the group's transaction; true when it worked.
    fn apply(&mut self, conn: &Connection) -> bool {
        match self {
            Waiting::Settled(s, r) => r.keep(settled_in(conn, s)),
            Waiting::Report(s, r) => r.keep(report_in(conn, s)),
        }
    }

    /// Its group committed: answer.
    fn answer(self) {
        match self {
            Waiting::Settled(_, r) => r.send(),
            Waiting::Report(_, r) => r.send(),
        }
    }

    /// Its group could not commit: run it in a transaction of its own and answer.
    fn alone(self, conn: &mut Connection) {
        match self {
            Waiting::Settled(s, r) => drop(r.to.send(alone(conn, |c| settled_in(c, &s)))),
            Waiting::Report(s, r) => drop(r.to.send(alone(conn, |c| report_in(c, &s)))),
        }
    }
}

fn alone<R>(conn: &mut Connection, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

/// The writes waiting for a transaction.
#[derive(Debug, Default)]
pub(super) struct Group {
    queue: Mutex<Vec<Waiting>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves SQLite consistent (transactions roll back).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Group {
    /// Queue `waiting` (whose reply goes to `answer`) and wait until a transaction holding it
    /// committed: either another writer's, or this one's, taking every write queued meanwhile.
    pub(super) fn write<R>(
        &self,
        conn: &Mutex<Connection>,
        waiting: Waiting,
        answer: Receiver<Result<R>>,
    ) -> Result<R> {
        lock(&self.queue).push(waiting);
        let mut conn = lock(conn);
        // A writer answers every write it took before it lets go of the connection: holding the
        // connection, this write is either answered or still queued.
        match answer.try_recv() {
            Ok(done) => return done,
            Err(TryRecvError::Disconnected) => panic!("the ledger writer holding a write panicked"),
            Err(TryRecvError::Empty) => {}
        }
        let batch = std::mem::take(&mut *lock(&self.queue));
        commit(&mut conn, batch);
        answer
            .try_recv()
            .expect("a write is answered by the transaction that took it")
    }
}

/// Commit `batch` in one transaction, each write under its own savepoint, and answer each.
fn commit(conn: &mut Connection, mut batch: Vec<Waiting>) {
    let together = (|| -> Result<()> {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for w in &mut batch {
            let sp = tx.savepoint()?;
            if w.apply(&sp) {
                sp.commit()?;
            }
        }
        tx.commit()?;
        Ok(())
    })();
    match together {
        Ok(()) => batch.into_iter().for_each(Waiting::answer),
        Err(e) => {
            tracing::warn!(error = %e, writes = batch.len(), "group commit failed; writing each alone");
            for w in batch {
                w.alone(conn);
            }
        }
    }
}
