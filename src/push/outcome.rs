//! A run's outcome as staff read it: per township (both languages), per county, and the reach
//! (population reached of population targeted, the denominator always stated; the rule is
//! [`crate::reach`]). Pure over the ledger's rows and the directory.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::directory::Directory;
use crate::lang::Lang;
use crate::ledger::{DeliveryState, Ledger, LedgerError, RunId, TownshipOutcome};
use crate::reach::{self, Areas, Confirmed, CountyFigures, Figures};

/// One township of a run: the state of each language (its weakest segment's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TownshipRow {
    pub code: String,
    pub name: String,
    pub county_code: String,
    pub states: BTreeMap<Lang, DeliveryState>,
    pub reason: Option<String>,
}

/// Everything `run` and `demo` print about one run (or, for `demo`'s total, several).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunOutcome {
    pub townships: Vec<TownshipRow>,
    pub counties: Vec<CountyFigures>,
    pub reach: Figures,
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

/// Read a run's outcome from the ledger.
pub fn run_outcome(
    ledger: &dyn Ledger,
    run: RunId,
    directory: &Directory,
) -> Result<RunOutcome, LedgerError> {
    let rows = ledger.township_outcomes(run)?;
    let areas = reach::run_areas(ledger, run, directory)?;
    let summary = ledger.run_summary(run)?;
    Ok(build(&rows, &areas, directory, summary.by_state))
}

/// The pure part of [`run_outcome`].
pub fn build(
    rows: &[TownshipOutcome],
    areas: &Areas,
    directory: &Directory,
    by_state: BTreeMap<DeliveryState, u32>,
) -> RunOutcome {
    let mut townships: BTreeMap<String, TownshipRow> = BTreeMap::new();
    for r in rows {
        let row = townships.entry(r.township.clone()).or_insert_with(|| {
            let area = directory.area(&r.township);
            let county_code = area.as_ref().map(|a| a.township.county_code.clone());
            TownshipRow {
                code: r.township.clone(),
                name: area.map(|a| a.name).unwrap_or_default(),
                county_code: county_code.unwrap_or_default(),
                states: BTreeMap::new(),
                reason: None,
            }
        });
        // A language's state is its weakest segment's: one unconfirmed airing shows.
        let weaker = |old: &DeliveryState| Confirmed::of(r.state) < Confirmed::of(*old);
        if row.states.get(&r.lang).is_none_or(weaker) {
            row.states.insert(r.lang, r.state);
        }
        if r.reason.is_some() && row.reason.is_none() {
            row.reason.clone_from(&r.reason);
        }
    }
    RunOutcome {
        townships: townships.into_values().collect(),
        counties: reach::by_county(areas, directory),
        reach: reach::tally(areas, directory),
        by_state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::DeliveryId;
    use crate::reach::AreaOutcome;

    fn row(township: &str, segment: u32, lang: Lang, state: DeliveryState) -> TownshipOutcome {
        TownshipOutcome {
            township: township.to_string(),
            segment,
            lang,
            endpoint: "ep".into(),
            delivery: DeliveryId(i64::from(segment)),
            state,
            reason: (state == DeliveryState::Expired).then(|| "air-by passed".to_string()),
            attempts: 1,
        }
    }

    #[test]
    fn a_language_shows_its_weakest_segment_and_reach_comes_from_the_rule() {
        let dir = Directory::liangshan();
        let a = dir.townships_of("513431").next().unwrap().clone();
        let rows = [
            row(&a.code, 0, Lang::Ii, DeliveryState::Played),
            row(&a.code, 1, Lang::Zh, DeliveryState::Played),
            row(&a.code, 2, Lang::Ii, DeliveryState::Expired),
        ];
        let areas = Areas::from([(
            a.code.clone(),
            AreaOutcome::airing(Some(Confirmed::Played), Some(0.5)),
        )]);
        let o = build(&rows, &areas, &dir, BTreeMap::new());
        let t = &o.townships[0];
        assert_eq!(
            (t.name.as_str(), t.county_code.as_str()),
            (a.name.as_str(), "513431")
        );
        assert_eq!(t.states[&Lang::Ii], DeliveryState::Expired);
        assert_eq!(t.states[&Lang::Zh], DeliveryState::Played);
        assert_eq!(t.reason.as_deref(), Some("air-by passed"));
        assert_eq!(o.reach, reach::tally(&areas, &dir));
        assert_eq!(o.counties.len(), 1);
        assert_eq!(o.counties[0].figures, o.reach);
        assert_eq!(
            o.reach.population_reached,
            (a.population.people as f64 * 0.5).round() as u64
        );
    }
}
