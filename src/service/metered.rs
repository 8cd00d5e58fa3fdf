//! The service's ledger with `/metrics` recorded on the way: every attempt the dispatcher
//! settles (outcome, latency, retries, expiries), every endpoint health it writes (up, last
//! seen), runs opened and closed, and the reach of the last closed run. Each figure comes from
//! what the service did, never from what a client asked. Everything else passes through.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::directory::Directory;
use crate::ledger::{
    Attempt, Cancel, CancelState, CircuitState, Delivery, DeliveryId, DeliveryState,
    EndpointHealth, Failure, InstanceVersion, LeaseTerm, Ledger, NewAttempt, NewCancel,
    NewDelivery, Queued, ReachRow, Result, Run, RunHold, RunId, RunSummary, Settled, StateReport,
    TownshipOutcome,
};
use crate::server::Metrics;

/// A ledger that records metrics of what is written to it.
pub struct MeteredLedger {
    pub inner: Arc<dyn Ledger>,
    pub metrics: Arc<Metrics>,
    /// For the reach of a closed run (townships' populations).
    pub directory: Arc<Directory>,
}

impl std::fmt::Debug for MeteredLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredLedger").finish_non_exhaustive()
    }
}

/// The metrics of a settled attempt, once it is written: its outcome and latency, a retry or
/// an expiry, its endpoint's health.
fn settled(metrics: &Metrics, s: &Settled) {
    let latency = std::time::Duration::from_millis(s.attempt.latency_ms);
    metrics.push(s.attempt.result.kind(), latency);
    match &s.to {
        None => metrics.retry(),
        Some((DeliveryState::Expired, _)) => metrics.expired(1),
        Some(_) => {}
    }
    if let Some(h) = &s.health {
        health(metrics, h);
    }
}

fn health(metrics: &Metrics, h: &EndpointHealth) {
    metrics.endpoint_health(&h.endpoint, h.circuit == CircuitState::Closed);
    if let Some(seen) = h.last_seen {
        metrics.endpoint_seen(&h.endpoint, seen);
    }
}

impl MeteredLedger {
    fn reach_of(&self, run: RunId) {
        match crate::reach::of_run(self.inner.as_ref(), run, &self.directory) {
            Ok(f) => {
                self.metrics.reach("targeted", f.population_targeted);
                self.metrics.reach("reached", f.population_reached);
                self.metrics.reach("played", f.population_played);
            }
            Err(e) => tracing::warn!(%run, error = %e, "reach of the closed run not measured"),
        }
    }
}

impl Ledger for MeteredLedger {
    fn ping(&self) -> Result<()> {
        self.inner.ping()
    }

