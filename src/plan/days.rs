//! The days a campaign runs on, as the planner sees them: the campaign's `[days]` and each
//! slot's `days` judged against the named days around the window and each township's market
//! rule, with the reason each broadcast is there.

use chrono::{DateTime, NaiveDate, Utc};

use crate::calendar::days::{DayVerdict, years_around};
use crate::calendar::{DayInfo, DaySpec, Occurrence};
use crate::directory::Township;
use crate::schedule::Campaign;

/// A campaign's day specs with the named days they may refer to, computed once per plan.
pub(super) struct Days<'c> {
    c: &'c Campaign,
    occurrences: Vec<Occurrence>,
}

impl<'c> Days<'c> {
    pub fn new(c: &'c Campaign, from: DateTime<Utc>, to: DateTime<Utc>) -> Days<'c> {
        let specs: Vec<&DaySpec> = specs(c).collect();
        let occurrences = if specs
            .iter()
            .any(|s| !s.within.is_empty() || !s.except.is_empty())
        {
            let reach = specs.iter().map(|s| s.reach_days()).max().unwrap_or(0);
            let (a, b) = (local_day(c, from), local_day(c, to));
            c.calendar.festivals.between(years_around(a, b, reach))
        } else {
            Vec::new()
        };
        Days { c, occurrences }
    }

    fn for_slot(&self, slot: usize) -> impl Iterator<Item = &'c DaySpec> {
        let c = self.c;
        c.days
            .iter()
            .chain(c.slots.get(slot).and_then(|s| s.days.as_ref()))
    }

    /// The campaign's and the slot's verdict on a day: quiet or outside if either says so,
    /// otherwise the reasons of both.
    pub fn judge(&self, slot: usize, day: NaiveDate) -> DayVerdict {
        let mut reasons = Vec::new();
        for spec in self.for_slot(slot) {
            match spec.judge(day, &self.occurrences) {
                DayVerdict::Runs(r) => reasons.extend(r),
                other => return other,
            }
        }
        reasons.dedup();
        DayVerdict::Runs(reasons)
    }

    /// Whether the slot runs only on market days.
    pub fn needs_market(&self, slot: usize) -> bool {
        self.for_slot(slot).any(|s| s.market)
    }

    /// A township's market reason on a day: `None` when it is not its market day or it has
    /// no market rule (`has_rule` tells which).
    pub fn market(&self, town: &Township, day: &DayInfo) -> (bool, Option<String>) {
        let market = self.c.calendar.markets.for_township(town);
        let reason = DaySpec {
            market: true,
            ..DaySpec::default()
        }
        .market_reason(market, day)
        .flatten();
        (market.is_some(), reason)
    }
}

/// Whether any of the campaign's days (its own or a slot's) is a market day rule: then which
/// townships hear it depends on their market rule.
pub(super) fn uses_market(c: &Campaign) -> bool {
    specs(c).any(|s| s.market)
}

fn specs(c: &Campaign) -> impl Iterator<Item = &DaySpec> {
    c.days
        .iter()
        .chain(c.slots.iter().filter_map(|s| s.days.as_ref()))
}

fn local_day(c: &Campaign, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&c.timezone).date_naive()
}

#[cfg(test)]
#[path = "days_tests.rs"]
mod tests;
