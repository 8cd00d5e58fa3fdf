//! Named days (`schedules/festivals.toml`): festivals by rule — a lunar or Western month and
//! day, or a day counted from another named day — and holiday blocks announced for one year,
//! which replace the rule's dates for that year.

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use super::lunar;
use super::rule::ShortMonth;
use crate::diag::Location;

/// How a named day falls each year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// A day of a (non-leap) lunar month: 火把节 is 6/24, never the leap sixth month's 24th.
    Lunar {
        month: u8,
        day: u8,
        short_month: ShortMonth,
    },
    /// A Western month and day: 彝历新年 on 11-20.
    Solar { month: u32, day: u32 },
    /// `offset` days from the first day of another named day (its index among the rules).
    Relative { to: usize, offset: i32 },
}

/// One named day's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedDay {
    pub name: String,
    pub when: When,
    /// How many days it lasts (at least 1).
    pub length: u32,
    /// First and last Western years it is kept.
    pub since: Option<i32>,
    pub until: Option<i32>,
    /// Where the rule comes from (law, custom), as staff wrote it.
    pub source: Option<String>,
    pub location: Option<Location>,
}

/// A holiday block announced for one year: it replaces the rule's dates that year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub name: String,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// The notice that announced it.
    pub notice: Option<String>,
    pub location: Option<Location>,
}

impl Block {
    /// The block's dates as its named day's occurrence, resting on its notice.
    pub fn occurrence(&self) -> Occurrence {
        Occurrence {
            name: self.name.clone(),
            first: self.first,
            last: self.last,
            basis: "notice",
            source: self.notice.clone().unwrap_or_default(),
        }
    }
}

/// Named days by rule and by announcement; validated (names unique, references resolved).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Festivals {
    pub days: Vec<NamedDay>,
    pub blocks: Vec<Block>,
}

/// One named day's dates in one year, and what they rest on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    pub name: String,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// `rule` or `notice`.
    pub basis: &'static str,
    /// The rule in words (`农历六月廿四，3 天`) or the notice's text.
    pub source: String,
}

impl Festivals {
    /// The named day called `name`, if there is one.
    pub fn find(&self, name: &str) -> Option<&NamedDay> {
        self.days.iter().find(|d| d.name == name)
    }

    /// Every name known, rules first, then announced blocks without a rule.
    pub fn names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.days.iter().map(|d| d.name.as_str()).collect();
        for b in &self.blocks {
            if !out.contains(&b.name.as_str()) {
                out.push(&b.name);
            }
        }
        out
    }

    /// The named days whose first day falls in a Western year, sorted by first day then name.
    pub fn in_year(&self, year: i32) -> Vec<Occurrence> {
        let mut base: Vec<Option<Occurrence>> =
            self.days.iter().map(|d| self.fixed(d, year)).collect();
        for (i, d) in self.days.iter().enumerate() {
            if let (When::Relative { to, offset }, None) = (&d.when, &base[i]) {
                let (to, offset) = (*to, *offset);
                base[i] = base
                    .get(to)
                    .cloned()
                    .flatten()
                    .filter(|_| kept(d, year))
                    .map(|o| {
                        let first = o.first + Duration::days(i64::from(offset));
                        let rule = describe_relative(&self.days[to].name, offset, d.length);
                        occurrence(d, first, rule)
                    });
            }
        }
        let mut out: Vec<Occurrence> = base.into_iter().flatten().collect();
        for b in self.blocks.iter().filter(|b| b.first.year() == year) {
            if !out.iter().any(|o| o.name == b.name && o.basis == "notice") {
                out.push(b.occurrence());
            }
        }
        out.sort_by(|a, b| (a.first, &a.name).cmp(&(b.first, &b.name)));
        out
    }

    /// Every occurrence whose first day falls in `years`.
    pub fn between(&self, years: std::ops::RangeInclusive<i32>) -> Vec<Occurrence> {
        years.flat_map(|y| self.in_year(y)).collect()
    }

    /// A lunar or Western rule's dates in a year, or the year's announced block.
    fn fixed(&self, d: &NamedDay, year: i32) -> Option<Occurrence> {
        if let Some(b) = self
            .blocks
            .iter()
            .find(|b| b.name == d.name && b.first.year() == year)
        {
            return Some(b.occurrence());
        }
        if !kept(d, year) {
            return None;
        }
        let first = match d.when {
            When::Lunar {
                month,
                day,
                short_month,
            } => {
                // The lunar year that puts the day in this Western year: a twelfth-month day
                // may belong to the lunar year before.
                [year, year - 1].into_iter().find_map(|ly| {
                    lunar_day(ly, month, day, short_month).filter(|x| x.year() == year)
                })?
            }
            When::Solar { month, day } => NaiveDate::from_ymd_opt(year, month, day)?,
            When::Relative { .. } => return None,
        };
        Some(occurrence(d, first, describe(d)))
    }
}

fn kept(d: &NamedDay, year: i32) -> bool {
    d.since.is_none_or(|s| year >= s) && d.until.is_none_or(|u| year <= u)
}

fn occurrence(d: &NamedDay, first: NaiveDate, rule: String) -> Occurrence {
    Occurrence {
        name: d.name.clone(),
        first,
        last: first + Duration::days(i64::from(d.length.max(1)) - 1),
        basis: "rule",
        source: d
            .source
            .clone()
            .map_or(rule.clone(), |s| format!("{rule}（{s}）")),
    }
}

/// A lunar month's day in a lunar year; day 30 of a 29-day month per `short_month`.
pub fn lunar_day(year: i32, month: u8, day: u8, short: ShortMonth) -> Option<NaiveDate> {
    lunar::to_solar(year, month, false, day).or_else(|| match short {
        ShortMonth::LastDay if day == 30 => lunar::to_solar(year, month, false, 29),
        _ => None,
    })
}

/// The Western years in `years` whose lunar `month` has no 30th.
pub fn years_without_day_30(month: u8, years: std::ops::RangeInclusive<i32>) -> Vec<i32> {
    years
        .filter(|&y| lunar::month_len(y, month, false) == Some(29))
        .collect()
}

/// `农历六月廿四，3 天` / `公历11月20日，3 天`.
pub fn describe(d: &NamedDay) -> String {
    let when = match &d.when {
        When::Lunar { month, day, .. } => {
            format!(
                "农历{}{}",
                lunar::month_name(*month, false),
                lunar::day_name(*day)
            )
        }
        When::Solar { month, day } => format!("公历{month}月{day}日"),
        When::Relative { .. } => String::new(),
    };
    let since = d.since.map(|y| format!("，{y}年起")).unwrap_or_default();
    format!("{when}，{} 天{since}", d.length)
}

fn describe_relative(to: &str, offset: i32, length: u32) -> String {
    let rel = match offset {
        0 => format!("{to}当天"),
        o if o < 0 => format!("{to}前 {} 天", -o),
        o => format!("{to}后 {o} 天"),
    };
    format!("{rel}，{length} 天")
}

#[cfg(test)]
#[path = "festival_tests.rs"]
mod tests;
