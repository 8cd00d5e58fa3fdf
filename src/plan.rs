//! The planner: a pure function from campaigns × directory × catalog × `[from, to)` to the
//! ordered list of broadcasts. Same input, same output, byte for byte.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::lang::Lang;

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
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The campaign's zone, for showing times as staff think of them.
    pub timezone: Tz,
    pub items: Vec<PlaylistItem>,
}
