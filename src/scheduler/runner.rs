//! The real [`Runner`]: firing a slot prepares the run in the ledger and pushes it (resuming
//! whatever a crash left pending, with the recorded ids); a missed slot is written to the ledger
//! and its deliveries expired, so coverage shows it targeted and not reached. Each slot takes
//! the [`PushSet`] in force when it is prepared and keeps it to the end of its run.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::Runner;
use super::endpoints::PushSet;
use crate::dispatch::Clock;
use crate::ledger::LedgerError;
use crate::push::state::StateWait;
use crate::push::{PlayClock, Project, PushError, Pusher};

/// Pushes fired slots through the current pusher and dispatcher (replaced when the endpoint
/// registry is edited).
#[derive(Debug)]
pub struct PushRunner {
    pub push: watch::Receiver<Arc<PushSet>>,
    pub clock: Clock,
    pub play: PlayClock,
    pub wait: StateWait,
    /// Slots prepared at once (planning and packaging are CPU-bound; a catch-up fires many).
    pub preparing: Arc<tokio::sync::Semaphore>,
}

impl Runner for PushRunner {
    async fn fire(
        &self,
        project: Arc<Project>,
        campaign: String,
        occurrence: DateTime<Utc>,
        shutdown: watch::Receiver<bool>,
    ) {
        let permit = self.preparing.acquire().await.expect("semaphore open");
        let set = Arc::clone(&self.push.borrow());
        let now = self.clock.now();
        let pusher = set.pusher.clone();
        let c = campaign.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            pusher.prepare_occurrence(&project, &c, occurrence, now, Some(now))
        })
        .await;
        drop(permit);
        let mut run = match prepared {
            Ok(Ok(Some(run))) => run,
            Ok(Ok(None)) => {
                tracing::info!(%campaign, %occurrence, "nothing airs at this slot");
                return;
            }
            Ok(Err(e)) => {
                tracing::error!(%campaign, %occurrence, error = %e, "slot could not be prepared");
                return;
            }
            Err(e) => {
                tracing::error!(%campaign, %occurrence, error = %e, "slot preparation panicked");
                return;
            }
        };
        let report = set
            .pusher
            .drive(
                &set.dispatcher,
                std::slice::from_mut(&mut run),
                self.play,
                self.wait,
                shutdown,
            )
            .await;
        tracing::info!(%campaign, %occurrence, run = %run.run.id,
            delivered = report.count("delivered"), accepted = report.count("accepted"),
            rejected = report.count("rejected"), expired = report.count("expired"),
            interrupted = report.count("interrupted"), "slot pushed");
    }

    async fn missed(&self, project: Arc<Project>, campaign: String, occurrence: DateTime<Utc>) {
        let _permit = self.preparing.acquire().await.expect("semaphore open");
        let now = self.clock.now();
        let pusher = self.push.borrow().pusher.clone();
        let c = campaign.clone();
        let done = tokio::task::spawn_blocking(move || {
            record_missed(&pusher, &project, &c, occurrence, now)
        })
        .await;
        match done {
            Ok(Ok(n)) => {
                tracing::warn!(%campaign, %occurrence, expired = n, "slot recorded as missed")
            }
            Ok(Err(e)) => {
                tracing::error!(%campaign, %occurrence, error = %e, "missed slot not recorded")
            }
            Err(e) => {
                tracing::error!(%campaign, %occurrence, error = %e, "recording a missed slot panicked")
            }
        }
    }
}

/// Write the slot's run and deliveries, then expire what is past its air-by deadline.
fn record_missed(
    pusher: &Pusher,
    project: &Project,
    campaign: &str,
    occurrence: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize, PushError> {
    let Some(run) = pusher.prepare_occurrence(project, campaign, occurrence, now, None)? else {
        return Ok(0);
    };
    let expired = pusher.ledger.expire_overdue(now)?;
    let all_final = pusher
        .ledger
        .deliveries_of_run(run.run.id)?
        .iter()
        .all(|d| d.state.is_final());
    if all_final {
        pusher.ledger.close_run(run.run.id)?;
    }
    Ok::<_, LedgerError>(expired.len()).map_err(PushError::from)
}
