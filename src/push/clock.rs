//! The play clock: what time it is for play windows — real time, or accelerated (the demo and
//! drills play a 2-minute programme in a fraction of a second). Read from tokio's clock, so
//! paused test time moves it too. The sender's state requests and the simulator's playback share
//! one when they run in one process.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct PlayClock {
    origin: Instant,
    origin_utc: DateTime<Utc>,
    /// Play-clock seconds per real second (1 = real time).
    speed: f64,
}

impl PlayClock {
    /// Real time.
    pub fn system() -> PlayClock {
        PlayClock::starting_at(Utc::now(), 1.0)
    }

    /// A clock reading `utc` now and running `speed` times faster than real time.
    pub fn starting_at(utc: DateTime<Utc>, speed: f64) -> PlayClock {
        PlayClock {
            origin: Instant::now(),
            origin_utc: utc,
            speed: if speed > 0.0 { speed } else { 1.0 },
        }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    pub fn now(&self) -> DateTime<Utc> {
        let real = self.origin.elapsed().as_secs_f64() * self.speed;
        self.origin_utc + TimeDelta::microseconds((real * 1e6) as i64)
    }

    /// Real time until the clock reads `utc` (zero if it is past).
    pub fn real_until(&self, utc: DateTime<Utc>) -> Duration {
        match (utc - self.now()).to_std() {
            Ok(ahead) => ahead.div_f64(self.speed),
            Err(_) => Duration::ZERO,
        }
    }

    /// Real time for `d` of play-clock time.
    pub fn real(&self, d: Duration) -> Duration {
        d.div_f64(self.speed)
    }

    /// Sleep until the clock reads `utc`.
    pub async fn sleep_until(&self, utc: DateTime<Utc>) {
        tokio::time::sleep(self.real_until(utc)).await;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn runs_faster_by_its_speed() {
        let start = Utc.with_ymd_and_hms(2026, 11, 27, 7, 30, 0).unwrap();
        let clock = PlayClock::starting_at(start, 60.0);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(clock.now(), start + TimeDelta::minutes(2));
        let later = start + TimeDelta::minutes(5);
        assert_eq!(clock.real_until(later), Duration::from_secs(3));
        clock.sleep_until(later).await;
        assert_eq!(clock.now(), later);
        assert_eq!(clock.real_until(start), Duration::ZERO);
    }
}
