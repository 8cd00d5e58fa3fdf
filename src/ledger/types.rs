//! The plain values the ledger stores and returns: ids, runs, deliveries, attempts, state
//! reports, endpoint health and query rows. No SQL here.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::state::DeliveryState;
use crate::lang::Lang;

/// A run: one campaign at one slot occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RunId(pub i64);

/// One delivery: one run × endpoint × segment (one airing of one clip).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DeliveryId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    pub id: RunId,
    pub campaign: String,
    /// The slot occurrence (UTC instant).
    pub occurrence: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub planned_townships: u32,
    pub state: RunState,
    /// The content version (`crate::push::version`) it was created with; `None` for runs
    /// recorded before versions were.
    pub content_hash: Option<String>,
}

/// One instance's current content version, as it last wrote it (`instances` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceVersion {
    pub name: String,
    pub content_hash: String,
    /// Its files and their digests, one `sha256  path` a line.
    pub files: String,
    /// When it loaded this version.
    pub loaded_at: DateTime<Utc>,
    /// When it last said it was alive.
    pub seen_at: DateTime<Utc>,
    /// Whether it pushes: false for a `serve --no-schedule` mirror, which serves pulls only
    /// (its version is held against the pushing instances', never counted as one of them).
    pub pushes: bool,
}

/// What a delivery is: one run × endpoint × segment with the ids fixed before the first send and
/// reused on every retry. Written as is ([`Ledger::record_delivery`](super::Ledger)), and the
/// `plan` of every recorded [`Delivery`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewDelivery {
    pub run: RunId,
    pub endpoint: String,
    /// Position of this airing in the programme, from 0: the key with run and endpoint.
    pub segment: u32,
    pub lang: Lang,
    /// The message (topic) id of the campaign.
    pub message: String,
    /// Which repeat of the programme this airing belongs to, from 0.
    pub repeat: u32,
    /// 9-digit township codes this delivery covers (one endpoint may serve several).
    pub townships: Vec<String>,
    /// Package id (EBDID).
    pub ebd_id: String,
    /// Message id (EBMID).
    pub ebm_id: String,
    /// The other language's EBMID of the pair.
    pub related_ebm_id: Option<String>,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Past this instant the delivery is expired, never sent late.
    pub air_by: DateTime<Utc>,
    /// Digest (hex) of the payload sent, so a retry can prove it sends the same bytes.
    pub payload_digest: String,
}

/// A delivery as recorded: its id, what it is, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub id: DeliveryId,
    /// Everything fixed when it was written.
    #[serde(flatten)]
    pub plan: NewDelivery,
    pub state: DeliveryState,
    /// Why it is in this state, or why it is waiting.
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Delivery {
    /// The delivery `id` a ledger created from `new` at `now`, as reading it back gives it:
    /// times to the millisecond, each township once and in order, pending. A store answers a
    /// delivery it has just written with this rather than reading the row again.
    pub(super) fn as_written(
        id: DeliveryId,
        new: &NewDelivery,
        now: DateTime<Utc>,
    ) -> super::Result<Delivery> {
        let stored = |t: DateTime<Utc>| {
            let v = super::queries::ms(t);
            DateTime::from_timestamp_millis(v).ok_or_else(|| super::LedgerError::BadValue {
                column: "instant",
                value: v.to_string(),
            })
        };
        let mut plan = new.clone();
        plan.townships.sort();
        plan.townships.dedup();
        plan.window_start = stored(new.window_start)?;
        plan.window_end = stored(new.window_end)?;
        plan.air_by = stored(new.air_by)?;
        Ok(Delivery {
            id,
            plan,
            state: DeliveryState::Pending,
            reason: None,
            created_at: stored(now)?,
            updated_at: stored(now)?,
        })
    }
}

/// How one attempt ended, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttemptResult {
    /// ResultCode 1: parsed and validated.
    Delivered,
    /// ResultCode 0: received, not yet processed.
    Accepted,
    /// ResultCode 2–5 (or a receiver's refusal): final, not resent.
    Rejected {
        code: i64,
    },
    /// A non-success HTTP status.
    Http {
        status: u16,
    },
    Timeout,
    Connect,
    /// Any other transport error.
    Other,
    /// An answer whose signature did not verify against the platform's key: not trusted, not
    /// resent; the delivery is settled by a signed state query.
    Unverified,
}

