//! Group commit for the ledger's per-delivery writes (a settled attempt, a state report), on
//! both stores: writers arriving while one transaction commits queue up, and the next writer
//! to get the commit slot commits all of them in one transaction. A run to 10,000 endpoints
//! then pays for a few hundred commits, not 20,000, whatever a commit costs (SQLite's
//! `synchronous`, PostgreSQL's WAL flush and round trips).
//!
//! Crash safety is that of one transaction per write: a writer returns only after the
//! transaction holding its write committed. A group runs first without savepoints; if a write
//! fails, the group runs again with each write under its own savepoint, so one that fails (an
//! unknown delivery) is rolled back alone and answers with its own error; if the
//! whole transaction cannot commit, each write of it is tried again alone on the same
//! connection — on PostgreSQL, one that broke answers each write with an error, never runs it
//! on another connection (a commit whose answer was lost is not written twice).
//!
//! A store may first commit a group's writes of one kind in one statement of many rows
//! ([`GroupConn::many`]; PostgreSQL does, as its server time is spent per statement); the
//! writes such a statement could not hold, or whose statement failed, go on as above.
//!
//! A write is queued in one of two ways. A blocking writer ([`Group::settled`]) waits on its
//! thread and, when no one else is committing, commits the group itself. A queued write
//! ([`Group::queue`], for async callers: [`super::Ledger::queue_settled`]) holds no thread while
//! it waits: the first one queued while no committer runs starts one ([`Group::drain`], on a
//! blocking thread), which commits group after group until the queue is empty. A run's writes
//! then wait in the queue, not each on a thread of its own, and groups grow with the writes in
//! flight rather than with the threads there are to wait on them.

use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::{DeliveryId, LedgerError, Queued, Result, Settled, StateReport};

/// A connection that can hold a group's transaction: each store's statements for the two
/// writes, run inside the transaction the group opened.
pub(super) trait GroupConn {
    /// The statement that opens a group's transaction.
    const BEGIN: &'static str;
    /// Run `sql` (statements without parameters or rows).
    fn run(&mut self, sql: &str) -> Result<()>;
    /// Record a settled attempt; its id.
    fn settled(&mut self, settled: &Settled) -> Result<i64>;
    /// Record a state report; the delivery it names, if any.
    fn report(&mut self, report: &StateReport) -> Result<Option<DeliveryId>>;
    /// Whether `e` only says the write lost a race with another transaction (a deadlock broken
    /// by the database): it is then tried again alone after its group, up to [`ALONE_TRIES`]
    /// times.
    fn lost_race(_e: &LedgerError) -> bool {
        false
    }
    /// Commit what it can of `batch` in statements of many writes, each statement committed on
    /// its own, answering those writes; the writes left for the group's transaction (by
    /// default, all of them).
    fn many(&mut self, batch: Vec<Waiting>) -> Vec<Waiting> {
        batch
    }
}

/// Where a write's answer goes: a blocking writer's thread, or a queued write's future.
#[derive(Debug)]
enum To<R> {
    Thread(SyncSender<Result<R>>),
    Future(oneshot::Sender<Result<R>>),
}

impl<R> To<R> {
    fn send(self, answer: Result<R>) {
        // A writer that stopped waiting (a dropped future) needs no answer.
        match self {
            To::Thread(to) => drop(to.send(answer)),
            To::Future(to) => drop(to.send(answer)),
        }
    }
}

/// Where a queued write's answer goes, and the answer kept until its transaction commits.
#[derive(Debug)]
pub(super) struct Reply<R> {
    to: To<R>,
    kept: Option<Result<R>>,
}

impl<R> Reply<R> {
    fn lost_race<C: GroupConn>(&self) -> bool {
        matches!(&self.kept, Some(Err(e)) if C::lost_race(e))
    }

    /// Keep `answer` for after the commit; true when the write worked.
    fn keep(&mut self, answer: Result<R>) -> bool {
        let ok = answer.is_ok();
        self.kept = Some(answer);
        ok
    }

    fn send(self) {
        if let Some(answer) = self.kept {
            self.to.send(answer);
        }
    }

