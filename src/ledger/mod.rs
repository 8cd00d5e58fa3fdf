//! The ledger: the durable record of runs, deliveries, attempts, acks and state reports (with
//! the rows reach is computed from, by `crate::reach`), written before anything is sent.
//! SQLite (WAL) behind one narrow interface.
//!
//! Callers see only the [`Ledger`] trait and the plain values in [`types`]; no SQL leaves this
//! module, so a later PostgreSQL backend shared by several dispatchers is one more `impl Ledger`.
//!
//! The API is **blocking**: every method may wait on the disk or on another writer (up to the
//! busy timeout). Async callers use `tokio::task::spawn_blocking` or one owner task; they never
//! call it directly on the runtime. The exceptions are the two per-delivery writes a run makes
//! by the thousand, queued for the group commit without waiting (`Ledger::queue_settled`,
//! `Ledger::queue_state_report`): their futures wait in the store's queue, not on a thread.
//!
//! # Files
//! - [`types`] — ids, runs, deliveries, attempts, state reports, endpoint health, query rows.
//! - [`state`] — the delivery state machine: the one place legal transitions are decided.
//! - [`schema`] — versioned migrations and connection set-up.
//! - [`sqlite`] — [`SqliteLedger`], the SQLite implementation of [`Ledger`].
//! - [`pg`] — [`PgLedger`], the PostgreSQL implementation (same tables), for instances that
//!   share one database.
//! - [`cancels`] — cancels of a broken pair's delivered half, recorded before they are sent.
//! - `instances` — each instance's content version, on both stores.
//! - [`hold`] — one instance at a time records a run's deliveries (and draws their ids).
//! - [`lease`] — which instance may send a delivery now; takeover after an instance dies.
//! - [`sequences`] — daily id counters, bounded, one per sender code ([`sequence_counter`]),
//!   reserved in blocks.
//! - `group` — group commit of the per-delivery writes (settled attempts, state reports), on
//!   both stores, from blocking writers and from the queue of async ones.
//!
//! A delivery is one segment of a run's programme at one endpoint: one airing of one clip
//! (message × language × repeat), keyed by run × endpoint × segment (schema version 2).

pub mod cancels;
pub mod hold;
mod instances;
pub mod lease;
pub mod pg;
pub mod schema;
pub mod sequences;
pub mod sqlite;
pub mod state;
pub mod target;
pub mod types;

mod group;
mod queries;
mod write;

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};

pub use cancels::{Cancel, CancelState, NewCancel};
pub use hold::RunHold;
pub use lease::{Claim, Lease, LeaseTerm};
pub use pg::PgLedger;
pub use sequences::sequence_counter;
pub use sqlite::SqliteLedger;
pub use state::{DeliveryState, IllegalTransition};
pub use target::{LedgerTarget, TargetError};
pub use types::*;

