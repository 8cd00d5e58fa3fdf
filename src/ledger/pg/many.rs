//! A group's settled attempts, and its state reports, each in one statement of many rows
//! (arrays, unnested), committed on its own: PostgreSQL spends its time per statement, so a
//! group of eight costs about what two single writes cost (see BENCHMARKS.md, "Push fan-out on
//! PostgreSQL: a group's writes in one statement").
//!
//! Each statement does what the single writes of `super::write::settle` and
//! `super::group`'s report do, row by row, and locks the deliveries it reads in the order of
//! their ids. A statement writes all of its rows or none: when one write could not go in it (two
//! writes of one delivery or one message, an unknown delivery, a state move the rules refuse),
//! or the statement failed, those writes are left to the group's transaction, which runs them
//! one by one and gives each its own answer.

use std::collections::{HashMap, HashSet};

use postgres::Client;

use super::super::group::{Reply, Waiting};
use super::super::lease::lease_after_move;
use super::super::queries::ms;
use super::super::write::report_target;
use super::super::{DeliveryId, DeliveryState, EndpointHealth, Result, Settled, StateReport};
use super::pool::prepared;

/// States as one comma-separated text (the statements split it: `string_to_array`).
fn states(keep: impl Fn(DeliveryState) -> bool) -> String {
    let kept: Vec<&str> = DeliveryState::ALL
        .into_iter()
        .filter(|s| keep(*s))
        .map(DeliveryState::as_str)
        .collect();
    kept.join(",")
}

/// Commit the settled attempts and the state reports of `batch`, a statement each; the writes
/// left (see the module's note).
pub(super) fn commit(c: &mut Client, batch: Vec<Waiting>) -> Vec<Waiting> {
    let (mut settles, mut reports) = (Vec::new(), Vec::new());
    for w in batch {
        match w {
            Waiting::Settled(s, reply) => settles.push((s, reply)),
            Waiting::Report(r, reply) => reports.push((r, reply)),
        }
    }
    let left = settled(c, settles).into_iter();
    let mut left: Vec<Waiting> = left.map(|(s, reply)| Waiting::Settled(s, reply)).collect();
    let reports = reported(c, reports).into_iter();
    left.extend(reports.map(|(r, reply)| Waiting::Report(r, reply)));
    left
}

/// The settled attempts of `batch`, or all of `batch` back when they could not be written.
fn settled(c: &mut Client, batch: Vec<(Settled, Reply<i64>)>) -> Vec<(Settled, Reply<i64>)> {
    let writes: Vec<&Settled> = batch.iter().map(|(s, _)| s).collect();
    let mut seen = HashSet::new();
    if writes.is_empty() || !writes.iter().all(|s| seen.insert(s.attempt.delivery)) {
        return batch;
    }
    let ids = match settle_all(c, &writes) {
        Ok(Some(ids)) => ids,
        Ok(None) => return batch,
        Err(e) => {
            tracing::debug!(error = %e, writes = writes.len(), "settled attempts go one by one");
            return batch;
        }
    };
    for (s, reply) in batch {
        // Every delivery of the batch has its attempt: checked by `settle_all`.
        reply.committed(ids[&s.attempt.delivery]);
    }
    Vec::new()
}

