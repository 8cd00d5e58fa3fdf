//! `shengbo coverage`: population reached by confirmed delivery and play over a period, by
//! county or township, as a table, CSV or JSON — the same figures as `GET /v1/coverage`.

use std::process::ExitCode;

use chrono::Utc;

use super::Global;
use super::run::pad;
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
            eprintln!("error: {msg}");
            return Ok(ExitCode::from(1));
        }
    };
    let target = global.ledger()?;
    if let crate::ledger::LedgerTarget::Sqlite(ledger_path) = &target
        && !ledger_path.exists()
    {
        eprintln!(
            "error: no ledger at `{}`: nothing has been run with this data directory yet \
             (run `shengbo run` or `shengbo serve`, or pass `--data-dir`)",
            ledger_path.display()
        );
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

fn line(name: &str, f: &Figures) -> String {
    let failures: u32 = f.failures.values().sum();
    let r = &f.reach;
    let pct = |p: Option<f64>| crate::reach::percentage(p, "-");
    format!(
        "{} {:>9} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>5}\n",
        pad(name, 26),
        format!(
            "{}/{}",
            r.townships_reached + r.villages_reached,
            r.townships_targeted + r.villages_targeted
        ),
        r.population_targeted,
        r.population_reached,
        r.population_played,
        r.population_unreported,
        pct(f.pct_targeted_reached),
        pct(f.pct_targeted_played),
        pct(f.pct_area_reached),
        failures
    )
}

/// The report as an aligned table (Han names are double width).
pub fn table(r: &Report) -> String {
    let mut out = format!(
        "coverage {} .. {} ({} runs{})\n",
        r.query.from.to_rfc3339(),
        r.query.to.to_rfc3339(),
        r.runs,
        r.query
            .campaign
            .as_ref()
            .map(|c| format!(", campaign `{c}`"))
            .unwrap_or_default()
    );
    out.push_str(&format!(
        "{} {:>9} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>5}\n",
        pad("area", 26),
        if r.query.by == By::Village {
            "villages"
        } else {
            "townships"
        },
        "targeted",
        "reached",
        "played",
        "no-report",
        "%tgt",
        "%tgt-pl",
        "%area",
        "fail"
    ));
    for row in &r.rows {
        out.push_str(&line(&format!("{} {}", row.code, row.name), &row.figures));
    }
    out.push_str(&line("凉山州 total", &r.totals));
    out.push_str(&format!(
        "%tgt: of the population targeted ({}); %area: of each area's population (total: the \
         prefecture's {}); reached: people × the coverage the platforms reported; no-report: \
         reached people not confirmed by a coverage report (counted whole); {} targeted \
         townships and {} villages have estimated populations\n",
        r.totals.reach.population_targeted,
        r.totals.population_area,
        r.totals.reach.townships_estimated,
        r.totals.reach.villages_estimated
    ));
    // Each line: what, the run, where, then the delivery's own words.
    let lines = r
        .failures
        .iter()
        .map(|f| (f, format!("{} `{}`", f.row.lang, f.row.state)));
    let pairs = r.cancelled_pairs.iter().map(|f| {
        let half = crate::push::pairs::half_name(f.row.lang);
        (f, format!("{half} half at `{}` —", f.row.endpoint))
    });
    for ((f, what), kind) in lines
        .map(|l| (l, "failed"))
        .chain(pairs.map(|l| (l, "cancelled pair")))
    {
        let sep = if kind == "failed" { ":" } else { "" };
        out.push_str(&format!(
            "{kind}: run {} {} {} {what}{sep} {}\n",
            f.row.run,
            f.row.occurrence.to_rfc3339(),
            f.township_names.join(","),
            f.row.reason.as_deref().unwrap_or("no reason recorded")
        ));
    }
    out
}
