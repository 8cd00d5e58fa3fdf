//! The PostgreSQL ledger's writes shared by several methods — state transitions, attempts,
//! endpoint health, counters and cancels — the SQLite ledger's statements in PostgreSQL's
//! dialect (settled attempts and state reports, committed in groups: [`super::group`]; a
//! settled attempt is one statement, [`settle`]). Each runs inside the caller's transaction
//! (or alone); rows a write reads first are locked (`FOR UPDATE`), so two instances never both
//! move one delivery.

use chrono::{DateTime, NaiveDate, Utc};
use postgres::types::ToSql;
use postgres::{Client, GenericClient, Row};

use super::super::cancels::{Cancel, CancelState, NewCancel};
use super::super::lease::lease_after_move;
use super::super::queries::ms;
use super::super::sequences::day_key;
use super::super::{
    DeliveryId, DeliveryState, EndpointHealth, LedgerError, NewAttempt, Result, RunId, Settled,
};
use super::pool::prepared;
use super::queries::{self, small, time};

/// Move a delivery to `to`; false if it already was there.
pub(super) fn transition_in(
    c: &mut impl GenericClient,
    id: DeliveryId,
    to: DeliveryState,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let from = queries::delivery_state(c, id)?;
    transition_from(c, id, from, to, reason, now)
}

/// [`transition_in`] of a delivery whose state `from` the caller read and locked.
pub(super) fn transition_from(
    c: &mut impl GenericClient,
    id: DeliveryId,
    from: DeliveryState,
    to: DeliveryState,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    if !from.check(to, id)? {
        return Ok(false);
    }
    let update = prepared(
        c,
        &format!(
            "UPDATE deliveries SET state = $1, reason = COALESCE($2, reason), updated_ms = $3, {}
             WHERE id = $4",
            lease_after_move("$1")
        ),
    )?;
    c.execute(&update, &[&to.as_str(), &reason, &ms(now), &id.0])?;
    tracing::debug!(delivery = id.0, %from, %to, reason, "delivery state");
    Ok(true)
}

const INSERT_ATTEMPT: &str = "INSERT INTO attempts (delivery_id, started_ms, finished_ms, outcome,
         code, latency_ms, error, instance)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";

/// Insert one attempt; an unknown delivery is named as such.
pub(super) fn insert_attempt(c: &mut impl GenericClient, a: &NewAttempt) -> Result<i64> {
    Ok(settle(
        c,
        &Settled {
            attempt: a.clone(),
            to: None,
            health: None,
        },
    )?
    .0)
}

/// A settled attempt in one statement (one round trip): the attempt inserted; with a state to
/// move to, its delivery's row locked and moved there when its state (read under the lock) is
/// one the attempt may move on — not past it, nor against the rules; with a health, the
/// endpoint's health written (a `last_seen` of `None` keeping the recorded one). The attempt's
/// id and, with a state to move to, the delivery's state before, for the caller to check.
pub(super) fn settle(
    c: &mut impl GenericClient,
    s: &Settled,
) -> Result<(i64, Option<DeliveryState>)> {
    let a = &s.attempt;
    let (started, finished) = (ms(a.started_at), ms(a.finished_at));
    let (kind, code) = (a.result.kind(), a.result.code());
    let latency = i64::try_from(a.latency_ms).unwrap_or(i64::MAX);
    let mut p: Vec<&(dyn ToSql + Sync)> = vec![
        &a.delivery.0,
        &started,
        &finished,
        &kind,
        &code,
        &latency,
        &a.error,
        &a.instance,
    ];
    let mut sql = format!("WITH a AS ({INSERT_ATTEMPT})");
    let mut answer = "SELECT a.id, NULL::TEXT FROM a";
    let to = s.to.as_ref().map(|(to, why)| {
        let from: Vec<&str> = DeliveryState::ALL
            .into_iter()
            .filter(|f| !to.can_go_to(*f) && f.can_go_to(*to))
            .map(DeliveryState::as_str)
            .collect();
        (to.as_str(), why, from)
    });
    if let Some((to, why, from)) = &to {
        sql.push_str(&format!(
            ", d AS (SELECT id, state FROM deliveries WHERE id = $1 FOR UPDATE),
             u AS (UPDATE deliveries SET state = $9, reason = $10, updated_ms = $3, {} FROM d
                   WHERE deliveries.id = d.id AND d.state = ANY($11::TEXT[]))",
            lease_after_move("$9")
        ));
        answer = "SELECT a.id, d.state FROM a LEFT JOIN d ON TRUE";
        p.extend([to as &(dyn ToSql + Sync), *why, from]);
    }
    let health = s.health.as_ref().map(health_params);
    if let Some(h) = &health {
        sql.push_str(&format!(", h AS ({})", health_sql(true, p.len())));
        p.extend(h.iter().map(|v| v.as_ref()));
    }
    sql.push(' ');
    sql.push_str(answer);
    let statement = prepared(c, &sql)?;
    let row = c.query_one(&statement, &p).map_err(|e| match e.code() {
        Some(&postgres::error::SqlState::FOREIGN_KEY_VIOLATION) => {
            LedgerError::UnknownDelivery(a.delivery)
        }
        _ => e.into(),
    })?;
    let from = match row.get::<_, Option<String>>(1) {
        Some(st) if s.to.is_some() => Some(super::super::queries::parse_state(&st)?),
        _ => None,
    };
    Ok((row.get(0), from))
}

