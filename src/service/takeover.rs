//! Takeover: every instance looks, every [`Lease::tick`](crate::ledger::Lease::tick), for
//! deliveries still to work on whose lease ran out (their instance died, or was cut off from the
//! database longer than the lease time) and claims them ([`Claim`]). A run with pending ones is
//! fired again the way a restart resumes it — preparing a recorded run finds its deliveries and
//! ids, so they go out as recorded, and its delivered ones are followed up with them. A run with
//! only sent or delivered ones (play states still asked, cancels of broken pairs' halves not
//! settled) is followed up: its cancels sent, its states asked, by this instance only. What is
//! more than a lease time past its air-by is expired (with the reason) and its run closed.
//!
//! Whether this instance may take a run is decided in one place, [`may_take`].

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::dispatch::{Clock, delta};
use crate::ledger::{Claim, Delivery, DeliveryState, Ledger, LedgerError, Run, RunId};
use crate::push::state::StateWait;
use crate::push::{PlayClock, Project};
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
        let wait = StateWait::of(&pusher.registry.push);
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
            let claim = Claim {
                now,
                stale: now - delta(lease.time),
                states_since: now - delta(wait.max_after),
            };
            let claimed =
                ledger.claim_leases(&lease.holder, lease.until(now), &claim, CLAIM_LIMIT)?;
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
        for (
            run,
            Claimed {
                deliveries,
                pending,
            },
        ) in runs
        {
            if let Err(why) = may_take(&run, &loaded) {
                tracing::warn!(run = %run.id, campaign = %run.campaign, deliveries,
                    "not taking over a run: {why}; left to another instance");
                continue;
            }
            tracing::warn!(run = %run.id, campaign = %run.campaign, occurrence = %run.occurrence,
                deliveries, pending, holder = %lease.holder,
                "taking over deliveries whose lease ran out");
            if pending > 0 {
                let (r, p, s) = (Arc::clone(&runner), Arc::clone(&loaded), stop.clone());
                fired.spawn(async move { r.fire(p, run.campaign, run.occurrence, s).await });
                continue;
            }
            let (pusher, s) = (pusher.clone(), stop.clone());
            let version = loaded.version.hash.clone();
            fired.spawn(follow_up(pusher, run, version, clock, wait, s));
        }
    }
    while fired.join_next().await.is_some() {}
}

/// Follow up `run`, all of whose claimed deliveries were sent or delivered: if this instance
/// may push its content version, send its cancels and ask its states; then close it if settled.
async fn follow_up(
    pusher: crate::push::Pusher,
    run: Run,
    version: String,
    clock: Clock,
    wait: StateWait,
    stop: watch::Receiver<bool>,
) {
    let (p, r, now) = (pusher.clone(), run.clone(), clock.now());
    let permitted = tokio::task::spawn_blocking(move || p.permit(&r, &version, now).is_ok());
    if !permitted.await.unwrap_or(false) {
        return;
    }
    let play = PlayClock::starting_at(clock.now(), 1.0);
    if let Err(e) = pusher.follow_up_run(run.id, clock, play, wait, stop).await {
        tracing::error!(run = %run.id, error = %e, "follow-up of a run taken over failed");
    }
    let ledger = Arc::clone(&pusher.ledger);
    let closed = tokio::task::spawn_blocking(move || super::resume::close_settled(ledger.as_ref()));
    if let Ok(Err(e)) = closed.await {
        tracing::error!(error = %e, "settled runs not closed");
    }
}

/// How many deliveries of a run were claimed, and how many of them are still to send.
#[derive(Debug, Default, Clone, Copy)]
struct Claimed {
    deliveries: usize,
    pending: usize,
}

/// The runs of `claimed`, with what was claimed of each.
fn runs_of(
    ledger: &dyn Ledger,
    claimed: Vec<Delivery>,
) -> Result<Vec<(Run, Claimed)>, LedgerError> {
    let mut by_run: BTreeMap<RunId, Claimed> = BTreeMap::new();
    for d in &claimed {
        let c = by_run.entry(d.plan.run).or_default();
        c.deliveries += 1;
        c.pending += usize::from(d.state == DeliveryState::Pending);
    }
    by_run
        .into_iter()
        .map(|(id, n)| Ok((ledger.run(id)?.ok_or(LedgerError::UnknownRun(id))?, n)))
        .collect()
}
