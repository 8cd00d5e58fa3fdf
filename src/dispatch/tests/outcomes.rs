//! Dispatcher tests: how attempts end — retried, timed out, rejected, accepted, expired.

use super::*;

#[tokio::test(start_paused = true)]
async fn retries_keep_the_same_ids_and_every_attempt_is_recorded() {
    let s = Setup::new();
    let fake = Arc::new(Fake::new(s.clock, AttemptOutcome::Delivered));
    let job = s.job("ep1", 0, 600);
    fake.script(
        job.delivery.id,
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
    assert_eq!(report.get(job.delivery.id).unwrap().end, JobEnd::Delivered);
    assert_eq!(report.get(job.delivery.id).unwrap().attempts, 4);
    assert_strict(&fake);
    assert_eq!(fake.sends_of(job.delivery.id).len(), 4);
    let attempts = s.ledger.attempts(job.delivery.id).unwrap();
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
    assert_eq!(s.state(job.delivery.id), DeliveryState::Delivered);
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
    let attempts = s.ledger.attempts(job.delivery.id).unwrap();
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
    assert_eq!(fake.sends_of(job.delivery.id).len(), 1);
    let d = s.ledger.delivery(job.delivery.id).unwrap().unwrap();
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
    assert_eq!(s.state(job.delivery.id), DeliveryState::Sent);
    let awaiting = s.ledger.deliveries_awaiting_state().unwrap();
    assert_eq!(
        awaiting.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![job.delivery.id]
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
    assert!(fake.sends_of(already_late.delivery.id).is_empty());
    assert!(!fake.sends_of(failing.delivery.id).is_empty());
    for job in [&failing, &already_late] {
        assert!(matches!(
            report.get(job.delivery.id).unwrap().end,
            JobEnd::Expired { .. }
        ));
        let d = s.ledger.delivery(job.delivery.id).unwrap().unwrap();
        assert_eq!(d.state, DeliveryState::Expired);
        assert!(d.reason.unwrap().contains("air-by deadline"));
    }
    let attempts = s.ledger.attempts(failing.delivery.id).unwrap();
    assert_eq!(attempts.len(), fake.sends_of(failing.delivery.id).len());
}

#[tokio::test(start_paused = true)]
async fn the_report_carries_the_as_run_values() {
    let s = Setup::new();
    let fake = Arc::new(Fake::new(s.clock, AttemptOutcome::Delivered));
    let job = s.job("ep1", 0, 600);
    fake.script(job.delivery.id, vec![retry(RetryKind::Http(502))]);
    let report = s
        .dispatcher(&fake, config())
        .dispatch(vec![job.clone()], no_shutdown())
        .await;
    let r = report.get(job.delivery.id).unwrap();
    assert_eq!((r.end.name(), r.attempts), ("delivered", 2));
    assert_eq!(r.last_detail.as_deref(), Some("Http(502)"));
    assert_eq!(report.count("delivered"), 1);
}

#[tokio::test(start_paused = true)]
async fn each_end_is_told_with_its_delivery_while_the_dispatch_goes_on() {
    let s = Setup::new();
    let fake = Arc::new(Fake::new(s.clock, AttemptOutcome::Delivered));
    // The second job may go out only nine minutes on (its window, less the minute's lead).
    let (early, late) = (s.job("ep1", 0, 600), s.job("ep2", 600, 1200));
    let dispatcher = s.dispatcher(&fake, config());
    let (tx, mut ends) = tokio::sync::mpsc::unbounded_channel();
    let jobs = vec![late.clone(), early.clone()];
    let dispatch = tokio::spawn(async move {
        dispatcher
            .dispatch_reporting(jobs, no_shutdown(), Some(tx))
            .await
    });
    let first = ends.recv().await.unwrap();
    assert_eq!(first.delivery, early.delivery, "the job as handed in");
    assert_eq!(
        (first.result.delivery, &first.result.end),
        (early.delivery.id, &JobEnd::Delivered)
    );
    assert!(s.clock.now() < t0() + TimeDelta::seconds(540));
    assert!(!dispatch.is_finished());
    let second = ends.recv().await.unwrap();
    assert_eq!(second.delivery.id, late.delivery.id);
    assert!(ends.recv().await.is_none(), "each end told once");
    let report = dispatch.await.unwrap();
    assert_eq!(report.count("delivered"), 2);
    assert_strict(&fake);
}
