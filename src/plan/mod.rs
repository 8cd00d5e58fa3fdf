//! The planner: a pure function from campaigns × directory × catalog × `[from, to)` to the
//! ordered list of broadcasts. Same input, same output, byte for byte.
//!
//! Per campaign: the slot occurrences in the window (merged over its slots, in its zone), the
//! campaign's valid dates, the programme of each occurrence (messages chosen by rotation, each
//! as its language pair in the campaign's order, repeats, gaps), then one broadcast per targeted
//! township unless the start falls in that township's quiet hours. When two campaigns want one
//! township in the same minute the higher priority wins (ties: the smaller campaign id); when one
//! would start while another still plays on that township's loudspeaker, the higher priority
//! airs and the other does not (ties: the one that starts first plays to its end).

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::catalog::Catalog;
use crate::directory::Directory;
use crate::lang::Lang;
use crate::schedule::Campaign;

mod build;
mod days;
mod lanes;
mod programme;
mod rotation;
mod settle;
mod view;

pub use lanes::{PairConflicts, conflicts_by_pair};
pub use programme::{assemble, message_items, only_missing_languages, valid_on};
pub use view::{BroadcastRecord, ItemRecord, SummaryRow, round_ms, summarize};

/// One clip in a broadcast's playlist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaylistItem {
    pub message: String,
    pub lang: Lang,
    /// Path relative to the project root.
    pub file: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub duration_s: f64,
    /// Silence after this clip, seconds.
    pub gap_after_s: f64,
}

/// One township's programme at one slot occurrence.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    pub campaign: String,
    pub priority: i32,
    pub township_code: String,
    pub township_name: String,
    pub county_code: String,
    /// The 12-digit codes of the villages it is for, when the campaign targets the township in
    /// part; empty when the whole township hears it.
    pub villages: Vec<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The campaign's zone, for showing times as staff think of them.
    pub timezone: Tz,
    pub items: Vec<PlaylistItem>,
    /// Why it airs that day, when the campaign says which days (`赶场 公历逢1、4、7`,
    /// `火把节前 3 天`); `None` for a campaign that runs every day its slots fire.
    pub reason: Option<String>,
}

impl Broadcast {
    /// Total length: every clip and every gap, seconds.
    pub fn duration_s(&self) -> f64 {
        self.items
            .iter()
            .map(|i| i.duration_s + i.gap_after_s)
            .sum()
    }

    /// The start as staff think of it, in the campaign's zone.
    pub fn local_start(&self) -> DateTime<Tz> {
        self.start.with_timezone(&self.timezone)
    }

    /// The end in the campaign's zone.
    pub fn local_end(&self) -> DateTime<Tz> {
        self.end.with_timezone(&self.timezone)
    }
}

/// Why something the campaigns ask for does not air.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// The slot starts inside the township's quiet hours.
    QuietHours,
    /// The occurrence falls outside the campaign's valid dates.
    OutsideValidDates,
    /// The message is not valid on that day; left out of the programme.
    MessageOutsideValidDates,
    /// The campaign names a message the catalog does not hold.
    UnknownMessage,
    /// The message has no airable clip in `lang` (missing or rejected by the gate), or the pair
    /// as a whole was rejected (`lang` is `None`).
    MessageNotAirable {
        lang: Option<Lang>,
        reasons: Vec<String>,
    },
    /// No message of the campaign can air at this occurrence.
    NothingToAir,
    /// A targeted township code the directory does not know.
    UnknownTownship,
    /// The day is one the campaign keeps free (`except`), e.g. `彝历新年第 1 天`.
    NamedDay { day: String },
    /// The campaign runs on market days only and the township has no market rule.
    NoMarketDays,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::QuietHours => f.write_str(&crate::t!("skip-quiet-hours")),
            SkipReason::OutsideValidDates => f.write_str(&crate::t!("skip-outside-valid-dates")),
            SkipReason::MessageOutsideValidDates => {
                f.write_str(&crate::t!("skip-message-outside-valid-dates"))
            }
            SkipReason::UnknownMessage => f.write_str(&crate::t!("skip-unknown-message")),
            SkipReason::MessageNotAirable { lang, reasons } => {
                match lang {
                    Some(l) => f.write_str(&crate::t!("skip-no-airable-clip", lang = l.code()))?,
                    None => f.write_str(&crate::t!("skip-pair-rejected"))?,
                }
                if !reasons.is_empty() {
                    write!(f, ": {}", reasons.join("; "))?;
                }
                Ok(())
            }
            SkipReason::NothingToAir => f.write_str(&crate::t!("skip-nothing-to-air")),
            SkipReason::UnknownTownship => f.write_str(&crate::t!("skip-unknown-township")),
            SkipReason::NamedDay { day } => {
                f.write_str(&crate::t!("skip-named-day", day = day.as_str()))
            }
            SkipReason::NoMarketDays => f.write_str(&crate::t!("skip-no-market-days")),
        }
    }
}

