//! The PostgreSQL ledger's reads, the same queries as the SQLite ledger's `queries` in
//! PostgreSQL's dialect. A row becomes a [`Delivery`] in one place, [`delivery_row`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{GenericClient, Row};

use super::super::queries::{failure, ms, parse_state, split_codes};
use super::super::{
    Attempt, AttemptResult, CircuitState, Delivery, DeliveryId, DeliveryState, EndpointHealth,
    Failure, LedgerError, NewDelivery, ReachRow, ReportedCoverage, Result, Run, RunId, RunState,
    RunSummary, StateReport, TownshipOutcome,
};
use super::pool::prepared;

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

fn bad(column: &'static str, value: impl ToString) -> LedgerError {
    LedgerError::BadValue {
        column,
        value: value.to_string(),
    }
}

/// An instant as stored (UTC milliseconds).
pub(super) fn time(v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| bad("instant", v))
}

/// A stored count or index that must fit a `u32`.
pub(super) fn small(v: i64, column: &'static str) -> Result<u32> {
    u32::try_from(v).map_err(|_| bad(column, v))
}

pub(super) fn delivery_state(c: &mut impl GenericClient, id: DeliveryId) -> Result<DeliveryState> {
    let select = prepared(c, "SELECT state FROM deliveries WHERE id = $1 FOR UPDATE")?;
    let row = c.query_opt(&select, &[&id.0])?;
    parse_state(
        &row.ok_or(LedgerError::UnknownDelivery(id))?
            .get::<_, String>(0),
    )
}

const RUN_COLS: &str =
    "id, campaign, occurrence_ms, created_ms, planned_townships, state, content_hash";

fn run_row(row: &Row) -> Result<Run> {
    let st: String = row.get(5);
    Ok(Run {
        id: RunId(row.get(0)),
        campaign: row.get(1),
        occurrence: time(row.get(2))?,
        created_at: time(row.get(3))?,
        planned_townships: small(row.get(4), "runs.planned_townships")?,
        state: match st.as_str() {
            "open" => RunState::Open,
            "closed" => RunState::Closed,
            _ => return Err(bad("runs.state", st)),
        },
        content_hash: row.get(6),
    })
}

pub(super) fn run(c: &mut impl GenericClient, id: RunId) -> Result<Option<Run>> {
    let sql = format!("SELECT {RUN_COLS} FROM runs WHERE id = $1");
    c.query_opt(&sql, &[&id.0])?
        .as_ref()
        .map(run_row)
        .transpose()
}

pub(super) fn runs(
    c: &mut impl GenericClient,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    campaign: Option<&str>,
) -> Result<Vec<Run>> {
    let sql = format!(
        "SELECT {RUN_COLS} FROM runs WHERE occurrence_ms >= $1 AND occurrence_ms < $2
         AND ($3::TEXT IS NULL OR campaign = $3) ORDER BY occurrence_ms, id"
    );
    let rows = c.query(&sql, &[&ms(from), &ms(to), &campaign])?;
    rows.iter().map(run_row).collect()
}

const DELIVERY_COLS: &str = "d.id, d.run_id, d.endpoint, d.lang, d.message, d.ebd_id, d.ebm_id,
    d.related_ebm_id, d.window_start_ms, d.window_end_ms, d.air_by_ms, d.payload_digest,
    d.state, d.reason, d.created_ms, d.updated_ms, d.segment, d.repeat_index,
    ARRAY(SELECT t.township FROM delivery_townships t WHERE t.delivery_id = d.id
          ORDER BY t.township) AS townships";

/// The one mapping of a `deliveries` row (selected as [`DELIVERY_COLS`]) to a [`Delivery`].
fn delivery_row(row: &Row) -> Result<Delivery> {
    let lang: String = row.get(3);
    let state: String = row.get(12);
    Ok(Delivery {
        id: DeliveryId(row.get(0)),
        plan: NewDelivery {
            run: RunId(row.get(1)),
            endpoint: row.get(2),
            segment: small(row.get(16), "deliveries.segment")?,
            lang: lang.parse().map_err(|_| bad("deliveries.lang", &lang))?,
            message: row.get(4),
            repeat: small(row.get(17), "deliveries.repeat_index")?,
            townships: row.get(18),
            ebd_id: row.get(5),
            ebm_id: row.get(6),
            related_ebm_id: row.get(7),
            window_start: time(row.get(8))?,
            window_end: time(row.get(9))?,
            air_by: time(row.get(10))?,
            payload_digest: row.get(11),
        },
        state: parse_state(&state)?,
        reason: row.get(13),
        created_at: time(row.get(14))?,
        updated_at: time(row.get(15))?,
    })
}

