//! Several instances, one database: a fresh SQLite file opened by two at once; counters handed
//! out once across instances; `/readyz`
//! saying whether an instance reaches its database (and the connection recovering when it
//! answers again); a whole `run --once` on PostgreSQL against the simulator, then a second
//! process at the same slot on the same database adding no run, no id and no send; `serve` on
//! PostgreSQL; the instance name checked.

use axum::http::StatusCode;
use shengbo::ledger::DeliveryState;
use shengbo::sim::Faults;

use super::{LedgerError, LedgerTarget, Store, race, t};
use crate::push;
use crate::server::{Fixture, get};
use crate::util;

both_stores!(two_instances_never_hand_out_one_counter_value_twice);

/// Two ledgers on one store (two instances) draw the same counter at once, each from its own
/// reserved blocks: every value once, none above the bound; a third instance after them gets
/// only values neither handed out, until the bound.
fn two_instances_never_hand_out_one_counter_value_twice(store: &Store) {
    let day = t(9, 0).date_naive();
    let mut drawn: Vec<u32> = race(store, 2, 50, |l| {
        l.next_sequence_within("ebm", day, 120).unwrap().unwrap()
    });
    let l = store.open();
    while let Some(v) = l.next_sequence_within("ebm", day, 120).unwrap() {
        drawn.push(v);
    }
    let mut sorted = drawn.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), drawn.len(), "a value handed out twice");
    assert!(
        drawn.len() > 100 && sorted.last() == Some(&120),
        "{sorted:?}"
    );
    assert_eq!(l.next_sequence_within("ebm", day, 120).unwrap(), None);
}

/// Two instances (processes, here threads) opening one fresh SQLite ledger at the same moment
/// both open it: turning the new file to WAL does not wait in SQLite's busy handler, and failed
/// one of them with "database is locked" about one time in four. Fifty fresh files.
#[test]
fn two_instances_opening_a_fresh_sqlite_file_at_once_both_open_it() {
    for round in 0..50 {
        let store = Store::sqlite();
        let opened = race(&store, 2, 1, |_| ());
        assert_eq!(opened.len(), 2, "round {round}");
    }
}

fn admin(sql: String) {
    std::thread::spawn(move || {
        util::pg::client(&util::pg::url("postgres"))
            .batch_execute(&sql)
            .unwrap()
    })
    .join()
    .unwrap();
}

