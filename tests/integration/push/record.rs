//! Two instances preparing one run on one PostgreSQL ledger (in one process, each with its own
//! connections, as two `serve` instances seeing a slot come due): the run's deliveries are
//! recorded once and their ids drawn once — the daily id counters advance by the number of
//! deliveries, not twice that — and an instance that dies while recording leaves the run to
//! the other, which records the rest.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use shengbo::datadir::DataDir;
use shengbo::dispatch::Clock;
use shengbo::ebd::EbdProfile;
use shengbo::endpoint::Registry;
use shengbo::ledger::{DeliveryId, DeliveryState};
use shengbo::ledger::{Ledger, LedgerTarget};
use shengbo::push::state::StateWait;
use shengbo::push::{PlayClock, PreparedRun, Project, Pusher};
use shengbo::transport::Router;

use super::service::t0;
use super::{drill_campaign, project};

/// The occurrence prepared: a minute of the every-minute drill campaign.
fn occurrence() -> DateTime<Utc> {
    t0() + TimeDelta::minutes(10)
}

/// The project and registry as instance `name` loads them (with its own data directory, as on
/// its own machine), its endpoints on a port nothing listens on.
fn load(root: &Path, name: &str) -> (Project, Registry) {
    load_on(root, name, "http://127.0.0.1:9")
}

/// [`load`], the endpoints on the simulator at `sim`.
fn load_on(root: &Path, name: &str, sim: &str) -> (Project, Registry) {
    let data = DataDir::resolve(root, Some(&root.join(format!(".shengbo-{name}"))));
    let (project, _) = Project::load(root, &data, t0()).unwrap();
    let (registry, _) =
        shengbo::scheduler::endpoints::load_registry(root, &project.directory, Some(sim)).unwrap();
    (project, registry)
}

/// Instance `name` on the ledger at `url`, sending to `registry`'s endpoints.
fn pusher(url: &str, name: &str, registry: Registry) -> Pusher {
    let ledger: Arc<dyn Ledger> = LedgerTarget::parse(url, |_| None).unwrap().open().unwrap();
    let profile = Arc::new(EbdProfile::default());
    let client = shengbo::transport::http_client().unwrap();
    Pusher {
        ledger,
        router: Arc::new(Router::new(&registry, &profile, &client)),
        registry: Arc::new(registry),
        profile,
        clip_base: "http://127.0.0.1:9/v1/audio".into(),
        wire: Clock::system(),
        instance: name.into(),
    }
}

/// Prepare the drill's occurrence as an instance about to drive it does: the deliveries it
/// creates are leased to it from `t0`.
fn prepare(pusher: &Pusher, project: &Project) -> PreparedRun {
    pusher
        .prepare_occurrence(project, "drill", occurrence(), t0(), Some(t0()))
        .unwrap()
        .expect("the drill airs at its occurrence")
}

/// Each delivery's ids by endpoint and segment.
fn ids(run: &PreparedRun) -> BTreeMap<(String, u32), (String, String)> {
    run.deliveries
        .iter()
        .map(|j| {
            let p = &j.delivery.plan;
            (
                (p.endpoint.clone(), p.segment),
                (p.ebd_id.clone(), p.ebm_id.clone()),
            )
        })
        .collect()
}