/// Settle `writes` (one per delivery) in one statement: each attempt's id by its delivery, or
/// `None` (nothing written) when a delivery is unknown or one of the moves is against the rules.
fn settle_all(c: &mut Client, writes: &[&Settled]) -> Result<Option<HashMap<DeliveryId, i64>>> {
    let n = writes.len();
    let (mut delivery, mut started, mut finished) = (vec![], vec![], vec![]);
    let (mut outcome, mut code, mut latency) = (vec![], vec![], vec![]);
    let (mut error, mut instance) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut to, mut why, mut go, mut ok) = (vec![], vec![], vec![], vec![]);
    for s in writes {
        let a = &s.attempt;
        delivery.push(a.delivery.0);
        started.push(ms(a.started_at));
        finished.push(ms(a.finished_at));
        outcome.push(a.result.kind());
        code.push(a.result.code());
        latency.push(i64::try_from(a.latency_ms).unwrap_or(i64::MAX));
        error.push(a.error.as_deref());
        instance.push(a.instance.as_deref());
        let t = s.to.as_ref();
        to.push(t.map(|(t, _)| t.as_str()));
        why.push(t.map(|(_, why)| why.as_str()));
        // Moved on from the states that lead to `t` (and not from those past it), as the
        // single write; left as it is where it already is or past it; refused otherwise.
        go.push(t.map(|(t, _)| states(|f| !t.can_go_to(f) && f.can_go_to(*t))));
        ok.push(t.map(|(t, _)| states(|f| f == *t || f.can_go_to(*t) || t.can_go_to(f))));
    }
    let health = health_of(writes);
    let h_endpoint: Vec<&str> = health.iter().map(|h| h.endpoint.as_str()).collect();
    let h_seen: Vec<Option<i64>> = health.iter().map(|h| h.last_seen.map(ms)).collect();
    let h_fails: Vec<i64> = health
        .iter()
        .map(|h| i64::from(h.consecutive_failures))
        .collect();
    let h_circuit: Vec<&str> = health.iter().map(|h| h.circuit.as_str()).collect();
    let h_reason: Vec<Option<&str>> = health.iter().map(|h| h.reason.as_deref()).collect();
    let h_at: Vec<i64> = health.iter().map(|h| ms(h.updated_at)).collect();
    let statement = prepared(c, &SETTLE_ALL)?;
    let rows = c.query(
        &statement,
        &[
            &delivery,
            &started,
            &finished,
            &outcome,
            &code,
            &latency,
            &error,
            &instance,
            &to,
            &why,
            &go,
            &ok,
            &h_endpoint,
            &h_seen,
            &h_fails,
            &h_circuit,
            &h_reason,
            &h_at,
        ],
    )?;
    if rows.len() != n {
        return Ok(None);
    }
    Ok(Some(
        rows.iter()
            .map(|r| (DeliveryId(r.get(1)), r.get(0)))
            .collect(),
    ))
}

/// The endpoints' health as the writes leave it, one per endpoint (an upsert cannot write one
/// row twice): the last write's, keeping the last `last_seen` given before it when it gives none.
fn health_of(writes: &[&Settled]) -> Vec<EndpointHealth> {
    let mut out: Vec<EndpointHealth> = Vec::new();
    for h in writes.iter().filter_map(|s| s.health.as_ref()) {
        match out.iter_mut().find(|o| o.endpoint == h.endpoint) {
            Some(o) => {
                let seen = h.last_seen.or(o.last_seen);
                *o = EndpointHealth {
                    last_seen: seen,
                    ..h.clone()
                };
            }
            None => out.push(h.clone()),
        }
    }
    out
}

/// The settled attempts' statement: the attempts inserted; each delivery locked, read and moved
/// on as `go` allows; the endpoints' health written (a `last_seen` of NULL keeping the recorded
/// one); nothing written at all when a delivery is missing or its state is not in `ok`. The
/// attempts' ids with their deliveries.
///
/// Each array is read through a scalar subquery, in both statements: the planner then expects
/// the same rows whatever the arrays hold, its plan is the same for every call, and PostgreSQL
/// keeps one generic plan per connection. Given the arrays themselves it would plan every call
/// anew for its few rows, which cost more than running the statement (BENCHMARKS.md).
static SETTLE_ALL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH i AS (
             SELECT * FROM unnest((SELECT $1::BIGINT[]), (SELECT $2::BIGINT[]),
                 (SELECT $3::BIGINT[]), (SELECT $4::TEXT[]), (SELECT $5::BIGINT[]),
                 (SELECT $6::BIGINT[]), (SELECT $7::TEXT[]), (SELECT $8::TEXT[]),
                 (SELECT $9::TEXT[]), (SELECT $10::TEXT[]), (SELECT $11::TEXT[]),
                 (SELECT $12::TEXT[]))
                 WITH ORDINALITY AS i (delivery_id, started_ms, finished_ms, outcome, code,
                                       latency_ms, error, instance, to_state, why, go, ok, n)),
         d AS (SELECT id, state FROM deliveries WHERE id IN (SELECT delivery_id FROM i)
               ORDER BY id FOR UPDATE),
         bad AS (SELECT 1 FROM i LEFT JOIN d ON d.id = i.delivery_id
                 WHERE d.id IS NULL
                    OR i.to_state IS NOT NULL AND NOT d.state = ANY(string_to_array(i.ok, ','))),
         a AS (INSERT INTO attempts (delivery_id, started_ms, finished_ms, outcome, code,
                   latency_ms, error, instance)
               SELECT delivery_id, started_ms, finished_ms, outcome, code, latency_ms, error,
                   instance
               FROM i WHERE NOT EXISTS (SELECT 1 FROM bad) ORDER BY n
               RETURNING id, delivery_id),
         u AS (UPDATE deliveries SET state = i.to_state, reason = i.why,
                   updated_ms = i.finished_ms, {}
               FROM d JOIN i ON i.delivery_id = d.id
               WHERE deliveries.id = d.id AND d.state = ANY(string_to_array(i.go, ','))
                 AND NOT EXISTS (SELECT 1 FROM bad)),
         h AS (INSERT INTO endpoint_health (endpoint, last_seen_ms, consecutive_failures,
                   circuit, reason, updated_ms)
               SELECT * FROM unnest((SELECT $13::TEXT[]), (SELECT $14::BIGINT[]),
                   (SELECT $15::BIGINT[]), (SELECT $16::TEXT[]), (SELECT $17::TEXT[]),
                   (SELECT $18::BIGINT[]))
               WHERE NOT EXISTS (SELECT 1 FROM bad)
               ON CONFLICT (endpoint) DO UPDATE SET
                   last_seen_ms = COALESCE(excluded.last_seen_ms, endpoint_health.last_seen_ms),
                   consecutive_failures = excluded.consecutive_failures,
                   circuit = excluded.circuit, reason = excluded.reason,
                   updated_ms = excluded.updated_ms)
         SELECT id, delivery_id FROM a",
        lease_after_move("i.to_state")
    )
});

