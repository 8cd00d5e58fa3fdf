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
//! - SQLite (here): an OS lock (`flock`) on `<ledger file>-run-<id>.lock` beside the ledger,
//!   taken by every handle of the file, in this process or another, and let go when the hold
//!   is dropped or its process ends; the file is removed as the hold is let go.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::{LedgerError, Result, RunId};

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

/// A run's lock file, locked; removed, then unlocked, when dropped.
struct Locked {
    path: PathBuf,
    _file: File,
}

impl Drop for Locked {
    fn drop(&mut self) {
        // Removed while still locked: a waiter that opened it finds it gone and opens anew.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Hold `run` of the SQLite ledger at `ledger`, waiting up to `wait` for another holder (of
/// this process or another) to let go; `None` when it still holds the run after `wait`.
pub(super) fn hold_sqlite(ledger: &Path, run: RunId, wait: Duration) -> Result<Option<RunHold>> {
    let mut name = ledger.file_name().unwrap_or_default().to_os_string();
    name.push(format!("-run-{}.lock", run.0));
    let path = ledger.with_file_name(name);
    let failed = |source| LedgerError::Hold {
        path: path.clone(),
        source,
    };
    if let Some(file) = take(&path, false).map_err(failed)? {
        return Ok(Some(RunHold::new(Locked { path, _file: file })));
    }
    if wait.is_zero() {
        return Ok(None);
    }
    // The blocking wait on a thread of its own, so that it can be given up after `wait`: a
    // lock it takes after that is let go at once.
    let (answer, answered) = mpsc::sync_channel(1);
    let p = path.clone();
    std::thread::Builder::new()
        .name(format!("ledger-hold-{run}"))
        .spawn(move || {
            if let Err(mpsc::SendError(Ok(Some(file)))) = answer.send(take(&p, true)) {
                drop(Locked {
                    path: p,
                    _file: file,
                });
            }
        })
        .map_err(failed)?;
    match answered.recv_timeout(wait) {
        Ok(Ok(Some(file))) => Ok(Some(RunHold::new(Locked { path, _file: file }))),
        Ok(Ok(None)) | Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
        Ok(Err(source)) => Err(failed(source)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(failed(std::io::Error::other(
            "the thread waiting for the run's lock ended",
        ))),
    }
}

/// Lock the file at `path` (created if missing), waiting when `block`; `None` when another
/// holds it and not `block`. A file its holder removed while this one waited is not held by
/// anyone else: it is opened and locked anew.
fn take(path: &Path, block: bool) -> std::io::Result<Option<File>> {
    loop {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        if block {
            file.lock()?;
        } else {
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Ok(None),
                Err(TryLockError::Error(e)) => return Err(e),
            }
        }
        if names(path, &file) {
            return Ok(Some(file));
        }
    }
}

/// Whether `path` still names `file` (its holder removes it before letting go).
#[cfg(unix)]
fn names(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(not(unix))]
fn names(_path: &Path, _file: &File) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hold(path: &Path, run: i64, wait: Duration) -> Option<RunHold> {
        hold_sqlite(path, RunId(run), wait).unwrap()
    }

    #[test]
    fn a_run_is_held_once_per_file_and_again_once_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.sqlite"), dir.path().join("b.sqlite"));
        let first = hold(&a, 7, Duration::ZERO).expect("free");
        // The same file under another name is the same hold.
        let same = dir.path().join(".").join("a.sqlite");
        assert!(hold(&same, 7, Duration::ZERO).is_none());
        assert!(hold(&a, 7, Duration::from_millis(20)).is_none());
        // Another run, another file: held apart.
        let _other_run = hold(&a, 8, Duration::ZERO).expect("another run");
        let _other_file = hold(&b, 7, Duration::ZERO).expect("another file");
        let lock = dir.path().join("a.sqlite-run-7.lock");
        assert!(lock.is_file());
        drop(first);
        assert!(!lock.exists(), "removed as it is let go");
        assert!(hold(&a, 7, Duration::ZERO).is_some());
    }

    #[test]
    fn waiters_get_the_run_one_after_the_other_once_its_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        let first = hold(&path, 1, Duration::ZERO).expect("free");
        let holders = std::sync::atomic::AtomicU32::new(1);
        let most = std::sync::atomic::AtomicU32::new(1);
        std::thread::scope(|s| {
            let waiters: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        use std::sync::atomic::Ordering::SeqCst;
                        let held = hold(&path, 1, Duration::MAX);
                        most.fetch_max(holders.fetch_add(1, SeqCst) + 1, SeqCst);
                        std::thread::yield_now();
                        holders.fetch_sub(1, SeqCst);
                        held.is_some()
                    })
                })
                .collect();
            holders.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            drop(first);
            assert!(waiters.into_iter().all(|w| w.join().unwrap()));
        });
        assert_eq!(most.into_inner(), 1, "one holder at a time");
    }
}
