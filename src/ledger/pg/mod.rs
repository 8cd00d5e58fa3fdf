//! [`PgLedger`]: the [`Ledger`] on PostgreSQL, for several `serve` instances sharing one truth.
//! The same tables, columns, states and reach rows as the SQLite ledger ([`schema`]).
//!
//! Connections: a few worker threads, each owning one connection ([`pool`], which says why
//! this is sound inside tokio). Every method is one job; a write that reads first is one
//! transaction whose rows are locked, so instances racing on the same run, delivery or counter
//! take turns and each row is created once (`ON CONFLICT`). Settled attempts and state reports
//! arriving together share one job and one transaction ([`group`]).
//!
//! No TLS: the client speaks plain TCP (or a Unix socket), for a database on loopback or on a
//! private network. Reach a remote server through an encrypted tunnel.

pub mod copy;
mod group;
mod hold;
mod lease;
mod many;
mod pool;
mod queries;
mod record;
mod said;
pub mod schema;
mod write;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use super::cancels::{Cancel, CancelState, NewCancel};
use super::hold::RunHold;
use super::queries::ms;
use super::sequences::{self, IdBlocks};
use super::{
    Attempt, Claim, Delivery, DeliveryId, DeliveryState, EndpointHealth, Failure, InstanceVersion,
    LeaseTerm, Ledger, LedgerError, NewAttempt, NewDelivery, Queued, ReachRow, Result, Run, RunId,
    RunSummary, Settled, StateReport, TownshipOutcome,
};
use group::Lanes;
use pool::Pool;
pub use said::Said;

/// Connections each instance keeps open.
pub const CONNECTIONS: usize = 4;

/// The PostgreSQL ledger.
pub struct PgLedger {
    /// Shared with the committers of queued writes ([`group`]).
    pool: Arc<Pool>,
    /// How to connect: a run's hold takes a connection of its own ([`hold`]).
    config: postgres::Config,
    target: String,
    ids: IdBlocks,
    /// Per-delivery writes waiting for a transaction, in lanes ([`group`]).
    lanes: Lanes,
}

impl std::fmt::Debug for PgLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgLedger")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// `user@host:port/dbname` of a configuration: how the database is named in messages (never
/// with the password).
pub fn describe(config: &postgres::Config) -> String {
    use postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or("?")
    )
}

impl PgLedger {
    /// Connect with `config` (user, password and database already settled), migrate the
    /// database as needed, and start the workers.
    pub fn open(config: postgres::Config) -> Result<PgLedger> {
        let target = describe(&config);
        // Even the first connection is made by a worker: `open` may be called on any thread.
        let pool = Pool::start(config.clone(), CONNECTIONS, target.clone());
        let t = target.clone();
        pool.call(move |c| schema::migrate(c, &t))?;
        Ok(PgLedger {
            pool: Arc::new(pool),
            config,
            target,
            ids: IdBlocks::default(),
            lanes: Lanes::default(),
        })
    }

    /// The database as named in messages.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Run `f` on the pool between groups ([`group`]): a write that locks many deliveries at
    /// once (a run's leases, the overdue ones) and a group locking some of them in another order would deadlock
    /// (each waiting a second for PostgreSQL to break the tie); taking turns, they never do.
    fn in_turn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _turn = self.lanes.hold();
        self.pool.call(f)
    }

    /// Whether the database answers now (for readiness checks).
    pub fn ping(&self) -> Result<()> {
        self.pool
            .call(|c| Ok(c.simple_query("SELECT 1").map(drop)?))
    }
}

impl Drop for PgLedger {
    /// Give the counter values reserved and not handed out back, where no instance reserved
    /// after them.
    fn drop(&mut self) {
        for (kind, day, first, last) in self.ids.unused() {
            let name = kind.clone();
            let back = self
                .pool
                .call(move |c| write::give_back_sequence(c, &name, day, first, last));
            if let Err(e) = back {
                tracing::warn!(error = %e, kind, %day, "unused counter values not given back");
            }
        }
    }
}

impl Ledger for PgLedger {
    fn ping(&self) -> Result<()> {
        self.pool
            .call(|c| Ok(c.simple_query("SELECT 1").map(drop)?))
    }

