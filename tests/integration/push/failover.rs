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

pub(super) const PUSH: &str = "lead_time_s = 120\nair_by_s = 900\nbackoff_base_ms = 500\nbackoff_cap_s = 2\n\
    connection_check_s = 3600\nstate_wait_s = 5\nlease_s = 10\nbreaker_threshold = 1000";

pub(super) async fn instance(
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
pub(super) async fn deliveries(ledger: &Arc<dyn Ledger>) -> Vec<Delivery> {
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

/// `shengbo serve` as instance `name` on the PostgreSQL ledger `url`.
fn serve_on(root: &std::path::Path, sim: &str, url: &str, name: &str) -> tokio::process::Child {
    super::serve::serve(root, sim)
        .args(["--instance", name])
        .env("SHENGBO_LEDGER", url)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Every delivery recorded so far, blocking.
fn all_of(l: &dyn Ledger) -> Vec<Delivery> {
    let runs = l
        .runs(
            chrono::DateTime::<chrono::Utc>::MIN_UTC,
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
            None,
        )
        .unwrap();
    runs.iter()
        .flat_map(|r| l.deliveries_of_run(r.id).unwrap())
        .collect()
}

/// The failover drill: PostgreSQL, the simulator and two `serve` processes on loopback; one of
/// them SIGKILLed at a random moment of the runs, four times, and restarted once the other took
/// over what it held (the next kill waits until it is up again). Every delivery recorded ends final under the ids it was recorded with, no content
/// reaches the platform under another id, and no delivery had attempts in flight from both
/// instances at once. Prints each takeover (death → the other holding the leases of what the
/// dead one held, and → its first attempt of one) for `benches/failover.sh`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_drill_two_serve_processes_one_killed_four_times() {
    use rand::Rng as _;
    let url = crate::util::pg::fresh_database();
    let faults = Faults {
        slow_rate: 1.0,
        slow_ms: 1_500,
        ..Faults::default()
    };
    let sim = super::start_sim(faults, 120.0).await;
    let push = "lead_time_s = 120\nair_by_s = 3600\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2\n\
                connection_check_s = 3600\nstate_wait_s = 5\nlease_s = 3";
    let minutely =
        super::serve::hourly("minutely", 0).replace("cron = \"0 * * * *\"", "cron = \"* * * * *\"");
    let proj = super::project(&minutely, Some(&fast_registry(push, "5")));
    let root = proj.path();
    let ledger: Arc<dyn Ledger> = LedgerTarget::parse(&url, |_| None).unwrap().open().unwrap();
    let names = ["county-a", "county-b"];
    let mut children = [
        Some(serve_on(root, &sim.url, &url, names[0])),
        Some(serve_on(root, &sim.url, &url, names[1])),
    ];
    let mut seen: BTreeMap<i64, (String, String)> = BTreeMap::new();
    let mut rng = rand::rng();
    for kill in 0..4 {
        // A random moment while a delivery is pending under a lease: its holder is the victim.
        let deadline = std::time::Instant::now() + Duration::from_secs(180);
        let victim = loop {
            assert!(
                std::time::Instant::now() < deadline,
                "kill {kill}: nothing leased"
            );
            let l = Arc::clone(&ledger);
            let holder = tokio::task::spawn_blocking(move || {
                all_of(l.as_ref())
                    .iter()
                    .filter(|d| d.state == DeliveryState::Pending)
                    .find_map(|d| l.lease_of(d.id).unwrap().map(|(h, _)| h))
            })
            .await
            .unwrap();
            if let Some(at) = holder.and_then(|h| names.iter().position(|n| *n == h)) {
                break at;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..300))).await;
        let mut child = children[victim].take().unwrap();
        child.start_kill().unwrap();
        assert!(!child.wait().await.unwrap().success(), "killed");
        let died = chrono::Utc::now();
        let l = Arc::clone(&ledger);
        let dead = names[victim];
        let (now, held) = tokio::task::spawn_blocking(move || {
            let all = all_of(l.as_ref());
            let held: Vec<_> = all
                .iter()
                .filter(|d| d.state == DeliveryState::Pending)
                .filter(|d| l.lease_of(d.id).unwrap().is_some_and(|(h, _)| h == dead))
                .map(|d| d.id)
                .collect();
            (all, held)
        })
        .await
        .unwrap();
        for d in &now {
            let ids = (d.plan.ebd_id.clone(), d.plan.ebm_id.clone());
            if let Some(before) = seen.insert(d.id.0, ids.clone()) {
                assert_eq!(before, ids, "kill {kill}: delivery {} kept its ids", d.id);
            }
        }
        // Restart the dead one once the other took over what it held: each of its pending
        // deliveries final or leased by the other, and the other's first attempt of one made
        // (or all of them final: a half whose pair's deadline passed within the lease time is
        // expired, not sent). A wait on the ledger (the processes run on the wall clock), with a
        // deadline.
        let other = names[1 - victim];
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut taken_at = None;
        let first = loop {
            let (l, mine) = (Arc::clone(&ledger), held.clone());
            let (taken, ended, first) = tokio::task::spawn_blocking(move || {
                let done = |id| l.delivery(id).unwrap().is_some_and(|d| d.state.is_final());
                let taken = mine.iter().all(|&id| {
                    done(id) || l.lease_of(id).unwrap().is_some_and(|(h, _)| h == other)
                });
                let ended = mine.iter().all(|&id| done(id));
                let first = mine
                    .iter()
                    .flat_map(|&id| l.attempts(id).unwrap())
                    .filter(|a| a.instance.as_deref() == Some(other) && a.started_at > died)
                    .map(|a| a.started_at)
                    .min();
                (taken, ended, first)
            })
            .await
            .unwrap();
            if taken && taken_at.is_none() {
                taken_at = Some(chrono::Utc::now());
            }
            if taken && (held.is_empty() || first.is_some() || ended) {
                break first;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "kill {kill}: {other} did not take over {dead}'s deliveries"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // Taking over is holding the leases (seen within one look of 50 ms); the first
        // attempt may come later: a Mandarin half is not sent before its window's lead time,
        // nor while the endpoint is busy with the other's own deliveries.
        match (first, taken_at) {
            (Some(at), Some(taken)) => eprintln!(
                "takeover: {dead} killed, {other} held its {} pending deliveries after {} ms \
                 and sent the first after {} ms",
                held.len(),
                (taken - died).num_milliseconds(),
                (at - died).num_milliseconds()
            ),
            (None, Some(_)) if !held.is_empty() => eprintln!(
                "takeover: {dead} killed holding {} pending deliveries, all ended (past their \
                 deadline) before {other} could send one",
                held.len()
            ),
            _ => eprintln!("takeover: {dead} killed holding no pending delivery"),
        }
        children[victim] = Some(serve_on(root, &sim.url, &url, dead));
        // The next kill waits until the restarted one is up again (it wrote the version it
        // loaded): one instance down at a time, so each takeover is the other's alone.
        let restarted = chrono::Utc::now();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let l = Arc::clone(&ledger);
            let up = tokio::task::spawn_blocking(move || l.instances().unwrap())
                .await
                .unwrap()
                .iter()
                .any(|i| i.name == dead && i.loaded_at >= restarted);
            if up {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "kill {kill}: {dead} did not start again"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Everything recorded up to the last kill ends final (new slots keep coming; not counted).
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    let finals = loop {
        let l = Arc::clone(&ledger);
        let all = tokio::task::spawn_blocking(move || all_of(l.as_ref()))
            .await
            .unwrap();
        let mine: Vec<Delivery> = all
            .into_iter()
            .filter(|d| seen.contains_key(&d.id.0))
            .collect();
        let open: Vec<_> = mine.iter().filter(|d| !d.state.is_final()).collect();
        if open.is_empty() {
            break mine;
        }
        assert!(std::time::Instant::now() < deadline, "not final: {open:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for child in children.into_iter().flatten() {
        super::serve::stop(child).await;
    }
    assert_eq!(finals.len(), seen.len(), "nothing recorded was lost");
    let l = Arc::clone(&ledger);
    let ds = finals.clone();
    let attempts = tokio::task::spawn_blocking(move || {
        ds.iter()
            .map(|d| l.attempts(d.id).unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (d, tries) in finals.iter().zip(&attempts) {
        assert_eq!(
            seen[&d.id.0],
            (d.plan.ebd_id.clone(), d.plan.ebm_id.clone())
        );
        if d.state == DeliveryState::Expired {
            assert!(
                d.reason.as_deref().is_some_and(|r| r.contains("air-by")),
                "{d:#?}"
            );
        }
        // No two instances' attempts on one delivery overlap in time.
        for x in tries {
            for y in tries.iter().filter(|y| y.instance != x.instance) {
                let apart = x.finished_at <= y.started_at || y.finished_at <= x.started_at;
                assert!(apart, "in flight from two instances at once: {tries:#?}");
            }
        }
        assert!(tries.iter().all(|t| t.instance.is_some()), "{tries:#?}");
    }
    // No content under new ids: every message the platform took is a recorded delivery.
    let known = finals
        .iter()
        .filter(|d| sim.state.report(&d.plan.ebm_id).is_some())
        .count() as u64;
    let l = Arc::clone(&ledger);
    let recorded = tokio::task::spawn_blocking(move || all_of(l.as_ref()))
        .await
        .unwrap();
    let known_all = recorded
        .iter()
        .filter(|d| sim.state.report(&d.plan.ebm_id).is_some())
        .count() as u64;
    assert!(known > 0);
    assert_eq!(
        sim.state.stats().messages,
        known_all,
        "no message under an unrecorded id"
    );
}
