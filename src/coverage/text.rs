//! The report's text edges: periods as people write them (`--from/--to` as dates in
//! Asia/Shanghai or RFC 3339 times, or `--since 7d`) and the report as CSV.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::{By, Figures, Report};

/// The longest `since` span accepted: 100 years (36,525 days), so that `to - since` and every
/// date after it stay far inside what the calendar can represent.
pub const MAX_SINCE_DAYS: i64 = 36_525;

/// Why a period (`from`, `to`, `since`) was refused. Every message names the parameter, the
/// same word for the flag and the query string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`since`: `{}` is not a span like `7d`, `24h`, `90m` or `2w`", .0.escape_debug())]
    NotASpan(String),
    #[error("`since`: `{}` is longer than {MAX_SINCE_DAYS} days (100 years)", .0.escape_debug())]
    SinceTooLong(String),
    #[error("`since`: `{since}` before `{to}` is earlier than any date")]
    SinceBeforeAnyDate { since: String, to: DateTime<Utc> },
    /// `from` or `to` is not an instant in [`YEARS`].
    #[error("`{name}`: {problem}")]
    Bound {
        name: &'static str,
        problem: InstantError,
    },
    #[error("give either `since` or `from`, not both")]
    SinceAndFrom,
    #[error("the period is empty: `{from}` is not before `{to}`")]
    Empty {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

/// Why a text is not a period bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstantError {
    #[error("`{}` is neither a date (`2026-11-27`) nor an RFC 3339 time", .0.escape_debug())]
    Unreadable(String),
    #[error("`{0}` has no midnight in Asia/Shanghai")]
    NoMidnight(String),
    #[error("`{}` is outside the years {}–{}", .0.escape_debug(), YEARS.start(), YEARS.end())]
    OutsideYears(String),
}

/// A `--since` span: `7d`, `24h`, `90m`, `2w`; at most [`MAX_SINCE_DAYS`] days.
pub fn parse_since(s: &str) -> Result<chrono::Duration, PeriodError> {
    let bad = || PeriodError::NotASpan(s.to_string());
    let Some((last, _)) = s.char_indices().next_back() else {
        return Err(bad());
    };
    let (n, unit) = s.split_at(last);
    if !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let minutes_per = match unit {
        "m" => 1,
        "h" => 60,
        "d" => 24 * 60,
        "w" => 7 * 24 * 60,
        _ => return Err(bad()),
    };
    let n: i64 = n.parse().map_err(|_| bad())?;
    let max_minutes = MAX_SINCE_DAYS * 24 * 60;
    match n.checked_mul(minutes_per) {
        Some(0) => Err(bad()),
        Some(m) if m <= max_minutes => Ok(chrono::Duration::minutes(m)),
        _ => Err(PeriodError::SinceTooLong(s.to_string())),
    }
}

/// The years a period bound may fall in.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

/// A period bound: RFC 3339, or a date (`2026-11-27`, midnight Asia/Shanghai), in [`YEARS`].
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, InstantError> {
    let t = match DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => {
            let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| InstantError::Unreadable(s.to_string()))?;
            day.and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(chrono_tz::Asia::Shanghai).single())
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| InstantError::NoMidnight(s.to_string()))?
        }
    };
    if !YEARS.contains(&t.year()) {
        return Err(InstantError::OutsideYears(s.to_string()));
    }
    Ok(t)
}

/// The period `[from, to)` from `--from/--to` or `--since` (default: the last 7 days).
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    since: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), PeriodError> {
    if since.is_some() && from.is_some() {
        return Err(PeriodError::SinceAndFrom);
    }
    let named = |name: &'static str, v: &str| {
        parse_instant(v).map_err(|problem| PeriodError::Bound { name, problem })
    };
    let to = to.map(|t| named("to", t)).transpose()?.unwrap_or(now);
    let from = match (from, since) {
        (Some(f), _) => named("from", f)?,
        (None, Some(s)) => {
            let span = parse_since(s)?;
            to.checked_sub_signed(span)
                .ok_or_else(|| PeriodError::SinceBeforeAnyDate {
                    since: s.to_string(),
                    to,
                })?
        }
        (None, None) => to
            .checked_sub_signed(chrono::Duration::days(7))
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    };
    if from >= to {
        return Err(PeriodError::Empty { from, to });
    }
    Ok((from, to))
}

/// The report as CSV: a `prefecture` line with the totals, then one line per county or
/// township — the same figures as the JSON.
pub fn to_csv(report: &Report) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "level",
        "code",
        "name",
        "townships_targeted",
        "townships_reached",
        "townships_played",
        "townships_unreported",
        "population_targeted",
        "population_reached",
        "population_played",
        "population_unreported",
        "population_area",
        "pct_targeted_reached",
        "pct_targeted_played",
        "pct_area_reached",
        "pct_area_played",
        "townships_estimated",
        "failures",
    ];
    w.write_record(header).ok();
    let mut write = |level: &str, code: &str, name: &str, f: &Figures| {
        let p = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.2}"));
        let failures: u32 = f.failures.values().sum();
        let r = &f.reach;
        w.write_record([
            level.to_string(),
            code.to_string(),
            name.to_string(),
            r.townships_targeted.to_string(),
            r.townships_reached.to_string(),
            r.townships_played.to_string(),
            r.townships_unreported.to_string(),
            r.population_targeted.to_string(),
            r.population_reached.to_string(),
            r.population_played.to_string(),
            r.population_unreported.to_string(),
            f.population_area.to_string(),
            p(f.pct_targeted_reached),
            p(f.pct_targeted_played),
            p(f.pct_area_reached),
            p(f.pct_area_played),
            r.townships_estimated.to_string(),
            failures.to_string(),
        ])
        .ok();
    };
    write("prefecture", "5134", "凉山彝族自治州", &report.totals);
    let level = match report.query.by {
        By::County => "county",
        By::Township => "township",
        By::Village => "village",
    };
    for row in &report.rows {
        write(level, &row.code, &row.name, &row.figures);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
