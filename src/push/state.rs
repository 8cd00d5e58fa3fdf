//! After the play window: one `EBMStateRequest` per received message, repeated until the
//! platform reports a final state (played, failed, cancelled) or the wait runs out; each report
//! is recorded in the ledger, which moves the delivery. Also the `ConnectionCheck` heartbeat.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::{PlayClock, PushError, Pusher};
use crate::dispatch::delta;
use crate::ebd::{CoverageFigure, EbmStateResponse};
use crate::ledger::{
    CircuitState, Delivery, DeliveryId, DeliveryState, EndpointHealth, RunId, StateReport,
};
use crate::transport::ebd::ExchangeError;

/// How long and how often to ask, in play-clock time.
#[derive(Debug, Clone, Copy)]
pub struct StateWait {
    /// First ask this long after the window ends.
    pub grace: Duration,
    /// Then every this long.
    pub poll: Duration,
    /// Give up this long after the window ends.
    pub max_after: Duration,
    /// Requests in flight at once. 32 by default: with 8, a run to 10,000 endpoints asked few
    /// states while it pushed (its requests queued at the platforms behind the packages) and
    /// most after its last push (BENCHMARKS.md, "state requests in flight").
    pub concurrency: usize,
    /// Ask at least this many times before giving up (an accelerated clock can pass
    /// `max_after` while one request is still out).
    pub min_tries: u32,
    /// Real time (whatever the play clock's speed) over which failing requests (outages, HTTP
    /// 5xx, unreadable replies) are retried with backoff after the first ask; past it and
    /// `max_after`, the delivery is kept as delivered with its play state unknown.
    pub retry_for: Duration,
}

impl StateWait {
    /// The deployment's: give up `[push] state_wait_s` after the window.
    pub fn of(push: &crate::endpoint::PushSettings) -> StateWait {
        StateWait {
            max_after: push.state_wait,
            ..StateWait::default()
        }
    }
}

impl Default for StateWait {
    fn default() -> Self {
        StateWait {
            grace: Duration::from_secs(5),
            poll: Duration::from_secs(15),
            max_after: Duration::from_secs(120),
            concurrency: 32,
            min_tries: 3,
            retry_for: Duration::from_secs(120),
        }
    }
}

/// The ledger's record of a state report, whether asked for (`EBMStateRequest`) or sent to us
/// unasked (`POST /v1/ebd/state`).
pub fn report_of(r: &EbmStateResponse, raw: String) -> StateReport {
    let coverage = r.coverage.as_ref();
    StateReport {
        ebm_id: r.ebm_id.as_str().to_string(),
        reported_at: r.rpt_time,
        brd_state_code: r.brd_state_code,
        description: r.brd_state_desc.clone(),
        coverage_rate: coverage.and_then(|c| c.figure).map(|f| match f {
            CoverageFigure::Rate(x) => x,
            CoverageFigure::Percent(p) => p / 100.0,
        }),
        area_codes: coverage.map(|c| c.area_codes.clone()).unwrap_or_default(),
        terminals: coverage
            .and_then(|c| c.res_brd_stat)
            .map(|s| u64::from(s.terminals)),
        raw,
    }
}

pub(super) fn log_follow(r: Result<Result<(), PushError>, tokio::task::JoinError>) {
    if let Ok(Err(e)) = r {
        tracing::error!(error = %e, "state follow-up failed");
    }
}

impl Pusher {
    /// Ask the play state of every received, unfinished EBD delivery of `run` this instance
    /// holds the lease of (`held`; another instance asks about its own) after its window.
    pub async fn await_states(
        &self,
        run: RunId,
        held: &HashSet<DeliveryId>,
        clock: PlayClock,
        wait: StateWait,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), PushError> {
        let (tx, rx) = mpsc::unbounded_channel();
        for d in self.awaiting_of(run, held).await? {
            let _ = tx.send(d);
        }
        drop(tx);
        self.follow_as_delivered(rx, clock, wait, shutdown).await;
        Ok(())
    }

    /// The deliveries of `run` out at their platforms (sent or delivered) with no final play
    /// state yet, among those held here.
    pub(super) async fn awaiting_of(
        &self,
        run: RunId,
        held: &HashSet<DeliveryId>,
    ) -> Result<Vec<Delivery>, PushError> {
        let ledger = Arc::clone(&self.ledger);
        let out = self
            .blocking(move || Ok(ledger.deliveries_of_run_in(run, &DeliveryState::AWAITING_PLAY)?))
            .await?;
        Ok(out.into_iter().filter(|d| held.contains(&d.id)).collect())
    }

    /// [`awaiting_of`](Self::awaiting_of) but for those in `told` (already handed to the
    /// follow-ups): their ids are read, and the deliveries read whole only when some are left.
    /// After a run's own pushes every delivery out was told, and nothing more is read; after a
    /// restart, those out before it are not.
    pub(super) async fn awaiting_untold(
        &self,
        run: RunId,
        held: &HashSet<DeliveryId>,
        told: &HashSet<DeliveryId>,
    ) -> Result<Vec<Delivery>, PushError> {
        let ledger = Arc::clone(&self.ledger);
        let ids = self
            .blocking(
                move || Ok(ledger.delivery_ids_of_run_in(run, &DeliveryState::AWAITING_PLAY)?),
            )
            .await?;
        let untold: HashSet<DeliveryId> = ids
            .into_iter()
            .filter(|id| held.contains(id) && !told.contains(id))
            .collect();
        if untold.is_empty() {
            return Ok(Vec::new());
        }
        let out = self.awaiting_of(run, held).await?;
        Ok(out.into_iter().filter(|d| untold.contains(&d.id)).collect())
    }

