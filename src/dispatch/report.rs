//! What dispatch reports: how each delivery ended, the per-run report, and the as-run log line
//! written for every delivery whatever happened to it.

use std::collections::HashMap;

use tokio::task::JoinError;

use super::DeliveryJob;
use crate::ledger::{Delivery, DeliveryId};

/// How one delivery's dispatch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    /// ResultCode 1.
    Delivered,
    /// ResultCode 0: the ledger holds it as `sent`; its state is asked for later.
    Accepted,
    Rejected {
        code: u8,
        reason: String,
    },
    /// The air-by deadline passed (or would pass before the next try): never sent late.
    Expired {
        reason: String,
    },
    /// Shutdown came before it finished; it stays `pending` for a restart.
    Interrupted,
    /// Still in flight when the drain deadline passed; it stays `pending`.
    Abandoned,
    /// The ledger could not record a step; dispatch of this delivery stopped.
    LedgerFailed(String),
}

impl JobEnd {
    pub fn name(&self) -> &'static str {
        match self {
            JobEnd::Delivered => "delivered",
            JobEnd::Accepted => "accepted",
            JobEnd::Rejected { .. } => "rejected",
            JobEnd::Expired { .. } => "expired",
            JobEnd::Interrupted => "interrupted",
            JobEnd::Abandoned => "abandoned",
            JobEnd::LedgerFailed(_) => "ledger_failed",
        }
    }
}

/// One delivery's dispatch: the values of its as-run line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobResult {
    pub delivery: DeliveryId,
    pub end: JobEnd,
    /// Attempts made in this dispatch (earlier runs' attempts are in the ledger).
    pub attempts: u32,
    /// Latency of the last attempt.
    pub latency_ms: u64,
    /// The last failure's detail, if any attempt failed.
    pub last_detail: Option<String>,
}

impl JobResult {
    pub(super) fn new(delivery: DeliveryId, end: JobEnd, p: Progress) -> JobResult {
        JobResult {
            delivery,
            end,
            attempts: p.attempts,
            latency_ms: p.latency_ms,
            last_detail: p.last_detail,
        }
    }
}

/// One job's end as told while its dispatch goes on: the result, and the delivery as it was
/// handed in (its `state` from before this dispatch; the ledger has the one it ended in).
#[derive(Debug, Clone)]
pub struct Ended {
    pub result: JobResult,
    pub delivery: Delivery,
}

/// What one `dispatch` call did, one result per job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub jobs: Vec<JobResult>,
}

impl DispatchReport {
    /// How many jobs ended as `name` (see [`JobEnd::name`]).
    pub fn count(&self, name: &str) -> usize {
        self.jobs.iter().filter(|j| j.end.name() == name).count()
    }

    pub fn get(&self, delivery: DeliveryId) -> Option<&JobResult> {
        self.jobs.iter().find(|j| j.delivery == delivery)
    }
}

/// What one delivery's loop has done so far.
#[derive(Debug, Default)]
pub(super) struct Progress {
    pub(super) attempts: u32,
    pub(super) latency_ms: u64,
    pub(super) last_detail: Option<String>,
}

/// A joined job's result, with its job (taken out of `by_task`).
pub(super) fn collect(
    joined: Result<(tokio::task::Id, JobResult), JoinError>,
    by_task: &mut HashMap<tokio::task::Id, DeliveryJob>,
) -> (JobResult, Option<DeliveryJob>) {
    let err = match joined {
        Ok((id, result)) => return (result, by_task.remove(&id)),
        Err(err) => err,
    };
    let job = by_task
        .remove(&err.id())
        .expect("every task's job is kept until it is collected");
    if err.is_panic() {
        tracing::error!(delivery = job.delivery.id.0, "dispatch task panicked");
    }
    let result = JobResult::new(job.delivery.id, JobEnd::Abandoned, Progress::default());
    as_run(&job, &result);
    (result, Some(job))
}

/// The as-run line: one per delivery, whatever happened.
pub(super) fn as_run(job: &DeliveryJob, r: &JobResult) {
    tracing::info!(
        target: "shengbo::asrun",
        run = job.delivery.plan.run.0,
        delivery = job.delivery.id.0,
        endpoint = %job.delivery.plan.endpoint,
        townships = job.delivery.plan.townships.len(),
        lang = %job.delivery.plan.lang,
        ebd_id = %job.delivery.plan.ebd_id,
        ebm_id = %job.delivery.plan.ebm_id,
        outcome = r.end.name(),
        attempts = r.attempts,
        latency_ms = r.latency_ms,
        detail = r.last_detail.as_deref(),
        "as-run"
    );
}
