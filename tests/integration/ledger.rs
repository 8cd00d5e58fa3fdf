//! Integration tests: the ledger on a real SQLite file in a temporary folder and on a real
//! PostgreSQL database (a throwaway cluster, `util::pg`): every test runs against both stores.

use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use shengbo::lang::Lang;
use shengbo::ledger::{
    AttemptResult, CircuitState, DeliveryId, DeliveryState, EndpointHealth, LeaseTerm, Ledger,
    LedgerError, LedgerTarget, NewAttempt, NewDelivery, RunId, RunState, Settled, SqliteLedger,
    StateReport,
};
use shengbo::reach::Confirmed;

#[macro_use]
mod stores;
pub use stores::{Store, race};

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, h, m, 0).unwrap()
}

fn open(path: &Path) -> SqliteLedger {
    SqliteLedger::open(path).unwrap()
}

both_stores!(
    reopen_preserves_runs_deliveries_attempts_reports_and_health,
    a_settled_attempt_writes_its_state_and_health_together,
    racing_open_run_creates_one_run,
    a_repeated_delivery_returns_the_first_ids,
    illegal_transitions_are_refused_and_state_is_kept,
    sequences_survive_reopen_and_never_repeat,
    due_expired_and_awaiting_state,
    reach_from_the_ledger_matches_hand_computation,
    villages_of_one_township_count_as_one_township,
);

fn new_delivery(run: RunId, endpoint: &str, lang: Lang, towns: &[&str], n: u32) -> NewDelivery {
    NewDelivery {
        run,
        endpoint: endpoint.to_string(),
        segment: Lang::ALL.iter().position(|&l| l == lang).unwrap() as u32,
        lang,
        message: "fake-agents".to_string(),
        repeat: 0,
        townships: towns.iter().map(|s| s.to_string()).collect(),
        ebd_id: format!("10{:039}", n),
        ebm_id: format!("{:035}", n),
        related_ebm_id: None,
        window_start: t(10, 0),
        window_end: t(10, 5),
        air_by: t(10, 2),
        payload_digest: format!("digest-{n}"),
    }
}

fn report(ebm_id: &str, code: u8, terminals: Option<u64>, areas: &[&str]) -> StateReport {
    StateReport {
        ebm_id: ebm_id.to_string(),
        reported_at: t(10, 10),
        brd_state_code: code,
        description: Some("ok".to_string()),
        coverage_rate: Some(0.9),
        area_codes: areas.iter().map(|s| s.to_string()).collect(),
        terminals,
        raw: "<EBD/>".to_string(),
    }
}

fn attempt(d: shengbo::ledger::DeliveryId, result: AttemptResult) -> NewAttempt {
    NewAttempt {
        delivery: d,
        started_at: t(9, 58),
        finished_at: t(9, 58),
        result,
        latency_ms: 120,
        error: Some("connection refused".to_string()),
        instance: Some("county-a".to_string()),
    }
}

fn reopen_preserves_runs_deliveries_attempts_reports_and_health(store: &Store) {
    let (run, id) = {
        let l = store.open();
        let (run, created) = l.open_run("weekly", t(10, 0), 2, t(9, 0)).unwrap();
        assert!(created);
        let (d, created) = l
            .record_delivery(
                &new_delivery(run, "ep1", Lang::Ii, &["513431100", "513431101"], 1),
                t(9, 1),
            )
            .unwrap();
        assert!(created);
        l.record_attempt(&attempt(d.id, AttemptResult::Connect))
            .unwrap();
        l.record_attempt(&attempt(d.id, AttemptResult::Delivered))
            .unwrap();
        l.transition(
            d.id,
            DeliveryState::Delivered,
            Some("ResultCode 1"),
            t(9, 59),
        )
        .unwrap();
        l.record_state_report(&report(&d.plan.ebm_id, 3, Some(12), &[]))
            .unwrap();
        l.put_endpoint_health(&EndpointHealth {
            endpoint: "ep1".into(),
            last_seen: Some(t(9, 59)),
            consecutive_failures: 0,
            circuit: CircuitState::Closed,
            reason: None,
            updated_at: t(9, 59),
        })
        .unwrap();
        l.close_run(run).unwrap();
        (run, d.id)
    };
    let l = store.open();
    let r = l.run(run).unwrap().unwrap();
    assert_eq!(
        (r.campaign.as_str(), r.occurrence, r.planned_townships),
        ("weekly", t(10, 0), 2)
    );
    assert_eq!(r.state, RunState::Closed);
    let d = l.delivery(id).unwrap().unwrap();
    assert_eq!(d.state, DeliveryState::Played);
    assert_eq!(d.plan.townships, vec!["513431100", "513431101"]);
    assert_eq!(d.plan.air_by, t(10, 2));
    let attempts = l.attempts(id).unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].result, AttemptResult::Connect);
    assert_eq!(attempts[1].number, 2);
    let reports = l.state_reports(id).unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].terminals, Some(12));
    assert_eq!(
        l.endpoint_health("ep1").unwrap().unwrap().last_seen,
        Some(t(9, 59))
    );
    let summary = l.run_summary(run).unwrap();
    assert_eq!(
        (summary.deliveries, summary.attempts, summary.townships),
        (1, 2, 2)
    );
    assert_eq!(summary.by_state.get(&DeliveryState::Played), Some(&1));
}

