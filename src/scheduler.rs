//! The scheduler: the cron loop of `shengbo serve`. A `select!` over sleeping until the next slot
//! (its push time: the occurrence minus the lead time), a reload signal and shutdown. Every slot
//! whose push time has come is fired; after downtime, slots still inside their air-by window are
//! fired late (after any slot whose window is still ahead), older ones are recorded as missed
//! and never aired. What firing does is a
//! [`Runner`] (the real one pushes; tests record).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::dispatch::{Clock, delta};
use crate::push::Project;
use crate::schedule::Campaign;

pub mod endpoints;
pub mod reload;
pub mod runner;

pub use runner::PushRunner;

/// What the loop does with a slot.
pub trait Runner: Send + Sync + 'static {
    /// Push `campaign`'s occurrence (it may already be in the ledger: resume it).
    fn fire(
        &self,
        project: Arc<Project>,
        campaign: String,
        occurrence: DateTime<Utc>,
        shutdown: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + Send;
    /// Record an occurrence that passed its air-by deadline while nothing ran.
    fn missed(
        &self,
        project: Arc<Project>,
        campaign: String,
        occurrence: DateTime<Utc>,
    ) -> impl Future<Output = ()> + Send;
}

/// Timing of the loop.
#[derive(Debug, Clone, Copy)]
pub struct LoopConfig {
    /// Push this long before the slot.
    pub lead: Duration,
    /// A slot not pushed by `occurrence + air_by` is missed.
    pub air_by: Duration,
    /// In-flight pushes get this long to finish after shutdown.
    pub drain: Duration,
}

/// The cron loop.
#[derive(Debug)]
pub struct CronLoop<R> {
    pub runner: Arc<R>,
    pub clock: Clock,
    pub config: LoopConfig,
    /// The current project; a new value (a reload) makes the loop look again.
    pub project: watch::Receiver<Arc<Project>>,
}

/// Occurrences of all campaigns in `(after, until]`, in time order, with the campaign id.
pub fn occurrences_between(
    campaigns: &[Campaign],
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, String)> {
    let from = after + TimeDelta::milliseconds(1);
    let to = until + TimeDelta::milliseconds(1);
    let mut out: Vec<(DateTime<Utc>, String)> = campaigns
        .iter()
        .flat_map(|c| {
            c.occurrences(from, to)
                .into_iter()
                .map(|(_, t)| (t, c.id.clone()))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The next occurrence of any campaign after `after` (looking up to 400 days ahead).
pub fn next_occurrence(campaigns: &[Campaign], after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut horizon = TimeDelta::days(1);
    while horizon <= TimeDelta::days(400) {
        if let Some((t, _)) = occurrences_between(campaigns, after, after + horizon).first() {
            return Some(*t);
        }
        horizon = horizon * 4;
    }
    None
}

impl<R: Runner> CronLoop<R> {
    /// Run until `shutdown` turns true. `cursor`: slots at or before it are already handled
    /// (catch-up starts after it). Returns once in-flight pushes finished or the drain ran out.
    pub async fn run(mut self, mut cursor: DateTime<Utc>, mut shutdown: watch::Receiver<bool>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut inflight = JoinSet::new();
        let lead = delta(self.config.lead);
        loop {
            let project = Arc::clone(&self.project.borrow_and_update());
            let now = self.clock.now();
            let mut due = occurrences_between(&project.campaigns, cursor, now + lead);
            // Slots whose window is still ahead go first, nearest first: their pairs must be
            // delivered before it opens, and slots already airing (a catch-up after a restart)
            // queue for preparation behind them, with until their air-by to go out.
            due.sort_by_key(|(occ, _)| (*occ <= now, *occ));
            for (occ, campaign) in due {
                let project = Arc::clone(&project);
                let runner = Arc::clone(&self.runner);
                if now > occ + delta(self.config.air_by) {
                    tracing::warn!(%campaign, occurrence = %occ, "slot missed: past its air-by deadline");
                    inflight.spawn(async move { runner.missed(project, campaign, occ).await });
                } else {
                    tracing::info!(%campaign, occurrence = %occ, "slot fired");
                    let stop = stop_rx.clone();
                    inflight.spawn(async move { runner.fire(project, campaign, occ, stop).await });
                }
            }
            cursor = cursor.max(now + lead);
            let wake = next_occurrence(&project.campaigns, cursor)
                .map_or(now + TimeDelta::days(1), |t| t - lead);
            tokio::select! {
                () = tokio::time::sleep_until(self.clock.instant_at(wake)) => {}
                changed = self.project.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    tracing::info!("schedules reloaded");
                }
                _ = shutdown.wait_for(|s| *s) => break,
                Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
            }
        }
        let _ = stop_tx.send(true);
        let drain = tokio::time::timeout(self.config.drain, async {
            while inflight.join_next().await.is_some() {}
        });
        if drain.await.is_err() {
            tracing::warn!(
                left = inflight.len(),
                "pushes still in flight at the drain deadline"
            );
            inflight.abort_all();
        }
    }
}

/// Where catch-up starts after a restart: after the latest slot already in the ledger (at most a
/// week back), or, for a ledger with no runs, the air-by window before `now`. Runs already in
/// the ledger — the latest and every other open one — are resumed by
/// [`crate::service::resume`], not fired again here.
pub fn catch_up_from(
    latest_run: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    air_by: Duration,
) -> DateTime<Utc> {
    match latest_run {
        Some(t) => t.max(now - TimeDelta::days(7)),
        None => now - delta(air_by),
    }
}

#[cfg(test)]
mod tests;
