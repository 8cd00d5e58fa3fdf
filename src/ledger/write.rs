//! The SQLite ledger's write statements shared by several methods: state transitions, attempts
//! and endpoint health, each a cached prepared statement (the push path runs them per delivery).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::queries::{self, ms};
use super::{DeliveryId, DeliveryState, EndpointHealth, LedgerError, NewAttempt, Result};

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
    conn.prepare_cached(
        "UPDATE deliveries SET state = ?1, reason = COALESCE(?2, reason), updated_ms = ?3
         WHERE id = ?4",
    )?
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

/// Insert one attempt; an unknown delivery is named as such.
pub(super) fn insert_attempt(conn: &Connection, a: &NewAttempt) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO attempts (delivery_id, started_ms, finished_ms, outcome, code,
             latency_ms, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        a.delivery.0,
        ms(a.started_at),
        ms(a.finished_at),
        a.result.kind(),
        a.result.code(),
        i64::try_from(a.latency_ms).unwrap_or(i64::MAX),
        a.error,
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
