//! A platform whose public key is configured but which answers broadcasts unsigned (it signs its
//! other replies): each answer is recorded as unverified, the package is not resent, and a
//! signed state query (whose answer verifies) settles the delivery — the service in-process on
//! tokio's paused time, the simulator's play clock following it.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use shengbo::directory::Directory;
use shengbo::dispatch::Clock;
use shengbo::ebd::EbdProfile;
use shengbo::ebd::keys::{KeySigner, write_key_pair};
use shengbo::ledger::{AttemptResult, DeliveryState, Ledger};
use shengbo::sim::{Faults, SimClock, SimConfig, SimKeys, SimState, app};

use super::service::{Running, campaign, t0};
use super::{fast_registry, ledger, project};

/// A simulator signing its replies with `signer`, but for its answers to broadcasts.
async fn unsigned_to_broadcasts(signer: KeySigner, clock: Clock) -> (String, SimState) {
    let config = SimConfig {
        faults: Faults {
            unsigned_broadcast_replies: true,
            ..Faults::default()
        },
        ..SimConfig::default()
    }
    .with_directory(&Directory::liangshan());
    let keys = SimKeys {
        signer: Some(Arc::new(signer)),
        peer_key: None,
    };
    let state = SimState::new(config, keys, SimClock::manual(clock.now())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    super::service::follow(&state, clock);
    (url, state)
}

#[tokio::test(start_paused = true)]
async fn an_unverified_answer_is_not_resent_and_a_signed_state_query_settles_it() {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = write_key_pair(keys.path()).unwrap();
    let signer = KeySigner::load(&private, &EbdProfile::default().sm2_dist_id).unwrap();
    let clock = Clock::starting_at(t0());
    let (sim, state) = unsigned_to_broadcasts(signer, clock).await;
    let push = "lead_time_s = 120\nair_by_s = 600\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2\n\
                connection_check_s = 3600\nstate_wait_s = 300";
    let registry = fast_registry(push, "5").replace(
        "[[endpoint]]\n",
        &format!("[[endpoint]]\npeer_public_key = \"{}\"\n", public.display()),
    );
    let dir = project(
        &campaign("drill", "police-impersonation", "0 * * * *"),
        Some(&registry),
    );
    let root = dir.path();
    let service = Running::start(root, &sim, clock, true, 3600).await;
    let slot = t0() + TimeDelta::minutes(10);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    let ds = loop {
        assert!(tokio::time::Instant::now() < deadline, "never settled");
        if root.join(".shengbo/ledger.sqlite").is_file() {
            let l = ledger(root);
            let runs = l.runs(slot, slot + TimeDelta::seconds(1), Some("drill"));
            if let Some(run) = runs.unwrap_or_default().first() {
                let ds = l.deliveries_of_run(run.id).unwrap();
                if !ds.is_empty() && ds.iter().all(|d| d.state.is_final()) {
                    break ds;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    service.stop().await;

    let l = ledger(root);
    for d in &ds {
        assert_eq!(
            d.state,
            DeliveryState::Played,
            "settled by its state: {d:?}"
        );
        let attempts = l.attempts(d.id).unwrap();
        assert_eq!(attempts.len(), 1, "never resent: {attempts:?}");
        assert_eq!(attempts[0].result, AttemptResult::Unverified);
        assert!(
            attempts[0]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("reply signature")),
            "{attempts:?}"
        );
    }
    let stats = state.stats();
    assert_eq!(
        stats.messages,
        ds.len() as u64,
        "one package each: {stats:?}"
    );
}
