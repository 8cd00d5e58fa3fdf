//! Cancels of a broken pair's delivered half: the intent is written before the cancel is sent
//! (so a restart still sends it, once), then settled — done (the delivery moves to `cancelled`
//! in the same transaction), refused by the platform, or too late.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::queries::ms;
use super::write::transition_in;
use super::{DeliveryId, DeliveryState, LedgerError, Result, RunId};

/// Where a cancel stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelState {
    /// Recorded, not yet confirmed by the platform: to send (again after a restart).
    Pending,
    /// The platform took the cancel; the delivery is `cancelled`.
    Done,
    /// The platform refused the cancel (a ResultCode 2–5): the half may air alone.
    Refused,
    /// Not confirmed before the delivery's own air-by: the half may air alone.
    TooLate,
}

impl CancelState {
    pub const ALL: [CancelState; 4] = [
        CancelState::Pending,
        CancelState::Done,
        CancelState::Refused,
        CancelState::TooLate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CancelState::Pending => "pending",
            CancelState::Done => "done",
            CancelState::Refused => "refused",
            CancelState::TooLate => "too_late",
        }
    }

    pub fn parse(s: &str) -> Option<CancelState> {
        CancelState::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A cancel to record: which delivery, under which package id, why, and until when to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCancel {
    pub delivery: DeliveryId,
    /// The cancel package's EBDID, fixed here and reused on every retry.
    pub ebd_id: String,
    /// Why the pair is broken ("Mandarin half expired").
    pub reason: String,
    /// The cancelled delivery's own air-by: past it the cancel is given up as too late.
    pub cancel_by: DateTime<Utc>,
}

/// A cancel as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cancel {
    pub delivery: DeliveryId,
    pub run: RunId,
    pub ebd_id: String,
    pub reason: String,
    pub cancel_by: DateTime<Utc>,
    pub state: CancelState,
    /// The platform's answer or why it was given up.
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLS: &str = "c.delivery_id, d.run_id, c.ebd_id, c.reason, c.cancel_by_ms, c.state, \
                    c.detail, c.created_ms, c.updated_ms";

fn instant(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let v: i64 = row.get(idx)?;
    DateTime::from_timestamp_millis(v).ok_or(rusqlite::Error::IntegralValueOutOfRange(idx, v))
}

fn row(r: &Row<'_>) -> rusqlite::Result<Cancel> {
    let st: String = r.get(5)?;
    let state = CancelState::parse(&st).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            5,
            rusqlite::types::Type::Text,
            Box::new(LedgerError::BadValue {
                column: "cancels.state",
                value: st.clone(),
            }),
        )
    })?;
    Ok(Cancel {
        delivery: DeliveryId(r.get(0)?),
        run: RunId(r.get(1)?),
        ebd_id: r.get(2)?,
        reason: r.get(3)?,
        cancel_by: instant(r, 4)?,
        state,
        detail: r.get(6)?,
        created_at: instant(r, 7)?,
        updated_at: instant(r, 8)?,
    })
}

/// Insert the intent unless one exists for the delivery; returns the recorded one and whether
/// this call created it.
pub(super) fn record(
    conn: &Connection,
    new: &NewCancel,
    now: DateTime<Utc>,
) -> Result<(Cancel, bool)> {
    let created = conn.execute(
        "INSERT INTO cancels (delivery_id, ebd_id, reason, cancel_by_ms, created_ms, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (delivery_id) DO NOTHING",
        params![
            new.delivery.0,
            new.ebd_id,
            new.reason,
            ms(new.cancel_by),
            ms(now)
        ],
    )? == 1;
    let c = of_delivery(conn, new.delivery)?.ok_or(LedgerError::UnknownDelivery(new.delivery))?;
    Ok((c, created))
}

pub(super) fn of_delivery(conn: &Connection, id: DeliveryId) -> Result<Option<Cancel>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLS} FROM cancels c JOIN deliveries d ON d.id = c.delivery_id
             WHERE c.delivery_id = ?1"
        ))?
        .query_row(params![id.0], row)
        .optional()?)
}

/// The cancels of one run, or every pending one (`run` = `None`), oldest first.
pub(super) fn list(conn: &Connection, run: Option<RunId>) -> Result<Vec<Cancel>> {
    let (filter, arg) = match run {
        Some(r) => ("d.run_id = ?1", r.0),
        None => ("c.state = 'pending' AND ?1 = ?1", 0),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM cancels c JOIN deliveries d ON d.id = c.delivery_id
         WHERE {filter} ORDER BY c.created_ms, c.delivery_id"
    ))?;
    let rows = stmt.query_map(params![arg], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Settle a pending cancel; `Done` moves its delivery to `cancelled` with the cancel's reason,
/// in the caller's transaction. A cancel already settled is left as it is (false).
pub(super) fn settle(
    conn: &Connection,
    id: DeliveryId,
    to: CancelState,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Some(c) = of_delivery(conn, id)? else {
        return Err(LedgerError::UnknownDelivery(id));
    };
    if c.state != CancelState::Pending || to == CancelState::Pending {
        return Ok(false);
    }
    conn.execute(
        "UPDATE cancels SET state = ?1, detail = ?2, updated_ms = ?3 WHERE delivery_id = ?4",
        params![to.as_str(), detail, ms(now), id.0],
    )?;
    let from = super::queries::delivery_state(conn, id)?;
    if to == CancelState::Done && from.can_go_to(DeliveryState::Cancelled) {
        let reason = format!("cancelled at the platform: {}", c.reason);
        transition_in(conn, id, DeliveryState::Cancelled, Some(&reason), now)?;
    }
    Ok(true)
}
