//! Two instances (services) on one PostgreSQL ledger in one process, on tokio's paused time: the
//! one sending a run dies (its task dropped, nothing released) while the platform is
//! unreachable; once its leases run out the other takes the run's deliveries over and sends
//! them under their recorded ids, never while the dead one had an attempt in flight.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use shengbo::dispatch::Clock;
use shengbo::ledger::{Delivery, DeliveryState, Ledger, LedgerTarget};
use shengbo::server::Metrics;
use shengbo::sim::Faults;

use super::fast_registry;
use super::service::{Running, campaign, follow, sim_with, t0};

const PUSH: &str = "lead_time_s = 120\nair_by_s = 900\nbackoff_base_ms = 500\nbackoff_cap_s = 2\n\
    connection_check_s = 3600\nstate_wait_s = 5\nlease_s = 10\nbreaker_threshold = 1000";

async fn instance(
    root: &std::path::Path,
    sim: &str,
    clock: Clock,
    url: &str,
    name: &str,
) -> Running {
    let (url, name) = (url.to_string(), name.to_string());
    Running::start_configured(
        root,
        sim,
        clock,
        (true, 3600),
        Arc::new(Metrics::default()),
        |c| {
            c.ledger = LedgerTarget::parse(&url, |_| None).unwrap();
            c.instance = name;
        },
    )
    .await
}

/// The deliveries of the one run, read through `ledger` (off the runtime).
async fn deliveries(ledger: &Arc<dyn Ledger>) -> Vec<Delivery> {
    let l = Arc::clone(ledger);
    tokio::task::spawn_blocking(move || {
        let runs = l.runs(t0(), t0() + TimeDelta::hours(1), None).unwrap();
        runs.first()
            .map(|r| l.deliveries_of_run(r.id).unwrap())
            .unwrap_or_default()
    })
    .await
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_dead_instances_deliveries_are_taken_over_under_their_ids() {
    let url = crate::util::pg::fresh_database();
    let dir = super::project(
        &campaign("drill", "police-impersonation", "0 * * * *"),
        Some(&fast_registry(PUSH, "5")),
    );
    let root = dir.path();
    let clock = Clock::starting_at(t0());
    let (sim, state) = sim_with(t0(), Faults::default()).await;
    follow(&state, clock);
    state.hold_broadcasts(true);
    let ledger: Arc<dyn Ledger> = LedgerTarget::parse(&url, |_| None).unwrap().open().unwrap();

    let a = instance(root, &sim, clock, &url, "county-a").await;
    // A records the 11:00 run, leases every delivery and keeps retrying them.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    let recorded = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "A never sent the run"
        );
        let ds = deliveries(&ledger).await;
        let l = Arc::clone(&ledger);
        let ids: Vec<_> = ds.iter().map(|d| d.id).collect();
        let tried = tokio::task::spawn_blocking(move || {
            ids.iter()
                .all(|&id| !l.attempts(id).unwrap().is_empty() && l.lease_of(id).unwrap().is_some())
        })
        .await
        .unwrap();
        if !ds.is_empty() && tried {
            break ds;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let b = instance(root, &sim, clock, &url, "county-b").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // B, started while A holds the run, leaves it alone.
    let l = Arc::clone(&ledger);
    let ids: Vec<_> = recorded.iter().map(|d| d.id).collect();
    let held = tokio::task::spawn_blocking(move || {
        ids.iter()
            .map(|&id| l.lease_of(id).unwrap().unwrap().0)
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(held.iter().all(|h| h == "county-a"), "{held:?}");

    // A dies: its task is dropped, its leases are neither renewed nor released.
    a.task.abort();
    let died = clock.now();
    state.hold_broadcasts(false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(900);
    let settled = loop {
        assert!(tokio::time::Instant::now() < deadline, "B never took over");
        let ds = deliveries(&ledger).await;
        if ds.iter().all(|d| d.state == DeliveryState::Played) {
            break ds;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let ids = |ds: &[Delivery]| -> BTreeMap<i64, (String, String)> {
        ds.iter()
            .map(|d| (d.id.0, (d.plan.ebd_id.clone(), d.plan.ebm_id.clone())))
            .collect()
    };
    assert_eq!(
        ids(&settled),
        ids(&recorded),
        "the same deliveries, the same ids"
    );
    assert_eq!(
        state.stats().messages,
        settled.len() as u64,
        "one message per delivery reached the platform: none under new ids"
    );
    let l = Arc::clone(&ledger);
    let all: Vec<_> = settled.iter().map(|d| d.id).collect();
    let attempts = tokio::task::spawn_blocking(move || {
        all.iter()
            .map(|&id| l.attempts(id).unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let lease = Duration::from_secs(10);
    for tries in &attempts {
        let of = |who: &'static str| {
            tries
                .iter()
                .filter(move |t| t.instance.as_deref() == Some(who))
        };
        let last_a = of("county-a")
            .map(|t| t.finished_at)
            .max()
            .expect("A tried it");
        let first_b = of("county-b")
            .map(|t| t.started_at)
            .min()
            .expect("B sent it");
        assert!(last_a <= died, "A made no attempt after it died");
        assert!(last_a < first_b, "never in flight from both: {tries:#?}");
        // B waited for A's lease to run out, then took over within a tick of it.
        let takeover = (first_b - died).to_std().unwrap();
        assert!(takeover >= lease - Duration::from_secs(4), "{takeover:?}");
        assert!(takeover <= lease + Duration::from_secs(5), "{takeover:?}");
        assert!(tries.iter().all(|t| t.instance.is_some()), "{tries:#?}");
    }
    b.stop().await;
}
