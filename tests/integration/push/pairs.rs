//! Whole pairs against the simulator: a platform that refuses one language until the pair's
//! deadline (its first half's play window) gets the other half cancelled (MsgType 2, same
//! EBMID) and never plays it; a refused cancel is reported as half a pair aired; a SIGKILL
//! between the expiry and the cancel still sends the cancel after the restart, once.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use shengbo::ebd::BrdState;
use shengbo::lang::Lang;
use shengbo::ledger::{CancelState, Delivery, DeliveryState, Ledger};
use shengbo::sim::Faults;

use super::{all_deliveries, drill_campaign, fast_registry, ledger, project, run_cmd, start_sim};
use crate::util;

/// The next minute boundary at least 15 s away: the pair's first window opens there.
fn next_slot() -> DateTime<Utc> {
    let mut at = super::this_minute() + TimeDelta::minutes(1);
    if at - Utc::now() < TimeDelta::seconds(15) {
        at += TimeDelta::minutes(1);
    }
    at
}

/// One county's platform, sending as soon as the run is recorded.
fn one_county() -> tempfile::TempDir {
    let push = "backoff_base_ms = 50\nbackoff_cap_s = 0.5\nlead_time_s = 3600\n\
                breaker_threshold = 1000";
    project(
        &drill_campaign("counties = [\"昭觉县\"]"),
        Some(&fast_registry(push, "5")),
    )
}

fn refusing_zho() -> Faults {
    Faults {
        refuse_lang: Some("zho".into()),
        ..Faults::default()
    }
}

/// `run --once` at `at`, which ends with a broken pair (exit 1); its standard output.
async fn run_broken(root: &std::path::Path, sim: &str, at: DateTime<Utc>) -> String {
    let out = run_cmd(root, sim, at, &[]).output().await.unwrap();
    let stdout = util::stdout(&out);
    let stderr = util::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    stdout
}

fn halves(root: &std::path::Path) -> (Delivery, Delivery) {
    let all = all_deliveries(&ledger(root));
    assert_eq!(all.len(), 2, "{all:?}");
    let yi = all
        .iter()
        .find(|d| d.plan.lang == Lang::Ii)
        .unwrap()
        .clone();
    let zh = all
        .iter()
        .find(|d| d.plan.lang == Lang::Zh)
        .unwrap()
        .clone();
    (yi, zh)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_language_refused_until_the_deadline_cancels_the_other_which_never_plays() {
    let sim = start_sim(refusing_zho(), 1.0).await;
    let proj = one_county();
    let at = next_slot();
    let stdout = run_broken(proj.path(), &sim.url, at).await;

    let (yi, zh) = halves(proj.path());
    assert_eq!(zh.state, DeliveryState::Expired, "{zh:?}");
    assert_eq!(
        zh.plan.air_by, yi.plan.window_start,
        "the pair's deadline is its first half's play window"
    );
    let zh_attempts = ledger(proj.path()).attempts(zh.id).unwrap();
    assert!(
        zh_attempts.len() > 1,
        "refused again and again: {zh_attempts:?}"
    );
    assert!(
        zh_attempts
            .iter()
            .all(|a| a.started_at <= yi.plan.window_start)
    );
    assert_eq!(yi.state, DeliveryState::Cancelled, "{yi:?}");
    assert!(
        yi.reason
            .as_deref()
            .unwrap()
            .contains("Mandarin half expired"),
        "{yi:?}"
    );
    let cancels = ledger(proj.path()).cancels(None).unwrap();
    assert!(cancels.is_empty(), "nothing left to send: {cancels:?}");

    // The platform stopped the Yi message: it answers BrdStateCode 5, not played.
    let report = sim.state.report(&yi.plan.ebm_id).unwrap();
    assert_eq!(report.state, BrdState::Cancelled);
    let stats = sim.state.stats();
    assert_eq!(stats.cancels, 1);
    assert!(stats.refused_lang >= 2, "{stats:?}");
    assert!(
        stdout.contains("cancelled pair: Yi half at `zhaojue`")
            && stdout.contains("Mandarin half expired"),
        "{stdout}"
    );
    assert!(!stdout.contains("HALF A PAIR"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_cancel_is_reported_as_half_a_pair_aired() {
    let faults = Faults {
        refuse_cancel: true,
        ..refusing_zho()
    };
    let sim = start_sim(faults, 120.0).await;
    let proj = one_county();
    let stdout = run_broken(proj.path(), &sim.url, next_slot()).await;
    let (yi, zh) = halves(proj.path());
    assert_eq!(zh.state, DeliveryState::Expired);
    assert_eq!(yi.state, DeliveryState::Played, "{yi:?}");
    let cancels = ledger(proj.path()).cancels(Some(yi.plan.run)).unwrap();
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].state, CancelState::Refused);
    assert!(
        cancels[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("ResultCode 5"),
        "{cancels:?}"
    );
    assert_eq!(sim.state.stats().cancels_refused, 1);
    assert!(
        stdout.contains("HALF A PAIR AIRED: Yi half at `zhaojue`")
            && stdout.contains("played alone — Mandarin half expired; cancel refused"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_the_expiry_and_the_cancel_still_cancels_once_after_restart() {
    let sim = start_sim(refusing_zho(), 1.0).await;
    sim.state.hold_cancels(true);
    let proj = one_county();
    let at = next_slot();
    let mut child = run_cmd(proj.path(), &sim.url, at, &[]).spawn().unwrap();
    // Bounded wait until the cancel was recorded and tried (held by the platform), then kill.
    let deadline = std::time::Instant::now() + Duration::from_secs(150);
    while sim.state.stats().cancels_held == 0 {
        assert!(std::time::Instant::now() < deadline, "no cancel was tried");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.start_kill().unwrap();
    assert!(!child.wait().await.unwrap().success(), "killed");
    let (yi, _) = halves(proj.path());
    assert_eq!(yi.state, DeliveryState::Delivered, "not cancelled yet");
    let pending = ledger(proj.path()).cancels(None).unwrap();
    assert_eq!(pending.len(), 1, "the intent was recorded before sending");
    assert_eq!(pending[0].delivery, yi.id);

    sim.state.hold_cancels(false);
    let stdout = run_broken(proj.path(), &sim.url, at).await;
    assert!(stdout.contains("cancelled pair: Yi half"), "{stdout}");
    let (yi, zh) = halves(proj.path());
    assert_eq!(zh.state, DeliveryState::Expired);
    assert_eq!(yi.state, DeliveryState::Cancelled, "{yi:?}");
    assert_eq!(sim.state.stats().cancels, 1);
    assert_eq!(
        sim.state.report(&yi.plan.ebm_id).unwrap().state,
        BrdState::Cancelled
    );
    let settled = ledger(proj.path()).cancels(Some(yi.plan.run)).unwrap();
    assert_eq!(settled[0].ebd_id, pending[0].ebd_id, "the same package id");

    // A further restart sends nothing more.
    let again = run_cmd(proj.path(), &sim.url, at, &[])
        .output()
        .await
        .unwrap();
    assert!(util::stdout(&again).contains("cancelled pair: Yi half"));
    let stats = sim.state.stats();
    assert_eq!((stats.cancels, stats.cancels_refused), (1, 0), "{stats:?}");
}