    /// Answer a write committed outside the group's transaction (see [`GroupConn::many`]).
    pub(super) fn committed(self, answer: R) {
        self.to.send(Ok(answer));
    }

    /// A reply to a blocking writer, and where it waits for it.
    fn thread() -> (Reply<R>, Receiver<Result<R>>) {
        let (to, answer) = mpsc::sync_channel(1);
        let reply = Reply {
            to: To::Thread(to),
            kept: None,
        };
        (reply, answer)
    }

    /// A reply to a queued write, and its future.
    fn future() -> (Reply<R>, Queued<R>)
    where
        R: Send + 'static,
    {
        let (to, answer) = oneshot::channel();
        let reply = Reply {
            to: To::Future(to),
            kept: None,
        };
        (reply, Box::pin(answered(answer)))
    }
}

/// A queued write's answer; [`LedgerError::Unanswered`] if its committer ended without one (it
/// panicked).
async fn answered<R>(answer: oneshot::Receiver<Result<R>>) -> Result<R> {
    answer.await.unwrap_or(Err(LedgerError::Unanswered))
}

/// A write waiting for its group's transaction.
#[derive(Debug)]
pub(super) enum Waiting {
    Settled(Settled, Reply<i64>),
    Report(StateReport, Reply<Option<DeliveryId>>),
}

impl Waiting {
    /// Run inside the group's transaction; true when it worked.
    fn apply(&mut self, conn: &mut impl GroupConn) -> bool {
        match self {
            Waiting::Settled(s, r) => r.keep(conn.settled(s)),
            Waiting::Report(s, r) => r.keep(conn.report(s)),
        }
    }

