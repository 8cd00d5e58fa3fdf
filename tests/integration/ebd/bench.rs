//! Benchmarks (ignored by default; they print, never assert on time): package build+sign,
//! validate+verify, and simulator round trips over a loopback socket.
//! Run: `cargo test --release --test integration ebd::bench -- --ignored --nocapture`.

use std::sync::Arc;
use std::time::Instant;

use shengbo::ebd::assemble::{MediaFile, broadcast_ebm, build_package, envelope};
use shengbo::ebd::keys::{KeySigner, generate_key_pair};
use shengbo::ebd::*;
use shengbo::sim::{SimClock, SimConfig, SimKeys, SimState, app};

use super::{sample_profile, sample_spec, t};

const DIST_ID: &str = "1234567812345678";

/// A 480 kB clip, the size of the sample's Yi message.
fn clip() -> Vec<MediaFile> {
    let data: Vec<u8> = (0..482_113u32).map(|i| (i * 31 % 251) as u8).collect();
    vec![MediaFile::new("fraud_tel_iii_001.mp3", data)]
}

fn packages(n: u32, signer: &KeySigner) -> (Vec<BuiltPackage>, f64) {
    let profile = sample_profile();
    let media = clip();
    let sender = profile.sender().unwrap();
    let day = t("2025-11-27 09:00:00").date_naive();
    let started = Instant::now();
    let mut out = Vec::new();
    for i in 1..=n {
        let mut spec = sample_spec();
        spec.id = EbmId::new(&sender, day, i).unwrap();
        let ebm = broadcast_ebm(&profile, &spec, &media).unwrap();
        let id = EbdId::package(&sender, day, i).unwrap();
        let ebd = envelope(&profile, id, None, None, spec.send_time, Body::Ebm(ebm)).unwrap();
        out.push(build_package(&ebd, &media, &profile, Some(signer)).unwrap());
    }
    (out, started.elapsed().as_secs_f64())
}

#[test]
#[ignore = "benchmark"]
fn bench_build_and_validate() {
    let signer = KeySigner::from_text(&generate_key_pair().private_pem, DIST_ID).unwrap();
    let n = 200;
    let (pkgs, build_s) = packages(n, &signer);
    let cfg = InboundConfig {
        peer_key: Some(signer.verifying_key()),
        ..InboundConfig::default()
    };
    let started = Instant::now();
    let ok = pkgs
        .iter()
        .filter(|p| validate_package(p.bytes.reader(), &cfg).is_ok())
        .count();
    let check_s = started.elapsed().as_secs_f64();
    println!(
        "ebd bench: {n} packages of {} bytes: build+sign {:.0}/s, validate+verify {:.0}/s ({ok} ok)",
        pkgs[0].bytes.len(),
        f64::from(n) / build_s,
        f64::from(n) / check_s
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn bench_sim_loopback() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ours = KeySigner::from_text(&generate_key_pair().private_pem, DIST_ID).unwrap();
    let theirs = KeySigner::from_text(&generate_key_pair().private_pem, DIST_ID).unwrap();
    let keys = SimKeys {
        signer: Some(Arc::new(theirs)),
        peer_key: Some(ours.verifying_key()),
    };
    let sim = SimState::new(SimConfig::default(), keys, SimClock::system(1.0)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ts/exchange.do", listener.local_addr().unwrap());
    let server = tokio::spawn(axum::serve(listener, app(sim.clone())).into_future());
    let n = 200u32;
    let (pkgs, _) = packages(n, &ours);
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let pkgs = Arc::new(pkgs);
    for worker in 0..8usize {
        let (client, url, pkgs) = (client.clone(), url.clone(), pkgs.clone());
        tasks.spawn(async move {
            for p in pkgs.iter().skip(worker).step_by(8) {
                let part = reqwest::multipart::Part::bytes(p.bytes.to_vec())
                    .file_name(p.name.clone())
                    .mime_str("application/octet-stream")
                    .unwrap();
                let form = reqwest::multipart::Form::new().part("file", part);
                let resp = client.post(&url).multipart(form).send().await.unwrap();
                assert_eq!(resp.status(), 200);
                resp.bytes().await.unwrap();
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let stats = sim.stats();
    println!(
        "sim bench: {n} packages over loopback, 8 clients: {:.0} req/s, by code {:?}",
        f64::from(n) / secs,
        stats.by_code
    );
    assert_eq!(stats.by_code[1], u64::from(n));
    server.abort();
}
