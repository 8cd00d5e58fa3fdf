//! Delivery leases: which instance may send a delivery now. An instance takes the lease of the
//! deliveries it works on (as it records them, or when it resumes a run) until
//! `now + lease time`, renews it while it works, and releases it when it is done; a delivery
//! still pending whose lease ran out (its instance died) is claimed by another instance and sent
//! under its recorded ids, and so is a delivery still to follow up — sent or delivered with its
//! play state still asked for, or with a cancel of its pair's half not yet settled — so the
//! survivor asks its state or sends the cancel. A lease is free when never taken, run out, or
//! already the taker's: an instance restarted under its name takes its own deliveries back at
//! once. A delivery gives up its lease in the write that makes it final (nothing is left to hold
//! it for), so renewals and releases leave final rows unwritten, and a dead instance's name does
//! not stay on them. Instances sharing a ledger must have distinct names.
//!
//! The SQLite side of [`Ledger`](super::Ledger)'s lease methods lives here (one immediate
//! transaction each); PostgreSQL's is `pg::lease` (`FOR UPDATE SKIP LOCKED`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior, params};

use super::queries::{self, ms};
use super::{Delivery, DeliveryId, LedgerError, Result};

/// Who takes leases, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The instance's name (`serve --instance`, default the host name).
    pub holder: Arc<str>,
    /// How long a lease lasts unless renewed (`lease_s` in `[push]`).
    pub time: Duration,
}

impl Lease {
    /// A lease of `time` for `holder`.
    pub fn new(holder: &str, time: Duration) -> Lease {
        Lease {
            holder: Arc::from(holder),
            time,
        }
    }

    /// When a lease taken at `now` runs out.
    pub fn until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + crate::dispatch::delta(self.time)
    }

    /// How often an instance looks for run-out leases: a third of the lease time, at most 5 s
    /// (so a takeover comes within the lease time + 5 s).
    pub fn tick(&self) -> Duration {
        self.renewal().min(Duration::from_secs(5))
    }

    /// How often a holder renews its leases: a third of the lease time (at least 100 ms), so a
    /// renewal can fail and the next still comes before the lease runs out. Each renewal
    /// rewrites the row of every delivery still open; with the default 30 s lease, every 10 s.
    pub fn renewal(&self) -> Duration {
        (self.time / 3).max(Duration::from_millis(100))
    }
}

/// A lease written with the deliveries a call records (see
/// [`Ledger::record_deliveries`](super::Ledger::record_deliveries)): the rows it creates are
/// `holder`'s until `until`, so the instance that records a run need not take their leases in
/// a second write of every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTerm<'a> {
    pub holder: &'a str,
    pub until: DateTime<Utc>,
}

/// What a claim looks for at `now`: deliveries still to work on whose lease ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The claimer's now: pending deliveries inside their air-by, and pending cancels inside
    /// their `cancel_by`, are still to send.
    pub now: DateTime<Utc>,
    /// A delivery never leased counts as abandoned once written before this.
    pub stale: DateTime<Utc>,
    /// A sent or delivered delivery whose play window ended after this still has its play state
    /// asked for (`now` − the state wait, `state_wait_s`).
    pub states_since: DateTime<Utc>,
}

/// This machine's host name, if it has one.
pub fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// The name an instance goes by when none is given: the host name, or `shengbo`.
pub fn default_holder() -> String {
    host_name().unwrap_or_else(|| "shengbo".to_string())
}

/// The final states, quoted for SQL: `'rejected', 'expired', …` (built once: every state move
/// writes them into its statement).
fn finals() -> &'static str {
    static FINALS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let quoted: Vec<String> = super::DeliveryState::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        quoted.join(", ")
    });
    &FINALS
}

/// The assignments that leave a delivery's lease as its move to the state `to` (an SQL
/// expression, either dialect) leaves it: cleared when that state is final — nothing is left to
/// hold the delivery for, so renewals and releases need not write its row again, and a dead
/// instance's name does not stay on it — and kept otherwise.
pub(super) fn lease_after_move(to: &str) -> String {
    let finals = finals();
    format!(
        "leased_by = CASE WHEN {to} IN ({finals}) THEN NULL ELSE leased_by END,
         lease_until_ms = CASE WHEN {to} IN ({finals}) THEN NULL ELSE lease_until_ms END"
    )
}

/// A delivery in a final state, as an SQL condition (either dialect).
pub(super) fn is_final() -> String {
    format!("state IN ({})", finals())
}

/// A lease is free to `?2` at `?3`: never taken, already `?2`'s, or run out.
const FREE: &str = "(leased_by IS NULL OR leased_by = ?2 OR lease_until_ms <= ?3)";

