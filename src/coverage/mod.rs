//! Coverage: pure aggregation of ledger outcomes into population-weighted reach — by county,
//! township or village, over a period — with every denominator stated. Values in, values out.
//!
//! Reach follows the one rule of [`crate::reach`]: a township is reached in a run when every
//! airing was confirmed, its people scaled by the platform's coverage report (whole, and marked,
//! where there is none), and counted once over the period, by its best run.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::directory::Directory;
use crate::lang::Lang;
use crate::ledger::{DeliveryState, ReachRow, RunId};
use crate::reach::{self, Areas};
use crate::transport::township_of;

mod text;

pub use text::{InstantError, PeriodError, parse_instant, parse_since, period, to_csv};

/// One run (campaign × slot occurrence) and the ledger's reach rows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub run: i64,
    pub campaign: String,
    pub occurrence: DateTime<Utc>,
    pub rows: Vec<ReachRow>,
}

/// A delivery that ended badly (failed, expired, rejected, cancelled) or never settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureRow {
    pub run: i64,
    pub occurrence: DateTime<Utc>,
    pub campaign: String,
    pub endpoint: String,
    pub lang: Lang,
    pub townships: Vec<String>,
    /// The delivery state, e.g. `failed`, `expired`, `rejected`.
    pub state: String,
    pub reason: Option<String>,
}

/// Everything the aggregation reads.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub runs: Vec<RunOutcome>,
    pub failures: Vec<FailureRow>,
}

/// Rows of the report: one per county, township or village.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum By {
    #[default]
    County,
    Township,
    /// One row per village: a township targeted whole counts in each of its villages.
    Village,
}

/// A grouping other than `county`, `township` or `village`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown grouping `{0}`, expected `county`, `township` or `village`")]
pub struct UnknownGrouping(pub String);

impl std::str::FromStr for By {
    type Err = UnknownGrouping;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "county" => Ok(By::County),
            "township" => Ok(By::Township),
            "village" => Ok(By::Village),
            other => Err(UnknownGrouping(other.to_string())),
        }
    }
}

/// The period and filters of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Query {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: By,
    pub campaign: Option<String>,
}

/// The figures of one area (the prefecture, a county, a township).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Figures {
    /// Townships and people targeted, reached, played and not confirmed by a report.
    #[serde(flatten)]
    pub reach: reach::Figures,
    /// The whole area's population (prefecture, county or township): the second denominator.
    pub population_area: u64,
    /// Percent of `population_targeted`; `None` when nothing was targeted.
    pub pct_targeted_reached: Option<f64>,
    pub pct_targeted_played: Option<f64>,
    /// Percent of `population_area`.
    pub pct_area_reached: Option<f64>,
    pub pct_area_played: Option<f64>,
    /// Deliveries that ended badly, by state.
    pub failures: BTreeMap<String, u32>,
}

/// One row: a county (with its townships for drill-down) or a township.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub code: String,
    pub name: String,
    pub county_code: String,
    pub figures: Figures,
    /// A county's townships that were targeted; empty for township rows.
    pub townships: Vec<Row>,
}

/// A failure, with the townships' names resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureLine {
    #[serde(flatten)]
    pub row: FailureRow,
    pub township_names: Vec<String>,
}

/// Reach on one local day (Asia/Shanghai) of the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayPoint {
    pub day: NaiveDate,
    pub runs: u32,
    pub population_targeted: u64,
    pub population_reached: u64,
    pub population_played: u64,
}

/// A coverage report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub query: Query,
    /// What each percentage divides by, in words.
    pub denominators: BTreeMap<&'static str, String>,
    pub runs: u32,
    pub totals: Figures,
    pub rows: Vec<Row>,
    /// Deliveries that ended badly, but for the halves of cancelled pairs.
    pub failures: Vec<FailureLine>,
    /// Halves withdrawn because their partner ended badly ([`reach::withdrawn_half`]): each
    /// broken pair, with the reason. Counted in the figures' `failures` as `cancelled`.
    pub cancelled_pairs: Vec<FailureLine>,
    pub series: Vec<DayPoint>,
}

fn pct(part: u64, whole: u64) -> Option<f64> {
    reach::share(part, whole).map(|s| s * 100.0)
}

/// The figures of the townships in `best` that `keep` selects, against an area population.
fn figures(
    best: &Areas,
    directory: &Directory,
    area_population: u64,
    keep: impl Fn(&str) -> bool,
) -> Figures {
    let r = reach::tally(best.iter().filter(|(c, _)| keep(c)), directory);
    Figures {
        pct_targeted_reached: pct(r.population_reached, r.population_targeted),
        pct_targeted_played: pct(r.population_played, r.population_targeted),
        pct_area_reached: pct(r.population_reached, area_population),
        pct_area_played: pct(r.population_played, area_population),
        population_area: area_population,
        reach: r,
        failures: BTreeMap::new(),
    }
}

fn count_failures(f: &mut Figures, failures: &[FailureRow], keep: impl Fn(&str) -> bool) {
    for row in failures
        .iter()
        .filter(|r| r.townships.iter().any(|t| keep(t)))
    {
        *f.failures.entry(row.state.clone()).or_default() += 1;
    }
}

