//! Integration tests: pushing — the real `shengbo run --once` against the platform simulator on
//! loopback (real HTTP, real tar and XML packages, real SQLite ledger, the committed demo audio).

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, Timelike, Utc};
use shengbo::directory::Directory;
use shengbo::ledger::{DeliveryState, Ledger, SqliteLedger};
use shengbo::sim::{Faults, SimClock, SimConfig, SimKeys, SimState, app};
use tempfile::TempDir;

use super::util;

/// A simulator serving on a loopback port.
pub struct Sim {
    pub url: String,
    pub state: SimState,
}

pub async fn start_sim(faults: Faults, speed: f64) -> Sim {
    let config = SimConfig {
        faults,
        ..SimConfig::default()
    }
    .with_directory(&Directory::liangshan());
    let state = SimState::new(config, SimKeys::default(), SimClock::system(speed)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Sim { url, state }
}

/// A campaign firing every minute over `targets` with one message.
pub fn drill_campaign(targets: &str) -> String {
    format!(
        "id = \"drill\"\nname = \"drill\"\nmessages = [\"police-impersonation\"]\n\
         rotation = \"all\"\norder = [\"ii\", \"zh\"]\ngap_s = 1.0\n\
         [targets]\n{targets}\n[[slots]]\nlabel = \"every minute\"\ncron = \"* * * * *\"\n"
    )
}

/// A project folder: the committed demo audio, the demo endpoint registry (or `endpoints`),
/// and `campaign`.
pub fn project(campaign: &str, endpoints: Option<&str>) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(&repo.join("audio"), &dir.path().join("audio"));
    let schedules = dir.path().join("schedules");
    std::fs::create_dir_all(&schedules).unwrap();
    let registry = match endpoints {
        Some(text) => text.to_string(),
        None => std::fs::read_to_string(repo.join("schedules/endpoints.toml")).unwrap(),
    };
    std::fs::write(schedules.join("endpoints.toml"), registry).unwrap();
    std::fs::write(schedules.join("drill.toml"), campaign).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// This minute, as an RFC 3339 occurrence.
pub fn this_minute() -> DateTime<Utc> {
    Utc::now()
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap()
}

/// `shengbo run --once` in `root` against the simulator (async, so the in-process sim serves).
pub fn run_cmd(
    root: &Path,
    sim: &str,
    at: DateTime<Utc>,
    extra: &[&str],
) -> tokio::process::Command {
    let mut cmd = util::shengbo();
    cmd.args([
        "run",
        "--once",
        "--campaign",
        "drill",
        "--speed",
        "120",
        "--wait",
        "600",
    ])
    .args(["--at", &at.to_rfc3339(), "--sim", sim])
    .args(extra)
    .env("SHENGBO_ROOT", root)
    .env("SHENGBO_DATA_DIR", root.join(".shengbo"))
    .env_remove("RUST_LOG");
    tokio::process::Command::from(cmd)
}

pub async fn run_once(root: &Path, sim: &str, at: DateTime<Utc>, extra: &[&str]) -> Output {
    run_cmd(root, sim, at, extra).output().await.unwrap()
}

pub fn ledger(root: &Path) -> SqliteLedger {
    SqliteLedger::open(&root.join(".shengbo").join("ledger.sqlite")).unwrap()
}

fn ledger_path(root: &Path) -> PathBuf {
    root.join(".shengbo").join("ledger.sqlite")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_reaches_every_township_of_the_prefecture() {
    let sim = start_sim(Faults::default(), 120.0).await;
    let proj = project(&drill_campaign("all = true"), None);
    let out = run_once(proj.path(), &sim.url, this_minute(), &[]).await;
    let stdout = util::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        util::stderr(&out)
    );
    assert!(
        stdout.contains("played in 304 of 304 targeted townships"),
        "{stdout}"
    );
    assert!(stdout.contains("denominator"), "{stdout}");
    let ledger = ledger(proj.path());
    let runs = ledger
        .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)
        .unwrap();
    assert_eq!(runs.len(), 1);
    let deliveries = ledger.deliveries_of_run(runs[0].id).unwrap();
    assert_eq!(deliveries.len(), 34, "17 county platforms × 2 languages");
    assert!(deliveries.iter().all(|d| d.state == DeliveryState::Played));
    for d in &deliveries {
        let pair = deliveries
            .iter()
            .find(|o| o.endpoint == d.endpoint && o.lang != d.lang)
            .unwrap();
        assert_eq!(d.related_ebm_id.as_deref(), Some(pair.ebm_id.as_str()));
    }
    assert_eq!(sim.state.stats().messages, 34);
    assert!(ledger_path(proj.path()).is_file());
}
