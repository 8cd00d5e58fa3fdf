//! The service in-process ([`shengbo::service::serve`]) on tokio's paused time: one injected
//! clock drives the cron loop, the reloads and the live view, so days pass in seconds. The
//! simulator runs beside it on loopback; pulls go over a real socket.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use shengbo::datadir::DataDir;
use shengbo::dispatch::Clock;
use shengbo::ebd::assemble::{build_package, envelope};
use shengbo::ebd::{Body, EbdId, EbdProfile, EbmId, EbmStateResponse, Signer};
use shengbo::ledger::{Delivery, DeliveryState, Ledger};
use shengbo::server::Metrics;
use shengbo::server::auth::{self, Scope};
use shengbo::service::{Listen, ServiceConfig};
use shengbo::sim::{Faults, SimClock, SimState};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{fast_registry, ledger, project};

/// 10:50 in Beijing.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 2, 50, 0).unwrap()
}

/// A campaign `id` airing `message` to 昭觉县 on `cron`.
pub fn campaign(id: &str, message: &str, cron: &str) -> String {
    format!(
        "id = \"{id}\"\nname = \"{id}\"\nmessages = [\"{message}\"]\n\
         rotation = \"all\"\nquiet_hours = []\n[targets]\ncounties = [\"昭觉县\"]\n\
         [[slots]]\nlabel = \"slot\"\ncron = \"{cron}\"\n"
    )
}

/// A simulator on loopback whose clock stands at `at`.
pub async fn sim_at(at: DateTime<Utc>) -> String {
    sim_with(at, Faults::default()).await.0
}

/// A simulator on loopback at `at` with `faults`: its URL and state.
pub async fn sim_with(at: DateTime<Utc>, faults: Faults) -> (String, SimState) {
    let sim = super::start_sim_on(faults, SimClock::manual(at)).await;
    (sim.url, sim.state)
}

