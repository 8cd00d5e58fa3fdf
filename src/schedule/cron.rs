//! Crontab slots: 5-field expressions with crontab semantics, evaluated in an IANA zone.

use std::ops::Range;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A parsed 5-field crontab expression (`minute hour day-of-month month day-of-week`).
#[derive(Debug, Clone)]
pub struct CronSchedule {}

/// Why an expression is not a valid crontab line; `range` is a byte range within it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CronError {
    pub message: String,
    pub range: Range<usize>,
}

impl CronSchedule {
    /// Parse a 5-field crontab line as staff write it.
    pub fn parse(expr: &str) -> Result<CronSchedule, CronError> {
        let _ = expr;
        todo!()
    }

    /// Every firing instant in `[from, to)`, ascending, evaluated in `tz`.
    pub fn occurrences(
        &self,
        tz: Tz,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        let _ = (tz, from, to);
        todo!()
    }
}
