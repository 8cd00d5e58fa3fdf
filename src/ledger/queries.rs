//! The ledger's reads: row mapping and the queries the dispatcher, `run`, `serve` and coverage
//! need. Each function takes a connection; `sqlite` chooses the locking and transactions.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};

use super::{
    Attempt, AttemptResult, CircuitState, Delivery, DeliveryId, DeliveryState, EndpointHealth,
    Failure, LedgerError, NewDelivery, ReachRow, ReportedCoverage, Result, Run, RunId, RunState,
    RunSummary, StateReport, TownshipOutcome,
};

/// An instant as stored: UTC milliseconds since the epoch.
pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn bad(idx: usize, column: &'static str, value: impl ToString) -> rusqlite::Error {
    let err = LedgerError::BadValue {
        column,
        value: value.to_string(),
    };
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(err))
}

pub(super) fn time(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let v: i64 = row.get(idx)?;
    DateTime::from_timestamp_millis(v).ok_or_else(|| bad(idx, "instant", v))
}

fn state(row: &Row<'_>, idx: usize) -> rusqlite::Result<DeliveryState> {
    let s: String = row.get(idx)?;
    DeliveryState::parse(&s).ok_or_else(|| bad(idx, "state", s))
}

pub fn parse_state(s: &str) -> Result<DeliveryState> {
    DeliveryState::parse(s).ok_or_else(|| LedgerError::BadValue {
        column: "deliveries.state",
        value: s.to_string(),
    })
}

pub fn delivery_state(conn: &Connection, id: DeliveryId) -> Result<DeliveryState> {
    let s: Option<String> = conn
        .prepare_cached("SELECT state FROM deliveries WHERE id = ?1")?
        .query_row(params![id.0], |r| r.get(0))
        .optional()?;
    parse_state(&s.ok_or(LedgerError::UnknownDelivery(id))?)
}

const RUN_COLS: &str =
    "id, campaign, occurrence_ms, created_ms, planned_townships, state, content_hash";

fn run_row(row: &Row<'_>) -> rusqlite::Result<Run> {
    let st: String = row.get(5)?;
    Ok(Run {
        id: RunId(row.get(0)?),
        campaign: row.get(1)?,
        occurrence: time(row, 2)?,
        created_at: time(row, 3)?,
        planned_townships: row.get(4)?,
        state: match st.as_str() {
            "open" => RunState::Open,
            "closed" => RunState::Closed,
            _ => return Err(bad(5, "runs.state", st)),
        },
        content_hash: row.get(6)?,
    })
}

pub fn run(conn: &Connection, id: RunId) -> Result<Option<Run>> {
    let sql = format!("SELECT {RUN_COLS} FROM runs WHERE id = ?1");
    Ok(conn.query_row(&sql, params![id.0], run_row).optional()?)
}

