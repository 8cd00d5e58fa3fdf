//! Coverage aggregation, periods and CSV, on the embedded directory.

use chrono::TimeZone;

use super::*;
use crate::lang::Lang;
use crate::ledger::{DeliveryState, ReportedCoverage};

pub(super) fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

/// A run of one airing per township, each in `state`, reported at 50% coverage when played.
pub(super) fn run(
    id: i64,
    occurrence: DateTime<Utc>,
    outcomes: &[(&str, DeliveryState)],
) -> RunOutcome {
    RunOutcome {
        run: id,
        campaign: "winter".into(),
        occurrence,
        rows: outcomes
            .iter()
            .map(|(t, state)| ReachRow {
                run: RunId(id),
                township: t.to_string(),
                segment: 0,
                state: *state,
                coverage: (*state == DeliveryState::Played).then(|| ReportedCoverage {
                    rate: Some(0.5),
                    terminals: None,
                    area_codes: vec![crate::transport::area_code(t)],
                    townships: vec![t.to_string()],
                }),
            })
            .collect(),
    }
}

pub(super) fn query(by: By) -> Query {
    Query {
        from: at(1, 0),
        to: at(30, 0),
        by,
        campaign: None,
    }
}

fn townships(dir: &Directory, county: &str, n: usize) -> Vec<(String, u64)> {
    dir.townships_of(county)
        .take(n)
        .map(|t| (t.code.clone(), t.population.people))
        .collect()
}

#[test]
fn distinct_population_counts_each_township_once_and_states_denominators() {
    let dir = Directory::liangshan();
    let ts = townships(&dir, "513431", 3);
    let (a, b, c) = (&ts[0], &ts[1], &ts[2]);
    let inputs = Inputs {
        runs: vec![
            run(
                1,
                at(2, 1),
                &[
                    (&a.0, DeliveryState::Played),
                    (&b.0, DeliveryState::Sent),
                    (&c.0, DeliveryState::Failed),
                ],
            ),
            run(
                2,
                at(3, 1),
                &[
                    (&a.0, DeliveryState::Delivered),
                    (&b.0, DeliveryState::Delivered),
                ],
            ),
        ],
        failures: vec![],
    };
    let r = aggregate(&inputs, &dir, &query(By::County));
    assert_eq!(r.runs, 2);
    let t = &r.totals.reach;
    assert_eq!(t.townships_targeted, 3);
    assert_eq!(t.townships_reached, 2);
    assert_eq!(t.townships_played, 1, "a played by its best run, at 50%");
    assert_eq!(t.population_targeted, a.1 + b.1 + c.1);
    let reached = (a.1 as f64 * 0.5 + b.1 as f64).round() as u64;
    assert_eq!(t.population_reached, reached);
    assert_eq!(t.population_played, (a.1 as f64 * 0.5).round() as u64);
    assert_eq!(
        t.population_unreported, b.1,
        "b was only delivered: no report"
    );
    assert_eq!(r.totals.population_area, dir.population());
    let want = reached as f64 * 100.0 / (a.1 + b.1 + c.1) as f64;
    assert!((r.totals.pct_targeted_reached.unwrap() - want).abs() < 1e-9);
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0].code, "513431");
    assert_eq!(r.rows[0].townships.len(), 3);
    assert_eq!(r.series.len(), 2);
    assert!(r.denominators.contains_key("pct_targeted"));
}