    fn open_run_versioned(
        &self,
        campaign: &str,
        occurrence: DateTime<Utc>,
        planned_townships: u32,
        content_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(RunId, bool)> {
        let campaign = campaign.to_string();
        let content_hash = content_hash.map(str::to_string);
        let (id, created) = self.pool.call(move |c| {
            // One statement inserts or finds: a racing instance waits on the key, then reads.
            let created = c.execute(
                "INSERT INTO runs (campaign, occurrence_ms, created_ms, planned_townships,
                                   content_hash)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (campaign, occurrence_ms) DO NOTHING",
                &[
                    &campaign,
                    &ms(occurrence),
                    &ms(now),
                    &i64::from(planned_townships),
                    &content_hash,
                ],
            )? == 1;
            let row = c.query_one(
                "SELECT id FROM runs WHERE campaign = $1 AND occurrence_ms = $2",
                &[&campaign, &ms(occurrence)],
            )?;
            Ok((row.get::<_, i64>(0), created))
        })?;
        tracing::info!(run = id, %occurrence, created, "run opened");
        Ok((RunId(id), created))
    }

    fn hold_run(&self, run: RunId, wait: std::time::Duration) -> Result<Option<RunHold>> {
        hold::hold(&self.config, &self.target, run, wait)
    }

    fn put_instance(&self, instance: &InstanceVersion) -> Result<()> {
        let instance = instance.clone();
        self.pool
            .call(move |c| super::instances::put_pg(c, &instance))
    }

    fn instances(&self) -> Result<Vec<InstanceVersion>> {
        self.pool.call(super::instances::list_pg)
    }

    fn close_run(&self, run: RunId) -> Result<()> {
        let n = self.pool.call(move |c| {
            Ok(c.execute("UPDATE runs SET state = 'closed' WHERE id = $1", &[&run.0])?)
        })?;
        if n == 0 {
            return Err(LedgerError::UnknownRun(run));
        }
        Ok(())
    }

    fn run(&self, run: RunId) -> Result<Option<Run>> {
        self.pool.call(move |c| queries::run(c, run))
    }

    fn runs(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        campaign: Option<&str>,
    ) -> Result<Vec<Run>> {
        let campaign = campaign.map(str::to_string);
        self.pool
            .call(move |c| queries::runs(c, from, to, campaign.as_deref()))
    }

    fn record_delivery(&self, new: &NewDelivery, now: DateTime<Utc>) -> Result<(Delivery, bool)> {
        let new = new.clone();
        self.pool
            .call(move |c| record::record_delivery(c, &new, now))
    }

    fn record_deliveries(
        &self,
        news: &[NewDelivery],
        now: DateTime<Utc>,
        lease: Option<LeaseTerm<'_>>,
    ) -> Result<Vec<(Delivery, bool)>> {
        let news = news.to_vec();
        let lease = lease.map(|l| (l.holder.to_string(), l.until));
        self.pool.call(move |c| {
            let lease = lease.as_ref().map(|(holder, until)| LeaseTerm {
                holder,
                until: *until,
            });
            record::record_deliveries(c, &news, now, lease)
        })
    }

    fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>> {
        self.pool.call(move |c| queries::delivery(c, id))
    }

    fn deliveries_of_run(&self, run: RunId) -> Result<Vec<Delivery>> {
        self.pool
            .call(move |c| queries::deliveries_where(c, "d.run_id = $1", &[&run.0]))
    }

    fn deliveries_of_run_in(&self, run: RunId, states: &[DeliveryState]) -> Result<Vec<Delivery>> {
        let filter = format!("d.run_id = $1 AND {}", super::queries::state_in(states));
        self.pool
            .call(move |c| queries::deliveries_where(c, &filter, &[&run.0]))
    }

    fn delivery_ids_of_run_in(
        &self,
        run: RunId,
        states: &[DeliveryState],
    ) -> Result<Vec<DeliveryId>> {
        let filter = format!("d.run_id = $1 AND {}", super::queries::state_in(states));
        self.pool
            .call(move |c| queries::ids_where(c, &filter, &[&run.0]))
    }

