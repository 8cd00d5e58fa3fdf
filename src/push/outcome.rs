//! A run's outcome as staff read it: per township (both languages), per county, and the reach
//! (population reached of population targeted, the denominator always stated). Pure over the
//! ledger's rows and the directory.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::directory::Directory;
use crate::lang::Lang;
use crate::ledger::{
    DeliveryState, Ledger, LedgerError, Reach, RunId, TownshipOutcome, TownshipReach, reach,
};

/// One township of a run: the state of each language (its weakest segment's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TownshipRow {
    pub code: String,
    pub name: String,
    pub county_code: String,
    pub states: BTreeMap<Lang, DeliveryState>,
    pub reason: Option<String>,
}

/// One county's share of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CountyRow {
    pub code: String,
    pub name: String,
    pub targeted: u32,
    pub delivered: u32,
    pub played: u32,
    pub population_targeted: u64,
    /// People in townships with a confirmed play, scaled by terminals where known.
    pub population_played: u64,
    pub population_delivered: u64,
}

/// Everything `run` and `demo` print about one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunOutcome {
    pub townships: Vec<TownshipRow>,
    pub counties: Vec<CountyRow>,
    pub reach: Reach,
    /// Deliveries by state.
    pub by_state: BTreeMap<DeliveryState, u32>,
}

impl RunOutcome {
    /// Deliveries not yet in a final state.
    pub fn unsettled(&self) -> u32 {
        self.by_state
            .iter()
            .filter(|(s, _)| !s.is_final())
            .map(|(_, n)| n)
            .sum()
    }

    /// Deliveries that ended badly (rejected, expired, failed, cancelled).
    pub fn failed(&self) -> u32 {
        self.by_state
            .iter()
            .filter(|(s, _)| s.is_final() && **s != DeliveryState::Played)
            .map(|(_, n)| n)
            .sum()
    }
}

/// Read a run's outcome from the ledger. `terminals` gives terminals installed per township
/// where known (plays are scaled by terminals that played ÷ installed).
pub fn run_outcome(
    ledger: &dyn Ledger,
    run: RunId,
    directory: &Directory,
    terminals: &HashMap<String, u64>,
) -> Result<RunOutcome, LedgerError> {
    let rows = ledger.township_outcomes(run)?;
    let inputs = ledger.run_reach_inputs(run)?;
    let summary = ledger.run_summary(run)?;
    Ok(build(
        &rows,
        &inputs,
        directory,
        terminals,
        summary.by_state,
    ))
}

/// The pure part of [`run_outcome`].
pub fn build(
    rows: &[TownshipOutcome],
    inputs: &[TownshipReach],
    directory: &Directory,
    terminals: &HashMap<String, u64>,
    by_state: BTreeMap<DeliveryState, u32>,
) -> RunOutcome {
    let people: HashMap<String, u64> = directory
        .townships()
        .iter()
        .map(|t| (t.code.clone(), t.population.people))
        .collect();
    let mut townships: BTreeMap<String, TownshipRow> = BTreeMap::new();
    for r in rows {
        let row = townships.entry(r.township.clone()).or_insert_with(|| {
            let t = directory.township(&r.township).ok();
            TownshipRow {
                code: r.township.clone(),
                name: t.map(|t| t.name.clone()).unwrap_or_default(),
                county_code: t.map(|t| t.county_code.clone()).unwrap_or_default(),
                states: BTreeMap::new(),
                reason: None,
            }
        });
        // A language's state is its weakest segment's: one unconfirmed airing shows.
        let weaker = |old: &DeliveryState| rank(r.state) < rank(*old);
        if row.states.get(&r.lang).is_none_or(weaker) {
            row.states.insert(r.lang, r.state);
        }
        if r.reason.is_some() && row.reason.is_none() {
            row.reason.clone_from(&r.reason);
        }
    }
    let counties = by_county(inputs, directory, &people, terminals);
    RunOutcome {
        townships: townships.into_values().collect(),
        counties,
        reach: reach(inputs, &people, terminals),
        by_state,
    }
}

/// Played above delivered above anything unconfirmed.
fn rank(state: DeliveryState) -> u8 {
    match state {
        DeliveryState::Played => 2,
        DeliveryState::Delivered => 1,
        _ => 0,
    }
}

fn by_county(
    inputs: &[TownshipReach],
    directory: &Directory,
    people: &HashMap<String, u64>,
    terminals: &HashMap<String, u64>,
) -> Vec<CountyRow> {
    let mut out: BTreeMap<String, CountyRow> = BTreeMap::new();
    for i in inputs {
        let Ok(t) = directory.township(&i.township) else {
            continue;
        };
        let row = out
            .entry(t.county_code.clone())
            .or_insert_with(|| CountyRow {
                code: t.county_code.clone(),
                name: directory
                    .county_of(t)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                ..CountyRow::default()
            });
        let pop = people.get(&i.township).copied().unwrap_or(0);
        row.targeted += 1;
        row.population_targeted += pop;
        if i.best.is_some() {
            row.delivered += 1;
            row.population_delivered += pop;
        }
        if i.best == Some(crate::ledger::Confirmed::Played) {
            row.played += 1;
            let factor = crate::ledger::reach::terminal_factor(
                i.terminals_played,
                terminals.get(&i.township).copied(),
            );
            row.population_played += (pop as f64 * factor).round() as u64;
        }
    }
    out.into_values().collect()
}

/// Terminals installed per township when each village has one (the simulator's default).
pub fn one_terminal_per_village(directory: &Directory) -> HashMap<String, u64> {
    directory
        .townships()
        .iter()
        .map(|t| (t.code.clone(), t.villages.len().max(1) as u64))
        .collect()
}
