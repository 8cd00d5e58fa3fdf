//! Reach figures of a set of areas: townships and people targeted, reached (scaled by the
//! coverage reports), played, and the part counted whole for want of a report — by county too.

use std::collections::BTreeMap;

use serde::Serialize;

use super::rule::{AreaOutcome, Confirmed};
use crate::directory::Directory;

/// Each targeted area's outcome (over one run, or its best run of several), by code: a
/// township targeted whole (9 digits) or a village of a township targeted in part (12).
pub type Areas = BTreeMap<String, AreaOutcome>;

/// Population reached, with its denominator.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub townships_targeted: u32,
    /// Townships where every airing was confirmed (delivered or played).
    pub townships_reached: u32,
    /// Townships where every airing was confirmed played.
    pub townships_played: u32,
    /// Reached townships that no coverage report covers: counted whole, not confirmed by a report.
    pub townships_unreported: u32,
    /// People in the targeted townships: the denominator.
    pub population_targeted: u64,
    /// People reached: each reached township's people × the coverage its platform reported for
    /// the message (whole where there was no report).
    pub population_reached: u64,
    /// The part of `population_reached` in townships where every airing was confirmed played.
    pub population_played: u64,
    /// The part of `population_reached` counted whole because no report covers it.
    pub population_unreported: u64,
    /// Targeted townships whose population is an estimate, not a published count.
    pub townships_estimated: u32,
    /// Targeted area codes the directory does not know (counted as 0 people).
    pub unknown_townships: Vec<String>,
    /// Villages targeted on their own (their township targeted in part), reached and played;
    /// counted apart from the townships above, their people in the same totals.
    #[serde(skip_serializing_if = "is_zero")]
    pub villages_targeted: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub villages_reached: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub villages_played: u32,
    /// Those of them whose population is an estimate (every one unless staff gave a figure).
    #[serde(skip_serializing_if = "is_zero")]
    pub villages_estimated: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Areas with each township that is also targeted in part (in another run) replaced by its
/// villages, each the better of its own outcome and the township's, so no one counts twice.
pub fn village_level(areas: &Areas, directory: &Directory, all: bool) -> Areas {
    let split: std::collections::BTreeSet<&str> = areas
        .keys()
        .filter(|c| c.len() == 12)
        .map(|c| &c[..9])
        .collect();
    let mut out = Areas::new();
    for (code, outcome) in areas {
        let township = directory
            .township(code)
            .ok()
            .filter(|t| !t.villages.is_empty());
        match township {
            Some(t) if code.len() == 9 && (all || split.contains(code.as_str())) => {
                for v in &t.villages {
                    let slot = out.entry(v.code.clone()).or_insert(*outcome);
                    *slot = super::best(*slot, *outcome);
                }
            }
            _ => {
                let slot = out.entry(code.clone()).or_insert(*outcome);
                *slot = super::best(*slot, *outcome);
            }
        }
    }
    out
}

impl Figures {
    /// People reached ÷ people targeted; `None` when nothing was targeted.
    pub fn reached_share(&self) -> Option<f64> {
        share(self.population_reached, self.population_targeted)
    }

    /// People reached by confirmed plays ÷ people targeted.
    pub fn played_share(&self) -> Option<f64> {
        share(self.population_played, self.population_targeted)
    }
}

/// `part ÷ whole`, `None` when `whole` is 0.
pub fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// `4858359` → `4,858,359`: how every surface prints a count of people.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share (0–1) as every surface prints it: `49.7%`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// A percentage (0–100, as reports hold them) printed as [`percent`] prints a share; `none`
/// when there is none.
pub fn percentage(p: Option<f64>, none: &str) -> String {
    p.map_or_else(|| none.to_string(), |p| percent(p / 100.0))
}

/// The figures of `areas` (see [`village_level`] for a township also targeted in part). People
/// are summed unrounded and rounded once, so a total does not depend on how its parts were
/// grouped.
pub fn tally<'a>(
    areas: impl IntoIterator<Item = (&'a String, &'a AreaOutcome)>,
    directory: &Directory,
) -> Figures {
    let areas: Areas = areas.into_iter().map(|(c, o)| (c.clone(), *o)).collect();
    let mut f = Figures::default();
    let (mut reached, mut played) = (0.0_f64, 0.0_f64);
    for (code, outcome) in &village_level(&areas, directory, false) {
        let area = directory.area(code);
        let village = area.as_ref().is_some_and(|a| a.village.is_some());
        let people = match &area {
            Some(a) if village => {
                f.villages_estimated += u32::from(a.population.estimated);
                a.population.people
            }
            Some(a) => {
                f.townships_estimated += u32::from(a.population.estimated);
                a.population.people
            }
            None => {
                f.unknown_townships.push(code.clone());
                0
            }
        };
        let count = |township: &mut u32, villages: &mut u32| {
            if village {
                *villages += 1;
            } else {
                *township += 1;
            }
        };
        count(&mut f.townships_targeted, &mut f.villages_targeted);
        f.population_targeted += people;
        if outcome.level.is_none() {
            continue;
        }
        let counted = people as f64 * outcome.share();
        count(&mut f.townships_reached, &mut f.villages_reached);
        reached += counted;
        if outcome.unreported() {
            f.townships_unreported += u32::from(!village);
            f.population_unreported += people;
        }
        if outcome.level == Some(Confirmed::Played) {
            count(&mut f.townships_played, &mut f.villages_played);
            played += counted;
        }
    }
    f.population_reached = reached.round() as u64;
    f.population_played = played.round() as u64;
    f
}

/// One county's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountyFigures {
    pub code: String,
    pub name: String,
    pub figures: Figures,
}

/// The figures of `areas` per county (6-digit code order).
pub fn by_county(areas: &Areas, directory: &Directory) -> Vec<CountyFigures> {
    let mut counties: BTreeMap<&str, Vec<(&String, &AreaOutcome)>> = BTreeMap::new();
    for (code, outcome) in areas {
        counties
            .entry(code.get(..6).unwrap_or(code))
            .or_default()
            .push((code, outcome));
    }
    counties
        .into_iter()
        .map(|(code, areas)| CountyFigures {
            code: code.to_string(),
            name: directory
                .county(code)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            figures: tally(areas, directory),
        })
        .collect()
}