/// Every daily counter's value, by name (from a plain thread: the sync client).
fn counters(url: &str) -> BTreeMap<String, i64> {
    let url = url.to_string();
    std::thread::spawn(move || {
        let mut c = crate::util::pg::client(&url);
        c.query("SELECT kind, value FROM sequences", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    })
    .join()
    .unwrap()
}

/// How many deliveries the ledger at `url` holds for the occurrence's run.
fn recorded(url: &str) -> usize {
    let l = LedgerTarget::parse(url, |_| None).unwrap().open().unwrap();
    let runs = l.runs(occurrence(), occurrence() + TimeDelta::minutes(1), None);
    let run = runs.unwrap().first().expect("one run").id;
    l.deliveries_of_run(run).unwrap().len()
}

#[test]
fn two_instances_preparing_one_run_at_once_draw_its_ids_once() {
    let url = crate::util::pg::fresh_database();
    let dir = project(&drill_campaign("all = true"), None);
    // The run is opened and held a moment by a third instance, so that both reach it together
    // (unheld, each would find no delivery recorded and draw ids for all of them); once let
    // go, one records the run and the other finds it recorded.
    let (project, _) = load(dir.path(), "county-0");
    let ledger = LedgerTarget::parse(&url, |_| None).unwrap().open().unwrap();
    let (run, _) = ledger
        .open_run_versioned(
            "drill",
            occurrence(),
            304,
            Some(&project.version.hash),
            t0(),
        )
        .unwrap();
    let held = ledger.hold_run(run, Duration::ZERO).unwrap();
    let (a, b) = std::thread::scope(|s| {
        let both: Vec<_> = ["county-a", "county-b"]
            .map(|name| {
                let (url, root) = (&url, dir.path());
                s.spawn(move || {
                    let (project, registry) = load(root, name);
                    prepare(&pusher(url, name, registry), &project)
                    // The pusher's ledger closes here, giving back the ids it reserved unused.
                })
            })
            .into_iter()
            .collect();
        let gave_up = || both.iter().all(|h| h.is_finished());
        assert!(await_waiters(&url, 2, &gave_up), "both waited for the run");
        drop(held);
        let mut runs = both.into_iter().map(|h| h.join().unwrap());
        (runs.next().unwrap(), runs.next().unwrap())
    });
    assert_eq!((a.run.id, b.run.id), (run, run), "one run");
    let n = a.deliveries.len();
    assert!(n > 20, "a run of the prefecture: {n} deliveries");
    assert_eq!(ids(&a), ids(&b), "both send the same ids");
    assert_eq!(recorded(&url), n, "each delivery recorded once");
    // One id of each kind per delivery: none drawn by the instance that found them recorded.
    let counters = counters(&url);
    assert_eq!(
        counters.values().sum::<i64>(),
        2 * n as i64,
        "EBMIDs and EBDIDs drawn once per delivery: {counters:?}"
    );
}

#[test]
fn an_instance_dying_while_recording_leaves_the_rest_to_the_other() {
    let url = crate::util::pg::fresh_database();
    let dir = project(&drill_campaign("all = true"), None);
    // A records the run's first endpoints' deliveries, then dies before the others.
    let (project_a, mut registry_a) = load(dir.path(), "county-a");
    let half = registry_a.endpoints.len() / 2;
    for e in &mut registry_a.endpoints[half..] {
        e.enabled = false;
    }
    let a = pusher(&url, "county-a", registry_a);
    let first = prepare(&a, &project_a);
    assert!(!first.deliveries.is_empty());
    let run = first.run.id;
    let still_recording = a.ledger.hold_run(run, Duration::ZERO).unwrap();
    assert!(still_recording.is_some());

    // What A reserved is A's: B's draws are counted from here.
    let before = counters(&url).values().sum::<i64>();
    let (project_b, registry_b) = load(dir.path(), "county-b");
    let b = pusher(&url, "county-b", registry_b);
    let whole = std::thread::scope(|s| {
        let waiting = s.spawn(|| prepare(&b, &project_b));
        assert!(
            await_waiters(&url, 1, &|| waiting.is_finished()),
            "B waited for A"
        );
        // A dies: its session ends, and its hold with it.
        assert_eq!(end_holders(&url), 1, "A held the run");
        waiting.join().unwrap()
    });
    assert_eq!(whole.run.id, run);
    assert!(whole.deliveries.len() > first.deliveries.len());
    let (of_a, of_b) = (ids(&first), ids(&whole));
    for (key, recorded) in &of_a {
        assert_eq!(of_b.get(key), Some(recorded), "{key:?} kept A's ids");
    }
    // B closes, giving back what it reserved unused.
    drop(b);
    assert_eq!(recorded(&url), whole.deliveries.len());
    let rest = whole.deliveries.len() - first.deliveries.len();
    let counters = counters(&url);
    assert_eq!(
        counters.values().sum::<i64>() - before,
        2 * rest as i64,
        "B drew ids for the rest only: {counters:?}"
    );
    drop((a, still_recording));
}

/// `database = <the test's database>`: advisory locks are per database.
const THIS_DB: &str = "database = (SELECT oid FROM pg_database WHERE datname = current_database())";

/// Wait until `n` sessions wait for a run's hold: true, or false once `gave_up()` (the
/// instances went on without waiting).
fn await_waiters(url: &str, n: i64, gave_up: &dyn Fn() -> bool) -> bool {
    let mut c = crate::util::pg::client(url);
    let waiting = format!(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND {THIS_DB}"
    );
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if c.query_one(&waiting, &[]).unwrap().get::<_, i64>(0) >= n {
            return true;
        }
        if gave_up() {
            return false;
        }
        assert!(Instant::now() < deadline, "nobody waited for the run");
        std::thread::yield_now();
    }
}

