//! Holding a run while its deliveries are recorded ([`Ledger::hold_run`](super::Ledger)): one
//! instance at a time draws ids for a run's deliveries and writes them. Another instance
//! preparing the same occurrence at the same moment waits for the hold, then finds the
//! deliveries recorded and draws no ids for them — a sender code's 9,999 daily messages are not
//! halved by instances racing on one run.
//!
//! The hold is an economy of ids, never a condition of correctness: recording stays idempotent
//! (a delivery another instance recorded first is found, its ids win), so a wait that runs out,
//! or a hold that cannot be taken, records anyway.
//!
//! - PostgreSQL (`pg::hold`): a session advisory lock on a connection of its own, released when
//!   the hold is dropped or the session ends — an instance that dies mid-record lets go with its
//!   connection, and the instance that resumes or takes over the run records the rest.
//! - SQLite (here): held per ledger file and run within the process, shared by every
//!   [`SqliteLedger`](super::SqliteLedger) of the file. Two processes on one SQLite file are not
//!   held apart: each records correctly, and the later one's ids go unused.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::RunId;

/// The right to record a run's deliveries, until dropped.
#[must_use = "the hold is let go when dropped"]
pub struct RunHold {
    _release: Box<dyn Send>,
}

impl RunHold {
    /// A hold let go by dropping `release`.
    pub(super) fn new(release: impl Send + 'static) -> RunHold {
        RunHold {
            _release: Box::new(release),
        }
    }
}

impl std::fmt::Debug for RunHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunHold").finish_non_exhaustive()
    }
}

/// The runs held in this process, by ledger file.
static HELD: Mutex<Option<HashSet<(PathBuf, i64)>>> = Mutex::new(None);
/// Signalled whenever a hold of [`HELD`] is let go.
static FREED: Condvar = Condvar::new();

/// A run of a SQLite file held in this process; let go on drop.
struct Held(PathBuf, i64);

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(set) = held.as_mut() {
            set.remove(&(self.0.clone(), self.1));
        }
        FREED.notify_all();
    }
}

/// Hold `run` of the SQLite file at `path`, waiting up to `wait` for another holder in this
/// process to let go; `None` when it still holds the run after `wait`.
pub(super) fn hold_sqlite(path: &Path, run: RunId, wait: Duration) -> Option<RunHold> {
    // Every handle of one file holds under the same name, however the file was named.
    let file = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let key = (file, run.0);
    let until = Instant::now().checked_add(wait);
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let set = held.get_or_insert_with(HashSet::new);
        if set.insert(key.clone()) {
            return Some(RunHold::new(Held(key.0, key.1)));
        }
        let left = match until {
            Some(until) => until.checked_duration_since(Instant::now())?,
            None => Duration::MAX,
        };
        held = FREED
            .wait_timeout(held, left)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_held_once_per_file_and_again_once_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.sqlite"), dir.path().join("b.sqlite"));
        std::fs::write(&a, "").unwrap();
        let first = hold_sqlite(&a, RunId(7), Duration::ZERO).expect("free");
        // The same file under another name is the same hold.
        let same = dir.path().join(".").join("a.sqlite");
        assert!(hold_sqlite(&same, RunId(7), Duration::ZERO).is_none());
        // Another run, another file: held apart.
        let _other_run = hold_sqlite(&a, RunId(8), Duration::ZERO).expect("another run");
        let _other_file = hold_sqlite(&b, RunId(7), Duration::ZERO).expect("another file");
        drop(first);
        assert!(hold_sqlite(&a, RunId(7), Duration::ZERO).is_some());
    }

    #[test]
    fn a_waiter_gets_the_run_when_its_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        let first = hold_sqlite(&path, RunId(1), Duration::ZERO).expect("free");
        let let_go = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let got = hold_sqlite(&path, RunId(1), Duration::MAX).is_some();
                // Only after the holder let go.
                got && let_go.load(std::sync::atomic::Ordering::SeqCst)
            });
            let_go.store(true, std::sync::atomic::Ordering::SeqCst);
            drop(first);
            assert!(waiter.join().unwrap());
        });
    }
}
