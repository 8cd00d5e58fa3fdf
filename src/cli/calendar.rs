//! `shengbo calendar`: the year's named days with their dates and the rule or notice behind
//! each, and with `--township` that township's market rule and market days.

use std::process::ExitCode;

use chrono::{Datelike, NaiveDate, Utc};
use serde::Serialize;

use super::Global;
use super::plan::PLAN_TZ;
use super::plan::table::render;
use crate::calendar::{self, DayInfo, Occurrence, lunar};
use crate::directory::Directory;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Western year shown (1901–2099); default this year in Asia/Shanghai.
    #[arg(long)]
    pub year: Option<i64>,
    /// Also this township's market days (9-digit code, name, or `county/township`).
    #[arg(long)]
    pub township: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// A township's market days in the year, as printed in JSON.
#[derive(Debug, Serialize)]
struct TownshipDays {
    code: String,
    name: String,
    /// `township` (its own rule), `county` (its county's default) or `none`.
    rule_from: &'static str,
    rule: Option<String>,
    note: Option<String>,
    market_days: Vec<NaiveDate>,
}

#[derive(Debug, Serialize)]
struct Output {
    year: i32,
    named_days: Vec<Occurrence>,
    township: Option<TownshipDays>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let year = args
        .year
        .unwrap_or_else(|| i64::from(Utc::now().with_timezone(&PLAN_TZ).year()));
    let range = lunar::YEARS;
    let Some(year) = i32::try_from(year).ok().filter(|y| range.contains(y)) else {
        let message = crate::t!(
            "calendar-year-range",
            year = year,
            first = *range.start(),
            last = *range.end()
        );
        crate::locale::eprint_error(message, None);
        return Ok(ExitCode::from(1));
    };
    let directory = Directory::liangshan();
    let (cal, diags) = calendar::load(&global.root, &directory);
    for d in &diags {
        eprintln!("{d}\n");
    }
    let township = match args.township.as_deref().map(|q| directory.township(q)) {
        None => None,
        Some(Ok(t)) => Some(market_days(&cal, t, year, &directory)),
        Some(Err(e)) => {
            let message = crate::t!("calendar-township", error = e.to_string());
            crate::locale::eprint_error(message, e.help());
            return Ok(ExitCode::from(1));
        }
    };
    let out = Output {
        year,
        named_days: cal.festivals.in_year(year),
        township,
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&out)?),
        Format::Table => print!("{}", table(&out)),
    }
    Ok(if diags.iter().any(|d| d.is_error()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn market_days(
    cal: &calendar::Calendar,
    t: &crate::directory::Township,
    year: i32,
    dir: &Directory,
) -> TownshipDays {
    let market = cal.markets.for_township(t);
    let rule_from = match market {
        None => "none",
        Some(_) if cal.markets.townships.contains_key(&t.code) => "township",
        Some(_) => "county",
    };
    let first = NaiveDate::from_ymd_opt(year, 1, 1).expect("a checked year");
    let market_days = market.map_or_else(Vec::new, |m| {
        first
            .iter_days()
            .take_while(|d| d.year() == year)
            .filter(|d| m.rule.matches(&DayInfo::of(*d)))
            .collect()
    });
    let county = dir.county_of(t).map_or("", |c| c.name.as_str());
    TownshipDays {
        code: t.code.clone(),
        name: format!("{county}/{}", t.name),
        rule_from,
        rule: market.map(|m| m.rule.describe()),
        note: market.and_then(|m| m.note.clone()),
        market_days,
    }
}

fn table(out: &Output) -> String {
    let rows: Vec<Vec<String>> = out
        .named_days
        .iter()
        .map(|o| {
            vec![
                o.name.clone(),
                o.first.to_string(),
                o.last.to_string(),
                ((o.last - o.first).num_days() + 1).to_string(),
                crate::t!(&format!("calendar-basis-{}", o.basis)),
                o.source.clone(),
            ]
        })
        .collect();
    let header = ["name", "first", "last", "days", "basis", "source"]
        .map(|c| crate::t!(&format!("calendar-col-{c}")));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut s = crate::t!("calendar-named-days", count = rows.len(), year = out.year);
    s.push('\n');
    s.push_str(&render(&header, &rows, &[3]));
    let Some(t) = &out.township else {
        return s;
    };
    let Some(rule) = &t.rule else {
        let line = crate::t!(
            "calendar-no-markets",
            name = t.name.as_str(),
            code = t.code.as_str(),
            file = calendar::MARKETS_FILE
        );
        s.push_str(&format!("\n{line}\n"));
        return s;
    };
    let from = if t.rule_from == "county" {
        crate::t!("calendar-county-default")
    } else {
        String::new()
    };
    let line = crate::t!(
        "calendar-market-days",
        name = t.name.as_str(),
        code = t.code.as_str(),
        rule = rule.as_str(),
        from = from,
        count = t.market_days.len(),
        year = out.year
    );
    s.push_str(&format!("\n{line}\n"));
    let months: Vec<Vec<String>> = (1..=12)
        .map(|month| {
            let days: Vec<String> = t
                .market_days
                .iter()
                .filter(|d| d.month() == month)
                .map(|d| d.day().to_string())
                .collect();
            vec![crate::t!("calendar-month", month = month), days.join(" ")]
        })
        .collect();
    // The first month is the header row: every month is a row, right-aligned by width.
    let (first, rest) = months.split_first().expect("twelve months");
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    s.push_str(&render(&first, rest, &[0]));
    s
}
