//! A run's outcome as staff read it: per township (both languages), per county, and the reach
//! (population reached of population targeted, the denominator always stated; the rule is
//! [`crate::reach`]). Built purely from the ledger's rows and the directory ([`build`]);
//! [`run_outcome`] reads the rows.

use std::collections::BTreeMap;
use std::sync::Arc;

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

/// Read a run's outcome from the ledger: its three reads at once, each on a blocking thread (on
/// PostgreSQL each on a connection of its own), since they stand between a run's end and its
/// printout.
pub async fn run_outcome(
    ledger: &Arc<dyn Ledger>,
    run: RunId,
    directory: &Directory,
) -> Result<RunOutcome, LedgerError> {
    let (a, b, c) = (Arc::clone(ledger), Arc::clone(ledger), Arc::clone(ledger));
    let (rows, reach, summary) = tokio::join!(
        tokio::task::spawn_blocking(move || a.township_outcomes(run)),
        tokio::task::spawn_blocking(move || b.run_reach_rows(run)),
        tokio::task::spawn_blocking(move || c.run_summary(run)),
    );
    let rows = rows.expect("ledger task")?;
    let areas = reach::areas_of_run(&reach.expect("ledger task")?, run, directory);
    let by_state = summary.expect("ledger task")?.by_state;
    Ok(build(&rows, &areas, directory, by_state))
}

/// The pure part of [`run_outcome`].
pub fn build(
    rows: &[TownshipOutcome],
    areas: &Areas,
    directory: &Directory,
    by_state: BTreeMap<DeliveryState, u32>,
) -> RunOutcome {
    let mut townships: BTreeMap<String, TownshipRow> = BTreeMap::new();
    // The reason of the segment each language's state was taken from.
    let mut reasons: BTreeMap<(String, Lang), Option<String>> = BTreeMap::new();
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
        // A language's state is its weakest segment's: one unconfirmed airing shows, with that
        // segment's reason (an equally weak segment lends its reason when the first had none).
        let shown = reasons.entry((r.township.clone(), r.lang)).or_default();
        let rank = Confirmed::of(r.state);
        match row.states.get(&r.lang).map(|old| Confirmed::of(*old)) {
            Some(old) if rank > old => {}
            Some(old) if rank == old => {
                if shown.is_none() {
                    shown.clone_from(&r.reason);
                }
            }
            _ => {
                row.states.insert(r.lang, r.state);
                shown.clone_from(&r.reason);
            }
        }
    }
    let mut joined: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ((township, _), reason) in reasons {
        let list = joined.entry(township).or_default();
        if let Some(reason) = reason.filter(|r| !list.contains(r)) {
            list.push(reason);
        }
    }
    for (township, list) in joined {
        if let Some(row) = townships.get_mut(&township) {
            row.reason = (!list.is_empty()).then(|| list.join("; "));
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

    #[test]
    fn a_row_shows_the_reason_of_the_segment_it_shows_and_never_twice() {
        let dir = Directory::liangshan();
        let a = dir.townships_of("513431").next().unwrap().clone();
        let with = |segment, lang, state, reason: &str| TownshipOutcome {
            reason: Some(reason.to_string()),
            ..row(&a.code, segment, lang, state)
        };
        // A played segment's note is not the row's reason when a weaker segment is shown.
        let rows = [
            with(
                0,
                Lang::Ii,
                DeliveryState::Played,
                "state query retried twice",
            ),
            with(
                1,
                Lang::Ii,
                DeliveryState::Rejected,
                "ResultCode 4: bad signature",
            ),
            row(&a.code, 2, Lang::Zh, DeliveryState::Played),
        ];
        let o = build(&rows, &Areas::new(), &dir, BTreeMap::new());
        let t = &o.townships[0];
        assert_eq!(t.states[&Lang::Ii], DeliveryState::Rejected);
        assert_eq!(t.reason.as_deref(), Some("ResultCode 4: bad signature"));
        // Each language's shown segment lends its reason, a shared reason once.
        let rows = [
            with(
                0,
                Lang::Ii,
                DeliveryState::Cancelled,
                "Mandarin half expired",
            ),
            with(1, Lang::Zh, DeliveryState::Expired, "air-by passed"),
            with(2, Lang::Zh, DeliveryState::Expired, "air-by passed"),
        ];
        let o = build(&rows, &Areas::new(), &dir, BTreeMap::new());
        assert_eq!(
            o.townships[0].reason.as_deref(),
            Some("Mandarin half expired; air-by passed")
        );
    }
}
