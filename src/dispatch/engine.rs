//! [`Dispatcher`]: drives each delivery from `pending` to an end — delivered, accepted,
//! rejected or expired — or leaves it `pending` when shut down, recording every attempt, state
//! change and circuit change in the ledger, and logging one as-run line per delivery.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until, timeout, timeout_at};

use super::circuit::{Breaker, Change, Permit};
use super::report::{DispatchReport, Ended, JobEnd, JobResult, Progress, as_run, collect};

use super::{AttemptOutcome, Clock, DeliveryJob, DispatchConfig, RetryKind, Transport};
use crate::ledger::{
    self, DeliveryId, DeliveryState, EndpointHealth, Ledger, LedgerError, NewAttempt, Settled,
};

/// Sends deliveries through `T`. Cheap to share: clones share limits and breakers.
pub struct Dispatcher<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Dispatcher<T> {
    fn clone(&self) -> Self {
        Dispatcher {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> std::fmt::Debug for Dispatcher<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("config", &self.inner.config)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

struct Inner<T> {
    transport: Arc<T>,
    ledger: Arc<dyn Ledger>,
    config: DispatchConfig,
    clock: Clock,
    global: Arc<Semaphore>,
    endpoints: Mutex<HashMap<String, Arc<Semaphore>>>,
    breakers: Mutex<HashMap<String, Breaker>>,
    rng: Mutex<StdRng>,
}

/// Why a delivery's dispatch stopped short: its ledger write failed.
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("ledger task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

type Step<T> = Result<T, StepError>;

/// Resolves once shutdown is signalled (never, if the sender is gone without signalling).
async fn cancelled(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Sleep until `until`; true when shutdown came first.
async fn sleep_or_stop(until: Instant, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        biased;
        () = cancelled(shutdown) => true,
        () = sleep_until(until) => false,
    }
}

impl<T: Transport> Dispatcher<T> {
    /// A dispatcher; `rng` drives backoff jitter (seed it in tests, `StdRng::from_os_rng()`
    /// otherwise).
    pub fn new(
        transport: Arc<T>,
        ledger: Arc<dyn Ledger>,
        config: DispatchConfig,
        clock: Clock,
        rng: StdRng,
    ) -> Dispatcher<T> {
        let global = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
        let inner = Inner {
            transport,
            ledger,
            config,
            clock,
            global,
            endpoints: Mutex::default(),
            breakers: Mutex::default(),
            rng: Mutex::new(rng),
        };
        Dispatcher {
            inner: Arc::new(inner),
        }
    }

    /// The real clock this dispatcher reads (deadlines and wire timestamps).
    pub fn clock(&self) -> Clock {
        self.inner.clock
    }

    /// Load each endpoint's circuit as the ledger last recorded it (after a restart an open
    /// circuit stays open for the rest of its cool-down). Returns how many were restored.
    pub async fn restore_breakers(&self) -> Result<usize, LedgerError> {
        let ledger = Arc::clone(&self.inner.ledger);
        let healths = match tokio::task::spawn_blocking(move || ledger.endpoint_healths()).await {
            Ok(result) => result?,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        };
        let (now_utc, now) = (self.inner.clock.now(), Instant::now());
        let mut breakers = lock(&self.inner.breakers);
        for h in &healths {
            let b = Breaker::restore(self.inner.config.breaker, h, now_utc, now);
            breakers.insert(h.endpoint.clone(), b);
        }
        Ok(healths.len())
    }

    /// Dispatch `jobs` (already `pending` in the ledger) until each ends or `shutdown` turns
    /// true; then wait up to the drain deadline for attempts in flight and abandon the rest.
    ///
    /// Jobs start in the order they may go out (by play window), at most `max_live` alive at
    /// once: a job waiting its turn is an entry in a list, not a task, so a run to 10,000
    /// endpoints does not hold 20,000 tasks. Jobs not started when shutdown comes stay
    /// `pending` and are reported interrupted.
    pub async fn dispatch(
        &self,
        jobs: Vec<DeliveryJob>,
        shutdown: watch::Receiver<bool>,
    ) -> DispatchReport {
        self.dispatch_reporting(jobs, shutdown, None).await
    }

    /// [`dispatch`](Self::dispatch), telling `ends` how each job ended, with its delivery, as
    /// soon as it ends (so a caller can act on one delivery while the others are still going
    /// out).
    pub async fn dispatch_reporting(
        &self,
        mut jobs: Vec<DeliveryJob>,
        mut shutdown: watch::Receiver<bool>,
        ends: Option<mpsc::UnboundedSender<Ended>>,
    ) -> DispatchReport {
        let ended = |report: &mut DispatchReport,
                     (result, job): (JobResult, Option<DeliveryJob>)| {
            if let (Some(tx), Some(job)) = (&ends, job) {
                // A caller that stopped listening loses nothing: the report has it all.
                let delivery = job.delivery;
                let _ = tx.send(Ended {
                    result: result.clone(),
                    delivery,
                });
            }
            report.jobs.push(result);
        };
        jobs.sort_by_key(|j| j.delivery.plan.window_start);
        let mut queue = jobs.into_iter().peekable();
        let live = Arc::new(Semaphore::new(self.inner.config.max_live.max(1)));
        let mut set = JoinSet::new();
        let mut by_task = HashMap::new();
        let mut report = DispatchReport::default();
        loop {
            if queue.peek().is_none() && set.is_empty() {
                return report;
            }
            tokio::select! {
                biased;
                () = cancelled(&mut shutdown) => break,
                Some(joined) = set.join_next_with_id() => {
                    ended(&mut report, collect(joined, &mut by_task));
                }
                slot = Arc::clone(&live).acquire_owned(), if queue.peek().is_some() => {
                    let (slot, job) = (slot.expect("never closed"), queue.next().expect("peeked"));
                    let task = Arc::clone(&self.inner).drive(job.clone(), shutdown.clone());
                    let id = set
                        .spawn(async move {
                            let _slot = slot;
                            task.await
                        })
                        .id();
                    by_task.insert(id, job);
                }
            }
        }
        for job in queue {
            let result = JobResult::new(job.delivery.id, JobEnd::Interrupted, Progress::default());
            as_run(&job, &result);
            report.jobs.push(result);
        }
        let deadline = Instant::now() + self.inner.config.drain;
        while let Ok(Some(joined)) = timeout_at(deadline, set.join_next_with_id()).await {
            ended(&mut report, collect(joined, &mut by_task));
        }
        set.abort_all();
        while let Some(joined) = set.join_next_with_id().await {
            report.jobs.push(collect(joined, &mut by_task).0);
        }
        report
    }
}

impl<T: Transport> Inner<T> {
    async fn drive(
        self: Arc<Self>,
        job: DeliveryJob,
        mut shutdown: watch::Receiver<bool>,
    ) -> JobResult {
        let mut progress = Progress::default();
        let end = self
            .drive_steps(&job, &mut shutdown, &mut progress)
            .await
            .unwrap_or_else(|e| JobEnd::LedgerFailed(e.to_string()));
        if let JobEnd::LedgerFailed(err) = &end {
            tracing::error!(delivery = job.delivery.id.0, error = %err, "ledger write failed");
        }
        let result = JobResult::new(job.delivery.id, end, progress);
        as_run(&job, &result);
        result
    }

    async fn drive_steps(
        &self,
        job: &DeliveryJob,
        shutdown: &mut watch::Receiver<bool>,
        progress: &mut Progress,
    ) -> Step<JobEnd> {
        let lead = super::delta(self.config.lead);
        let not_before = job.delivery.plan.window_start - lead;
        if not_before >= job.delivery.plan.air_by {
            return self
                .expire(job, "the lead time opens only after the air-by deadline")
                .await;
        }
        if sleep_or_stop(self.clock.instant_at(not_before), shutdown).await {
            return Ok(JobEnd::Interrupted);
        }
        loop {
            if self.clock.now() >= job.delivery.plan.air_by {
                let why = expiry_reason(job, progress);
                return self.expire(job, &why).await;
            }
            let permits = tokio::select! {
                biased;
                () = cancelled(shutdown) => return Ok(JobEnd::Interrupted),
                () = sleep_until(self.clock.instant_at(job.delivery.plan.air_by)) => continue,
                permits = self.permits(&job.delivery.plan.endpoint) => permits,
            };
            if let Permit::Wait { until, reason } =
                self.breaker_permit(&job.delivery.plan.endpoint).await?
            {
                drop(permits);
                let why = format!(
                    "endpoint `{}` circuit open: {reason}",
                    job.delivery.plan.endpoint
                );
                if self.utc_at(until) >= job.delivery.plan.air_by {
                    return self.expire(job, &why).await;
                }
                self.note(job.delivery.id, why).await?;
                if sleep_or_stop(until, shutdown).await {
                    return Ok(JobEnd::Interrupted);
                }
                continue;
            }
            let outcome = self.attempt(job, progress).await;
            drop(permits);
            if let Some(end) = self.settle(job, outcome, progress).await? {
                return Ok(end);
            }
            let delay = self
                .config
                .backoff
                .delay(progress.attempts, &mut *lock(&self.rng));
            let wake = Instant::now() + delay;
            if self.utc_at(wake) >= job.delivery.plan.air_by {
                let why = expiry_reason(job, progress);
                return self.expire(job, &why).await;
            }
            if sleep_or_stop(wake, shutdown).await {
                return Ok(JobEnd::Interrupted);
            }
        }
    }

    /// Act on an attempt's outcome: record it with what it settled (the delivery's state, the
    /// endpoint's health) in one write; the end of this job, or None to retry.
    async fn settle(
        &self,
        job: &DeliveryJob,
        (outcome, attempt): (AttemptOutcome, NewAttempt),
        progress: &mut Progress,
    ) -> Step<Option<JobEnd>> {
        let (state, reason, end) = match outcome {
            AttemptOutcome::Delivered => (
                DeliveryState::Delivered,
                "ResultCode 1".to_string(),
                JobEnd::Delivered,
            ),
            AttemptOutcome::Accepted => (
                DeliveryState::Sent,
                "ResultCode 0: received, not yet processed".to_string(),
                JobEnd::Accepted,
            ),
            AttemptOutcome::Unverified { detail } => (
                DeliveryState::Sent,
                format!(
                    "answer unverified ({detail}); not resent, its state is asked by a signed \
                     state query"
                ),
                JobEnd::Accepted,
            ),
            AttemptOutcome::Rejected { code, reason } => (
                DeliveryState::Rejected,
                format!("ResultCode {code}: {reason}"),
                JobEnd::Rejected { code, reason },
            ),
            AttemptOutcome::Retryable { detail, .. } => {
                let change = lock(&self.breakers)
                    .entry(job.delivery.plan.endpoint.clone())
                    .or_insert_with(|| Breaker::new(self.config.breaker))
                    .failure(Instant::now(), &detail);
                let opened = change.is_some();
                let health = self.health(&job.delivery.plan.endpoint, change, None);
                self.ledger
                    .queue_settled(Settled {
                        attempt,
                        to: None,
                        health,
                    })
                    .await?;
                if opened {
                    tracing::warn!(endpoint = %job.delivery.plan.endpoint, detail = %detail, "circuit opened");
                }
                progress.last_detail = Some(detail);
                return Ok(None);
            }
        };
        let change = lock(&self.breakers)
            .get_mut(&job.delivery.plan.endpoint)
            .and_then(Breaker::success);
        let health = self.health(&job.delivery.plan.endpoint, change, Some(self.clock.now()));
        self.ledger
            .queue_settled(Settled {
                attempt,
                to: Some((state, reason)),
                health,
            })
            .await?;
        Ok(Some(end))
    }

    /// One attempt under the timeout, and its record (written by [`settle`](Self::settle)).
    async fn attempt(
        &self,
        job: &DeliveryJob,
        progress: &mut Progress,
    ) -> (AttemptOutcome, NewAttempt) {
        progress.attempts += 1;
        let (started, started_at) = (Instant::now(), self.clock.now());
        // Boxed: a job waiting for its turn stays small; only attempts in flight hold the
        // transport's (HTTP) state.
        let send = Box::pin(self.transport.send(job));
        let outcome = match timeout(self.config.attempt_timeout, send).await {
            Ok(outcome) => outcome,
            Err(_) => AttemptOutcome::Retryable {
                kind: RetryKind::Timeout,
                detail: format!("no answer within {:?}", self.config.attempt_timeout),
            },
        };
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        progress.latency_ms = latency_ms;
        let attempt = NewAttempt {
            delivery: job.delivery.id,
            started_at,
            finished_at: self.clock.now(),
            result: outcome.to_record(),
            latency_ms,
            error: outcome.detail().map(str::to_string),
            instance: self.config.holder.as_deref().map(str::to_string),
        };
        (outcome, attempt)
    }

    async fn permits(&self, endpoint: &str) -> [OwnedSemaphorePermit; 2] {
        let per = self.config.per_endpoint.max(1);
        let endpoint_sem = Arc::clone(
            lock(&self.endpoints)
                .entry(endpoint.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(per))),
        );
        // Endpoint first, so a busy endpoint never holds global permits while it waits.
        let own = endpoint_sem
            .acquire_owned()
            .await
            .expect("semaphores are never closed");
        let all = Arc::clone(&self.global)
            .acquire_owned()
            .await
            .expect("never closed");
        [own, all]
    }

    async fn breaker_permit(&self, endpoint: &str) -> Step<Permit> {
        let (permit, change) = lock(&self.breakers)
            .entry(endpoint.to_string())
            .or_insert_with(|| Breaker::new(self.config.breaker))
            .permit(Instant::now());
        self.record_health(endpoint, change, None).await?;
        Ok(permit)
    }

    /// Write the endpoint's health when its circuit changed or it was just seen alive.
    async fn record_health(
        &self,
        endpoint: &str,
        change: Option<Change>,
        seen: Option<DateTime<Utc>>,
    ) -> Step<()> {
        let Some(health) = self.health(endpoint, change, seen) else {
            return Ok(());
        };
        self.ledger(move |l| {
            let last_seen = match health.last_seen {
                Some(seen) => Some(seen),
                None => l
                    .endpoint_health(&health.endpoint)?
                    .and_then(|h| h.last_seen),
            };
            l.put_endpoint_health(&EndpointHealth {
                last_seen,
                ..health
            })
        })
        .await
    }

    /// The endpoint's health row when its circuit changed or it was just seen alive (a
    /// `last_seen` of `None` keeps the recorded one).
    fn health(
        &self,
        endpoint: &str,
        change: Option<Change>,
        seen: Option<DateTime<Utc>>,
    ) -> Option<EndpointHealth> {
        let change = change.or_else(|| seen.map(|_| self.current(endpoint)))?;
        Some(EndpointHealth {
            endpoint: endpoint.to_string(),
            last_seen: seen,
            consecutive_failures: change.consecutive_failures,
            circuit: change.circuit,
            reason: change.reason,
            updated_at: self.clock.now(),
        })
    }

    fn current(&self, endpoint: &str) -> Change {
        let breakers = lock(&self.breakers);
        let b = breakers.get(endpoint);
        Change {
            circuit: b.map_or(ledger::CircuitState::Closed, Breaker::circuit),
            consecutive_failures: b.map_or(0, Breaker::consecutive_failures),
            reason: None,
        }
    }

    async fn expire(&self, job: &DeliveryJob, why: &str) -> Step<JobEnd> {
        self.transition(job.delivery.id, DeliveryState::Expired, why.to_string())
            .await?;
        Ok(JobEnd::Expired {
            reason: why.to_string(),
        })
    }

    async fn transition(&self, id: DeliveryId, to: DeliveryState, why: String) -> Step<()> {
        let now = self.clock.now();
        self.ledger(move |l| l.transition(id, to, Some(&why), now).map(drop))
            .await
    }

    async fn note(&self, id: DeliveryId, why: String) -> Step<()> {
        let now = self.clock.now();
        self.ledger(move |l| l.note(id, &why, now)).await
    }

    /// Run a ledger call off the runtime.
    async fn ledger<R: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Ledger) -> Result<R, LedgerError> + Send + 'static,
    ) -> Step<R> {
        let ledger = Arc::clone(&self.ledger);
        Ok(tokio::task::spawn_blocking(move || f(&*ledger)).await??)
    }

    fn utc_at(&self, at: Instant) -> DateTime<Utc> {
        let ahead = at.saturating_duration_since(Instant::now());
        self.clock.now() + super::delta(ahead)
    }
}

fn expiry_reason(job: &DeliveryJob, p: &Progress) -> String {
    let last = p.last_detail.as_deref().unwrap_or("none");
    format!(
        "air-by deadline {} reached after {} attempts, last failure: {last}",
        job.delivery.plan.air_by.format("%Y-%m-%d %H:%M:%S UTC"),
        p.attempts
    )
}

fn lock<V>(m: &Mutex<V>) -> std::sync::MutexGuard<'_, V> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
