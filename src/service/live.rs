//! The live view: the snapshot stations pull is planned from the same project the scheduler
//! pushes from, over yesterday through a week ahead, and rebuilt whenever a reload sends a new
//! project and at every Beijing midnight (so the window moves with the days and the current
//! programme is always in it).

use std::sync::Arc;

use chrono::{DateTime, Days, TimeDelta, Utc};
use tokio::sync::watch;

use crate::dispatch::Clock;
use crate::push::Project;
use crate::server::{AppState, Snapshot, airing};

/// The window planned for serving at `now`: yesterday through eight days ahead.
pub fn window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = now.checked_sub_days(Days::new(1)).unwrap_or(now);
    let to = now.checked_add_days(Days::new(8)).unwrap_or(now);
    (from, to)
}

/// The snapshot of `project` at `now`: its plan over [`window`], with the loudness-adjusted
/// clips (made in the project's cache if missing, as the push path makes them). Blocking.
pub fn snapshot_of(project: &Project, now: DateTime<Utc>) -> Snapshot {
    let (from, to) = window(now);
    let mut planned = crate::plan::plan(
        &project.campaigns,
        &project.directory,
        &project.catalog,
        from,
        to,
    );
    let airing = airing::resolve(
        &project.catalog,
        &project.root,
        &project.adjusted_cache,
        project.loudness,
    );
    airing::rewrite(&mut planned.broadcasts, &airing);
    Snapshot::new(planned.broadcasts, airing::audio_files(&airing), now)
}

/// The next Beijing midnight after `now`.
pub fn next_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&chrono_tz::Asia::Shanghai);
    let tomorrow = local.date_naive().succ_opt().unwrap_or(local.date_naive());
    // Beijing has no daylight saving: midnight is 16:00 UTC of the day before.
    let at = tomorrow.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - TimeDelta::hours(8);
    if at > now {
        at
    } else {
        now + TimeDelta::days(1)
    }
}

/// Keep `state`'s snapshot on the current project and day until `stop`.
pub async fn follow(
    state: AppState,
    mut project: watch::Receiver<Arc<Project>>,
    clock: Clock,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let midnight = next_midnight(clock.now());
        tokio::select! {
            changed = project.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            () = tokio::time::sleep_until(clock.instant_at(midnight)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let current = Arc::clone(&project.borrow_and_update());
        let now = clock.now();
        match tokio::task::spawn_blocking(move || snapshot_of(&current, now)).await {
            Ok(snapshot) => {
                tracing::info!(
                    broadcasts = snapshot.broadcasts().len(),
                    "live view rebuilt"
                );
                state.replace_snapshot(snapshot);
            }
            Err(e) => tracing::error!(error = %e, "re-plan failed; serving the previous plan"),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn midnight_is_beijing_midnight_and_always_ahead() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 15, 59, 59).unwrap();
        let m = next_midnight(at);
        assert_eq!(m, Utc.with_ymd_and_hms(2026, 12, 1, 16, 0, 0).unwrap());
        assert_eq!(
            next_midnight(m),
            Utc.with_ymd_and_hms(2026, 12, 2, 16, 0, 0).unwrap()
        );
    }

    #[test]
    fn the_window_holds_yesterday_and_eight_days_ahead() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        let (from, to) = window(now);
        assert_eq!(now - from, TimeDelta::days(1));
        assert_eq!(to - now, TimeDelta::days(8));
    }
}
