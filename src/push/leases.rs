//! Driving runs under delivery leases ([`crate::ledger::lease`]): before a run's deliveries are
//! sent, this instance takes the lease of every one not final yet (those it created as it
//! recorded the run were written leased to it, and are not written again); only those it holds
//! are sent, and a run none of whose open deliveries it holds is left whole to the instance that
//! does (no sends, no state follow-ups, no cancels from here). The leases are renewed while the
//! run goes on and released when it is done with; at shutdown they are made to run out instead
//! (so another instance takes over at once whatever is left, follow-ups included).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::watch;

use super::{PlayClock, PreparedRun, Pusher, state::StateWait};
use crate::dispatch::{Clock, DispatchReport, Dispatcher};
use crate::ledger::{DeliveryId, DeliveryState, Lease, LedgerError, RunId};
use crate::transport::Router;

impl Pusher {
    /// The lease this pusher sends under: its holder, and the registry's `lease_s`.
    pub fn lease(&self) -> Lease {
        Lease {
            holder: Arc::clone(&self.instance),
            time: self.registry.push.lease,
        }
    }

    /// Send every delivery of `runs` this instance holds the lease of and the ledger still has
    /// pending once the leases are taken (the runs were read before: see `catch_up_states`),
    /// then follow their play states; runs whose deliveries all reached a final state are
    /// closed. The runs' prepared deliveries are handed to the dispatcher (taken out of `runs`:
    /// the ledger has their states from here on).
    pub async fn drive(
        &self,
        dispatcher: &Dispatcher<Router>,
        runs: &mut [PreparedRun],
        play: PlayClock,
        wait: StateWait,
        shutdown: watch::Receiver<bool>,
    ) -> DispatchReport {
        let clock = dispatcher.clock();
        let open: Vec<DeliveryId> = runs
            .iter()
            .flat_map(|r| &r.deliveries)
            .filter(|p| !p.delivery.state.is_final())
            .map(|p| p.delivery.id)
            .collect();
        // Leases written with the rows are held as they are while they last beyond two
        // renewals (so the keeper's first renewal may fail and the next still comes in time).
        let margin = crate::dispatch::delta(self.lease().renewal() * 2);
        let fresh: HashSet<DeliveryId> = runs
            .iter()
            .filter_map(|r| r.leased.as_ref())
            .filter(|l| clock.now() + margin < l.until)
            .flat_map(|l| l.ids.iter().copied())
            .collect();
        let (kept, to_take): (Vec<DeliveryId>, Vec<DeliveryId>) =
            open.iter().partition(|id| fresh.contains(id));
        let held: HashSet<DeliveryId> = match self.take_leases(to_take, clock).await {
            Ok(taken) => taken.into_iter().chain(kept).collect(),
            Err(e) => {
                tracing::error!(error = %e, "delivery leases not taken; nothing sent from here");
                HashSet::new()
            }
        };
        let mut mine = Vec::new();
        for r in runs.iter_mut() {
            let ours = r.deliveries.iter().all(|p| p.delivery.state.is_final())
                || r.deliveries.iter().any(|p| held.contains(&p.delivery.id));
            if !ours {
                tracing::info!(run = %r.run.id, campaign = %r.run.campaign,
                    "run left to the instance holding its deliveries");
                continue;
            }
            if let Err(e) = self.catch_up_states(r).await {
                tracing::error!(run = %r.run.id, error = %e,
                    "the run's states not read again; nothing of it sent from here");
                continue;
            }
            mine.push(PreparedRun {
                run: r.run.clone(),
                deliveries: std::mem::take(&mut r.deliveries),
                targeted: r.targeted.clone(),
                unserved: r.unserved.clone(),
                leased: r.leased.take(),
            });
        }
        if held.len() < open.len() {
            tracing::info!(
                held = held.len(),
                others = open.len() - held.len(),
                "deliveries held by other instances are left to them"
            );
        }
        let keeper = self.keep_leases(held.iter().copied().collect(), clock);
        let report = self
            .drive_held(dispatcher, &mut mine, &held, play, wait, shutdown.clone())
            .await;
        let stopping = *shutdown.borrow();
        keeper.done(stopping, clock).await;
        report
    }

    /// Bring `run`'s deliveries that moved on since the run was read up to their states in the
    /// ledger, read once its leases are taken (no other instance moves a delivery this one
    /// holds). Another instance may have sent some of them in between: one played since, or one
    /// delivered before its lease on it ran out. Their states, not the earlier `pending`, then
    /// decide what is sent (nothing: a played one comes back with the final ones, which need no
    /// lease) and what is followed up. One read of the run's deliveries that are not pending;
    /// a run just recorded has none.
    async fn catch_up_states(&self, run: &mut PreparedRun) -> Result<(), LedgerError> {
        let past: Vec<DeliveryState> = DeliveryState::ALL
            .into_iter()
            .filter(|s| *s != DeliveryState::Pending)
            .collect();
        let (ledger, id) = (Arc::clone(&self.ledger), run.run.id);
        let moved = tokio::task::spawn_blocking(move || ledger.deliveries_of_run_in(id, &past))
            .await
            .expect("ledger task")?;
        let now: HashMap<DeliveryId, DeliveryState> =
            moved.iter().map(|d| (d.id, d.state)).collect();
        for p in &mut run.deliveries {
            if let Some(&state) = now.get(&p.delivery.id) {
                p.delivery.state = state;
            }
        }
        Ok(())
    }