pub fn runs(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    campaign: Option<&str>,
) -> Result<Vec<Run>> {
    let sql = format!(
        "SELECT {RUN_COLS} FROM runs WHERE occurrence_ms >= ?1 AND occurrence_ms < ?2
         AND (?3 IS NULL OR campaign = ?3) ORDER BY occurrence_ms, id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![ms(from), ms(to), campaign], run_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

const DELIVERY_COLS: &str = "d.id, d.run_id, d.endpoint, d.lang, d.message, d.ebd_id, d.ebm_id,
    d.related_ebm_id, d.window_start_ms, d.window_end_ms, d.air_by_ms, d.payload_digest,
    d.state, d.reason, d.created_ms, d.updated_ms, d.segment, d.repeat_index";

fn delivery_row(row: &Row<'_>) -> rusqlite::Result<Delivery> {
    let lang: String = row.get(3)?;
    Ok(Delivery {
        id: DeliveryId(row.get(0)?),
        plan: NewDelivery {
            run: RunId(row.get(1)?),
            endpoint: row.get(2)?,
            segment: row.get(16)?,
            lang: lang.parse().map_err(|_| bad(3, "deliveries.lang", &lang))?,
            message: row.get(4)?,
            repeat: row.get(17)?,
            townships: Vec::new(),
            ebd_id: row.get(5)?,
            ebm_id: row.get(6)?,
            related_ebm_id: row.get(7)?,
            window_start: time(row, 8)?,
            window_end: time(row, 9)?,
            air_by: time(row, 10)?,
            payload_digest: row.get(11)?,
        },
        state: state(row, 12)?,
        reason: row.get(13)?,
        created_at: time(row, 14)?,
        updated_at: time(row, 15)?,
    })
}

pub fn delivery(conn: &Connection, id: DeliveryId) -> Result<Option<Delivery>> {
    Ok(deliveries_where(conn, "d.id = ?1", params![id.0])?.pop())
}

/// Deliveries matching a filter on `deliveries d`, earliest deadline first, with townships.
pub fn deliveries_where(
    conn: &Connection,
    filter: &str,
    p: &[&dyn ToSql],
) -> Result<Vec<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLS} FROM deliveries d WHERE {filter} ORDER BY d.air_by_ms, d.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut out: Vec<Delivery> = stmt
        .query_map(p, delivery_row)?
        .collect::<rusqlite::Result<_>>()?;
    // Their townships in one more query, not one per delivery (a run's are read by the
    // thousand).
    let sql = format!(
        "SELECT t.delivery_id, t.township FROM delivery_townships t
         JOIN deliveries d ON d.id = t.delivery_id WHERE {filter}"
    );
    let mut towns: HashMap<i64, Vec<String>> = HashMap::new();
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(p)?;
    while let Some(r) = rows.next()? {
        towns.entry(r.get(0)?).or_default().push(r.get(1)?);
    }
    for d in &mut out {
        d.plan.townships = towns.remove(&d.id.0).unwrap_or_default();
        d.plan.townships.sort_unstable();
    }
    Ok(out)
}

/// `d.state IN ('sent', …)` for `states` (either dialect; `FALSE` for none). The names are the
/// states' own, never input.
pub(super) fn state_in(states: &[DeliveryState]) -> String {
    if states.is_empty() {
        return "FALSE".to_string();
    }
    let quoted: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
    format!("d.state IN ({})", quoted.join(", "))
}

