//! Crash safety: the real binary killed (SIGKILL) in the middle of a run against a slow
//! simulator, then restarted: every delivery reaches a final state, nothing recorded is lost,
//! and no content goes out under new ids.

use std::collections::BTreeMap;
use std::time::Duration;

use shengbo::ledger::{DeliveryState, Ledger};
use shengbo::sim::Faults;

use super::{drill_campaign, ledger, project, run_cmd, start_sim, this_minute};
use crate::util;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_run_then_restart_loses_nothing_and_reuses_ids() {
    let faults = Faults {
        slow_rate: 1.0,
        slow_ms: 1_500,
        ..Faults::default()
    };
    let sim = start_sim(faults, 120.0).await;
    let proj = project(&drill_campaign("all = true"), None);
    let at = this_minute();
    let mut child = run_cmd(proj.path(), &sim.url, at, &[]).spawn().unwrap();
    // Wait (bounded) until the run is written and requests are in flight, then kill.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while ids(proj.path()).len() < 34 || sim.state.stats().requests == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert!(!status.success(), "killed mid-run");
    let before = ids(proj.path());
    assert_eq!(
        before.len(),
        34,
        "every delivery was recorded before sending"
    );
    let not_final = {
        let ledger = ledger(proj.path());
        let runs = ledger
            .runs(
                chrono::DateTime::<chrono::Utc>::MIN_UTC,
                chrono::DateTime::<chrono::Utc>::MAX_UTC,
                None,
            )
            .unwrap();
        ledger
            .deliveries_of_run(runs[0].id)
            .unwrap()
            .iter()
            .filter(|d| !d.state.is_final())
            .count()
    };
    assert!(not_final > 0, "the kill came before the run finished");

    let out = run_cmd(proj.path(), &sim.url, at, &[])
        .output()
        .await
        .unwrap();
    util::assert_exit(&out, 0);
    let after = ids(proj.path());
    assert_eq!(
        before, after,
        "the same deliveries with the same ids after the restart"
    );
    let ledger = ledger(proj.path());
    let runs = ledger
        .runs(
            chrono::DateTime::<chrono::Utc>::MIN_UTC,
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
            None,
        )
        .unwrap();
    assert_eq!(
        runs.len(),
        1,
        "the restart resumed the run, it did not open another"
    );
    let deliveries = ledger.deliveries_of_run(runs[0].id).unwrap();
    assert!(
        deliveries.iter().all(|d| d.state == DeliveryState::Played),
        "{deliveries:?}"
    );
    // No content under new ids: one message per delivery reached the simulator.
    assert_eq!(sim.state.stats().messages, 34);
}

/// Ids of every delivery recorded so far, by delivery (none when the ledger is not there yet).
fn ids(root: &std::path::Path) -> BTreeMap<i64, (String, String)> {
    if !root.join(".shengbo/ledger.sqlite").is_file() {
        return BTreeMap::new();
    }
    super::all_deliveries(&ledger(root))
        .into_iter()
        .map(|d| (d.id.0, (d.plan.ebd_id, d.plan.ebm_id)))
        .collect()
}

/// Every-minute slots with a quarter hour's lead: fifteen runs is prepared at once,
/// so a kill always lands among overlapping runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sigkilled_six_times_loses_nothing_and_reuses_ids() {
    let faults = Faults {
        slow_rate: 0.5,
        slow_ms: 400,
        ..Faults::default()
    };
    let sim = start_sim(faults, 120.0).await;
    let push = "lead_time_s = 900\nair_by_s = 3600\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2\n\
                connection_check_s = 3600";
    let campaign =
        super::serve::hourly("minutely", 0).replace("cron = \"0 * * * *\"", "cron = \"* * * * *\"");
    let proj = project(&campaign, Some(&super::fast_registry(push, "5")));
    let root = proj.path();
    let mut seen = BTreeMap::new();
    for kill in 1..=6u64 {
        // Each start's log, for the message of a start that never sends.
        let log = root.join(format!("serve-{kill}.log"));
        let mut child = super::serve::serve(root, &sim.url)
            .args(["--base-url", "http://shengbo.example:8470"])
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // Kill once this start has got one or two messages through, mid-way through the runs.
        // A slot is two messages (Zhaojue's one endpoint, Yi and Mandarin), and a start that
        // finds nothing left to send waits for the next minute's slot: asking for three once
        // needed a second slot, up to two minutes, and under a full test suite that exceeded
        // the bound. Within it: a slot (a minute) and a slow start (its log is shown if a
        // start ever does not send).
        let from = sim.state.stats().messages;
        let deadline = std::time::Instant::now() + Duration::from_secs(150);
        while sim.state.stats().messages < from + 1 + kill % 2 {
            if std::time::Instant::now() >= deadline {
                let said = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = said.lines().rev().take(40).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "start {kill} never sent ({} messages before it, {} now); its log ends:\n{}",
                    from,
                    sim.state.stats().messages,
                    tail.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        child.start_kill().unwrap();
        assert!(!child.wait().await.unwrap().success(), "killed");
        let now = ids(root);
        for (key, ids) in &seen {
            assert_eq!(now.get(key), Some(ids), "kill {kill}: {key:?} kept its ids");
        }
        seen = now;
    }
    assert!(!seen.is_empty());

    let log = root.join("serve-last.log");
    let child = super::serve::serve(root, &sim.url)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    // Up before anything else: when the kills left nothing pending, the SIGTERM below would
    // otherwise come before serve has installed its handler, and end it by the default action.
    while !std::fs::read_to_string(&log).is_ok_and(|l| l.contains("http://127.0.0.1:")) {
        assert!(
            std::time::Instant::now() < deadline,
            "serve never said where it listens"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // What the kills left behind (new slots keep coming each minute; they are not counted).
    let pending = |root: &std::path::Path| {
        super::all_deliveries(&ledger(root))
            .into_iter()
            .filter(|d| seen.contains_key(&d.id.0) && d.state == DeliveryState::Pending)
            .collect::<Vec<_>>()
    };
    loop {
        let left = pending(root);
        if left.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "deliveries left pending: {left:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SIGTERM: in-flight sends drain, so the ledger knows everything the simulator got.
    super::serve::stop(child).await;
    let after = ids(root);
    for (key, ids) in &seen {
        assert_eq!(after.get(key), Some(ids), "{key:?} kept its ids");
    }
    let l = ledger(root);
    let all = super::all_deliveries(&l);
    // A pair must be delivered before its first play window: a slot recorded seconds before
    // it may expire on a loaded machine. That is final and said, never lost.
    for d in all.iter().filter(|d| d.state == DeliveryState::Expired) {
        assert!(
            d.reason.as_deref().is_some_and(|r| r.contains("air-by")),
            "an expiry says why: {d:#?}"
        );
    }
    // No content under new ids: one message per delivery that was sent reached the simulator
    // (a send a kill cut short may have reached it before its delivery expired).
    let sent = all
        .iter()
        .filter(|d| !matches!(d.state, DeliveryState::Pending | DeliveryState::Expired))
        .filter(|d| !l.attempts(d.id).unwrap().is_empty())
        .count() as u64;
    let expired = all
        .iter()
        .filter(|d| d.state == DeliveryState::Expired)
        .count() as u64;
    let messages = sim.state.stats().messages;
    assert!(
        (sent..=sent + expired).contains(&messages),
        "{messages} messages for {sent} sent and {expired} expired deliveries"
    );
}