/// The state reports of `batch`, or all of `batch` back when they could not be written.
fn reported(
    c: &mut Client,
    batch: Vec<(StateReport, Reply<Option<DeliveryId>>)>,
) -> Vec<(StateReport, Reply<Option<DeliveryId>>)> {
    let writes: Vec<&StateReport> = batch.iter().map(|(r, _)| r).collect();
    let mut seen = HashSet::new();
    if writes.is_empty() || !writes.iter().all(|r| seen.insert(r.ebm_id.as_str())) {
        return batch;
    }
    let found = match report_all(c, &writes) {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!(error = %e, writes = writes.len(), "state reports go one by one");
            return batch;
        }
    };
    for (r, reply) in batch {
        // The statement stored every report of the batch and answered each.
        let delivery = found.get(&r.ebm_id).copied().flatten();
        if delivery.is_none() {
            tracing::warn!(ebm_id = %r.ebm_id, "state report for an unknown message");
        }
        reply.committed(delivery);
    }
    Vec::new()
}

/// Store `reports` (one per message) in one statement, moving each delivery to what its report
/// proves; the delivery each names, if any, by message id.
fn report_all(
    c: &mut Client,
    reports: &[&StateReport],
) -> Result<HashMap<String, Option<DeliveryId>>> {
    let ebm: Vec<&str> = reports.iter().map(|r| r.ebm_id.as_str()).collect();
    let at: Vec<i64> = reports.iter().map(|r| ms(r.reported_at)).collect();
    let code: Vec<i64> = reports
        .iter()
        .map(|r| i64::from(r.brd_state_code))
        .collect();
    let description: Vec<Option<&str>> = reports.iter().map(|r| r.description.as_deref()).collect();
    let coverage: Vec<Option<f64>> = reports.iter().map(|r| r.coverage_rate).collect();
    let areas: Vec<String> = reports.iter().map(|r| r.area_codes.join(",")).collect();
    let terminals: Vec<Option<i64>> = reports
        .iter()
        .map(|r| r.terminals.map(|t| i64::try_from(t).unwrap_or(i64::MAX)))
        .collect();
    let raw: Vec<&str> = reports.iter().map(|r| r.raw.as_str()).collect();
    let to: Vec<Option<&str>> = reports
        .iter()
        .map(|r| DeliveryState::from_brd_state_code(r.brd_state_code).map(DeliveryState::as_str))
        .collect();
    let why: Vec<String> = reports
        .iter()
        .map(|r| format!("BrdStateCode {}", r.brd_state_code))
        .collect();
    let go: Vec<String> = reports
        .iter()
        .map(|r| states(|f| report_target(f, r.brd_state_code).is_some()))
        .collect();
    let statement = prepared(c, &REPORT_ALL)?;
    let rows = c.query(
        &statement,
        &[
            &ebm,
            &at,
            &code,
            &description,
            &coverage,
            &areas,
            &terminals,
            &raw,
            &to,
            &why,
            &go,
        ],
    )?;
    // One row per report (a message names at most one delivery).
    let mut found = HashMap::with_capacity(rows.len());
    for r in &rows {
        let at = usize::try_from(r.get::<_, i64>(0) - 1).ok();
        if let Some(report) = at.and_then(|i| reports.get(i)) {
            found.insert(
                report.ebm_id.clone(),
                r.get::<_, Option<i64>>(1).map(DeliveryId),
            );
        }
    }
    Ok(found)
}