    /// Hold the leases of `run`'s deliveries not final yet, for a follow-up (cancels, play
    /// states) of a run no one is driving; `None` when another instance holds them all.
    pub async fn hold_run(&self, run: RunId, clock: Clock) -> Result<Option<Keeper>, LedgerError> {
        let ledger = Arc::clone(&self.ledger);
        let open: Vec<DeliveryId> =
            tokio::task::spawn_blocking(move || ledger.deliveries_of_run(run))
                .await
                .expect("ledger task")?
                .into_iter()
                .filter(|d| !d.state.is_final())
                .map(|d| d.id)
                .collect();
        let held = self.take_leases(open.clone(), clock).await?;
        if held.is_empty() && !open.is_empty() {
            tracing::info!(%run, "follow-up left to the instance holding the run's deliveries");
            return Ok(None);
        }
        Ok(Some(self.keep_leases(held, clock)))
    }

    /// Follow up `run`, which no instance is driving (its driver died), under the leases of its
    /// open deliveries this instance holds or can take: send its unsettled cancels, then ask its
    /// play states, then release the leases. Nothing when another instance holds them all.
    pub async fn follow_up_run(
        &self,
        run: RunId,
        clock: Clock,
        play: PlayClock,
        wait: StateWait,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), super::PushError> {
        let Some(keeper) = self.hold_run(run, clock).await? else {
            return Ok(());
        };
        let held = keeper.held();
        let sent = self.send_cancels(run, &held, clock, shutdown.clone()).await;
        let asked = self
            .await_states(run, &held, play, wait, shutdown.clone())
            .await;
        let stopping = *shutdown.borrow();
        keeper.done(stopping, clock).await;
        sent.and(asked)
    }

    /// Make this instance's leases on `ids` run out now (they stay in its name: it takes them
    /// back at once if it comes back first).
    async fn run_out_leases(&self, ids: Vec<DeliveryId>, clock: Clock) -> Result<(), LedgerError> {
        if ids.is_empty() {
            return Ok(());
        }
        let (ledger, holder, now) = (
            Arc::clone(&self.ledger),
            Arc::clone(&self.instance),
            clock.now(),
        );
        tokio::task::spawn_blocking(move || ledger.lease(&ids, &holder, now, now).map(drop))
            .await
            .expect("ledger task")
    }

    /// Take (or renew) this instance's lease on `ids`; the ids it holds.
    pub async fn take_leases(
        &self,
        ids: Vec<DeliveryId>,
        clock: Clock,
    ) -> Result<Vec<DeliveryId>, LedgerError> {
        if ids.is_empty() {
            return Ok(ids);
        }
        let (ledger, lease) = (Arc::clone(&self.ledger), self.lease());
        let now = clock.now();
        tokio::task::spawn_blocking(move || {
            ledger.lease(&ids, &lease.holder, lease.until(now), now)
        })
        .await
        .expect("ledger task")
    }

    /// Renew the leases on `ids` every [`Lease::renewal`] until the returned keeper is released
    /// or dropped. A lease lost (this instance was cut off longer than the lease time, and
    /// another took the delivery over) is said loudly.
    pub fn keep_leases(&self, ids: Vec<DeliveryId>, clock: Clock) -> Keeper {
        let this = self.clone();
        let renew = ids.clone();
        let task = tokio::spawn(async move {
            let ids = renew;
            if ids.is_empty() {
                return;
            }
            let tick = this.lease().renewal();
            loop {
                tokio::time::sleep(tick).await;
                match this.take_leases(ids.clone(), clock).await {
                    Ok(held) if held.len() < ids.len() => {
                        let lost: Vec<i64> = ids
                            .iter()
                            .filter(|id| !held.contains(id))
                            .map(|id| id.0)
                            .collect();
                        tracing::error!(?lost, "delivery leases lost to another instance");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "delivery leases not renewed"),
                }
            }
        });
        Keeper {
            task,
            ids,
            pusher: self.clone(),
        }
    }
}

/// Leases renewed in the background; dropping it stops the renewals (the leases then run out),
/// [`Keeper::release`] also gives them up at once.
#[derive(Debug)]
pub struct Keeper {
    task: tokio::task::JoinHandle<()>,
    ids: Vec<DeliveryId>,
    pusher: Pusher,
}

impl Keeper {
    /// Done with the deliveries: released when their work is over; when the instance is shutting
    /// down (`stopping`), their leases are made to run out now instead, so another instance
    /// claims what is left — pending deliveries, play states still to ask, cancels still to
    /// send — at once ([`crate::ledger::lease`]: a released follow-up is not claimed again).
    pub async fn done(self, stopping: bool, clock: Clock) {
        if !stopping {
            return self.release().await;
        }
        self.task.abort();
        let ids = self.ids.clone();
        if let Err(e) = self.pusher.run_out_leases(ids, clock).await {
            tracing::warn!(error = %e, "leases not handed over; they run out by themselves");
        }
    }

    /// The deliveries whose leases this keeper renews.
    pub fn held(&self) -> HashSet<DeliveryId> {
        self.ids.iter().copied().collect()
    }

    /// Stop renewing and release the leases.
    pub async fn release(self) {
        self.task.abort();
        if self.ids.is_empty() {
            return;
        }
        let (ledger, holder) = (
            Arc::clone(&self.pusher.ledger),
            Arc::clone(&self.pusher.instance),
        );
        let ids = self.ids.clone();
        let released =
            tokio::task::spawn_blocking(move || ledger.release_leases(&ids, &holder)).await;
        if let Ok(Err(e)) = released {
            tracing::warn!(error = %e, "leases not released; they run out by themselves");
        }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}