impl AttemptResult {
    /// The stored kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            AttemptResult::Delivered => "delivered",
            AttemptResult::Accepted => "accepted",
            AttemptResult::Rejected { .. } => "rejected",
            AttemptResult::Http { .. } => "http",
            AttemptResult::Timeout => "timeout",
            AttemptResult::Connect => "connect",
            AttemptResult::Other => "other",
            AttemptResult::Unverified => "unverified",
        }
    }

    /// The stored code: ResultCode for rejections, status for HTTP.
    pub fn code(&self) -> Option<i64> {
        match self {
            AttemptResult::Rejected { code } => Some(*code),
            AttemptResult::Http { status } => Some(i64::from(*status)),
            _ => None,
        }
    }

    /// Rebuild from the stored kind and code.
    pub fn from_parts(kind: &str, code: Option<i64>) -> Option<AttemptResult> {
        Some(match (kind, code) {
            ("delivered", _) => AttemptResult::Delivered,
            ("accepted", _) => AttemptResult::Accepted,
            ("rejected", Some(code)) => AttemptResult::Rejected { code },
            ("http", Some(s)) => AttemptResult::Http {
                status: u16::try_from(s).ok()?,
            },
            ("timeout", _) => AttemptResult::Timeout,
            ("connect", _) => AttemptResult::Connect,
            ("other", _) => AttemptResult::Other,
            ("unverified", _) => AttemptResult::Unverified,
            _ => return None,
        })
    }

    /// True when the receiver confirmed receipt (delivered or accepted).
    pub fn is_ok(&self) -> bool {
        matches!(self, AttemptResult::Delivered | AttemptResult::Accepted)
    }
}

/// One attempt to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttempt {
    pub delivery: DeliveryId,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub result: AttemptResult,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// The instance that made it (its lease holder), when it had one.
    pub instance: Option<String>,
}

/// An attempt and what it settled, written together in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub attempt: NewAttempt,
    /// The delivery's new state and why, when the attempt ended it or moved it on.
    pub to: Option<(DeliveryState, String)>,
    /// The endpoint's health, when its circuit changed or it was just seen alive; a
    /// `last_seen` of `None` keeps the one recorded.
    pub health: Option<EndpointHealth>,
}

/// One attempt as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub id: i64,
    pub delivery: DeliveryId,
    /// 1-based, in the order attempts were recorded.
    pub number: u32,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub result: AttemptResult,
    pub latency_ms: u64,
    pub error: Option<String>,
    /// The instance that made it, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// An `EBMStateResponse` (or broadcast-log item) about one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateReport {
    pub ebm_id: String,
    pub reported_at: DateTime<Utc>,
    /// 0 unprocessed, 1 waiting, 2 playing, 3 played, 4 failed, 5 cancelled.
    pub brd_state_code: u8,
    pub description: Option<String>,
    /// 0.0–1.0 when reported.
    pub coverage_rate: Option<f64>,
    /// 12-digit region codes the report covers.
    pub area_codes: Vec<String>,
    /// Terminals that played: the last number of `ResBrdStat`.
    pub terminals: Option<u64>,
    /// Where the report came from (callback body, state request reply, log), kept verbatim.
    pub raw: String,
}

/// What the ledger remembers of an endpoint between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointHealth {
    pub endpoint: String,
    pub last_seen: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub circuit: CircuitState,
    /// Why the circuit is in this state.
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    Closed,
    Open,
    HalfOpen,
}

impl CircuitState {
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }

    pub fn parse(s: &str) -> Option<CircuitState> {
        Some(match s {
            "closed" => CircuitState::Closed,
            "open" => CircuitState::Open,
            "half_open" => CircuitState::HalfOpen,
            _ => return None,
        })
    }
}

/// Counts of one run's deliveries by state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub run: Run,
    pub deliveries: u32,
    pub by_state: BTreeMap<DeliveryState, u32>,
    pub attempts: u32,
    /// Distinct townships covered by the run's deliveries (a village counts as its township).
    pub townships: u32,
}

/// One township × segment of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TownshipOutcome {
    pub township: String,
    pub segment: u32,
    pub lang: Lang,
    pub endpoint: String,
    pub delivery: DeliveryId,
    pub state: DeliveryState,
    pub reason: Option<String>,
    pub attempts: u32,
}

/// One township × segment × delivery of a run, as reach reads it: the delivery's state and
/// the coverage figures of its latest state report that carried any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReachRow {
    pub run: RunId,
    /// 9-digit township code.
    pub township: String,
    pub segment: u32,
    pub state: DeliveryState,
    pub coverage: Option<ReportedCoverage>,
}

/// A platform's coverage report for one message (`EBMStateResponse/Coverage`), as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportedCoverage {
    /// `CoverageRate` (0.0–1.0; `CoveragePercent` ÷ 100).
    pub rate: Option<f64>,
    /// Terminals that played: the last number of `ResBrdStat`.
    pub terminals: Option<u64>,
    /// 12-digit region codes the report covers (`AreaCode`); empty when none were named.
    pub area_codes: Vec<String>,
    /// Every township (9-digit) the message was sent for.
    pub townships: Vec<String>,
}

/// A delivery that ended badly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub delivery: DeliveryId,
    pub run: RunId,
    pub endpoint: String,
    pub lang: Lang,
    pub townships: Vec<String>,
    pub state: DeliveryState,
    pub reason: Option<String>,
    /// The error text of the last attempt, if any.
    pub last_error: Option<String>,
    pub attempts: u32,
}
