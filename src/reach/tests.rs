//! The reach rule on its own: weakest airing, best run, scaling by coverage reports, and the
//! marking of figures no report confirms.

use super::*;
use crate::ledger::{DeliveryState, ReportedCoverage};

use Confirmed::{Delivered, Played};

fn airing(level: Option<Confirmed>, coverage: Option<f64>) -> AreaOutcome {
    AreaOutcome::airing(level, coverage)
}

fn report(
    rate: Option<f64>,
    terminals: Option<u64>,
    areas: &[&str],
    towns: &[&str],
) -> ReportedCoverage {
    ReportedCoverage {
        rate,
        terminals,
        area_codes: areas.iter().map(|a| a.to_string()).collect(),
        townships: towns.iter().map(|t| t.to_string()).collect(),
    }
}

fn row(
    run: i64,
    township: &str,
    segment: u32,
    state: DeliveryState,
    rate: Option<f64>,
) -> ReachRow {
    ReachRow {
        run: RunId(run),
        township: township.to_string(),
        segment,
        state,
        coverage: rate.map(|r| report(Some(r), None, &[], &[township])),
    }
}

fn townships(dir: &Directory, n: usize) -> Vec<(String, u64)> {
    dir.townships_of("513431")
        .take(n)
        .map(|t| (t.code.clone(), t.population.people))
        .collect()
}

#[test]
fn a_run_counts_by_its_weakest_airing() {
    let both = weakest([
        airing(Some(Played), Some(0.8)),
        airing(Some(Played), Some(0.5)),
    ]);
    assert_eq!(both, airing(Some(Played), Some(0.5)));
    let half = weakest([
        airing(Some(Played), Some(0.9)),
        airing(Some(Delivered), None),
    ]);
    assert_eq!(half.level, Some(Delivered));
    assert!(
        half.unreported(),
        "one airing without a report leaves the run unreported"
    );
    let missing = weakest([airing(Some(Played), Some(1.0)), airing(None, None)]);
    assert_eq!(missing.level, None);
    assert_eq!(missing.share(), 0.0);
    assert_eq!(weakest([]), AreaOutcome::default());
}

#[test]
fn the_best_run_wins_by_level_then_share_then_report() {
    let played_half = airing(Some(Played), Some(0.5));
    let delivered = airing(Some(Delivered), None);
    assert_eq!(best(delivered, played_half), played_half);
    assert_eq!(
        best(played_half, airing(Some(Played), Some(0.7))).coverage,
        Some(0.7)
    );
    let reported_full = airing(Some(Played), Some(1.0));
    let unreported = airing(Some(Played), None);
    assert_eq!(best(unreported, reported_full), reported_full);
    assert_eq!(best(airing(None, None), delivered), delivered);
    assert_eq!(
        airing(None, Some(0.4)).coverage,
        None,
        "an unconfirmed airing has no coverage"
    );
}

#[test]
fn a_report_scales_the_areas_in_its_area_code() {
    let all = report(
        Some(0.5),
        Some(83),
        &["513431000000"],
        &["513431100", "513431101"],
    );
    assert_eq!(reported_share(&all, "513431100", |_| None), Some(0.5));
    let other = report(Some(0.5), None, &["513432100000"], &["513431100"]);
    assert_eq!(reported_share(&other, "513431100", |_| None), None);
    let by_terminals = report(
        None,
        Some(30),
        &["513431100000", "513431101000"],
        &["513431100", "513431101", "513431102"],
    );
    assert_eq!(
        reported_share(&by_terminals, "513431100", |_| Some(20)),
        Some(0.75)
    );
    assert_eq!(
        reported_share(&by_terminals, "513431100", |_| None),
        None,
        "installed unknown"
    );
    let too_many = report(None, Some(99), &[], &["513431100"]);
    assert_eq!(
        reported_share(&too_many, "513431100", |_| Some(10)),
        Some(1.0)
    );
    let nonsense = |rate| report(Some(rate), Some(5), &[], &["513431100"]);
    assert_eq!(reported_share(&nonsense(7.0), "513431100", |_| None), None);
    assert_eq!(
        reported_share(&nonsense(f64::NAN), "513431100", |_| Some(10)),
        Some(0.5)
    );
    assert_eq!(
        reported_share(&nonsense(-0.1), "513431100", |_| Some(10)),
        Some(0.5)
    );
    assert!(rule::covers("513431100007", "513431100"));
    assert!(rule::covers("510000000000", "513431100"));
    assert!(!rule::covers("513431101000", "513431100"));
    assert!(
        rule::covers("5134", "513431100"),
        "a short code is read padded"
    );
    assert!(rule::covers("513431100", "513431100"));
    assert!(!rule::covers("5135", "513431100"));
    assert!(!rule::covers("51343110000x", "513431100"));
    assert!(!rule::covers("", "513431100"));
}

