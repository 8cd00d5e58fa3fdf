//! Reach: a pure function from the ledger's reach inputs and township populations to the
//! population reached — by confirmed delivery, and by confirmed play scaled by reported
//! terminals — always with its denominator, the targeted population.
//!
//! Only confirmed outcomes count: `delivered` (ResultCode 1 or a state report) and `played`
//! (BrdStateCode 3). A played township's people are scaled by terminals that played ÷
//! terminals installed (capped at 1) when both are known; otherwise the whole township counts.
//!
//! A run airs several segments in a township (each message's Yi and Mandarin, each repeat); the
//! township counts as delivered in that run only when every segment was confirmed delivered or
//! played, and as played only when every segment was confirmed played — a message pair never
//! counts on one half. Over several runs a township counts once, by its best run.

use std::collections::HashMap;

use serde::Serialize;

use super::{Confirmed, TownshipReach};

/// Population reached, with its denominator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reach {
    /// Townships targeted (the denominator's townships).
    pub targeted_townships: u32,
    /// People in the targeted townships: the denominator.
    pub targeted_population: u64,
    /// Townships with a confirmed delivery (or play).
    pub delivered_townships: u32,
    /// People in townships with a confirmed delivery (or play).
    pub delivered_population: u64,
    /// Townships with a confirmed play.
    pub played_townships: u32,
    /// People in townships with a confirmed play, unscaled.
    pub played_population_unscaled: u64,
    /// People in townships with a confirmed play, scaled by terminals where known.
    pub played_population: f64,
    /// Targeted townships whose population is unknown (counted as 0 people everywhere).
    pub unknown_population: Vec<String>,
}

impl Reach {
    /// Delivered population ÷ targeted population; None when nothing was targeted.
    pub fn delivered_share(&self) -> Option<f64> {
        share(self.delivered_population as f64, self.targeted_population)
    }

    /// Played (scaled) population ÷ targeted population; None when nothing was targeted.
    pub fn played_share(&self) -> Option<f64> {
        share(self.played_population, self.targeted_population)
    }
}

fn share(part: f64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part / whole as f64)
}

/// The fraction of a played township's people reached: terminals played ÷ installed, capped at
/// 1; 1 when either number is unknown or nothing is installed on record.
pub fn terminal_factor(played: Option<u64>, installed: Option<u64>) -> f64 {
    match (played, installed) {
        (Some(p), Some(i)) if i > 0 => (p as f64 / i as f64).min(1.0),
        _ => 1.0,
    }
}

/// A township's outcome in one run from the best outcome of each of its segments: the weakest
/// of them (None when one segment is unconfirmed, or there are none).
pub fn weakest(segments: impl IntoIterator<Item = Option<Confirmed>>) -> Option<Confirmed> {
    segments.into_iter().min().flatten()
}

/// Reach of `inputs` (one row per targeted township), given each township's people and, where
/// known, the terminals installed in it.
pub fn reach(
    inputs: &[TownshipReach],
    people: &HashMap<String, u64>,
    terminals_installed: &HashMap<String, u64>,
) -> Reach {
    let mut r = Reach {
        targeted_townships: 0,
        targeted_population: 0,
        delivered_townships: 0,
        delivered_population: 0,
        played_townships: 0,
        played_population_unscaled: 0,
        played_population: 0.0,
        unknown_population: Vec::new(),
    };
    for t in inputs {
        let pop = people.get(&t.township).copied().unwrap_or_else(|| {
            r.unknown_population.push(t.township.clone());
            0
        });
        r.targeted_townships += 1;
        r.targeted_population += pop;
        if t.best.is_some() {
            r.delivered_townships += 1;
            r.delivered_population += pop;
        }
        if t.best == Some(Confirmed::Played) {
            let installed = terminals_installed.get(&t.township).copied();
            r.played_townships += 1;
            r.played_population_unscaled += pop;
            r.played_population += pop as f64 * terminal_factor(t.terminals_played, installed);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &str, best: Option<Confirmed>, terminals: Option<u64>) -> TownshipReach {
        TownshipReach {
            township: code.to_string(),
            best,
            terminals_played: terminals,
        }
    }

    fn map(pairs: &[(&str, u64)]) -> HashMap<String, u64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn delivered_played_and_nothing() {
        let inputs = [
            row("a", Some(Confirmed::Played), None),
            row("b", Some(Confirmed::Delivered), None),
            row("c", None, None),
        ];
        let people = map(&[("a", 1000), ("b", 300), ("c", 200)]);
        let r = reach(&inputs, &people, &HashMap::new());
        assert_eq!(r.targeted_population, 1500);
        assert_eq!(r.targeted_townships, 3);
        assert_eq!(r.delivered_population, 1300);
        assert_eq!(r.delivered_townships, 2);
        assert_eq!(r.played_population_unscaled, 1000);
        assert_eq!(r.played_population, 1000.0);
        assert_eq!(r.delivered_share(), Some(1300.0 / 1500.0));
        assert!(r.unknown_population.is_empty());
    }

    #[test]
    fn terminals_scale_plays_only_and_cap_at_one() {
        let inputs = [
            row("a", Some(Confirmed::Played), Some(30)), // 30 of 40 → 0.75
            row("b", Some(Confirmed::Played), Some(90)), // 90 of 60 → capped at 1
            row("c", Some(Confirmed::Played), Some(5)),  // installed unknown → 1
            row("d", Some(Confirmed::Delivered), Some(1)), // not played: no play reach
        ];
        let people = map(&[("a", 800), ("b", 100), ("c", 50), ("d", 10)]);
        let installed = map(&[("a", 40), ("b", 60), ("d", 100)]);
        let r = reach(&inputs, &people, &installed);
        assert_eq!(r.played_population, 800.0 * 0.75 + 100.0 + 50.0);
        assert_eq!(r.played_population_unscaled, 950);
        assert_eq!(r.delivered_population, 960);
        assert_eq!(r.played_townships, 3);
        assert_eq!(r.played_share(), Some(750.0 / 960.0));
    }

    #[test]
    fn unknown_population_is_named_and_nothing_targeted_has_no_share() {
        let r = reach(
            &[row("x", Some(Confirmed::Delivered), None)],
            &HashMap::new(),
            &HashMap::new(),
        );
        assert_eq!(r.unknown_population, vec!["x".to_string()]);
        assert_eq!(r.delivered_townships, 1);
        assert_eq!(r.delivered_share(), None);
        let empty = reach(&[], &HashMap::new(), &HashMap::new());
        assert_eq!(empty.targeted_population, 0);
        assert_eq!(empty.played_share(), None);
    }

    #[test]
    fn a_run_counts_by_its_weakest_segment() {
        use Confirmed::{Delivered, Played};
        assert_eq!(weakest([Some(Played), Some(Played)]), Some(Played));
        assert_eq!(weakest([Some(Played), Some(Delivered)]), Some(Delivered));
        assert_eq!(weakest([Some(Played), None, Some(Played)]), None);
        assert_eq!(weakest([]), None);
    }

    #[test]
    fn terminal_factor_edges() {
        assert_eq!(terminal_factor(Some(0), Some(10)), 0.0);
        assert_eq!(terminal_factor(Some(3), Some(0)), 1.0);
        assert_eq!(terminal_factor(None, Some(10)), 1.0);
    }
}
