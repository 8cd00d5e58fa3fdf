//! Pairs broken while their run is still going out: as each delivery of a dispatch ends, a half
//! that ended `expired` or `rejected` gets its partner's cancel recorded and sent at once (and a
//! half delivered after its partner ended badly is cancelled as soon as it lands), rather than
//! after the whole dispatch — with repeats, a run's dispatch lasts until its last pair's
//! deadline, long after its first pair's window opened.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::pairs::half_name;
use super::{PreparedRun, PushError, Pusher};
use crate::dispatch::{Clock, JobEnd, JobResult};
use crate::ledger::{Cancel, Delivery, DeliveryId, DeliveryState, NewCancel};

/// Each delivery of a set of runs → its pair's other half at the same endpoint, and the latest
/// time a cancel of it is worth sending (its slot's air-by).
#[derive(Debug, Default)]
pub struct Partners(HashMap<DeliveryId, (DeliveryId, DateTime<Utc>)>);

impl Partners {
    /// The pairs of `runs` (their prepared deliveries, before they are handed to dispatch);
    /// `air_by` counts from each run's slot.
    pub fn of(runs: &[PreparedRun], air_by: TimeDelta) -> Partners {
        let mut map = HashMap::new();
        for r in runs {
            let by_ebm: HashMap<(&str, &str), DeliveryId> = r
                .deliveries
                .iter()
                .map(|p| {
                    (
                        (
                            p.delivery.plan.endpoint.as_str(),
                            p.delivery.plan.ebm_id.as_str(),
                        ),
                        p.delivery.id,
                    )
                })
                .collect();
            let cancel_by = r.run.occurrence + air_by;
            for p in &r.deliveries {
                let d = &p.delivery;
                let Some(related) = &d.plan.related_ebm_id else {
                    continue;
                };
                if let Some(&partner) = by_ebm.get(&(d.plan.endpoint.as_str(), related.as_str())) {
                    map.insert(d.id, (partner, cancel_by.max(d.plan.air_by)));
                }
            }
        }
        Partners(map)
    }

    /// The other half of `delivery`'s pair and its cancel deadline.
    pub fn of_half(&self, delivery: DeliveryId) -> Option<(DeliveryId, DateTime<Utc>)> {
        self.0.get(&delivery).copied()
    }
}

impl Pusher {
    /// Follow a dispatch's `ends` (see [`crate::dispatch::Dispatcher::dispatch_reporting`])
    /// until the dispatch drops its sender, cancelling each delivered half of a pair as soon as
    /// its partner ends badly, under the half's lease (held here in `held`, or free); then wait for the cancels sent (each until settled or past its
    /// deadline, or `shutdown`).
    pub async fn cancel_as_pairs_break(
        &self,
        partners: Partners,
        held: &HashSet<DeliveryId>,
        mut ends: mpsc::UnboundedReceiver<JobResult>,
        clock: Clock,
        shutdown: watch::Receiver<bool>,
    ) {
        let mut bad: HashSet<DeliveryId> = HashSet::new();
        let mut sends = JoinSet::new();
        while let Some(end) = ends.recv().await {
            let Some((partner, cancel_by)) = partners.of_half(end.delivery) else {
                continue;
            };
            let (broken, half) = match end.end {
                JobEnd::Expired { .. } | JobEnd::Rejected { .. } => {
                    bad.insert(end.delivery);
                    (end.delivery, partner)
                }
                JobEnd::Delivered | JobEnd::Accepted if bad.contains(&partner) => {
                    (partner, end.delivery)
                }
                _ => continue,
            };

            let (this, now) = (self.clone(), clock.now());
            let recorded = tokio::task::spawn_blocking(move || {
                this.cancel_now_blocking(broken, half, cancel_by, now)
            })
            .await
            .expect("ledger task");
            match recorded {
                Ok(Some((c, d))) => {
                    let (this, stop, mine) = (self.clone(), shutdown.clone(), held.contains(&half));
                    sends.spawn(
                        async move { this.send_cancel_leased(c, d, mine, clock, stop).await },
                    );
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(delivery = %half, error = %e, "recording a cancel failed")
                }
            }
        }
        while let Some(sent) = sends.join_next().await {
            match sent {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "sending a cancel failed"),
                Err(e) => tracing::error!(error = %e, "cancel task failed"),
            }
        }
    }

    /// Record the cancel of `half` because `broken` ended badly, if `half` is out at its
    /// platform (sent or delivered) and no cancel of it is recorded yet: the cancel to send.
    fn cancel_now_blocking(
        &self,
        broken: DeliveryId,
        half: DeliveryId,
        cancel_by: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<(Cancel, Delivery)>, PushError> {
        let (Some(b), Some(d)) = (self.ledger.delivery(broken)?, self.ledger.delivery(half)?)
        else {
            return Ok(None);
        };
        let out = matches!(d.state, DeliveryState::Sent | DeliveryState::Delivered);
        let ended_badly = matches!(b.state, DeliveryState::Expired | DeliveryState::Rejected);
        if !out
            || !ended_badly
            || self
                .ledger
                .cancels(Some(d.plan.run))?
                .iter()
                .any(|c| c.delivery == half)
        {
            return Ok(None);
        }
        let reason = format!("{} half {}", half_name(b.plan.lang), b.state);
        let cancel = self.record_cancel_of(&d, reason, cancel_by, now)?;
        Ok(Some((cancel, d)))
    }

    /// Record the intent to cancel `d` (before anything is sent), under a fresh package id.
    pub(super) fn record_cancel_of(
        &self,
        d: &Delivery,
        reason: String,
        cancel_by: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Cancel, PushError> {
        let ebd_id = self.control_ebd_id_for(&d.plan.ebm_id, self.wire.now())?;
        let new = NewCancel {
            delivery: d.id,
            ebd_id: ebd_id.as_str().to_string(),
            reason,
            cancel_by: cancel_by.max(d.plan.air_by),
        };
        let (cancel, _) = self.ledger.record_cancel(&new, now)?;
        tracing::warn!(delivery = %d.id, endpoint = %d.plan.endpoint, reason = %cancel.reason,
            "cancel of a broken pair's half recorded");
        Ok(cancel)
    }
}
