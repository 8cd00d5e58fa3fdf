//! Play states asked while the run is still going out, the service in-process on tokio's paused
//! time against the simulator (its play clock following the one injected clock): a programme
//! of two pairs whose second pair goes out only when its lead time opens has its first message's
//! state asked, answered and recorded before the run's last delivery is pushed, and every
//! message's state asked once — also across a restart between the pairs; a stop ends the
//! follow-ups under way at once.

use std::path::Path;
use std::time::Duration;

use chrono::TimeDelta;
use shengbo::dispatch::Clock;
use shengbo::ledger::{Delivery, DeliveryState, Ledger};
use shengbo::sim::Faults;

use super::service::{Running, follow, sim_with, t0};
use super::{fast_registry, ledger, project};

/// Lead time of the test's registry: longer than the Yi clip and the gap (the first pair's
/// Mandarin half goes out before the pair's deadline, its Yi window), shorter than the first
/// Yi window's end (+ the state grace) is from the second pair's first window.
const LEAD_S: i64 = 33;

/// The 11:00 run's deliveries once `done` holds.
async fn until(root: &Path, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
    super::pairs::until(root, done).await.0
}

/// One county, one message in two pairs ten seconds apart, at 11:00 (Beijing).
fn two_pairs() -> tempfile::TempDir {
    let campaign = "id = \"drill\"\nname = \"drill\"\nmessages = [\"police-impersonation\"]\n\
         rotation = \"all\"\norder = [\"ii\", \"zh\"]\ngap_s = 10.0\nrepeats = 2\n\
         quiet_hours = []\n[targets]\ncounties = [\"昭觉县\"]\n\
         [[slots]]\nlabel = \"slot\"\ncron = \"0 * * * *\"\n";
    let push = format!(
        "lead_time_s = {LEAD_S}\nair_by_s = 600\nbackoff_base_ms = 50\nbackoff_cap_s = 0.5\n\
         breaker_threshold = 1000\nconnection_check_s = 3600\nstate_wait_s = 300"
    );
    project(campaign, Some(&fast_registry(&push, "5")))
}

#[tokio::test(start_paused = true)]
async fn a_delivered_message_has_its_state_asked_before_the_runs_last_push() {
    asked_before_the_last_push(false).await;
}

/// Dropped once the first pair is delivered and started again before its window: the run is
/// resumed, and the first pair (delivered before the restart) is followed from the start.
#[tokio::test(start_paused = true)]
async fn after_a_restart_a_message_delivered_before_it_has_its_state_asked_before_the_last_push() {
    asked_before_the_last_push(true).await;
}

async fn asked_before_the_last_push(restart: bool) {
    let proj = two_pairs();
    let root = proj.path();
    let clock = Clock::starting_at(t0());
    let (sim, state) = sim_with(clock.now(), Faults::default()).await;
    follow(&state, clock);
    let mut service = Running::start(root, &sim, clock, true, 3600).await;

    let ds = until(root, |ds| ds.len() == 4).await;
    if restart {
        let out = |d: &Delivery| d.plan.repeat > 0 || d.state == DeliveryState::Delivered;
        let ds = until(root, |ds| ds.iter().all(out)).await;
        let first_end = ds.iter().map(|d| d.plan.window_end).min().unwrap();
        assert!(clock.now() < first_end, "{ds:?}");
        service.task.abort();
        let _ = (&mut service.task).await;
        assert!(state.states_asked().is_empty());
        service = Running::start(root, &sim, clock, true, 3600).await;
    }
    let first = ds.iter().min_by_key(|d| d.plan.window_start).unwrap();
    let last = ds.iter().max_by_key(|d| d.plan.window_start).unwrap();
    let last_out = last.plan.window_start - TimeDelta::seconds(LEAD_S);
    let first_asked = first.plan.window_end + TimeDelta::seconds(5);
    assert!(
        first_asked + TimeDelta::seconds(2) < last_out,
        "the first message's state is due well before the last delivery may go out: {ds:?}"
    );

    // Just before the last delivery may go out, the first message's play state is recorded.
    tokio::time::sleep_until(clock.instant_at(last_out - TimeDelta::seconds(1))).await;
    let now = until(root, |_| true).await;
    let state_of = |id| now.iter().find(|d| d.id == id).unwrap().state;
    assert_eq!(
        state_of(last.id),
        DeliveryState::Pending,
        "the last delivery is not pushed yet: {now:?}"
    );
    assert!(state.report(&last.plan.ebm_id).is_none(), "{now:?}");
    assert_eq!(state_of(first.id), DeliveryState::Played, "{now:?}");
    assert_eq!(
        state.states_asked().get(&first.plan.ebm_id),
        Some(&1),
        "{:?}",
        state.states_asked()
    );
    let reports = ledger(root).state_reports(first.id).unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");

    // Then the rest: every message played, each asked about once.
    let played = until(root, |ds| {
        ds.iter().all(|d| d.state == DeliveryState::Played)
    })
    .await;
    service.stop().await;
    let asked = state.states_asked();
    for d in &played {
        assert_eq!(asked.get(&d.plan.ebm_id), Some(&1), "{asked:?}");
    }
    assert_eq!(state.stats().messages, 4, "each message sent once");
}

/// A stop while a delivered message's state is being asked (the platform answering state
/// requests with HTTP 503, so its follow-up keeps retrying) and the run's last delivery waits
/// for its lead time: the service returns within the dispatch's drain, and asks nothing more.
#[tokio::test(start_paused = true)]
async fn a_stop_ends_the_follow_ups_under_way_during_the_push() {
    let proj = two_pairs();
    let root = proj.path();
    let clock = Clock::starting_at(t0());
    let (sim, state) = sim_with(clock.now(), Faults::default()).await;
    follow(&state, clock);
    state.hold_states(true);
    let service = Running::start(root, &sim, clock, true, 3600).await;
    let ds = until(root, |ds| ds.len() == 4).await;
    let first = ds.iter().min_by_key(|d| d.plan.window_start).unwrap();
    let last = ds.iter().max_by_key(|d| d.plan.window_start).unwrap();
    let last_out = last.plan.window_start - TimeDelta::seconds(LEAD_S);

    tokio::time::sleep_until(clock.instant_at(last_out - TimeDelta::seconds(1))).await;
    assert!(
        state
            .states_asked()
            .get(&first.plan.ebm_id)
            .is_some_and(|&n| n >= 1),
        "{:?}",
        state.states_asked()
    );
    tokio::time::timeout(Duration::from_secs(30), service.stop())
        .await
        .expect("stopped within the drain");
    let asked = state.states_asked();
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(state.states_asked(), asked, "nothing asked after the stop");
    let now = until(root, |_| true).await;
    let left = now.iter().find(|d| d.id == last.id).unwrap();
    assert_eq!(left.state, DeliveryState::Pending, "kept for a restart");
    let asked_first = now.iter().find(|d| d.id == first.id).unwrap();
    assert_eq!(
        asked_first.state,
        DeliveryState::Delivered,
        "{asked_first:?}"
    );
}
