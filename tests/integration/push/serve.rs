//! `shengbo serve` as a process: the cron loop pushes the next slot (inside the lead time) to the
//! simulator beside the HTTP app, SIGTERM stops it cleanly, draining in-flight work, and an
//! edited `endpoints.toml` is applied to the next slot without a restart.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use shengbo::ledger::{Delivery, DeliveryState, Ledger};
use shengbo::sim::Faults;

use super::{fast_registry, ledger, project, start_sim};
use crate::util;

/// An hourly campaign `id` at `minute` past each hour, to 昭觉县.
pub(super) fn hourly(id: &str, minute: u32) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\nmessages = [\"police-impersonation\"]\n\
         rotation = \"all\"\nquiet_hours = []\n[targets]\ncounties = [\"昭觉县\"]\n\
         [[slots]]\nlabel = \"hourly\"\ncron = \"{minute} * * * *\"\n"
    )
}

/// `shengbo serve` on a free loopback port in `root`, `{sim}` pointing at `sim`.
pub(super) fn serve(root: &Path, sim: &str) -> tokio::process::Command {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = listener.local_addr().unwrap().to_string();
    drop(listener);
    let mut cmd = util::shengbo();
    cmd.args([
        "serve",
        "--listen",
        &listen,
        "--sim",
        sim,
        "--reload-s",
        "1",
    ])
    .env("SHENGBO_ROOT", root)
    .env("SHENGBO_DATA_DIR", root.join(".shengbo"))
    .env("RUST_LOG", "shengbo=info")
    .env("NO_COLOR", "1");
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    cmd
}

