//! Crontab slots: 5-field expressions with crontab semantics, evaluated in an IANA zone.
//!
//! An adapter over the `cron` crate (0.17), which on its own wants 6–7 fields, numbers weekdays
//! from 1 = Sunday and mishandles daylight-saving changes. Here:
//!
//! - each of the five fields is parsed by `cron_field`, so every mistake
//!   points at the exact characters the staff wrote;
//! - the parsed sets are handed to `cron` in its 7-field syntax with months and weekdays spelled
//!   as English names (`mon,tue,…`), so its weekday numbering never comes into play;
//! - crontab's rule for day-of-month and day-of-week: when both fields are restricted (neither
//!   starts with `*`), a day matching **either** fires — two `cron` schedules, unioned; when one
//!   starts with `*` (`*/2` included, as in Vixie cron and cronie) both must match;
//! - `cron` runs in UTC purely as a carrier for naive local wall-clock times; each local time is
//!   then placed in the campaign's zone here: a local time that does not exist (the
//!   spring-forward gap) fires once, at the first instant after the gap; an ambiguous local time
//!   (the fall-back overlap) fires once, at the earlier instant. Results are ascending with no
//!   duplicates.

use std::ops::Range;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::cron_field::{
    Field, FieldSet, check_day_exists, parse_field, split_fields, to_cron_syntax,
};

/// A parsed 5-field crontab expression (`minute hour day-of-month month day-of-week`).
#[derive(Debug, Clone)]
pub struct CronSchedule {
    minutes: FieldSet,
    hours: FieldSet,
    days_of_month: FieldSet,
    months: FieldSet,
    days_of_week: FieldSet,
    /// One `cron` schedule, or two whose union is the crontab line (day-of-month OR weekday).
    carriers: Vec<cron::Schedule>,
}

/// Why an expression is not a valid crontab line; `range` is a byte range within it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CronError {
    pub message: String,
    pub range: Range<usize>,
}

/// Crontab's `@` shorthands (`@reboot` has no meaning for broadcasts).
const MACROS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// The longest stretch of local time a zone has ever skipped (Pacific/Apia lost a whole day).
const MAX_GAP_MINUTES: i64 = 26 * 60;

impl CronSchedule {
    /// Parse a 5-field crontab line as staff write it.
    pub fn parse(expr: &str) -> Result<CronSchedule, CronError> {
        let trimmed = expr.trim();
        if trimmed.starts_with('@') {
            let start = expr.len() - expr.trim_start().len();
            return match MACROS.iter().find(|(name, _)| *name == trimmed) {
                Some((_, line)) => CronSchedule::parse(line),
                None => Err(CronError {
                    message: format!(
                        "unknown shorthand `{trimmed}`, expected `@hourly`, `@daily`, `@weekly`, `@monthly` or `@yearly`"
                    ),
                    range: start..start + trimmed.len(),
                }),
            };
        }
        let fields = split_fields(expr)?;
        let mut sets = Vec::with_capacity(5);
        for (field, (at, text)) in Field::ALL.into_iter().zip(&fields) {
            sets.push(parse_field(field, text, *at)?);
        }
        let [minutes, hours, days_of_month, months, days_of_week]: [FieldSet; 5] =
            sets.try_into().expect("five fields");
        check_day_exists(&days_of_month, &days_of_week, &months, fields[2])?;
        let mut schedule = CronSchedule {
            minutes,
            hours,
            days_of_month,
            months,
            days_of_week,
            carriers: Vec::new(),
        };
        schedule.carriers = schedule
            .carrier_expressions()
            .iter()
            .map(|line| cron::Schedule::from_str(line).expect("translated line is valid for cron"))
            .collect();
        Ok(schedule)
    }

    /// The 7-field lines handed to `cron` (seconds first, year last); two when day-of-month and
    /// day-of-week are both restricted.
    pub fn carrier_expressions(&self) -> Vec<String> {
        let min = to_cron_syntax(Field::Minute, &self.minutes.values);
        let hour = to_cron_syntax(Field::Hour, &self.hours.values);
        let dom = to_cron_syntax(Field::DayOfMonth, &self.days_of_month.values);
        let month = to_cron_syntax(Field::Month, &self.months.values);
        let dow = to_cron_syntax(Field::DayOfWeek, &self.days_of_week.values);
        let line = |d: &str, w: &str| format!("0 {min} {hour} {d} {month} {w} *");
        if self.days_are_either() {
            vec![line(&dom, "*"), line("*", &dow)]
        } else {
            vec![line(&dom, &dow)]
        }
    }

    /// Crontab's OR rule applies: both day fields restricted (neither starts with `*`).
    fn days_are_either(&self) -> bool {
        !self.days_of_month.starred && !self.days_of_week.starred
    }

