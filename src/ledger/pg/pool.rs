//! A few PostgreSQL connections, each owned by one worker thread, and a blocking call that runs
//! a closure on whichever worker is free.
//!
//! Why threads and not the async client: the [`Ledger`](crate::ledger::Ledger) trait is
//! synchronous and is called from `spawn_blocking` threads, plain threads (the CLI, tests) and,
//! through wrappers, possibly from a runtime worker. The `postgres` crate's client drives its
//! own small tokio runtime with `block_on`, which panics when called from inside another
//! runtime's context. Here no caller ever touches a client: it sends a job over a channel and
//! waits on a plain `std` channel for the answer, which is legal on any thread (it blocks like
//! the SQLite ledger blocks on the disk). The workers are plain threads outside every runtime,
//! so the client's `block_on` is always sound. A whole transaction is one job, so it never
//! spans two connections.
//!
//! A worker whose connection broke (a PostgreSQL restart, a network cut) connects again before
//! its next job: the job that saw the break fails with the error, the next one goes on. A
//! break seen by one worker makes every other worker check its own connection (one round trip)
//! before its next job, so after an outage one job fails, not one per connection.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::{Client, Config, GenericClient, NoTls, Statement};

use super::super::{LedgerError, Result};

/// A job: one closure run on a worker's connection; true when it failed on the connection
/// itself (not on a statement the database refused).
type Job = Box<dyn FnOnce(Result<&mut Client>) -> bool + Send>;

/// How long a worker waits for its connection to answer a check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

thread_local! {
    /// A worker's prepared statements by their text, for its current connection.
    static PREPARED: RefCell<HashMap<String, Statement>> = RefCell::new(HashMap::new());
}

/// `sql` prepared on this worker's connection, once per connection: the statements a run
/// makes per delivery then cost one round trip each, not two (parse, then execute).
pub(super) fn prepared(c: &mut impl GenericClient, sql: &str) -> Result<Statement> {
    if let Some(s) = PREPARED.with(|p| p.borrow().get(sql).cloned()) {
        return Ok(s);
    }
    let s = c.prepare(sql)?;
    PREPARED.with(|p| p.borrow_mut().insert(sql.to_string(), s.clone()));
    Ok(s)
}

/// The workers and the queue they take jobs from.
pub(super) struct Pool {
    queue: Mutex<Option<Sender<Job>>>,
    workers: Vec<JoinHandle<()>>,
    target: String,
}

impl Pool {
    /// Start `size` workers (at least one) connecting with `config`; `target` names the database
    /// in errors (never the password).
    pub(super) fn start(config: Config, size: usize, target: String) -> Pool {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let breaks = Arc::new(AtomicU64::new(0));
        let workers = (0..size.max(1))
            .map(|i| {
                let (rx, config, target) = (Arc::clone(&rx), config.clone(), target.clone());
                let breaks = Arc::clone(&breaks);
                std::thread::Builder::new()
                    .name(format!("ledger-pg-{i}"))
                    .spawn(move || work(&rx, &config, &target, &breaks))
                    .expect("spawning a ledger worker thread")
            })
            .collect();
        Pool {
            queue: Mutex::new(Some(tx)),
            workers,
            target,
        }
    }

    /// Run `f` on a free connection and wait for its answer.
    pub(super) fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |client| {
            let out = client.and_then(f);
            let broken = match &out {
                // No answer from the server, or one that ends the session (`FATAL`, e.g. the
                // backend terminated by an administrator or a restart): this connection is done,
                // and every other worker checks its own before its next job.
                Err(LedgerError::Postgres(e)) => e.as_db_error().is_none_or(|d| {
                    matches!(d.severity(), "FATAL" | "PANIC")
                        || d.code().code().starts_with("08")
                        || d.code().code().starts_with("57P")
                }),
                Err(LedgerError::PgConnect { .. }) => true,
                _ => false,
            };
            let _ = tx.send(out);
            broken
        });
        let sent = self
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|q| q.send(job).is_ok());
        if sent != Some(true) {
            return Err(self.gone());
        }
        rx.recv().map_err(|_| self.gone())?
    }

    fn gone(&self) -> LedgerError {
        LedgerError::PgGone {
            target: self.target.clone(),
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Closing the queue ends every worker after its current job.
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// A worker: take jobs until the queue closes, (re)connecting when its connection is gone;
/// `breaks` counts connection failures seen by any worker.
fn work(rx: &Mutex<Receiver<Job>>, config: &Config, target: &str, breaks: &AtomicU64) {
    let mut client: Option<Client> = None;
    let mut seen = 0;
    loop {
        let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        let now = breaks.load(Ordering::Acquire);
        if now != seen {
            seen = now;
            if client
                .as_mut()
                .is_some_and(|c| c.is_valid(CHECK_TIMEOUT).is_err())
            {
                client = None;
            }
        }
        if client.as_ref().is_some_and(Client::is_closed) {
            client = None;
        }
        if client.is_none() {
            // The statements prepared on the connection before went with it.
            PREPARED.with(|p| p.borrow_mut().clear());
            match config.connect(NoTls) {
                Ok(c) => client = Some(c),
                Err(source) => {
                    job(Err(LedgerError::PgConnect {
                        target: target.to_string(),
                        source,
                    }));
                    seen = breaks.fetch_add(1, Ordering::AcqRel) + 1;
                    continue;
                }
            }
        }
        if let Some(c) = client.as_mut()
            && job(Ok(c))
        {
            tracing::warn!(target, "ledger connection broken; connecting again");
            client = None;
            seen = breaks.fetch_add(1, Ordering::AcqRel) + 1;
        }
    }
}
