//! Which days a campaign or slot runs on (`[days]` / a slot's `days`): only on each
//! township's market days, only within windows around named days, never on named days —
//! and the reason shown for each broadcast ("赶场 公历逢1、4、7", "火把节前 3 天").

use chrono::{Datelike, NaiveDate};

use super::festival::Occurrence;
use super::markets::Market;
use super::rule::DayInfo;
use crate::diag::Location;

/// A named day widened by days before its first day and after its last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub name: String,
    pub before: u32,
    pub after: u32,
    /// Where the name is written (for `check`).
    pub location: Option<Location>,
}

impl Window {
    /// Whether `day` falls in this window of `o`, and how to say where it falls.
    pub fn place(&self, o: &Occurrence, day: NaiveDate) -> Option<String> {
        if o.name != self.name {
            return None;
        }
        let start = o.first - chrono::Duration::days(i64::from(self.before));
        let end = o.last + chrono::Duration::days(i64::from(self.after));
        if day < start || day > end {
            return None;
        }
        Some(if day < o.first {
            format!("{}前 {} 天", o.name, (o.first - day).num_days())
        } else if day > o.last {
            format!("{}后 {} 天", o.name, (day - o.last).num_days())
        } else if o.first == o.last {
            format!("{}当天", o.name)
        } else {
            format!("{}第 {} 天", o.name, (day - o.first).num_days() + 1)
        })
    }
}

/// The `days` of a campaign or a slot; every part must hold for a day to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaySpec {
    /// Only on the township's market days.
    pub market: bool,
    /// Only inside one of these windows (when any is given).
    pub within: Vec<Window>,
    /// Never inside these windows (quiet periods).
    pub except: Vec<Window>,
    /// Where the `days` table is written (for `check`).
    pub location: Option<Location>,
}

/// What a [`DaySpec`] says about one day (before markets, which differ per township).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayVerdict {
    /// The day runs; the reasons so far (window placements).
    Runs(Vec<String>),
    /// A named day the spec keeps free (a quiet period): its placement.
    Quiet(String),
    /// Outside every `within` window: not a day of this campaign at all.
    Outside,
}

impl DaySpec {
    /// The named days the spec refers to, for checking them against the festivals.
    pub fn windows(&self) -> impl Iterator<Item = &Window> {
        self.within.iter().chain(&self.except)
    }

    /// The widest reach of a window, in days, so callers know how many years to look at.
    pub fn reach_days(&self) -> u32 {
        self.windows()
            .map(|w| w.before.max(w.after))
            .max()
            .unwrap_or(0)
    }

    /// The verdict for a day given the named days around it.
    pub fn judge(&self, day: NaiveDate, occurrences: &[Occurrence]) -> DayVerdict {
        for w in &self.except {
            if let Some(place) = occurrences.iter().find_map(|o| w.place(o, day)) {
                return DayVerdict::Quiet(place);
            }
        }
        if self.within.is_empty() {
            return DayVerdict::Runs(Vec::new());
        }
        let places: Vec<String> = self
            .within
            .iter()
            .filter_map(|w| occurrences.iter().find_map(|o| w.place(o, day)))
            .collect();
        if places.is_empty() {
            DayVerdict::Outside
        } else {
            DayVerdict::Runs(places)
        }
    }

    /// Whether a township with this market rule (if any) runs on a day; its reason.
    pub fn market_reason(&self, market: Option<&Market>, day: &DayInfo) -> Option<Option<String>> {
        if !self.market {
            return Some(None);
        }
        let m = market?;
        m.rule
            .matches(day)
            .then(|| Some(format!("赶场 {}", m.rule.describe())))
    }
}

/// The years whose named days can reach `[from, to]` through windows of `reach` days.
pub fn years_around(from: NaiveDate, to: NaiveDate, reach: u32) -> std::ops::RangeInclusive<i32> {
    let pad = chrono::Duration::days(i64::from(reach) + 400);
    (from - pad).year()..=(to + pad).year()
}
