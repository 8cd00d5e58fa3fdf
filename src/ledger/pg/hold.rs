//! A run held while its deliveries are recorded, on PostgreSQL (see `ledger::hold`): a session
//! advisory lock taken on a connection of its own, by a thread that keeps the connection until
//! the hold is dropped. The lock goes with the session, so an instance that dies (or loses the
//! database) mid-record lets go of the run without anyone's help.
//!
//! Not a pool connection: the hold lasts the whole record, through many pool jobs, and a pool
//! of a few connections must not lose one per run being recorded.

use std::sync::mpsc;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, Config, NoTls};

use super::super::hold::RunHold;
use super::super::{LedgerError, Result, RunId};

/// The first key of every run hold's advisory lock (`pg_advisory_lock(int, int)`), so a run's
/// lock is told apart from other advisory locks on the database: "SB" and 1.
const RUN_HOLDS: i32 = 0x5342_0001;

/// Hold `run` on a connection of its own made with `config`, waiting up to `wait` for another
/// session holding it; `None` when it still does after `wait`.
pub(super) fn hold(
    config: &Config,
    target: &str,
    run: RunId,
    wait: Duration,
) -> Result<Option<RunHold>> {
    let (config, named) = (config.clone(), target.to_string());
    let (answer, answered) = mpsc::sync_channel::<Result<bool>>(1);
    let (release, released) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name(format!("ledger-pg-hold-{run}"))
        .spawn(move || {
            let mut client = match config.connect(NoTls) {
                Ok(c) => c,
                Err(source) => {
                    let target = named;
                    let _ = answer.send(Err(LedgerError::PgConnect { target, source }));
                    return;
                }
            };
            let got = lock(&mut client, run, wait);
            let held = matches!(got, Ok(true));
            let _ = answer.send(got);
            if held {
                // Until the hold is dropped (its sender with it).
                let _ = released.recv();
                let _ = client.execute(
                    "SELECT pg_advisory_unlock($1, $2)",
                    &[&RUN_HOLDS, &key(run)],
                );
            }
            // The connection closes here: whatever it held goes with its session.
        })
        .map_err(|_| LedgerError::PgGone {
            target: target.to_string(),
        })?;
    match answered.recv() {
        Ok(Ok(true)) => Ok(Some(RunHold::new(release))),
        Ok(Ok(false)) => Ok(None),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(LedgerError::PgGone {
            target: target.to_string(),
        }),
    }
}

/// Take the lock of `run`, waiting up to `wait`: false when the wait ran out.
fn lock(client: &mut Client, run: RunId, wait: Duration) -> Result<bool> {
    // `lock_timeout` bounds the wait (0 would mean no bound); at least a millisecond.
    let ms = wait.as_millis().clamp(1, i32::MAX as u128);
    client.batch_execute(&format!("SET lock_timeout = {ms}"))?;
    match client.execute("SELECT pg_advisory_lock($1, $2)", &[&RUN_HOLDS, &key(run)]) {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The lock's second key: the run id, folded into 32 bits (two runs sharing a key only wait
/// for each other).
fn key(run: RunId) -> i32 {
    (run.0 & 0x7fff_ffff) as i32
}
