//! Whole pairs against the simulator, the service in-process on tokio's paused time (one
//! injected clock; the simulator's play clock follows it): a platform that refuses one language
//! until the pair's deadline (its first half's play window) gets the other half cancelled
//! (MsgType 2, same EBMID) and never plays it — with repeats, as soon as the pair breaks, while
//! later pairs are still going out; a refused cancel is reported as half a pair aired; a service
//! stopped dead between the expiry and the cancel still sends the cancel after the restart, once.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeDelta};
use shengbo::dispatch::Clock;
use shengbo::ebd::BrdState;
use shengbo::lang::Lang;
use shengbo::ledger::{Cancel, CancelState, Delivery, DeliveryState, Ledger};
use shengbo::locale::{Locale, scoped};
use shengbo::push::pairs::pair_lines;
use shengbo::sim::{Faults, SimState};

use super::service::{Running, sim_with, t0};
use super::{fast_registry, ledger, project};

/// The slot: 11:00 in Beijing, ten minutes after the service starts.
fn slot() -> DateTime<chrono::Utc> {
    t0() + TimeDelta::minutes(10)
}

/// One county's platform; the run goes out two minutes before the slot.
fn one_county(repeats: u32) -> tempfile::TempDir {
    let campaign = format!(
        "id = \"drill\"\nname = \"drill\"\nmessages = [\"police-impersonation\"]\n\
         rotation = \"all\"\norder = [\"ii\", \"zh\"]\ngap_s = 1.0\nrepeats = {repeats}\n\
         quiet_hours = []\n[targets]\ncounties = [\"昭觉县\"]\n\
         [[slots]]\nlabel = \"slot\"\ncron = \"0 * * * *\"\n"
    );
    let push = "lead_time_s = 120\nair_by_s = 600\nbackoff_base_ms = 50\nbackoff_cap_s = 0.5\n\
                breaker_threshold = 1000\nconnection_check_s = 3600\nstate_wait_s = 300";
    project(&campaign, Some(&fast_registry(push, "5")))
}

fn refusing_zho() -> Faults {
    Faults {
        refuse_lang: Some("zho".into()),
        ..Faults::default()
    }
}

/// A simulator with `faults` whose play clock follows `clock` (every virtual second).
async fn following_sim(clock: Clock, faults: Faults) -> (String, SimState) {
    let (url, state) = sim_with(clock.now(), faults).await;
    super::service::follow(&state, clock);
    (url, state)
}