/// What can go wrong in the ledger.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    #[error("ledger `{path}`: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create the folder for ledger `{path}`: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "ledger `{path}` has schema version {found}, newer than this build supports \
         ({supported}); upgrade shengbo or use another data directory"
    )]
    NewerSchema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("ledger `{path}`: migration to version {version}: {detail}")]
    Migration {
        path: PathBuf,
        version: u32,
        detail: String,
    },
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    #[error("no delivery `{0}` in the ledger")]
    UnknownDelivery(DeliveryId),
    #[error("no run `{0}` in the ledger")]
    UnknownRun(RunId),
    #[error(
        "the delivery of run `{run}` to `{endpoint}` was not recorded: its ids `{ebd_id}` are \
         already another delivery's"
    )]
    IdsInUse {
        run: RunId,
        endpoint: String,
        ebd_id: String,
    },
    #[error("cannot hold a run with lock file `{path}`: {source}")]
    Hold {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ledger value `{value}` in column `{column}` is not valid")]
    BadValue { column: &'static str, value: String },
    #[error("ledger: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("ledger database `{target}`: cannot connect: {}", pg::Said(source))]
    PgConnect {
        target: String,
        #[source]
        source: postgres::Error,
    },
    #[error("ledger database `{target}`: its connections were shut down")]
    PgGone { target: String },
    #[error(
        "ledger database `{target}` has schema version {found}, newer than this build \
         supports ({supported}); upgrade shengbo or use another database"
    )]
    PgNewerSchema {
        target: String,
        found: u32,
        supported: u32,
    },
    #[error(
        "ledger database `{target}` already holds {rows} rows in `{table}`: a copy goes into an \
         empty database only"
    )]
    PgNotEmpty {
        target: String,
        table: &'static str,
        rows: u64,
    },
    #[error(
        "the copy of table `{table}` differs from the original ({detail}); nothing was written"
    )]
    PgCopyMismatch { table: &'static str, detail: String },
    /// Displayed with what the server said ([`pg::Said`]); the client's error is its source.
    #[error("ledger database: {}", pg::Said(.0))]
    Postgres(#[from] postgres::Error),
    #[error("ledger: a queued write got no answer: the writer committing its group stopped")]
    Unanswered,
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// A write queued for its store's group commit ([`Ledger::queue_settled`]): ready once the
/// transaction holding it committed, with what the blocking form of the write returns.
pub type Queued<R> = futures_util::future::BoxFuture<'static, Result<R>>;

/// The durable record. Blocking but for the queued writes; see the module docs.
///
/// Every write is its own transaction; methods that create rows are idempotent where a restart
/// or a second process may repeat them (`open_run`, `record_delivery`).
pub trait Ledger: Send + Sync {
    /// Open the run of `campaign` at slot `occurrence`, or find the one already opened.
    /// Returns the run id and whether this call created it.
    fn open_run(
        &self,
        campaign: &str,
        occurrence: DateTime<Utc>,
        planned_townships: u32,
        now: DateTime<Utc>,
    ) -> Result<(RunId, bool)> {
        self.open_run_versioned(campaign, occurrence, planned_townships, None, now)
    }
    /// [`Ledger::open_run`], recording `content_hash` (the content version it is created
    /// under) if this call creates the run; a run found keeps the version it was created with.
    fn open_run_versioned(
        &self,
        campaign: &str,
        occurrence: DateTime<Utc>,
        planned_townships: u32,
        content_hash: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(RunId, bool)>;
    /// Hold `run` while this instance records its deliveries and draws their ids, waiting up
    /// to `wait` for another instance holding it; `None` when that one still holds it after
    /// `wait`. Let go when the hold is dropped, or when its holder dies. See [`hold`].
    fn hold_run(&self, run: RunId, wait: std::time::Duration) -> Result<Option<RunHold>>;
    /// Mark a run closed (all its deliveries handed to the dispatcher and settled).
    fn close_run(&self, run: RunId) -> Result<()>;
    fn run(&self, run: RunId) -> Result<Option<Run>>;
    /// Runs whose occurrence lies in `[from, to)`, optionally of one campaign, oldest first.
    fn runs(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        campaign: Option<&str>,
    ) -> Result<Vec<Run>>;

    /// Write a delivery (state `pending`) before anything is sent. If the run already has a
    /// delivery for this endpoint and segment, that one is returned unchanged (its ids are the
    /// ones to send) and the flag is false.
    fn record_delivery(&self, new: &NewDelivery, now: DateTime<Utc>) -> Result<(Delivery, bool)>;
    /// [`Ledger::record_delivery`] for each of `news` (a run's deliveries, recorded before any
    /// is sent), in one transaction where the store has them: all recorded, or none. With a
    /// `lease`, the deliveries this call creates are written leased to its holder (as
    /// [`Ledger::lease`] would lease them); those recorded before are left as they are.
    fn record_deliveries(
        &self,
        news: &[NewDelivery],
        now: DateTime<Utc>,
        lease: Option<LeaseTerm<'_>>,
    ) -> Result<Vec<(Delivery, bool)>> {
        let out = news
            .iter()
            .map(|new| self.record_delivery(new, now))
            .collect::<Result<Vec<_>>>()?;
        if let Some(l) = lease {
            let created: Vec<DeliveryId> =
                out.iter().filter(|(_, c)| *c).map(|(d, _)| d.id).collect();
            self.lease(&created, l.holder, l.until, now)?;
        }
        Ok(out)
    }
    fn delivery(&self, id: DeliveryId) -> Result<Option<Delivery>>;
    fn deliveries_of_run(&self, run: RunId) -> Result<Vec<Delivery>>;
    /// The deliveries of `run` in one of `states` (a run's few broken or unanswered ones,
    /// without reading its thousands of others).
    fn deliveries_of_run_in(&self, run: RunId, states: &[DeliveryState]) -> Result<Vec<Delivery>>;
    /// The ids of `run`'s deliveries in one of `states`, in id order: what is still to do,
    /// without reading every row whole.
    fn delivery_ids_of_run_in(
        &self,
        run: RunId,
        states: &[DeliveryState],
    ) -> Result<Vec<DeliveryId>>;
    /// Move a delivery to `to`, with a reason. Returns false if it already was in `to`.
    /// Illegal moves (backwards, out of a final state) are refused with
    /// [`LedgerError::IllegalTransition`].
    fn transition(
        &self,
        id: DeliveryId,
        to: DeliveryState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Record why a delivery is waiting (e.g. its endpoint's circuit is open) without moving it.
    fn note(&self, id: DeliveryId, reason: &str, now: DateTime<Utc>) -> Result<()>;

    fn record_attempt(&self, attempt: &NewAttempt) -> Result<i64>;
    /// Record an attempt with the state it moved its delivery to and its endpoint's health, in
    /// one transaction (so they are never seen apart). Returns the attempt's id.
    fn record_settled(&self, settled: &Settled) -> Result<i64>;
    /// [`Ledger::record_settled`] for async callers: the write joins the store's group commit
    /// without a thread waiting on it, and the future is ready once it committed.
    fn queue_settled(&self, settled: Settled) -> Queued<i64>;
    fn attempts(&self, delivery: DeliveryId) -> Result<Vec<Attempt>>;

    /// Store a state report; if its EBMID names a delivery, move that delivery forward when
    /// the report proves progress. Returns the delivery it belonged to, if any.
    fn record_state_report(&self, report: &StateReport) -> Result<Option<DeliveryId>>;
    /// [`Ledger::record_state_report`] for async callers, as [`Ledger::queue_settled`].
    fn queue_state_report(&self, report: StateReport) -> Queued<Option<DeliveryId>>;
    fn state_reports(&self, delivery: DeliveryId) -> Result<Vec<StateReport>>;

    fn put_endpoint_health(&self, health: &EndpointHealth) -> Result<()>;
    fn endpoint_health(&self, endpoint: &str) -> Result<Option<EndpointHealth>>;
    fn endpoint_healths(&self) -> Result<Vec<EndpointHealth>>;

    /// The next value (1, 2, …) of counter `kind` for `day`; survives restarts, never repeats.
    fn next_sequence(&self, kind: &str, day: NaiveDate) -> Result<u32>;
    /// The next value of counter `kind` for `day` if it is at most `max` (an id layout's
    /// largest); `None` once `max` was handed out — the counter is then left where it is.
    fn next_sequence_within(&self, kind: &str, day: NaiveDate, max: u32) -> Result<Option<u32>>;
    /// [`Ledger::next_sequence_within`] from a block of values this ledger already holds in
    /// memory: `None` when the store would have to be asked (or the counter is used up). It never
    /// waits on the store, so an async caller may call it on its worker and go to a blocking
    /// thread only for `None`.
    fn held_sequence_within(&self, kind: &str, day: NaiveDate, max: u32) -> Option<u32>;
    /// Mark values up to `used` of counter `kind` for `day` as handed out (numbers used outside
    /// this ledger, or a drill); never lowers a counter. Returns the counter's value.
    fn raise_sequence(&self, kind: &str, day: NaiveDate, used: u32) -> Result<u32>;

    /// Pending deliveries whose air-by deadline is after `now`, earliest deadline first.
    fn deliveries_due(&self, now: DateTime<Utc>) -> Result<Vec<Delivery>>;
    /// Mark every pending delivery whose deadline has passed as expired; returns their ids.
    fn expire_overdue(&self, now: DateTime<Utc>) -> Result<Vec<DeliveryId>>;
    /// Deliveries acknowledged (`sent`) or `delivered` that have no final play state yet.
    fn deliveries_awaiting_state(&self) -> Result<Vec<Delivery>>;
    fn run_summary(&self, run: RunId) -> Result<RunSummary>;
    /// One row per township × segment of the run, with the delivery's state.
    fn township_outcomes(&self, run: RunId) -> Result<Vec<TownshipOutcome>>;
    /// What reach reads of one run: every township × segment × delivery with its state and
    /// coverage report (the rule itself is `crate::reach`).
    fn run_reach_rows(&self, run: RunId) -> Result<Vec<ReachRow>>;
    /// [`Ledger::run_reach_rows`] for every run with occurrence in `[from, to)`, optionally of
    /// one campaign.
    fn reach_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        campaign: Option<&str>,
    ) -> Result<Vec<ReachRow>>;
    /// Deliveries that ended badly (rejected, expired, failed, cancelled), with reasons.
    fn failures(&self, run: Option<RunId>) -> Result<Vec<Failure>>;

    /// Record the intent to cancel a delivered half of a broken pair, before it is sent. If one
    /// is recorded for the delivery, that one is returned unchanged (its package id is the one
    /// to send) and the flag is false.
    fn record_cancel(&self, new: &NewCancel, now: DateTime<Utc>) -> Result<(Cancel, bool)>;
    /// The cancels of `run`, or every still pending one (`None`), oldest first.
    fn cancels(&self, run: Option<RunId>) -> Result<Vec<Cancel>>;
    /// Settle a pending cancel; `Done` moves its delivery to `cancelled` in the same
    /// transaction. Returns false when it was already settled.
    fn settle_cancel(
        &self,
        delivery: DeliveryId,
        to: CancelState,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// Write this instance's current content version (replacing what it wrote before).
    fn put_instance(&self, instance: &InstanceVersion) -> Result<()>;
    /// Every instance's last written version, by name.
    fn instances(&self) -> Result<Vec<InstanceVersion>>;
    /// Take or renew `holder`'s lease on each of `ids` whose lease is free (never taken, run
    /// out at `now`, or already `holder`'s) and that is not final, until `until`; returns the
    /// ids `holder` holds now, in the order given, with those already final (a delivery gives up
    /// its lease as it turns final: it needs none). See [`lease`].
    fn lease(
        &self,
        ids: &[DeliveryId],
        holder: &str,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DeliveryId>>;
    /// Claim for `holder`, until `until`, up to `limit` deliveries still to work on at
    /// `claim.now` (pending, awaiting their play state, or with a cancel to send: see [`Claim`])
    /// whose lease ran out under another holder (its instance died), or that were never leased
    /// and written before `claim.stale`; earliest air-by first. Deliveries another instance
    /// claims at the same moment are left to it.
    fn claim_leases(
        &self,
        holder: &str,
        until: DateTime<Utc>,
        claim: &Claim,
        limit: u32,
    ) -> Result<Vec<Delivery>>;
    /// Give up `holder`'s leases on `ids` (done with, or left to others); returns how many it
    /// held.
    fn release_leases(&self, ids: &[DeliveryId], holder: &str) -> Result<usize>;
    /// Who holds the lease on `id` and until when; `None` when never taken or released.
    fn lease_of(&self, id: DeliveryId) -> Result<Option<(String, DateTime<Utc>)>>;

    /// Whether the store answers now (for `/readyz`): a cheap read by default.
    fn ping(&self) -> Result<()> {
        self.run(RunId(0)).map(drop)
    }
}