    fn transition(
        &self,
        id: DeliveryId,
        to: DeliveryState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let reason = reason.map(str::to_string);
        self.pool.call(move |c| {
            let mut tx = c.transaction()?;
            let changed = write::transition_in(&mut tx, id, to, reason.as_deref(), now)?;
            tx.commit()?;
            Ok(changed)
        })
    }

    fn note(&self, id: DeliveryId, reason: &str, now: DateTime<Utc>) -> Result<()> {
        let reason = reason.to_string();
        let n = self.pool.call(move |c| {
            Ok(c.execute(
                "UPDATE deliveries SET reason = $1, updated_ms = $2 WHERE id = $3",
                &[&reason, &ms(now), &id.0],
            )?)
        })?;
        if n == 0 {
            return Err(LedgerError::UnknownDelivery(id));
        }
        Ok(())
    }

    fn record_attempt(&self, a: &NewAttempt) -> Result<i64> {
        let a = a.clone();
        self.pool.call(move |c| write::insert_attempt(c, &a))
    }

    fn record_settled(&self, settled: &Settled) -> Result<i64> {
        self.lanes.settled(&self.pool, settled)
    }

    fn queue_settled(&self, settled: Settled) -> Queued<i64> {
        self.lanes.queue_settled(&self.pool, settled)
    }

    fn attempts(&self, delivery: DeliveryId) -> Result<Vec<Attempt>> {
        self.pool.call(move |c| queries::attempts(c, delivery))
    }

    fn record_state_report(&self, report: &StateReport) -> Result<Option<DeliveryId>> {
        self.lanes.report(&self.pool, report)
    }

    fn queue_state_report(&self, report: StateReport) -> Queued<Option<DeliveryId>> {
        self.lanes.queue_report(&self.pool, report)
    }

    fn state_reports(&self, delivery: DeliveryId) -> Result<Vec<StateReport>> {
        self.pool.call(move |c| queries::state_reports(c, delivery))
    }

    fn put_endpoint_health(&self, h: &EndpointHealth) -> Result<()> {
        let h = h.clone();
        self.pool.call(move |c| write::upsert_health(c, &h, false))
    }

    fn endpoint_health(&self, endpoint: &str) -> Result<Option<EndpointHealth>> {
        let endpoint = endpoint.to_string();
        let found = self
            .pool
            .call(move |c| queries::endpoint_healths(c, Some(&endpoint)))?;
        Ok(found.into_iter().next())
    }

    fn endpoint_healths(&self) -> Result<Vec<EndpointHealth>> {
        self.pool.call(|c| queries::endpoint_healths(c, None))
    }

    fn next_sequence(&self, kind: &str, day: NaiveDate) -> Result<u32> {
        sequences::unbounded(self.next_sequence_within(kind, day, u32::MAX)?)
    }

    fn held_sequence_within(&self, kind: &str, day: NaiveDate, max: u32) -> Option<u32> {
        self.ids.take_held(kind, day, max)
    }

    fn next_sequence_within(&self, kind: &str, day: NaiveDate, max: u32) -> Result<Option<u32>> {
        self.ids.take(kind, day, max, &mut |kind, day, n, max| {
            let kind = kind.to_string();
            self.pool
                .call(move |c| write::reserve_sequence(c, &kind, day, n, max))
        })
    }

    fn raise_sequence(&self, kind: &str, day: NaiveDate, used: u32) -> Result<u32> {
        let name = kind.to_string();
        let value = self
            .pool
            .call(move |c| write::raise_sequence(c, &name, day, used))?;
        self.ids.raised(kind, day, used);
        Ok(value)
    }

    fn deliveries_due(&self, now: DateTime<Utc>) -> Result<Vec<Delivery>> {
        self.pool.call(move |c| {
            let filter = "d.state = 'pending' AND d.air_by_ms > $1";
            queries::deliveries_where(c, filter, &[&ms(now)])
        })
    }

