//! UTC instants read from tokio's clock: anchored once to the wall clock, then advanced by
//! tokio's monotonic time, so `tokio::time::pause()` in tests moves deadlines too.

use chrono::{DateTime, TimeDelta, Utc};
use tokio::time::Instant;

/// A std duration as a chrono one: how every loop adds a configured duration to an instant
/// (beyond chrono's range, the largest it holds).
pub fn delta(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
    origin_utc: DateTime<Utc>,
}

impl Clock {
    /// A clock reading the wall clock now.
    pub fn system() -> Clock {
        Clock::starting_at(Utc::now())
    }

    /// A clock that reads `utc` at this moment of tokio time (tests).
    pub fn starting_at(utc: DateTime<Utc>) -> Clock {
        Clock {
            origin: Instant::now(),
            origin_utc: utc,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let elapsed = delta(self.origin.elapsed());
        self.origin_utc + elapsed
    }

    /// The tokio instant at which this clock reads `utc` (now, if that is past).
    pub fn instant_at(&self, utc: DateTime<Utc>) -> Instant {
        let now = Instant::now();
        match (utc - self.now()).to_std() {
            Ok(ahead) => now + ahead,
            Err(_) => now,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_tokio_time() {
        let start = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap();
        let clock = Clock::starting_at(start);
        tokio::time::sleep(Duration::from_secs(90)).await;
        assert_eq!(clock.now(), start + TimeDelta::seconds(90));
        let at = clock.instant_at(start + TimeDelta::seconds(100));
        assert_eq!(at - Instant::now(), Duration::from_secs(10));
        assert_eq!(clock.instant_at(start), Instant::now());
    }
}