/// Something asked for that will not air, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub campaign: String,
    /// `None` when every targeted township is concerned.
    pub township_code: Option<String>,
    /// `None` when every occurrence in the window is concerned.
    pub start: Option<DateTime<Utc>>,
    pub message: Option<String>,
    pub reason: SkipReason,
}

/// Two broadcasts wanting one township's loudspeaker at once; the loser does not air.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// Same-minute starts, or one starting while the other still plays.
    pub kind: ConflictKind,
    pub township_code: String,
    /// The minute both start in (UTC, seconds zeroed).
    pub minute: DateTime<Utc>,
    pub winner: String,
    pub winner_priority: i32,
    pub loser: String,
    pub loser_priority: i32,
}

/// How two broadcasts collide on one loudspeaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConflictKind {
    /// Both start in the same minute: the higher priority airs (ties: the smaller campaign id).
    SameMinute,
    /// The loser starts at `loser_start`, while the winner (`winner_start`–`winner_end`) still
    /// plays, or the winner starts while the loser would still play. The higher priority airs;
    /// on equal priority the one that starts first plays to its end.
    Overlap {
        winner_start: DateTime<Utc>,
        winner_end: DateTime<Utc>,
        loser_start: DateTime<Utc>,
    },
}

/// Everything that airs in the window, and everything that does not with its reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Sorted by (start, township code, campaign).
    pub broadcasts: Vec<Broadcast>,
    /// In campaign order, then time.
    pub skipped: Vec<Skip>,
    /// Sorted by (minute, township code, loser).
    pub conflicts: Vec<Conflict>,
}

/// Plan every campaign over `[from, to)`: pure, deterministic, no disk, clock or network.
pub fn plan(
    campaigns: &[Campaign],
    directory: &Directory,
    catalog: &Catalog,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Plan {
    let mut order: Vec<&Campaign> = campaigns.iter().collect();
    order.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = Plan::default();
    for campaign in order {
        build::campaign(campaign, directory, catalog, from, to, &mut out);
    }
    build::resolve_conflicts(&mut out);
    out
}

/// The window to plan a single occurrence `at` in, so that it is settled as in a longer plan:
/// a programme still playing from before it, or one of higher priority starting while it would
/// play, is in the window. It starts at the top of the hour before `at` (a fixed point, so the
/// occurrences of one hour are settled alike) and ends an hour after `at`. A chain of
/// overlapping programmes running longer than that (a slot every minute with programmes over a
/// minute, which `check` warns about) may be settled differently at its start.
pub fn occurrence_window(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let hour = at.timestamp().div_euclid(3600) * 3600;
    let from = DateTime::from_timestamp(hour - 3600, 0).unwrap_or(at);
    (from, at + chrono::Duration::hours(1))
}

#[cfg(test)]
mod lanes_tests;
#[cfg(test)]
mod overlap_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod tests;
