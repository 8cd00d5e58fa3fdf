//! `shengbo ledger migrate --to postgres://…` and `--ledger` through the real binary: a SQLite
//! ledger with every kind of row is copied into a fresh PostgreSQL database, verified, read
//! back the same (coverage from either store prints the same report), and a second copy into
//! the now non-empty database is refused.

use std::path::Path;

use shengbo::directory::Directory;
use shengbo::ledger::{
    AttemptResult, CircuitState, DeliveryState, EndpointHealth, Ledger, LedgerTarget, NewCancel,
    RunId, SqliteLedger,
};

use super::{attempt, new_delivery, report, t};
use crate::util;

/// A ledger with runs, deliveries, townships, attempts, reports, health, counters and a cancel.
fn seed(path: &Path) -> (RunId, Vec<String>) {
    let towns: Vec<String> = Directory::liangshan()
        .townships_of("513431")
        .take(3)
        .map(|t| t.code.clone())
        .collect();
    let l = SqliteLedger::open(path).unwrap();
    let (run, _) = l.open_run("winter", t(10, 0), 3, t(9, 0)).unwrap();
    let lang = shengbo::lang::Lang::ALL;
    let refs: Vec<&str> = towns.iter().map(String::as_str).collect();
    let (a, _) = l
        .record_delivery(&new_delivery(run, "ep1", lang[0], &refs[..2], 1), t(9, 1))
        .unwrap();
    let (b, _) = l
        .record_delivery(&new_delivery(run, "ep1", lang[1], &refs[..2], 2), t(9, 1))
        .unwrap();
    let (c, _) = l
        .record_delivery(&new_delivery(run, "ep2", lang[0], &refs[2..], 3), t(9, 1))
        .unwrap();
    l.record_attempt(&attempt(a.id, AttemptResult::Timeout))
        .unwrap();
    l.record_attempt(&attempt(a.id, AttemptResult::Delivered))
        .unwrap();
    l.transition(
        a.id,
        DeliveryState::Delivered,
        Some("ResultCode 1"),
        t(9, 59),
    )
    .unwrap();
    l.record_state_report(&report(&a.plan.ebm_id, 3, Some(40), &["513431100000"]))
        .unwrap();
    l.transition(b.id, DeliveryState::Sent, Some("ResultCode 0"), t(9, 59))
        .unwrap();
    l.record_state_report(&report("unknown-ebm", 3, None, &[]))
        .unwrap();
    l.record_cancel(
        &NewCancel {
            delivery: b.id,
            ebd_id: "cancel-1".to_string(),
            reason: "Yi half expired".to_string(),
            cancel_by: t(10, 2),
        },
        t(9, 59),
    )
    .unwrap();
    l.expire_overdue(t(10, 3)).unwrap();
    assert_eq!(
        l.delivery(c.id).unwrap().unwrap().state,
        DeliveryState::Expired
    );
    l.put_endpoint_health(&EndpointHealth {
        endpoint: "ep2".to_string(),
        last_seen: None,
        consecutive_failures: 3,
        circuit: CircuitState::Open,
        reason: Some("3 timeouts".to_string()),
        updated_at: t(9, 59),
    })
    .unwrap();
    for _ in 0..5 {
        l.next_sequence("ebm", t(9, 0).date_naive()).unwrap();
    }
    (run, towns)
}

fn coverage(root: &Path, ledger: &str) -> String {
    let out = util::run_in(
        root,
        &[
            "--ledger",
            ledger,
            "coverage",
            "--from",
            "2026-11-01",
            "--to",
            "2026-12-01",
            "--by",
            "township",
            "--format",
            "json",
        ],
    );
    util::assert_exit(&out, 0);
    util::stdout(&out)
}

