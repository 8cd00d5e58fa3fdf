//! Programmes that would play at once on one loudspeaker: who airs, and the single-occurrence
//! window the push path plans in settling it as a whole day's plan does.

use chrono::TimeZone;

use super::tests::{T1, T2, campaign, catalog, message, run};
use super::*;

#[test]
fn a_programme_starting_while_another_plays_yields_unless_it_ranks_higher() {
    // 44 s + 2 s gap + 44 s: 07:30:00–07:31:30, and a 07:31 slot on the same township.
    let cat = catalog(vec![message("m", 44.0, 44.0), message("s", 29.0, 29.0)]);
    let a = campaign("a", &["30 7 * * *"], &["m"], &[T1]);
    let mut b = campaign("b", &["31 7 * * *"], &["m"], &[T1, T2]);
    let airs = |p: &Plan| -> Vec<(String, String)> {
        p.broadcasts
            .iter()
            .map(|x| (x.township_code.clone(), x.campaign.clone()))
            .collect()
    };
    let p = run(&[a.clone(), b.clone()], &cat, 1, 2);
    let want = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(t, c)| (t.to_string(), c.to_string()))
            .collect()
    };
    assert_eq!(airs(&p), want(&[(T1, "a"), (T2, "b")]));
    let [lost] = &p.conflicts[..] else {
        panic!("{:?}", p.conflicts)
    };
    assert_eq!((lost.winner.as_str(), lost.loser.as_str()), ("a", "b"));
    let ConflictKind::Overlap {
        winner_start,
        winner_end,
        loser_start,
    } = lost.kind
    else {
        panic!("{lost:?}")
    };
    assert_eq!((winner_end - winner_start).num_seconds(), 90);
    assert_eq!((loser_start - winner_start).num_seconds(), 60);
    // Higher priority airs although it starts later; a slot at the very end does not collide.
    b.priority = 5;
    let p = run(&[a, b], &cat, 1, 2);
    assert_eq!(airs(&p), want(&[(T1, "b"), (T2, "b")]));
    assert_eq!(p.conflicts[0].loser, "a");
    let c = campaign("c", &["30 7 * * *"], &["s"], &[T1]);
    let d = campaign("d", &["31 7 * * *"], &["s"], &[T1]);
    let p = run(&[c, d], &cat, 1, 2);
    assert!(p.conflicts.is_empty() && p.broadcasts.len() == 2, "{p:?}");
}

#[test]
fn one_occurrence_planned_in_its_window_is_settled_as_in_the_days_plan() {
    let cat = catalog(vec![message("m", 44.0, 44.0)]);
    let a = campaign("a", &["30 7 * * *"], &["m"], &[T1]);
    let b = campaign("b", &["31 7 * * *", "0 8 * * *"], &["m"], &[T1]);
    let campaigns = [a, b];
    let dir = Directory::liangshan();
    let whole = run(&campaigns, &cat, 1, 2);
    for (h, m) in [(7, 30), (7, 31), (8, 0)] {
        let at = chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 12, 1, h, m, 0)
            .unwrap()
            .with_timezone(&Utc);
        let (from, to) = occurrence_window(at);
        assert!(from <= at - chrono::Duration::hours(1) && to > at);
        let alone = plan(&campaigns, &dir, &cat, from, to);
        let airs = |p: &Plan| -> Vec<String> {
            p.broadcasts
                .iter()
                .filter(|x| x.start == at)
                .map(|x| x.campaign.clone())
                .collect()
        };
        assert_eq!(airs(&alone), airs(&whole), "{h}:{m}");
    }
    // 07:31 of `b` does not air in either; 08:00 does.
    let b_times: Vec<String> = whole
        .broadcasts
        .iter()
        .filter(|x| x.campaign == "b")
        .map(|x| x.local_start().format("%H:%M").to_string())
        .collect();
    assert_eq!(b_times, ["08:00"]);
}