    fn expire_overdue(&self, now: DateTime<Utc>) -> Result<Vec<DeliveryId>> {
        self.in_turn(move |c| {
            let mut tx = c.transaction()?;
            let rows = tx.query(
                "SELECT id FROM deliveries WHERE state = 'pending' AND air_by_ms <= $1
                 ORDER BY id FOR UPDATE",
                &[&ms(now)],
            )?;
            let ids: Vec<DeliveryId> = rows.iter().map(|r| DeliveryId(r.get(0))).collect();
            let reason = "air-by deadline passed before delivery";
            for id in &ids {
                write::transition_in(&mut tx, *id, DeliveryState::Expired, Some(reason), now)?;
            }
            tx.commit()?;
            Ok(ids)
        })
    }

    fn deliveries_awaiting_state(&self) -> Result<Vec<Delivery>> {
        let filter = super::queries::state_in(&DeliveryState::AWAITING_PLAY);
        self.pool
            .call(move |c| queries::deliveries_where(c, &filter, &[]))
    }

    fn run_summary(&self, run: RunId) -> Result<RunSummary> {
        self.pool.call(move |c| queries::run_summary(c, run))
    }

    fn township_outcomes(&self, run: RunId) -> Result<Vec<TownshipOutcome>> {
        self.pool.call(move |c| queries::township_outcomes(c, run))
    }

    fn run_reach_rows(&self, run: RunId) -> Result<Vec<ReachRow>> {
        self.pool
            .call(move |c| queries::reach_rows(c, "r.id = $1", &[&run.0]))
    }

    fn reach_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        campaign: Option<&str>,
    ) -> Result<Vec<ReachRow>> {
        let campaign = campaign.map(str::to_string);
        self.pool.call(move |c| {
            queries::reach_rows(
                c,
                "r.occurrence_ms >= $1 AND r.occurrence_ms < $2
                 AND ($3::TEXT IS NULL OR r.campaign = $3)",
                &[&ms(from), &ms(to), &campaign],
            )
        })
    }

    fn failures(&self, run: Option<RunId>) -> Result<Vec<Failure>> {
        self.pool.call(move |c| queries::failures(c, run))
    }

    fn record_cancel(&self, new: &NewCancel, now: DateTime<Utc>) -> Result<(Cancel, bool)> {
        let new = new.clone();
        self.pool.call(move |c| {
            let mut tx = c.transaction()?;
            let out = write::record_cancel(&mut tx, &new, now);
            let out = match out {
                Err(LedgerError::Postgres(e))
                    if e.code() == Some(&postgres::error::SqlState::FOREIGN_KEY_VIOLATION) =>
                {
                    return Err(LedgerError::UnknownDelivery(new.delivery));
                }
                other => other?,
            };
            tx.commit()?;
            Ok(out)
        })
    }

    fn cancels(&self, run: Option<RunId>) -> Result<Vec<Cancel>> {
        self.pool.call(move |c| match run {
            Some(r) => write::cancels(c, "d.run_id = $1", r.0),
            None => write::cancels(c, "c.state = 'pending' AND $1::BIGINT = $1", 0),
        })
    }

    fn settle_cancel(
        &self,
        delivery: DeliveryId,
        to: CancelState,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let detail = detail.map(str::to_string);
        self.pool.call(move |c| {
            let mut tx = c.transaction()?;
            let changed = write::settle_cancel(&mut tx, delivery, to, detail.as_deref(), now)?;
            tx.commit()?;
            Ok(changed)
        })
    }

    fn lease(
        &self,
        ids: &[DeliveryId],
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DeliveryId>> {
        let (ids, holder) = (ids.to_vec(), holder.to_string());
        self.in_turn(move |c| lease::take(c, &ids, &holder, until, now))
    }

    fn claim_leases(
        &self,
        holder: &str,
        until: DateTime<Utc>,
        claim: &Claim,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let (holder, claim) = (holder.to_string(), *claim);
        self.in_turn(move |c| lease::claim(c, &holder, until, &claim, limit))
    }

    fn release_leases(&self, ids: &[DeliveryId], holder: &str) -> Result<usize> {
        let (ids, holder) = (ids.to_vec(), holder.to_string());
        self.in_turn(move |c| lease::release(c, &ids, &holder))
    }

    fn lease_of(&self, id: DeliveryId) -> Result<Option<(String, DateTime<Utc>)>> {
        self.pool.call(move |c| lease::holder_of(c, id))
    }
}
