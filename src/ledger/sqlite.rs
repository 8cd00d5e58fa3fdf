//! [`SqliteLedger`]: the [`Ledger`] on one SQLite file (WAL). Writes: runs, deliveries,
//! transitions, attempts, state reports, endpoint health, counters. Reads live in `queries`.
//!
//! One connection per `SqliteLedger`, behind a mutex; several `SqliteLedger`s (threads or
//! processes) may share a file: every write that reads first runs in an immediate transaction.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, TransactionBehavior, params};

use super::cancels::{self, Cancel, CancelState, NewCancel};
use super::group::{self, Drain, Group};
use super::hold::RunHold;
use super::lease::{self, Claim};
use super::queries::{self, ms};
use super::sequences::{self, IdBlocks};
use super::write::{self, transition_in};
use super::{
    Attempt, Delivery, DeliveryId, DeliveryState, EndpointHealth, Failure, InstanceVersion,
    LeaseTerm, Ledger, LedgerError, NewAttempt, NewDelivery, Queued, ReachRow, Result, Run, RunId,
    RunSummary, Settled, StateReport, TownshipOutcome, schema,
};

/// The SQLite ledger. Blocking, but for the queued writes (`queue_settled`,
/// `queue_state_report`): call it from `spawn_blocking` or one owner task.
#[derive(Debug)]
pub struct SqliteLedger {
    path: PathBuf,
    /// Shared with the committer of queued writes ([`group::start_drain`]).
    conn: Arc<Mutex<Connection>>,
    ids: IdBlocks,
    group: Arc<Group>,
}

