//! The cron loop on tokio's paused clock: firing at push time, catch-up within the air-by
//! window, missed slots never fired late, reloads, and shutdown.

use std::path::Path;
use std::sync::Mutex;

use chrono::TimeZone;

use super::*;
use crate::catalog::Catalog;
use crate::directory::Directory;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Event {
    kind: &'static str,
    campaign: String,
    occurrence: DateTime<Utc>,
    /// The loop's clock when it happened.
    at: DateTime<Utc>,
}

#[derive(Debug)]
struct Recorder {
    clock: Clock,
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    fn push(&self, kind: &'static str, campaign: String, occurrence: DateTime<Utc>) {
        let at = self.clock.now();
        self.events.lock().unwrap().push(Event {
            kind,
            campaign,
            occurrence,
            at,
        });
    }

    fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }
}

impl Runner for Recorder {
    async fn fire(
        &self,
        _: Arc<Project>,
        campaign: String,
        occurrence: DateTime<Utc>,
        _: watch::Receiver<bool>,
    ) {
        self.push("fire", campaign, occurrence);
    }

    async fn missed(&self, _: Arc<Project>, campaign: String, occurrence: DateTime<Utc>) {
        self.push("missed", campaign, occurrence);
    }
}

fn campaign(id: &str, cron: &str) -> Campaign {
    let src = format!(
        "id = \"{id}\"\nname = \"{id}\"\nmessages = [\"m\"]\n[targets]\nall = true\n\
         [[slots]]\nlabel = \"s\"\ncron = \"{cron}\"\n"
    );
    crate::schedule::parse_str(Path::new("schedules/t.toml"), &src, &Directory::liangshan())
        .unwrap()
}

fn project(campaigns: Vec<Campaign>) -> Arc<Project> {
    Arc::new(Project {
        root: ".".into(),
        directory: Directory::liangshan(),
        campaigns,
        catalog: Catalog::default(),
        adjusted_cache: ".".into(),
        loudness: Default::default(),
        version: Default::default(),
    })
}

/// 10:01 Beijing on a fixed day.
fn t0() -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 11, 27, 10, 1, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn min(m: i64) -> TimeDelta {
    TimeDelta::minutes(m)
}

struct Rig {
    recorder: Arc<Recorder>,
    project_tx: watch::Sender<Arc<Project>>,
    stop_tx: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn start(campaigns: Vec<Campaign>, cursor: DateTime<Utc>) -> Rig {
    let clock = Clock::starting_at(t0());
    let recorder = Arc::new(Recorder {
        clock,
        events: Mutex::default(),
    });
    let (project_tx, project_rx) = watch::channel(project(campaigns));
    let (stop_tx, stop_rx) = watch::channel(false);
    let lp = CronLoop {
        runner: Arc::clone(&recorder),
        clock,
        config: LoopConfig {
            lead: Duration::from_secs(120),
            air_by: Duration::from_secs(30 * 60),
            drain: Duration::from_secs(5),
        },
        project: project_rx,
    };
    let task = tokio::spawn(lp.run(cursor, stop_rx));
    Rig {
        recorder,
        project_tx,
        stop_tx,
        task,
    }
}

#[tokio::test(start_paused = true)]
async fn fires_each_slot_at_its_push_time() {
    let rig = start(vec![campaign("a", "*/10 * * * *")], t0());
    tokio::time::sleep(Duration::from_secs(25 * 60)).await;
    let events = rig.recorder.events();
    let occurrences: Vec<DateTime<Utc>> = events.iter().map(|e| e.occurrence).collect();
    assert_eq!(occurrences, vec![t0() + min(9), t0() + min(19)]);
    for e in &events {
        assert_eq!(e.kind, "fire");
        assert_eq!(e.at, e.occurrence - min(2), "fired at the lead time: {e:?}");
    }
    rig.stop_tx.send(true).unwrap();
    rig.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn catch_up_fires_inside_air_by_and_records_older_slots_as_missed() {
    let rig = start(vec![campaign("a", "*/10 * * * *")], t0() - min(120));
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let events = rig.recorder.events();
    let fired: Vec<_> = events.iter().filter(|e| e.kind == "fire").collect();
    let missed: Vec<_> = events.iter().filter(|e| e.kind == "missed").collect();
    // 08:10 … 10:00 Beijing: 12 slots; those after 09:31 (air-by 30 min) still air.
    assert_eq!(fired.len() + missed.len(), 12, "{events:?}");
    assert!(
        fired.iter().all(|e| e.occurrence + min(30) >= t0()),
        "{fired:?}"
    );
    assert!(
        missed.iter().all(|e| e.occurrence + min(30) < t0()),
        "{missed:?}"
    );
    assert_eq!(fired.len(), 3, "09:40, 09:50, 10:00: {fired:?}");
    rig.stop_tx.send(true).unwrap();
    rig.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_slot_whose_window_is_ahead_is_fired_before_the_catch_up() {
    // 10:02 is due (its push time, 10:00, passed before the start) and still ahead; 09:40,
    // 09:50 and 10:00 are already airing.
    let campaigns = vec![campaign("a", "*/10 * * * *"), campaign("b", "2 10 * * *")];
    let rig = start(campaigns, t0() - min(30));
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fired: Vec<_> = rig
        .recorder
        .events()
        .into_iter()
        .filter(|e| e.kind == "fire")
        .map(|e| (e.campaign, e.occurrence))
        .collect();
    let a = |m| ("a".to_string(), t0() + min(m));
    assert_eq!(
        fired,
        [("b".to_string(), t0() + min(1)), a(-21), a(-11), a(-1)],
        "the slot still ahead first, then the catch-up in time order"
    );
    rig.stop_tx.send(true).unwrap();
    rig.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_reload_takes_effect_without_restart() {
    let rig = start(vec![campaign("a", "0 12 * * *")], t0());
    tokio::time::sleep(Duration::from_secs(60)).await;
    rig.project_tx
        .send(project(vec![campaign("b", "15 10 * * *")]))
        .unwrap();
    tokio::time::sleep(Duration::from_secs(20 * 60)).await;
    let events = rig.recorder.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].campaign, "b");
    assert_eq!(events[0].occurrence, t0() + min(14));
    rig.stop_tx.send(true).unwrap();
    rig.task.await.unwrap();
}

#[test]
fn catch_up_starts_at_the_latest_run_or_the_air_by_window() {
    let now = t0();
    let air_by = Duration::from_secs(1800);
    assert_eq!(catch_up_from(None, now, air_by), now - min(30));
    let latest = now - min(90);
    assert_eq!(
        catch_up_from(Some(latest), now, air_by),
        latest,
        "the latest run is resumed with every other open run, not fired again"
    );
    let ancient = now - TimeDelta::days(30);
    assert_eq!(
        catch_up_from(Some(ancient), now, air_by),
        now - TimeDelta::days(7)
    );
}