pub fn ids_where(conn: &Connection, filter: &str, arg: i64) -> Result<Vec<DeliveryId>> {
    let sql = format!("SELECT d.id FROM deliveries d WHERE {filter} ORDER BY d.id");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![arg], |r| Ok(DeliveryId(r.get(0)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn attempts(conn: &Connection, delivery: DeliveryId) -> Result<Vec<Attempt>> {
    let mut stmt = conn.prepare(
        "SELECT id, started_ms, finished_ms, outcome, code, latency_ms, error, instance
         FROM attempts WHERE delivery_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![delivery.0], |row| {
        let kind: String = row.get(3)?;
        let code: Option<i64> = row.get(4)?;
        let latency: i64 = row.get(5)?;
        Ok(Attempt {
            id: row.get(0)?,
            delivery,
            number: 0,
            started_at: time(row, 1)?,
            finished_at: time(row, 2)?,
            result: AttemptResult::from_parts(&kind, code)
                .ok_or_else(|| bad(3, "attempts.outcome", &kind))?,
            latency_ms: u64::try_from(latency).unwrap_or(0),
            error: row.get(6)?,
            instance: row.get(7)?,
        })
    })?;
    let mut out: Vec<Attempt> = rows.collect::<rusqlite::Result<_>>()?;
    for (i, a) in out.iter_mut().enumerate() {
        a.number = u32::try_from(i + 1).unwrap_or(u32::MAX);
    }
    Ok(out)
}

pub fn state_reports(conn: &Connection, delivery: DeliveryId) -> Result<Vec<StateReport>> {
    let mut stmt = conn.prepare(
        "SELECT ebm_id, reported_ms, brd_state_code, description, coverage_rate, area_codes,
             terminals, raw
         FROM state_reports WHERE delivery_id = ?1 ORDER BY reported_ms, id",
    )?;
    let rows = stmt.query_map(params![delivery.0], |row| {
        let areas: String = row.get(5)?;
        let terminals: Option<i64> = row.get(6)?;
        Ok(StateReport {
            ebm_id: row.get(0)?,
            reported_at: time(row, 1)?,
            brd_state_code: row.get(2)?,
            description: row.get(3)?,
            coverage_rate: row.get(4)?,
            area_codes: split_codes(&areas),
            terminals: terminals.and_then(|t| u64::try_from(t).ok()),
            raw: row.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn split_codes(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

pub fn endpoint_healths(conn: &Connection, only: Option<&str>) -> Result<Vec<EndpointHealth>> {
    let mut stmt = conn.prepare(
        "SELECT endpoint, last_seen_ms, consecutive_failures, circuit, reason, updated_ms
         FROM endpoint_health WHERE (?1 IS NULL OR endpoint = ?1) ORDER BY endpoint",
    )?;
    let rows = stmt.query_map(params![only], |row| {
        let seen: Option<i64> = row.get(1)?;
        let circuit: String = row.get(3)?;
        Ok(EndpointHealth {
            endpoint: row.get(0)?,
            last_seen: seen.and_then(DateTime::from_timestamp_millis),
            consecutive_failures: row.get(2)?,
            circuit: CircuitState::parse(&circuit)
                .ok_or_else(|| bad(3, "endpoint_health.circuit", &circuit))?,
            reason: row.get(4)?,
            updated_at: time(row, 5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn run_summary(conn: &Connection, id: RunId) -> Result<RunSummary> {
    let run = run(conn, id)?.ok_or(LedgerError::UnknownRun(id))?;
    let mut stmt =
        conn.prepare("SELECT state, COUNT(*) FROM deliveries WHERE run_id = ?1 GROUP BY state")?;
    let mut by_state = BTreeMap::new();
    for row in stmt.query_map(params![id.0], |r| Ok((state(r, 0)?, r.get::<_, u32>(1)?)))? {
        let (st, n) = row?;
        by_state.insert(st, n);
    }
    let (attempts, townships): (u32, u32) = conn.query_row(
        "SELECT (SELECT COUNT(*) FROM attempts a JOIN deliveries d ON a.delivery_id = d.id
                 WHERE d.run_id = ?1),
                (SELECT COUNT(DISTINCT substr(t.township, 1, 9)) FROM delivery_townships t
                 JOIN deliveries d ON t.delivery_id = d.id WHERE d.run_id = ?1)",
        params![id.0],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(RunSummary {
        run,
        deliveries: by_state.values().sum(),
        by_state,
        attempts,
        townships,
    })
}

pub fn township_outcomes(conn: &Connection, run: RunId) -> Result<Vec<TownshipOutcome>> {
    let mut stmt = conn.prepare(
        "SELECT t.township, d.lang, d.endpoint, d.id, d.state, d.reason,
             (SELECT COUNT(*) FROM attempts a WHERE a.delivery_id = d.id), d.segment
         FROM deliveries d JOIN delivery_townships t ON t.delivery_id = d.id
         WHERE d.run_id = ?1 ORDER BY t.township, d.segment, d.endpoint",
    )?;
    let rows = stmt.query_map(params![run.0], |row| {
        let lang: String = row.get(1)?;
        Ok(TownshipOutcome {
            township: row.get(0)?,
            segment: row.get(7)?,
            lang: lang.parse().map_err(|_| bad(1, "deliveries.lang", &lang))?,
            endpoint: row.get(2)?,
            delivery: DeliveryId(row.get(3)?),
            state: state(row, 4)?,
            reason: row.get(5)?,
            attempts: row.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

const REACH_FROM: &str = "FROM runs r JOIN deliveries d ON d.run_id = r.id
    JOIN delivery_townships t ON t.delivery_id = d.id";

/// One row per township × segment × delivery of the runs matching `filter` (on `runs r`), with
/// the delivery's state and the coverage figures of its latest state report that carried any.
/// The reach rule (`crate::reach`) reads these; nothing is decided here.
pub fn reach_rows(conn: &Connection, filter: &str, p: &[&dyn ToSql]) -> Result<Vec<ReachRow>> {
    let sql = format!(
        "SELECT r.id, t.township, d.segment, d.state, d.id {REACH_FROM} WHERE {filter}
         ORDER BY r.id, t.township, d.segment, d.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(p, |r| {
        Ok((
            RunId(r.get(0)?),
            r.get::<_, String>(1)?,
            r.get::<_, u32>(2)?,
            state(r, 3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let rows: Vec<_> = rows.collect::<rusqlite::Result<_>>()?;
    let mut townships: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (_, township, _, _, delivery) in &rows {
        townships
            .entry(*delivery)
            .or_default()
            .push(township.clone());
    }
    let mut reports = latest_coverage(conn, filter, p)?;
    for (delivery, report) in &mut reports {
        report.townships = townships.get(delivery).cloned().unwrap_or_default();
        report.townships.sort();
    }
    Ok(rows
        .into_iter()
        .map(|(run, township, segment, state, delivery)| ReachRow {
            run,
            township,
            segment,
            state,
            coverage: reports.get(&delivery).cloned(),
        })
        .collect())
}

/// Per delivery of the runs matching `filter`, its latest state report with a coverage figure
/// (townships left empty for the caller).
fn latest_coverage(
    conn: &Connection,
    filter: &str,
    p: &[&dyn ToSql],
) -> Result<BTreeMap<i64, ReportedCoverage>> {
    let sql = format!(
        "SELECT d.id, s.coverage_rate, s.terminals, s.area_codes
         FROM runs r JOIN deliveries d ON d.run_id = r.id
         JOIN state_reports s ON s.delivery_id = d.id
         WHERE ({filter}) AND (s.coverage_rate IS NOT NULL OR s.terminals IS NOT NULL)
         ORDER BY s.reported_ms, s.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(p, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<f64>>(1)?,
            r.get::<_, Option<i64>>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (delivery, rate, terminals, areas) = row?;
        // Later reports replace earlier ones: the last word of the platform counts.
        out.insert(
            delivery,
            ReportedCoverage {
                rate,
                terminals: terminals.and_then(|t| u64::try_from(t).ok()),
                area_codes: split_codes(&areas),
                townships: Vec::new(),
            },
        );
    }
    Ok(out)
}

pub fn failures(conn: &Connection, run: Option<RunId>) -> Result<Vec<Failure>> {
    let filter = "d.state IN ('rejected', 'expired', 'failed', 'cancelled')
        AND (?1 IS NULL OR d.run_id = ?1)";
    let deliveries = deliveries_where(conn, filter, params![run.map(|r| r.0)])?;
    let mut out = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        let attempts = attempts(conn, d.id)?;
        out.push(failure(d, &attempts));
    }
    Ok(out)
}

/// A delivery that ended badly, with its attempts, as a [`Failure`] (both stores).
pub(super) fn failure(d: Delivery, attempts: &[Attempt]) -> Failure {
    Failure {
        delivery: d.id,
        run: d.plan.run,
        endpoint: d.plan.endpoint,
        lang: d.plan.lang,
        townships: d.plan.townships,
        state: d.state,
        reason: d.reason,
        last_error: attempts.last().and_then(|a| a.error.clone()),
        attempts: u32::try_from(attempts.len()).unwrap_or(u32::MAX),
    }
}
