//! What a restart picks up again. The cron loop's catch-up starts after the latest slot the
//! ledger has (at most a week back).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::ledger::{Ledger, LedgerError};
use crate::scheduler::catch_up_from;

/// Where the cron loop's catch-up starts at `now`. Blocking.
pub fn catch_up_cursor(
    ledger: &dyn Ledger,
    now: DateTime<Utc>,
    air_by: Duration,
) -> Result<DateTime<Utc>, LedgerError> {
    let latest = ledger
        .runs(now - TimeDelta::days(7), now + TimeDelta::days(400), None)?
        .into_iter()
        .filter(|r| r.occurrence <= now)
        .map(|r| r.occurrence)
        .max();
    Ok(catch_up_from(latest, now, air_by))
}
