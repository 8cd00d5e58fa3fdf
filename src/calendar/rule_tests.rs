//! Tests of the day rules across month ends, leap years, lunar leap months and the 31st.

use chrono::{Datelike, NaiveDate, Weekday};

use super::*;
use crate::calendar::lunar;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The days of `[from, to]` the rule holds on.
fn days(rule: &DayRule, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|x| *x <= to)
        .filter(|x| rule.matches(&DayInfo::of(*x)))
        .collect()
}

fn digits(cal: Cal, ds: &[u8], on_31st: bool, short: ShortMonth) -> DayRule {
    DayRule::Digits {
        cal,
        digits: ds.to_vec(),
        on_31st,
        short_month: short,
    }
}

#[test]
fn daily_and_weekdays() {
    let all = days(&DayRule::Daily, d(2028, 2, 27), d(2028, 3, 1));
    assert_eq!(
        all.len(),
        4,
        "2028 is a leap year: 27, 28, 29 February and 1 March"
    );
    let sundays = days(
        &DayRule::Weekdays(vec![Weekday::Sun]),
        d(2026, 12, 1),
        d(2027, 1, 10),
    );
    assert_eq!(
        sundays,
        [
            d(2026, 12, 6),
            d(2026, 12, 13),
            d(2026, 12, 20),
            d(2026, 12, 27),
            d(2027, 1, 3),
            d(2027, 1, 10)
        ]
    );
    assert_eq!(parse_weekday("星期天"), Some(Weekday::Sun));
    assert_eq!(parse_weekday("周一"), Some(Weekday::Mon));
    assert_eq!(parse_weekday("Sat"), Some(Weekday::Sat));
    assert_eq!(parse_weekday("周八"), None);
}

#[test]
fn solar_digits_and_the_31st() {
    let with = digits(Cal::Solar, &[1, 4, 7], true, ShortMonth::Skip);
    let without = digits(Cal::Solar, &[1, 4, 7], false, ShortMonth::Skip);
    let got: Vec<u32> = days(&with, d(2026, 12, 1), d(2026, 12, 31))
        .iter()
        .map(|x| x.day())
        .collect();
    assert_eq!(got, [1, 4, 7, 11, 14, 17, 21, 24, 27, 31]);
    // Without the 31st, 27 December to 1 January is a five-day gap across the year end.
    let across: Vec<NaiveDate> = days(&without, d(2026, 12, 25), d(2027, 1, 5));
    assert_eq!(across, [d(2026, 12, 27), d(2027, 1, 1), d(2027, 1, 4)]);
    assert!(
        with.describe() == "公历逢1、4、7" && without.describe() == "公历逢1、4、7（31日除外）"
    );
}

#[test]
fn digit_zero_in_february_and_leap_years() {
    let skip = digits(Cal::Solar, &[5, 0], false, ShortMonth::Skip);
    let last = digits(Cal::Solar, &[5, 0], false, ShortMonth::LastDay);
    let feb = |r: &DayRule, y: i32| -> Vec<u32> {
        days(r, d(y, 2, 1), d(y, 3, 1))
            .iter()
            .map(|x| x.day())
            .collect()
    };
    assert_eq!(feb(&skip, 2027), [5, 10, 15, 20, 25]);
    assert_eq!(feb(&last, 2027), [5, 10, 15, 20, 25, 28]);
    assert_eq!(
        feb(&last, 2028),
        [5, 10, 15, 20, 25, 29],
        "leap year: the 29th"
    );
    // A 30-day month keeps its 30th either way and nothing else is added.
    assert_eq!(days(&last, d(2026, 4, 26), d(2026, 5, 1)), [d(2026, 4, 30)]);
}

#[test]
fn lunar_digits_follow_the_lunar_month() {
    let rule = digits(Cal::Lunar, &[3, 6, 9], false, ShortMonth::Skip);
    // 2026-02-16 is 腊月廿九 (a 29-day month), 02-17 正月初一: 初三 02-19, 初六 02-22, 初九 02-25.
    assert_eq!(
        days(&rule, d(2026, 2, 16), d(2026, 2, 26)),
        [
            d(2026, 2, 16),
            d(2026, 2, 19),
            d(2026, 2, 22),
            d(2026, 2, 25)
        ]
    );
    assert_eq!(rule.describe(), "农历逢三六九");
    // 逢十 in a 29-day lunar month: on its 29th with LastDay, nothing with Skip.
    let short = (1..=12u8)
        .find(|&m| lunar::month_len(2026, m, false) == Some(29))
        .unwrap();
    let first = lunar::to_solar(2026, short, false, 1).unwrap();
    let next = first + chrono::Duration::days(29);
    let skip = digits(Cal::Lunar, &[0], false, ShortMonth::Skip);
    let last = digits(Cal::Lunar, &[0], false, ShortMonth::LastDay);
    assert_eq!(
        days(&skip, first, next - chrono::Duration::days(1)).len(),
        2
    );
    let got = days(&last, first, next - chrono::Duration::days(1));
    assert_eq!(got.last(), Some(&(first + chrono::Duration::days(28))));
}