#[test]
fn period_campaign_and_failures_filter_together() {
    let dir = Directory::liangshan();
    let ts = townships(&dir, "513401", 2);
    let mut other = run(3, at(4, 1), &[(&ts[1].0, DeliveryState::Played)]);
    other.campaign = "spring".into();
    let inputs = Inputs {
        runs: vec![
            run(1, at(2, 1), &[(&ts[0].0, DeliveryState::Expired)]),
            run(
                2,
                Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap(),
                &[(&ts[1].0, DeliveryState::Pending)],
            ),
            other,
        ],
        failures: vec![FailureRow {
            run: 1,
            occurrence: at(2, 1),
            campaign: "winter".into(),
            endpoint: "xichang".into(),
            lang: Lang::Ii,
            townships: vec![ts[0].0.clone()],
            state: "expired".into(),
            reason: Some("air-by passed".into()),
        }],
    };
    let q = Query {
        campaign: Some("winter".into()),
        ..query(By::Township)
    };
    let r = aggregate(&inputs, &dir, &q);
    assert_eq!(r.runs, 1);
    assert_eq!(r.totals.reach.townships_targeted, 1);
    assert_eq!(r.totals.reach.population_reached, 0);
    assert_eq!(r.totals.pct_targeted_reached, Some(0.0));
    assert_eq!(r.totals.failures.get("expired"), Some(&1));
    assert_eq!(r.rows[0].figures.failures.get("expired"), Some(&1));
    assert_eq!(
        r.failures[0].township_names[0],
        dir.township(&ts[0].0).unwrap().name
    );
    let csv = to_csv(&r);
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.lines().nth(2).unwrap().starts_with("township,"));
}

#[test]
fn periods_parse_and_refuse_nonsense() {
    let now = at(27, 12);
    assert_eq!(
        period(None, None, Some("7d"), now).unwrap(),
        (at(20, 12), now)
    );
    assert_eq!(period(None, None, None, now).unwrap().0, at(20, 12));
    let (f, t) = period(Some("2026-11-01"), Some("2026-11-02"), None, now).unwrap();
    assert_eq!(f, Utc.with_ymd_and_hms(2026, 10, 31, 16, 0, 0).unwrap());
    assert_eq!(t - f, chrono::Duration::days(1));
    assert!(period(None, None, Some("7x"), now).is_err());
    assert!(period(None, None, Some("7天"), now).is_err());
    assert!(period(None, None, Some(""), now).is_err());
    assert!(period(None, None, Some("-1d"), now).is_err());
    assert!(period(Some("2026-11-02"), Some("2026-11-01"), None, now).is_err());
    assert!(period(Some("2026-11-01"), None, Some("1d"), now).is_err());
}

#[test]
fn nothing_targeted_has_no_percentage() {
    let dir = Directory::liangshan();
    let r = aggregate(&Inputs::default(), &dir, &query(By::County));
    assert_eq!(r.totals.pct_targeted_reached, None);
    assert_eq!(r.totals.pct_area_reached, Some(0.0));
    assert!(r.rows.is_empty());
}

#[test]
fn a_cancelled_pair_is_a_line_of_its_own_and_still_counted() {
    let dir = Directory::liangshan();
    let ts = townships(&dir, "513431", 1);
    let failure = |lang, state: &str, reason: &str| FailureRow {
        run: 1,
        occurrence: at(2, 1),
        campaign: "winter".into(),
        endpoint: "zhaojue".into(),
        lang,
        townships: vec![ts[0].0.clone()],
        state: state.into(),
        reason: Some(reason.into()),
    };
    let inputs = Inputs {
        runs: vec![run(1, at(2, 1), &[(&ts[0].0, DeliveryState::Cancelled)])],
        failures: vec![
            failure(Lang::Ii, "cancelled", "Mandarin half expired"),
            failure(Lang::Zh, "expired", "air-by passed"),
        ],
    };
    let r = aggregate(&inputs, &dir, &query(By::County));
    assert_eq!(r.cancelled_pairs.len(), 1, "{:?}", r.cancelled_pairs);
    let c = &r.cancelled_pairs[0];
    assert_eq!((c.row.lang, c.row.state.as_str()), (Lang::Ii, "cancelled"));
    assert_eq!(c.row.reason.as_deref(), Some("Mandarin half expired"));
    assert_eq!(
        c.township_names,
        [dir.township(&ts[0].0).unwrap().name.clone()]
    );
    assert_eq!(r.failures.len(), 1, "the expired half stays a failure");
    assert_eq!(r.failures[0].row.state, "expired");
    assert_eq!(r.totals.failures.get("cancelled"), Some(&1));
    assert_eq!(r.totals.reach.population_reached, 0);
}
