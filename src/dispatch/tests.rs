//! Dispatcher tests on paused tokio time, a real SQLite ledger in a tempdir and a strict fake
//! transport that checks every retry resends identical ids and bytes.

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
    AttemptResult, CircuitState, DeliveryState, Ledger, NewDelivery, SqliteLedger,
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
            .entry(job.delivery)
            .or_insert_with(|| job.clone())
            .clone();
        if first != *job {
            self.violations.lock().unwrap().push(format!(
                "delivery {} resent with other ids or bytes",
                job.delivery
            ));
        }
        if job.air_by <= self.clock.now() {
            self.violations
                .lock()
                .unwrap()
                .push(format!("delivery {} sent after its air-by", job.delivery));
        }
        self.sends
            .lock()
            .unwrap()
            .push((job.delivery, self.clock.now()));
        let mut flight = self.in_flight.lock().unwrap();
        *flight.entry(job.endpoint.clone()).or_default() += 1;
        let total: usize = flight.values().sum();
        self.max_total.fetch_max(total, Ordering::SeqCst);
        self.max_per_endpoint
            .fetch_max(flight[&job.endpoint], Ordering::SeqCst);
    }
}

impl Transport for Fake {
    async fn send(&self, job: &DeliveryJob) -> AttemptOutcome {
        self.enter(job);
        if let Some(stop) = &self.stop_on_send {
            stop.send_replace(true);
        }
        tokio::time::sleep(self.latency).await;
        *self.in_flight.lock().unwrap().get_mut(&job.endpoint).unwrap() -= 1;
        let next = self
            .script
            .lock()
            .unwrap()
            .get_mut(&job.delivery)
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
            lang: crate::lang::Lang::Ii,
            message: "fake-agents".into(),
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
        DeliveryJob::new(&d, Arc::from(format!("payload {n}").into_bytes()))
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

#[tokio::test(start_paused = true)]
async fn retries_keep_the_same_ids_and_every_attempt_is_recorded() {
    let s = Setup::new();
    let fake = Arc::new(Fake::new(s.clock, AttemptOutcome::Delivered));
    let job = s.job("ep1", 0, 600);
    fake.script(
        job.delivery,
        vec![
            retry(RetryKind::Connect),
            retry(RetryKind::Http(503)),
            retry(RetryKind::Timeout),
        ],
    );
    let report = s
        .dispatcher(&fake, config())
        .dispatch(vec![job.clone()], no_shutdown())
        .await;
    assert_eq!(report.get(job.delivery).unwrap().end, JobEnd::Delivered);
    assert_eq!(report.get(job.delivery).unwrap().attempts, 4);
    assert_strict(&fake);
    assert_eq!(fake.sends_of(job.delivery).len(), 4);
    let attempts = s.ledger.attempts(job.delivery).unwrap();
    let results: Vec<_> = attempts.iter().map(|a| a.result.clone()).collect();
    assert_eq!(
        results,
        vec![
            AttemptResult::Connect,
            AttemptResult::Http { status: 503 },
            AttemptResult::Timeout,
            AttemptResult::Delivered,
        ]
    );
    assert_eq!(s.state(job.delivery), DeliveryState::Delivered);
    let health = s.ledger.endpoint_health("ep1").unwrap().unwrap();
    assert_eq!(
        (health.circuit, health.consecutive_failures),
        (CircuitState::Closed, 0)
    );
    assert!(health.last_seen.is_some());
}

#[tokio::test(start_paused = true)]
async fn a_slow_endpoint_times_out_and_is_retried() {
    let s = Setup::new();
    let mut fake = Fake::new(s.clock, AttemptOutcome::Accepted);
    fake.latency = Duration::from_secs(30); // longer than the 5 s attempt timeout
    let fake = Arc::new(fake);
    let job = s.job("slow", 0, 60);
    let report = s
        .dispatcher(&fake, config())
        .dispatch(vec![job.clone()], no_shutdown())
        .await;
    assert!(
        matches!(report.jobs[0].end, JobEnd::Expired { .. }),
        "{:?}",
        report.jobs[0]
    );
    let attempts = s.ledger.attempts(job.delivery).unwrap();
    assert!(attempts.len() >= 2);
    assert!(attempts.iter().all(|a| a.result == AttemptResult::Timeout));
    assert_strict(&fake);
}

#[tokio::test(start_paused = true)]
async fn rejections_are_final_and_never_resent() {
    let s = Setup::new();
    let fake = Arc::new(Fake::new(
        s.clock,
        AttemptOutcome::Rejected {
            code: 4,
            reason: "signature verification failed".into(),
        },
    ));
    let job = s.job("ep1", 0, 600);
    let report = s
        .dispatcher(&fake, config())
        .dispatch(vec![job.clone()], no_shutdown())
        .await;
    assert!(matches!(
        report.jobs[0].end,
        JobEnd::Rejected { code: 4, .. }
    ));
    assert_eq!(fake.sends_of(job.delivery).len(), 1);
    let d = s.ledger.delivery(job.delivery).unwrap().unwrap();
    assert_eq!(d.state, DeliveryState::Rejected);
    assert_eq!(
        d.reason.as_deref(),
        Some("ResultCode 4: signature verification failed")
    );
}

#[tokio::test(start_paused = true)]
async fn accepted_deliveries_await_their_state() {
    let s = Setup::new();
    let fake = Arc::new(Fake::new(s.clock, AttemptOutcome::Accepted));
    let job = s.job("ep1", 0, 600);
    s.dispatcher(&fake, config())
        .dispatch(vec![job.clone()], no_shutdown())
        .await;
    assert_eq!(s.state(job.delivery), DeliveryState::Sent);
    let awaiting = s.ledger.deliveries_awaiting_state().unwrap();
    assert_eq!(
        awaiting.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![job.delivery]
    );
}

#[tokio::test(start_paused = true)]
async fn past_the_air_by_deadline_nothing_is_sent_late() {
    let s = Setup::new();
    let fake = Arc::new(Fake::new(s.clock, retry(RetryKind::Connect)));
    let failing = s.job("ep1", 0, 20);
    let already_late = s.job("ep2", -600, -60);
    let report = s
        .dispatcher(&fake, config())
        .dispatch(vec![failing.clone(), already_late.clone()], no_shutdown())
        .await;
    assert_strict(&fake); // includes "no send at or after air-by"
    assert!(fake.sends_of(already_late.delivery).is_empty());
    assert!(!fake.sends_of(failing.delivery).is_empty());
    for job in [&failing, &already_late] {
        assert!(matches!(
            report.get(job.delivery).unwrap().end,
            JobEnd::Expired { .. }
        ));
        let d = s.ledger.delivery(job.delivery).unwrap().unwrap();
        assert_eq!(d.state, DeliveryState::Expired);
        assert!(d.reason.unwrap().contains("air-by deadline"));
    }
    let attempts = s.ledger.attempts(failing.delivery).unwrap();
    assert_eq!(attempts.len(), fake.sends_of(failing.delivery).len());
}

#[tokio::test(start_paused = true)]
async fn the_circuit_opens_and_the_ledger_says_why() {
    let s = Setup::new();
    let fake = Arc::new(Fake::new(s.clock, retry(RetryKind::Connect)));
    let mut cfg = config();
    cfg.per_endpoint = 1;
    cfg.breaker = BreakerConfig {
        failure_threshold: 2,
        cool_down: Duration::from_secs(3600),
    };
    let jobs: Vec<_> = (0..3).map(|_| s.job("down", 0, 600)).collect();
    let report = s
        .dispatcher(&fake, cfg)
        .dispatch(jobs.clone(), no_shutdown())
        .await;
    assert_eq!(
        fake.sends.lock().unwrap().len(),
        2,
        "no attempt once the circuit is open"
    );
    assert_eq!(report.count("expired"), 3);
    let untried = jobs
        .iter()
        .find(|j| fake.sends_of(j.delivery).is_empty())
        .unwrap();
    let reason = s
        .ledger
        .delivery(untried.delivery)
        .unwrap()
        .unwrap()
        .reason
        .unwrap();
    assert!(
        reason.contains("endpoint `down` circuit open: 2 consecutive failed attempts"),
        "{reason}"
    );
    let health = s.ledger.endpoint_health("down").unwrap().unwrap();
    assert_eq!(health.circuit, CircuitState::Open);
    assert_eq!(health.consecutive_failures, 2);
    assert!(health.reason.unwrap().contains("last: Connect"));
}

#[tokio::test(start_paused = true)]
async fn a_half_open_probe_closes_the_circuit_again() {
    let s = Setup::new();
    let fake = Arc::new(Fake::new(s.clock, AttemptOutcome::Delivered));
    let mut cfg = config();
    cfg.breaker = BreakerConfig {
        failure_threshold: 2,
        cool_down: Duration::from_secs(30),
    };
    let job = s.job("flaky", 0, 600);
    fake.script(
        job.delivery,
        vec![retry(RetryKind::Connect), retry(RetryKind::Connect)],
    );
    let report = s
        .dispatcher(&fake, cfg)
        .dispatch(vec![job.clone()], no_shutdown())
        .await;
    assert_eq!(report.jobs[0].end, JobEnd::Delivered);
    let sends = fake.sends_of(job.delivery);
    assert_eq!(sends.len(), 3);
    assert!(
        sends[2] - sends[1] >= TimeDelta::seconds(30),
        "the probe waited out the cool-down"
    );
    let health = s.ledger.endpoint_health("flaky").unwrap().unwrap();
    assert_eq!(health.circuit, CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_bounded_overall_and_per_endpoint() {
    let s = Setup::new();
    let mut fake = Fake::new(s.clock, AttemptOutcome::Delivered);
    fake.latency = Duration::from_secs(1);
    let fake = Arc::new(fake);
    let mut cfg = config();
    cfg.max_in_flight = 3;
    cfg.per_endpoint = 1;
    let jobs: Vec<_> = (0..20)
        .map(|i| s.job(&format!("ep{}", i % 5), 0, 3600))
        .collect();
    let report = s.dispatcher(&fake, cfg).dispatch(jobs, no_shutdown()).await;
    assert_eq!(report.count("delivered"), 20);
    assert_eq!(fake.max_total.load(Ordering::SeqCst), 3);
    assert_eq!(fake.max_per_endpoint.load(Ordering::SeqCst), 1);
    assert_strict(&fake);
}

#[tokio::test(start_paused = true)]
async fn nothing_is_sent_before_the_lead_time() {
    let s = Setup::new();
    let fake = Arc::new(Fake::new(s.clock, AttemptOutcome::Delivered));
    let job = s.job("ep1", 3600, 3900); // window in an hour, lead 60 s
    let report = s
        .dispatcher(&fake, config())
        .dispatch(vec![job.clone()], no_shutdown())
        .await;
    assert_eq!(report.jobs[0].end, JobEnd::Delivered);
    let sent = fake.sends_of(job.delivery)[0];
    assert!(
        sent >= job.window_start - TimeDelta::seconds(60),
        "sent at {sent}"
    );
    assert!(sent < job.window_start);
}

#[tokio::test(start_paused = true)]
async fn shutdown_leaves_unsent_work_pending_and_abandons_past_the_drain() {
    let s = Setup::new();
    let (tx, rx) = watch::channel(false);
    let mut fake = Fake::new(s.clock, AttemptOutcome::Delivered);
    fake.latency = Duration::from_secs(60); // in flight longer than the 5 s drain
    fake.stop_on_send = Some(tx);
    let fake = Arc::new(fake);
    let mut cfg = config();
    cfg.attempt_timeout = Duration::from_secs(120);
    let in_flight = s.job("ep1", 0, 3600);
    let later = s.job("ep2", 1800, 3600);
    let report = s
        .dispatcher(&fake, cfg)
        .dispatch(vec![in_flight.clone(), later.clone()], rx)
        .await;
    assert_eq!(
        report.get(in_flight.delivery).unwrap().end,
        JobEnd::Abandoned
    );
    assert_eq!(report.get(later.delivery).unwrap().end, JobEnd::Interrupted);
    assert!(fake.sends_of(later.delivery).is_empty());
    assert_eq!(s.state(in_flight.delivery), DeliveryState::Pending);
    assert_eq!(s.state(later.delivery), DeliveryState::Pending);
    assert_eq!(
        s.ledger.deliveries_due(t0()).unwrap().len(),
        2,
        "both resume after a restart"
    );
}
