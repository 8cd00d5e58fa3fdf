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
    start_sim_on(faults, SimClock::system(speed)).await
}

/// A simulator serving on a loopback port, its clock `clock`.
pub async fn start_sim_on(faults: Faults, clock: SimClock) -> Sim {
    let config = SimConfig {
        faults,
        ..SimConfig::default()
    }
    .with_directory(&Directory::liangshan());
    let state = SimState::new(config, SimKeys::default(), clock).unwrap();
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
         rotation = \"all\"\norder = [\"ii\", \"zh\"]\ngap_s = 1.0\nquiet_hours = []\n\
         [targets]\n{targets}\n[[slots]]\nlabel = \"every minute\"\ncron = \"* * * * *\"\n"
    )
}

/// A project folder: the committed demo audio, the demo endpoint registry (or `endpoints`),
/// and `campaign`.
pub fn project(campaign: &str, endpoints: Option<&str>) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    util::copy_dir(&repo.join("audio"), &dir.path().join("audio"));
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
    run_cmd_at(root, sim, at, "120", extra)
}

/// [`run_cmd`] with the play clock at `speed`.
pub fn run_cmd_at(
    root: &Path,
    sim: &str,
    at: DateTime<Utc>,
    speed: &str,
    extra: &[&str],
) -> tokio::process::Command {
    let mut cmd = util::shengbo();
    cmd.args([
        "run",
        "--once",
        "--campaign",
        "drill",
        "--speed",
        speed,
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
    let at = this_minute();
    let out = run_once(proj.path(), &sim.url, at, &["--instance", "county-a"]).await;
    let stdout = util::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        util::stderr(&out)
    );
    let by: Vec<String> = rusqlite::Connection::open(ledger_path(proj.path()))
        .unwrap()
        .prepare("SELECT DISTINCT instance FROM attempts")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        by,
        ["county-a"],
        "every attempt is recorded under --instance"
    );
    assert!(
        stdout.contains("(100.0%) in 304 of 304 targeted townships; played in 304 townships"),
        "{stdout}"
    );
    assert!(stdout.contains("denominator"), "{stdout}");
    // The same slot again with no language in the environment: Chinese, nothing sent twice.
    let again = run_cmd(proj.path(), &sim.url, at, &[])
        .env_remove("LANG")
        .output()
        .await
        .unwrap();
    let zh = util::stdout(&again);
    assert!(zh.starts_with("运行 ") && zh.contains(" — drill，"), "{zh}");
    assert!(zh.contains("\n乡镇       名称"), "{zh}");
    assert!(
        zh.contains("（100.0%），目标 304 个乡镇中覆盖 304 个；在 304 个乡镇播出"),
        "{zh}"
    );
    assert!(
        zh.contains("分母：本次运行所针对的 304 个乡镇的人口"),
        "{zh}"
    );
    let ledger = ledger(proj.path());
    let runs = ledger
        .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)
        .unwrap();
    assert_eq!(runs.len(), 1);
    let deliveries = ledger.deliveries_of_run(runs[0].id).unwrap();
    assert_eq!(
        deliveries.len(),
        34,
        "17 county platforms × 2 segments (one Yi–Mandarin pair)"
    );
    assert!(deliveries.iter().all(|d| d.state == DeliveryState::Played));
    for d in &deliveries {
        let pair = deliveries
            .iter()
            .find(|o| o.plan.endpoint == d.plan.endpoint && o.plan.lang != d.plan.lang)
            .unwrap();
        assert_eq!(
            d.plan.related_ebm_id.as_deref(),
            Some(pair.plan.ebm_id.as_str())
        );
    }
    assert_eq!(sim.state.stats().messages, 34);
    assert!(ledger_path(proj.path()).is_file());
}

/// The demo registry with `[push]` and per-endpoint settings rewritten for fast tests.
pub fn fast_registry(push: &str, timeout_s: &str) -> String {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo = std::fs::read_to_string(repo.join("schedules/endpoints.toml")).unwrap();
    let endpoints = &demo[demo.find("[[endpoint]]").unwrap()..];
    format!(
        "[push]\n{push}\n\n{}",
        endpoints.replace("timeout_s = 10", &format!("timeout_s = {timeout_s}"))
    )
}

