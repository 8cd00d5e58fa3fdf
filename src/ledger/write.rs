//! The SQLite ledger's write statements shared by several methods: deliveries, state
//! transitions, attempts (with what they settled), state reports and endpoint health, each a
//! cached prepared statement (the push path runs them per delivery).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::group::GroupConn;
use super::lease::lease_after_move;
use super::queries::{self, ms};
use super::{
    Delivery, DeliveryId, DeliveryState, EndpointHealth, LeaseTerm, LedgerError, NewAttempt,
    NewDelivery, Result, Settled, StateReport,
};

/// Move a delivery to `to` inside the caller's transaction; false if it already was there.
pub(super) fn transition_in(
    conn: &Connection,
    id: DeliveryId,
    to: DeliveryState,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let from = queries::delivery_state(conn, id)?;
    if !from.check(to, id)? {
        return Ok(false);
    }
    conn.prepare_cached(&format!(
        "UPDATE deliveries SET state = ?1, reason = COALESCE(?2, reason), updated_ms = ?3, {}
         WHERE id = ?4",
        lease_after_move("?1")
    ))?
    .execute(params![to.as_str(), reason, ms(now), id.0])?;
    tracing::debug!(delivery = id.0, %from, %to, reason, "delivery state");
    Ok(true)
}

/// The state a report moves a delivery to: directly, or through `delivered` when the report
/// proves the package arrived (an attempt timed out but the platform got it).
pub(super) fn report_target(from: DeliveryState, code: u8) -> Option<DeliveryState> {
    let to = DeliveryState::from_brd_state_code(code)?;
    let via = DeliveryState::Delivered;
    (from.can_go_to(to) || (from.can_go_to(via) && via.can_go_to(to))).then_some(to)
}

/// The SQLite ledger's group commit ([`super::group`]): the writing transaction is taken at
/// once (`IMMEDIATE`), as every write that reads first.
impl GroupConn for Connection {
    const BEGIN: &'static str = "BEGIN IMMEDIATE";

    fn run(&mut self, sql: &str) -> Result<()> {
        Ok(self.execute_batch(sql)?)
    }

    fn settled(&mut self, settled: &Settled) -> Result<i64> {
        let conn: &Connection = self;
        let id = insert_attempt(conn, &settled.attempt)?;
        if let Some((to, why)) = &settled.to {
            let (id, now) = (settled.attempt.delivery, settled.attempt.finished_at);
            let from = queries::delivery_state(conn, id)?;
            // A state report may have moved the delivery past what this reply says (played
            // before the reply was read): the attempt is kept, the later state stands.
            if !to.can_go_to(from) {
                transition_in(conn, id, *to, Some(why), now)?;
            }
        }
        if let Some(h) = &settled.health {
            upsert_health(conn, h, true)?;
        }
        Ok(id)
    }

    fn report(&mut self, report: &StateReport) -> Result<Option<DeliveryId>> {
        let conn: &Connection = self;
        let found: Option<(i64, String)> = conn
            .prepare_cached("SELECT id, state FROM deliveries WHERE ebm_id = ?1")?
            .query_row(params![report.ebm_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        conn.prepare_cached(
            "INSERT INTO state_reports (delivery_id, ebm_id, reported_ms, brd_state_code,
                 description, coverage_rate, area_codes, terminals, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            found.as_ref().map(|f| f.0),
            report.ebm_id,
            ms(report.reported_at),
            report.brd_state_code,
            report.description,
            report.coverage_rate,
            report.area_codes.join(","),
            report
                .terminals
                .map(|t| i64::try_from(t).unwrap_or(i64::MAX)),
            report.raw,
        ])?;
        let Some((id, state)) = found else {
            tracing::warn!(ebm_id = %report.ebm_id, "state report for an unknown message");
            return Ok(None);
        };
        let from = queries::parse_state(&state)?;
        if let Some(to) = report_target(from, report.brd_state_code) {
            let reason = format!("BrdStateCode {}", report.brd_state_code);
            conn.prepare_cached(&format!(
                "UPDATE deliveries SET state = ?1, reason = ?2, updated_ms = ?3, {} WHERE id = ?4",
                lease_after_move("?1")
            ))?
            .execute(params![to.as_str(), reason, ms(report.reported_at), id])?;
        }
        Ok(Some(DeliveryId(id)))
    }
}

/// Insert one attempt; an unknown delivery is named as such.
pub(super) fn insert_attempt(conn: &Connection, a: &NewAttempt) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO attempts (delivery_id, started_ms, finished_ms, outcome, code,
             latency_ms, error, instance)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        a.delivery.0,
        ms(a.started_at),
        ms(a.finished_at),
        a.result.kind(),
        a.result.code(),
        i64::try_from(a.latency_ms).unwrap_or(i64::MAX),
        a.error,
        a.instance,
    ])
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            LedgerError::UnknownDelivery(a.delivery)
        }
        other => other.into(),
    })?;
    Ok(conn.last_insert_rowid())
}