/// Take or renew `holder`'s lease on each of `ids` that is free and not final, until `until`.
/// Returns the ids `holder` holds now, in the order given, with those already final (which need
/// no lease, and are left unwritten).
pub(super) fn take(
    conn: &mut Connection,
    ids: &[DeliveryId],
    holder: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<DeliveryId>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut held = Vec::new();
    {
        let done = is_final();
        let mut stmt = tx.prepare_cached(&format!(
            "UPDATE deliveries SET leased_by = ?2, lease_until_ms = ?4
             WHERE id = ?1 AND {FREE} AND NOT {done}"
        ))?;
        let mut over = tx.prepare_cached(&format!(
            "SELECT 1 FROM deliveries WHERE id = ?1 AND {done}"
        ))?;
        for id in ids {
            if stmt.execute(params![id.0, holder, ms(now), ms(until)])? == 1
                || over.exists(params![id.0])?
            {
                held.push(*id);
            }
        }
    }
    tx.commit()?;
    Ok(held)
}

/// Claim for `holder`, until `until`, up to `limit` deliveries still to work on (see
/// [`Claim`](super::Claim)) whose lease ran out under another holder, or that were never leased
/// and written before `stale`. Earliest air-by first.
pub(super) fn claim(
    conn: &mut Connection,
    holder: &str,
    until: DateTime<Utc>,
    claim: &super::Claim,
    limit: u32,
) -> Result<Vec<Delivery>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (now, stale, asked) = (ms(claim.now), ms(claim.stale), ms(claim.states_since));
    let ids: Vec<i64> = tx
        .prepare(&format!(
            "SELECT id FROM deliveries d WHERE {CLAIMABLE} LIMIT ?4"
        ))?
        .query_map(params![now, holder, stale, limit, asked], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        tx.execute(
            "UPDATE deliveries SET leased_by = ?2, lease_until_ms = ?3 WHERE id = ?1",
            params![id, holder, ms(until)],
        )?;
        out.extend(queries::delivery(&tx, DeliveryId(id))?);
    }
    tx.commit()?;
    Ok(out)
}

/// Pending inside its air-by at `?1`, its lease run out under another holder than `?2` (or
/// never taken and written before `?3`); sent or delivered with its window ended after `?5`
/// (its play state still asked), its lease run out under another holder (a followed-up
/// delivery its holder released is done with); or sent or delivered with a pending cancel
/// inside its `cancel_by` and its lease run out or released (no one is sending the cancel).
/// Earliest air-by first. (`+state`: the few deliveries with a pending cancel are found from
/// `cancels`, not by reading every delivered row.)
const CLAIMABLE: &str = "(state = 'pending' AND air_by_ms > ?1
        AND CASE WHEN leased_by IS NULL THEN created_ms <= ?3
                 ELSE leased_by <> ?2 AND lease_until_ms <= ?1 END
     OR state IN ('sent', 'delivered') AND leased_by <> ?2 AND lease_until_ms <= ?1
        AND window_end_ms > ?5
     OR +state IN ('sent', 'delivered')
        AND (leased_by IS NULL OR leased_by <> ?2 AND lease_until_ms <= ?1)
        AND id IN (SELECT c.delivery_id FROM cancels c
                   WHERE c.state = 'pending' AND c.cancel_by_ms > ?1))
    ORDER BY air_by_ms, id";

/// Give up `holder`'s leases on `ids`; returns how many it held.
pub(super) fn release(conn: &mut Connection, ids: &[DeliveryId], holder: &str) -> Result<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut n = 0;
    {
        let mut stmt = tx.prepare_cached(
            "UPDATE deliveries SET leased_by = NULL, lease_until_ms = NULL
             WHERE id = ?1 AND leased_by = ?2",
        )?;
        for id in ids {
            n += stmt.execute(params![id.0, holder])?;
        }
    }
    tx.commit()?;
    Ok(n)
}

/// Who holds the lease on `id`, and until when (`None` when it was never taken or released).
pub(super) fn holder_of(
    conn: &Connection,
    id: DeliveryId,
) -> Result<Option<(String, DateTime<Utc>)>> {
    let row: Option<(Option<String>, Option<i64>)> =
        rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT leased_by, lease_until_ms FROM deliveries WHERE id = ?1",
            params![id.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ))?;
    let Some((Some(holder), Some(until))) = row else {
        return Ok(None);
    };
    let until = DateTime::from_timestamp_millis(until).ok_or(LedgerError::BadValue {
        column: "deliveries.lease_until_ms",
        value: until.to_string(),
    })?;
    Ok(Some((holder, until)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_renewed_every_third_of_their_time_and_looked_for_at_most_every_5_s() {
        let of = |s: u64| Lease::new("a", Duration::from_secs(s));
        assert_eq!(of(30).renewal(), Duration::from_secs(10));
        assert_eq!(of(30).tick(), Duration::from_secs(5));
        assert_eq!(of(3).renewal(), Duration::from_secs(1));
        assert_eq!(of(3).tick(), Duration::from_secs(1));
        assert_eq!(of(60).renewal(), Duration::from_secs(20));
    }
}