#[test]
fn lunar_leap_month_days_count_like_any_month() {
    // 2025's leap sixth month starts 2025-07-25; its 初三 is 07-27.
    let start = lunar::to_solar(2025, 6, true, 1).unwrap();
    assert_eq!(start, d(2025, 7, 25));
    let rule = digits(Cal::Lunar, &[3], false, ShortMonth::Skip);
    assert_eq!(
        days(&rule, start, start + chrono::Duration::days(5)),
        [d(2025, 7, 27)]
    );
    let odd = DayRule::Parity {
        cal: Cal::Lunar,
        odd: true,
    };
    // The sixth month has 30 days: its last day is even, the leap month's 初一 odd.
    let before = start - chrono::Duration::days(1);
    let last = LunarDate::from_solar(before);
    assert_eq!((last.month, last.leap, last.day), (6, false, 30));
    assert_eq!(
        days(&odd, before, start + chrono::Duration::days(1)),
        [start]
    );
}

#[test]
fn parity_across_month_ends() {
    let odd = DayRule::Parity {
        cal: Cal::Solar,
        odd: true,
    };
    let even = DayRule::Parity {
        cal: Cal::Solar,
        odd: false,
    };
    // 31 and 1 are both odd: two market days in a row; 28 Feb (2027) then 2 March for even.
    assert_eq!(
        days(&odd, d(2026, 12, 30), d(2027, 1, 2)),
        [d(2026, 12, 31), d(2027, 1, 1)]
    );
    assert_eq!(
        days(&even, d(2027, 2, 27), d(2027, 3, 3)),
        [d(2027, 2, 28), d(2027, 3, 2)]
    );
    assert_eq!(
        days(&odd, d(2028, 2, 28), d(2028, 3, 1)),
        [d(2028, 2, 29), d(2028, 3, 1)]
    );
    assert_eq!(odd.describe(), "公历单日");
}

#[test]
fn every_n_days_runs_on_across_month_and_year_ends() {
    let rule = DayRule::Every {
        n: 3,
        anchor: d(2026, 12, 1),
    };
    assert_eq!(
        days(&rule, d(2026, 12, 26), d(2027, 1, 6)),
        [
            d(2026, 12, 28),
            d(2026, 12, 31),
            d(2027, 1, 3),
            d(2027, 1, 6)
        ]
    );
    // Before the anchor as well, and through 29 February.
    assert!(rule.matches(&DayInfo::of(d(2026, 11, 28))));
    let five = DayRule::Every {
        n: 5,
        anchor: d(2028, 2, 25),
    };
    assert_eq!(
        days(&five, d(2028, 2, 26), d(2028, 3, 6)),
        [d(2028, 3, 1), d(2028, 3, 6)]
    );
}

#[test]
fn branch_days_are_six_apart() {
    let zi_wu = DayRule::Branch(vec![0, 6]);
    let got = days(&zi_wu, d(2026, 12, 1), d(2027, 1, 15));
    assert!(
        got.windows(2).all(|w| (w[1] - w[0]).num_days() == 6),
        "{got:?}"
    );
    assert_eq!(got.len(), 8);
    assert!(got.iter().all(|x| [0, 6].contains(&lunar::branch(*x))));
    assert_eq!(zi_wu.describe(), "子午日");
    assert_eq!(
        (parse_branch("午日"), parse_branch("鼠"), parse_branch("甲")),
        (Some(6), Some(0), None)
    );
}

#[test]
fn explicit_dates() {
    let rule = DayRule::Dates(vec![d(2026, 12, 31), d(2027, 1, 1)]);
    assert_eq!(
        days(&rule, d(2026, 12, 1), d(2027, 12, 31)),
        [d(2026, 12, 31), d(2027, 1, 1)]
    );
    assert_eq!(solar_month_len(d(2028, 2, 3)), 29);
    assert_eq!(solar_month_len(d(2026, 12, 3)), 31);
}
