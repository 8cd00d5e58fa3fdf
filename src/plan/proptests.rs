//! Property tests of the planner: deterministic, order-independent, complete ordered pairs,
//! never in quiet hours, one broadcast per township per minute.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveTime, TimeZone};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use super::tests::{campaign, catalog, message};
use super::*;
use crate::catalog::Verdict;
use crate::schedule::{QuietHours, Rotation};

pub(super) const TOWNS: [&str; 6] = [
    "513431100",
    "513431101",
    "513431102",
    "513401003",
    "513401004",
    "513429100",
];
const MESSAGES: [&str; 4] = ["m-a", "m-b", "m-short", "m-bad"];

pub(super) fn the_catalog() -> Catalog {
    let mut short = message("m-short", 7.0, 9.5);
    short.valid_until = NaiveDate::from_ymd_opt(2026, 12, 4);
    let mut bad = message("m-bad", 5.0, 5.0);
    bad.clips.get_mut(&Lang::Zh).unwrap().verdict = Verdict::Rejected(vec!["clipped".into()]);
    catalog(vec![
        message("m-a", 12.25, 10.0),
        message("m-b", 30.0, 28.0),
        short,
        bad,
    ])
}

#[derive(Debug, Clone)]
pub(super) struct Spec {
    minute: u32,
    hours: Vec<u32>,
    towns: Vec<&'static str>,
    messages: Vec<&'static str>,
    priority: i32,
    round_robin: bool,
    zh_first: bool,
    repeats: u32,
    gap: u32,
    quiet: Option<(u32, u32)>,
    valid_from_day: Option<u32>,
}

pub(super) fn spec() -> impl Strategy<Value = Spec> {
    (
        select(vec![0u32, 15, 30]),
        proptest::collection::btree_set(0u32..24, 1..4),
        subsequence(TOWNS.to_vec(), 1..=TOWNS.len()),
        subsequence(MESSAGES.to_vec(), 1..=MESSAGES.len()),
        0i32..3,
        any::<bool>(),
        any::<bool>(),
        1u32..3,
        0u32..4,
        proptest::option::of((0u32..24, 0u32..24)),
        proptest::option::of(1u32..6),
    )
        .prop_map(|t| Spec {
            minute: t.0,
            hours: t.1.into_iter().collect(),
            towns: t.2,
            messages: t.3,
            priority: t.4,
            round_robin: t.5,
            zh_first: t.6,
            repeats: t.7,
            gap: t.8,
            quiet: t.9.filter(|(a, b)| a != b),
            valid_from_day: t.10,
        })
}

pub(super) fn build(i: usize, s: &Spec) -> Campaign {
    let hours: Vec<String> = s.hours.iter().map(u32::to_string).collect();
    let cron = format!("{} {} * * *", s.minute, hours.join(","));
    let mut c = campaign(&format!("c{i}"), &[&cron], &s.messages, &s.towns);
    c.priority = s.priority;
    c.rotation = if s.round_robin {
        Rotation::RoundRobin
    } else {
        Rotation::All
    };
    c.order = if s.zh_first {
        vec![Lang::Zh, Lang::Ii]
    } else {
        vec![Lang::Ii, Lang::Zh]
    };
    c.repeats = s.repeats;
    c.gap_s = f64::from(s.gap) * 0.5;
    let hm = |h: u32| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    c.quiet_hours = s
        .quiet
        .iter()
        .map(|&(a, b)| QuietHours {
            start: hm(a),
            end: hm(b),
        })
        .collect();
    c.valid_from = s
        .valid_from_day
        .and_then(|d| NaiveDate::from_ymd_opt(2026, 12, d));
    c
}

