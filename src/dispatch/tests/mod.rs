//! Dispatcher tests on paused tokio time, a real SQLite ledger in a tempdir and a strict fake
//! transport that checks every retry resends identical ids and bytes: the harness.

mod limits;
mod outcomes;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::watch;

use super::*;
use crate::ledger::{
    AttemptResult, CircuitState, DeliveryId, DeliveryState, Ledger, NewDelivery, SqliteLedger,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 2, 0, 0).unwrap()
}

/// A strict fake endpoint: scripted outcomes per delivery (then `fallback`), identity checks,
/// in-flight counting, send times on the test clock.
struct Fake {
    clock: Clock,
    latency: Duration,
    fallback: AttemptOutcome,
    script: Mutex<HashMap<DeliveryId, VecDeque<AttemptOutcome>>>,
    first_seen: Mutex<HashMap<DeliveryId, DeliveryJob>>,
    violations: Mutex<Vec<String>>,
    sends: Mutex<Vec<(DeliveryId, DateTime<Utc>)>>,
    in_flight: Mutex<HashMap<String, usize>>,
    max_total: AtomicUsize,
    max_per_endpoint: AtomicUsize,
    stop_on_send: Option<watch::Sender<bool>>,
}

impl Fake {
    fn new(clock: Clock, fallback: AttemptOutcome) -> Fake {
        Fake {
            clock,
            latency: Duration::from_millis(50),
            fallback,
            script: Mutex::default(),
            first_seen: Mutex::default(),
            violations: Mutex::default(),
            sends: Mutex::default(),
            in_flight: Mutex::default(),
            max_total: AtomicUsize::new(0),
            max_per_endpoint: AtomicUsize::new(0),
            stop_on_send: None,
        }
    }

    fn script(&self, id: DeliveryId, outcomes: Vec<AttemptOutcome>) {
        self.script.lock().unwrap().insert(id, outcomes.into());
    }

    fn sends_of(&self, id: DeliveryId) -> Vec<DateTime<Utc>> {
        let sends = self.sends.lock().unwrap();
        sends
            .iter()
            .filter(|(d, _)| *d == id)
            .map(|(_, t)| *t)
            .collect()
    }

    fn enter(&self, job: &DeliveryJob) {
        let first = self
            .first_seen
            .lock()
            .unwrap()
            .entry(job.delivery.id)
            .or_insert_with(|| job.clone())
            .clone();
        if first != *job {
            self.violations.lock().unwrap().push(format!(
                "delivery {} resent with other ids or bytes",
                job.delivery.id
            ));
        }
        if job.delivery.plan.air_by <= self.clock.now() {
            self.violations.lock().unwrap().push(format!(
                "delivery {} sent after its air-by",
                job.delivery.id
            ));
        }
        self.sends
            .lock()
            .unwrap()
            .push((job.delivery.id, self.clock.now()));
        let mut flight = self.in_flight.lock().unwrap();
        *flight
            .entry(job.delivery.plan.endpoint.clone())
            .or_default() += 1;
        let total: usize = flight.values().sum();
        self.max_total.fetch_max(total, Ordering::SeqCst);
        self.max_per_endpoint
            .fetch_max(flight[&job.delivery.plan.endpoint], Ordering::SeqCst);
    }
}

impl Transport for Fake {
    async fn send(&self, job: &DeliveryJob) -> AttemptOutcome {
        self.enter(job);
        if let Some(stop) = &self.stop_on_send {
            stop.send_replace(true);
        }
        tokio::time::sleep(self.latency).await;
        *self
            .in_flight
            .lock()
            .unwrap()
            .get_mut(&job.delivery.plan.endpoint)
            .unwrap() -= 1;
        let next = self
            .script
            .lock()
            .unwrap()
            .get_mut(&job.delivery.id)
            .and_then(VecDeque::pop_front);
        next.unwrap_or_else(|| self.fallback.clone())
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    ledger: Arc<SqliteLedger>,
    clock: Clock,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Arc::new(SqliteLedger::open(&dir.path().join("ledger.sqlite")).unwrap());
        Setup {
            _dir: dir,
            ledger,
            clock: Clock::starting_at(t0()),
        }
    }

    /// A pending delivery to `endpoint` (in a run of its own, so deliveries never coincide),
    /// window opening at t0 + `start_s`, air-by t0 + `air_by_s`.
    fn job(&self, endpoint: &str, start_s: i64, air_by_s: i64) -> DeliveryJob {
        let n = self.ledger.next_sequence("ebm", t0().date_naive()).unwrap();
        let occurrence = t0() + TimeDelta::seconds(i64::from(n));
        let (run, _) = self.ledger.open_run("weekly", occurrence, 1, t0()).unwrap();
        let new = NewDelivery {
            run,
            endpoint: endpoint.to_string(),
            segment: 0,
            lang: crate::lang::Lang::Ii,
            message: "fake-agents".into(),
            repeat: 0,
            townships: vec![format!("513431{n:03}")],
            ebd_id: format!("10{n:039}"),
            ebm_id: format!("{n:035}"),
            related_ebm_id: None,
            window_start: t0() + TimeDelta::seconds(start_s),
            window_end: t0() + TimeDelta::seconds(start_s + 300),
            air_by: t0() + TimeDelta::seconds(air_by_s),
            payload_digest: format!("sha256-{n}"),
        };
        let (d, _) = self.ledger.record_delivery(&new, t0()).unwrap();
        DeliveryJob::new(d, Arc::from(format!("payload {n}").into_bytes()))
    }

    fn dispatcher(&self, fake: &Arc<Fake>, config: DispatchConfig) -> Dispatcher<Fake> {
        let ledger: Arc<dyn Ledger> = self.ledger.clone();
        Dispatcher::new(
            Arc::clone(fake),
            ledger,
            config,
            self.clock,
            StdRng::seed_from_u64(1),
        )
    }

    fn state(&self, id: DeliveryId) -> DeliveryState {
        self.ledger.delivery(id).unwrap().unwrap().state
    }
}

fn config() -> DispatchConfig {
    DispatchConfig {
        max_in_flight: 8,
        per_endpoint: 2,
        attempt_timeout: Duration::from_secs(5),
        backoff: Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(8),
        },
        lead: Duration::from_secs(60),
        breaker: BreakerConfig {
            failure_threshold: 100,
            cool_down: Duration::from_secs(30),
        },
        drain: Duration::from_secs(5),
        max_live: 64,
        holder: Some("county-a".into()),
    }
}

fn retry(kind: RetryKind) -> AttemptOutcome {
    AttemptOutcome::Retryable {
        kind,
        detail: format!("{kind:?}"),
    }
}

fn no_shutdown() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    std::mem::forget(tx); // keep the sender alive: never signalled
    rx
}

fn assert_strict(fake: &Fake) {
    assert_eq!(*fake.violations.lock().unwrap(), Vec::<String>::new());
}
