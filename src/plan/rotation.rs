//! Round-robin turns: how many occurrences a campaign has had between its rotation anchor
//! (local midnight of `valid_from`, or of [`ROTATION_EPOCH`]) and the start of a window.
//!
//! Counted a local day at a time: on a day whose UTC offset does not change (nor the hour
//! either side) every slot that fires that day fires at each of its times of day, so the day's
//! count is the size of the union of those slots' times — looked up per set of firing slots.
//! Days with an offset change, and the partial days at either end, are enumerated as the
//! planner enumerates them. Same numbers as enumerating every occurrence since the anchor, at
//! a cost that grows with days, not occurrences (a slot firing every minute is no dearer).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::build::occurrences;
use crate::schedule::cron::place_in_zone;
use crate::schedule::{Campaign, Rotation};

/// Where round-robin counting starts when a campaign has no `valid_from`: local midnight of
/// this day, so every machine agrees on whose turn it is.
pub const ROTATION_EPOCH: (i32, u32, u32) = (2024, 1, 1);

/// The round-robin index of the first occurrence at or after `from`: occurrences counted from
/// the campaign's anchor (negative when `from` is before it).
pub(super) fn rotation_index(c: &Campaign, from: DateTime<Utc>) -> i64 {
    if c.rotation != Rotation::RoundRobin {
        return 0;
    }
    let anchor = anchor(c);
    if anchor <= from {
        count(c, anchor, from) as i64
    } else {
        -(count(c, from, anchor) as i64)
    }
}

/// Local midnight of `valid_from` (or of the epoch), placed in the campaign's zone.
pub(super) fn anchor(c: &Campaign) -> DateTime<Utc> {
    let (y, m, d) = ROTATION_EPOCH;
    let day = c
        .valid_from
        .or_else(|| NaiveDate::from_ymd_opt(y, m, d))
        .expect("valid epoch");
    midnight(c.timezone, day)
}

fn midnight(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    place_in_zone(tz, day.and_time(NaiveTime::MIN))
}

/// Occurrences of `c` in `[a, b)`, `a <= b`: the partial first and last local days enumerated,
/// the whole days between counted by [`Days`].
fn count(c: &Campaign, a: DateTime<Utc>, b: DateTime<Utc>) -> u64 {
    let tz = c.timezone;
    let first = a.with_timezone(&tz).date_naive();
    let last = b.with_timezone(&tz).date_naive();
    let Some(second) = first.succ_opt().filter(|s| *s < last) else {
        return occurrences(c, a, b).len() as u64;
    };
    let head_end = midnight(tz, second);
    let tail_start = midnight(tz, last);
    let mut days = Days::new(c);
    let mut n = occurrences(c, a, head_end).len() as u64;
    let mut start = head_end;
    for day in second.iter_days().take_while(|d| *d < last) {
        let end = midnight(
            tz,
            day.succ_opt()
                .expect("a date before `last` has a successor"),
        );
        n += days.count(day, start, end);
        start = end;
    }
    n + occurrences(c, tail_start, b).len() as u64
}

/// Whole local days of one campaign, counted arithmetically where the offset holds still.
struct Days<'c> {
    c: &'c Campaign,
    /// Each slot's local times of day.
    times: Vec<BTreeSet<NaiveTime>>,
    /// Size of the union of times, per set of slots firing that day.
    by_firing: HashMap<Vec<bool>, u64>,
}

impl<'c> Days<'c> {
    fn new(c: &'c Campaign) -> Days<'c> {
        let times = c
            .slots
            .iter()
            .map(|s| s.schedule.times_of_day().into_iter().collect())
            .collect();
        Days {
            c,
            times,
            by_firing: HashMap::new(),
        }
    }

    /// Occurrences in local day `day`, which runs over `[start, end)`.
    fn count(&mut self, day: NaiveDate, start: DateTime<Utc>, end: DateTime<Utc>) -> u64 {
        if !steady(self.c.timezone, start, end) {
            return occurrences(self.c, start, end).len() as u64;
        }
        let firing: Vec<bool> = self
            .c
            .slots
            .iter()
            .map(|s| s.schedule.fires_on(day))
            .collect();
        let times = &self.times;
        *self.by_firing.entry(firing).or_insert_with_key(|firing| {
            let union: BTreeSet<&NaiveTime> = times
                .iter()
                .zip(firing)
                .filter(|(_, fires)| **fires)
                .flat_map(|(t, _)| t)
                .collect();
            union.len() as u64
        })
    }
}

/// Whether `[start, end)` is a plain 24-hour day whose UTC offset is the same throughout and
/// for the hour before it (sampled hourly; zones change offset at most once in such a span).
fn steady(tz: Tz, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    if end - start != Duration::hours(24) {
        return false;
    }
    let offset = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    let at_start = offset(start);
    (-1..24)
        .map(|h| start + Duration::hours(h))
        .chain([end - Duration::seconds(1)])
        .all(|t| offset(t) == at_start)
}

#[cfg(test)]
mod tests;
