//! What a restart picks up again: nothing recorded is forgotten. Every open run is looked at,
//! not only the latest: pending deliveries past their air-by are expired (with the reason),
//! runs whose deliveries are all final are closed, and runs with pending deliveries still
//! inside their air-by are fired again — preparing a recorded run finds its deliveries and their
//! ids, so they are sent as recorded. The cron loop's catch-up then starts after the latest run.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;

use crate::ledger::{DeliveryState, Ledger, LedgerError, Run, RunState};
use crate::push::Project;
use crate::scheduler::{Runner, catch_up_from};

/// What the sweep at start found.
#[derive(Debug, Default)]
pub struct Sweep {
    /// Pending deliveries expired (past their air-by).
    pub expired: usize,
    /// Runs closed (every delivery final).
    pub closed: usize,
    /// Open runs with deliveries still to send, oldest first.
    pub resume: Vec<Run>,
}

/// Expire what is overdue and close what is settled; list the open runs left to send. Blocking.
pub fn sweep(ledger: &dyn Ledger, now: DateTime<Utc>) -> Result<Sweep, LedgerError> {
    let mut out = Sweep {
        expired: ledger.expire_overdue(now)?.len(),
        ..Sweep::default()
    };
    let open = ledger
        .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)?
        .into_iter()
        .filter(|r| r.state == RunState::Open);
    for run in open {
        let deliveries = ledger.deliveries_of_run(run.id)?;
        if deliveries.is_empty() || deliveries.iter().any(|d| d.state == DeliveryState::Pending) {
            // Interrupted before or while its deliveries were written, or while sending.
            out.resume.push(run);
        } else if deliveries.iter().all(|d| d.state.is_final()) {
            ledger.close_run(run.id)?;
            out.closed += 1;
        }
    }
    Ok(out)
}

/// Close the runs whose deliveries all reached a final state (after a follow-up); a run with
/// no deliveries yet is being prepared and stays open. Blocking.
pub fn close_settled(ledger: &dyn Ledger) -> Result<usize, LedgerError> {
    let mut closed = 0;
    for run in ledger.runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)? {
        if run.state != RunState::Open {
            continue;
        }
        let deliveries = ledger.deliveries_of_run(run.id)?;
        if !deliveries.is_empty() && deliveries.iter().all(|d| d.state.is_final()) {
            ledger.close_run(run.id)?;
            closed += 1;
        }
    }
    Ok(closed)
}

/// Where the cron loop's catch-up starts at `now` ([`catch_up_from`] the latest run the ledger
/// has up to the push horizon `now + lead`: those runs are resumed, never fired twice). Blocking.
pub fn catch_up_cursor(
    ledger: &dyn Ledger,
    now: DateTime<Utc>,
    lead: Duration,
    air_by: Duration,
) -> Result<DateTime<Utc>, LedgerError> {
    let horizon = now + TimeDelta::from_std(lead).unwrap_or(TimeDelta::zero());
    let latest = ledger
        .runs(now - TimeDelta::days(7), now + TimeDelta::days(400), None)?
        .into_iter()
        .filter(|r| r.occurrence <= horizon)
        .map(|r| r.occurrence)
        .max();
    Ok(catch_up_from(latest, now, air_by))
}

/// Fire every run of `resume` again through `runner`. A run whose campaign is no longer in the
/// project cannot be prepared again: its pending deliveries are expired with that reason.
pub async fn resume<R: Runner>(
    runner: Arc<R>,
    ledger: Arc<dyn Ledger>,
    project: Arc<Project>,
    resume: Vec<Run>,
    now: DateTime<Utc>,
    stop: watch::Receiver<bool>,
) {
    let mut fired = tokio::task::JoinSet::new();
    for run in resume {
        if project.campaigns.iter().any(|c| c.id == run.campaign) {
            tracing::info!(run = %run.id, campaign = %run.campaign, occurrence = %run.occurrence,
                "resuming an interrupted run");
            let (r, p, s) = (Arc::clone(&runner), Arc::clone(&project), stop.clone());
            fired.spawn(async move { r.fire(p, run.campaign, run.occurrence, s).await });
            continue;
        }
        let ledger = Arc::clone(&ledger);
        let gone = tokio::task::spawn_blocking(move || expire_gone(ledger.as_ref(), &run, now));
        if let Ok(Err(e)) = gone.await {
            tracing::error!(error = %e, "an interrupted run of a removed campaign not expired");
        }
    }
    while fired.join_next().await.is_some() {}
}

/// Expire the pending deliveries of `run`, whose campaign is gone, and close it.
fn expire_gone(ledger: &dyn Ledger, run: &Run, now: DateTime<Utc>) -> Result<(), LedgerError> {
    let reason = format!(
        "campaign `{}` is no longer in the schedules; not sent after a restart",
        run.campaign
    );
    for d in ledger.deliveries_of_run(run.id)? {
        if d.state == DeliveryState::Pending {
            ledger.transition(d.id, DeliveryState::Expired, Some(&reason), now)?;
        }
    }
    tracing::warn!(run = %run.id, campaign = %run.campaign, "{reason}");
    close_settled(ledger).map(|_| ())
}
