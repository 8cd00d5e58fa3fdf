//! The day-by-day rotation count against the enumeration it replaces (every occurrence since
//! the anchor, merged across slots), over zones with and without offset changes.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::sample::select;

use super::{anchor, rotation_index};
use crate::plan::build::occurrences;
use crate::plan::tests::{campaign, catalog, message};
use crate::schedule::{Campaign, Rotation};

/// The count as it was: enumerate every occurrence between the anchor and `from`.
fn enumerated(c: &Campaign, from: DateTime<Utc>) -> i64 {
    let anchor = anchor(c);
    if anchor <= from {
        occurrences(c, anchor, from).len() as i64
    } else {
        -(occurrences(c, from, anchor).len() as i64)
    }
}

fn round_robin(crons: &[&str], tz: Tz, valid_from: Option<NaiveDate>) -> Campaign {
    let mut c = campaign("rr", crons, &["m1", "m2", "m3"], &["513431100"]);
    c.rotation = Rotation::RoundRobin;
    c.timezone = tz;
    c.valid_from = valid_from;
    c
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    let local = NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, min, 0)
        .unwrap();
    crate::schedule::cron::place_in_zone(tz, local)
}

#[test]
fn day_counts_equal_the_enumeration() {
    use chrono_tz::{America, Asia, Australia, Europe};
    let cases: Vec<(Campaign, DateTime<Utc>)> = vec![
        // Every minute, a few months after valid_from, from mid-minute.
        (
            round_robin(&["* * * * *"], Asia::Shanghai, date(2026, 9, 1)),
            at(Asia::Shanghai, 2026, 12, 1, 10, 17) + chrono::Duration::seconds(30),
        ),
        // Several slots, overlapping times, crontab's day-of-month OR weekday rule; the epoch.
        (
            round_robin(
                &[
                    "*/15 8-18 * * 1-5",
                    "0 12 * * *",
                    "30 7 1,15 * 1",
                    "0 9 */2 * *",
                ],
                Asia::Shanghai,
                None,
            ),
            at(Asia::Shanghai, 2026, 11, 27, 12, 0),
        ),
        // Offset changes: gaps and overlaps at 01:00–03:00, across two years.
        (
            round_robin(
                &["*/30 0-3 * * *", "59 1 * * 0"],
                America::New_York,
                date(2025, 1, 1),
            ),
            at(America::New_York, 2026, 11, 20, 2, 10),
        ),
        (
            round_robin(&["*/20 * * * *"], Europe::London, date(2025, 3, 29)),
            at(Europe::London, 2026, 10, 25, 1, 30),
        ),
        // A midnight that does not exist (Chile) and a half-hour change (Lord Howe).
        (
            round_robin(
                &["0 0 * * *", "*/20 23,0 * * *"],
                America::Santiago,
                date(2026, 8, 1),
            ),
            at(America::Santiago, 2026, 9, 20, 0, 40),
        ),
        (
            round_robin(&["*/10 1-3 * * *"], Australia::Lord_Howe, date(2025, 9, 1)),
            at(Australia::Lord_Howe, 2026, 10, 4, 2, 20),
        ),
        // A window before the anchor counts backwards.
        (
            round_robin(&["*/5 6-20 * * *"], Asia::Shanghai, date(2027, 1, 10)),
            at(Asia::Shanghai, 2026, 12, 20, 12, 34),
        ),
        // Same day as the anchor, and the next day.
        (
            round_robin(&["*/7 * * * *"], Asia::Shanghai, date(2026, 12, 1)),
            at(Asia::Shanghai, 2026, 12, 1, 23, 59),
        ),
        (
            round_robin(&["*/7 * * * *"], Asia::Shanghai, date(2026, 12, 1)),
            at(Asia::Shanghai, 2026, 12, 2, 0, 1),
        ),
    ];
    for (c, from) in &cases {
        let expected = enumerated(c, *from);
        assert_ne!(expected, 0, "{:?} at {from}", c.slots[0].expr);
        assert_eq!(
            rotation_index(c, *from),
            expected,
            "{:?} at {from}",
            c.slots
        );
    }
}

#[test]
fn a_message_unavailable_on_some_days_does_not_move_the_turns() {
    // m2 airs only on 2026-12-02; on other days its turns fall forward to m3, but the count of
    // turns (and so who is next) is the same whether the window starts early or late.
    let mut m2 = message("m2", 5.0, 5.0);
    m2.valid_from = date(2026, 12, 2);
    m2.valid_until = date(2026, 12, 2);
    let cat = catalog(vec![message("m1", 5.0, 5.0), m2, message("m3", 5.0, 5.0)]);
    let c = round_robin(
        &["*/13 7-21 * * *"],
        chrono_tz::Asia::Shanghai,
        date(2026, 11, 1),
    );
    let dir = crate::directory::Directory::liangshan();
    let start = at(c.timezone, 2026, 12, 1, 0, 0);
    let mid = at(c.timezone, 2026, 12, 2, 15, 6);
    let end = at(c.timezone, 2026, 12, 4, 0, 0);
    let whole = super::super::plan(std::slice::from_ref(&c), &dir, &cat, start, end);
    let tail = super::super::plan(std::slice::from_ref(&c), &dir, &cat, mid, end);
    let later: Vec<_> = whole.broadcasts.iter().filter(|b| b.start >= mid).collect();
    assert_eq!(later, tail.broadcasts.iter().collect::<Vec<_>>());
    assert!(later.iter().any(|b| b.items[0].message == "m2"));
    assert_eq!(rotation_index(&c, mid), enumerated(&c, mid));
}

fn zones() -> impl Strategy<Value = Tz> {
    use chrono_tz::{America, Asia, Australia, Europe, Pacific};
    select(vec![
        Asia::Shanghai,
        America::New_York,
        Europe::London,
        America::Santiago,
        Australia::Lord_Howe,
        Pacific::Apia,
    ])
}

fn crons() -> impl Strategy<Value = Vec<&'static str>> {
    let one = select(vec![
        "*/11 * * * *",
        "0,30 0-3 * * *",
        "15 23 * * 6",
        "0 8 1-7 * 1",
        "*/25 6-9 * 2-11 *",
        "45 1 29 2 *",
    ]);
    proptest::collection::vec(one, 1..4).prop_filter("parses", |v| {
        v.iter()
            .all(|e| crate::schedule::cron::CronSchedule::parse(e).is_ok())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_count_equals_the_enumeration(
        tz in zones(),
        exprs in crons(),
        anchor_day in 0u32..120,
        from_minutes in 0i64..(150 * 24 * 60),
    ) {
        let valid_from = NaiveDate::from_ymd_opt(2025, 1, 1)
            .unwrap()
            .checked_add_days(chrono::Days::new(u64::from(anchor_day)));
        let c = round_robin(&exprs, tz, valid_from);
        let from = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
            + chrono::Duration::minutes(from_minutes);
        prop_assert_eq!(rotation_index(&c, from), enumerated(&c, from));
    }
}
