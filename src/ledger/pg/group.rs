//! The PostgreSQL ledger's per-delivery writes — a settled attempt, a state report — committed
//! in groups ([`crate::ledger::group`]): a group's writes of each kind first in one statement
//! of many rows (`super::many`), and otherwise each one's statements, run inside the group's
//! transaction on a pool connection; the group sent to the pool as one job.
//!
//! Groups of two lanes run at once, each on one connection, while the others serve reads and
//! other writes. Their rows are locked as the single writes lock them (`FOR UPDATE`), so
//! instances sharing the database still take turns on each delivery.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use postgres::Client;

use super::super::group::{self, Drain, Group, GroupConn, Linger, Waiting};
use super::super::lease::lease_after_move;
use super::super::queries::ms;
use super::super::write::report_target;
use super::super::{DeliveryId, DeliveryState, LedgerError, Queued, Result, Settled, StateReport};
use super::pool::{Pool, prepared};
use super::write;

impl GroupConn for Client {
    const BEGIN: &'static str = "BEGIN";

    fn run(&mut self, sql: &str) -> Result<()> {
        Ok(self.batch_execute(sql)?)
    }

    fn lost_race(e: &LedgerError) -> bool {
        use postgres::error::SqlState;
        matches!(e, LedgerError::Postgres(e)
            if matches!(e.code(), Some(&SqlState::T_R_DEADLOCK_DETECTED | &SqlState::T_R_SERIALIZATION_FAILURE)))
    }

    fn settled(&mut self, settled: &Settled) -> Result<i64> {
        let (id, from) = write::settle(self, settled)?;
        if let (Some((to, why)), Some(from)) = (&settled.to, from) {
            // A state report may have moved the delivery past what this reply says; a move
            // the rules refuse fails the write (rolled back under its savepoint).
            if !to.can_go_to(from) && from.check(*to, settled.attempt.delivery)? {
                tracing::debug!(delivery = settled.attempt.delivery.0, %from, %to, why, "delivery state");
            }
        }
        Ok(id)
    }

    fn report(&mut self, report: &StateReport) -> Result<Option<DeliveryId>> {
        let c = self;
        // One statement: the delivery the EBMID names locked and read, the report stored, and
        // the delivery moved to what the report proves when its state (read under the lock)
        // may go there.
        let to = DeliveryState::from_brd_state_code(report.brd_state_code);
        let from: Vec<&str> = DeliveryState::ALL
            .into_iter()
            .filter(|f| report_target(*f, report.brd_state_code).is_some())
            .map(DeliveryState::as_str)
            .collect();
        let reason = format!("BrdStateCode {}", report.brd_state_code);
        let insert = prepared(
            c,
            &format!(
                "WITH d AS (SELECT id, state FROM deliveries WHERE ebm_id = $1 FOR UPDATE),
                      r AS (INSERT INTO state_reports (delivery_id, ebm_id, reported_ms,
                                brd_state_code, description, coverage_rate, area_codes,
                                terminals, raw)
                            VALUES ((SELECT id FROM d), $1, $2, $3, $4, $5, $6, $7, $8)),
                      u AS (UPDATE deliveries SET state = $9, reason = $10, updated_ms = $2, {}
                            FROM d
                            WHERE deliveries.id = d.id AND d.state = ANY($11::TEXT[]))
                 SELECT id FROM d",
                lease_after_move("$9")
            ),
        )?;
        let found = c.query_opt(
            &insert,
            &[
                &report.ebm_id,
                &ms(report.reported_at),
                &i64::from(report.brd_state_code),
                &report.description,
                &report.coverage_rate,
                &report.area_codes.join(","),
                &report
                    .terminals
                    .map(|t| i64::try_from(t).unwrap_or(i64::MAX)),
                &report.raw,
                &to.map(DeliveryState::as_str),
                &reason,
                &from,
            ],
        )?;
        let Some(id) = found.map(|r| r.get::<_, i64>(0)) else {
            tracing::warn!(ebm_id = %report.ebm_id, "state report for an unknown message");
            return Ok(None);
        };
        Ok(Some(DeliveryId(id)))
    }

