//! The out-of-the-box demo's parts: the simulator started in-process on loopback with its clock
//! slaved to the demo's accelerated play clock and the next slot occurrences of every campaign.
//! (Reach over the demo's runs is [`crate::reach`]'s, like every other surface's.)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::directory::Directory;
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

/// Why the demo's simulator did not start.
#[derive(Debug, thiserror::Error)]
pub enum SimStartError {
    #[error("simulator profile: {0}")]
    Profile(#[from] crate::ebd::profile::ProfileError),
    #[error("simulator listener: {0}")]
    Listen(#[from] std::io::Error),
}

/// Start the simulator on `127.0.0.1:<free port>`, one terminal per village, its clock kept at
/// the shared play clock (updated every 5 ms) until the runtime ends.
pub async fn start_sim(
    directory: &Directory,
    faults: Faults,
    clock: SharedClock,
) -> Result<DemoSim, SimStartError> {
    let config = SimConfig {
        faults,
        ..SimConfig::default()
    }
    .with_directory(directory);
    let sim_clock = SimClock::manual(now(&clock));
    let state = SimState::new(config, SimKeys::default(), sim_clock.clone())?;
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::TimeZone;

    use super::*;

    /// Campaigns `a` (09:00 and 12:00) and `b` (09:00), every day, everywhere.
    fn campaigns() -> Vec<Campaign> {
        const TEXT: &str = r#"id = "ID"
name = "ID"
messages = ["m"]
[targets]
all = true
[[slots]]
label = "daily"
cron = "CRON"
"#;
        [("b", "0 9 * * *"), ("a", "0 9,12 * * *")]
            .iter()
            .map(|(id, cron)| {
                let text = TEXT.replace("ID", id).replace("CRON", cron);
                crate::schedule::parse_str(Path::new("t.toml"), &text, &Directory::liangshan())
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn next_occurrences_merge_campaigns_firing_together_in_id_order() {
        let from = chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2030, 1, 15, 8, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let campaigns = campaigns();
        let got = next_occurrences(&campaigns, from, 3, TimeDelta::days(2));
        let hours: Vec<(i64, Vec<String>)> = got
            .iter()
            .map(|(t, ids)| ((*t - from).num_hours(), ids.clone()))
            .collect();
        assert_eq!(
            hours,
            [
                (1, vec!["a".to_string(), "b".to_string()]),
                (4, vec!["a".to_string()]),
                (25, vec!["a".to_string(), "b".to_string()]),
            ]
        );
        assert!(next_occurrences(&campaigns, from, 3, TimeDelta::minutes(30)).is_empty());
    }
}