    fn lost_race<C: GroupConn>(&self) -> bool {
        match self {
            Waiting::Settled(_, r) => r.lost_race::<C>(),
            Waiting::Report(_, r) => r.lost_race::<C>(),
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
    fn alone<C: GroupConn>(self, conn: &mut C) {
        match self {
            Waiting::Settled(s, r) => r.to.send(alone(conn, |c| c.settled(&s))),
            Waiting::Report(s, r) => r.to.send(alone(conn, |c| c.report(&s))),
        }
    }
}

/// Times a write alone is tried when it keeps losing races (each a deadlock the database broke
/// by failing it): the transaction it lost to has usually ended by the second.
const ALONE_TRIES: u32 = 3;

fn alone<C: GroupConn, R>(conn: &mut C, f: impl Fn(&mut C) -> Result<R>) -> Result<R> {
    let mut tries = 1;
    loop {
        conn.run(C::BEGIN)?;
        let out = f(conn).and_then(|out| conn.run("COMMIT").map(|()| out));
        match out {
            Ok(out) => return Ok(out),
            Err(e) => {
                let _ = conn.run("ROLLBACK");
                if !C::lost_race(&e) || tries >= ALONE_TRIES {
                    return Err(e);
                }
                tracing::debug!(error = %e, tries, "a ledger write lost a race again; trying once more");
                tries += 1;
            }
        }
    }
}

/// When a committer waits for its group to grow: finding fewer than `below` writes queued (but
/// some), it waits `wait` for more to join before it commits; finding none, it ends. Each store
/// has its own, as a commit costs each its own.
#[derive(Debug, Clone, Copy)]
pub(super) struct Linger {
    pub below: usize,
    pub wait: std::time::Duration,
}

/// SQLite's: a commit there is one flush to disk in this process.
pub(super) const LINGER: Linger = Linger {
    below: 16,
    wait: std::time::Duration::from_micros(500),
};

/// The writes waiting for a transaction.
#[derive(Debug, Default)]
pub(super) struct Group {
    queue: Mutex<Queue>,
}

#[derive(Debug, Default)]
struct Queue {
    writes: Vec<Waiting>,
    /// A committer ([`Group::drain`]) runs, and will take whatever is queued.
    draining: bool,
}

/// What a queued write tells its store: start a committer ([`Group::drain`]) for it, or one
/// already runs that will take it.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Drain {
    Start,
    Running,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock leaves the database consistent (transactions roll back).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Group {
    /// Record `settled` in a group (see [`Group::write`]).
    pub(super) fn settled<S>(
        &self,
        slot: &Mutex<S>,
        settled: &Settled,
        commit: impl FnOnce(&mut S, Vec<Waiting>),
    ) -> Result<i64> {
        let (reply, answer) = Reply::thread();
        self.write(
            slot,
            Waiting::Settled(settled.clone(), reply),
            answer,
            commit,
        )
    }

    /// Record `report` in a group (see [`Group::write`]).
    pub(super) fn report<S>(
        &self,
        slot: &Mutex<S>,
        report: &StateReport,
        commit: impl FnOnce(&mut S, Vec<Waiting>),
    ) -> Result<Option<DeliveryId>> {
        let (reply, answer) = Reply::thread();
        self.write(slot, Waiting::Report(report.clone(), reply), answer, commit)
    }

    /// Queue `settled` for a group without a thread waiting for it: its answer, once its
    /// transaction committed, and whether the store must start a committer.
    pub(super) fn queue_settled(&self, settled: Settled) -> (Queued<i64>, Drain) {
        let (reply, answer) = Reply::future();
        (answer, self.queue(Waiting::Settled(settled, reply)))
    }

    /// Queue `report` as [`Group::queue_settled`] queues a settle.
    pub(super) fn queue_report(&self, report: StateReport) -> (Queued<Option<DeliveryId>>, Drain) {
        let (reply, answer) = Reply::future();
        (answer, self.queue(Waiting::Report(report, reply)))
    }

    fn queue(&self, waiting: Waiting) -> Drain {
        let mut queue = lock(&self.queue);
        queue.writes.push(waiting);
        match std::mem::replace(&mut queue.draining, true) {
            true => Drain::Running,
            false => Drain::Start,
        }
    }

    /// The committer of queued writes: take `slot` and commit what is queued, group after
    /// group, letting go of `slot` between groups (blocking writers and, on SQLite, reads take
    /// turns with it), until the queue is empty.
    pub(super) fn drain<S>(
        &self,
        slot: &Mutex<S>,
        linger: Linger,
        mut commit: impl FnMut(&mut S, Vec<Waiting>),
    ) {
        let _unwinding = Unwinding(self);
        loop {
            // A few writes queued: let more join the group before committing it (each commit
            // costs a flush to disk, whatever it holds). None: end, below.
            let queued = lock(&self.queue).writes.len();
            if (1..linger.below).contains(&queued) {
                std::thread::sleep(linger.wait);
            }
            let mut slot = lock(slot);
            let batch = {
                let mut queue = lock(&self.queue);
                if queue.writes.is_empty() {
                    queue.draining = false;
                    return;
                }
                std::mem::take(&mut queue.writes)
            };
            commit(&mut slot, batch);
        }
    }

    /// Queue `waiting` (whose reply goes to `answer`) and wait until a transaction holding it
    /// committed: either another writer's, or this one's, taking every write queued meanwhile
    /// and handing them to `commit` while it holds `slot` (SQLite: the connection itself;
    /// PostgreSQL: the right to send a group to the pool). `commit` answers every write it
    /// was given before it returns.
    fn write<R, S>(
        &self,
        slot: &Mutex<S>,
        waiting: Waiting,
        answer: Receiver<Result<R>>,
        commit: impl FnOnce(&mut S, Vec<Waiting>),
    ) -> Result<R> {
        lock(&self.queue).writes.push(waiting);
        let mut slot = lock(slot);
        // A writer answers every write it took before it lets go of the slot: holding the
        // slot, this write is either answered or still queued.
        match answer.try_recv() {
            Ok(done) => return done,
            Err(TryRecvError::Disconnected) => panic!("the ledger writer holding a write panicked"),
            Err(TryRecvError::Empty) => {}
        }
        let batch = std::mem::take(&mut lock(&self.queue).writes);
        commit(&mut slot, batch);
        match answer.try_recv() {
            Ok(done) => done,
            Err(_) => panic!("the ledger writer holding a write panicked"),
        }
    }
}

/// A committer that panics ends the writes queued behind it too (their futures answer
/// [`LedgerError::Unanswered`], as do those of the group it held), rather than leaving them
/// waiting for a committer that no write would start.
struct Unwinding<'g>(&'g Group);

impl Drop for Unwinding<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut queue = lock(&self.0.queue);
            queue.writes.clear();
            queue.draining = false;
        }
    }
}