    fn open_run_versioned(
        &self,
        campaign: &str,
        occurrence: DateTime<Utc>,
        planned: u32,
        content_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(RunId, bool)> {
        let opened =
            self.inner
                .open_run_versioned(campaign, occurrence, planned, content_hash, now)?;
        if opened.1 {
            self.metrics.run("opened");
        }
        Ok(opened)
    }
    fn hold_run(&self, run: RunId, wait: std::time::Duration) -> Result<Option<RunHold>> {
        self.inner.hold_run(run, wait)
    }
    fn put_instance(&self, instance: &InstanceVersion) -> Result<()> {
        self.inner.put_instance(instance)
    }
    fn instances(&self) -> Result<Vec<InstanceVersion>> {
        self.inner.instances()
    }
    fn close_run(&self, run: RunId) -> Result<()> {
        self.inner.close_run(run)?;
        self.metrics.run("closed");
        self.reach_of(run);
        Ok(())
    }
    fn run(&self, run: RunId) -> Result<Option<Run>> {
        self.inner.run(run)
    }
    fn runs(&self, from: DateTime<Utc>, to: DateTime<Utc>, c: Option<&str>) -> Result<Vec<Run>> {
        self.inner.runs(from, to, c)
    }
    fn record_delivery(&self, new: &NewDelivery, now: DateTime<Utc>) -> Result<(Delivery, bool)> {
        self.inner.record_delivery(new, now)
    }
    fn record_deliveries(
        &self,
        news: &[NewDelivery],
        now: DateTime<Utc>,
        lease: Option<LeaseTerm<'_>>,
    ) -> Result<Vec<(Delivery, bool)>> {
        self.inner.record_deliveries(news, now, lease)
    }
    fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>> {
        self.inner.delivery(id)
    }
    fn deliveries_of_run(&self, run: RunId) -> Result<Vec<Delivery>> {
        self.inner.deliveries_of_run(run)
    }
    fn deliveries_of_run_in(&self, run: RunId, states: &[DeliveryState]) -> Result<Vec<Delivery>> {
        self.inner.deliveries_of_run_in(run, states)
    }
    fn delivery_ids_of_run_in(
        &self,
        run: RunId,
        states: &[DeliveryState],
    ) -> Result<Vec<DeliveryId>> {
        self.inner.delivery_ids_of_run_in(run, states)
    }
    fn transition(
        &self,
        id: DeliveryId,
        to: DeliveryState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let moved = self.inner.transition(id, to, reason, now)?;
        if moved && to == DeliveryState::Expired {
            self.metrics.expired(1);
        }
        Ok(moved)
    }
    fn note(&self, id: DeliveryId, reason: &str, now: DateTime<Utc>) -> Result<()> {
        self.inner.note(id, reason, now)
    }
    fn record_attempt(&self, attempt: &NewAttempt) -> Result<i64> {
        self.inner.record_attempt(attempt)
    }
    fn record_settled(&self, s: &Settled) -> Result<i64> {
        let id = self.inner.record_settled(s)?;
        settled(&self.metrics, s);
        Ok(id)
    }
    fn queue_settled(&self, s: Settled) -> Queued<i64> {
        let (written, metrics) = (
            self.inner.queue_settled(s.clone()),
            Arc::clone(&self.metrics),
        );
        Box::pin(async move {
            let id = written.await?;
            settled(&metrics, &s);
            Ok(id)
        })
    }
    fn attempts(&self, delivery: DeliveryId) -> Result<Vec<Attempt>> {
        self.inner.attempts(delivery)
    }
    fn record_state_report(&self, report: &StateReport) -> Result<Option<DeliveryId>> {
        self.inner.record_state_report(report)
    }
    fn queue_state_report(&self, report: StateReport) -> Queued<Option<DeliveryId>> {
        self.inner.queue_state_report(report)
    }
    fn state_reports(&self, delivery: DeliveryId) -> Result<Vec<StateReport>> {
        self.inner.state_reports(delivery)
    }
    fn put_endpoint_health(&self, h: &EndpointHealth) -> Result<()> {
        self.inner.put_endpoint_health(h)?;
        health(&self.metrics, h);
        Ok(())
    }
    fn endpoint_health(&self, endpoint: &str) -> Result<Option<EndpointHealth>> {
        self.inner.endpoint_health(endpoint)
    }
    fn endpoint_healths(&self) -> Result<Vec<EndpointHealth>> {
        self.inner.endpoint_healths()
    }
    fn next_sequence(&self, kind: &str, day: NaiveDate) -> Result<u32> {
        self.inner.next_sequence(kind, day)
    }
    fn next_sequence_within(&self, kind: &str, day: NaiveDate, max: u32) -> Result<Option<u32>> {
        self.inner.next_sequence_within(kind, day, max)
    }
    fn held_sequence_within(&self, kind: &str, day: NaiveDate, max: u32) -> Option<u32> {
        self.inner.held_sequence_within(kind, day, max)
    }
    fn raise_sequence(&self, kind: &str, day: NaiveDate, used: u32) -> Result<u32> {
        self.inner.raise_sequence(kind, day, used)
    }
    fn deliveries_due(&self, now: DateTime<Utc>) -> Result<Vec<Delivery>> {
        self.inner.deliveries_due(now)
    }
    fn expire_overdue(&self, now: DateTime<Utc>) -> Result<Vec<DeliveryId>> {
        let expired = self.inner.expire_overdue(now)?;
        self.metrics.expired(expired.len() as u64);
        Ok(expired)
    }
    fn deliveries_awaiting_state(&self) -> Result<Vec<Delivery>> {
        self.inner.deliveries_awaiting_state()
    }
    fn run_summary(&self, run: RunId) -> Result<RunSummary> {
        self.inner.run_summary(run)
    }
    fn township_outcomes(&self, run: RunId) -> Result<Vec<TownshipOutcome>> {
        self.inner.township_outcomes(run)
    }
    fn run_reach_rows(&self, run: RunId) -> Result<Vec<ReachRow>> {
        self.inner.run_reach_rows(run)
    }
    fn reach_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        campaign: Option<&str>,
    ) -> Result<Vec<ReachRow>> {
        self.inner.reach_rows(from, to, campaign)
    }
    fn failures(&self, run: Option<RunId>) -> Result<Vec<Failure>> {
        self.inner.failures(run)
    }
    fn record_cancel(&self, new: &NewCancel, now: DateTime<Utc>) -> Result<(Cancel, bool)> {
        self.inner.record_cancel(new, now)
    }
    fn cancels(&self, run: Option<RunId>) -> Result<Vec<Cancel>> {
        self.inner.cancels(run)
    }
    fn settle_cancel(
        &self,
        delivery: DeliveryId,
        to: CancelState,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.inner.settle_cancel(delivery, to, detail, now)
    }
    fn lease(
        &self,
        ids: &[DeliveryId],
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DeliveryId>> {
        self.inner.lease(ids, holder, until, now)
    }
    fn claim_leases(
        &self,
        holder: &str,
        until: DateTime<Utc>,
        claim: &crate::ledger::Claim,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        self.inner.claim_leases(holder, until, claim, limit)
    }
    fn release_leases(&self, ids: &[DeliveryId], holder: &str) -> Result<usize> {
        self.inner.release_leases(ids, holder)
    }
    fn lease_of(&self, id: DeliveryId) -> Result<Option<(String, DateTime<Utc>)>> {
        self.inner.lease_of(id)
    }
}
