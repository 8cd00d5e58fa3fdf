//! The conflict search over lanes of townships against the planner itself: planning every
//! township of every window and grouping its conflicts by pair must give the same first
//! conflict, the same counts, for every kind of campaign.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveTime;
use proptest::prelude::*;

use super::proptests::{TOWNS, build, spec, the_catalog, window};
use super::tests::{campaign, catalog, message};
use super::*;
use crate::schedule::{QuietHours, Rotation};

/// What `check` made of the planner's conflicts before lanes: each window planned in full,
/// conflicts grouped by (loser, winner, overlap), the first of each group, its length and its
/// townships.
fn by_planning(
    campaigns: &[Campaign],
    catalog: &Catalog,
    windows: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<PairConflicts> {
    let dir = Directory::liangshan();
    let mut pairs: BTreeMap<(String, String, bool), Vec<Conflict>> = BTreeMap::new();
    for &(from, to) in windows {
        for c in plan(campaigns, &dir, catalog, from, to).conflicts {
            let overlap = matches!(c.kind, ConflictKind::Overlap { .. });
            let key = (c.loser.clone(), c.winner.clone(), overlap);
            pairs.entry(key).or_default().push(c);
        }
    }
    pairs
        .into_values()
        .map(|list| PairConflicts {
            first: list[0].clone(),
            broadcasts: list.len(),
            townships: list
                .iter()
                .map(|c| &c.township_code)
                .collect::<BTreeSet<_>>()
                .len(),
        })
        .collect()
}

fn days(start: u32, n: u32) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    (start..start + n).map(|d| window(d, 1)).collect()
}

fn county(code: &str) -> Vec<String> {
    let dir = Directory::liangshan();
    dir.townships_of(code).map(|t| t.code.clone()).collect()
}

fn quiet(a: u32, b: u32) -> QuietHours {
    let hm = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    QuietHours {
        start: hm(a),
        end: hm(b),
    }
}

#[test]
fn lanes_find_what_planning_every_township_finds() {
    // A round-robin slot every 7 minutes (programmes of 90 s and 22 s) over a whole county with
    // quiet hours and one township's own; a higher-priority pair at 07:30 and 12:30 on part of
    // it; an equal-priority slot a minute later; a same-minute rival on a few townships; a
    // campaign overlapping itself every minute on one township, targeted twice.
    let cat = catalog(vec![message("m", 44.0, 44.0), message("s", 10.0, 10.0)]);
    let zhaojue = county("513431");
    let towns = |n: usize| -> Vec<&str> { zhaojue.iter().take(n).map(String::as_str).collect() };
    let mut a = campaign("a", &["*/7 * * * *"], &["m", "s"], &towns(zhaojue.len()));
    a.rotation = Rotation::RoundRobin;
    a.quiet_hours = vec![quiet(22, 6)];
    a.quiet_overrides
        .insert(zhaojue[3].clone(), vec![quiet(20, 8)]);
    let mut b = campaign("b", &["30 7,12 * * *"], &["m"], &towns(9));
    b.priority = 5;
    let c = campaign("c", &["31 7 * * *", "29 12 * * *"], &["s"], &towns(12));
    let d = campaign("d", &["*/14 * * * *"], &["s"], &towns(4));
    let e = campaign("e", &["* 9 * * *"], &["m"], &[&zhaojue[5], &zhaojue[5]]);
    let campaigns = [e, d, c, b, a];
    let windows = days(1, 3);
    let want = by_planning(&campaigns, &cat, &windows);
    let kinds: BTreeSet<(&str, &str, bool)> = want
        .iter()
        .map(|p| {
            let overlap = matches!(p.first.kind, ConflictKind::Overlap { .. });
            (p.first.loser.as_str(), p.first.winner.as_str(), overlap)
        })
        .collect();
    // The scenario exercises every kind: same minute and overlap, between two campaigns and of
    // one with itself.
    let every_kind = [
        ("d", "a", false),
        ("c", "b", true),
        ("e", "a", true),
        ("e", "e", false),
        ("e", "e", true),
    ];
    for k in every_kind {
        assert!(kinds.contains(&k), "{k:?} not in {kinds:?}");
    }
    let dir = Directory::liangshan();
    assert_eq!(conflicts_by_pair(&campaigns, &dir, &cat, &windows), want);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn lanes_agree_with_the_planner(
        specs in proptest::collection::vec(spec(), 1..4),
        every in 1u32..5,
        towns in proptest::sample::subsequence(TOWNS.to_vec(), 1..=TOWNS.len()),
        start in 1u32..8,
        n in 1u32..3,
    ) {
        let mut campaigns: Vec<Campaign> =
            specs.iter().enumerate().map(|(i, s)| build(i, s)).collect();
        // A frequent campaign whose programmes (about a minute, twice) run into each other.
        let cron = format!("*/{every} 6-9 * * *");
        let mut f = campaign("f", &[&cron], &["m-a", "m-b"], &towns);
        f.rotation = Rotation::RoundRobin;
        f.repeats = 2;
        campaigns.push(f);
        let cat = the_catalog();
        let windows = days(start, n);
        let dir = Directory::liangshan();
        prop_assert_eq!(
            conflicts_by_pair(&campaigns, &dir, &cat, &windows),
            by_planning(&campaigns, &cat, &windows)
        );
    }
}
