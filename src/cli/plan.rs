//! `shengbo plan`: what plays where and when, as a table, JSON or CSV, or counted per county
//! per day. Dates are days in Asia/Shanghai; `--to` is the first day not planned.
//!
//! When `check` finds errors, they are printed to stderr with a warning line, the valid
//! campaigns and messages are still planned and printed, and the exit status is 1.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::Global;
use crate::check;
use crate::directory::{Directory, LookupError};
use crate::plan::{self, BroadcastRecord, Plan, SummaryRow};
use crate::schedule::Campaign;

pub(crate) mod table;

/// The zone `--from`/`--to` days and summary days are counted in.
pub const PLAN_TZ: Tz = chrono_tz::Asia::Shanghai;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// First day planned (YYYY-MM-DD, Asia/Shanghai); default today.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// First day not planned (YYYY-MM-DD); default `--from` + 7 days.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Only this county (6-digit code or name, e.g. `昭觉县` or `513431`).
    #[arg(long)]
    pub county: Option<String>,
    /// Only this township (9-digit code, name, or `county/township`).
    #[arg(long)]
    pub township: Option<String>,
    /// Only what this village hears (12-digit code, name, or `township/village`).
    #[arg(long)]
    pub village: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Count broadcasts per county per day instead of listing them.
    #[arg(long)]
    pub summary: bool,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let now = Utc::now();
    let from_day = args
        .from
        .unwrap_or_else(|| now.with_timezone(&PLAN_TZ).date_naive());
    let to_day = match args.to {
        Some(d) => d,
        None => from_day
            .checked_add_days(Days::new(7))
            .with_context(|| crate::t!("plan-from-too-late"))?,
    };
    anyhow::ensure!(
        to_day > from_day,
        "{}",
        crate::t!(
            "plan-to-before-from",
            to = to_day.to_string(),
            from = from_day.to_string()
        )
    );
    let cache = global.data_dir().probe_cache();
    let inputs = check::load(&global.root, Some(&cache), now)
        .with_context(|| crate::t!("plan-cannot-plan", root = global.root.display().to_string()))?;
    let Some(mut only) = targets(&inputs.directory, &args) else {
        return Ok(ExitCode::from(1));
    };
    let village = match args.village.as_deref().map(|q| inputs.directory.village(q)) {
        Some(Err(e)) => {
            lookup_failed(&e);
            return Ok(ExitCode::from(1));
        }
        Some(Ok(v)) => {
            let t = &v.township.code;
            let keep = only.as_ref().is_none_or(|codes| codes.contains(t));
            only = Some(if keep { vec![t.clone()] } else { Vec::new() });
            Some(v.village.code.clone())
        }
        None => None,
    };
    let report = check::run(&inputs, now);
    if report.errors() > 0 {
        report_errors(&report);
    }
    let campaigns = restrict(&inputs.campaigns, only.as_deref());
    let (from, to) = (midnight(from_day), midnight(to_day));
    let mut planned = plan::plan(&campaigns, &inputs.directory, &inputs.catalog, from, to);
    if let Some(code) = &village {
        // The township's broadcasts that reach the village: all but those for other villages.
        planned
            .broadcasts
            .retain(|b| b.villages.is_empty() || b.villages.contains(code));
    }
    let mut text = render(&planned, &inputs.directory, &args)?;
    let notes = check::population_notes(&inputs);
    if args.format == Format::Table && !notes.is_empty() {
        text = format!("{}\n{text}", notes.join("\n"));
    } else {
        notes.iter().for_each(|n| eprintln!("{n}"));
    }
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(if report.errors() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    crate::schedule::cron::place_in_zone(PLAN_TZ, day.and_time(NaiveTime::MIN)).with_timezone(&Utc)
}

/// The township codes `--county`/`--township` select (`Some(None)`: all); `None` after
/// printing an unknown name.
fn targets(directory: &Directory, args: &Args) -> Option<Option<Vec<String>>> {
    let mut only: Option<Vec<String>> = None;
    if let Some(q) = &args.county {
        match directory.county(q) {
            Ok(c) => {
                only = Some(
                    directory
                        .townships_of(&c.code)
                        .map(|t| t.code.clone())
                        .collect(),
                )
            }
            Err(e) => return lookup_failed(&e),
        }
    }
    if let Some(q) = &args.township {
        match directory.township(q) {
            Ok(t) => {
                let keep = only.as_ref().is_none_or(|codes| codes.contains(&t.code));
                only = Some(if keep {
                    vec![t.code.clone()]
                } else {
                    Vec::new()
                });
            }
            Err(e) => return lookup_failed(&e),
        }
    }
    Some(only)
}

fn lookup_failed(e: &LookupError) -> Option<Option<Vec<String>>> {
    crate::locale::eprint_error(e, e.help());
    None
}

/// Campaigns with their targets cut down to `only`.
fn restrict(campaigns: &[Campaign], only: Option<&[String]>) -> Vec<Campaign> {
    let mut out = campaigns.to_vec();
    if let Some(codes) = only {
        for c in &mut out {
            c.townships.retain(|t| codes.contains(t));
        }
    }
    out
}

fn report_errors(report: &check::Report) {
    let errors = check::Report {
        diagnostics: report
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect(),
        ..report.clone()
    };
    eprint!("{}", errors.render());
    eprintln!(
        "{}",
        crate::t!("plan-check-errors", errors = report.errors())
    );
}

fn render(planned: &Plan, directory: &Directory, args: &Args) -> anyhow::Result<String> {
    if args.summary {
        let rows = plan::summarize(&planned.broadcasts, directory, PLAN_TZ);
        return match args.format {
            Format::Table => Ok(table::summary(&rows)),
            Format::Json => Ok(serde_json::to_string_pretty(&rows)? + "\n"),
            Format::Csv => summary_csv(&rows),
        };
    }
    let records: Vec<BroadcastRecord> = planned
        .broadcasts
        .iter()
        .map(BroadcastRecord::from)
        .collect();
    match args.format {
        Format::Table => Ok(table::broadcasts(planned, &records, directory)),
        Format::Json => Ok(serde_json::to_string_pretty(&records)? + "\n"),
        Format::Csv => broadcasts_csv(&records),
    }
}

fn broadcasts_csv(records: &[BroadcastRecord]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "start",
        "end",
        "county_code",
        "township_code",
        "township_name",
        "campaign",
        "priority",
        "duration_s",
        "items",
        "reason",
        "villages",
    ])?;
    for r in records {
        let items: Vec<String> = r
            .items
            .iter()
            .map(|i| format!("{}:{}", i.message, i.lang))
            .collect();
        w.write_record([
            r.start.as_str(),
            &r.end,
            &r.county_code,
            &r.township_code,
            &r.township_name,
            &r.campaign,
            &r.priority.to_string(),
            &r.duration_s.to_string(),
            &items.join(" "),
            r.reason.as_deref().unwrap_or(""),
            &r.villages.join(" "),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

fn summary_csv(rows: &[SummaryRow]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