impl SqliteLedger {
    /// Open (creating and migrating as needed) the ledger file at `path`.
    pub fn open(path: &Path) -> Result<SqliteLedger> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| LedgerError::CreateDir {
                path: path.to_path_buf(),
                source,
            })?;
        }
        let conn = schema::open(path)?;
        Ok(SqliteLedger {
            path: path.to_path_buf(),
            conn: Arc::new(Mutex::new(conn)),
            ids: IdBlocks::default(),
            group: Arc::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start the committer of queued writes when `drain` says none runs.
    fn drain(&self, drain: Drain) {
        let (group, conn) = (Arc::clone(&self.group), Arc::clone(&self.conn));
        group::start_drain(drain, move || {
            group.drain(&conn, group::LINGER, |c, batch| {
                drop(group::commit(c, batch))
            });
        });
    }
}

impl Drop for SqliteLedger {
    /// Give the counter values reserved and not handed out back, where nobody reserved after them.
    fn drop(&mut self) {
        let unused = self.ids.unused();
        let conn = self.conn();
        for (kind, day, first, last) in unused {
            if let Err(e) = sequences::give_back(&conn, &kind, day, first, last) {
                tracing::warn!(error = %e, kind, %day, "unused counter values not given back");
            }
        }
    }
}

impl Ledger for SqliteLedger {
    fn open_run_versioned(
        &self,
        campaign: &str,
        occurrence: DateTime<Utc>,
        planned_townships: u32,
        content_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(RunId, bool)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let created = tx.execute(
            "INSERT INTO runs (campaign, occurrence_ms, created_ms, planned_townships, content_hash)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (campaign, occurrence_ms) DO NOTHING",
            params![campaign, ms(occurrence), ms(now), planned_townships, content_hash],
        )? == 1;
        let id: i64 = tx.query_row(
            "SELECT id FROM runs WHERE campaign = ?1 AND occurrence_ms = ?2",
            params![campaign, ms(occurrence)],
            |r| r.get(0),
        )?;
        tx.commit()?;
        tracing::info!(run = id, campaign, %occurrence, created, "run opened");
        Ok((RunId(id), created))
    }

    fn hold_run(&self, run: RunId, wait: std::time::Duration) -> Result<Option<RunHold>> {
        super::hold::hold_sqlite(&self.path, run, wait)
    }

    fn put_instance(&self, instance: &InstanceVersion) -> Result<()> {
        super::instances::put_sqlite(&self.conn(), instance)
    }

    fn instances(&self) -> Result<Vec<InstanceVersion>> {
        super::instances::list_sqlite(&self.conn())
    }

    fn close_run(&self, run: RunId) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE runs SET state = 'closed' WHERE id = ?1",
            params![run.0],
        )?;
        if n == 0 {
            return Err(LedgerError::UnknownRun(run));
        }
        Ok(())
    }

    fn run(&self, run: RunId) -> Result<Option<Run>> {
        queries::run(&self.conn(), run)
    }

    fn runs(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        campaign: Option<&str>,
    ) -> Result<Vec<Run>> {
        queries::runs(&self.conn(), from, to, campaign)
    }

    fn record_delivery(&self, new: &NewDelivery, now: DateTime<Utc>) -> Result<(Delivery, bool)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = write::record_delivery_in(&tx, new, now, None)?;
        tx.commit()?;
        Ok(out)
    }

    fn record_deliveries(
        &self,
        news: &[NewDelivery],
        now: DateTime<Utc>,
        lease: Option<LeaseTerm<'_>>,
    ) -> Result<Vec<(Delivery, bool)>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = news
            .iter()
            .map(|new| write::record_delivery_in(&tx, new, now, lease))
            .collect::<Result<Vec<_>>>()?;
        tx.commit()?;
        Ok(out)
    }

    fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>> {
        queries::delivery(&self.conn(), id)
    }

    fn deliveries_of_run(&self, run: RunId) -> Result<Vec<Delivery>> {
        queries::deliveries_where(&self.conn(), "d.run_id = ?1", params![run.0])
    }

    fn deliveries_of_run_in(&self, run: RunId, states: &[DeliveryState]) -> Result<Vec<Delivery>> {
        let filter = format!("d.run_id = ?1 AND {}", queries::state_in(states));
        queries::deliveries_where(&self.conn(), &filter, params![run.0])
    }

    fn delivery_ids_of_run_in(
        &self,
        run: RunId,
        states: &[DeliveryState],
    ) -> Result<Vec<DeliveryId>> {
        let filter = format!("d.run_id = ?1 AND {}", queries::state_in(states));
        queries::ids_where(&self.conn(), &filter, run.0)
    }

    fn transition(
        &self,
        id: DeliveryId,
        to: DeliveryState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = transition_in(&tx, id, to, reason, now)?;
        tx.commit()?;
        Ok(changed)
    }

    fn note(&self, id: DeliveryId, reason: &str, now: DateTime<Utc>) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE deliveries SET reason = ?1, updated_ms = ?2 WHERE id = ?3",
            params![reason, ms(now), id.0],
        )?;
        if n == 0 {
            return Err(LedgerError::UnknownDelivery(id));
        }
        Ok(())
    }

    fn record_attempt(&self, a: &NewAttempt) -> Result<i64> {
        write::insert_attempt(&self.conn(), a)
    }

    fn record_settled(&self, settled: &Settled) -> Result<i64> {
        self.group.settled(&self.conn, settled, |c, batch| {
            drop(group::commit(c, batch))
        })
    }

    fn queue_settled(&self, settled: Settled) -> Queued<i64> {
        let (answer, drain) = self.group.queue_settled(settled);
        self.drain(drain);
        answer
    }

    fn attempts(&self, delivery: DeliveryId) -> Result<Vec<Attempt>> {
        queries::attempts(&self.conn(), delivery)
    }

    fn record_state_report(&self, report: &StateReport) -> Result<Option<DeliveryId>> {
        self.group
            .report(&self.conn, report, |c, batch| drop(group::commit(c, batch)))
    }

    fn queue_state_report(&self, report: StateReport) -> Queued<Option<DeliveryId>> {
        let (answer, drain) = self.group.queue_report(report);
        self.drain(drain);
        answer
    }

    fn state_reports(&self, delivery: DeliveryId) -> Result<Vec<StateReport>> {
        queries::state_reports(&self.conn(), delivery)
    }

    fn put_endpoint_health(&self, h: &EndpointHealth) -> Result<()> {
        write::upsert_health(&self.conn(), h, false)
    }

    fn endpoint_health(&self, endpoint: &str) -> Result<Option<EndpointHealth>> {
        Ok(queries::endpoint_healths(&self.conn(), Some(endpoint))?
            .into_iter()
            .next())
    }

    fn endpoint_healths(&self) -> Result<Vec<EndpointHealth>> {
        queries::endpoint_healths(&self.conn(), None)
    }

    fn next_sequence(&self, kind: &str, day: NaiveDate) -> Result<u32> {
        sequences::unbounded(self.next_sequence_within(kind, day, u32::MAX)?)
    }

    fn next_sequence_within(&self, kind: &str, day: NaiveDate, max: u32) -> Result<Option<u32>> {
        self.ids.take(kind, day, max, &mut |kind, day, n, max| {
            sequences::reserve(&mut self.conn(), kind, day, n, max)
        })
    }

    fn held_sequence_within(&self, kind: &str, day: NaiveDate, max: u32) -> Option<u32> {
        self.ids.take_held(kind, day, max)
    }

    fn raise_sequence(&self, kind: &str, day: NaiveDate, used: u32) -> Result<u32> {
        let value = sequences::raise(&self.conn(), kind, day, used)?;
        self.ids.raised(kind, day, used);
        Ok(value)
    }

    fn deliveries_due(&self, now: DateTime<Utc>) -> Result<Vec<Delivery>> {
        queries::deliveries_where(
            &self.conn(),
            "d.state = 'pending' AND d.air_by_ms > ?1",
            params![ms(now)],
        )
    }

    fn expire_overdue(&self, now: DateTime<Utc>) -> Result<Vec<DeliveryId>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids = queries::ids_where(&tx, "state = 'pending' AND air_by_ms <= ?1", ms(now))?;
        for id in &ids {
            let reason = "air-by deadline passed before delivery";
            transition_in(&tx, *id, DeliveryState::Expired, Some(reason), now)?;
        }
        tx.commit()?;
        Ok(ids)
    }

    fn deliveries_awaiting_state(&self) -> Result<Vec<Delivery>> {
        let filter = queries::state_in(&DeliveryState::AWAITING_PLAY);
        queries::deliveries_where(&self.conn(), &filter, params![])
    }

    fn run_summary(&self, run: RunId) -> Result<RunSummary> {
        queries::run_summary(&self.conn(), run)
    }

    fn township_outcomes(&self, run: RunId) -> Result<Vec<TownshipOutcome>> {
        queries::township_outcomes(&self.conn(), run)
    }

    fn run_reach_rows(&self, run: RunId) -> Result<Vec<ReachRow>> {
        queries::reach_rows(&self.conn(), "r.id = ?1", params![run.0])
    }

    fn reach_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        campaign: Option<&str>,
    ) -> Result<Vec<ReachRow>> {
        queries::reach_rows(
            &self.conn(),
            "r.occurrence_ms >= ?1 AND r.occurrence_ms < ?2 AND (?3 IS NULL OR r.campaign = ?3)",
            params![ms(from), ms(to), campaign],
        )
    }

    fn failures(&self, run: Option<RunId>) -> Result<Vec<Failure>> {
        queries::failures(&self.conn(), run)
    }

    fn record_cancel(&self, new: &NewCancel, now: DateTime<Utc>) -> Result<(Cancel, bool)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = cancels::record(&tx, new, now)?;
        tx.commit()?;
        Ok(out)
    }

    fn cancels(&self, run: Option<RunId>) -> Result<Vec<Cancel>> {
        cancels::list(&self.conn(), run)
    }

    fn settle_cancel(
        &self,
        delivery: DeliveryId,
        to: CancelState,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = cancels::settle(&tx, delivery, to, detail, now)?;
        tx.commit()?;
        Ok(changed)
    }

    fn lease(
        &self,
        ids: &[DeliveryId],
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DeliveryId>> {
        lease::take(&mut self.conn(), ids, holder, until, now)
    }

    fn claim_leases(
        &self,
        holder: &str,
        until: DateTime<Utc>,
        claim: &Claim,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        lease::claim(&mut self.conn(), holder, until, claim, limit)
    }

    fn release_leases(&self, ids: &[DeliveryId], holder: &str) -> Result<usize> {
        lease::release(&mut self.conn(), ids, holder)
    }

    fn lease_of(&self, id: DeliveryId) -> Result<Option<(String, DateTime<Utc>)>> {
        lease::holder_of(&self.conn(), id)
    }
}
