//! A run driven under its leases: the dispatch's ends are passed on as they come, to the pair
//! breaks ([`super::breaks`]) and to the play-state follow-ups ([`super::state`]), so each
//! delivery's state is asked from its window's end even while the rest of the run is still
//! going out (a run to 10,000 endpoints would otherwise leave its 20,000 state requests until
//! after its last push).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::mpsc::{self, unbounded_channel};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::breaks::Partners;
use super::state::{StateWait, log_follow};
use super::{PlayClock, PreparedRun, Pusher};
use crate::dispatch::{DispatchReport, Dispatcher, Ended, JobEnd, JobResult, delta};
use crate::ledger::{Delivery, DeliveryId, DeliveryState, LedgerError};
use crate::transport::Router;

impl Pusher {
    /// [`Pusher::drive`] once the leases are taken: send the pending deliveries of `runs` that
    /// are in `held`, following each one's play state from the moment it is delivered, and
    /// after the dispatch those the ledger holds as out at their platforms; then close the
    /// settled runs.
    pub(super) async fn drive_held(
        &self,
        dispatcher: &Dispatcher<Router>,
        runs: &mut [PreparedRun],
        held: &HashSet<DeliveryId>,
        play: PlayClock,
        wait: StateWait,
        shutdown: watch::Receiver<bool>,
    ) -> DispatchReport {
        let clock = dispatcher.clock();
        // A half whose partner already ended badly (before a restart) is never sent.
        let withheld: HashSet<_> = self.whole_pairs(runs, held, clock, None).await;
        let air_by = TimeDelta::from_std(self.registry.push.air_by).unwrap_or(TimeDelta::MAX);
        let partners = Partners::of(runs, air_by);
        let jobs = runs
            .iter_mut()
            .flat_map(|r| std::mem::take(&mut r.deliveries))
            .filter(|p| p.delivery.state == DeliveryState::Pending)
            .filter(|p| !withheld.contains(&p.delivery.id) && held.contains(&p.delivery.id))
            .collect();
        let (delivered, arriving) = unbounded_channel();
        let sending = async {
            let (ends, ended) = unbounded_channel();
            let (broke, broken) = unbounded_channel();
            let (report, told, ()) = tokio::join!(
                dispatcher.dispatch_reporting(jobs, shutdown.clone(), Some(ends)),
                tee_ends(ended, broke, delivered.clone()),
                self.cancel_as_pairs_break(partners, held, broken, clock, shutdown.clone()),
            );
            self.router
                .forget_recipes(report.jobs.iter().map(|j| j.delivery));
            self.whole_pairs(runs, held, clock, Some(&shutdown)).await;
            // Then whatever else the ledger holds as out at its platform: deliveries out before
            // a restart (a service's start already follows those: `service::loops::follow_up`,
            // whose requests would otherwise be doubled) and any whose end was not told.
            for r in runs.iter() {
                match self.awaiting_untold(r.run.id, held, &told).await {
                    Ok(ds) => ds.into_iter().for_each(|d| drop(delivered.send(d))),
                    Err(e) => tracing::error!(error = %e, "state follow-up failed"),
                }
            }
            drop(delivered);
            report
        };
        let following = self.follow_as_delivered(arriving, play, wait, shutdown.clone());
        let (report, ()) = tokio::join!(sending, following);
        // A half that failed to play stops its partner too, if it is not too late.
        self.whole_pairs(runs, held, clock, Some(&shutdown)).await;
        for r in runs {
            let (ledger, id) = (Arc::clone(&self.ledger), r.run.id);
            let closed = tokio::task::spawn_blocking(move || {
                let all_final = ledger
                    .deliveries_of_run_in(id, &DeliveryState::NOT_FINAL)?
                    .is_empty();
                if all_final {
                    ledger.close_run(id)?;
                }
                Ok::<_, LedgerError>(all_final)
            })
            .await;
            if let Ok(Err(e)) = closed {
                tracing::error!(run = %id, error = %e, "closing the run failed");
            }
        }
        report
    }

    /// Ask the play state of each EBD delivery arriving on `delivered` (once, however often it
    /// arrives) from its window's end + grace, until `delivered` is closed and every follow-up
    /// has ended, or `shutdown`. Deliveries waiting for their window are entries in a queue
    /// ordered by window end, not tasks: at most `32 × concurrency` (1,024 by default)
    /// follow-ups are alive at once, and at most `concurrency` requests in flight.
    pub(super) async fn follow_as_delivered(
        &self,
        mut delivered: mpsc::UnboundedReceiver<Delivery>,
        clock: PlayClock,
        wait: StateWait,
        shutdown: watch::Receiver<bool>,
    ) {
        let gate = Arc::new(Semaphore::new(wait.concurrency.max(1)));
        let live = (wait.concurrency * 32).max(256);
        let mut queue: BinaryHeap<Reverse<Due>> = BinaryHeap::new();
        let mut seen = HashSet::new();
        let mut set = JoinSet::new();
        let (mut stop, mut open) = (shutdown.clone(), true);
        while open || !queue.is_empty() {
            let next = queue
                .peek()
                .map(|Reverse(due)| clock.real_until(due.0.plan.window_end + delta(wait.grace)));
            tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => break,
                Some(r) = set.join_next(), if !set.is_empty() => log_follow(r),
                () = after(next.unwrap_or_default()), if next.is_some() && set.len() < live => {
                    let Some(Reverse(Due(d))) = queue.pop() else { continue };
                    let (this, gate, mut stop) = (self.clone(), Arc::clone(&gate), shutdown.clone());
                    set.spawn(async move {
                        tokio::select! {
                            r = this.follow(d, clock, wait, gate) => r,
                            _ = stop.wait_for(|s| *s) => Ok(()),
                        }
                    });
                }
                d = delivered.recv(), if open => match d {
                    Some(d) if self.router.ebd(&d.plan.endpoint).is_some() && seen.insert(d.id) => {
                        queue.push(Reverse(Due(d)));
                    }
                    Some(_) => {}
                    None => open = false,
                },
            }
        }
        while let Some(r) = set.join_next().await {
            log_follow(r);
        }
    }
}

/// A delivery waiting for its state to be asked, ordered by the end of its play window.
struct Due(Delivery);

impl Due {
    fn key(&self) -> (DateTime<Utc>, DeliveryId) {
        (self.0.plan.window_end, self.0.id)
    }
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// Ready after `d` of real time; at once (no timer tick) when `d` is zero.
async fn after(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

/// Pass each end of a dispatch on to `breaks`, and each delivery it left out at its platform
/// (delivered, or sent: acknowledged or answered unverified) to `delivered`, as it ends; the
/// ids passed to `delivered`.
pub(super) async fn tee_ends(
    mut ends: mpsc::UnboundedReceiver<Ended>,
    breaks: mpsc::UnboundedSender<JobResult>,
    delivered: mpsc::UnboundedSender<Delivery>,
) -> HashSet<DeliveryId> {
    let mut told = HashSet::new();
    while let Some(Ended {
        result,
        mut delivery,
    }) = ends.recv().await
    {
        let state = match result.end {
            JobEnd::Delivered => Some(DeliveryState::Delivered),
            JobEnd::Accepted => Some(DeliveryState::Sent),
            _ => None,
        };
        if let Some(state) = state {
            delivery.state = state;
            told.insert(delivery.id);
            let _ = delivered.send(delivery);
        }
        let _ = breaks.send(result);
    }
    told
}
