//! The report's text edges: periods as people write them (`--from/--to` as dates in
//! Asia/Shanghai or RFC 3339 times, or `--since 7d`) and the report as CSV.

use chrono::{DateTime, NaiveDate, Utc};

use super::{By, Figures, Report};

/// A `--since` span: `7d`, `24h`, `90m`, `2w`.
pub fn parse_since(s: &str) -> Result<chrono::Duration, String> {
    let bad = || format!("`{s}` is not a span like `7d`, `24h`, `90m` or `2w`");
    let Some((last, _)) = s.char_indices().next_back() else {
        return Err(bad());
    };
    let (n, unit) = s.split_at(last);
    let n: i64 = n.parse().map_err(|_| bad())?;
    if n <= 0 {
        return Err(bad());
    }
    match unit {
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        "w" => Ok(chrono::Duration::weeks(n)),
        _ => Err(bad()),
    }
}

/// A period bound: RFC 3339, or a date (`2026-11-27`, midnight Asia/Shanghai).
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is neither a date (`2026-11-27`) nor an RFC 3339 time"))?;
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(chrono_tz::Asia::Shanghai).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("`{s}` has no midnight in Asia/Shanghai"))
}

/// The period `[from, to)` from `--from/--to` or `--since` (default: the last 7 days).
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    since: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    if since.is_some() && from.is_some() {
        return Err("give either `since` or `from`, not both".to_string());
    }
    let to = to.map(parse_instant).transpose()?.unwrap_or(now);
    let from = match (from, since) {
        (Some(f), _) => parse_instant(f)?,
        (None, Some(s)) => to - parse_since(s)?,
        (None, None) => to - chrono::Duration::days(7),
    };
    if from >= to {
        return Err(format!(
            "the period is empty: `{from}` is not before `{to}`"
        ));
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
    };
    for row in &report.rows {
        write(level, &row.code, &row.name, &row.figures);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