/// End the sessions holding a run's hold, as their instances' deaths would; how many.
fn end_holders(url: &str) -> i64 {
    let end = format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND {THIS_DB}"
    );
    let mut c = crate::util::pg::client(url);
    c.query_one(&end, &[]).unwrap().get(0)
}

/// An instance reads a run (recorded by another) before it takes the run's leases. Deliveries
/// the other instance sent in between are not sent again: one that has played since (final: it
/// needs no lease, and the take counts it as held), and one delivered whose lease on it then ran
/// out (free to take). The reading instance sends the rest, each once, on tokio's paused time
/// against the simulator.
#[tokio::test(start_paused = true)]
async fn deliveries_sent_after_an_instance_read_the_run_are_not_sent_again_by_it() {
    let url = crate::util::pg::fresh_database();
    let dir = project(&drill_campaign("all = true"), None);
    let root = dir.path().to_path_buf();
    let clock = Clock::starting_at(t0());
    let (sim, state) = super::service::sim_with(t0(), shengbo::sim::Faults::default()).await;
    super::service::follow(&state, clock);
    let (a, b, run) = {
        let (url, sim) = (url.clone(), sim.clone());
        tokio::task::spawn_blocking(move || {
            let (project, registry) = load_on(&root, "county-a", &sim);
            let a = pusher(&url, "county-a", registry);
            prepare(&a, &project);
            let (project, registry) = load_on(&root, "county-b", &sim);
            let b = pusher(&url, "county-b", registry);
            let run = prepare(&b, &project);
            (a, b, run)
        })
        .await
        .unwrap()
    };
    let n = run.deliveries.len();
    assert!(n >= 4, "{n} deliveries");
    assert!(
        run.deliveries
            .iter()
            .all(|j| j.delivery.state == DeliveryState::Pending)
    );
    // A recorded them leased to itself. Meanwhile A sent two of them: one has played, the other
    // was delivered; then A went away and its leases ran out.
    let (played, delivered) = (run.deliveries[0].delivery.id, run.deliveries[1].delivery.id);
    let all: Vec<DeliveryId> = run.deliveries.iter().map(|j| j.delivery.id).collect();
    let ledger = Arc::clone(&a.ledger);
    tokio::task::spawn_blocking(move || {
        assert!(
            ledger
                .lease(&all, "county-b", t0(), t0())
                .unwrap()
                .is_empty(),
            "A holds what it recorded"
        );
        let now = t0();
        for (d, to) in [
            (played, DeliveryState::Delivered),
            (played, DeliveryState::Played),
            (delivered, DeliveryState::Delivered),
        ] {
            assert!(ledger.transition(d, to, Some("sent by A"), now).unwrap());
        }
        let open: Vec<DeliveryId> = all.iter().copied().filter(|d| *d != played).collect();
        assert_eq!(ledger.lease(&open, "county-a", now, now).unwrap(), open);
    })
    .await
    .unwrap();

    let dispatcher = b.dispatcher(clock);
    let play = PlayClock::starting_at(clock.now(), 1.0);
    let wait = StateWait::of(&b.registry.push);
    let (_stop, stop) = tokio::sync::watch::channel(false);
    let mut runs = vec![run];
    let drive = b.drive(&dispatcher, &mut runs, play, wait, stop);
    tokio::time::timeout(Duration::from_secs(6 * 3600), drive)
        .await
        .expect("B's drive ends");

    let ledger = Arc::clone(&b.ledger);
    let id = runs[0].run.id;
    let (sent, states) = tokio::task::spawn_blocking(move || {
        let ds = ledger.deliveries_of_run(id).unwrap();
        let sent: Vec<_> = ds
            .iter()
            .map(|d| {
                let by: Vec<_> = ledger
                    .attempts(d.id)
                    .unwrap()
                    .into_iter()
                    .map(|a| a.instance)
                    .collect();
                (d.id, by)
            })
            .collect();
        let states: BTreeMap<_, _> = ds.iter().map(|d| (d.id, d.state)).collect();
        (sent, states)
    })
    .await
    .unwrap();
    assert_eq!(sent.len(), n);
    for (d, by) in &sent {
        if *d == played || *d == delivered {
            assert!(
                by.is_empty(),
                "{d}, sent by A before B took the run, sent again: {by:?}"
            );
        } else {
            assert_eq!(by, &[Some("county-b".to_string())], "{d}: sent by B once");
            assert_eq!(states[d], DeliveryState::Played, "{d}");
        }
    }
    assert_eq!(states[&played], DeliveryState::Played);
    assert_eq!(
        state.stats().messages,
        n as u64 - 2,
        "B's packages at the platform"
    );
}
