//! `shengbo coverage`: population reached by confirmed delivery and play over a period, by
//! county or township, as a table, CSV or JSON — the same figures as `GET /v1/coverage`.

use std::process::ExitCode;

use chrono::Utc;

use super::Global;
use super::plan::table::render;
use crate::coverage::{self, By, Figures, Report};
use crate::directory::Directory;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Start of the period: a date (`2026-11-01`, Asia/Shanghai) or an RFC 3339 time.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the period (exclusive); default now.
    #[arg(long)]
    pub to: Option<String>,
    /// The period as a span back from `--to`: `7d`, `24h`, `2w` (default 7d).
    #[arg(long, conflicts_with = "from")]
    pub since: Option<String>,
    /// One row per county, township or village: `county`, `township` or `village`.
    #[arg(long, default_value = "county")]
    pub by: By,
    /// Only this campaign's runs.
    #[arg(long)]
    pub campaign: Option<String>,
    /// An aligned table, CSV, or the full report as JSON.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let (from, to) = match coverage::period(
        args.from.as_deref(),
        args.to.as_deref(),
        args.since.as_deref(),
        Utc::now(),
    ) {
        Ok(p) => p,
        Err(msg) => {
            crate::locale::eprint_error(msg, None);
            return Ok(ExitCode::from(1));
        }
    };
    let target = global.ledger()?;
    if let crate::ledger::LedgerTarget::Sqlite(ledger_path) = &target
        && !ledger_path.exists()
    {
        let path = ledger_path.display().to_string();
        crate::locale::eprint_error(crate::t!("coverage-no-ledger", path = path), None);
        return Ok(ExitCode::from(2));
    }
    let file = target.sqlite_file();
    let records = crate::server::records::shared(target.open()?, file);
    let inputs = records.coverage_inputs(from, to, args.campaign.as_deref())?;
    let directory = Directory::liangshan();
    let query = coverage::Query {
        from,
        to,
        by: args.by,
        campaign: args.campaign,
    };
    let report = coverage::aggregate(&inputs, &directory, &query);
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Csv => print!("{}", coverage::to_csv(&report)),
        Format::Table => print!("{}", table(&report)),
    }
    Ok(ExitCode::SUCCESS)
}

fn line(name: String, f: &Figures) -> Vec<String> {
    let failures: u32 = f.failures.values().sum();
    let r = &f.reach;
    let pct = |p: Option<f64>| crate::reach::percentage(p, "-");
    vec![
        name,
        format!(
            "{}/{}",
            r.townships_reached + r.villages_reached,
            r.townships_targeted + r.villages_targeted
        ),
        r.population_targeted.to_string(),
        r.population_reached.to_string(),
        r.population_played.to_string(),
        r.population_unreported.to_string(),
        pct(f.pct_targeted_reached),
        pct(f.pct_targeted_played),
        pct(f.pct_area_reached),
        failures.to_string(),
    ]
}

/// The report as an aligned table (Han names are double width).
pub fn table(r: &Report) -> String {
    let campaign = r.query.campaign.as_ref().map_or(String::new(), |c| {
        crate::t!("coverage-campaign", campaign = c.as_str())
    });
    let mut out = crate::t!(
        "coverage-heading",
        from = r.query.from.to_rfc3339(),
        to = r.query.to.to_rfc3339(),
        runs = r.runs,
        campaign = campaign
    );
    out.push('\n');
    let areas = if r.query.by == By::Village {
        "villages"
    } else {
        "townships"
    };
    let header = [
        "area",
        areas,
        "targeted",
        "reached",
        "played",
        "no-report",
        "pct-targeted",
        "pct-played",
        "pct-area",
        "failures",
    ]
    .map(|c| crate::t!(&format!("coverage-col-{c}")));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|row| line(format!("{} {}", row.code, row.name), &row.figures))
        .collect();
    rows.push(line(crate::t!("coverage-total"), &r.totals));
    out.push_str(&render(&header, &rows, &[1, 2, 3, 4, 5, 6, 7, 8, 9]));
    out.push_str(&crate::t!(
        "coverage-legend",
        targeted = r.totals.reach.population_targeted,
        area = r.totals.population_area,
        townships = r.totals.reach.townships_estimated,
        villages = r.totals.reach.villages_estimated
    ));
    out.push('\n');
    let none = crate::t!("coverage-no-reason");
    // Each line: what, the run, where, then the delivery's own words.
    for f in &r.failures {
        out.push_str(&crate::t!(
            "coverage-failed",
            run = f.row.run.to_string(),
            at = f.row.occurrence.to_rfc3339(),
            places = f.township_names.join(","),
            what = format!("{} `{}`", f.row.lang, f.row.state),
            reason = f.row.reason.clone().unwrap_or_else(|| none.clone())
        ));
        out.push('\n');
    }
    for f in &r.cancelled_pairs {
        out.push_str(&crate::t!(
            "coverage-cancelled",
            run = f.row.run.to_string(),
            at = f.row.occurrence.to_rfc3339(),
            places = f.township_names.join(","),
            half = crate::push::pairs::half_shown(f.row.lang),
            endpoint = f.row.endpoint.as_str(),
            reason = f.row.reason.clone().unwrap_or_else(|| none.clone())
        ));
        out.push('\n');
    }
    out
}