    fn many(&mut self, batch: Vec<Waiting>) -> Vec<Waiting> {
        super::many::commit(self, batch)
    }
}

/// A lane's committer finding 1–63 writes queued waits 5 ms for more (none: it ends).
/// PostgreSQL spends its time per statement and per commit (planning, starting the executor, the
/// WAL flush), so fewer, larger groups cost its server less: over a 10,000-endpoint run, 5 ms
/// made 3,800–4,500 statements where 0.5 ms below 16 made 6,600–6,900, and PostgreSQL's CPU went
/// from 7.2–7.7 s to 5.1–5.9 s; the run itself was no shorter (BENCHMARKS.md). Each write waits
/// up to that much longer for its commit.
const LINGER: Linger = Linger {
    below: 64,
    wait: std::time::Duration::from_millis(5),
};

/// Groups sent to the pool at once, each on its own connection (the pool has
/// [`super::CONNECTIONS`]; one or more stay for reads and other writes).
const LANES: usize = 2;

/// The per-delivery writes' lanes, each a queue and the right to send its next group. One
/// endpoint's writes take one lane (its health row is locked in one lane only) and each group
/// locks its rows in the order the writes came, so groups of two lanes rarely wait on each
/// other; when they deadlock, the write PostgreSQL picks is tried again alone.
#[derive(Debug, Default)]
pub(super) struct Lanes {
    lanes: [Arc<Lane>; LANES],
}

/// One lane: its queue, and the right to send its next group.
#[derive(Debug, Default)]
struct Lane {
    group: Group,
    slot: Mutex<()>,
}

impl Lane {
    /// Start the lane's committer of queued writes when `drain` says none runs.
    fn drain(self: &Arc<Self>, pool: &Arc<Pool>, drain: Drain) {
        let (lane, pool) = (Arc::clone(self), Arc::clone(pool));
        group::start_drain(drain, move || {
            lane.group
                .drain(&lane.slot, LINGER, |_, batch| commit(&pool, batch));
        });
    }
}

impl Lanes {
    fn lane(&self, key: impl Hash) -> &Arc<Lane> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        &self.lanes[(h.finish() % LANES as u64) as usize]
    }

    /// The lane of a settle: its endpoint's, or its delivery's.
    fn of_settled(&self, settled: &Settled) -> &Arc<Lane> {
        match &settled.health {
            Some(h) => self.lane(&h.endpoint),
            None => self.lane(settled.attempt.delivery.0),
        }
    }

    pub(super) fn settled(&self, pool: &Pool, settled: &Settled) -> Result<i64> {
        let lane = self.of_settled(settled);
        lane.group
            .settled(&lane.slot, settled, |_, batch| commit(pool, batch))
    }

    pub(super) fn report(&self, pool: &Pool, report: &StateReport) -> Result<Option<DeliveryId>> {
        let lane = self.lane(&report.ebm_id);
        lane.group
            .report(&lane.slot, report, |_, batch| commit(pool, batch))
    }

    pub(super) fn queue_settled(&self, pool: &Arc<Pool>, settled: Settled) -> Queued<i64> {
        let lane = self.of_settled(&settled);
        let (answer, drain) = lane.group.queue_settled(settled);
        lane.drain(pool, drain);
        answer
    }

    pub(super) fn queue_report(
        &self,
        pool: &Arc<Pool>,
        report: StateReport,
    ) -> Queued<Option<DeliveryId>> {
        let lane = self.lane(&report.ebm_id);
        let (answer, drain) = lane.group.queue_report(report);
        lane.drain(pool, drain);
        answer
    }

    /// Every lane, held: no group runs until they are dropped.
    pub(super) fn hold(&self) -> Vec<MutexGuard<'_, ()>> {
        self.lanes
            .iter()
            .map(|lane| lane.slot.lock().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }
}

/// Commit `batch` as one job on the pool. The group's error, if any, goes back to the pool (so
/// a connection that broke under it is opened again); each writer has its own answer.
fn commit(pool: &Pool, batch: Vec<Waiting>) {
    if let Err(e) = pool.call(move |c| group::commit(c, batch)) {
        tracing::debug!(error = %e, "ledger group answered alone");
    }
}