/// The deliveries of the first run of `campaign` (at or after `after`) once all `n` are
/// delivered, polling the ledger until `deadline`.
async fn delivered_run(
    root: &Path,
    campaign: &str,
    after: DateTime<Utc>,
    n: usize,
    deadline: Instant,
) -> Vec<Delivery> {
    let path = root.join(".shengbo/ledger.sqlite");
    loop {
        assert!(Instant::now() < deadline, "`{campaign}` was never pushed");
        if path.is_file() {
            let l = ledger(root);
            let runs = l
                .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)
                .unwrap_or_default();
            let done = runs
                .iter()
                .filter(|r| r.campaign == campaign && r.occurrence >= after)
                .find_map(|r| {
                    let ds = l.deliveries_of_run(r.id).unwrap_or_default();
                    let sent =
                        ds.len() == n && ds.iter().all(|d| d.state == DeliveryState::Delivered);
                    sent.then_some(ds)
                });
            if let Some(ds) = done {
                return ds;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Lines of a child's stderr, as they come.
struct Lines {
    rx: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn of(child: &mut tokio::process::Child) -> Lines {
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(line);
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    /// The next line holding `needle` (within a minute).
    async fn until(&mut self, needle: &str) -> String {
        let wait = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = self.rx.recv().await {
                self.seen.push(line.clone());
                if line.contains(needle) {
                    return Some(line);
                }
            }
            None
        });
        match wait.await {
            Ok(Some(line)) => line,
            _ => panic!("no `{needle}` in stderr:\n{}", self.seen.join("\n")),
        }
    }
}

/// Write `text` to `schedules/<name>` in one step (a rename from outside `schedules/`), so a
/// poll never sees half a file.
fn replace_file(root: &Path, name: &str, text: &str) {
    let tmp = root.join(format!("{name}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, root.join("schedules").join(name)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_pushes_the_next_slot_and_stops_on_sigterm() {
    let sim = start_sim(Faults::default(), 120.0).await;
    // An hourly slot half an hour away, whatever the clock says: with a lead time of an hour the
    // next one is due now, and the last one (half an hour ago) is long past its 60 s air-by.
    let started = chrono::Utc::now();
    let minute = (started + chrono::Duration::minutes(30)).minute();
    let push = "lead_time_s = 3600\nair_by_s = 60\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2";
    let proj = project(&hourly("hourly", minute), Some(&fast_registry(push, "5")));
    let mut child = serve(proj.path(), &sim.url)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _stderr = Lines::of(&mut child);
    let deadline = Instant::now() + Duration::from_secs(120);
    let delivered = delivered_run(proj.path(), "hourly", started, 2, deadline).await;
    let l = ledger(proj.path());
    let runs = l
        .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)
        .unwrap();
    let never_late = runs.iter().filter(|r| r.occurrence < started).all(|r| {
        let ds = l.deliveries_of_run(r.id).unwrap_or_default();
        ds.iter().all(|d| d.state == DeliveryState::Expired)
    });
    assert!(never_late, "a slot past its air-by is expired, not sent");
    assert!(delivered.iter().all(|d| d.endpoint == "zhaojue"));
    assert_eq!(sim.state.stats().messages, 2);
    stop(child).await;
}

/// SIGTERM, then a clean exit within the drain deadline.
async fn stop(mut child: tokio::process::Child) {
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("serve stops within the drain deadline")
        .unwrap();
    assert_eq!(status.code(), Some(0), "clean exit after SIGTERM");
}

/// The first whole minute at or after `t`.
fn minute_from(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = t.with_second(0).unwrap().with_nanosecond(0).unwrap();
    if floor == t {
        floor
    } else {
        floor + chrono::Duration::minutes(1)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_applies_an_edited_endpoint_registry_to_the_next_slot() {
    let sim = start_sim(Faults::default(), 120.0).await;
    let other = start_sim(Faults::default(), 120.0).await;
    let started = Utc::now();
    let minute = (started + chrono::Duration::minutes(30)).minute();
    let push = "lead_time_s = 3600\nair_by_s = 60\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2\n\
                connection_check_s = 1";
    let registry = fast_registry(push, "5");
    let proj = project(&hourly("hourly", minute), Some(&registry));
    let root = proj.path();
    let mut child = serve(root, &sim.url)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = Lines::of(&mut child);
    let deadline = Instant::now() + Duration::from_secs(120);
    let first = delivered_run(root, "hourly", started, 2, deadline).await;
    assert!(first.iter().all(|d| d.endpoint == "zhaojue"));
    assert_eq!(sim.state.stats().messages, 2);

    // A broken edit: the error names its line, and the last good endpoints stay.
    let broken = registry.replace("[\"昭觉县\"]", "[\"昭觉镇县\"]");
    let line = broken.lines().position(|l| l.contains("昭觉镇县")).unwrap() + 1;
    replace_file(root, "endpoints.toml", &broken);
    let error = stderr
        .until("invalid endpoint registry after an edit")
        .await;
    let at = format!("schedules/endpoints.toml:{line}:");
    assert!(error.contains(&at), "{error}");
    stderr.until("keeping the last good endpoints").await;

    // 昭觉县 moves to a new endpoint on another platform; the others keep `{sim}`.
    let moved = registry
        .replace("\"zhaojue\"", "\"zhaojue-b\"")
        .replace("{sim}/ebd/513431/", &format!("{}/b/513431/", other.url));
    replace_file(root, "endpoints.toml", &moved);
    let reloaded = stderr.until("endpoints reloaded").await;
    assert!(
        reloaded.contains("added=1") && reloaded.contains("removed=1"),
        "{reloaded}"
    );
    assert!(
        !stderr.seen.iter().any(|l| l.contains("endpoint left out")),
        "`{{sim}}` is replaced on reload too:\n{}",
        stderr.seen.join("\n")
    );
    // The heartbeat checks the endpoints in force: the new platform hears from it first.
    let deadline = Instant::now() + Duration::from_secs(60);
    while other.state.stats().requests == 0 {
        assert!(
            Instant::now() < deadline,
            "no heartbeat to the new endpoint"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The next slot: a campaign added after the reload, its first slot just past the lead
    // window (the project reload has 20 s or more to be seen before the slot's push time).
    let next = minute_from(Utc::now() + chrono::Duration::seconds(3600 + 20));
    replace_file(root, "second.toml", &hourly("second", next.minute()));
    let deadline = Instant::now() + Duration::from_secs(180);
    let second = delivered_run(root, "second", next, 2, deadline).await;
    assert!(
        second.iter().all(|d| d.endpoint == "zhaojue-b"),
        "{second:?}"
    );
    assert_eq!(other.state.stats().messages, 2, "sent to the new url");
    assert_eq!(sim.state.stats().messages, 2, "nothing more to the old one");
    stop(child).await;
}
