//! Dispatcher tests: the limits — circuit breaker, concurrency bounds, lead time, shutdown.

use super::*;

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
        .find(|j| fake.sends_of(j.delivery.id).is_empty())
        .unwrap();
    let reason = s
        .ledger
        .delivery(untried.delivery.id)
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
        job.delivery.id,
        vec![retry(RetryKind::Connect), retry(RetryKind::Connect)],
    );
    let report = s
        .dispatcher(&fake, cfg)
        .dispatch(vec![job.clone()], no_shutdown())
        .await;
    assert_eq!(report.jobs[0].end, JobEnd::Delivered);
    let sends = fake.sends_of(job.delivery.id);
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
async fn jobs_start_in_window_order_and_no_more_than_the_live_bound_run() {
    let s = Setup::new();
    let mut fake = Fake::new(s.clock, AttemptOutcome::Delivered);
    fake.latency = Duration::from_secs(1);
    let fake = Arc::new(fake);
    let mut cfg = config();
    cfg.max_live = 2;
    // Listed latest window first; all inside the lead time already.
    let jobs: Vec<_> = (0..6)
        .rev()
        .map(|i| s.job(&format!("ep{i}"), i * 10, 3600))
        .collect();
    let report = s
        .dispatcher(&fake, cfg)
        .dispatch(jobs.clone(), no_shutdown())
        .await;
    assert_eq!(report.count("delivered"), 6);
    assert_eq!(
        fake.max_total.load(Ordering::SeqCst),
        2,
        "8 permits, 2 alive"
    );
    let mut by_window: Vec<_> = jobs.iter().collect();
    by_window.sort_by_key(|j| j.delivery.plan.window_start);
    let sends: Vec<_> = by_window
        .iter()
        .map(|j| fake.sends_of(j.delivery.id)[0])
        .collect();
    assert!(
        sends.windows(3).all(|w| w[0] <= w[2]) && sends[0] < sends[5],
        "earliest windows go first: {sends:?}"
    );
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
    let sent = fake.sends_of(job.delivery.id)[0];
    assert!(
        sent >= job.delivery.plan.window_start - TimeDelta::seconds(60),
        "sent at {sent}"
    );
    assert!(sent < job.delivery.plan.window_start);
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
        report.get(in_flight.delivery.id).unwrap().end,
        JobEnd::Abandoned
    );
    assert_eq!(
        report.get(later.delivery.id).unwrap().end,
        JobEnd::Interrupted
    );
    assert!(fake.sends_of(later.delivery.id).is_empty());
    assert_eq!(s.state(in_flight.delivery.id), DeliveryState::Pending);
    assert_eq!(s.state(later.delivery.id), DeliveryState::Pending);
    assert_eq!(
        s.ledger.deliveries_due(t0()).unwrap().len(),
        2,
        "both resume after a restart"
    );
}

#[tokio::test(start_paused = true)]
async fn an_open_circuit_survives_a_restart() {
    let s = Setup::new();
    let fake = Arc::new(Fake::new(s.clock, retry(RetryKind::Connect)));
    let mut cfg = config();
    cfg.breaker = BreakerConfig {
        failure_threshold: 1,
        cool_down: Duration::from_secs(3600),
    };
    let first = s.job("down", 0, 60);
    s.dispatcher(&fake, cfg.clone())
        .dispatch(vec![first], no_shutdown())
        .await;
    assert_eq!(fake.sends.lock().unwrap().len(), 1);

    let restarted = s.dispatcher(&fake, cfg);
    assert_eq!(restarted.restore_breakers().await.unwrap(), 1);
    let second = s.job("down", 0, 600);
    let report = restarted
        .dispatch(vec![second.clone()], no_shutdown())
        .await;
    assert_eq!(
        fake.sends.lock().unwrap().len(),
        1,
        "no attempt while restored open"
    );
    let JobEnd::Expired { reason } = &report.jobs[0].end else {
        panic!("{:?}", report.jobs[0]);
    };
    assert!(reason.contains("circuit open"), "{reason}");
}