/// The endpoint health upsert, its six parameters numbered from `after + 1`; with `keep_seen`,
/// a `last_seen` of `None` keeps the recorded one.
fn health_sql(keep_seen: bool, after: usize) -> String {
    let last_seen = if keep_seen {
        "COALESCE(excluded.last_seen_ms, endpoint_health.last_seen_ms)"
    } else {
        "excluded.last_seen_ms"
    };
    let [e, seen, fails, circuit, reason, at] = std::array::from_fn(|i| after + 1 + i);
    format!(
        "INSERT INTO endpoint_health (endpoint, last_seen_ms, consecutive_failures, circuit,
             reason, updated_ms)
         VALUES (${e}, ${seen}, ${fails}, ${circuit}, ${reason}, ${at})
         ON CONFLICT (endpoint) DO UPDATE SET last_seen_ms = {last_seen},
             consecutive_failures = excluded.consecutive_failures,
             circuit = excluded.circuit, reason = excluded.reason,
             updated_ms = excluded.updated_ms"
    )
}

/// [`health_sql`]'s parameters for `h`.
fn health_params(h: &EndpointHealth) -> [Box<dyn ToSql + Sync>; 6] {
    [
        Box::new(h.endpoint.clone()),
        Box::new(h.last_seen.map(ms)),
        Box::new(i64::from(h.consecutive_failures)),
        Box::new(h.circuit.as_str()),
        Box::new(h.reason.clone()),
        Box::new(ms(h.updated_at)),
    ]
}

/// Write an endpoint's health; with `keep_seen`, a `last_seen` of `None` keeps the recorded one.
pub(super) fn upsert_health(
    c: &mut impl GenericClient,
    h: &EndpointHealth,
    keep_seen: bool,
) -> Result<()> {
    let upsert = prepared(c, &health_sql(keep_seen, 0))?;
    let p = health_params(h);
    c.execute(&upsert, &p.iter().map(|v| v.as_ref()).collect::<Vec<_>>())?;
    Ok(())
}

/// Reserve at most `n` values of `kind` for `day`, none above `max`, in one transaction (the
/// row locked, so two instances reserve one after the other): the block's first and last value,
/// or `None` once `max` was handed out (the counter stays put).
pub(super) fn reserve_sequence(
    c: &mut Client,
    kind: &str,
    day: NaiveDate,
    n: u32,
    max: u32,
) -> Result<Option<(u32, u32)>> {
    let mut tx = c.transaction()?;
    let day = day_key(day);
    tx.execute(
        "INSERT INTO sequences (kind, day, value) VALUES ($1, $2, 0)
         ON CONFLICT (kind, day) DO NOTHING",
        &[&kind, &day],
    )?;
    let old: i64 = tx
        .query_one(
            "SELECT value FROM sequences WHERE kind = $1 AND day = $2 FOR UPDATE",
            &[&kind, &day],
        )?
        .get(0);
    let max = i64::from(max);
    if old >= max {
        return Ok(None);
    }
    let last = (old + i64::from(n.max(1))).min(max);
    tx.execute(
        "UPDATE sequences SET value = $3 WHERE kind = $1 AND day = $2",
        &[&kind, &day, &last],
    )?;
    tx.commit()?;
    Ok(Some((
        small(old + 1, "sequences.value")?,
        small(last, "sequences.value")?,
    )))
}

