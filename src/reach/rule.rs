//! The reach rule for one area: how far each airing was confirmed, the share of people the
//! platform's coverage report says it reached, the weakest airing of a run and the best run.

use std::cmp::Ordering;

use serde::Serialize;

use crate::ledger::{DeliveryState, ReportedCoverage};

/// How far an airing, or an area in a run, was confirmed: `delivered` (ResultCode 1 or a state
/// report) below `played` (BrdStateCode 3). Anything else is unconfirmed (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confirmed {
    Delivered,
    Played,
}

impl Confirmed {
    /// The confirmation a delivery state gives, if any.
    pub fn of(state: DeliveryState) -> Option<Confirmed> {
        match state {
            DeliveryState::Delivered => Some(Confirmed::Delivered),
            DeliveryState::Played => Some(Confirmed::Played),
            _ => None,
        }
    }
}

/// Whether a delivery is half of a pair withdrawn whole (`cancelled`: withheld before it was
/// sent, or cancelled at its platform, because its partner ended badly). It confirms nothing,
/// like any failure, and reports show its pair on a line of its own, with the reason.
pub fn withdrawn_half(state: DeliveryState) -> bool {
    state == DeliveryState::Cancelled
}

/// An area's outcome: of one airing, of one run (its weakest airing) or over several runs (its
/// best run).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct AreaOutcome {
    /// `None` when something was not confirmed; the area still counts as targeted.
    pub level: Option<Confirmed>,
    /// Share (0–1) of the area's people the platform reported reached; `None` when no coverage
    /// report covers it (the area then counts whole, marked "not confirmed by a report").
    pub coverage: Option<f64>,
}

impl AreaOutcome {
    /// One airing: its delivery's confirmation and, when confirmed, its reported coverage.
    pub fn airing(level: Option<Confirmed>, coverage: Option<f64>) -> AreaOutcome {
        AreaOutcome {
            level,
            coverage: level.and(coverage),
        }
    }

    /// The share of the area's people counted as reached: 0 when unconfirmed, the reported
    /// coverage, or 1 when confirmed without a report.
    pub fn share(&self) -> f64 {
        match self.level {
            None => 0.0,
            Some(_) => self.coverage.unwrap_or(1.0),
        }
    }

    /// Confirmed, but no coverage report says how many people it reached.
    pub fn unreported(&self) -> bool {
        self.level.is_some() && self.coverage.is_none()
    }

    /// Order by confirmation, then share reached, then a report over none.
    fn rank(&self, other: &AreaOutcome) -> Ordering {
        self.level
            .cmp(&other.level)
            .then(self.share().total_cmp(&other.share()))
            .then(other.unreported().cmp(&self.unreported()))
    }
}

/// An area in one run: its weakest airing. Confirmed only when every airing (both halves of
/// every pair, every repeat) was; its coverage is the lowest reported, and unreported when any
/// confirmed airing has no report. No airings at all is unconfirmed.
pub fn weakest(airings: impl IntoIterator<Item = AreaOutcome>) -> AreaOutcome {
    let mut airings = airings.into_iter().peekable();
    if airings.peek().is_none() {
        return AreaOutcome::default();
    }
    let mut level = Some(Confirmed::Played);
    let mut coverage = Some(1.0_f64);
    for a in airings {
        level = level.min(a.level);
        coverage = coverage.zip(a.coverage).map(|(x, y)| x.min(y));
    }
    AreaOutcome::airing(level, coverage)
}

/// The better of two outcomes of one area (two runs, or one airing sent through two
/// endpoints): the higher confirmation, then the larger share reached, then the one with a
/// report.
pub fn best(a: AreaOutcome, b: AreaOutcome) -> AreaOutcome {
    if b.rank(&a) == Ordering::Greater {
        b
    } else {
        a
    }
}

/// Whether a region code (`AreaCode`: 12 digits; shorter codes are read padded with zeros)
/// covers a target area: a 9-digit township is covered by itself or one of its villages, a
/// 12-digit village by itself or its township; both by the county, prefecture or province
/// they lie in.
pub fn covers(area: &str, target: &str) -> bool {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if area.is_empty()
        || area.len() > 12
        || !matches!(target.len(), 9 | 12)
        || !digits(area)
        || !digits(target)
    {
        return false;
    }
    let area = format!("{area:0<12}");
    if area == target || (target.len() == 9 && area[..9] == *target) {
        return true;
    }
    [9, 6, 4, 2]
        .iter()
        .any(|&n| area[n..].bytes().all(|b| b == b'0') && area[..n] == target[..n])
}

/// The share of an area's people a coverage report says the message reached: its
/// `CoverageRate` (when within 0–1), or else terminals played ÷ terminals installed over the
/// areas it covers (capped at 1). `None` when the report does not cover the area or gives
/// neither figure (or an installed count is unknown).
pub fn reported_share(
    report: &ReportedCoverage,
    township: &str,
    installed: impl Fn(&str) -> Option<u64>,
) -> Option<f64> {
    let covered =
        |t: &str| report.area_codes.is_empty() || report.area_codes.iter().any(|a| covers(a, t));
    if !covered(township) {
        return None;
    }
    // A rate outside 0–1 (or not a number) is no figure: never guessed at, never clamped.
    if let Some(rate) = report.rate.filter(|r| (0.0..=1.0).contains(r)) {
        return Some(rate);
    }
    let played = report.terminals?;
    let mut total = 0_u64;
    for t in report.townships.iter().filter(|t| covered(t)) {
        total = total.saturating_add(installed(t)?);
    }
    (total > 0).then(|| (played as f64 / total as f64).min(1.0))
}