    /// Ask one delivery's state until final or out of time.
    pub(super) async fn follow(
        &self,
        d: Delivery,
        clock: PlayClock,
        wait: StateWait,
        gate: Arc<Semaphore>,
    ) -> Result<(), PushError> {
        let Some(client) = self.router.ebd(&d.plan.endpoint) else {
            return Ok(());
        };
        let first = d.plan.window_end + delta(wait.grace);
        let give_up = d.plan.window_end + delta(wait.max_after);
        clock.sleep_until(first).await;
        let backoff = super::backoff(&self.registry);
        let started = self.wire.now();
        let retry_for = delta(wait.retry_for);
        let (mut tries, mut failures, mut last) = (0, 0u32, String::new());
        loop {
            tries += 1;
            // Wire times come from the real clock; the play clock only says when to ask.
            let now = self.wire.now();
            let asked = {
                let _permit = gate.acquire().await.expect("semaphore open");
                // An id from the block the ledger holds, else from its store (blocking).
                let id = match self.held_control_ebd_id_for(&d.plan.ebm_id, now) {
                    Some(id) => id?,
                    None => {
                        self.blocking({
                            let (this, ebm) = (self.clone(), d.plan.ebm_id.clone());
                            move || this.control_ebd_id_for(&ebm, now)
                        })
                        .await?
                    }
                };
                // Boxed: a follow-up waiting for its window stays small; only one asking holds
                // the request's state.
                Box::pin(client.state_request(id, &d.plan.ebm_id, now)).await
            };
            match asked {
                Ok((resp, raw)) => {
                    self.ledger
                        .queue_state_report(report_of(&resp, raw))
                        .await?;
                    tracing::info!(delivery = %d.id, ebm = %d.plan.ebm_id, state = resp.brd_state_code, "state reported");
                    if matches!(resp.brd_state_code, 3..=5) {
                        return Ok(());
                    }
                    failures = 0;
                }
                Err(e) => {
                    tracing::info!(delivery = %d.id, error = %e, "state request failed");
                    failures += 1;
                    last = e.to_string();
                }
            }
            let retrying = failures > 0 && self.wire.now() - started < retry_for;
            if clock.now() >= give_up && tries >= wait.min_tries && !retrying {
                return self.state_unknown(&d, wait, &last).await;
            }
            let pause = if failures > 0 {
                backoff
                    .delay(failures, &mut rand::rng())
                    .max(clock.real(wait.poll))
            } else {
                clock.real(wait.poll)
            };
            tokio::time::sleep(pause).await;
        }
    }

    /// Out of time: the delivery stays delivered (an acknowledged one becomes delivered), its
    /// play state unknown, with why.
    async fn state_unknown(
        &self,
        d: &Delivery,
        wait: StateWait,
        last: &str,
    ) -> Result<(), PushError> {
        let mut reason = format!(
            "delivered, play state unknown: no final play state within {}s after the window",
            wait.max_after.as_secs()
        );
        if !last.is_empty() {
            reason.push_str(&format!(
                " (state requests retried for {}s; last: {last})",
                wait.retry_for.as_secs()
            ));
        }
        let (ledger, id, sent, now) = (
            Arc::clone(&self.ledger),
            d.id,
            d.state == DeliveryState::Sent,
            self.wire.now(),
        );
        tokio::task::spawn_blocking(move || {
            if sent {
                ledger.transition(id, DeliveryState::Delivered, Some(&reason), now)?;
            }
            ledger.note(id, &reason, now)
        })
        .await
        .expect("ledger task")?;
        Ok(())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, PushError> + Send + 'static,
    ) -> Result<T, PushError> {
        tokio::task::spawn_blocking(f).await.expect("blocking task")
    }

    /// One `ConnectionCheck` to every EBD endpoint, at most [`CHECKS_AT_ONCE`] at a time;
    /// `last_seen` is kept in the ledger.
    pub async fn connection_checks(
        &self,
        now: DateTime<Utc>,
    ) -> Vec<(String, Result<(), ExchangeError>)> {
        let mut set = JoinSet::new();
        let at_once = Arc::new(Semaphore::new(CHECKS_AT_ONCE));
        for (id, client) in &self.router.clients {
            let crate::transport::EndpointClient::Ebd(c) = client else {
                continue;
            };
            let (id, c, at_once) = (id.clone(), c.clone(), at_once.clone());
            set.spawn(async move {
                let _turn = at_once.acquire_owned().await;
                (id, c.connection_check(now).await)
            });
        }
        let mut out = Vec::new();
        while let Some(Ok((id, result))) = set.join_next().await {
            let ledger = Arc::clone(&self.ledger);
            let (eid, failed) = (id.clone(), result.as_ref().err().map(ToString::to_string));
            let _ = tokio::task::spawn_blocking(move || record_health(&*ledger, &eid, failed, now))
                .await;
            out.push((id, result));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// How many connection checks are in flight at once.
pub const CHECKS_AT_ONCE: usize = 8;

fn record_health(
    ledger: &dyn crate::ledger::Ledger,
    endpoint: &str,
    failed: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), crate::ledger::LedgerError> {
    let old = ledger.endpoint_health(endpoint)?;
    let mut h = old.unwrap_or(EndpointHealth {
        endpoint: endpoint.to_string(),
        last_seen: None,
        consecutive_failures: 0,
        circuit: CircuitState::Closed,
        reason: None,
        updated_at: now,
    });
    match failed {
        None => {
            h.last_seen = Some(now);
            h.reason = None;
        }
        Some(e) => h.reason = Some(format!("heartbeat: {e}")),
    }
    h.updated_at = now;
    ledger.put_endpoint_health(&h)
}