#[tokio::test]
async fn readyz_says_whether_the_database_answers() {
    let url = util::pg::fresh_database();
    let name = url.rsplit('/').next().unwrap().to_string();
    let ledger = Store::Postgres(url.clone()).open();
    let f = Fixture::new();
    let state = f
        .state
        .clone()
        .with_records(shengbo::server::records::shared(ledger.clone(), None));
    let ready = get(&state, "/readyz", None, &[]).await;
    assert_eq!(ready.status, StatusCode::OK);
    // Calls at once: every connection of the pool is open before the cut.
    let at_once = |ledger: &std::sync::Arc<dyn shengbo::ledger::Ledger>| {
        std::thread::scope(|s| {
            let calls: Vec<_> = (0..8)
                .map(|_| s.spawn(|| ledger.runs(t(9, 0), t(11, 0), None).map(|r| r.len())))
                .collect();
            calls
                .into_iter()
                .map(|c| c.join().unwrap())
                .collect::<Vec<_>>()
        })
    };
    assert!(at_once(&ledger).iter().all(|r| r.is_ok()));

    // The database goes away (its connections cut): not ready, and the reason says why.
    admin(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';
         ALTER DATABASE {name} RENAME TO {name}_away"
    ));
    let gone = get(&state, "/readyz", None, &[]).await;
    assert_eq!(
        gone.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        gone.text()
    );
    assert!(gone.text().contains("ledger"), "{}", gone.text());

    // It is back: the next check connects again and the instance is ready, its rows intact.
    admin(format!("ALTER DATABASE {name}_away RENAME TO {name}"));
    let back = get(&state, "/readyz", None, &[]).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text());
    assert!(ledger.open_run("c", t(10, 0), 1, t(9, 0)).unwrap().1);
    // Every connection of the pool was cut: each one is checked and opened again before its
    // next job, so no later call fails (whichever worker takes it).
    for answer in at_once(&ledger) {
        assert_eq!(answer.unwrap(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_postgres_reaches_everyone_and_a_second_instance_adds_nothing() {
    let url = util::pg::fresh_database();
    let sim = push::start_sim(Faults::default(), 120.0).await;
    let proj = push::project(&push::drill_campaign("all = true"), None);
    let at = push::this_minute();
    let out = push::run_once(proj.path(), &sim.url, at, &["--ledger", &url]).await;
    let stdout = util::stdout(&out);
    util::assert_exit(&out, 0);
    assert!(
        stdout.contains("(100.0%) in 304 of 304 targeted townships"),
        "{stdout}"
    );
    assert!(
        !proj.path().join(".shengbo/ledger.sqlite").exists(),
        "no SQLite ledger beside the database"
    );
    let ledger = Store::Postgres(url.clone()).open();
    let all = || {
        let runs = ledger
            .runs(at, at + chrono::TimeDelta::minutes(1), None)
            .unwrap();
        assert_eq!(runs.len(), 1);
        ledger.deliveries_of_run(runs[0].id).unwrap()
    };
    let first = all();
    assert_eq!(
        first.len(),
        34,
        "17 county platforms × one Yi–Mandarin pair"
    );
    assert!(first.iter().all(|d| d.state == DeliveryState::Played));
    assert_eq!(sim.state.stats().messages, 34);

    let again = push::run_once(proj.path(), &sim.url, at, &["--ledger", &url]).await;
    util::assert_exit(&again, 0);
    let ids = |v: &[shengbo::ledger::Delivery]| {
        v.iter()
            .map(|d| (d.id, d.plan.ebd_id.clone(), d.plan.ebm_id.clone(), d.state))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&all()), ids(&first), "same run, same ids, same states");
    assert_eq!(sim.state.stats().messages, 34, "nothing sent twice");
}

/// `SHENGBO_LEDGER=postgres://… shengbo serve`: the cron loop pushes the next slot with the
/// ledger in the database (the smoke test of `push/serve.rs`, on PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_the_ledger_on_postgres_pushes_the_next_slot() {
    use chrono::Timelike;
    use std::time::{Duration, Instant};

    let url = util::pg::fresh_database();
    let sim = push::start_sim(Faults::default(), 120.0).await;
    let started = chrono::Utc::now();
    let minute = (started + chrono::Duration::minutes(30)).minute();
    let cfg = "lead_time_s = 3600\nair_by_s = 60\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2";
    let proj = push::project(
        &push::serve::hourly("hourly", minute),
        Some(&push::fast_registry(cfg, "5")),
    );
    let child = push::serve::serve(proj.path(), &sim.url)
        .env("SHENGBO_LEDGER", &url)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ledger = Store::Postgres(url).open();
    let deadline = Instant::now() + Duration::from_secs(120);
    let delivered = loop {
        assert!(Instant::now() < deadline, "the slot was never pushed");
        let runs = ledger
            .runs(
                started,
                started + chrono::Duration::hours(2),
                Some("hourly"),
            )
            .unwrap();
        let done = runs.first().and_then(|r| {
            let ds = ledger.deliveries_of_run(r.id).unwrap();
            let sent = ds.len() == 2 && ds.iter().all(|d| d.state != DeliveryState::Pending);
            sent.then_some(ds)
        });
        if let Some(ds) = done {
            break ds;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(delivered.iter().all(|d| d.plan.endpoint == "zhaojue"));
    assert_eq!(sim.state.stats().messages, 2);
    assert!(!proj.path().join(".shengbo/ledger.sqlite").exists());
    push::serve::stop(child).await;
}

/// The instance name is checked before anything starts.
#[test]
fn a_bad_instance_name_is_refused_with_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = util::run_in(dir.path(), &["serve", "--instance", "county b!"]);
    util::assert_exit(&out, 2);
    let err = util::stderr(&out);
    assert!(
        err.contains("county b!") && err.contains("1–64 characters"),
        "{err}"
    );
}

#[test]
fn an_empty_database_is_migrated_and_reopening_is_idempotent() {
    let url = crate::util::pg::fresh_database();
    let store = Store::Postgres(url.clone());
    let version = || -> i64 {
        let url = url.clone();
        std::thread::spawn(move || {
            let mut c = crate::util::pg::client(&url);
            c.query_one("SELECT version FROM ledger_schema", &[])
                .unwrap()
                .get(0)
        })
        .join()
        .unwrap()
    };
    let (run, _) = store.open().open_run("c", t(10, 0), 1, t(9, 0)).unwrap();
    let current = i64::from(shengbo::ledger::schema::current_version());
    assert_eq!(version(), current);
    let l = store.open();
    assert_eq!(version(), current);
    assert_eq!(l.open_run("c", t(10, 0), 1, t(9, 5)).unwrap(), (run, false));
}

#[test]
fn a_newer_database_is_refused_with_a_clear_message() {
    let url = crate::util::pg::fresh_database();
    drop(Store::Postgres(url.clone()).open());
    let u = url.clone();
    std::thread::spawn(move || {
        let mut c = crate::util::pg::client(&u);
        c.execute("UPDATE ledger_schema SET version = 99", &[])
            .unwrap();
    })
    .join()
    .unwrap();
    let err = LedgerTarget::parse(&url, |_| None)
        .unwrap()
        .open()
        .map(drop)
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::PgNewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("schema version 99"), "{err}");
}