pub(super) fn delivery(c: &mut impl GenericClient, id: DeliveryId) -> Result<Option<Delivery>> {
    Ok(deliveries_where(c, "d.id = $1", &[&id.0])?.pop())
}

/// Deliveries matching a filter on `deliveries d`, earliest deadline first, with townships.
pub(super) fn deliveries_where(
    c: &mut impl GenericClient,
    filter: &str,
    p: Params<'_>,
) -> Result<Vec<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLS} FROM deliveries d WHERE {filter} ORDER BY d.air_by_ms, d.id"
    );
    // Prepared once per connection: recording a run reads each delivery back after its insert.
    let select = prepared(c, &sql)?;
    c.query(&select, p)?.iter().map(delivery_row).collect()
}

/// The ids of the deliveries `filter` (on `deliveries d`) keeps, in id order.
pub(super) fn ids_where(
    c: &mut impl GenericClient,
    filter: &str,
    p: Params<'_>,
) -> Result<Vec<DeliveryId>> {
    let sql = format!("SELECT d.id FROM deliveries d WHERE {filter} ORDER BY d.id");
    let select = prepared(c, &sql)?;
    Ok(c.query(&select, p)?
        .iter()
        .map(|r| DeliveryId(r.get(0)))
        .collect())
}

pub(super) fn attempts(c: &mut impl GenericClient, delivery: DeliveryId) -> Result<Vec<Attempt>> {
    let rows = c.query(
        "SELECT id, started_ms, finished_ms, outcome, code, latency_ms, error, instance
         FROM attempts WHERE delivery_id = $1 ORDER BY id",
        &[&delivery.0],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let kind: String = row.get(3);
        let latency: i64 = row.get(5);
        out.push(Attempt {
            id: row.get(0),
            delivery,
            number: u32::try_from(i + 1).unwrap_or(u32::MAX),
            started_at: time(row.get(1))?,
            finished_at: time(row.get(2))?,
            result: AttemptResult::from_parts(&kind, row.get(4))
                .ok_or_else(|| bad("attempts.outcome", &kind))?,
            latency_ms: u64::try_from(latency).unwrap_or(0),
            error: row.get(6),
            instance: row.get(7),
        });
    }
    Ok(out)
}

pub(super) fn state_reports(
    c: &mut impl GenericClient,
    delivery: DeliveryId,
) -> Result<Vec<StateReport>> {
    let rows = c.query(
        "SELECT ebm_id, reported_ms, brd_state_code, description, coverage_rate, area_codes,
             terminals, raw
         FROM state_reports WHERE delivery_id = $1 ORDER BY reported_ms, id",
        &[&delivery.0],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let code: i64 = row.get(2);
        let terminals: Option<i64> = row.get(6);
        out.push(StateReport {
            ebm_id: row.get(0),
            reported_at: time(row.get(1))?,
            brd_state_code: u8::try_from(code)
                .map_err(|_| bad("state_reports.brd_state_code", code))?,
            description: row.get(3),
            coverage_rate: row.get(4),
            area_codes: split_codes(row.get(5)),
            terminals: terminals.and_then(|t| u64::try_from(t).ok()),
            raw: row.get(7),
        });
    }
    Ok(out)
}

pub(super) fn endpoint_healths(
    c: &mut impl GenericClient,
    only: Option<&str>,
) -> Result<Vec<EndpointHealth>> {
    let rows = c.query(
        "SELECT endpoint, last_seen_ms, consecutive_failures, circuit, reason, updated_ms
         FROM endpoint_health WHERE ($1::TEXT IS NULL OR endpoint = $1) ORDER BY endpoint",
        &[&only],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let seen: Option<i64> = row.get(1);
        let circuit: String = row.get(3);
        out.push(EndpointHealth {
            endpoint: row.get(0),
            last_seen: seen.and_then(DateTime::from_timestamp_millis),
            consecutive_failures: small(row.get(2), "endpoint_health.consecutive_failures")?,
            circuit: CircuitState::parse(&circuit)
                .ok_or_else(|| bad("endpoint_health.circuit", &circuit))?,
            reason: row.get(4),
            updated_at: time(row.get(5))?,
        });
    }
    Ok(out)
}