/// A township targeted in part is recorded by its villages' 12-digit codes; the run summary
/// still counts townships.
fn villages_of_one_township_count_as_one_township(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("villages", t(10, 0), 2, t(9, 0)).unwrap();
    let towns = ["513431102200", "513431102201", "513431100"];
    l.record_delivery(&new_delivery(run, "ep1", Lang::Ii, &towns, 7), t(9, 1))
        .unwrap();
    assert_eq!(l.run_summary(run).unwrap().townships, 2);
}

fn a_settled_attempt_writes_its_state_and_health_together(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("weekly", t(10, 0), 1, t(9, 0)).unwrap();
    let (d, _) = l
        .record_delivery(
            &new_delivery(run, "ep1", Lang::Ii, &["513431100"], 1),
            t(9, 1),
        )
        .unwrap();
    let health = |seen: Option<DateTime<Utc>>, failures: u32| EndpointHealth {
        endpoint: "ep1".to_string(),
        last_seen: seen,
        consecutive_failures: failures,
        circuit: CircuitState::Closed,
        reason: None,
        updated_at: t(9, 58),
    };
    // A failure: the attempt and the endpoint's count, the delivery left pending, and the
    // endpoint's last sighting kept.
    l.put_endpoint_health(&health(Some(t(9, 30)), 0)).unwrap();
    l.record_settled(&Settled {
        attempt: attempt(d.id, AttemptResult::Connect),
        to: None,
        health: Some(health(None, 1)),
    })
    .unwrap();
    let h = l.endpoint_health("ep1").unwrap().unwrap();
    assert_eq!((h.last_seen, h.consecutive_failures), (Some(t(9, 30)), 1));
    assert_eq!(
        l.delivery(d.id).unwrap().unwrap().state,
        DeliveryState::Pending
    );
    // Success: delivered, seen now, failures reset.
    l.record_settled(&Settled {
        attempt: attempt(d.id, AttemptResult::Delivered),
        to: Some((DeliveryState::Delivered, "ResultCode 1".to_string())),
        health: Some(health(Some(t(9, 59)), 0)),
    })
    .unwrap();
    let got = l.delivery(d.id).unwrap().unwrap();
    assert_eq!(got.state, DeliveryState::Delivered);
    assert_eq!(got.reason.as_deref(), Some("ResultCode 1"));
    assert_eq!(l.attempts(d.id).unwrap().len(), 2);
    let h = l.endpoint_health("ep1").unwrap().unwrap();
    assert_eq!((h.last_seen, h.consecutive_failures), (Some(t(9, 59)), 0));
    // A reply read after a state report moved the delivery on: the attempt is kept, and so is
    // the later state.
    l.record_state_report(&report(&got.plan.ebm_id, 3, None, &["513431100000"]))
        .unwrap();
    l.record_settled(&Settled {
        attempt: attempt(d.id, AttemptResult::Delivered),
        to: Some((DeliveryState::Delivered, "ResultCode 1".to_string())),
        health: None,
    })
    .unwrap();
    assert_eq!(
        l.delivery(d.id).unwrap().unwrap().state,
        DeliveryState::Played
    );
    assert_eq!(l.attempts(d.id).unwrap().len(), 3);
    // An illegal move rolls the whole write back: no further attempt is left behind.
    let err = l.record_settled(&Settled {
        attempt: attempt(d.id, AttemptResult::Connect),
        to: Some((DeliveryState::Rejected, "ResultCode 3: late".to_string())),
        health: None,
    });
    assert!(
        matches!(err, Err(LedgerError::IllegalTransition(_))),
        "{err:?}"
    );
    assert_eq!(l.attempts(d.id).unwrap().len(), 3);
}