/// A township's row (its own villages too), or a village's (its township's failures too).
fn township_row(code: &str, best: &Areas, directory: &Directory, failures: &[FailureRow]) -> Row {
    let (name, county_code, people) = directory
        .area(code)
        .map(|a| {
            let county = a.township.county_code.clone();
            (a.name, county, a.population.people)
        })
        .unwrap_or_else(|| (code.to_string(), String::new(), 0));
    let within = |c: &str| c == code || township_of(c) == code;
    let mut f = figures(best, directory, people, within);
    count_failures(&mut f, failures, |c| within(c) || c == township_of(code));
    Row {
        code: code.to_string(),
        name,
        county_code,
        figures: f,
        townships: Vec::new(),
    }
}

fn county_rows(best: &Areas, directory: &Directory, failures: &[FailureRow]) -> Vec<Row> {
    let county_of = |code: &str| code.get(..6).unwrap_or("").to_string();
    let counties: BTreeSet<String> = best.keys().map(|c| county_of(c)).collect();
    counties
        .into_iter()
        .map(|cc| {
            let (name, people) = directory
                .county(&cc)
                .map(|c| (c.name.clone(), c.population.people))
                .unwrap_or_else(|_| (cc.clone(), 0));
            let in_county = |c: &str| c.starts_with(cc.as_str());
            let mut f = figures(best, directory, people, in_county);
            count_failures(&mut f, failures, in_county);
            let townships = townships(best)
                .into_iter()
                .filter(|c| in_county(c))
                .map(|c| township_row(c, best, directory, failures))
                .collect();
            Row {
                code: cc.clone(),
                name,
                county_code: cc.clone(),
                figures: f,
                townships,
            }
        })
        .collect()
}

/// The townships of the areas, whole or in part, in code order.
fn townships(best: &Areas) -> BTreeSet<&str> {
    best.keys().map(|c| township_of(c)).collect()
}

fn series(runs: &[(&RunOutcome, Areas)], directory: &Directory) -> Vec<DayPoint> {
    let mut days: BTreeMap<NaiveDate, Vec<&Areas>> = BTreeMap::new();
    for (run, areas) in runs {
        let day = run
            .occurrence
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        days.entry(day).or_default().push(areas);
    }
    days.into_iter()
        .map(|(day, runs)| {
            let f = reach::tally(&reach::best_of(runs.iter().copied()), directory);
            DayPoint {
                day,
                runs: runs.len() as u32,
                population_targeted: f.population_targeted,
                population_reached: f.population_reached,
                population_played: f.population_played,
            }
        })
        .collect()
}

fn denominators(by: By) -> BTreeMap<&'static str, String> {
    let area = match by {
        By::County => "each row: the county's whole population (2020 census)",
        By::Township => "each row: the township's population",
        By::Village => {
            "each row: the village's population (an estimate: its township's people shared evenly by its village-level units, unless staff gave a figure); a township targeted whole counts in each of its villages"
        }
    };
    BTreeMap::from([
        (
            "pct_targeted",
            "distinct population of the townships targeted by at least one run in the period"
                .to_string(),
        ),
        (
            "pct_area",
            format!("totals: the prefecture's population; {area}"),
        ),
    ])
}

/// Aggregate ledger outcomes into a coverage report. Runs outside `[from, to)` or of another
/// campaign (when one is named) are ignored, as are their failures.
pub fn aggregate(inputs: &Inputs, directory: &Directory, query: &Query) -> Report {
    let in_query = |campaign: &str, at: DateTime<Utc>| {
        at >= query.from && at < query.to && query.campaign.as_deref().is_none_or(|c| c == campaign)
    };
    let runs: Vec<(&RunOutcome, Areas)> = inputs
        .runs
        .iter()
        .filter(|r| in_query(&r.campaign, r.occurrence))
        .map(|r| {
            let areas = reach::runs(&r.rows, directory).remove(&RunId(r.run));
            (r, areas.unwrap_or_default())
        })
        .collect();
    let failures: Vec<FailureRow> = inputs
        .failures
        .iter()
        .filter(|f| in_query(&f.campaign, f.occurrence))
        .cloned()
        .collect();
    let best = reach::best_of(runs.iter().map(|(_, areas)| areas));
    let mut totals = figures(&best, directory, directory.population(), |_| true);
    count_failures(&mut totals, &failures, |_| true);
    let rows = match query.by {
        By::County => county_rows(&best, directory, &failures),
        By::Township => townships(&best)
            .into_iter()
            .map(|c| township_row(c, &best, directory, &failures))
            .collect(),
        By::Village => {
            let villages = reach::village_level(&best, directory, true);
            villages
                .keys()
                .map(|c| township_row(c, &villages, directory, &failures))
                .collect()
        }
    };
    let (cancelled_pairs, failure_lines): (Vec<FailureLine>, Vec<FailureLine>) = failures
        .into_iter()
        .map(|row| FailureLine {
            township_names: row
                .townships
                .iter()
                .map(|c| directory.area(c).map_or(c.clone(), |a| a.name))
                .collect(),
            row,
        })
        .partition(|f| DeliveryState::parse(&f.row.state).is_some_and(reach::withdrawn_half));
    Report {
        query: query.clone(),
        denominators: denominators(query.by),
        runs: runs.len() as u32,
        totals,
        rows,
        failures: failure_lines,
        cancelled_pairs,
        series: series(&runs, directory),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod village_tests;
