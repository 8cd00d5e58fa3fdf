//! `shengbo serve` as a process (the smoke test; the service's behaviour is tested in-process on
//! paused time in `service.rs` and `reload.rs`): the cron loop pushes the next slot (inside the
//! lead time) to the simulator beside the HTTP app, and SIGTERM stops it cleanly.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};

use shengbo::ledger::{Delivery, DeliveryState, Ledger};
use shengbo::sim::Faults;

use super::{fast_registry, ledger, project, start_sim};
use crate::util;

/// An hourly campaign `id` at `minute` past each hour, to 昭觉县.
pub(crate) fn hourly(id: &str, minute: u32) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\nmessages = [\"police-impersonation\"]\n\
         rotation = \"all\"\nquiet_hours = []\n[targets]\ncounties = [\"昭觉县\"]\n\
         [[slots]]\nlabel = \"hourly\"\ncron = \"{minute} * * * *\"\n"
    )
}

/// `shengbo serve` on a free loopback port in `root`, `{sim}` pointing at `sim`.
pub(crate) fn serve(root: &Path, sim: &str) -> tokio::process::Command {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_pushes_the_next_slot_and_stops_on_sigterm() {
    let sim = start_sim(Faults::default(), 120.0).await;
    // An hourly slot half an hour away, whatever the clock says: with a lead time of an hour the
    // next one is due now, and the last one (half an hour ago) is long past its 60 s air-by.
    let started = chrono::Utc::now();
    let minute = (started + chrono::Duration::minutes(30)).minute();
    let push = "lead_time_s = 3600\nair_by_s = 60\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2";
    let proj = project(&hourly("hourly", minute), Some(&fast_registry(push, "5")));
    let child = serve(proj.path(), &sim.url)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
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
    assert!(delivered.iter().all(|d| d.plan.endpoint == "zhaojue"));
    assert_eq!(sim.state.stats().messages, 2);
    stop(child).await;
}

/// SIGTERM, then a clean exit within the drain deadline.
pub(crate) async fn stop(mut child: tokio::process::Child) {
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
