//! Two services in-process ([`shengbo::service::serve`]) on one PostgreSQL ledger, one paused
//! clock, with different schedules: each reports the other's content version (metric,
//! `/readyz`), and the slot they share goes out once, under the version its run was created
//! with — the other instance neither records nor sends anything of that run.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use shengbo::datadir::DataDir;
use shengbo::dispatch::Clock;
use shengbo::ledger::{Delivery, DeliveryState, Ledger, LedgerTarget};
use shengbo::server::Metrics;
use shengbo::sim::Faults;

use super::service::{Running, campaign, sim_with, t0};
use super::{fast_registry, project};
use crate::util;

const PUSH: &str = "lead_time_s = 120\nair_by_s = 600\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2\n\
    connection_check_s = 3600\nstate_wait_s = 5";

/// A pushing service on `root` named `name`, its ledger at `ledger`; its metrics.
async fn instance(
    root: &Path,
    sim: &str,
    clock: Clock,
    ledger: &str,
    name: &str,
) -> (Running, Arc<Metrics>) {
    started(root, sim, (clock, true), ledger, name).await
}

/// A service on `root` named `name`, pushing or (`schedule` off) a mirror; its metrics.
async fn started(
    root: &Path,
    sim: &str,
    (clock, schedule): (Clock, bool),
    ledger: &str,
    name: &str,
) -> (Running, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    metrics.set_instance(name);
    let on = (schedule, 3600);
    let running = Running::start_configured(root, sim, clock, on, metrics.clone(), |c| {
        c.ledger = LedgerTarget::parse(ledger, |_| None).unwrap();
        c.instance = name.to_string();
    })
    .await;
    (running, metrics)
}

/// Two projects scheduling the same slot with other messages, and their versions.
fn two_projects() -> (tempfile::TempDir, tempfile::TempDir, String, String) {
    let registry = fast_registry(PUSH, "5");
    let a = project(
        &campaign("drill", "police-impersonation", "0 * * * *"),
        Some(&registry),
    );
    let b = project(
        &campaign("drill", "fake-rights-agents", "0 * * * *"),
        Some(&registry),
    );
    let (va, vb) = (version_of(a.path()), version_of(b.path()));
    assert_ne!(va, vb);
    (a, b, va, vb)
}

/// The version a service loads from `root` (what it records with its runs).
fn version_of(root: &Path) -> String {
    let data = DataDir::resolve(root, None);
    let (project, _) = shengbo::push::Project::load(root, &data, t0()).unwrap();
    project.version.hash
}