/// The run's deliveries and cancels once `done` holds (polling every virtual second, for at
/// most an hour).
pub(super) async fn until(
    root: &Path,
    done: impl Fn(&[Delivery]) -> bool,
) -> (Vec<Delivery>, Vec<Cancel>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "never came to pass");
        if root.join(".shengbo/ledger.sqlite").is_file() {
            let l = ledger(root);
            let runs = l.runs(slot(), slot() + TimeDelta::seconds(1), Some("drill"));
            if let Some(run) = runs.unwrap_or_default().first() {
                let ds = l.deliveries_of_run(run.id).unwrap();
                if !ds.is_empty() && done(&ds) {
                    return (ds, l.cancels(Some(run.id)).unwrap());
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn state_of(ds: &[Delivery], lang: Lang, repeat: u32) -> DeliveryState {
    half(ds, lang, repeat).state
}

fn half(ds: &[Delivery], lang: Lang, repeat: u32) -> &Delivery {
    ds.iter()
        .find(|d| d.plan.lang == lang && d.plan.repeat == repeat)
        .unwrap_or_else(|| panic!("no {lang:?} half of repeat {repeat}: {ds:?}"))
}

#[tokio::test(start_paused = true)]
async fn one_language_refused_until_the_deadline_cancels_the_other_which_never_plays() {
    let proj = one_county(1);
    let clock = Clock::starting_at(t0());
    let (sim, state) = following_sim(clock, refusing_zho()).await;
    let service = Running::start(proj.path(), &sim, clock, true, 3600).await;
    let (ds, cancels) = until(proj.path(), |ds| {
        state_of(ds, Lang::Ii, 0) == DeliveryState::Cancelled
    })
    .await;
    service.stop().await;

    assert_eq!(ds.len(), 2, "{ds:?}");
    let (yi, zh) = (half(&ds, Lang::Ii, 0), half(&ds, Lang::Zh, 0));
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
    assert!(
        yi.reason
            .as_deref()
            .unwrap()
            .contains("Mandarin half expired"),
        "{yi:?}"
    );
    assert_eq!(cancels.len(), 1, "{cancels:?}");
    assert_eq!(cancels[0].state, CancelState::Done, "nothing left to send");
    assert!(ledger(proj.path()).cancels(None).unwrap().is_empty());

    // The platform stopped the Yi message: it answers BrdStateCode 5, not played.
    let report = state.report(&yi.plan.ebm_id).unwrap();
    assert_eq!(report.state, BrdState::Cancelled);
    let stats = state.stats();
    assert_eq!(stats.cancels, 1);
    assert!(stats.refused_lang >= 2, "{stats:?}");
    let lines = scoped(Locale::En, || pair_lines(&cancels, &ds));
    assert_eq!(lines.len(), 1, "{lines:?}");
    // `coverage` shows the pair on a line of its own, with the reason.
    let out = crate::util::shengbo()
        .current_dir(proj.path())
        .args(["coverage", "--from", "2026-12-01", "--to", "2026-12-02"])
        .output()
        .unwrap();
    let table = crate::util::stdout(&out);
    let pair: Vec<_> = table
        .lines()
        .filter(|l| l.starts_with("cancelled pair: run "))
        .collect();
    assert_eq!(pair.len(), 1, "{table}");
    assert!(
        pair[0].contains("Yi half at `zhaojue` — cancelled at the platform: Mandarin half expired"),
        "{table}"
    );
    assert!(
        !table
            .lines()
            .any(|l| l.starts_with("failed:") && l.contains("cancelled")),
        "{table}"
    );
    assert!(
        lines[0].starts_with("cancelled pair: Yi half at `zhaojue`")
            && lines[0].ends_with("cancelled — Mandarin half expired")
            && !lines[0].contains("HALF A PAIR"),
        "{lines:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn with_repeats_a_broken_pair_is_cancelled_while_later_pairs_still_go_out() {
    let proj = one_county(2);
    let clock = Clock::starting_at(t0());
    let (sim, state) = following_sim(clock, refusing_zho()).await;
    let service = Running::start(proj.path(), &sim, clock, true, 3600).await;
    let (ds, _) = until(proj.path(), |ds| ds.len() == 4).await;
    let second = half(&ds, Lang::Ii, 1).plan.window_start;
    assert!(
        second - slot() > TimeDelta::seconds(10),
        "the second pair's deadline is its Yi window, well after the first's: {ds:?}"
    );

    // Just before the second pair's deadline its Mandarin half is still being refused, and
    // the first pair's Yi half is already cancelled at the platform.
    tokio::time::sleep_until(clock.instant_at(second - TimeDelta::seconds(2))).await;
    let (ds, cancels) = until(proj.path(), |_| true).await;
    assert_eq!(
        state_of(&ds, Lang::Zh, 1),
        DeliveryState::Pending,
        "the dispatch is still going: {ds:?}"
    );
    assert_eq!(state_of(&ds, Lang::Zh, 0), DeliveryState::Expired);
    let first_yi = half(&ds, Lang::Ii, 0);
    assert_eq!(first_yi.state, DeliveryState::Cancelled, "{ds:?}");
    assert_eq!(cancels.len(), 1, "{cancels:?}");
    assert_eq!(cancels[0].delivery, first_yi.id);
    assert!(
        cancels[0].updated_at <= slot() + TimeDelta::seconds(2),
        "settled as soon as the pair broke: {cancels:?}"
    );
    assert_eq!(state.stats().cancels, 1);

    // Then the second pair breaks the same way: two cancels, each sent once.
    let (ds, cancels) = until(proj.path(), |ds| {
        state_of(ds, Lang::Ii, 1) == DeliveryState::Cancelled
    })
    .await;
    service.stop().await;
    assert_eq!(cancels.len(), 2, "{cancels:?}");
    assert!(cancels.iter().all(|c| c.state == CancelState::Done));
    assert_eq!(state.stats().cancels, 2);
    for d in ds.iter().filter(|d| d.plan.lang == Lang::Ii) {
        assert_eq!(
            state.report(&d.plan.ebm_id).unwrap().state,
            BrdState::Cancelled
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_refused_cancel_is_reported_as_half_a_pair_aired() {
    let faults = Faults {
        refuse_cancel: true,
        ..refusing_zho()
    };
    let proj = one_county(1);
    let clock = Clock::starting_at(t0());
    let (sim, state) = following_sim(clock, faults).await;
    let service = Running::start(proj.path(), &sim, clock, true, 3600).await;
    let (ds, cancels) = until(proj.path(), |ds| {
        state_of(ds, Lang::Ii, 0) == DeliveryState::Played
    })
    .await;
    service.stop().await;
    let (yi, zh) = (half(&ds, Lang::Ii, 0), half(&ds, Lang::Zh, 0));
    assert_eq!(zh.state, DeliveryState::Expired);
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].delivery, yi.id);
    assert_eq!(cancels[0].state, CancelState::Refused);
    assert!(
        cancels[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("ResultCode 5"),
        "{cancels:?}"
    );
    assert_eq!(state.stats().cancels_refused, 1);
    let lines = scoped(Locale::En, || pair_lines(&cancels, &ds));
    assert!(
        lines[0].starts_with("HALF A PAIR AIRED: Yi half at `zhaojue`")
            && lines[0].contains("played alone — Mandarin half expired; cancel refused"),
        "{lines:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn stopped_dead_between_the_expiry_and_the_cancel_still_cancels_once_after_restart() {
    let proj = one_county(1);
    let clock = Clock::starting_at(t0());
    let (sim, state) = following_sim(clock, refusing_zho()).await;
    state.hold_cancels(true);
    let service = Running::start(proj.path(), &sim, clock, true, 3600).await;
    // Bounded wait until the cancel was recorded and tried (held by the platform), then the
    // service is dropped mid-flight: no shutdown, nothing drained.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    while state.stats().cancels_held == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no cancel was tried"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    service.task.abort();
    assert!(service.task.await.unwrap_err().is_cancelled());
    let (ds, pending) = until(proj.path(), |_| true).await;
    let yi = half(&ds, Lang::Ii, 0);
    assert_eq!(yi.state, DeliveryState::Delivered, "not cancelled yet");
    assert_eq!(state_of(&ds, Lang::Zh, 0), DeliveryState::Expired);
    assert_eq!(pending.len(), 1, "the intent was recorded before sending");
    assert_eq!(pending[0].delivery, yi.id);
    assert_eq!(pending[0].state, CancelState::Pending);

    state.hold_cancels(false);
    let service = Running::start(proj.path(), &sim, clock, true, 3600).await;
    let (ds, settled) = until(proj.path(), |ds| {
        state_of(ds, Lang::Ii, 0) == DeliveryState::Cancelled
    })
    .await;
    assert_eq!(state.stats().cancels, 1);
    assert_eq!(
        state
            .report(&half(&ds, Lang::Ii, 0).plan.ebm_id)
            .unwrap()
            .state,
        BrdState::Cancelled
    );
    assert_eq!(settled[0].ebd_id, pending[0].ebd_id, "the same package id");
    assert_eq!(settled[0].state, CancelState::Done);
    service.stop().await;

    // A further restart sends nothing more.
    let service = Running::start(proj.path(), &sim, clock, true, 3600).await;
    tokio::time::sleep(Duration::from_secs(60)).await;
    service.stop().await;
    let stats = state.stats();
    assert_eq!((stats.cancels, stats.cancels_refused), (1, 0), "{stats:?}");
}