/// When a queued write says so (`drain`), run a committer ([`Group::drain`]) on a blocking
/// thread of the runtime this is called in, or here and now outside one.
pub(super) fn start_drain(drain: Drain, committer: impl FnOnce() + Send + 'static) {
    if drain == Drain::Running {
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(committer)),
        Err(_) => committer(),
    }
}

/// Commit `batch` and answer each write: first what the store commits in statements of many
/// ([`GroupConn::many`]: PostgreSQL), then the rest in one transaction. Most groups have no
/// failing write, so that transaction first runs without savepoints (one round trip a write on
/// PostgreSQL); when a write fails, it is rolled back and the group runs again with each write
/// under its own savepoint, the failing one rolled back alone. The group's error when it could
/// not commit (each write was then tried alone): a store that shares connections learns from
/// it whether the connection broke.
pub(super) fn commit<C: GroupConn>(conn: &mut C, batch: Vec<Waiting>) -> Result<()> {
    let mut batch = conn.many(batch);
    if batch.is_empty() {
        return Ok(());
    }
    // A write alone needs no savepoint: its transaction is its own, its failure its answer.
    let done = match unguarded(conn, &mut batch) {
        Ok(false) if batch.len() > 1 => guarded(conn, &mut batch),
        done => done.map(drop),
    };
    match done {
        Ok(()) => {
            for w in batch {
                if w.lost_race::<C>() {
                    w.alone(conn);
                } else {
                    w.answer();
                }
            }
            Ok(())
        }
        Err(e) => each_alone(conn, batch, e),
    }
}

/// Every write of `batch` in one transaction, each under its own savepoint: one that fails is
/// rolled back alone. One round trip between writes: the last savepoint released, the next one
/// taken.
fn guarded<C: GroupConn>(conn: &mut C, batch: &mut [Waiting]) -> Result<()> {
    conn.run(&format!("{}; SAVEPOINT w", C::BEGIN))?;
    for w in batch.iter_mut() {
        if w.apply(conn) {
            conn.run("RELEASE w; SAVEPOINT w")?;
        } else {
            conn.run("ROLLBACK TO w; RELEASE w; SAVEPOINT w")?;
        }
    }
    conn.run("RELEASE w; COMMIT")
}

/// Every write of `batch` in one transaction without savepoints: committed (true), or rolled
/// back at the first write that failed (false); an error when the transaction itself failed.
fn unguarded<C: GroupConn>(conn: &mut C, batch: &mut [Waiting]) -> Result<bool> {
    conn.run(C::BEGIN)?;
    if batch.iter_mut().all(|w| w.apply(conn)) {
        conn.run("COMMIT")?;
        Ok(true)
    } else {
        conn.run("ROLLBACK")?;
        Ok(false)
    }
}

