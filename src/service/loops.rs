//! The service's background loops beside the cron loop: `ConnectionCheck` heartbeats to the
//! endpoints in force, and the follow-up of what a restart left unsettled: cancels, play states
//! (each run's under the leases of its deliveries, so two instances never both follow one up).
//! Both read time from the service's clock.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::dispatch::Clock;
use crate::ledger::RunId;
use crate::push::state::StateWait;
use crate::push::{PlayClock, Pusher};
use crate::scheduler::endpoints::PushSet;
use crate::server::Metrics;

/// After a restart: send the cancels recorded before it and never settled (halves of broken
/// pairs), then ask the play state of deliveries received before it and never settled — of
/// the runs this instance may push at content version `version` only ([`ours_only`]).
pub async fn follow_up(
    pusher: Pusher,
    clock: Clock,
    max_after: Duration,
    version: String,
    stop: watch::Receiver<bool>,
) {
    let ledger = Arc::clone(&pusher.ledger);
    match tokio::task::spawn_blocking(move || ledger.cancels(None)).await {
        Ok(Ok(pending)) => {
            let mut runs: Vec<_> = pending.iter().map(|c| c.run).collect();
            runs.sort();
            runs.dedup();
            let runs = ours_only(&pusher, runs, &version, clock.now()).await;
            if !runs.is_empty() {
                tracing::info!(cancels = pending.len(), "sending cancels left unsettled");
            }
            let sends = runs.into_iter().map(|run| {
                let (pusher, stop) = (&pusher, stop.clone());
                async move {
                    let Some(held) = pusher.hold_run(run, clock).await? else {
                        return Ok(());
                    };
                    let sent = pusher
                        .send_cancels(run, &held.held(), clock, stop.clone())
                        .await;
                    let stopping = *stop.borrow();
                    held.done(stopping, clock).await;
                    sent
                }
            });
            for r in futures_util::future::join_all(sends).await {
                if let Err(e) = r {
                    tracing::error!(error = %e, "sending cancels failed");
                }
            }
        }
        Ok(Err(e)) => tracing::error!(error = %e, "unsettled cancels not read"),
        Err(e) => tracing::error!(error = %e, "unsettled cancels not read"),
    }
    let ledger = Arc::clone(&pusher.ledger);
    let waiting =
        match tokio::task::spawn_blocking(move || ledger.deliveries_awaiting_state()).await {
            Ok(Ok(w)) => w,
            Ok(Err(e)) => return tracing::error!(error = %e, "unsettled deliveries not read"),
            Err(e) => return tracing::error!(error = %e, "unsettled deliveries not read"),
        };
    let mut runs: Vec<_> = waiting.iter().map(|d| d.plan.run).collect();
    runs.sort();
    runs.dedup();
    let runs = ours_only(&pusher, runs, &version, clock.now()).await;
    if !runs.is_empty() {
        tracing::info!(
            runs = runs.len(),
            deliveries = waiting.len(),
            "following up unsettled deliveries"
        );
    }
    let wait = StateWait {
        max_after,
        ..StateWait::of(&pusher.registry.push)
    };
    let play = PlayClock::starting_at(clock.now(), 1.0);
    for run in runs {
        let held = match pusher.hold_run(run, clock).await {
            Ok(Some(held)) => held,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(%run, error = %e, "follow-up failed");
                continue;
            }
        };
        let mine = held.held();
        if let Err(e) = pusher
            .await_states(run, &mine, play, wait, stop.clone())
            .await
        {
            tracing::error!(%run, error = %e, "follow-up failed");
        }
        let stopping = *stop.borrow();
        held.done(stopping, clock).await;
    }
    let ledger = Arc::clone(&pusher.ledger);
    match tokio::task::spawn_blocking(move || super::resume::close_settled(ledger.as_ref())).await {
        Ok(Ok(n)) if n > 0 => tracing::info!(runs = n, "settled runs closed"),
        Ok(Err(e)) => tracing::error!(error = %e, "settled runs not closed"),
        _ => {}
    }
}

/// The runs of `runs` this instance may follow up at `version`: not those created under a
/// version another live instance holds (that one follows them up; each refusal is logged).
async fn ours_only(
    pusher: &Pusher,
    runs: Vec<RunId>,
    version: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<RunId> {
    let (p, version) = (pusher.clone(), version.to_string());
    let kept = tokio::task::spawn_blocking(move || {
        let refused = |id: &RunId| match p.ledger.run(*id) {
            Ok(Some(run)) => p.permit(&run, &version, now).is_err(),
            _ => false,
        };
        runs.into_iter().filter(|id| !refused(id)).collect()
    });
    kept.await.unwrap_or_default()
}

/// `ConnectionCheck` to every EBD endpoint in force, every `connection_check_s` of its registry;
/// each answer sets the endpoint's `shengbo_endpoint_up`.
pub async fn heartbeats(
    push: watch::Receiver<Arc<PushSet>>,
    clock: Clock,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let set = Arc::clone(&push.borrow());
        let interval = set.pusher.registry.push.connection_check;
        for (endpoint, result) in set.pusher.connection_checks(clock.now()).await {
            metrics.endpoint_health(&endpoint, result.is_ok());
            match result {
                Ok(()) => tracing::debug!(%endpoint, "heartbeat ok"),
                Err(e) => tracing::warn!(%endpoint, error = %e, "heartbeat failed"),
            }
        }
        drop(set);
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
