//! Lunar (农历) dates over `icu_calendar`'s `ChineseTraditional` (documented against the
//! official tables for 1900–2100), and the earthly branch (地支) of a day.

use chrono::{Datelike, NaiveDate};
use icu_calendar::Date;
use icu_calendar::cal::ChineseTraditional;
use icu_calendar::types::Month;

/// A day of the lunar calendar: the lunar year is named by the Western year in which it
/// starts (农历 2026 年 starts on 2026-02-17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LunarDate {
    pub year: i32,
    /// 1–12; a leap month carries the number of the month it follows.
    pub month: u8,
    pub leap: bool,
    /// 1–30.
    pub day: u8,
    /// 29 or 30: the length of this lunar month.
    pub month_len: u8,
}

/// The twelve earthly branches, 子 = 0.
pub const BRANCHES: [char; 12] = [
    '子', '丑', '寅', '卯', '辰', '巳', '午', '未', '申', '酉', '戌', '亥',
];

/// The first and last Western years the lunar conversion is trusted for.
pub const YEARS: std::ops::RangeInclusive<i32> = 1901..=2099;

fn iso(d: NaiveDate) -> Option<Date<icu_calendar::Iso>> {
    Date::try_new_iso(d.year(), d.month() as u8, d.day() as u8).ok()
}

fn naive(d: Date<icu_calendar::Iso>) -> Option<NaiveDate> {
    let y = d.year().extended_year();
    NaiveDate::from_ymd_opt(
        y,
        u32::from(d.month().ordinal),
        u32::from(d.day_of_month().0),
    )
}

impl LunarDate {
    /// The lunar date of a Western date.
    pub fn from_solar(d: NaiveDate) -> LunarDate {
        let Some(date) = iso(d) else {
            unreachable!("every chrono date is an ISO date")
        };
        let lunar = date.to_calendar(ChineseTraditional::new());
        let month = lunar.month();
        LunarDate {
            year: lunar.year().extended_year(),
            month: month.number(),
            leap: month.to_input().is_leap(),
            day: lunar.day_of_month().0,
            month_len: lunar.days_in_month(),
        }
    }
}

/// The Western date of a lunar date, `None` when that month has no such day (day 30 of a
/// 29-day month) or the year has no such leap month.
pub fn to_solar(year: i32, month: u8, leap: bool, day: u8) -> Option<NaiveDate> {
    let m = if leap {
        Month::leap(month)
    } else {
        Month::new(month)
    };
    let date = Date::try_new(year.into(), m, day, ChineseTraditional::new()).ok()?;
    naive(date.to_calendar(icu_calendar::Iso))
}

/// How many days a lunar month has (29 or 30); `None` when the year has no such month.
pub fn month_len(year: i32, month: u8, leap: bool) -> Option<u8> {
    to_solar(year, month, leap, 1).map(|d| LunarDate::from_solar(d).month_len)
}

/// The sexagenary index of a day (0 = 甲子).
pub fn sexagenary(d: NaiveDate) -> u8 {
    (i64::from(d.num_days_from_ce()) + 1_721_474).rem_euclid(60) as u8
}

/// The earthly branch of a day (0 = 子).
pub fn branch(d: NaiveDate) -> u8 {
    sexagenary(d) % 12
}

/// A lunar day written the Chinese way: 初一 … 初十, 十一 … 二十, 廿一 … 三十.
pub fn day_name(day: u8) -> String {
    const DIGITS: [&str; 10] = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match day {
        1..=9 => format!("初{}", DIGITS[day as usize]),
        10 => "初十".to_string(),
        11..=19 => format!("十{}", DIGITS[(day - 10) as usize]),
        20 => "二十".to_string(),
        21..=29 => format!("廿{}", DIGITS[(day - 20) as usize]),
        30 => "三十".to_string(),
        _ => day.to_string(),
    }
}

/// A lunar month written the Chinese way: 正月, 二月 … 腊月, 闰六月.
pub fn month_name(month: u8, leap: bool) -> String {
    const NAMES: [&str; 12] = [
        "正", "二", "三", "四", "五", "六", "七", "八", "九", "十", "冬", "腊",
    ];
    let name = NAMES.get(usize::from(month.max(1)) - 1).unwrap_or(&"?");
    format!("{}{name}月", if leap { "闰" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn spring_festival_is_lunar_new_year() {
        for (y, want) in [
            (2018, d(2018, 2, 16)),
            (2019, d(2019, 2, 5)),
            (2020, d(2020, 1, 25)),
            (2025, d(2025, 1, 29)),
            (2026, d(2026, 2, 17)),
            (2027, d(2027, 2, 6)),
            (2028, d(2028, 1, 26)),
        ] {
            assert_eq!(to_solar(y, 1, false, 1), Some(want), "{y}");
            let back = LunarDate::from_solar(want);
            assert_eq!(
                (back.year, back.month, back.leap, back.day),
                (y, 1, false, 1)
            );
        }
        // The eve belongs to the previous lunar year.
        let eve = LunarDate::from_solar(d(2026, 2, 16));
        assert_eq!((eve.year, eve.month, eve.day), (2025, 12, eve.month_len));
    }

    /// The leap month of a lunar year, if it has one.
    fn leap_month(year: i32) -> Option<u8> {
        (1..=12).find(|&m| to_solar(year, m, true, 1).is_some())
    }

    #[test]
    fn leap_months_are_explicit() {
        assert_eq!(leap_month(2025), Some(6));
        assert_eq!(leap_month(2028), Some(5));
        assert_eq!(leap_month(2026), None);
        assert_eq!(leap_month(2023), Some(2));
        // 2025: the sixth month's 24th and the leap sixth month's 24th.
        assert_eq!(to_solar(2025, 6, false, 24), Some(d(2025, 7, 18)));
        assert_eq!(to_solar(2025, 6, true, 24), Some(d(2025, 8, 17)));
        let leap = LunarDate::from_solar(d(2025, 8, 17));
        assert_eq!((leap.month, leap.leap, leap.day), (6, true, 24));
        assert_eq!(to_solar(2026, 6, true, 24), None);
    }

    #[test]
    fn day_thirty_exists_only_in_long_months() {
        let lens: Vec<u8> = (1..=12)
            .map(|m| month_len(2026, m, false).unwrap())
            .collect();
        assert!(lens.iter().all(|&l| l == 29 || l == 30), "{lens:?}");
        for m in 1..=12 {
            let has_30 = to_solar(2026, m, false, 30).is_some();
            assert_eq!(has_30, lens[usize::from(m) - 1] == 30, "month {m}");
        }
        assert_eq!(to_solar(2026, 1, false, 31), None);
    }

    #[test]
    fn branches_run_in_twelves() {
        // 2026-01-01 is a 乙亥 day (sexagenary 11), 亥 = 11; 子 the next day.
        assert_eq!(sexagenary(d(2026, 1, 1)), 11);
        assert_eq!(BRANCHES[usize::from(branch(d(2026, 1, 1)))], '亥');
        assert_eq!(branch(d(2026, 1, 2)), 0);
        assert_eq!(branch(d(2026, 1, 8)), 6);
        assert_eq!(branch(d(2000, 1, 1)), 6, "2000-01-01 is 戊午");
    }

    #[test]
    fn chinese_day_and_month_names() {
        let names: Vec<String> = [1, 10, 11, 20, 24, 30].map(day_name).to_vec();
        assert_eq!(names, ["初一", "初十", "十一", "二十", "廿四", "三十"]);
        assert_eq!(month_name(6, true), "闰六月");
        assert_eq!(month_name(1, false), "正月");
    }
}