pub(super) fn run_summary(c: &mut impl GenericClient, id: RunId) -> Result<RunSummary> {
    let run = run(c, id)?.ok_or(LedgerError::UnknownRun(id))?;
    let mut by_state = BTreeMap::new();
    let rows = c.query(
        "SELECT state, COUNT(*) FROM deliveries WHERE run_id = $1 GROUP BY state",
        &[&id.0],
    )?;
    for row in &rows {
        let st: String = row.get(0);
        by_state.insert(parse_state(&st)?, small(row.get(1), "COUNT(*)")?);
    }
    let row = c.query_one(
        "SELECT (SELECT COUNT(*) FROM attempts a JOIN deliveries d ON a.delivery_id = d.id
                 WHERE d.run_id = $1),
                (SELECT COUNT(DISTINCT substr(t.township, 1, 9)) FROM delivery_townships t
                 JOIN deliveries d ON t.delivery_id = d.id WHERE d.run_id = $1)",
        &[&id.0],
    )?;
    Ok(RunSummary {
        run,
        deliveries: by_state.values().sum(),
        by_state,
        attempts: small(row.get(0), "COUNT(*)")?,
        townships: small(row.get(1), "COUNT(*)")?,
    })
}

pub(super) fn township_outcomes(
    c: &mut impl GenericClient,
    run: RunId,
) -> Result<Vec<TownshipOutcome>> {
    let rows = c.query(
        "SELECT t.township, d.lang, d.endpoint, d.id, d.state, d.reason,
             (SELECT COUNT(*) FROM attempts a WHERE a.delivery_id = d.id), d.segment
         FROM deliveries d JOIN delivery_townships t ON t.delivery_id = d.id
         WHERE d.run_id = $1 ORDER BY t.township, d.segment, d.endpoint",
        &[&run.0],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let lang: String = row.get(1);
        let state: String = row.get(4);
        out.push(TownshipOutcome {
            township: row.get(0),
            segment: small(row.get(7), "deliveries.segment")?,
            lang: lang.parse().map_err(|_| bad("deliveries.lang", &lang))?,
            endpoint: row.get(2),
            delivery: DeliveryId(row.get(3)),
            state: parse_state(&state)?,
            reason: row.get(5),
            attempts: small(row.get(6), "COUNT(*)")?,
        });
    }
    Ok(out)
}

/// One row per township × segment × delivery of the runs matching `filter` (on `runs r`), with
/// the coverage figures of each delivery's latest state report that carried any.
pub(super) fn reach_rows(
    c: &mut impl GenericClient,
    filter: &str,
    p: Params<'_>,
) -> Result<Vec<ReachRow>> {
    let sql = format!(
        "SELECT r.id, t.township, d.segment, d.state, d.id
         FROM runs r JOIN deliveries d ON d.run_id = r.id
         JOIN delivery_townships t ON t.delivery_id = d.id WHERE {filter}
         ORDER BY r.id, t.township, d.segment, d.id"
    );
    let rows = c.query(&sql, p)?;
    let mut townships: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for row in &rows {
        townships.entry(row.get(4)).or_default().push(row.get(1));
    }
    let sql = format!(
        "SELECT d.id, s.coverage_rate, s.terminals, s.area_codes
         FROM runs r JOIN deliveries d ON d.run_id = r.id
         JOIN state_reports s ON s.delivery_id = d.id
         WHERE ({filter}) AND (s.coverage_rate IS NOT NULL OR s.terminals IS NOT NULL)
         ORDER BY s.reported_ms, s.id"
    );
    let mut reports: BTreeMap<i64, ReportedCoverage> = BTreeMap::new();
    for row in &c.query(&sql, p)? {
        let delivery: i64 = row.get(0);
        let terminals: Option<i64> = row.get(2);
        let mut towns = townships.get(&delivery).cloned().unwrap_or_default();
        towns.sort();
        // Later reports replace earlier ones: the last word of the platform counts.
        reports.insert(
            delivery,
            ReportedCoverage {
                rate: row.get(1),
                terminals: terminals.and_then(|t| u64::try_from(t).ok()),
                area_codes: split_codes(row.get(3)),
                townships: towns,
            },
        );
    }
    rows.iter()
        .map(|row| {
            let state: String = row.get(3);
            Ok(ReachRow {
                run: RunId(row.get(0)),
                township: row.get(1),
                segment: small(row.get(2), "deliveries.segment")?,
                state: parse_state(&state)?,
                coverage: reports.get(&row.get::<_, i64>(4)).cloned(),
            })
        })
        .collect()
}

pub(super) fn failures(c: &mut impl GenericClient, run: Option<RunId>) -> Result<Vec<Failure>> {
    let filter = "d.state IN ('rejected', 'expired', 'failed', 'cancelled')
        AND ($1::BIGINT IS NULL OR d.run_id = $1)";
    let deliveries = deliveries_where(c, filter, &[&run.map(|r| r.0)])?;
    let mut out = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        let attempts = attempts(c, d.id)?;
        out.push(failure(d, &attempts));
    }
    Ok(out)
}
