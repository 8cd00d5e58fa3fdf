//! Plain views of a plan for output: one record per broadcast (JSON/CSV), and the per-county,
//! per-day summary.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, SecondsFormat};
use chrono_tz::Tz;
use serde::Serialize;

use crate::directory::Directory;
use crate::lang::Lang;

use super::Broadcast;

/// A broadcast as shown to people and scripts; times in RFC 3339 with the campaign zone's
/// offset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BroadcastRecord {
    pub township_code: String,
    pub township_name: String,
    pub county_code: String,
    /// The 12-digit codes of the villages it is for; absent when the whole township hears it.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub villages: Vec<String>,
    pub start: String,
    pub end: String,
    pub timezone: String,
    pub campaign: String,
    pub priority: i32,
    pub duration_s: f64,
    /// Why it airs that day (market day, festival window), when the campaign says which days.
    pub reason: Option<String>,
    pub items: Vec<ItemRecord>,
}

/// One clip of a broadcast record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemRecord {
    /// 1-based position in the programme.
    pub order: usize,
    pub message: String,
    pub lang: Lang,
    pub file: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub duration_s: f64,
    pub gap_after_s: f64,
}

impl From<&Broadcast> for BroadcastRecord {
    fn from(b: &Broadcast) -> BroadcastRecord {
        BroadcastRecord {
            township_code: b.township_code.clone(),
            township_name: b.township_name.clone(),
            county_code: b.county_code.clone(),
            villages: b.villages.clone(),
            start: b
                .local_start()
                .to_rfc3339_opts(SecondsFormat::AutoSi, false),
            end: b.local_end().to_rfc3339_opts(SecondsFormat::AutoSi, false),
            timezone: b.timezone.name().to_string(),
            campaign: b.campaign.clone(),
            priority: b.priority,
            duration_s: round_ms(b.duration_s()),
            reason: b.reason.clone(),
            items: b
                .items
                .iter()
                .enumerate()
                .map(|(i, it)| ItemRecord {
                    order: i + 1,
                    message: it.message.clone(),
                    lang: it.lang,
                    file: it.file.clone(),
                    sha256: it.sha256.clone(),
                    size_bytes: it.size_bytes,
                    duration_s: round_ms(it.duration_s),
                    gap_after_s: round_ms(it.gap_after_s),
                })
                .collect(),
        }
    }
}

/// Seconds rounded to the millisecond, so output does not show float noise.
pub fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

/// Broadcasts of one county on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryRow {
    pub day: NaiveDate,
    pub county_code: String,
    pub county_name: String,
    pub broadcasts: usize,
    /// Distinct townships with at least one broadcast that day.
    pub townships: usize,
}

/// Count broadcasts per county per day (days in `tz`), sorted by day then county code.
pub fn summarize(broadcasts: &[Broadcast], directory: &Directory, tz: Tz) -> Vec<SummaryRow> {
    let mut groups: BTreeMap<(NaiveDate, &str), (usize, BTreeSet<&str>)> = BTreeMap::new();
    for b in broadcasts {
        let day = b.start.with_timezone(&tz).date_naive();
        let entry = groups.entry((day, &b.county_code)).or_default();
        entry.0 += 1;
        entry.1.insert(&b.township_code);
    }
    groups
        .into_iter()
        .map(|((day, county), (count, towns))| SummaryRow {
            day,
            county_code: county.to_string(),
            county_name: directory
                .counties()
                .iter()
                .find(|c| c.code == county)
                .map_or_else(String::new, |c| c.name.clone()),
            broadcasts: count,
            townships: towns.len(),
        })
        .collect()
}
