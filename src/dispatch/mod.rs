//! The dispatch engine: sends each delivery through a [`Transport`] with bounded concurrency,
//! per-attempt timeouts, retries with capped exponential backoff and full jitter, an air-by
//! deadline, a lead time before the play window and a circuit breaker per endpoint, recording
//! every attempt and state change in the [`Ledger`](crate::ledger::Ledger).
//!
//! Transport-agnostic: the EBD protocol (or a JSON webhook) is one `impl Transport`; tests use a
//! strict fake. Shutdown is passed in as a value (a `watch` channel); in-flight attempts drain
//! within a deadline and whatever is not finished stays `pending` in the ledger for a restart.
//!
//! # Files
//! - [`backoff`] — capped exponential backoff with full jitter.
//! - [`circuit`] — the per-endpoint circuit breaker.
//! - [`clock`] — UTC instants on tokio's clock (so paused test time moves deadlines too).
//! - [`engine`] — [`Dispatcher`]: the per-delivery loop and the drain on shutdown.
//! - [`report`] — how each delivery ended, and the as-run log line.

pub mod backoff;
pub mod circuit;
pub mod clock;
pub mod engine;
pub mod report;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::ledger::{AttemptResult, Delivery};

pub use backoff::Backoff;
pub use circuit::{Breaker, BreakerConfig};
pub use clock::{Clock, delta};
pub use engine::Dispatcher;
pub use report::{DispatchReport, Ended, JobEnd, JobResult};

/// One delivery as the transport sees it: the delivery as recorded (its ids identical on every
/// retry) and the payload bytes built once before the first attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryJob {
    pub delivery: Delivery,
    /// The bytes to send (an EBD tar package, a JSON body, …), never rebuilt between retries.
    pub payload: Arc<[u8]>,
}

impl DeliveryJob {
    /// The job for a recorded delivery and its payload.
    pub fn new(delivery: Delivery, payload: Arc<[u8]>) -> DeliveryJob {
        DeliveryJob { delivery, payload }
    }
}

/// Why an attempt may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryKind {
    /// A non-200 HTTP status.
    Http(u16),
    /// No answer within the attempt timeout.
    Timeout,
    /// Could not connect.
    Connect,
    /// Any other transport failure (unreadable reply, reset connection, …).
    Other,
}

/// How one attempt ended, as the transport reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// ResultCode 1: parsed and validated.
    Delivered,
    /// ResultCode 0: received, not processed; ask its state later.
    Accepted,
    /// ResultCode 2–5: final for this package; never resent unchanged. `reason` is the
    /// receiver's own description, without the code (the ledger's reason adds it once).
    Rejected { code: u8, reason: String },
    /// Worth another attempt with the same ids.
    Retryable { kind: RetryKind, detail: String },
    /// The platform answered, but its answer's signature did not verify: the package may be
    /// held there, so it is not resent; its state is asked by a signed state query.
    Unverified { detail: String },
}

impl AttemptOutcome {
    /// The ledger's record of this outcome.
    pub fn to_record(&self) -> AttemptResult {
        match self {
            AttemptOutcome::Delivered => AttemptResult::Delivered,
            AttemptOutcome::Accepted => AttemptResult::Accepted,
            AttemptOutcome::Rejected { code, .. } => AttemptResult::Rejected {
                code: i64::from(*code),
            },
            AttemptOutcome::Retryable { kind, .. } => match kind {
                RetryKind::Http(status) => AttemptResult::Http { status: *status },
                RetryKind::Timeout => AttemptResult::Timeout,
                RetryKind::Connect => AttemptResult::Connect,
                RetryKind::Other => AttemptResult::Other,
            },
            AttemptOutcome::Unverified { .. } => AttemptResult::Unverified,
        }
    }

    /// The error text to record, if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            AttemptOutcome::Delivered | AttemptOutcome::Accepted => None,
            AttemptOutcome::Rejected { reason, .. } => Some(reason),
            AttemptOutcome::Retryable { detail, .. } | AttemptOutcome::Unverified { detail } => {
                Some(detail)
            }
        }
    }
}

/// Sends one delivery once. Implementations do no retrying and no timing-out of their own
/// beyond their connection set-up: the dispatcher wraps every call in its attempt timeout.
pub trait Transport: Send + Sync + 'static {
    fn send(&self, job: &DeliveryJob) -> impl Future<Output = AttemptOutcome> + Send;
}

/// How the dispatcher paces and bounds its work.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// Attempts in flight at once, over all endpoints.
    pub max_in_flight: usize,
    /// Attempts in flight at once to one endpoint.
    pub per_endpoint: usize,
    /// Every attempt is abandoned (and counted a timeout) after this long.
    pub attempt_timeout: Duration,
    pub backoff: Backoff,
    /// Jobs are not sent earlier than `window_start - lead`.
    pub lead: Duration,
    pub breaker: BreakerConfig,
    /// After shutdown, how long in-flight attempts may take to finish.
    pub drain: Duration,
    /// Jobs alive (started, waiting, backing off or in flight) at once; the rest wait their
    /// turn in a list, in play-window order. See [`live_jobs`].
    pub max_live: usize,
    /// The instance whose lease the deliveries are sent under: recorded on every attempt.
    pub holder: Option<std::sync::Arc<str>>,
}

/// The jobs to keep alive for `max_in_flight` attempts: four per attempt, and never fewer than
/// 4,096. A job keeps its place while it backs off or waits out an open circuit, so the floor
/// is far above what any set of dead platforms could hold (an endpoint has a few jobs per run);
/// the bound only bites on runs to thousands of endpoints, whose 20,000 waiting tasks would
/// otherwise cost memory.
pub fn live_jobs(max_in_flight: usize) -> usize {
    (max_in_flight * 4).max(4096)
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            max_in_flight: 32,
            per_endpoint: 2,
            attempt_timeout: Duration::from_secs(20),
            backoff: Backoff::default(),
            lead: Duration::from_secs(30 * 60),
            breaker: BreakerConfig::default(),
            drain: Duration::from_secs(30),
            max_live: live_jobs(32),
            holder: None,
        }
    }
}
