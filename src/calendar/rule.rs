//! Day rules: which days of the year a market (赶场) is held — `daily`, `weekdays`, `digits`,
//! `parity`, `every`, `branch`, `dates` — each matched against one [`DayInfo`] and described in
//! the words staff use (逢1、4、7, 农历单日, 子午日).

use chrono::{Datelike, NaiveDate, Weekday};

use super::lunar::{self, BRANCHES, LunarDate};

/// Which calendar a rule counts days in; always said explicitly (公历 or 农历).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cal {
    /// 公历, the Western (Gregorian) calendar.
    Solar,
    /// 农历, the Chinese lunisolar calendar.
    Lunar,
}

impl Cal {
    pub fn name(self) -> &'static str {
        match self {
            Cal::Solar => "公历",
            Cal::Lunar => "农历",
        }
    }
}

/// What a `digits` rule holding 0 does in a month without a 30th (a 29-day lunar month,
/// February): no market, or the market on the month's last day instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortMonth {
    Skip,
    LastDay,
}

/// One day as every rule needs it: the Western date, the lunar date, the earthly branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayInfo {
    pub date: NaiveDate,
    pub lunar: LunarDate,
    /// 0 = 子 … 11 = 亥.
    pub branch: u8,
}

impl DayInfo {
    pub fn of(date: NaiveDate) -> DayInfo {
        DayInfo {
            date,
            lunar: LunarDate::from_solar(date),
            branch: lunar::branch(date),
        }
    }

    /// The day of the month and the month's length in a calendar.
    fn day_in(&self, cal: Cal) -> (u32, u32) {
        match cal {
            Cal::Solar => (self.date.day(), solar_month_len(self.date)),
            Cal::Lunar => (u32::from(self.lunar.day), u32::from(self.lunar.month_len)),
        }
    }
}

/// The number of days in a date's Western month.
pub fn solar_month_len(d: NaiveDate) -> u32 {
    let first = d.with_day(1).expect("day 1 exists");
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .expect("within chrono's range");
    (next - first).num_days() as u32
}

/// A validated day rule; cannot be invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayRule {
    /// Every day (百日集).
    Daily,
    /// These weekdays (星期天).
    Weekdays(Vec<Weekday>),
    /// Days whose last digit is listed (逢1、4、7: the 1st, 4th, 7th, 11th, 14th …).
    Digits {
        cal: Cal,
        /// 0–9, sorted, without repeats.
        digits: Vec<u8>,
        /// Whether the 31st counts as a "1" day (asked when the digits hold 1, Western only).
        on_31st: bool,
        /// What a 0 rule does in a month without a 30th.
        short_month: ShortMonth,
    },
    /// Odd (单日) or even (双日) days of the month.
    Parity { cal: Cal, odd: bool },
    /// Every `n` days, running on across month ends, counted from a known market day.
    Every { n: u32, anchor: NaiveDate },
    /// Days of these earthly branches (0 = 子): 子午 is every six days.
    Branch(Vec<u8>),
    /// These Western dates only.
    Dates(Vec<NaiveDate>),
}

impl DayRule {
    /// Whether the rule holds on a day.
    pub fn matches(&self, day: &DayInfo) -> bool {
        match self {
            DayRule::Daily => true,
            DayRule::Weekdays(w) => w.contains(&day.date.weekday()),
            DayRule::Digits {
                cal,
                digits,
                on_31st,
                short_month,
            } => {
                let (d, len) = day.day_in(*cal);
                let has = |x: u8| digits.contains(&x);
                if d == 31 {
                    return *on_31st && has(1);
                }
                if has(0) && d == len && len < 30 && *short_month == ShortMonth::LastDay {
                    return true;
                }
                has((d % 10) as u8)
            }
            DayRule::Parity { cal, odd } => {
                let (d, _) = day.day_in(*cal);
                (d % 2 == 1) == *odd
            }
            DayRule::Every { n, anchor } => {
                (day.date - *anchor).num_days().rem_euclid(i64::from(*n)) == 0
            }
            DayRule::Branch(b) => b.contains(&day.branch),
            DayRule::Dates(d) => d.binary_search(&day.date).is_ok(),
        }
    }

