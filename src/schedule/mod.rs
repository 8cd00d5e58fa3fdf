//! Campaign schedules (`schedules/*.toml`): what staff write — which messages, which areas,
//! when — parsed in two stages (plain serde structs, then validated types) with diagnostics
//! that point at `file:line:col`. The file format is specified in `schedules/README.md`.
//!
//! - [`raw`] — the file as written: serde structs, syntax errors, unknown keys, wrong types;
//! - [`validate`], `programme`, [`targets`] — the checks that turn it into a [`Campaign`];
//! - [`cron`] (with `cron_field`) — 5-field crontab lines over the `cron` crate, DST rules;
//! - `load` — [`parse_at`] / [`parse_str`] for one file, [`load_dir`] for `schedules/`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::calendar::{Calendar, DaySpec};
use crate::diag::{Diagnostic, Location};
use crate::lang::Lang;

pub mod cron;
mod cron_field;
pub(crate) mod ctx;
pub mod days;
mod load;
mod programme;
pub mod raw;
pub mod targets;
pub mod validate;

pub use load::{NOT_CAMPAIGNS, load_dir, load_dir_at, parse_at, parse_str};

/// How a campaign's messages are spread over its slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// Every message at every slot, one after another.
    All,
    /// One message per slot occurrence, taking turns.
    RoundRobin,
}

/// A daily window in which nothing may air; `start > end` wraps past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// Whether a local time of day falls inside the window (`[start, end)`).
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// One `[[slots]]` entry: a crontab line in the campaign's zone.
#[derive(Debug, Clone)]
pub struct Slot {
    /// The 5-field expression as the staff wrote it.
    pub expr: String,
    pub schedule: cron::CronSchedule,
    /// An optional name staff gave the slot (`morning`).
    pub label: Option<String>,
    /// Where the `cron` string is in the file (for diagnostics such as collisions).
    pub location: Location,
    /// Which days this slot runs on, on top of the campaign's `[days]`.
    pub days: Option<DaySpec>,
}

/// A validated campaign: cannot be invalid.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: String,
    /// Where the `id` value is in the file; `None` when the id is the file name.
    pub id_location: Option<Location>,
    pub name: String,
    /// The file it came from, relative to the project root.
    pub file: PathBuf,
    pub timezone: Tz,
    /// First and last day (inclusive, in the campaign's zone); `None` is open-ended.
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// Message ids, in the order staff listed them.
    pub messages: Vec<String>,
    /// Where each message id is in the file, parallel to `messages`.
    pub message_locations: Vec<Location>,
    pub rotation: Rotation,
    /// Language order within a pair; two entries unless `allow_single_language`.
    pub order: Vec<Lang>,
    pub allow_single_language: bool,
    /// Silence after each clip, seconds (not after the last).
    pub gap_s: f64,
    /// How many times the whole programme repeats within one slot.
    pub repeats: u32,
    pub slots: Vec<Slot>,
    /// Resolved 9-digit township codes targeted, sorted.
    pub townships: Vec<String>,
    /// Township code → the 12-digit codes of its targeted villages, for the townships targeted
    /// in part only; a township absent here is targeted whole.
    pub villages: BTreeMap<String, Vec<String>>,
    pub quiet_hours: Vec<QuietHours>,
    /// Per-township quiet hours replacing the campaign's.
    pub quiet_overrides: BTreeMap<String, Vec<QuietHours>>,
    /// Higher wins when two campaigns want the same township in the same minute.
    pub priority: i32,
    /// Which days the campaign runs on (`[days]`): market days, around or outside named days.
    pub days: Option<DaySpec>,
    /// The named days and market days it is planned against (the shipped festivals and no
    /// market days until [`load_dir`] attaches the project's).
    pub calendar: Arc<Calendar>,
}

impl Campaign {
    /// The quiet hours that apply to a township.
    pub fn quiet_hours_for(&self, township: &str) -> &[QuietHours] {
        self.quiet_overrides
            .get(township)
            .map_or(&self.quiet_hours[..], |v| &v[..])
    }
}

impl Campaign {
    /// The campaign's validity as instants: `[start of valid_from, end of valid_until)` in its
    /// zone; `None` on an open side.
    pub fn window(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let midnight =
            |d: NaiveDate| cron::place_in_zone(self.timezone, d.and_time(NaiveTime::MIN));
        let start = self.valid_from.map(midnight);
        let end = self.valid_until.and_then(|d| d.succ_opt()).map(midnight);
        (start, end)
    }

    /// Every slot firing in `[from, to)` within the validity window, as `(slot index, instant)`,
    /// ascending by instant; when two slots fire at the same instant only the first is kept.
    pub fn occurrences(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(usize, DateTime<Utc>)> {
        let (start, end) = self.window();
        let from = start.map_or(from, |s| s.max(from));
        let to = end.map_or(to, |e| e.min(to));
        let mut out: Vec<(usize, DateTime<Utc>)> = Vec::new();
        for (i, slot) in self.slots.iter().enumerate() {
            out.extend(
                slot.schedule
                    .occurrences(self.timezone, from, to)
                    .into_iter()
                    .map(|t| (i, t)),
            );
        }
        out.sort_by_key(|&(i, t)| (t, i));
        out.dedup_by_key(|&mut (_, t)| t);
        out
    }

    /// An error about the `index`-th message id, pointing at it in the campaign file (for the
    /// cross-file checks: unknown message, missing language, failed audio gate).
    pub fn message_error(&self, index: usize, message: impl Into<String>) -> Diagnostic {
        let mut d = Diagnostic::error(&self.file, message);
        d.location = self.message_locations.get(index).cloned();
        d
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::TimeZone;

    use super::*;
    use crate::directory::Directory;

    fn campaign(extra: &str) -> Campaign {
        let src = format!(
            "name = \"x\"\nmessages = [\"a\"]\n{extra}\n[targets]\nall = true\n[[slots]]\ncron = \"0 8 * * *\"\n[[slots]]\ncron = \"0 8,12 * * 1-5\"\n"
        );
        parse_str(Path::new("schedules/w.toml"), &src, &Directory::liangshan()).unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn window_covers_whole_local_days() {
        let c = campaign("valid_from = 2026-12-01\nvalid_until = 2026-12-02");
        assert_eq!(
            c.window(),
            (Some(utc(2026, 11, 30, 16)), Some(utc(2026, 12, 2, 16)))
        );
        assert_eq!(campaign("").window(), (None, None));
    }

    #[test]
    fn occurrences_stay_in_the_window_and_collapse_shared_instants() {
        let c = campaign("valid_from = 2026-12-01\nvalid_until = 2026-12-02");
        // 2026-12-01 and -02 are Tuesday and Wednesday: 08:00 from both slots, 12:00 from one.
        let got = c.occurrences(utc(2026, 11, 1, 0), utc(2027, 1, 1, 0));
        let want = [
            (0, utc(2026, 12, 1, 0)),
            (1, utc(2026, 12, 1, 4)),
            (0, utc(2026, 12, 2, 0)),
            (1, utc(2026, 12, 2, 4)),
        ];
        assert_eq!(got, want);
        assert_eq!(
            c.occurrences(utc(2026, 12, 1, 1), utc(2026, 12, 1, 5)),
            want[1..2]
        );
    }
}