const FAST: &str = "backoff_base_ms = 20\nbackoff_cap_s = 0.2\nconcurrency = 32";

pub fn all_deliveries(ledger: &SqliteLedger) -> Vec<shengbo::ledger::Delivery> {
    let runs = ledger
        .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)
        .unwrap();
    runs.iter()
        .flat_map(|r| ledger.deliveries_of_run(r.id).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_after_outages_and_timeouts_keep_the_same_ids() {
    let faults = Faults {
        http_5xx_rate: 0.3,
        slow_rate: 0.15,
        slow_ms: 3_000,
        ..Faults::default()
    };
    let sim = start_sim(faults, 120.0).await;
    // The circuit breaker has its own test: here it must not open on the injected faults, or
    // which deliveries settle would depend on how the random faults happen to cluster.
    let push = format!("{FAST}\nbreaker_threshold = 1000");
    let proj = project(
        &drill_campaign("all = true"),
        Some(&fast_registry(&push, "1")),
    );
    let out = run_once(proj.path(), &sim.url, this_minute(), &[]).await;
    util::assert_exit(&out, 0);
    let ledger = ledger(proj.path());
    let deliveries = all_deliveries(&ledger);
    assert_eq!(deliveries.len(), 34);
    let attempts: Vec<_> = deliveries
        .iter()
        .flat_map(|d| ledger.attempts(d.id).unwrap())
        .collect();
    let kinds: Vec<&str> = attempts.iter().map(|a| a.result.kind()).collect();
    assert!(
        kinds.contains(&"http"),
        "some attempts met a 503: {kinds:?}"
    );
    assert!(
        kinds.contains(&"timeout"),
        "some attempts timed out: {kinds:?}"
    );
    assert!(attempts.len() > deliveries.len());
    // Every retry resent the same message: the simulator saw exactly one message per delivery.
    assert_eq!(sim.state.stats().messages, 34);
    assert!(deliveries.iter().all(|d| d.state == DeliveryState::Played));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_codes_2_to_5_are_final_and_never_resent() {
    for code in 2..=5u8 {
        let faults = Faults {
            force_result_code: Some(code),
            force_result_rate: 1.0,
            ..Faults::default()
        };
        let sim = start_sim(faults, 120.0).await;
        let proj = project(
            &drill_campaign("counties = [\"昭觉县\"]"),
            Some(&fast_registry(FAST, "5")),
        );
        let out = run_once(proj.path(), &sim.url, this_minute(), &[]).await;
        assert_eq!(
            out.status.code(),
            Some(1),
            "code {code}: {}",
            util::stdout(&out)
        );
        let ledger = ledger(proj.path());
        let deliveries = all_deliveries(&ledger);
        assert_eq!(deliveries.len(), 2);
        for d in &deliveries {
            assert_eq!(d.state, DeliveryState::Rejected);
            let reason = d.reason.clone().unwrap_or_default();
            assert!(reason.contains(&format!("ResultCode {code}")), "{reason}");
            assert_eq!(
                reason.matches("ResultCode").count(),
                1,
                "said once: {reason}"
            );
            assert_eq!(ledger.attempts(d.id).unwrap().len(), 1, "not resent");
        }
        assert_eq!(
            sim.state.stats().requests,
            2,
            "one request per delivery, nothing more"
        );
        assert!(util::stdout(&out).contains("rejected"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_past_its_air_by_deadline_is_expired_never_sent() {
    let sim = start_sim(Faults::default(), 120.0).await;
    let proj = project(
        &drill_campaign("counties = [\"昭觉县\"]"),
        Some(&fast_registry(FAST, "5")),
    );
    let late = this_minute() - chrono::TimeDelta::minutes(40);
    let out = run_once(proj.path(), &sim.url, late, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", util::stdout(&out));
    let deliveries = all_deliveries(&ledger(proj.path()));
    assert_eq!(
        deliveries.len(),
        2,
        "recorded, so coverage counts them as targeted"
    );
    assert!(
        deliveries.iter().all(|d| d.state == DeliveryState::Expired),
        "{deliveries:?}"
    );
    assert_eq!(sim.state.stats().requests, 0, "nothing aired late");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_until_the_air_by_deadline_end_in_expiry() {
    let faults = Faults {
        http_5xx_rate: 1.0,
        ..Faults::default()
    };
    let sim = start_sim(faults, 120.0).await;
    let occurrence = this_minute();
    // Eight seconds of outage from now: room for a loaded machine to start the run.
    let air_by = (Utc::now() - occurrence).num_seconds() + 8;
    let push = format!("{FAST}\nair_by_s = {air_by}\nbreaker_threshold = 1000");
    let proj = project(
        &drill_campaign("counties = [\"昭觉县\"]"),
        Some(&fast_registry(&push, "5")),
    );
    let out = run_once(proj.path(), &sim.url, occurrence, &[]).await;
    assert_eq!(out.status.code(), Some(1));
    let ledger = ledger(proj.path());
    for d in all_deliveries(&ledger) {
        assert_eq!(d.state, DeliveryState::Expired, "{d:?}");
        let attempts = ledger.attempts(d.id).unwrap();
        assert!(!attempts.is_empty());
        let kinds: Vec<_> = attempts
            .iter()
            .map(|a| (a.result.kind(), a.error.clone()))
            .collect();
        // 503s, or a broken pipe when the outage answers before the body is read.
        assert!(attempts.iter().all(|a| !a.result.is_ok()), "{kinds:?}");
        assert!(kinds.iter().any(|(k, _)| *k == "http"), "{kinds:?}");
        assert!(
            attempts.iter().all(|a| a.started_at <= d.plan.air_by),
            "no attempt after air-by"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_circuit_opens_on_a_dead_platform_and_the_others_go_on() {
    let sim = start_sim(Faults::default(), 120.0).await;
    let occurrence = this_minute();
    // Eight seconds from now: room for a loaded machine to start the run and reach the live one.
    let air_by = (Utc::now() - occurrence).num_seconds() + 8;
    let push =
        format!("{FAST}\nair_by_s = {air_by}\nbreaker_threshold = 2\nbreaker_cooldown_s = 600");
    let mut registry = fast_registry(&push, "2");
    // 昭觉县's platform is down: nothing listens on port 1.
    registry = registry.replace("{sim}/ebd/513431/", "http://127.0.0.1:1/ebd/513431/");
    let proj = project(
        &drill_campaign("counties = [\"昭觉县\", \"布拖县\"]"),
        Some(&registry),
    );
    let out = run_once(proj.path(), &sim.url, occurrence, &[]).await;
    assert_eq!(out.status.code(), Some(1));
    let ledger = ledger(proj.path());
    let deliveries = all_deliveries(&ledger);
    let dead: Vec<_> = deliveries
        .iter()
        .filter(|d| d.plan.endpoint == "zhaojue")
        .collect();
    let alive: Vec<_> = deliveries
        .iter()
        .filter(|d| d.plan.endpoint == "butuo")
        .collect();
    assert_eq!((dead.len(), alive.len()), (2, 2));
    assert!(alive.iter().all(|d| d.state == DeliveryState::Played));
    assert!(dead.iter().all(|d| d.state == DeliveryState::Expired));
    let attempts: usize = dead
        .iter()
        .map(|d| ledger.attempts(d.id).unwrap().len())
        .sum();
    assert!(
        attempts <= 3,
        "the open circuit stopped further attempts: {attempts}"
    );
    let health = ledger.endpoint_health("zhaojue").unwrap().unwrap();
    assert_eq!(health.circuit, shengbo::ledger::CircuitState::Open);
}

mod crash;
mod demo;
mod failover;
mod followups;
mod hostile;
mod inbound;
mod pairs;
mod record;
mod reload;
mod resume;
mod segments;
mod senders;
pub(crate) mod serve;
mod service;
mod signed;
mod states_as_delivered;
mod versions;
mod webhook;
mod wire;