    /// The rule in staff's words: `公历逢1、4、7`, `农历逢三、六、九`, `农历单日`, `每周日`,
    /// `每3天（从2026-12-01起）`, `子、午日`.
    pub fn describe(&self) -> String {
        match self {
            DayRule::Daily => "每天".to_string(),
            DayRule::Weekdays(w) => {
                let names: Vec<&str> = w.iter().map(|d| weekday_name(*d)).collect();
                format!("每{}", names.join("、"))
            }
            DayRule::Digits {
                cal,
                digits,
                on_31st,
                ..
            } => {
                let shown: Vec<String> = digits
                    .iter()
                    .map(|&d| match cal {
                        Cal::Solar => if d == 0 { 10 } else { d }.to_string(),
                        Cal::Lunar => lunar_digit(d).to_string(),
                    })
                    .collect();
                let sep = if *cal == Cal::Solar { "、" } else { "" };
                let tail = if *cal == Cal::Solar && digits.contains(&1) && !on_31st {
                    "（31日除外）"
                } else {
                    ""
                };
                format!("{}逢{}{tail}", cal.name(), shown.join(sep))
            }
            DayRule::Parity { cal, odd } => {
                format!("{}{}", cal.name(), if *odd { "单日" } else { "双日" })
            }
            DayRule::Every { n, anchor } => format!("每{n}天一场（从{anchor}起）"),
            DayRule::Branch(b) => {
                let names: String = b.iter().map(|&i| BRANCHES[usize::from(i)]).collect();
                format!("{names}日")
            }
            DayRule::Dates(d) => match d.as_slice() {
                [one] => format!("{one}"),
                _ => format!("指定的{}天", d.len()),
            },
        }
    }
}

fn lunar_digit(d: u8) -> &'static str {
    ["十", "一", "二", "三", "四", "五", "六", "七", "八", "九"][usize::from(d % 10)]
}

/// 周一 … 周日.
pub fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "周一",
        Weekday::Tue => "周二",
        Weekday::Wed => "周三",
        Weekday::Thu => "周四",
        Weekday::Fri => "周五",
        Weekday::Sat => "周六",
        Weekday::Sun => "周日",
    }
}

/// A weekday as staff write it: `周日`, `星期天`, `日`, `sun`, `sunday`.
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    let t = s.trim();
    let t = t
        .strip_prefix("星期")
        .or_else(|| t.strip_prefix("礼拜"))
        .or_else(|| t.strip_prefix("周"))
        .unwrap_or(t);
    let lower = t.to_ascii_lowercase();
    Some(match lower.as_str() {
        "一" | "mon" | "monday" => Weekday::Mon,
        "二" | "tue" | "tuesday" => Weekday::Tue,
        "三" | "wed" | "wednesday" => Weekday::Wed,
        "四" | "thu" | "thursday" => Weekday::Thu,
        "五" | "fri" | "friday" => Weekday::Fri,
        "六" | "sat" | "saturday" => Weekday::Sat,
        "日" | "天" | "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// An earthly branch as written: `子`, `子日`, `鼠` (its animal).
pub fn parse_branch(s: &str) -> Option<u8> {
    const ANIMALS: [char; 12] = [
        '鼠', '牛', '虎', '兔', '龙', '蛇', '马', '羊', '猴', '鸡', '狗', '猪',
    ];
    let t = s.trim().trim_end_matches('日');
    let mut chars = t.chars();
    let (c, None) = (chars.next()?, chars.next()) else {
        return None;
    };
    BRANCHES
        .iter()
        .position(|&b| b == c)
        .or_else(|| ANIMALS.iter().position(|&a| a == c))
        .map(|i| i as u8)
}

#[cfg(test)]
#[path = "rule_tests.rs"]
mod tests;
