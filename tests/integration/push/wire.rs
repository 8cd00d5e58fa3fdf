//! A faithful wire: with an accelerated play clock (`--speed 60`) every `EBDTime`, `SendTime`
//! and id date a platform receives is the real time — `run --once` against a simulator, and
//! `demo` against its own; the simulator measures each package against the wall clock. State
//! requests ride out an outage longer than an accelerated play clock's wait.

use super::{drill_campaign, project, run_cmd_at, start_sim, this_minute};
use crate::util;
use shengbo::sim::Faults;

/// Largest accepted distance of a wire time from the wall clock (ms): sending takes a moment.
const SKEW_MS: u64 = 5_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_at_speed_60_dates_every_package_by_the_real_clock() {
    let sim = start_sim(Faults::default(), 60.0).await;
    let proj = project(&drill_campaign("counties = [\"昭觉县\", \"西昌市\"]"), None);
    let out = run_cmd_at(proj.path(), &sim.url, this_minute(), "60", &[])
        .output()
        .await
        .unwrap();
    util::assert_exit(&out, 0);
    let stats = sim.state.stats();
    // 2 platforms × 2 halves, then at least one state request each.
    assert!(stats.wire_checked >= 8, "{stats:?}");
    assert!(stats.wire_skew_ms < SKEW_MS, "{stats:?}");
    assert_eq!(stats.wire_day_mismatches, 0, "{stats:?}");
}

#[test]
fn demo_at_speed_60_dates_every_package_by_the_real_clock() {
    let proj = project(&drill_campaign("all = true"), None);
    let out = util::run_in(proj.path(), &["demo", "--slots", "1", "--speed", "60"]);
    let stdout = util::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        util::stderr(&out)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("wire dates: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let packages: u64 = words[2].parse().unwrap();
    let skew_s: f64 = words[6].parse().unwrap();
    assert!(packages >= 34 * 2, "broadcasts and state requests: {line}");
    assert!(skew_s * 1000.0 < SKEW_MS as f64, "{line}");
    assert!(line.ends_with(", 0 ids dated another day"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_requests_retry_across_an_outage_longer_than_the_play_clock_wait() {
    let sim = start_sim(Faults::default(), 120.0).await;
    sim.state.hold_states(true);
    let push = "backoff_base_ms = 50\nbackoff_cap_s = 0.5";
    let proj = project(
        &drill_campaign("counties = [\"昭觉县\"]"),
        Some(&super::fast_registry(push, "5")),
    );
    // `--wait 600` at ×120 is 5 s of real time: the outage outlasts it.
    let child = run_cmd_at(proj.path(), &sim.url, this_minute(), "120", &[]).output();
    let child = tokio::spawn(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while sim.state.stats().states_held == 0 {
        assert!(std::time::Instant::now() < deadline, "no state request");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let outage = std::time::Instant::now() + std::time::Duration::from_secs(8);
    while std::time::Instant::now() < outage {
        assert!(!child.is_finished(), "gave up during the outage");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    sim.state.hold_states(false);
    let out = child.await.unwrap().unwrap();
    util::assert_exit(&out, 0);
    let ledger = super::ledger(proj.path());
    let all = super::all_deliveries(&ledger);
    assert_eq!(all.len(), 2);
    assert!(
        all.iter()
            .all(|d| d.state == shengbo::ledger::DeliveryState::Played),
        "{all:?}"
    );
    assert!(
        sim.state.stats().states_held > 3,
        "retried, not given up after three"
    );
}
