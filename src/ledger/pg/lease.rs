//! Delivery leases on PostgreSQL (see `ledger::lease`): the rows a call takes are locked, and a
//! claim skips rows another instance is claiming at the same moment (`FOR UPDATE SKIP LOCKED`),
//! so two instances never both come away with one delivery.
//!
//! Instants are UTC milliseconds, as everywhere in the ledger; the clock is the caller's.

use chrono::{DateTime, Utc};
use postgres::GenericClient;

use super::super::lease::is_final;
use super::super::queries::ms;
use super::super::{Claim, Delivery, DeliveryId, Result};
use super::queries;

/// A lease is free to `$2` at `$3`: never taken, already `$2`'s, or run out.
const FREE: &str = "(leased_by IS NULL OR leased_by = $2 OR lease_until_ms <= $3)";

/// Take or renew `holder`'s lease on each of `ids` that is free and not final, until `until`; the
/// ids held now, in the order given, with those already final (which need no lease, and are left
/// unwritten).
pub(super) fn take(
    c: &mut impl GenericClient,
    ids: &[DeliveryId],
    holder: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<DeliveryId>> {
    let raw: Vec<i64> = ids.iter().map(|d| d.0).collect();
    let done = is_final();
    let rows = c.query(
        &format!(
            "WITH t AS (UPDATE deliveries SET leased_by = $2, lease_until_ms = $4
                        WHERE id = ANY($1) AND {FREE} AND NOT {done} RETURNING id)
             SELECT id FROM t UNION ALL SELECT id FROM deliveries WHERE id = ANY($1) AND {done}"
        ),
        &[&raw, &holder, &ms(now), &ms(until)],
    )?;
    let held: std::collections::HashSet<i64> = rows.iter().map(|r| r.get(0)).collect();
    Ok(ids
        .iter()
        .copied()
        .filter(|d| held.contains(&d.0))
        .collect())
}

/// Claim up to `limit` deliveries still to work on (see [`Claim`](super::super::Claim)) whose
/// lease ran out under another holder, or that were never leased and written before `stale`;
/// earliest air-by first.
pub(super) fn claim(
    c: &mut impl GenericClient,
    holder: &str,
    until: DateTime<Utc>,
    claim: &Claim,
    limit: u32,
) -> Result<Vec<Delivery>> {
    let mut tx = c.transaction()?;
    let rows = tx.query(
        "UPDATE deliveries SET leased_by = $2, lease_until_ms = $5
         WHERE id IN (
             SELECT id FROM deliveries d
             WHERE (state = 'pending' AND air_by_ms > $1
                    AND CASE WHEN leased_by IS NULL THEN created_ms <= $3
                             ELSE leased_by <> $2 AND lease_until_ms <= $1 END
                 OR state IN ('sent', 'delivered') AND leased_by <> $2 AND lease_until_ms <= $1
                    AND window_end_ms > $6
                 OR state IN ('sent', 'delivered')
                    AND (leased_by IS NULL OR leased_by <> $2 AND lease_until_ms <= $1)
                    AND id IN (SELECT c.delivery_id FROM cancels c
                               WHERE c.state = 'pending' AND c.cancel_by_ms > $1))
             ORDER BY air_by_ms, id LIMIT $4
             FOR UPDATE SKIP LOCKED)
         RETURNING id",
        &[
            &ms(claim.now),
            &holder,
            &ms(claim.stale),
            &i64::from(limit),
            &ms(until),
            &ms(claim.states_since),
        ],
    )?;
    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    let out = queries::deliveries_where(&mut tx, "d.id = ANY($1)", &[&ids])?;
    tx.commit()?;
    Ok(out)
}

/// Give up `holder`'s leases on `ids`; how many it held.
pub(super) fn release(
    c: &mut impl GenericClient,
    ids: &[DeliveryId],
    holder: &str,
) -> Result<usize> {
    let raw: Vec<i64> = ids.iter().map(|d| d.0).collect();
    let n = c.execute(
        "UPDATE deliveries SET leased_by = NULL, lease_until_ms = NULL
         WHERE id = ANY($1) AND leased_by = $2",
        &[&raw, &holder],
    )?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Who holds the lease on `id`, and until when.
pub(super) fn holder_of(
    c: &mut impl GenericClient,
    id: DeliveryId,
) -> Result<Option<(String, DateTime<Utc>)>> {
    let row = c.query_opt(
        "SELECT leased_by, lease_until_ms FROM deliveries WHERE id = $1",
        &[&id.0],
    )?;
    let Some((Some(holder), Some(until))) =
        row.map(|r| (r.get::<_, Option<String>>(0), r.get::<_, Option<i64>>(1)))
    else {
        return Ok(None);
    };
    Ok(Some((holder, queries::time(until)?)))
}