/// The state reports' statement: each message's delivery locked and read, the report stored
/// (with no delivery when the message is unknown), the delivery moved to what the report proves
/// when its state is in `go`. Each report's place in the arrays (from 1) with its delivery.
static REPORT_ALL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH i AS (
             SELECT * FROM unnest((SELECT $1::TEXT[]), (SELECT $2::BIGINT[]),
                 (SELECT $3::BIGINT[]), (SELECT $4::TEXT[]), (SELECT $5::FLOAT8[]),
                 (SELECT $6::TEXT[]), (SELECT $7::BIGINT[]), (SELECT $8::TEXT[]),
                 (SELECT $9::TEXT[]), (SELECT $10::TEXT[]), (SELECT $11::TEXT[]))
                 WITH ORDINALITY AS i (ebm_id, reported_ms, brd_state_code, description,
                                       coverage_rate, area_codes, terminals, raw, to_state,
                                       why, go, n)),
         d AS (SELECT id, state, ebm_id FROM deliveries WHERE ebm_id IN (SELECT ebm_id FROM i)
               ORDER BY id FOR UPDATE),
         r AS (INSERT INTO state_reports (delivery_id, ebm_id, reported_ms, brd_state_code,
                   description, coverage_rate, area_codes, terminals, raw)
               SELECT d.id, i.ebm_id, i.reported_ms, i.brd_state_code, i.description,
                   i.coverage_rate, i.area_codes, i.terminals, i.raw
               FROM i LEFT JOIN d ON d.ebm_id = i.ebm_id ORDER BY i.n),
         u AS (UPDATE deliveries SET state = i.to_state, reason = i.why,
                   updated_ms = i.reported_ms, {}
               FROM d JOIN i ON i.ebm_id = d.ebm_id
               WHERE deliveries.id = d.id AND i.to_state IS NOT NULL
                 AND d.state = ANY(string_to_array(i.go, ',')))
         SELECT i.n, d.id FROM i LEFT JOIN d ON d.ebm_id = i.ebm_id",
        lease_after_move("i.to_state")
    )
});

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::ledger::{AttemptResult, CircuitState, NewAttempt};

    fn settled(d: i64, endpoint: &str, seen: Option<u32>, failures: u32) -> Settled {
        let at = |m: u32| Utc.with_ymd_and_hms(2026, 12, 5, 10, m, 0).unwrap();
        Settled {
            attempt: NewAttempt {
                delivery: DeliveryId(d),
                started_at: at(0),
                finished_at: at(0),
                result: AttemptResult::Delivered,
                latency_ms: 1,
                error: None,
                instance: None,
            },
            to: None,
            health: Some(EndpointHealth {
                endpoint: endpoint.to_string(),
                last_seen: seen.map(at),
                consecutive_failures: failures,
                circuit: CircuitState::Closed,
                reason: None,
                updated_at: at(failures),
            }),
        }
    }

    #[test]
    fn a_groups_health_is_one_row_an_endpoint_as_its_writes_in_order_leave_it() {
        let writes = [
            settled(1, "a", Some(1), 0),
            settled(2, "b", None, 4),
            settled(3, "a", None, 2),
            settled(4, "a", Some(3), 5),
            settled(5, "a", None, 6),
        ];
        let refs: Vec<&Settled> = writes.iter().collect();
        let got = health_of(&refs);
        let seen = |h: &EndpointHealth| h.last_seen.map(|t| t.format("%M").to_string());
        let got: Vec<_> = got
            .iter()
            .map(|h| (h.endpoint.as_str(), seen(h), h.consecutive_failures))
            .collect();
        // `a`: the last write's figures, with the last `last_seen` given before it.
        assert_eq!(got, [("a", Some("03".to_string()), 6), ("b", None, 4)]);
        let none: Vec<&Settled> = Vec::new();
        assert!(health_of(&none).is_empty());
    }
}
