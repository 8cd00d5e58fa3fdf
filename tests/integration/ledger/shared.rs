//! A whole `run --once` with the ledger on PostgreSQL (`--ledger postgres://…`) against the
//! simulator, then a second process at the same slot on the same database: it finds the run
//! and its deliveries, adds no run and no id, and sends nothing again.

use shengbo::ledger::DeliveryState;
use shengbo::sim::Faults;

use super::Store;
use crate::push;
use crate::util;

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
            .map(|d| (d.id, d.ebd_id.clone(), d.ebm_id.clone(), d.state))
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
    assert!(delivered.iter().all(|d| d.endpoint == "zhaojue"));
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
