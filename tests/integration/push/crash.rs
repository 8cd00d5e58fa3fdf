//! Crash safety: the real binary killed (SIGKILL) in the middle of a run against a slow
//! simulator, then restarted: every delivery reaches a final state, nothing recorded is lost,
//! and no content goes out under new ids.

use std::collections::BTreeMap;
use std::time::Duration;

use shengbo::ledger::{DeliveryState, Ledger};
use shengbo::sim::Faults;

use super::{drill_campaign, ledger, project, run_cmd, start_sim, this_minute};
use crate::util;

/// Ids of every delivery recorded so far (none when the ledger is not there yet).
fn recorded(root: &std::path::Path) -> BTreeMap<(String, u32), (String, String)> {
    if !root.join(".shengbo/ledger.sqlite").is_file() {
        return BTreeMap::new();
    }
    let ledger = ledger(root);
    let runs = ledger
        .runs(
            chrono::DateTime::<chrono::Utc>::MIN_UTC,
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
            None,
        )
        .unwrap_or_default();
    runs.iter()
        .flat_map(|r| ledger.deliveries_of_run(r.id).unwrap_or_default())
        .map(|d| ((d.endpoint, d.segment), (d.ebd_id, d.ebm_id)))
        .collect()
}

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
    while recorded(proj.path()).len() < 34 || sim.state.stats().requests == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert!(!status.success(), "killed mid-run");
    let before = recorded(proj.path());
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
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        util::stdout(&out),
        util::stderr(&out)
    );
    let after = recorded(proj.path());
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