/// The run of `campaign` at `at` and its deliveries once none is pending (every virtual
/// second, for at most an hour).
async fn settled(
    ledger: &Arc<dyn Ledger>,
    at: DateTime<Utc>,
) -> (shengbo::ledger::Run, Vec<Delivery>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot was never pushed"
        );
        let l = Arc::clone(ledger);
        let found = tokio::task::spawn_blocking(move || {
            let runs = l
                .runs(at, at + TimeDelta::seconds(1), Some("drill"))
                .unwrap();
            assert!(runs.len() <= 1, "one run per slot: {runs:?}");
            let run = runs.into_iter().next()?;
            let ds = l.deliveries_of_run(run.id).unwrap();
            let done = !ds.is_empty() && ds.iter().all(|d| d.state != DeliveryState::Pending);
            done.then_some((run, ds))
        })
        .await
        .unwrap();
        if let Some(found) = found {
            return found;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn two_instances_with_other_schedules_say_so_and_push_a_slot_under_one_version() {
    let db = util::pg::fresh_database();
    let (a, b, va, vb) = two_projects();
    let (sim, sim_state) = sim_with(t0(), Faults::default()).await;
    let clock = Clock::starting_at(t0());
    let one = instance(a.path(), &sim, clock, &db, "county-a").await;
    let two = instance(b.path(), &sim, clock, &db, "county-b").await;

    // Within one round of writing their versions, each has noticed the other's.
    tokio::time::sleep(Duration::from_secs(40)).await;
    let pairs = [
        (&one, "county-a", "county-b"),
        (&two, "county-b", "county-a"),
    ];
    for ((me, metrics), name, peer) in pairs {
        let text = metrics.render();
        let gauge = format!("shengbo_content_version_mismatch{{instance=\"{name}\"}} 1");
        assert!(text.contains(&gauge), "{name}: {text}");
        let (status, body) = me.get("/readyz").await;
        assert_eq!(status, 200, "still ready: {body}");
        assert!(
            body.contains(&format!("content differs from instance {peer}"))
                && body.contains("schedules/drill.toml"),
            "{body}"
        );
        assert!(
            body.contains(&va[..12]) && body.contains(&vb[..12]),
            "{body}"
        );
    }

    // The slot both schedule (10 minutes on) becomes one run, pushed by the instance that
    // created it, with its own message only; the other adds and sends nothing.
    let ledger = LedgerTarget::parse(&db, |_| None).unwrap().open().unwrap();
    let (run, deliveries) = settled(&ledger, t0() + TimeDelta::minutes(10)).await;
    let hash = run
        .content_hash
        .clone()
        .expect("the run records its version");
    let message = if hash == va {
        "police-impersonation"
    } else {
        assert_eq!(hash, vb, "the run's version is one of the two");
        "fake-rights-agents"
    };
    assert_eq!(deliveries.len(), 2, "one Yi–Mandarin pair: {deliveries:?}");
    for d in &deliveries {
        assert_eq!(d.plan.message, message, "{d:?}");
        assert_eq!(
            d.state,
            DeliveryState::Delivered,
            "never cancelled by the other: {d:?}"
        );
    }
    assert_eq!(sim_state.stats().messages, 2, "each message sent once");
    one.0.stop().await;
    two.0.stop().await;
}

/// One instance on SQLite, stopped while a slot's deliveries wait for platforms that are down;
/// the schedule is edited (a second county) before it starts again. No live instance holds the
/// run's version any more: it is adopted — its recorded deliveries go out under their ids, the
/// new county's are added — and keeps the version it was created with; the next slot is the
/// new version's.
#[tokio::test(start_paused = true)]
async fn after_an_edit_an_interrupted_run_is_adopted_under_its_recorded_ids() {
    let push = "lead_time_s = 300\nair_by_s = 1200\nbackoff_base_ms = 2000\nbackoff_cap_s = 30\n\
        connection_check_s = 3600\nstate_wait_s = 5";
    let one_county = campaign("drill", "police-impersonation", "0 * * * *");
    let dir = project(&one_county, Some(&fast_registry(push, "5")));
    let root = dir.path();
    let before = version_of(root);
    let clock = Clock::starting_at(t0());
    let down = Faults {
        http_5xx_rate: 1.0,
        ..Faults::default()
    };
    let (sim_down, _) = sim_with(t0(), down).await;
    let service = Running::start(root, &sim_down, clock, true, 3600).await;
    // 11:00's run is recorded at 10:55; at 10:56:30 its pair still waits for its platform.
    tokio::time::sleep(Duration::from_secs(390)).await;
    let slot = t0() + TimeDelta::minutes(10);
    let l = super::ledger(root);
    let run = l.runs(slot, slot + TimeDelta::seconds(1), None).unwrap()[0].clone();
    assert_eq!(run.content_hash.as_deref(), Some(before.as_str()));
    let recorded = l.deliveries_of_run(run.id).unwrap();
    assert_eq!(recorded.len(), 2);
    assert!(recorded.iter().all(|d| d.state == DeliveryState::Pending));
    service.task.abort();
    let _ = service.task.await;

    let two_counties = one_county.replace("\"昭觉县\"]", "\"昭觉县\", \"布拖县\"]");
    assert_ne!(two_counties, one_county);
    std::fs::write(root.join("schedules/drill.toml"), two_counties).unwrap();
    assert_ne!(version_of(root), before);
    let (sim_up, _) = sim_with(clock.now(), Faults::default()).await;
    let service = Running::start(root, &sim_up, clock, true, 3600).await;
    let resumed = super::service::settled_run(root, "drill", slot, Duration::from_secs(600)).await;
    let ids = |ds: &[Delivery]| {
        let mut v: Vec<_> = ds.iter().map(|d| (d.id, d.plan.ebm_id.clone())).collect();
        v.sort();
        v
    };
    assert_eq!(resumed.len(), 4, "the new county's pair added");
    let kept: Vec<_> = ids(&resumed)
        .into_iter()
        .filter(|(id, _)| recorded.iter().any(|r| r.id == *id))
        .collect();
    assert_eq!(kept, ids(&recorded), "recorded ids unchanged");
    let run = super::ledger(root).run(run.id).unwrap().unwrap();
    assert_eq!(run.content_hash.as_deref(), Some(before.as_str()));
    for d in &resumed {
        assert!(
            matches!(d.state, DeliveryState::Delivered | DeliveryState::Played),
            "sent, not cancelled: {d:?}"
        );
    }
    let next = slot + TimeDelta::hours(1);
    let pushed = super::service::settled_run(root, "drill", next, Duration::from_secs(7200)).await;
    let endpoints: std::collections::BTreeSet<_> =
        pushed.iter().map(|d| d.plan.endpoint.as_str()).collect();
    assert_eq!(
        endpoints.len(),
        2,
        "the next slot has both counties: {endpoints:?}"
    );
    let next_run = super::ledger(root)
        .run(pushed[0].plan.run)
        .unwrap()
        .unwrap();
    assert_eq!(next_run.content_hash, Some(version_of(root)));
    service.stop().await;
}

/// A `serve --no-schedule` mirror on the same PostgreSQL ledger with other schedules: the
/// mirror says loudly that what stations pull from it differs from what is pushed (metric,
/// `/readyz`), the pushing instance does not count the mirror as a mismatch; a mirror with the
/// pusher's name writes its row as `NAME:mirror` and leaves the pusher's row alone.
#[tokio::test(start_paused = true)]
async fn a_mirror_with_other_schedules_says_so_and_a_pusher_does_not_count_it() {
    let db = util::pg::fresh_database();
    let (a, b, va, vb) = two_projects();
    let (sim, _) = sim_with(t0(), Faults::default()).await;
    let clock = Clock::starting_at(t0());
    let pusher = instance(a.path(), &sim, clock, &db, "county-a").await;
    let other = started(b.path(), &sim, (clock, false), &db, "county-a-mirror").await;
    let same_host = started(a.path(), &sim, (clock, false), &db, "county-a").await;
    tokio::time::sleep(Duration::from_secs(40)).await;

    let text = other.1.render();
    let gauge = "shengbo_content_version_mismatch{instance=\"county-a-mirror\"} 1";
    assert!(text.contains(gauge), "{text}");
    let (status, body) = other.0.get("/readyz").await;
    assert_eq!(status, 200, "still serving pulls: {body}");
    assert!(
        body.contains("content differs from instance county-a")
            && body.contains("schedules/drill.toml")
            && body.contains("this mirror serves pulls from other schedules than are pushed")
            && body.contains(&va[..12])
            && body.contains(&vb[..12]),
        "{body}"
    );
    for (metrics, name) in [(&pusher.1, "county-a"), (&same_host.1, "county-a")] {
        let text = metrics.render();
        let gauge = format!("shengbo_content_version_mismatch{{instance=\"{name}\"}} 0");
        assert!(text.contains(&gauge), "{name}: {text}");
    }
    let (status, body) = pusher.0.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("content differs"), "{body}");

    let ledger = LedgerTarget::parse(&db, |_| None).unwrap().open().unwrap();
    let rows = tokio::task::spawn_blocking(move || ledger.instances().unwrap())
        .await
        .unwrap();
    let got: Vec<(&str, bool, &str)> = rows
        .iter()
        .map(|i| (i.name.as_str(), i.pushes, &i.content_hash[..12]))
        .collect();
    assert_eq!(
        got,
        [
            ("county-a", true, &va[..12]),
            ("county-a-mirror", false, &vb[..12]),
            ("county-a:mirror", false, &va[..12]),
        ]
    );
    pusher.0.stop().await;
    other.0.stop().await;
    same_host.0.stop().await;
}