/// Keep `state`'s manual play clock on `clock`, every virtual second.
pub fn follow(state: &SimState, clock: Clock) {
    let follower = state.clone();
    tokio::spawn(async move {
        loop {
            follower.clock().set(clock.now());
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

/// A running service and the way to stop it.
pub struct Running {
    pub url: String,
    pub addr: std::net::SocketAddr,
    pub token: String,
    stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<Result<(), shengbo::service::ServiceError>>,
}

impl Running {
    /// Start the service on `root` with the clock at `at`.
    pub async fn start(
        root: &Path,
        sim: &str,
        clock: Clock,
        schedule: bool,
        reload_s: u64,
    ) -> Running {
        let metrics = Arc::new(Metrics::default());
        Running::start_with(root, sim, clock, schedule, reload_s, metrics).await
    }

    /// [`Running::start`], recording into `metrics`.
    pub async fn start_with(
        root: &Path,
        sim: &str,
        clock: Clock,
        schedule: bool,
        reload_s: u64,
        metrics: Arc<Metrics>,
    ) -> Running {
        Running::start_configured(root, sim, clock, (schedule, reload_s), metrics, |_| {}).await
    }

    /// [`Running::start_with`], its configuration adjusted by `configure` (ledger, instance).
    pub async fn start_configured(
        root: &Path,
        sim: &str,
        clock: Clock,
        (schedule, reload_s): (bool, u64),
        metrics: Arc<Metrics>,
        configure: impl FnOnce(&mut ServiceConfig),
    ) -> Running {
        let tokens = root.join(".shengbo/tokens.json");
        std::fs::create_dir_all(root.join(".shengbo")).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let name = format!("prefecture-{}", addr.port());
        let token = auth::add(&tokens, &name, Scope::Coordinator, clock.now()).unwrap();
        let data = DataDir::resolve(root, None);
        let mut config = ServiceConfig::new(root.to_path_buf(), data, Listen::Bound(listener));
        config.sim = Some(sim.to_string());
        config.reload = Duration::from_secs(reload_s);
        config.schedule = schedule;
        config.metrics = metrics;
        configure(&mut config);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(shengbo::service::serve(config, clock, async move {
            let _ = rx.await;
        }));
        Running {
            url,
            addr,
            token,
            stop: Some(tx),
            task,
        }
    }

    /// GET `path` with the coordinator token: status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let client = shengbo::transport::http_client().unwrap();
        let resp = client
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send();
        let resp = tokio::time::timeout(Duration::from_secs(600), resp)
            .await
            .expect("an answer within ten virtual minutes")
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    }

    /// Stop it and wait for it to return.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap().unwrap();
    }
}

/// The deliveries of `campaign`'s run at `occurrence`, once each is final or sent (polling the
/// ledger every virtual second, for at most `within`).
pub async fn settled_run(
    root: &Path,
    campaign: &str,
    occurrence: DateTime<Utc>,
    within: Duration,
) -> Vec<Delivery> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "`{campaign}` at {occurrence} was never pushed"
        );
        if root.join(".shengbo/ledger.sqlite").is_file() {
            let l = ledger(root);
            let runs = l.runs(
                occurrence,
                occurrence + chrono::TimeDelta::seconds(1),
                Some(campaign),
            );
            if let Some(run) = runs.unwrap_or_default().first() {
                let ds = l.deliveries_of_run(run.id).unwrap();
                let out = |d: &Delivery| d.state != DeliveryState::Pending;
                if !ds.is_empty() && ds.iter().all(out) {
                    return ds;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

const PUSH: &str = "lead_time_s = 120\nair_by_s = 600\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2\n\
    connection_check_s = 3600\n\
    state_wait_s = 5";

#[tokio::test(start_paused = true)]
async fn an_edited_schedule_changes_the_pull_and_the_next_push_alike() {
    let dir = project(
        &campaign("drill", "police-impersonation", "0 * * * *"),
        Some(&fast_registry(PUSH, "5")),
    );
    let root = dir.path();
    let sim = sim_at(t0()).await;
    let clock = Clock::starting_at(t0());
    let service = Running::start(root, &sim, clock, true, 1).await;

    let first = t0() + chrono::TimeDelta::minutes(10);
    let pushed = settled_run(root, "drill", first, Duration::from_secs(3600)).await;
    assert!(
        pushed
            .iter()
            .all(|d| d.plan.message == "police-impersonation")
    );
    let (status, body) = service.get("/v1/townships/513431100/playlist.json").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("police-impersonation"), "{body}");

    std::fs::write(
        root.join("schedules/drill.toml"),
        campaign("drill", "fake-rights-agents", "0 * * * *"),
    )
    .unwrap();
    // The watcher polls every virtual second; the live view follows the project it sends.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (status, body) = service.get("/v1/townships/513431100/playlist.json").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("fake-rights-agents"),
        "the pull follows the edit: {body}"
    );
    assert!(!body.contains("police-impersonation"), "{body}");

    let next = first + chrono::TimeDelta::hours(1);
    let pushed = settled_run(root, "drill", next, Duration::from_secs(2 * 3600)).await;
    assert!(
        pushed
            .iter()
            .all(|d| d.plan.message == "fake-rights-agents"),
        "the push follows the edit: {:?}",
        pushed.iter().map(|d| &d.plan.message).collect::<Vec<_>>()
    );
    service.stop().await;
}

#[tokio::test(start_paused = true)]
async fn nine_days_on_the_current_programme_still_answers() {
    let dir = project(
        &campaign("evening", "police-impersonation", "0 12 * * *"),
        Some(&fast_registry(PUSH, "5")),
    );
    let root = dir.path();
    let sim = sim_at(t0()).await;
    // Nothing is edited: the watcher looks once an hour (polling every second for nine days is slow).
    let service = Running::start(root, &sim, Clock::starting_at(t0()), true, 3600).await;
    let (status, body) = service.get("/v1/townships/513431100/playlist.m3u8").await;
    assert_eq!(status, 200, "{body}");

    tokio::time::sleep(Duration::from_secs(9 * 86_400)).await;
    let (status, body) = service.get("/v1/townships/513431100/playlist.json").await;
    assert_eq!(status, 200, "nine days on: {body}");
    assert!(body.contains("2026-12-10"), "today's programme: {body}");
    let runs = ledger(root)
        .runs(t0(), t0() + chrono::TimeDelta::days(10), Some("evening"))
        .unwrap();
    assert_eq!(
        runs.len(),
        9,
        "one run a day, each pushed by the same service"
    );
    service.stop().await;
}

/// An `EBMStateResponse` for `ebm` (played, code 3), as a platform sends it unasked: from
/// `profile`'s sender, package number `n`, signed by `signer` when given.
pub fn played_report(
    profile: &EbdProfile,
    ebm: &str,
    at: DateTime<Utc>,
    n: u32,
    signer: Option<&dyn Signer>,
) -> Vec<u8> {
    let sender = profile.sender().unwrap();
    let id = EbdId::package(&sender, at.date_naive(), n).unwrap();
    let body = Body::EbmStateResponse(EbmStateResponse {
        rpt_time: at,
        ebm_id: EbmId::parse(ebm, profile.id_format).unwrap(),
        brd_state_code: 3,
        brd_state_desc: Some("播发成功".into()),
        coverage: None,
        res_brd_info: Vec::new(),
    });
    let ebd = envelope(profile, id, None, None, at, body).unwrap();
    build_package(&ebd, &[], profile, signer)
        .unwrap()
        .bytes
        .to_vec()
}

#[tokio::test(start_paused = true)]
async fn a_platform_s_unasked_state_report_makes_a_delivery_played() {
    // Play states are asked for only long after the window: the report below comes first.
    let push = "lead_time_s = 120\nair_by_s = 600\nconnection_check_s = 3600\nstate_wait_s = 86400";
    let dir = project(
        &campaign("drill", "police-impersonation", "0 * * * *"),
        Some(&fast_registry(push, "5")),
    );
    let root = dir.path();
    let sim = sim_at(t0()).await;
    let clock = Clock::starting_at(t0());
    let service = Running::start(root, &sim, clock, true, 3600).await;
    let first = t0() + chrono::TimeDelta::minutes(10);
    let pushed = settled_run(root, "drill", first, Duration::from_secs(3600)).await;
    let d = pushed
        .iter()
        .find(|d| d.state == DeliveryState::Delivered)
        .expect("a delivered delivery");
    let profile = EbdProfile::default();
    let client = shengbo::transport::http_client().unwrap();
    let report = played_report(&profile, &d.plan.ebm_id, clock.now(), 9_000, None);
    let (code, desc) = crate::server::socket::post(&client, service.addr, report).await;
    assert_eq!(code, 1, "{desc}");
    let now = ledger(root).delivery(d.id).unwrap().unwrap();
    assert_eq!(now.state, DeliveryState::Played, "{now:?}");
    service.stop().await;
}