/// The group could not commit (`e`): roll back and write each alone.
fn each_alone<C: GroupConn>(conn: &mut C, batch: Vec<Waiting>, e: LedgerError) -> Result<()> {
    let _ = conn.run("ROLLBACK");
    tracing::warn!(error = %e, writes = batch.len(), "group commit failed; writing each alone");
    for w in batch {
        w.alone(conn);
    }
    Err(e)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::ledger::{AttemptResult, NewAttempt};
    use std::sync::Arc;

    /// A connection that logs what it is asked, refusing the settles of `refused` deliveries,
    /// and failing the next `races` settles as lost races.
    #[derive(Default)]
    struct Logged {
        log: Vec<String>,
        refused: Vec<i64>,
        races: u32,
    }

    /// What `Logged` answers for a lost race (a deadlock the database broke).
    const RACE: DeliveryId = DeliveryId(i64::MIN);

    impl GroupConn for Logged {
        const BEGIN: &'static str = "BEGIN";

        fn lost_race(e: &LedgerError) -> bool {
            matches!(e, LedgerError::UnknownDelivery(RACE))
        }

        fn run(&mut self, sql: &str) -> Result<()> {
            self.log.push(sql.to_string());
            Ok(())
        }

        fn settled(&mut self, settled: &Settled) -> Result<i64> {
            let id = settled.attempt.delivery;
            self.log.push(format!("settle {id}"));
            if self.races > 0 {
                self.races -= 1;
                return Err(LedgerError::UnknownDelivery(RACE));
            }
            match self.refused.contains(&id.0) {
                true => Err(LedgerError::UnknownDelivery(id)),
                false => Ok(id.0 * 10),
            }
        }

        fn report(&mut self, _: &StateReport) -> Result<Option<DeliveryId>> {
            unreachable!("no reports here")
        }
    }

    fn settle(id: i64) -> Settled {
        let at = Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).unwrap();
        Settled {
            attempt: NewAttempt {
                delivery: DeliveryId(id),
                started_at: at,
                finished_at: at,
                result: AttemptResult::Delivered,
                latency_ms: 1,
                error: None,
                instance: None,
            },
            to: None,
            health: None,
        }
    }

    /// Settles of deliveries `ids` as a group, and where each one's answer arrives.
    fn group(ids: &[i64]) -> (Vec<Waiting>, Vec<Receiver<Result<i64>>>) {
        ids.iter()
            .map(|&id| {
                let (reply, answer) = Reply::thread();
                (Waiting::Settled(settle(id), reply), answer)
            })
            .unzip()
    }

    #[test]
    fn a_committer_lingers_only_below_its_threshold() {
        use futures_util::FutureExt as _;
        let group = Arc::new(Group::default());
        let answers: Vec<_> = (1..=3)
            .map(|id| group.queue_settled(settle(id)).0)
            .collect();
        // Three writes queued, a threshold of three: committed at once, not after an hour.
        let linger = Linger {
            below: 3,
            wait: std::time::Duration::from_secs(3_600),
        };
        let (done, ended) = mpsc::channel();
        let committer = Arc::clone(&group);
        std::thread::spawn(move || {
            let slot = Mutex::new(Logged::default());
            committer.drain(&slot, linger, |c, batch| commit(c, batch).unwrap());
            drop(done.send(std::mem::take(&mut lock(&slot).log)));
        });
        // Committed at once, and, its queue then empty, ended without waiting either.
        let log = ended
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the committer waited with its group full, or with nothing queued");
        assert_eq!(log, ["BEGIN", "settle 1", "settle 2", "settle 3", "COMMIT"]);
        for (a, id) in answers.into_iter().zip(1..) {
            assert_eq!(a.now_or_never().unwrap().unwrap(), id * 10);
        }
    }

    #[test]
    fn queued_writes_wait_without_a_thread_and_one_committer_takes_them_all() {
        use futures_util::FutureExt as _;
        let (group, slot) = (Group::default(), Mutex::new(Logged::default()));
        let (mut first, start) = group.queue_settled(settle(1));
        assert_eq!(start, Drain::Start);
        let (second, running) = group.queue_settled(settle(2));
        let (third, _) = group.queue_settled(settle(3));
        assert_eq!(running, Drain::Running, "one committer for the queue");
        assert!(
            (&mut first).now_or_never().is_none(),
            "answered before its commit"
        );
        // A blocking writer arriving meanwhile joins the same group.
        let (reply, blocking) = Reply::thread();
        lock(&group.queue)
            .writes
            .push(Waiting::Settled(settle(4), reply));
        group.drain(&slot, LINGER, |c, batch| commit(c, batch).unwrap());
        let log = std::mem::take(&mut lock(&slot).log);
        assert_eq!(
            log,
            [
                "BEGIN", "settle 1", "settle 2", "settle 3", "settle 4", "COMMIT"
            ]
        );
        let got: Vec<i64> = [first, second, third]
            .into_iter()
            .map(|f| f.now_or_never().expect("answered").unwrap())
            .collect();
        assert_eq!(got, [10, 20, 30]);
        assert_eq!(blocking.recv().unwrap().unwrap(), 40);
        // The queue empty, the committer ended: the next write starts another.
        let (next, start) = group.queue_settled(settle(5));
        assert_eq!(start, Drain::Start);
        group.drain(&slot, LINGER, |c, batch| commit(c, batch).unwrap());
        assert_eq!(next.now_or_never().unwrap().unwrap(), 50);
    }

    #[test]
    fn a_committer_that_panics_ends_the_writes_queued_behind_it_and_the_next_write_starts_one() {
        use futures_util::FutureExt as _;
        let (group, slot) = (Group::default(), Mutex::new(Logged::default()));
        let (held, _) = group.queue_settled(settle(1));
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            group.drain(&slot, LINGER, |_, batch| {
                // A write queued while the group commits, then the commit panics.
                let _behind = group.queue_settled(settle(2));
                drop(batch);
                panic!("the committer's store panicked");
            });
        }));
        assert!(panicked.is_err());
        let answer = held.now_or_never().expect("answered");
        assert!(matches!(answer, Err(LedgerError::Unanswered)), "{answer:?}");
        let (next, start) = group.queue_settled(settle(3));
        assert_eq!(start, Drain::Start, "a committer left marked as running");
        group.drain(&slot, LINGER, |c, batch| commit(c, batch).unwrap());
        assert_eq!(next.now_or_never().unwrap().unwrap(), 30);
        assert_eq!(lock(&slot).log, ["BEGIN", "settle 3", "COMMIT"]);
    }

    #[test]
    fn a_group_without_failures_commits_without_savepoints() {
        let mut conn = Logged::default();
        let (batch, answers) = group(&[1, 2, 3]);
        commit(&mut conn, batch).unwrap();
        assert_eq!(
            conn.log,
            ["BEGIN", "settle 1", "settle 2", "settle 3", "COMMIT"]
        );
        let got: Vec<i64> = answers.iter().map(|a| a.recv().unwrap().unwrap()).collect();
        assert_eq!(got, [10, 20, 30]);
    }

    #[test]
    fn a_failing_write_sends_its_group_again_under_savepoints_and_fails_alone() {
        let mut conn = Logged {
            refused: vec![2],
            ..Logged::default()
        };
        let (batch, answers) = group(&[1, 2, 3]);
        commit(&mut conn, batch).unwrap();
        assert_eq!(
            conn.log,
            [
                "BEGIN",
                "settle 1",
                "settle 2",
                "ROLLBACK",
                "BEGIN; SAVEPOINT w",
                "settle 1",
                "RELEASE w; SAVEPOINT w",
                "settle 2",
                "ROLLBACK TO w; RELEASE w; SAVEPOINT w",
                "settle 3",
                "RELEASE w; SAVEPOINT w",
                "RELEASE w; COMMIT",
            ]
        );
        let got: Vec<_> = answers.iter().map(|a| a.recv().unwrap().ok()).collect();
        assert_eq!(got, [Some(10), None, Some(30)]);
    }

    #[test]
    fn a_write_losing_races_is_tried_alone_until_it_wins_then_gives_up_after_three_tries() {
        let mut conn = Logged {
            races: 3,
            ..Logged::default()
        };
        // Lost in its group, then twice alone: the third try alone wins.
        let (batch, answers) = group(&[7]);
        commit(&mut conn, batch).unwrap();
        assert_eq!(answers[0].recv().unwrap().unwrap(), 70);
        let settles = conn.log.iter().filter(|l| *l == "settle 7").count();
        assert_eq!(settles, 4, "{:?}", conn.log);
        // Lost in its group and in all three tries alone: the race is its answer.
        let mut conn = Logged {
            races: 4,
            ..Logged::default()
        };
        let (batch, answers) = group(&[7]);
        commit(&mut conn, batch).unwrap();
        let lost = answers[0].recv().unwrap().unwrap_err();
        assert!(Logged::lost_race(&lost), "{lost:?}");
        assert_eq!(conn.log.iter().filter(|l| *l == "settle 7").count(), 4);
        assert_eq!(conn.log.last().map(String::as_str), Some("ROLLBACK"));
    }
}
