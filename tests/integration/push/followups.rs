//! Follow-ups under leases, two instances (services) on one PostgreSQL ledger in one process on
//! tokio's paused time: a dead instance's delivered deliveries have their play states asked by
//! the survivor once their leases run out, and a run split between two live instances (each
//! holding some of its deliveries) has each message's state asked by one of them only — counted
//! at the simulator, per EBMID; and a dead instance's cancel of a broken pair's half, recorded and
//! not yet through, is sent once by the survivor under its recorded package id.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use shengbo::dispatch::Clock;
use shengbo::ledger::{Delivery, DeliveryId, DeliveryState, Ledger, LedgerTarget};
use shengbo::sim::{Faults, SimState};

use super::failover::{PUSH, deliveries, instance};
use super::fast_registry;
use super::service::{campaign, follow, sim_with, t0};

/// Poll the run's deliveries every virtual second until `done` holds of them (at most an hour).
async fn until(
    ledger: &Arc<dyn Ledger>,
    what: &str,
    done: impl Fn(&[Delivery]) -> bool,
) -> Vec<Delivery> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        let ds = deliveries(ledger).await;
        if !ds.is_empty() && done(&ds) {
            return ds;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Who holds the lease of each of `ids`.
async fn holders(ledger: &Arc<dyn Ledger>, ids: Vec<DeliveryId>) -> Vec<Option<String>> {
    let l = Arc::clone(ledger);
    tokio::task::spawn_blocking(move || {
        ids.iter()
            .map(|&id| l.lease_of(id).unwrap().map(|(h, _)| h))
            .collect()
    })
    .await
    .unwrap()
}

/// The instances that made attempts at `id`.
async fn senders(ledger: &Arc<dyn Ledger>, id: DeliveryId) -> Vec<String> {
    let l = Arc::clone(ledger);
    let tries = tokio::task::spawn_blocking(move || l.attempts(id).unwrap())
        .await
        .unwrap();
    let mut who: Vec<String> = tries.into_iter().filter_map(|t| t.instance).collect();
    who.dedup();
    who
}

/// Each delivery's message was asked about exactly once.
fn asked_once(state: &SimState, ds: &[Delivery]) {
    let asked = state.states_asked();
    let per: BTreeMap<&str, u64> = ds
        .iter()
        .map(|d| {
            (
                d.plan.ebm_id.as_str(),
                asked.get(&d.plan.ebm_id).copied().unwrap_or(0),
            )
        })
        .collect();
    assert!(
        per.values().all(|&n| n == 1),
        "state requests per EBMID: {per:#?}"
    );
}

fn setup() -> (String, tempfile::TempDir, Clock) {
    let url = crate::util::pg::fresh_database();
    let dir = super::project(
        &campaign("drill", "police-impersonation", "0 * * * *"),
        Some(&fast_registry(PUSH, "5")),
    );
    (url, dir, Clock::starting_at(t0()))
}

#[tokio::test(start_paused = true)]
async fn a_dead_instances_delivered_deliveries_have_their_states_asked_by_the_survivor() {
    survivor_asks_the_states(false).await;
}

/// Stopped (SIGTERM) rather than killed, A makes its leases run out at once: B takes the
/// follow-ups over within a takeover tick, not a lease time.
#[tokio::test(start_paused = true)]
async fn a_stopped_instances_follow_ups_are_taken_over_at_once() {
    survivor_asks_the_states(true).await;
}

/// A delivers a run and goes (killed, or stopped when `stopped`) before any window ended; B
/// asks every message's state, once, and sends nothing again.
async fn survivor_asks_the_states(stopped: bool) {
    let (url, dir, clock) = setup();
    let root = dir.path();
    let (sim, state) = sim_with(t0(), Faults::default()).await;
    follow(&state, clock);
    let ledger: Arc<dyn Ledger> = LedgerTarget::parse(&url, |_| None).unwrap().open().unwrap();

    let a = instance(root, &sim, clock, &url, "county-a").await;
    // A delivers the 11:00 run two minutes ahead; its windows have not ended yet.
    let delivered = until(&ledger, "A delivered the run", |ds| {
        ds.iter().all(|d| d.state == DeliveryState::Delivered)
    })
    .await;
    let b = instance(root, &sim, clock, &url, "county-b").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ids: Vec<DeliveryId> = delivered.iter().map(|d| d.id).collect();
    let held = holders(&ledger, ids.clone()).await;
    assert!(
        held.iter().all(|h| h.as_deref() == Some("county-a")),
        "{held:?}"
    );
    assert!(
        state.states_asked().is_empty(),
        "{:?}",
        state.states_asked()
    );

    // A goes before any window ended: no one asked about the play states yet.
    if stopped {
        a.stop().await;
        let gone = tokio::time::Instant::now();
        while holders(&ledger, ids.clone())
            .await
            .iter()
            .any(|h| h.as_deref() != Some("county-b"))
        {
            // A takeover tick is a third of the 10 s lease.
            assert!(
                gone.elapsed() < Duration::from_secs(5),
                "B did not take over at once"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    } else {
        a.task.abort();
    }
    let played = until(&ledger, "B asked the states of A's deliveries", |ds| {
        ds.iter().all(|d| d.state == DeliveryState::Played)
    })
    .await;
    asked_once(&state, &played);
    assert_eq!(
        state.stats().messages,
        played.len() as u64,
        "nothing sent again"
    );
    for id in ids {
        assert_eq!(
            senders(&ledger, id).await,
            ["county-a"],
            "only A sent {id:?}"
        );
    }
    b.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_run_split_between_two_live_instances_has_each_state_asked_once() {
    let (url, dir, clock) = setup();
    let root = dir.path();
    let (sim, state) = sim_with(t0(), Faults::default()).await;
    follow(&state, clock);
    state.hold_broadcasts(true);
    let ledger: Arc<dyn Ledger> = LedgerTarget::parse(&url, |_| None).unwrap().open().unwrap();

    // A records the run and dies while the platform is unreachable.
    let a = instance(root, &sim, clock, &url, "county-a").await;
    let recorded = until(&ledger, "A leased the run", |_| true).await;
    let ids: Vec<DeliveryId> = recorded.iter().map(|d| d.id).collect();
    loop {
        let held = holders(&ledger, ids.clone()).await;
        if held.iter().all(|h| h.as_deref() == Some("county-a")) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    a.task.abort();
    // The run is split: every other delivery is left leased to B (as a takeover that claimed
    // part of it leaves it), the rest to A; both come back, each taking only its own.
    let (to_a, to_b): (Vec<_>, Vec<_>) = ids.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let to_a: Vec<DeliveryId> = to_a.into_iter().map(|(_, &id)| id).collect();
    let to_b: Vec<DeliveryId> = to_b.into_iter().map(|(_, &id)| id).collect();
    assert!(!to_b.is_empty());
    let (l, moved, now) = (Arc::clone(&ledger), to_b.clone(), clock.now());
    tokio::task::spawn_blocking(move || {
        l.release_leases(&moved, "county-a").unwrap();
        let until = now + chrono::TimeDelta::hours(1);
        assert_eq!(l.lease(&moved, "county-b", until, now).unwrap(), moved);
    })
    .await
    .unwrap();
    let a = instance(root, &sim, clock, &url, "county-a").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let b = instance(root, &sim, clock, &url, "county-b").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let held = holders(&ledger, ids.clone()).await;
    for (id, h) in ids.iter().zip(&held) {
        let owner = if to_a.contains(id) {
            "county-a"
        } else {
            "county-b"
        };
        assert_eq!(h.as_deref(), Some(owner), "{id:?}: {held:?}");
    }

    state.hold_broadcasts(false);
    let played = until(&ledger, "both halves of the run played", |ds| {
        ds.iter().all(|d| d.state == DeliveryState::Played)
    })
    .await;
    asked_once(&state, &played);
    assert_eq!(state.stats().messages, played.len() as u64);
    for id in &to_b {
        assert_eq!(
            senders(&ledger, *id).await.last().map(String::as_str),
            Some("county-b")
        );
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_dead_instances_unsent_cancel_is_sent_once_by_the_survivor() {
    let url = crate::util::pg::fresh_database();
    // One county; its platform refuses Mandarin until the pair's deadline, so the delivered Yi
    // half is to be cancelled.
    let campaign = "id = \"drill\"\nname = \"drill\"\nmessages = [\"police-impersonation\"]\n\
        rotation = \"all\"\norder = [\"ii\", \"zh\"]\ngap_s = 1.0\nquiet_hours = []\n\
        [targets]\ncounties = [\"昭觉县\"]\n[[slots]]\nlabel = \"slot\"\ncron = \"0 * * * *\"\n";
    let push = "lead_time_s = 120\nair_by_s = 600\nbackoff_base_ms = 50\nbackoff_cap_s = 0.5\n\
        breaker_threshold = 1000\nconnection_check_s = 3600\nstate_wait_s = 300\nlease_s = 10";
    let dir = super::project(campaign, Some(&fast_registry(push, "5")));
    let root = dir.path();
    let clock = Clock::starting_at(t0());
    let faults = Faults {
        refuse_lang: Some("zho".into()),
        ..Faults::default()
    };
    let (sim, state) = sim_with(t0(), faults).await;
    follow(&state, clock);
    state.hold_cancels(true);
    let ledger: Arc<dyn Ledger> = LedgerTarget::parse(&url, |_| None).unwrap().open().unwrap();

    let a = instance(root, &sim, clock, &url, "county-a").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    while state.stats().cancels_held == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "A never tried the cancel"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let b = instance(root, &sim, clock, &url, "county-b").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    // A dies with the cancel recorded and unsent (the platform held it).
    a.task.abort();
    let pending = {
        let l = Arc::clone(&ledger);
        tokio::task::spawn_blocking(move || l.cancels(None).unwrap())
            .await
            .unwrap()
    };
    assert_eq!(pending.len(), 1, "{pending:?}");
    state.hold_cancels(false);
    let ds = until(&ledger, "B sent the cancel", |ds| {
        ds.iter().any(|d| d.state == DeliveryState::Cancelled)
    })
    .await;
    let yi = ds
        .iter()
        .find(|d| d.state == DeliveryState::Cancelled)
        .unwrap();
    assert_eq!(yi.id, pending[0].delivery);
    let (l, run) = (Arc::clone(&ledger), yi.plan.run);
    let settled = tokio::task::spawn_blocking(move || l.cancels(Some(run)).unwrap())
        .await
        .unwrap();
    assert_eq!(settled[0].ebd_id, pending[0].ebd_id, "the same package id");
    assert_eq!(settled[0].state, shengbo::ledger::CancelState::Done);
    tokio::time::sleep(Duration::from_secs(60)).await;
    let stats = state.stats();
    assert_eq!((stats.cancels, stats.cancels_refused), (1, 0), "{stats:?}");
    b.stop().await;
}
