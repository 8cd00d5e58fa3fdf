//! On a real loopback socket: reqwest pulls and graceful shutdown, ffmpeg playing a township's
//! M3U8, and platforms POSTing signed `EBMStateResponse` packages into the ledger.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use shengbo::ebd::assemble::{build_package, envelope};
use shengbo::ebd::keys::{KeySigner, generate_key_pair};
use shengbo::ebd::{
    Body, EbdId, EbdProfile, EbmId, EbmStateResponse, InboundConfig, MemorySequence, parse_ebd,
};
use shengbo::lang::Lang;
use shengbo::ledger::{DeliveryState, Ledger, NewDelivery, SqliteLedger};
use shengbo::server::{AppState, EbdInbound, records, serve_http};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Fixture;

/// A server on an ephemeral loopback port; dropping `stop` (or sending) shuts it down.
pub(super) struct Running {
    pub(super) addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub(super) async fn start(state: AppState) -> Running {
    // The listener `serve` binds (its listen queue holds the connections the kernel defers).
    let listener = shengbo::server::bind(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve_http(listener, state, async {
        let _ = stopped.await;
    }));
    // Answering once, so the server has set up its listener (the kernel's deferral of silent
    // connections included) before a test opens any.
    let mut probe = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert_eq!(
        healthz(&mut probe).await,
        "HTTP/1.1 200 OK",
        "the server answers"
    );
    Running { addr, stop, task }
}

/// `GET /healthz` on `stream`, asking the server to close after it; the answer's status line.
pub(super) async fn healthz(stream: &mut tokio::net::TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer.lines().next().unwrap_or_default().to_string()
}

impl Running {
    pub(super) async fn shutdown(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

pub(super) fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

#[tokio::test]
async fn real_socket_serves_revalidates_and_shuts_down_gracefully() {
    let f = Fixture::new();
    let server = start(f.state.clone()).await;
    let url = format!(
        "http://{}/v1/townships/{}/playlist.m3u8?at=2030-01-15T07:00:00Z",
        server.addr, f.township
    );
    let c = client();
    let first = c.get(&url).bearer_auth(&f.station).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let body = first.text().await.unwrap();
    assert!(
        body.contains(&format!("http://{}/v1/audio/", server.addr)),
        "{body}"
    );
    let again = c
        .get(&url)
        .bearer_auth(&f.station)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    server.shutdown().await;
    assert!(
        c.get(&url).send().await.is_err(),
        "the listener is closed after shutdown"
    );
}

#[tokio::test]
async fn ffmpeg_plays_every_item_of_the_m3u8() {
    let f = Fixture::new();
    let server = start(f.state.clone()).await;
    let url = format!(
        "http://{}/v1/townships/{}/playlist.m3u8?at=2030-01-15T07:00:00Z",
        server.addr, f.township
    );
    let out = tokio::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-protocol_whitelist",
            "http,tcp",
        ])
        .args([
            "-headers",
            &format!("Authorization: Bearer {}\r\n", f.station),
        ])
        .args(["-i", &url, "-f", "null", "-"])
        .output()
        .await
        .expect("ffmpeg runs");
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    let metrics = f.state.metrics().render();
    server.shutdown().await;
    assert!(out.status.success(), "{log}");
    // Both items were fetched over HTTP and decoded: 2 × 1.5 s of audio.
    for a in &f.audio[..2] {
        assert!(log.contains(&format!("{}.mp3", a.sha256)), "{log}");
    }
    // ffmpeg asks with `Range: bytes=0-`, answered 206.
    let fetched: u32 = metrics
        .lines()
        .filter(|l| l.starts_with("shengbo_pulls_total{kind=\"audio\",status=\"20"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u32>().unwrap())
        .sum();
    assert_eq!(fetched, 2, "{metrics}");
    let time = log.rsplit("time=").next().unwrap();
    let secs: f64 =
        time[6..11].parse().unwrap_or(0.0) + 60.0 * time[3..5].parse::<f64>().unwrap_or(0.0);
    assert!((secs - 3.0).abs() < 0.3, "decoded {secs} s: {log}");
}

/// A ledger delivery waiting for its play state, and the EBMID platforms report against.
fn delivered(path: &std::path::Path, profile: &EbdProfile) -> (SqliteLedger, EbmId) {
    let l = SqliteLedger::open(path).unwrap();
    let now = Utc::now();
    let sender = profile.sender().unwrap();
    let ebm = EbmId::new(&sender, now.date_naive(), 7).unwrap();
    let (run, _) = l.open_run("winter", now, 1, now).unwrap();
    let new = NewDelivery {
        run,
        endpoint: "zhaojue-platform".into(),
        segment: 0,
        lang: Lang::Ii,
        message: "calls".into(),
        repeat: 0,
        townships: vec!["513431100".into()],
        ebd_id: EbdId::package(&sender, now.date_naive(), 1)
            .unwrap()
            .as_str()
            .into(),
        ebm_id: ebm.as_str().into(),
        related_ebm_id: None,
        window_start: now,
        window_end: now,
        air_by: now + chrono::Duration::hours(1),
        payload_digest: "d".into(),
    };
    let (d, _) = l.record_delivery(&new, now).unwrap();
    l.transition(d.id, DeliveryState::Delivered, None, now)
        .unwrap();
    (l, ebm)
}

fn state_package(profile: &EbdProfile, signer: &KeySigner, ebm: &EbmId, n: u32) -> Vec<u8> {
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 4, 0, 0).unwrap();
    let sender = profile.sender().unwrap();
    let id = EbdId::package(&sender, now.date_naive(), n).unwrap();
    let body = Body::EbmStateResponse(EbmStateResponse {
        rpt_time: now,
        ebm_id: ebm.clone(),
        brd_state_code: 3,
        brd_state_desc: Some("播发成功".into()),
        coverage: None,
        res_brd_info: Vec::new(),
    });
    let ebd = envelope(profile, id, None, None, now, body).unwrap();
    build_package(&ebd, &[], profile, Some(signer))
        .unwrap()
        .bytes
        .to_vec()
}

pub(crate) async fn post(c: &reqwest::Client, addr: SocketAddr, tar: Vec<u8>) -> (u8, String) {
    let part = reqwest::multipart::Part::bytes(tar)
        .file_name("EBDT_x.tar")
        .mime_str("application/octet-stream")
        .unwrap();
    let resp = c
        .post(format!("http://{addr}/v1/ebd/state"))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap();
    let raw = shengbo::ebd::package::read_package(&bytes[..], &Default::default()).unwrap();
    let ebd = parse_ebd(std::str::from_utf8(&raw.ebdb).unwrap(), Default::default()).unwrap();
    let Body::EbdResponse(r) = ebd.body else {
        panic!("not a response: {ebd:?}")
    };
    (r.result_code, r.result_desc)
}

#[tokio::test]
async fn signed_state_reports_move_deliveries_and_forged_ones_are_refused() {
    let mut f = Fixture::new();
    let profile = EbdProfile::default();
    let keys = generate_key_pair();
    let signer = KeySigner::from_text(&keys.private_pem, &profile.sm2_dist_id).unwrap();
    let path = f.root().join(".shengbo/ledger.sqlite");
    let (ledger, ebm) = delivered(&path, &profile);
    let inbound = EbdInbound {
        config: InboundConfig {
            peer_key: Some(signer.verifying_key()),
            ..InboundConfig::default()
        },
        profile: profile.clone(),
        signer: None,
        seq: Arc::new(MemorySequence::default()),
    };
    f.state = f
        .state
        .clone()
        .with_records(records::open(&path).unwrap())
        .with_ebd_inbound(inbound);
    let server = start(f.state.clone()).await;
    let c = client();

    let other = generate_key_pair();
    let forger = KeySigner::from_text(&other.private_pem, &profile.sm2_dist_id).unwrap();
    let (code, desc) = post(&c, server.addr, state_package(&profile, &forger, &ebm, 1)).await;
    assert_eq!(code, 4, "{desc}");
    let d = &ledger.deliveries_due(Utc::now()).unwrap();
    assert!(d.is_empty(), "the delivery is not pending");

    let (code, desc) = post(&c, server.addr, state_package(&profile, &signer, &ebm, 2)).await;
    assert_eq!(code, 1, "{desc}");
    server.shutdown().await;
    let run = ledger
        .runs(
            Utc::now() - chrono::Duration::days(1),
            Utc::now() + chrono::Duration::days(1),
            None,
        )
        .unwrap();
    let deliveries = ledger.deliveries_of_run(run[0].id).unwrap();
    assert_eq!(deliveries[0].state, DeliveryState::Played);
    assert_eq!(ledger.state_reports(deliveries[0].id).unwrap().len(), 1);
}

#[tokio::test]
async fn a_read_only_mirror_takes_no_state_reports() {
    let f = Fixture::new();
    let server = start(f.state.clone()).await;
    let part = reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("EBDT_x.tar");
    let resp = client()
        .post(format!("http://{}/v1/ebd/state", server.addr))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    server.shutdown().await;
}

#[test]
fn serve_no_schedule_runs_alone_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let mut child = crate::util::shengbo()
        .args(["serve", "--no-schedule", "--listen", "127.0.0.1:0"])
        .args(["--base-url", "https://sb.example.cn"])
        .args(["--max-connections", "64", "--max-active", "32"])
        .args(["--first-byte-timeout-s", "30", "--header-timeout-s", "5"])
        .env("SHENGBO_ROOT", root)
        .env("SHENGBO_DATA_DIR", dir.path())
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("listening on ").map(str::to_string))
        .expect("the server says where it listens");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (health, coverage) = rt.block_on(async {
        let c = client();
        let h = c
            .get(format!("{addr}/healthz"))
            .send()
            .await
            .unwrap()
            .status();
        let cov = c
            .get(format!("{addr}/v1/coverage"))
            .send()
            .await
            .unwrap()
            .status();
        (h, cov)
    });
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(health, 200);
    assert_eq!(
        coverage, 401,
        "coverage needs a token even without a ledger"
    );
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");
    assert!(
        !dir.path().join("ledger.sqlite").exists(),
        "a mirror creates no ledger"
    );
}

#[test]
fn sigterm_as_soon_as_serve_says_where_it_listens_is_a_graceful_stop() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = crate::util::shengbo()
        .args(["serve", "--no-schedule", "--listen", "127.0.0.1:0"])
        .env("SHENGBO_ROOT", env!("CARGO_MANIFEST_DIR"))
        .env("SHENGBO_DATA_DIR", dir.path())
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    assert!(
        lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.starts_with("listening on ")),
        "the server says where it listens"
    );
    // At once: the handlers must already be installed, or the default action kills it.
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");
}