/// Write an endpoint's health; with `keep_seen`, a `last_seen` of `None` keeps the recorded one.
pub(super) fn upsert_health(conn: &Connection, h: &EndpointHealth, keep_seen: bool) -> Result<()> {
    let last_seen = if keep_seen {
        "COALESCE(excluded.last_seen_ms, endpoint_health.last_seen_ms)"
    } else {
        "excluded.last_seen_ms"
    };
    conn.prepare_cached(&format!(
        "INSERT INTO endpoint_health (endpoint, last_seen_ms, consecutive_failures, circuit,
             reason, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (endpoint) DO UPDATE SET last_seen_ms = {last_seen},
             consecutive_failures = excluded.consecutive_failures,
             circuit = excluded.circuit, reason = excluded.reason,
             updated_ms = excluded.updated_ms"
    ))?
    .execute(params![
        h.endpoint,
        h.last_seen.map(ms),
        h.consecutive_failures,
        h.circuit.as_str(),
        h.reason,
        ms(h.updated_at),
    ])?;
    Ok(())
}

/// Write a delivery inside the caller's transaction, or find the one the run already has for
/// its endpoint and segment (the flag is false). A delivery whose ids another delivery holds
/// is refused ([`LedgerError::IdsInUse`]), as on PostgreSQL. With a `lease`, a delivery this
/// call creates is written leased to its holder. A created delivery is answered as written, not
/// read back (a run writes them by the ten thousand).
pub(super) fn record_delivery_in(
    tx: &Connection,
    new: &NewDelivery,
    now: DateTime<Utc>,
    lease: Option<LeaseTerm<'_>>,
) -> Result<(Delivery, bool)> {
    let created: Option<i64> = tx
        .prepare_cached(
            "INSERT INTO deliveries (run_id, endpoint, lang, message, ebd_id, ebm_id,
             related_ebm_id, window_start_ms, window_end_ms, air_by_ms, payload_digest,
             created_ms, updated_ms, segment, repeat_index, leased_by, lease_until_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14, ?15, ?16)
         ON CONFLICT DO NOTHING
         RETURNING id",
        )?
        .query_row(
            params![
                new.run.0,
                new.endpoint,
                new.lang.code(),
                new.message,
                new.ebd_id,
                new.ebm_id,
                new.related_ebm_id,
                ms(new.window_start),
                ms(new.window_end),
                ms(new.air_by),
                new.payload_digest,
                ms(now),
                new.segment,
                new.repeat,
                lease.map(|l| l.holder),
                lease.map(|l| ms(l.until)),
            ],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = created {
        let mut stmt = tx.prepare_cached(
            "INSERT OR IGNORE INTO delivery_townships (delivery_id, township) VALUES (?1, ?2)",
        )?;
        for township in &new.townships {
            stmt.execute(params![id, township])?;
        }
        return Ok((Delivery::as_written(DeliveryId(id), new, now)?, true));
    }
    let id: i64 = tx
        .prepare_cached(
            "SELECT id FROM deliveries WHERE run_id = ?1 AND endpoint = ?2 AND segment = ?3",
        )?
        .query_row(params![new.run.0, new.endpoint, new.segment], |r| r.get(0))
        .optional()?
        .ok_or_else(|| LedgerError::IdsInUse {
            run: new.run,
            endpoint: new.endpoint.clone(),
            ebd_id: new.ebd_id.clone(),
        })?;
    let delivery = queries::delivery(tx, DeliveryId(id))?
        .ok_or(LedgerError::UnknownDelivery(DeliveryId(id)))?;
    Ok((delivery, false))
}