fn racing_open_run_creates_one_run(store: &Store) {
    drop(store.open()); // migrate once so the racers time only open_run
    let results: Vec<(RunId, bool)> = race(store, 4, 20, |l| {
        l.open_run("daily", t(8, 0), 5, t(7, 0)).unwrap()
    });
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    let first = results[0].0;
    assert!(results.iter().all(|(id, _)| *id == first));
    let l = store.open();
    assert_eq!(l.runs(t(0, 0), t(23, 0), None).unwrap().len(), 1);
}

fn a_repeated_delivery_returns_the_first_ids(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("c", t(10, 0), 1, t(9, 0)).unwrap();
    let (first, _) = l
        .record_delivery(
            &new_delivery(run, "ep", Lang::Zh, &["513431100"], 1),
            t(9, 0),
        )
        .unwrap();
    let (again, created) = l
        .record_delivery(
            &new_delivery(run, "ep", Lang::Zh, &["513431100"], 2),
            t(9, 1),
        )
        .unwrap();
    assert!(!created);
    assert_eq!(
        (again.id, &again.plan.ebd_id, &again.plan.ebm_id),
        (first.id, &first.plan.ebd_id, &first.plan.ebm_id)
    );
}

fn illegal_transitions_are_refused_and_state_is_kept(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("c", t(10, 0), 1, t(9, 0)).unwrap();
    let (d, _) = l
        .record_delivery(&new_delivery(run, "ep", Lang::Ii, &["1"], 1), t(9, 0))
        .unwrap();
    assert!(
        l.transition(d.id, DeliveryState::Rejected, Some("ResultCode 4"), t(9, 1))
            .unwrap()
    );
    assert!(
        !l.transition(d.id, DeliveryState::Rejected, None, t(9, 2))
            .unwrap()
    );
    let err = l
        .transition(d.id, DeliveryState::Delivered, None, t(9, 3))
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::IllegalTransition(ref e) if e.from == DeliveryState::Rejected)
    );
    let err = l
        .transition(d.id, DeliveryState::Pending, None, t(9, 3))
        .unwrap_err();
    assert!(matches!(err, LedgerError::IllegalTransition(_)));
    let kept = l.delivery(d.id).unwrap().unwrap();
    assert_eq!(kept.state, DeliveryState::Rejected);
    assert_eq!(kept.reason.as_deref(), Some("ResultCode 4"));
    let failures = l.failures(Some(run)).unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].reason.as_deref(), Some("ResultCode 4"));
    let unknown = l.transition(
        shengbo::ledger::DeliveryId(999),
        DeliveryState::Sent,
        None,
        t(9, 0),
    );
    assert!(matches!(unknown, Err(LedgerError::UnknownDelivery(_))));
}

#[test]
fn an_empty_file_is_migrated_and_reopening_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sqlite");
    std::fs::File::create(&path).unwrap();
    let version = |p: &Path| -> u32 {
        let conn = rusqlite::Connection::open(p).unwrap();
        conn.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&path), 0);
    let (run, _) = open(&path).open_run("c", t(10, 0), 1, t(9, 0)).unwrap();
    let migrated = version(&path);
    assert_eq!(migrated, shengbo::ledger::schema::current_version());
    let l = open(&path);
    assert_eq!(version(&path), migrated);
    assert_eq!(l.open_run("c", t(10, 0), 1, t(9, 5)).unwrap(), (run, false));
}

