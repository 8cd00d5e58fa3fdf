//! Reach: the one rule for how many people a broadcast reached, used by `run`'s output,
//! `coverage` (CLI, `/v1/coverage`, the page), `demo` and the metrics.
//!
//! - An area (a township targeted whole, or a village of a township targeted in part) counts as reached in a run only when every airing of its programme —
//!   both halves of every pair, every repeat — is confirmed (delivered or played); an airing
//!   sent through several endpoints takes its best one.
//! - Its figure is its population scaled by the platform's coverage report for the message
//!   that played there: `CoverageRate`, or terminals played ÷ terminals installed, reported per
//!   message over the areas in its `AreaCode`. A run takes the lowest share of its airings.
//!   Where no report covers an airing, the area counts whole and is marked as not confirmed
//!   by a report (`townships_unreported`, `population_unreported`).
//! - Across runs an area counts once, by its best run; a township targeted whole in one run and
//!   in part in another counts village by village, each by its best run.
//!
//! Installed terminals are one per village (the directory's villages), the only count known.
//!
//! # Files
//! - [`rule`] — confirmation levels, one area's outcome, weakest airing, best run, scaling.
//! - [`figures`] — figures of a set of areas, by county too.

pub mod figures;
pub mod rule;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

pub use figures::{
    Areas, CountyFigures, Figures, by_county, percent, percentage, share, tally, thousands,
    village_level,
};
pub use rule::{AreaOutcome, Confirmed, best, reported_share, weakest, withdrawn_half};

use crate::directory::Directory;
use crate::ledger::{Ledger, LedgerError, ReachRow, Run, RunId, RunState};

/// Terminals installed in an area: one per village of a township (at least one), one in a
/// village.
pub fn installed(directory: &Directory, area: &str) -> Option<u64> {
    let area = directory.area(area)?;
    Some(match area.village {
        Some(_) => 1,
        None => area.township.villages.len().max(1) as u64,
    })
}

/// Each run's areas from the ledger's reach rows: per township the weakest airing, each airing
/// the best of its deliveries.
pub fn runs(rows: &[ReachRow], directory: &Directory) -> BTreeMap<RunId, Areas> {
    type Airings = BTreeMap<u32, AreaOutcome>;
    let mut by_run: BTreeMap<RunId, BTreeMap<&str, Airings>> = BTreeMap::new();
    for row in rows {
        let level = Confirmed::of(row.state);
        let coverage = row
            .coverage
            .as_ref()
            .and_then(|c| reported_share(c, &row.township, |t| installed(directory, t)));
        let airing = AreaOutcome::airing(level, coverage);
        let slot = by_run
            .entry(row.run)
            .or_default()
            .entry(&row.township)
            .or_default()
            .entry(row.segment)
            .or_insert(airing);
        *slot = best(*slot, airing);
    }
    by_run
        .into_iter()
        .map(|(run, townships)| {
            let areas = townships
                .into_iter()
                .map(|(t, airings)| (t.to_string(), weakest(airings.into_values())))
                .collect();
            (run, areas)
        })
        .collect()
}

/// Areas over several runs: each once, by its best run.
pub fn best_of<'a>(runs: impl IntoIterator<Item = &'a Areas>) -> Areas {
    let mut out = Areas::new();
    for areas in runs {
        for (code, outcome) in areas {
            let slot = out.entry(code.clone()).or_insert(*outcome);
            *slot = best(*slot, *outcome);
        }
    }
    out
}

/// One run's areas, read from the ledger.
pub fn run_areas(
    ledger: &dyn Ledger,
    run: RunId,
    directory: &Directory,
) -> Result<Areas, LedgerError> {
    Ok(areas_of_run(&ledger.run_reach_rows(run)?, run, directory))
}

/// One run's areas from its reach rows ([`Ledger::run_reach_rows`]).
pub fn areas_of_run(rows: &[ReachRow], run: RunId, directory: &Directory) -> Areas {
    runs(rows, directory).remove(&run).unwrap_or_default()
}

/// The reach of one run (for example the last finished one, for the metrics).
pub fn of_run(
    ledger: &dyn Ledger,
    run: RunId,
    directory: &Directory,
) -> Result<Figures, LedgerError> {
    Ok(tally(&run_areas(ledger, run, directory)?, directory))
}

/// The most recent closed run (latest occurrence) and its reach, if any run is closed: what the
/// reach gauges show, whatever anyone queried before.
pub fn of_last_closed_run(
    ledger: &dyn Ledger,
    directory: &Directory,
) -> Result<Option<(Run, Figures)>, LedgerError> {
    let last = ledger
        .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)?
        .into_iter()
        .filter(|r| r.state == RunState::Closed)
        .max_by_key(|r| (r.occurrence, r.id));
    let Some(run) = last else {
        return Ok(None);
    };
    let figures = of_run(ledger, run.id, directory)?;
    Ok(Some((run, figures)))
}

/// The reach of the runs with occurrence in `[from, to)` (optionally of one campaign), each
/// township once by its best run.
pub fn of_period(
    ledger: &dyn Ledger,
    directory: &Directory,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    campaign: Option<&str>,
) -> Result<Figures, LedgerError> {
    let rows = ledger.reach_rows(from, to, campaign)?;
    let runs = runs(&rows, directory);
    Ok(tally(&best_of(runs.values()), directory))
}