#[test]
fn figures_scale_by_coverage_and_mark_what_no_report_confirms() {
    let dir = Directory::liangshan();
    let ts = townships(&dir, 3);
    let (a, b, c) = (&ts[0], &ts[1], &ts[2]);
    let rows = [
        row(1, &a.0, 0, DeliveryState::Played, Some(0.5)),
        row(1, &a.0, 1, DeliveryState::Played, Some(0.5)),
        row(1, &b.0, 0, DeliveryState::Delivered, None),
        row(1, &b.0, 1, DeliveryState::Played, Some(0.5)),
        row(1, &c.0, 0, DeliveryState::Played, Some(0.5)),
        row(1, &c.0, 1, DeliveryState::Failed, None),
    ];
    let runs = runs(&rows, &dir);
    let f = tally(&runs[&RunId(1)], &dir);
    assert_eq!(f.townships_targeted, 3);
    assert_eq!(f.population_targeted, a.1 + b.1 + c.1);
    assert_eq!(f.townships_reached, 2);
    assert_eq!(f.townships_played, 1);
    assert_eq!(f.population_played, (a.1 as f64 * 0.5).round() as u64);
    assert_eq!(f.townships_unreported, 1);
    assert_eq!(f.population_unreported, b.1);
    assert_eq!(
        f.population_reached,
        (a.1 as f64 * 0.5 + b.1 as f64).round() as u64
    );
    assert!(f.unknown_townships.is_empty());
}

#[test]
fn across_runs_each_area_counts_once_by_its_best_run() {
    let dir = Directory::liangshan();
    let ts = townships(&dir, 2);
    let (a, b) = (&ts[0], &ts[1]);
    let rows = [
        row(1, &a.0, 0, DeliveryState::Played, Some(0.4)),
        row(1, &b.0, 0, DeliveryState::Expired, None),
        row(2, &a.0, 0, DeliveryState::Played, Some(0.6)),
        row(2, &b.0, 0, DeliveryState::Played, Some(0.5)),
        // One airing sent through two endpoints takes the better one.
        row(3, &a.0, 0, DeliveryState::Failed, None),
        row(3, &a.0, 0, DeliveryState::Played, Some(0.2)),
    ];
    let runs = runs(&rows, &dir);
    assert_eq!(runs[&RunId(3)][&a.0], airing(Some(Played), Some(0.2)));
    let all = best_of(runs.values());
    let f = tally(&all, &dir);
    assert_eq!(f.townships_targeted, 2);
    assert_eq!(
        f.population_targeted,
        a.1 + b.1,
        "each township counted once"
    );
    let want = a.1 as f64 * 0.6 + b.1 as f64 * 0.5;
    assert_eq!(f.population_reached, want.round() as u64);
    assert_eq!(f.population_unreported, 0);
    let counties = by_county(&all, &dir);
    assert_eq!(counties.len(), 1);
    assert_eq!(counties[0].figures, f);
    assert!(!counties[0].name.is_empty());
}

#[test]
fn unknown_townships_are_named_and_nothing_targeted_has_no_share() {
    let dir = Directory::liangshan();
    let areas = Areas::from([("999999999".to_string(), airing(Some(Played), None))]);
    let f = tally(&areas, &dir);
    assert_eq!(f.unknown_townships, vec!["999999999".to_string()]);
    assert_eq!(f.reached_share(), None);
    assert_eq!(tally(&Areas::new(), &dir).played_share(), None);
    assert_eq!(thousands(4_858_359), "4,858,359");
    assert_eq!(thousands(12), "12");
    assert_eq!(percent(0.4969), "49.7%");
}
