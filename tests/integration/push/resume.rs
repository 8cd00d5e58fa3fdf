//! Nothing recorded is forgotten: the in-process service dropped among overlapping runs and
//! started again on paused time resumes every open run under its recorded ids, expires what
//! passed its air-by, closes what is settled — and `/metrics` shows what both starts did.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use shengbo::dispatch::Clock;
use shengbo::ledger::{DeliveryState, Ledger};
use shengbo::server::Metrics;
use shengbo::sim::Faults;

use super::service::{Running, campaign, sim_with, t0};
use super::{fast_registry, ledger, project};

#[tokio::test(start_paused = true)]
async fn a_service_dropped_mid_runs_resumes_every_open_run_under_its_ids_and_counts_it() {
    let push = "lead_time_s = 1500\nair_by_s = 1200\nbackoff_base_ms = 2000\nbackoff_cap_s = 30\n\
        connection_check_s = 3600\nstate_wait_s = 5";
    let dir = project(
        // The runs of 11:00 … 11:40 only, so that the last to close is 11:40's.
        &campaign("drill", "police-impersonation", "0,10,20,30,40 11 * * *"),
        Some(&fast_registry(push, "5")),
    );
    let root = dir.path();
    let clock = Clock::starting_at(t0());
    // Every platform down: the runs of 11:00 … 11:40 (Beijing) are recorded, 25 minutes ahead;
    // a pair must be delivered before its first play window, so by 11:22 the runs up to 11:20
    // have expired and those of 11:30 and 11:40 are pending.
    let faults = Faults {
        http_5xx_rate: 1.0,
        ..Faults::default()
    };
    let (down, _) = sim_with(t0(), faults).await;
    let metrics = Arc::new(Metrics::default());
    let service = Running::start_with(root, &down, clock, true, 3600, metrics.clone()).await;
    tokio::time::sleep(Duration::from_secs(32 * 60)).await;
    let before = super::all_deliveries(&ledger(root));
    let pending = before
        .iter()
        .filter(|d| d.state == DeliveryState::Pending)
        .count();
    let runs: std::collections::BTreeSet<_> = before.iter().map(|d| d.plan.run).collect();
    assert!(
        runs.len() >= 3 && pending > 0,
        "{} runs, {pending} pending",
        runs.len()
    );
    service.task.abort();
    let _ = service.task.await;

    // At 11:35 the platforms are back: 11:30's pairs are past their deadline, 11:40's are not.
    tokio::time::sleep(Duration::from_secs(13 * 60)).await;
    let restart = clock.now();
    // The platforms' play clock follows the service's, so that they report what played.
    let (up, sim) = sim_with(restart, Faults::default()).await;
    let service = Running::start_with(root, &up, clock, true, 3600, metrics.clone()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    let after = loop {
        let all = super::all_deliveries(&ledger(root));
        let mine: Vec<_> = all
            .into_iter()
            .filter(|d| runs.contains(&d.plan.run))
            .collect();
        if mine.iter().all(|d| d.state != DeliveryState::Pending) {
            break mine;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries left pending"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        sim.clock().set(clock.now());
    };
    assert_eq!(after.len(), before.len(), "no delivery recorded twice");
    for d in &before {
        let a = after
            .iter()
            .find(|a| a.id == d.id)
            .expect("every delivery kept");
        assert_eq!(
            (&a.plan.ebd_id, &a.plan.ebm_id),
            (&d.plan.ebd_id, &d.plan.ebm_id),
            "ids unchanged"
        );
        if d.state == DeliveryState::Pending && d.plan.air_by < restart {
            assert_eq!(a.state, DeliveryState::Expired, "{a:?}");
            assert!(
                a.reason.as_deref().is_some_and(|r| r.contains("air-by")),
                "{a:?}"
            );
        }
    }
    let sent = after
        .iter()
        .filter(|a| a.state != DeliveryState::Expired)
        .count();
    assert!(sent > 0, "runs inside their air-by were sent");
    let l = ledger(root);
    let open = l
        .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)
        .unwrap()
        .into_iter()
        .filter(|r| runs.contains(&r.id) && r.state == shengbo::ledger::RunState::Open)
        .filter(|r| {
            l.deliveries_of_run(r.id)
                .unwrap()
                .iter()
                .all(|d| d.state.is_final())
        })
        .count();
    assert_eq!(open, 0, "runs whose deliveries are all final are closed");

    // 11:40's run, sent once the platforms were back, closes after its play states: the last.
    let last = *runs.iter().max().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    while l.run(last).unwrap().unwrap().state != shengbo::ledger::RunState::Closed {
        assert!(
            tokio::time::Instant::now() < deadline,
            "11:40's run closes: {:?}",
            l.deliveries_of_run(last)
                .unwrap()
                .iter()
                .map(|d| (d.state, d.reason.clone()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        sim.clock().set(clock.now());
    }

    // What the two services did is on `/metrics`, each figure non-zero.
    let (status, text) = service.get("/metrics").await;
    assert_eq!(status, 200);
    for family in [
        "shengbo_pushes_total{outcome=\"http\"}",
        "shengbo_pushes_total{outcome=\"delivered\"}",
        "shengbo_push_latency_seconds_count",
        "shengbo_push_retries_total",
        "shengbo_deliveries_expired_total",
        "shengbo_endpoint_up{endpoint=\"zhaojue\"}",
        "shengbo_endpoint_last_seen_seconds{endpoint=\"zhaojue\"}",
        "shengbo_runs_total{event=\"opened\"}",
        "shengbo_runs_total{event=\"closed\"}",
        "shengbo_reach_population{reached=\"targeted\"}",
    ] {
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(family)?.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no `{family}` in:\n{text}"));
        assert!(value > 0.0, "`{family}` is {value}:\n{text}");
    }
    // The reach gauges are the last closed run's, as the reach rule computes it.
    let directory = shengbo::directory::Directory::liangshan();
    let figures = shengbo::reach::of_run(&l, last, &directory).unwrap();
    let (last_closed, _) = shengbo::reach::of_last_closed_run(&l, &directory)
        .unwrap()
        .unwrap();
    assert_eq!(last_closed.id, last, "11:40's run is the last closed");
    assert!(figures.population_reached > 0, "{figures:?}");
    for (what, people) in [
        ("targeted", figures.population_targeted),
        ("reached", figures.population_reached),
        ("played", figures.population_played),
    ] {
        let gauge = format!("shengbo_reach_population{{reached=\"{what}\"}}");
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(&gauge)?.trim().parse::<u64>().ok());
        assert_eq!(value, Some(people), "`{gauge}`:\n{text}");
    }
    // Asking for coverage does not move them.
    let before = text
        .lines()
        .filter(|l| l.starts_with("shengbo_reach"))
        .collect::<Vec<_>>()
        .join("\n");
    let _ = service.get("/v1/coverage?since=1d").await;
    let (_, again) = service.get("/metrics").await;
    let after = again
        .lines()
        .filter(|l| l.starts_with("shengbo_reach"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        before, after,
        "reach is the last closed run's, whatever a caller asked"
    );
    service.stop().await;
}
