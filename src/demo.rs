//! The out-of-the-box demo's parts: the simulator started in-process on loopback with its clock
//! slaved to the demo's accelerated play clock, the next slot occurrences of every campaign, and
//! reach merged over several runs (a township counts once, with its best confirmed outcome; in
//! one run, a township is confirmed only when every segment of its programme is).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::directory::Directory;
use crate::ledger::{Confirmed, TownshipReach};
use crate::push::PlayClock;
use crate::schedule::Campaign;
use crate::sim::{Faults, SimClock, SimConfig, SimKeys, SimState, app};

/// The demo's shared play clock: the pusher reads it, the simulator follows it.
pub type SharedClock = Arc<Mutex<PlayClock>>;

/// Read the shared clock.
pub fn now(clock: &SharedClock) -> DateTime<Utc> {
    clock.lock().unwrap_or_else(|e| e.into_inner()).now()
}

/// Restart the shared clock at `at`, running `speed` times real time.
pub fn set(clock: &SharedClock, at: DateTime<Utc>, speed: f64) -> PlayClock {
    let c = PlayClock::starting_at(at, speed);
    *clock.lock().unwrap_or_else(|e| e.into_inner()) = c;
    c
}

/// The simulator serving on a loopback port.
#[derive(Debug)]
pub struct DemoSim {
    pub url: String,
    pub state: SimState,
}

/// Start the simulator on `127.0.0.1:<free port>`, one terminal per village, its clock kept at
/// the shared play clock (updated every 5 ms) until the runtime ends.
pub async fn start_sim(
    directory: &Directory,
    faults: Faults,
    clock: SharedClock,
) -> std::io::Result<DemoSim> {
    let config = SimConfig {
        faults,
        ..SimConfig::default()
    }
    .with_directory(directory);
    let sim_clock = SimClock::manual(now(&clock));
    let state = SimState::new(config, SimKeys::default(), sim_clock.clone())
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = app(state.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "simulator stopped");
        }
    });
    tokio::spawn(async move {
        loop {
            sim_clock.set(now(&clock));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    Ok(DemoSim { url, state })
}

/// The next `n` instants at or after `from` at which some campaign has a slot, each with the
/// campaigns firing then (in id order). Looks at most `horizon` ahead.
pub fn next_occurrences(
    campaigns: &[Campaign],
    from: DateTime<Utc>,
    n: usize,
    horizon: TimeDelta,
) -> Vec<(DateTime<Utc>, Vec<String>)> {
    let mut at: BTreeMap<DateTime<Utc>, Vec<String>> = BTreeMap::new();
    for c in campaigns {
        for (_, t) in c.occurrences(from, from + horizon) {
            at.entry(t).or_default().push(c.id.clone());
        }
    }
    at.into_iter()
        .take(n)
        .map(|(t, mut ids)| {
            ids.sort();
            (t, ids)
        })
        .collect()
}

/// Reach inputs of several runs merged: one row per township with its best outcome (played
/// over delivered) and the most terminals reported.
pub fn merge_reach(runs: &[Vec<TownshipReach>]) -> Vec<TownshipReach> {
    let mut best: BTreeMap<String, TownshipReach> = BTreeMap::new();
    for row in runs.iter().flatten() {
        let e = best
            .entry(row.township.clone())
            .or_insert_with(|| TownshipReach {
                township: row.township.clone(),
                best: None,
                terminals_played: None,
            });
        e.best = e.best.max(row.best);
        e.terminals_played = e.terminals_played.max(row.terminals_played);
    }
    best.into_values().collect()
}

/// Whether a township had a confirmed play.
pub fn played(row: &TownshipReach) -> bool {
    row.best == Some(Confirmed::Played)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: &str, best: Option<Confirmed>, terminals: Option<u64>) -> TownshipReach {
        TownshipReach {
            township: t.into(),
            best,
            terminals_played: terminals,
        }
    }

    #[test]
    fn merged_reach_keeps_each_townships_best() {
        let a = vec![
            row("1", Some(Confirmed::Delivered), None),
            row("2", None, None),
        ];
        let b = vec![
            row("1", Some(Confirmed::Played), Some(4)),
            row("3", None, None),
        ];
        let m = merge_reach(&[a, b]);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0], row("1", Some(Confirmed::Played), Some(4)));
        assert_eq!(m[1].best, None);
        assert!(played(&m[0]) && !played(&m[1]));
    }
}