/// Give back the unused values `first..=last` of `kind` for `day` when nobody reserved after
/// them (the counter still stands at `last`).
pub(super) fn give_back_sequence(
    c: &mut impl GenericClient,
    kind: &str,
    day: NaiveDate,
    first: u32,
    last: u32,
) -> Result<bool> {
    let n = c.execute(
        "UPDATE sequences SET value = $3 WHERE kind = $1 AND day = $2 AND value = $4",
        &[
            &kind,
            &day_key(day),
            &(i64::from(first) - 1),
            &i64::from(last),
        ],
    )?;
    Ok(n == 1)
}

/// Raise `kind` for `day` so that the next value handed out is above `used`; never lowers it.
pub(super) fn raise_sequence(
    c: &mut impl GenericClient,
    kind: &str,
    day: NaiveDate,
    used: u32,
) -> Result<u32> {
    let row = c.query_one(
        "INSERT INTO sequences (kind, day, value) VALUES ($1, $2, $3)
         ON CONFLICT (kind, day) DO UPDATE SET value = GREATEST(sequences.value, excluded.value)
         RETURNING value",
        &[&kind, &day_key(day), &i64::from(used)],
    )?;
    small(row.get(0), "sequences.value")
}

const CANCEL_COLS: &str = "c.delivery_id, d.run_id, c.ebd_id, c.reason, c.cancel_by_ms, \
                           c.state, c.detail, c.created_ms, c.updated_ms";

fn cancel_row(r: &Row) -> Result<Cancel> {
    let st: String = r.get(5);
    Ok(Cancel {
        delivery: DeliveryId(r.get(0)),
        run: RunId(r.get(1)),
        ebd_id: r.get(2),
        reason: r.get(3),
        cancel_by: time(r.get(4))?,
        state: CancelState::parse(&st).ok_or(LedgerError::BadValue {
            column: "cancels.state",
            value: st.clone(),
        })?,
        detail: r.get(6),
        created_at: time(r.get(7))?,
        updated_at: time(r.get(8))?,
    })
}

/// Insert the intent unless one exists for the delivery; the recorded one and whether this
/// call created it.
pub(super) fn record_cancel(
    c: &mut impl GenericClient,
    new: &NewCancel,
    now: DateTime<Utc>,
) -> Result<(Cancel, bool)> {
    let created = c.execute(
        "INSERT INTO cancels (delivery_id, ebd_id, reason, cancel_by_ms, created_ms, updated_ms)
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (delivery_id) DO NOTHING",
        &[
            &new.delivery.0,
            &new.ebd_id,
            &new.reason,
            &ms(new.cancel_by),
            &ms(now),
        ],
    )? == 1;
    let cancel = cancels(c, "c.delivery_id = $1", new.delivery.0)?
        .pop()
        .ok_or(LedgerError::UnknownDelivery(new.delivery))?;
    Ok((cancel, created))
}

/// Cancels matching `filter` (with one `BIGINT` parameter), oldest first.
pub(super) fn cancels(c: &mut impl GenericClient, filter: &str, arg: i64) -> Result<Vec<Cancel>> {
    let sql = format!(
        "SELECT {CANCEL_COLS} FROM cancels c JOIN deliveries d ON d.id = c.delivery_id
         WHERE {filter} ORDER BY c.created_ms, c.delivery_id"
    );
    c.query(&sql, &[&arg])?.iter().map(cancel_row).collect()
}

/// Settle a pending cancel; `Done` moves its delivery to `cancelled` with the cancel's reason.
/// A cancel already settled is left as it is (false).
pub(super) fn settle_cancel(
    c: &mut impl GenericClient,
    id: DeliveryId,
    to: CancelState,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    // Lock the delivery first: two instances settling one cancel take turns.
    let from = queries::delivery_state(c, id)?;
    let found = cancels(c, "c.delivery_id = $1", id.0)?.pop();
    let Some(cancel) = found else {
        return Err(LedgerError::UnknownDelivery(id));
    };
    if cancel.state != CancelState::Pending || to == CancelState::Pending {
        return Ok(false);
    }
    c.execute(
        "UPDATE cancels SET state = $1, detail = $2, updated_ms = $3 WHERE delivery_id = $4",
        &[&to.as_str(), &detail, &ms(now), &id.0],
    )?;
    if to == CancelState::Done && from.can_go_to(DeliveryState::Cancelled) {
        let reason = format!("cancelled at the platform: {}", cancel.reason);
        transition_in(c, id, DeliveryState::Cancelled, Some(&reason), now)?;
    }
    Ok(true)
}