pub(super) fn window(start_day: u32, days: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    let tz = chrono_tz::Asia::Shanghai;
    let at = |d: u32| {
        tz.with_ymd_and_hms(2026, 12, d, 0, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    (at(start_day), at(start_day + days))
}

fn json(p: &Plan) -> String {
    let records: Vec<BroadcastRecord> = p.broadcasts.iter().map(BroadcastRecord::from).collect();
    serde_json::to_string(&records).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn deterministic_and_independent_of_campaign_order(
        specs in proptest::collection::vec(spec(), 1..5),
        start in 1u32..8,
        days in 1u32..4,
    ) {
        let campaigns: Vec<Campaign> = specs.iter().enumerate().map(|(i, s)| build(i, s)).collect();
        let (from, to) = window(start, days);
        let (dir, cat) = (Directory::liangshan(), the_catalog());
        let a = plan(&campaigns, &dir, &cat, from, to);
        let b = plan(&campaigns, &dir, &cat, from, to);
        let reversed: Vec<Campaign> = campaigns.iter().rev().cloned().collect();
        let c = plan(&reversed, &dir, &cat, from, to);
        prop_assert_eq!(json(&a), json(&b));
        prop_assert_eq!(&a, &c);
    }

    #[test]
    fn broadcasts_are_complete_ordered_pairs_outside_quiet_hours_one_per_minute(
        specs in proptest::collection::vec(spec(), 1..5),
        start in 1u32..8,
        days in 1u32..4,
    ) {
        let campaigns: Vec<Campaign> = specs.iter().enumerate().map(|(i, s)| build(i, s)).collect();
        let (from, to) = window(start, days);
        let p = plan(&campaigns, &Directory::liangshan(), &the_catalog(), from, to);
        let mut seen = BTreeSet::new();
        let mut last_key = None;
        for b in &p.broadcasts {
            let c = campaigns.iter().find(|c| c.id == b.campaign).unwrap();
            prop_assert!(b.start >= from && b.start < to);
            // Complete pairs, adjacent, in the campaign's order; never the rejected message.
            prop_assert_eq!(b.items.len() % c.order.len(), 0);
            for pair in b.items.chunks(c.order.len()) {
                let langs: Vec<Lang> = pair.iter().map(|i| i.lang).collect();
                prop_assert_eq!(&langs, &c.order);
                prop_assert!(pair.iter().all(|i| i.message == pair[0].message));
                prop_assert!(pair[0].message != "m-bad");
            }
            // Gaps after every item but the last; end = start + everything.
            let (last, rest) = b.items.split_last().unwrap();
            prop_assert_eq!(last.gap_after_s, 0.0);
            prop_assert!(rest.iter().all(|i| i.gap_after_s == c.gap_s));
            let total: f64 = b.items.iter().map(|i| i.duration_s + i.gap_after_s).sum();
            prop_assert_eq!((b.end - b.start).num_milliseconds(), (total * 1000.0).round() as i64);
            // Never inside the township's quiet hours; within valid dates.
            let local = b.local_start();
            prop_assert!(!c.quiet_hours_for(&b.township_code).iter().any(|q| q.contains(local.time())));
            prop_assert!(c.valid_from.is_none_or(|f| local.date_naive() >= f));
            // One broadcast per township per minute; sorted.
            prop_assert!(seen.insert((b.township_code.clone(), b.start.timestamp() / 60)));
            let key = (b.start, b.township_code.clone(), b.campaign.clone());
            prop_assert!(last_key.as_ref().is_none_or(|k| *k < key));
            last_key = Some(key);
        }
        // Every conflict's loser had no higher priority than its winner.
        for x in &p.conflicts {
            match x.kind {
                ConflictKind::SameMinute => prop_assert!(x.winner_priority > x.loser_priority
                    || (x.winner_priority == x.loser_priority && x.winner < x.loser)),
                ConflictKind::Overlap { winner_start, loser_start, .. } => prop_assert!(
                    x.winner_priority > x.loser_priority
                        || (x.winner_priority == x.loser_priority && winner_start <= loser_start)
                ),
            }
        }
        // Never two programmes at once on one township's loudspeaker.
        let mut by_town: std::collections::BTreeMap<&str, Vec<&Broadcast>> = Default::default();
        for b in &p.broadcasts {
            by_town.entry(&b.township_code).or_default().push(b);
        }
        for list in by_town.values() {
            for w in list.windows(2) {
                prop_assert!(w[0].end <= w[1].start, "{} overlaps {}", w[0].campaign, w[1].campaign);
            }
        }
    }
}
