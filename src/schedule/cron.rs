//! Crontab slots: 5-field expressions with crontab semantics, evaluated in an IANA zone.

/// A parsed 5-field crontab expression.
#[derive(Debug, Clone)]
pub struct CronSchedule {}