    /// Every local time of day this line can fire at (hours × minutes), ascending.
    pub fn times_of_day(&self) -> Vec<NaiveTime> {
        let mut out = Vec::new();
        for &h in &self.hours.values {
            for &m in &self.minutes.values {
                out.extend(NaiveTime::from_hms_opt(h, m, 0));
            }
        }
        out
    }

    /// Whether this line fires on local date `day` (its month, and day-of-month / day-of-week
    /// by crontab's rule); on such a day it fires at every one of [`Self::times_of_day`].
    pub fn fires_on(&self, day: chrono::NaiveDate) -> bool {
        use chrono::Datelike;
        let dom = self.days_of_month.values.contains(&day.day());
        let dow = (self.days_of_week.values).contains(&day.weekday().num_days_from_sunday());
        let days = if self.days_are_either() {
            dom || dow
        } else {
            dom && dow
        };
        days && self.months.values.contains(&day.month())
    }

    /// Every firing instant in `[from, to)`, ascending, evaluated in `tz`.
    pub fn occurrences(
        &self,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        if from >= to {
            return Vec::new();
        }
        // Wall-clock times that can land in [from, to): zone offsets span −12 h … +14 h, and a
        // gap can push a time later by up to a day.
        let margin = Duration::minutes(MAX_GAP_MINUTES + 60);
        let lo = from.naive_utc() - margin;
        let hi = to.naive_utc() + margin;
        let mut out = Vec::new();
        for carrier in &self.carriers {
            let start = Utc.from_utc_datetime(&(lo - Duration::seconds(1)));
            for local in carrier.after(&start) {
                let local = local.naive_utc();
                if local >= hi {
                    break;
                }
                let instant = place_in_zone(tz, local);
                if instant >= from && instant < to {
                    out.push(instant);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The instant a local wall-clock time denotes in `tz`: the earlier of two in an overlap; for a
/// time inside a spring-forward gap, the first instant after the gap (the first whole local
/// minute that exists again — every zone in use changes on a whole minute).
pub fn place_in_zone(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    (0..=MAX_GAP_MINUTES)
        .find_map(|step| {
            tz.from_local_datetime(&(local + Duration::minutes(step)))
                .earliest()
        })
        .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate, Timelike, Weekday};

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn local_times(expr: &str, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
        CronSchedule::parse(expr)
            .unwrap()
            .occurrences(tz, from, to)
            .iter()
            .map(|t| {
                t.with_timezone(&tz)
                    .format("%Y-%m-%d %a %H:%M %Z")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn one_to_five_is_monday_to_friday() {
        let sh = chrono_tz::Asia::Shanghai;
        // 2026-11-23 is a Monday; two full weeks.
        let got = CronSchedule::parse("0 8 * * 1-5").unwrap().occurrences(
            sh,
            utc(2026, 11, 22, 16, 0),
            utc(2026, 12, 6, 16, 0),
        );
        assert_eq!(got.len(), 10);
        for t in &got {
            let local = t.with_timezone(&sh);
            assert!(
                !matches!(local.weekday(), Weekday::Sat | Weekday::Sun),
                "{local}"
            );
            assert_eq!((local.hour(), local.minute()), (8, 0));
        }
    }

    #[test]
    fn cron_crate_alone_reads_one_to_five_as_sunday_to_thursday() {
        // The trap this adapter exists for: cron 0.17 numbers weekdays from 1 = Sunday.
        let raw = cron::Schedule::from_str("0 0 8 * * 1-5 *").unwrap();
        let sunday = utc(2026, 11, 29, 8, 0);
        assert!(raw.includes(sunday));
        let ours = CronSchedule::parse("0 8 * * 1-5").unwrap();
        assert_eq!(
            ours.carrier_expressions(),
            ["0 0 8 * * mon,tue,wed,thu,fri *"]
        );
        let day = |d| utc(2026, 11, d, 0, 0);
        assert!(
            ours.occurrences(chrono_tz::UTC, day(29), day(30))
                .is_empty()
        );
    }

    #[test]
    fn zero_and_seven_are_sunday() {
        let sh = chrono_tz::Asia::Shanghai;
        let (from, to) = (utc(2026, 11, 22, 16, 0), utc(2026, 12, 6, 16, 0));
        for expr in ["30 19 * * 0", "30 19 * * 7", "30 19 * * sun"] {
            let got = local_times(expr, sh, from, to);
            assert_eq!(
                got,
                vec!["2026-11-29 Sun 19:30 CST", "2026-12-06 Sun 19:30 CST"],
                "{expr}"
            );
        }
    }

    #[test]
    fn day_of_month_or_weekday_when_both_restricted() {
        let sh = chrono_tz::Asia::Shanghai;
        // The 1st and 15th, plus every Friday, in December 2026.
        let got = local_times(
            "0 9 1,15 * fri",
            sh,
            utc(2026, 11, 30, 16, 0),
            utc(2026, 12, 31, 16, 0),
        );
        let days: Vec<&str> = got.iter().map(|s| &s[..14]).collect();
        assert_eq!(
            days,
            [
                "2026-12-01 Tue",
                "2026-12-04 Fri",
                "2026-12-11 Fri",
                "2026-12-15 Tue",
                "2026-12-18 Fri",
                "2026-12-25 Fri"
            ]
        );
        let s = CronSchedule::parse("0 9 1,15 * fri").unwrap();
        assert_eq!(
            s.carrier_expressions(),
            ["0 0 9 1,15 * * *", "0 0 9 * * fri *"]
        );
        // A starred day-of-month keeps AND: only Fridays.
        assert_eq!(
            local_times(
                "0 9 * * fri",
                sh,
                utc(2026, 11, 30, 16, 0),
                utc(2026, 12, 31, 16, 0)
            )
            .len(),
            4
        );
    }

    #[test]
    fn spring_forward_gap_fires_once_after_the_gap() {
        let ny = chrono_tz::America::New_York;
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        let got = local_times(
            "30 2 * * *",
            ny,
            utc(2026, 3, 7, 0, 0),
            utc(2026, 3, 10, 0, 0),
        );
        assert_eq!(
            got,
            [
                "2026-03-07 Sat 02:30 EST",
                "2026-03-08 Sun 03:00 EDT",
                "2026-03-09 Mon 02:30 EDT"
            ]
        );
        // Every quarter hour from 02:00: the four missing times collapse onto 03:00, once.
        let got = local_times(
            "*/15 2-3 8 3 *",
            ny,
            utc(2026, 3, 8, 0, 0),
            utc(2026, 3, 9, 0, 0),
        );
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0], "2026-03-08 Sun 03:00 EDT");
    }

    #[test]
    fn fall_back_overlap_fires_once_at_the_earlier_instant() {
        let berlin = chrono_tz::Europe::Berlin;
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        let s = CronSchedule::parse("30 2 * * *").unwrap();
        let got = s.occurrences(berlin, utc(2026, 10, 24, 0, 0), utc(2026, 10, 27, 0, 0));
        assert_eq!(
            got,
            [
                utc(2026, 10, 24, 0, 30),
                utc(2026, 10, 25, 0, 30),
                utc(2026, 10, 26, 1, 30)
            ]
        );
        let ny = chrono_tz::America::New_York;
        let got = local_times(
            "30 1 * * *",
            ny,
            utc(2026, 10, 31, 12, 0),
            utc(2026, 11, 2, 12, 0),
        );
        assert_eq!(
            got,
            ["2026-11-01 Sun 01:30 EDT", "2026-11-02 Mon 01:30 EST"]
        );
    }

    #[test]
    fn results_ascending_without_duplicates_across_a_year() {
        let ny = chrono_tz::America::New_York;
        let got = CronSchedule::parse("*/20 0-3 * * *").unwrap().occurrences(
            ny,
            utc(2026, 1, 1, 0, 0),
            utc(2027, 1, 1, 0, 0),
        );
        assert!(got.windows(2).all(|w| w[0] < w[1]));
        // 365 days × 12 times, less the three that share 03:00 on spring-forward day.
        assert_eq!(got.len(), 365 * 12 - 3);
    }

    #[test]
    fn window_is_half_open_in_shanghai() {
        let sh = chrono_tz::Asia::Shanghai;
        let s = CronSchedule::parse("0 8,19 * * *").unwrap();
        // 08:00 CST = 00:00 UTC: included at `from`, excluded at `to`.
        let got = s.occurrences(sh, utc(2026, 12, 1, 0, 0), utc(2026, 12, 2, 0, 0));
        assert_eq!(got, [utc(2026, 12, 1, 0, 0), utc(2026, 12, 1, 11, 0)]);
        assert!(
            s.occurrences(sh, utc(2026, 12, 2, 0, 0), utc(2026, 12, 1, 0, 0))
                .is_empty()
        );
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(got[0].with_timezone(&sh).date_naive(), first);
    }

    #[test]
    fn field_count_and_impossible_days_are_errors() {
        let e = CronSchedule::parse("0 0 8 * * 1-5").unwrap_err();
        assert_eq!(e.range, 10..13);
        assert!(
            e.message.starts_with("too many fields starting at `1-5`"),
            "{}",
            e.message
        );
        let e = CronSchedule::parse("0 8 * *").unwrap_err();
        assert_eq!(
            (e.range, e.message.as_str()),
            (
                0..7,
                "expected 5 fields (minute hour day-of-month month day-of-week), found 4"
            )
        );
        let e = CronSchedule::parse("0 8 30,31 feb *").unwrap_err();
        assert_eq!(e.range, 4..9);
        assert!(CronSchedule::parse("0 8 31 feb fri").is_ok());
        let e = CronSchedule::parse("@reboot").unwrap_err();
        assert_eq!(e.range, 0..7);
        assert_eq!(
            CronSchedule::parse("@daily").unwrap().times_of_day().len(),
            1
        );
    }
}
