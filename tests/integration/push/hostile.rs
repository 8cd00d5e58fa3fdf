//! Hostile packages over real HTTP: a bad signature, a tar entry named `../x`, and an entry
//! claiming 1 GB are refused by the simulator, which stays healthy and accepts the next good
//! package.

use chrono::{TimeZone, Utc};
use shengbo::ebd::assemble::{EbmSpec, MediaFile, broadcast_ebm, build_package, envelope};
use shengbo::ebd::keys::{KeySigner, generate_key_pair};
use shengbo::ebd::package::{Limits, read_package};
use shengbo::ebd::*;
use shengbo::sim::{Faults, SimClock, SimConfig, SimKeys, SimState, app};

const DIST_ID: &str = "1234567812345678";

async fn sim_verifying(peer: &KeySigner) -> (String, SimState) {
    let keys = SimKeys {
        signer: None,
        peer_key: Some(peer.verifying_key()),
    };
    let config = SimConfig {
        faults: Faults::default(),
        ..SimConfig::default()
    };
    let state = SimState::new(config, keys, SimClock::system(1.0)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/ebd/513431/ts/exchange.do",
        listener.local_addr().unwrap()
    );
    let router = app(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, state)
}

fn package(signer: &KeySigner, seq: u32) -> BuiltPackage {
    let profile = EbdProfile::default();
    let sender = profile.sender().unwrap();
    let t = Utc.with_ymd_and_hms(2026, 11, 27, 11, 0, 0).unwrap();
    let day = t.date_naive();
    let spec = EbmSpec {
        id: EbmId::new(&sender, day, seq).unwrap(),
        related: None,
        lang: shengbo::lang::Lang::Zh,
        title: "防范电信网络诈骗".into(),
        desc: None,
        area_codes: vec!["513431100000".into()],
        send_time: t,
        start_time: t,
        end_time: t + chrono::TimeDelta::minutes(1),
    };
    let media = vec![MediaFile::new(
        "clip.wav",
        b"RIFF-not-really-audio".to_vec(),
    )];
    let ebm = broadcast_ebm(&profile, &spec, &media).unwrap();
    let id = EbdId::package(&sender, day, seq).unwrap();
    let ebd = envelope(&profile, id, None, None, t, Body::Ebm(ebm)).unwrap();
    build_package(&ebd, &media, &profile, Some(signer as &dyn Signer)).unwrap()
}

/// A tar of one entry with a raw header: any name, any claimed size, `data` as its content.
fn raw_tar(name: &str, claimed: u64, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{claimed:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}

/// POST a tar as the profile says; the HTTP status and the reply's ResultCode, if any.
async fn post(url: &str, name: &str, bytes: Vec<u8>) -> (u16, Option<u8>) {
    shengbo::transport::install_crypto_provider();
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str("application/octet-stream")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let resp = reqwest::Client::new()
        .post(url)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap();
    let code = read_package(&body[..], &Limits::default())
        .ok()
        .and_then(|raw| {
            let ebd = parse_ebd(std::str::from_utf8(&raw.ebdb).ok()?, IdFormat::V2018).ok()?;
            match ebd.body {
                Body::EbdResponse(r) => Some(r.result_code),
                _ => None,
            }
        });
    (status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signature_traversal_and_huge_claims_are_refused_harmlessly() {
    let ours = KeySigner::from_text(&generate_key_pair().private_pem, DIST_ID).unwrap();
    let stranger = KeySigner::from_text(&generate_key_pair().private_pem, DIST_ID).unwrap();
    let (url, sim) = sim_verifying(&ours).await;

    let forged = package(&stranger, 1);
    assert_eq!(
        post(&url, &forged.name, forged.bytes.to_vec()).await,
        (200, Some(4)),
        "signature failed"
    );

    let cwd = std::env::current_dir().unwrap();
    let there = || (cwd.join("../x").exists(), cwd.join("x").exists());
    let before = there();
    let traversal = raw_tar("../x", 5, b"owned");
    let (status, code) = post(&url, "EBDT_x.tar", traversal).await;
    assert!(
        code.is_some_and(|c| c != 1) || status >= 400,
        "`../x` refused: {status} {code:?}"
    );
    assert_eq!(there(), before, "nothing written");

    let huge = raw_tar("EBDR_0001.mp3", 1 << 30, b"tiny");
    let (status, code) = post(&url, "EBDT_y.tar", huge).await;
    assert!(
        code.is_some_and(|c| c != 1) || status >= 400,
        "1 GB claim refused: {status} {code:?}"
    );

    let good = package(&ours, 2);
    assert_eq!(
        post(&url, &good.name, good.bytes.to_vec()).await,
        (200, Some(1)),
        "still healthy"
    );
    let stats = sim.stats();
    assert_eq!(stats.messages, 1, "only the good package was taken");
}
