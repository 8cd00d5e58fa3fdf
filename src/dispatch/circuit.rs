//! The per-endpoint circuit breaker: opens after N consecutive failed attempts, lets one probe
//! through after a cool-down (half-open), closes on the probe's success and reopens on its
//! failure. Pure: callers pass the time in.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::ledger::{CircuitState, EndpointHealth};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failed attempts that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit refuses attempts before letting a probe through.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            cool_down: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    /// A probe is in flight; others wait.
    HalfOpen {
        probe_started: Instant,
    },
}

/// The answer to "may I send now?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permit {
    Go,
    /// Not before `until`; `reason` says why the circuit is open.
    Wait {
        until: Instant,
        reason: String,
    },
}

/// A change worth recording in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub circuit: CircuitState,
    pub consecutive_failures: u32,
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    state: State,
    failures: u32,
    reason: Option<String>,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Breaker {
        Breaker {
            config,
            state: State::Closed,
            failures: 0,
            reason: None,
        }
    }

    /// The breaker as the ledger last recorded it: an open circuit stays open for what is left
    /// of its cool-down (counted from `health.updated_at`), then lets a probe through.
    pub fn restore(
        config: BreakerConfig,
        health: &EndpointHealth,
        now_utc: DateTime<Utc>,
        now: Instant,
    ) -> Breaker {
        let state = match health.circuit {
            CircuitState::Closed => State::Closed,
            CircuitState::Open | CircuitState::HalfOpen => {
                let reopen = health.updated_at + super::delta(config.cool_down);
                let left = (reopen - now_utc).to_std().unwrap_or(Duration::ZERO);
                State::Open { until: now + left }
            }
        };
        Breaker {
            config,
            state,
            failures: health.consecutive_failures,
            reason: health.reason.clone(),
        }
    }

    pub fn circuit(&self) -> CircuitState {
        match self.state {
            State::Closed => CircuitState::Closed,
            State::Open { .. } => CircuitState::Open,
            State::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.failures
    }

    /// May an attempt start at `now`? An open circuit past its cool-down lets exactly one
    /// probe through; the others wait another cool-down.
    pub fn permit(&mut self, now: Instant) -> (Permit, Option<Change>) {
        let reason = || self.reason.clone().unwrap_or_default();
        match self.state {
            State::Closed => (Permit::Go, None),
            State::Open { until } if now >= until => {
                self.state = State::HalfOpen { probe_started: now };
                (Permit::Go, Some(self.change()))
            }
            State::Open { until } => (
                Permit::Wait {
                    until,
                    reason: reason(),
                },
                None,
            ),
            State::HalfOpen { probe_started } => {
                let until = probe_started.max(now) + self.config.cool_down;
                (
                    Permit::Wait {
                        until,
                        reason: reason(),
                    },
                    None,
                )
            }
        }
    }

    /// The endpoint answered (delivered, accepted or even rejected: it is alive).
    pub fn success(&mut self) -> Option<Change> {
        let was = (self.circuit(), self.failures);
        self.state = State::Closed;
        self.failures = 0;
        self.reason = None;
        (was != (CircuitState::Closed, 0)).then(|| self.change())
    }

    /// An attempt failed with `detail`; returns the change when the circuit opens.
    pub fn failure(&mut self, now: Instant, detail: &str) -> Option<Change> {
        self.failures = self.failures.saturating_add(1);
        let probe_failed = matches!(self.state, State::HalfOpen { .. });
        if probe_failed || self.failures >= self.config.failure_threshold {
            self.reason = Some(format!(
                "{} consecutive failed attempts, last: {detail}",
                self.failures
            ));
            self.state = State::Open {
                until: now + self.config.cool_down,
            };
            return Some(self.change());
        }
        None
    }

    fn change(&self) -> Change {
        Change {
            circuit: self.circuit(),
            consecutive_failures: self.failures,
            reason: self.reason.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    const CFG: BreakerConfig = BreakerConfig {
        failure_threshold: 3,
        cool_down: Duration::from_secs(10),
    };

    #[test]
    fn opens_after_the_threshold_with_a_reason() {
        let t0 = Instant::now();
        let mut b = Breaker::new(CFG);
        assert_eq!(b.failure(t0, "timeout"), None);
        assert_eq!(b.failure(t0, "timeout"), None);
        let change = b.failure(t0, "connect refused").unwrap();
        assert_eq!(change.circuit, CircuitState::Open);
        assert_eq!(
            change.reason.as_deref(),
            Some("3 consecutive failed attempts, last: connect refused")
        );
        match b.permit(t0 + Duration::from_secs(1)).0 {
            Permit::Wait { until, reason } => {
                assert_eq!(until, t0 + CFG.cool_down);
                assert!(reason.contains("connect refused"));
            }
            Permit::Go => panic!("an open circuit let an attempt through"),
        }
    }

    #[test]
    fn half_open_lets_one_probe_and_closes_on_success() {
        let t0 = Instant::now();
        let mut b = Breaker::new(CFG);
        for _ in 0..3 {
            b.failure(t0, "x");
        }
        let later = t0 + CFG.cool_down;
        let (permit, change) = b.permit(later);
        assert_eq!(permit, Permit::Go);
        assert_eq!(change.unwrap().circuit, CircuitState::HalfOpen);
        assert!(matches!(b.permit(later).0, Permit::Wait { .. }));
        assert_eq!(b.success().unwrap().circuit, CircuitState::Closed);
        assert_eq!(b.permit(later).0, Permit::Go);
        assert_eq!(b.success(), None, "no change to record twice");
    }

    #[test]
    fn a_failed_probe_reopens() {
        let t0 = Instant::now();
        let mut b = Breaker::new(CFG);
        for _ in 0..3 {
            b.failure(t0, "x");
        }
        let later = t0 + CFG.cool_down;
        b.permit(later);
        let change = b.failure(later, "still down").unwrap();
        assert_eq!(change.circuit, CircuitState::Open);
        assert_eq!(change.consecutive_failures, 4);
        assert!(
            matches!(b.permit(later).0, Permit::Wait { until, .. } if until == later + CFG.cool_down)
        );
    }

    #[test]
    fn a_recorded_open_circuit_stays_open_for_the_rest_of_its_cool_down() {
        let now = Instant::now();
        let now_utc = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let health = EndpointHealth {
            endpoint: "ep".into(),
            last_seen: None,
            consecutive_failures: 3,
            circuit: CircuitState::Open,
            reason: Some("3 consecutive failed attempts, last: timeout".into()),
            updated_at: now_utc - TimeDelta::seconds(4),
        };
        let mut b = Breaker::restore(CFG, &health, now_utc, now);
        match b.permit(now).0 {
            Permit::Wait { until, reason } => {
                assert_eq!(until, now + Duration::from_secs(6));
                assert!(reason.ends_with("last: timeout"));
            }
            Permit::Go => panic!("a restored open circuit let an attempt through"),
        }
        assert_eq!(b.permit(now + Duration::from_secs(6)).0, Permit::Go);
        let closed = EndpointHealth {
            circuit: CircuitState::Closed,
            ..health
        };
        assert_eq!(
            Breaker::restore(CFG, &closed, now_utc, now).permit(now).0,
            Permit::Go
        );
    }

    #[test]
    fn a_success_resets_the_count() {
        let t0 = Instant::now();
        let mut b = Breaker::new(CFG);
        b.failure(t0, "x");
        b.failure(t0, "x");
        b.success();
        assert_eq!(b.failure(t0, "x"), None);
        assert_eq!(b.consecutive_failures(), 1);
    }
}
