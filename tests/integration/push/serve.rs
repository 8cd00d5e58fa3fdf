//! `shengbo serve` as a process: the cron loop pushes the next slot (inside the lead time) to the
//! simulator beside the HTTP app, and SIGTERM stops it cleanly, draining in-flight work.

use std::time::{Duration, Instant};

use chrono::Timelike;

use shengbo::ledger::{DeliveryState, Ledger};
use shengbo::sim::Faults;

use super::{fast_registry, ledger, project, start_sim};
use crate::util;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_pushes_the_next_slot_and_stops_on_sigterm() {
    let sim = start_sim(Faults::default(), 120.0).await;
    // An hourly slot half an hour away, whatever the clock says: with a lead time of an hour the
    // next one is due now, and the last one (half an hour ago) is long past its 60 s air-by.
    let started = chrono::Utc::now();
    let minute = (started + chrono::Duration::minutes(30)).minute();
    let campaign = format!(
        "id = \"hourly\"\nname = \"hourly\"\nmessages = [\"police-impersonation\"]\n\
         rotation = \"all\"\nquiet_hours = []\n[targets]\ncounties = [\"昭觉县\"]\n\
         [[slots]]\nlabel = \"hourly\"\ncron = \"{minute} * * * *\"\n"
    );
    let push = "lead_time_s = 3600\nair_by_s = 60\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2";
    let proj = project(&campaign, Some(&fast_registry(push, "5")));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = listener.local_addr().unwrap().to_string();
    drop(listener);
    let mut cmd = util::shengbo();
    cmd.args(["serve", "--listen", &listen, "--sim", &sim.url])
        .env("SHENGBO_ROOT", proj.path())
        .env("SHENGBO_DATA_DIR", proj.path().join(".shengbo"))
        .env_remove("RUST_LOG");
    let mut child = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let delivered = loop {
        assert!(Instant::now() < deadline, "serve never pushed");
        let path = proj.path().join(".shengbo/ledger.sqlite");
        if path.is_file() {
            let l = ledger(proj.path());
            let runs = l
                .runs(
                    chrono::DateTime::<chrono::Utc>::MIN_UTC,
                    chrono::DateTime::<chrono::Utc>::MAX_UTC,
                    None,
                )
                .unwrap_or_default();
            let pushed = runs.iter().find_map(|r| {
                if r.occurrence < started {
                    return None;
                }
                let ds = l.deliveries_of_run(r.id).unwrap_or_default();
                let sent = ds.len() == 2 && ds.iter().all(|d| d.state == DeliveryState::Delivered);
                sent.then_some(ds)
            });
            if let Some(ds) = pushed {
                let never_late = runs.iter().filter(|r| r.occurrence < started).all(|r| {
                    let ds = l.deliveries_of_run(r.id).unwrap_or_default();
                    ds.iter().all(|d| d.state == DeliveryState::Expired)
                });
                assert!(never_late, "a slot past its air-by is expired, not sent");
                break ds;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(delivered.iter().all(|d| d.endpoint == "zhaojue"));
    assert_eq!(sim.state.stats().messages, 2);
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
