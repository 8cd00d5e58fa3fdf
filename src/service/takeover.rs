//! Takeover: every instance looks, every [`Lease::tick`](crate::ledger::Lease::tick), for pending
//! deliveries whose lease ran out (their instance died, or was cut off from the database longer
//! than the lease time), claims them, and fires their runs again the way a restart resumes them
//! — preparing a recorded run finds its deliveries and ids, so they go out as recorded. What is
//! more than a lease time past its air-by is expired (with the reason) and its run closed.
//!
//! Whether this instance may take a run is decided in one place, [`may_take`].

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::dispatch::{Clock, delta};
use crate::ledger::{Delivery, Ledger, LedgerError, Run, RunId};
use crate::push::Project;
use crate::scheduler::Runner;
use crate::scheduler::endpoints::PushSet;

/// Deliveries claimed at once.
const CLAIM_LIMIT: u32 = 1_000;

/// Why this instance does not take over a run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotMine {
    #[error("campaign `{0}` is not in the schedules loaded here")]
    UnknownCampaign(String),
}

/// Whether this instance may take over `run` with the project it has loaded: its campaign must
/// be there. Its recorded content version is held against the one loaded here when the run is
/// fired, by [`crate::push::Pusher::permit`] in `prepare_occurrence`, as for a slot or a
/// resume. A run refused keeps this instance's claim until it runs out, so another instance
/// may take it; this one never claims its own.
pub fn may_take(run: &Run, project: &Project) -> Result<(), NotMine> {
    if !project.campaigns.iter().any(|c| c.id == run.campaign) {
        return Err(NotMine::UnknownCampaign(run.campaign.clone()));
    }
    Ok(())
}

/// Claim and fire, until `stop`.
pub async fn takeover<R: Runner>(
    runner: Arc<R>,
    push: watch::Receiver<Arc<PushSet>>,
    project: watch::Receiver<Arc<Project>>,
    clock: Clock,
    mut stop: watch::Receiver<bool>,
) {
    let mut fired = JoinSet::new();
    loop {
        let pusher = push.borrow().pusher.clone();
        let lease = pusher.lease();
        tokio::select! {
            () = tokio::time::sleep(lease.tick()) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        while fired.try_join_next().is_some() {}
        let (ledger, now, held) = (Arc::clone(&pusher.ledger), clock.now(), lease.clone());
        let claimed = tokio::task::spawn_blocking(move || {
            let lease = held;
            let expired = ledger.expire_overdue(now - delta(lease.time))?;
            if !expired.is_empty() {
                tracing::warn!(
                    expired = expired.len(),
                    "deliveries left past their air-by expired"
                );
                super::resume::close_settled(ledger.as_ref())?;
            }
            let stale = now - delta(lease.time);
            let claimed =
                ledger.claim_leases(&lease.holder, lease.until(now), now, stale, CLAIM_LIMIT)?;
            runs_of(ledger.as_ref(), claimed)
        })
        .await;
        let runs = match claimed {
            Ok(Ok(runs)) => runs,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "run-out leases not looked for");
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "run-out leases not looked for");
                continue;
            }
        };
        let loaded = Arc::clone(&project.borrow());
        for (run, deliveries) in runs {
            if let Err(why) = may_take(&run, &loaded) {
                tracing::warn!(run = %run.id, campaign = %run.campaign, deliveries,
                    "not taking over a run: {why}; left to another instance");
                continue;
            }
            tracing::warn!(run = %run.id, campaign = %run.campaign, occurrence = %run.occurrence,
                deliveries, holder = %lease.holder, "taking over deliveries whose lease ran out");
            let (r, p, s) = (Arc::clone(&runner), Arc::clone(&loaded), stop.clone());
            fired.spawn(async move { r.fire(p, run.campaign, run.occurrence, s).await });
        }
    }
    while fired.join_next().await.is_some() {}
}

/// The runs of `claimed`, with how many deliveries of each were claimed.
fn runs_of(ledger: &dyn Ledger, claimed: Vec<Delivery>) -> Result<Vec<(Run, usize)>, LedgerError> {
    let mut by_run: BTreeMap<RunId, usize> = BTreeMap::new();
    for d in &claimed {
        *by_run.entry(d.plan.run).or_default() += 1;
    }
    by_run
        .into_iter()
        .map(|(id, n)| Ok((ledger.run(id)?.ok_or(LedgerError::UnknownRun(id))?, n)))
        .collect()
}