#[test]
fn a_newer_file_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sqlite");
    drop(open(&path));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = SqliteLedger::open(&path).unwrap_err();
    assert!(
        matches!(err, LedgerError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

fn sequences_survive_reopen_and_never_repeat(store: &Store) {
    let day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let l = store.open();
        for _ in 0..4 {
            seen.push(l.next_sequence("ebm", day).unwrap());
        }
    }
    assert_eq!(seen, (1..=12).collect::<Vec<u32>>());
    let l = store.open();
    assert_eq!(
        l.next_sequence("ebd", day).unwrap(),
        1,
        "kinds count separately"
    );
    assert_eq!(
        l.next_sequence("ebm", day.succ_opt().unwrap()).unwrap(),
        1,
        "days too"
    );
    assert_eq!(l.next_sequence("ebm", day).unwrap(), 13);
}

fn due_expired_and_awaiting_state(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("c", t(10, 0), 3, t(9, 0)).unwrap();
    let mut late = new_delivery(run, "a", Lang::Ii, &["1"], 1);
    late.air_by = t(9, 30);
    let (late, _) = l.record_delivery(&late, t(9, 0)).unwrap();
    let (due, _) = l
        .record_delivery(&new_delivery(run, "b", Lang::Ii, &["2"], 2), t(9, 0))
        .unwrap();
    let (acked, _) = l
        .record_delivery(&new_delivery(run, "c", Lang::Ii, &["3"], 3), t(9, 0))
        .unwrap();
    l.transition(acked.id, DeliveryState::Sent, Some("ResultCode 0"), t(9, 1))
        .unwrap();
    let ids = |v: Vec<shengbo::ledger::Delivery>| v.into_iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(ids(l.deliveries_due(t(9, 40)).unwrap()), vec![due.id]);
    assert_eq!(l.expire_overdue(t(9, 40)).unwrap(), vec![late.id]);
    assert_eq!(
        l.delivery(late.id).unwrap().unwrap().state,
        DeliveryState::Expired
    );
    assert_eq!(ids(l.deliveries_awaiting_state().unwrap()), vec![acked.id]);
    // One run's deliveries in given states, not another run's in the same states.
    let (other, _) = l.open_run("d", t(10, 0), 3, t(9, 0)).unwrap();
    let (theirs, _) = l
        .record_delivery(&new_delivery(other, "d", Lang::Ii, &["4"], 4), t(9, 0))
        .unwrap();
    l.transition(theirs.id, DeliveryState::Sent, None, t(9, 1))
        .unwrap();
    let of = |run, states: &[DeliveryState]| ids(l.deliveries_of_run_in(run, states).unwrap());
    let out = [DeliveryState::Sent, DeliveryState::Delivered];
    assert_eq!(of(run, &out), vec![acked.id]);
    assert_eq!(of(other, &out), vec![theirs.id]);
    assert_eq!(of(run, &[DeliveryState::Expired]), vec![late.id]);
    assert_eq!(
        of(run, &[DeliveryState::Pending, DeliveryState::Expired]),
        vec![late.id, due.id],
        "earliest air-by first, as a run's deliveries are read"
    );
    assert!(of(run, &[]).is_empty());
    // What a run still has open (`run --once` counts them, and closes a run with none).
    assert_eq!(of(run, &DeliveryState::NOT_FINAL), vec![due.id, acked.id]);
    assert_eq!(of(other, &DeliveryState::NOT_FINAL), vec![theirs.id]);
    // Their ids alone (what a run's follow-ups read after its pushes): the same deliveries, in
    // id order.
    let sets: [&[DeliveryState]; 5] = [
        &out,
        &[DeliveryState::Expired],
        &[DeliveryState::Pending, DeliveryState::Expired],
        &[],
        &DeliveryState::NOT_FINAL,
    ];
    for (r, states) in [run, other].into_iter().flat_map(|r| sets.map(|s| (r, s))) {
        let mut whole = of(r, states);
        whole.sort();
        assert_eq!(
            l.delivery_ids_of_run_in(r, states).unwrap(),
            whole,
            "{states:?}"
        );
    }
    assert_eq!(
        l.delivery_ids_of_run_in(run, &[DeliveryState::Pending, DeliveryState::Expired])
            .unwrap(),
        vec![late.id, due.id]
    );
    // A played report for an acknowledged delivery moves it straight to played.
    assert_eq!(
        l.record_state_report(&report(&acked.plan.ebm_id, 3, None, &[]))
            .unwrap(),
        Some(acked.id)
    );
    assert_eq!(ids(l.deliveries_awaiting_state().unwrap()), vec![theirs.id]);
    assert!(of(run, &out).is_empty());
    // A report for nobody is kept, not lost.
    assert_eq!(
        l.record_state_report(&report("nobody", 3, None, &[]))
            .unwrap(),
        None
    );
}

fn reach_from_the_ledger_matches_hand_computation(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("c", t(10, 0), 5, t(9, 0)).unwrap();
    // ep1 covers A alone: both halves played, 30 terminals. ep2 covers B and C: delivered only.
    // ep3 covers D: rejected. ep4 covers E: Yi played but Mandarin only sent, so the pair — and
    // E — is not confirmed.
    let rec = |ep: &str, lang, towns: &[&str], n| {
        l.record_delivery(&new_delivery(run, ep, lang, towns, n), t(9, 0))
            .unwrap()
            .0
    };
    let a = rec("ep1", Lang::Ii, &["A"], 1);
    let a_zh = rec("ep1", Lang::Zh, &["A"], 2);
    let bc = rec("ep2", Lang::Ii, &["B", "C"], 3);
    let d = rec("ep3", Lang::Ii, &["D"], 4);
    let e = rec("ep4", Lang::Ii, &["E"], 5);
    let e_zh = rec("ep4", Lang::Zh, &["E"], 6);
    for x in [&a, &a_zh, &e] {
        l.transition(x.id, DeliveryState::Delivered, None, t(9, 1))
            .unwrap();
        l.record_state_report(&report(&x.plan.ebm_id, 3, Some(30), &[]))
            .unwrap();
    }
    l.transition(e_zh.id, DeliveryState::Sent, None, t(9, 1))
        .unwrap();
    l.transition(bc.id, DeliveryState::Delivered, None, t(9, 1))
        .unwrap();
    l.record_state_report(&report(&bc.plan.ebm_id, 2, Some(99), &[]))
        .unwrap(); // playing, not played
    l.transition(d.id, DeliveryState::Rejected, Some("ResultCode 2"), t(9, 1))
        .unwrap();

    let rows = l.run_reach_rows(run).unwrap();
    let dir = shengbo::directory::Directory::liangshan();
    let areas = shengbo::reach::runs(&rows, &dir).remove(&run).unwrap();
    let got: Vec<_> = areas
        .iter()
        .map(|(t, a)| (t.as_str(), a.level, a.coverage))
        .collect();
    assert_eq!(
        got,
        [
            ("A", Some(Confirmed::Played), Some(0.9)),
            ("B", Some(Confirmed::Delivered), Some(0.9)),
            ("C", Some(Confirmed::Delivered), Some(0.9)),
            ("D", None, None),
            ("E", None, None),
        ]
    );
    let a_row = rows.iter().find(|r| r.township == "A").unwrap();
    let reported = a_row.coverage.as_ref().unwrap();
    assert_eq!((reported.rate, reported.terminals), (Some(0.9), Some(30)));
    assert_eq!(reported.townships, ["A"]);
    let bc_row = rows.iter().find(|r| r.township == "B").unwrap();
    assert_eq!(bc_row.coverage.as_ref().unwrap().townships, ["B", "C"]);
    assert_eq!(l.reach_rows(t(9, 0), t(11, 0), Some("c")).unwrap(), rows);
}

/// Throughput of one prefecture-sized run (304 townships × 2 languages) on each store, not a
/// pass/fail test (`BENCHMARKS.md`, "Ledger stores"):
/// `cargo test --release --test integration ledger::bench_a_prefecture_run -- --ignored --nocapture`
mod bench_a_prefecture_run {
    #[test]
    #[ignore = "benchmark: run by hand in release"]
    fn sqlite() {
        super::bench_a_prefecture_run(&super::Store::sqlite())
    }
    #[test]
    #[ignore = "benchmark: run by hand in release"]
    fn postgres() {
        super::bench_a_prefecture_run(&super::Store::postgres())
    }
}

fn bench_a_prefecture_run(store: &Store) {
    let l = store.open();
    let start = std::time::Instant::now();
    let (run, _) = l.open_run("bench", t(10, 0), 304, t(9, 0)).unwrap();
    let mut ids = Vec::new();
    for i in 0..304u32 {
        for lang in Lang::ALL {
            let n = l.next_sequence("ebm", t(9, 0).date_naive()).unwrap();
            let town = format!("513{i:06}");
            let (d, _) = l
                .record_delivery(&new_delivery(run, &town, lang, &[&town], n), t(9, 0))
                .unwrap();
            ids.push(d.id);
        }
    }
    let written = start.elapsed();
    for id in &ids {
        l.record_attempt(&attempt(*id, AttemptResult::Delivered))
            .unwrap();
        l.transition(
            *id,
            DeliveryState::Delivered,
            Some("ResultCode 1"),
            t(9, 59),
        )
        .unwrap();
    }
    let settled = start.elapsed();
    let rows = l.run_reach_rows(run).unwrap();
    let summary = l.run_summary(run).unwrap();
    let queried = start.elapsed();
    assert_eq!((rows.len(), summary.deliveries), (608, 608));
    println!(
        "{}: 608 deliveries (+ counters) written in {written:?}; + 608 attempts and transitions by \
         {settled:?}; reach inputs and summary by {queried:?}",
        store.url().split(':').next().unwrap_or_default()
    );
}

mod batch;
mod cancels;
mod errors;
mod holds;
mod leases;
mod migrate;
mod segments;
mod shared;
mod versions;
