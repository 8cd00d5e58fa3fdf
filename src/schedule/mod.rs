//! Campaign schedules (`schedules/*.toml`): what staff write — which messages, which areas,
//! when — parsed in two stages (plain serde structs, then validated types) with diagnostics
//! that point at `file:line:col`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;

use crate::lang::Lang;

pub mod cron;
mod cron_field;

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

/// One `[[slots]]` entry: a crontab line in the campaign's zone.
#[derive(Debug, Clone)]
pub struct Slot {
    /// The 5-field expression as the staff wrote it.
    pub expr: String,
    pub schedule: cron::CronSchedule,
}

/// A validated campaign: cannot be invalid.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    /// The file it came from, relative to the project root.
    pub file: PathBuf,
    pub timezone: Tz,
    /// First and last day (inclusive, in the campaign's zone); `None` is open-ended.
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    /// Message ids, in the order staff listed them.
    pub messages: Vec<String>,
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
    pub quiet_hours: Vec<QuietHours>,
    /// Per-township quiet hours replacing the campaign's.
    pub quiet_overrides: BTreeMap<String, Vec<QuietHours>>,
    /// Higher wins when two campaigns want the same township in the same minute.
    pub priority: i32,
}

impl Campaign {
    /// The quiet hours that apply to a township.
    pub fn quiet_hours_for(&self, township: &str) -> &[QuietHours] {
        self.quiet_overrides
            .get(township)
            .map_or(&self.quiet_hours[..], |v| &v[..])
    }
}

// Loading API (implemented in this module's files):
//   pub fn load_dir(root: &Path, directory: &Directory) -> (Vec<Campaign>, Vec<Diagnostic>)
//   pub fn parse_str(file: &Path, src: &str, directory: &Directory)
//       -> Result<Campaign, Vec<Diagnostic>>