#[test]
fn a_sqlite_ledger_is_copied_verified_and_read_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".shengbo/ledger.sqlite");
    let (run, towns) = seed(&file);
    let url = util::pg::fresh_database();

    let out = util::run_in(dir.path(), &["ledger", "migrate", "--to", &url]);
    util::assert_exit(&out, 0);
    let text = util::stdout(&out);
    for table in [
        "runs",
        "deliveries",
        "attempts",
        "state_reports",
        "cancels",
        "sequences",
    ] {
        assert!(text.contains(table), "{text}");
    }
    assert!(text.contains("9 tables verified"), "{text}");
    let deliveries_line = text.lines().find(|l| l.starts_with("deliveries")).unwrap();
    assert!(
        deliveries_line.split_whitespace().nth(1) == Some("3"),
        "{text}"
    );

    // Both stores answer alike, through the library and through the binary.
    let src: std::sync::Arc<dyn Ledger> = std::sync::Arc::new(SqliteLedger::open(&file).unwrap());
    let copy = LedgerTarget::parse(&url, |_| None).unwrap().open().unwrap();
    assert_eq!(copy.run(run).unwrap(), src.run(run).unwrap());
    assert_eq!(
        copy.deliveries_of_run(run).unwrap(),
        src.deliveries_of_run(run).unwrap()
    );
    for d in src.deliveries_of_run(run).unwrap() {
        assert_eq!(copy.attempts(d.id).unwrap(), src.attempts(d.id).unwrap());
        assert_eq!(
            copy.state_reports(d.id).unwrap(),
            src.state_reports(d.id).unwrap()
        );
    }
    assert_eq!(
        copy.endpoint_healths().unwrap(),
        src.endpoint_healths().unwrap()
    );
    assert_eq!(
        copy.cancels(Some(run)).unwrap(),
        src.cancels(Some(run)).unwrap()
    );
    let day = t(9, 0).date_naive();
    assert_eq!(copy.next_sequence("ebm", day).unwrap(), 6, "counters go on");
    let from_sqlite = coverage(dir.path(), &format!("sqlite:{}", file.display()));
    assert!(from_sqlite.contains(&towns[0]), "{from_sqlite}");
    assert_eq!(coverage(dir.path(), &url), from_sqlite);
    let (next, created) = copy.open_run("winter", t(11, 0), 3, t(10, 30)).unwrap();
    assert!(created && next.0 > run.0, "ids go on after the copied ones");

    // A second copy into the now non-empty database is refused and changes nothing.
    let again = util::run_in(dir.path(), &["ledger", "migrate", "--to", &url]);
    util::assert_exit(&again, 1);
    assert!(
        util::stderr(&again).contains("already holds"),
        "{}",
        util::stderr(&again)
    );
    assert_eq!(copy.runs(t(0, 0), t(23, 0), None).unwrap().len(), 2);
}

#[test]
fn bad_ledger_values_are_named_with_what_is_expected() {
    let dir = tempfile::tempdir().unwrap();
    seed(&dir.path().join(".shengbo/ledger.sqlite"));
    for (to, says) in [
        ("mysql://u@h/d", "sqlite:PATH"),
        (
            "postgres://u:secret@127.0.0.1:99999/d",
            "postgres://u:***@127.0.0.1:99999/d",
        ),
        ("sqlite:/tmp/x.sqlite", "expected a `postgres://` URL"),
    ] {
        let out = util::run_in(dir.path(), &["ledger", "migrate", "--to", to]);
        util::assert_exit(&out, 1);
        let err = util::stderr(&out);
        assert!(err.contains(says), "{to}: {err}");
        assert!(!err.contains("secret"), "{err}");
    }
    // Nothing listens on port 1: the database cannot be reached (exit 2), named without a
    // password.
    let out = util::run_in(
        dir.path(),
        &[
            "ledger",
            "migrate",
            "--to",
            "postgres://u:secret@127.0.0.1:1/d",
        ],
    );
    util::assert_exit(&out, 2);
    assert!(
        util::stderr(&out).contains("u@127.0.0.1:1/d"),
        "{}",
        util::stderr(&out)
    );
    assert!(!util::stderr(&out).contains("secret"));
    // The global setting is checked before any command uses it.
    let out = util::shengbo()
        .args(["coverage", "--since", "7d"])
        .env("SHENGBO_ROOT", dir.path())
        .env("SHENGBO_LEDGER", "postgresql:/nowhere")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        util::stderr(&out).contains("postgresql:/nowhere"),
        "{}",
        util::stderr(&out)
    );
}
