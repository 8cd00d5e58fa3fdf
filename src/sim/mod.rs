//! The loopback simulator of county emergency-broadcast platforms: an axum app that takes EBD
//! packages exactly as a real platform does (multipart POST, first `.tar` file part), validates
//! them with [`crate::ebd::validate`] and checks that the package's EBDID, its EBMID and its
//! `SRC/EBRID` name the same sender code (ResultCode 2 otherwise) and that every `AreaCode` lies
//! in the destination's region (ResultCode 5 otherwise, `areas`), answers with a signed response
//! tar, keeps each message's playback state over (optionally accelerated) time, answers state
//! and log requests with coverage from terminals per township or village, and injects faults on
//! request.
//!
//! - [`config`] — identity, terminals, speed, faults.
//! - [`playback`] — per-message states and the clock.
//! - `handler` — the HTTP edge.

mod areas;
pub mod config;
mod handler;
pub mod playback;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sm2::dsa::VerifyingKey;

use crate::ebd::keys::Signer;
use crate::ebd::profile::ProfileError;
use crate::ebd::{InboundConfig, MemorySequence};

pub use config::{Faults, SimConfig};
pub use playback::{Playback, Report, SimClock};

/// Counters of what the simulator saw, for tests, benchmarks and drills.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimStats {
    pub requests: u64,
    /// Requests without a usable `.tar` part (HTTP 400).
    pub bad_requests: u64,
    /// Injected HTTP 5xx answers.
    pub http_5xx: u64,
    /// Answers by ResultCode 0–5.
    pub by_code: [u64; 6],
    /// Distinct broadcast messages accepted.
    pub messages: u64,
    /// Broadcasts refused for their language (`refuse_lang`, HTTP 503).
    pub refused_lang: u64,
    /// Cancels (MsgType 2) that stopped a message.
    pub cancels: u64,
    /// Cancels refused (ResultCode 5: unknown or finished message, or `refuse_cancel`).
    pub cancels_refused: u64,
    /// Cancels answered HTTP 503 while cancels are held ([`SimState::hold_cancels`]).
    pub cancels_held: u64,
    /// State requests answered HTTP 503 while they are held ([`SimState::hold_states`]).
    pub states_held: u64,
    /// Valid packages whose wire times were checked against the wall clock.
    pub wire_checked: u64,
    /// The largest distance (ms) of an `EBDTime` or `SendTime` from the wall clock on arrival.
    pub wire_skew_ms: u64,
    /// Packages whose EBDID or EBMID is dated another day than their `EBDTime` (Beijing).
    pub wire_day_mismatches: u64,
}

/// Keys of the simulator: its signer for replies, the sender's key to verify requests.
#[derive(Debug, Clone, Default)]
pub struct SimKeys {
    pub signer: Option<Arc<dyn Signer>>,
    pub peer_key: Option<VerifyingKey>,
}

#[derive(Debug)]
struct Inner {
    config: SimConfig,
    inbound: InboundConfig,
    keys: SimKeys,
    clock: SimClock,
    seq: MemorySequence,
    playback: Mutex<Playback>,
    rng: Mutex<StdRng>,
    stats: Mutex<SimStats>,
    /// State requests by the EBMID they ask about (answered or held).
    asked: Mutex<std::collections::BTreeMap<String, u64>>,
    /// While set, cancels are answered HTTP 503 (an outage of the cancel path, for drills).
    hold_cancels: AtomicBool,
    /// While set, state requests are answered HTTP 503 (an outage of the state path).
    hold_states: AtomicBool,
    /// While set, broadcasts (EBMs) are answered HTTP 503.
    hold_broadcasts: AtomicBool,
}

/// The simulator's shared state; cheap to clone.
#[derive(Debug, Clone)]
pub struct SimState {
    inner: Arc<Inner>,
}

impl SimState {
    /// A simulator with `config`, `keys` and `clock`.
    pub fn new(
        config: SimConfig,
        keys: SimKeys,
        clock: SimClock,
    ) -> Result<SimState, ProfileError> {
        config.profile.validate()?;
        let inbound = InboundConfig {
            id_format: config.profile.id_format,
            peer_key: keys.peer_key.clone(),
            sign_time_in_data: config.profile.sign_time_in_data,
            ..InboundConfig::default()
        };
        let inner = Inner {
            playback: Mutex::new(Playback::new(config.max_messages)),
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            config,
            inbound,
            keys,
            clock,
            seq: MemorySequence::default(),
            stats: Mutex::new(SimStats::default()),
            asked: Mutex::default(),
            hold_cancels: AtomicBool::new(false),
            hold_states: AtomicBool::new(false),
            hold_broadcasts: AtomicBool::new(false),
        };
        Ok(SimState {
            inner: Arc::new(inner),
        })
    }

    pub fn clock(&self) -> &SimClock {
        &self.inner.clock
    }

    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// Answer cancels with HTTP 503 (`true`) or take them again (`false`).
    pub fn hold_cancels(&self, on: bool) {
        self.inner.hold_cancels.store(on, Ordering::SeqCst);
    }

    /// Answer state requests with HTTP 503 (`true`) or again normally (`false`).
    pub fn hold_states(&self, on: bool) {
        self.inner.hold_states.store(on, Ordering::SeqCst);
    }

    /// Answer broadcasts with HTTP 503 (`true`) or take them again (`false`): a platform
    /// unreachable for a while, so a sender's deliveries stay pending.
    pub fn hold_broadcasts(&self, on: bool) {
        self.inner.hold_broadcasts.store(on, Ordering::SeqCst);
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> SimStats {
        lock(&self.inner.stats).clone()
    }

    /// How many state requests asked about each EBMID (answered or held): one instance asking
    /// per message, or two asking the same.
    pub fn states_asked(&self) -> std::collections::BTreeMap<String, u64> {
        lock(&self.inner.asked).clone()
    }

    /// The report on one message now, if known.
    pub fn report(&self, ebm_id: &str) -> Option<Report> {
        let platform = self.inner.config.profile.sender().ok()?;
        lock(&self.inner.playback).report(ebm_id, self.inner.clock.now(), &platform)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The simulator as an axum app: `POST` any path with a package; `GET /health`.
pub fn app(state: SimState) -> Router {
    let limit = state.inner.config.max_body_bytes;
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .fallback(handler::receive)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}
