//! Integration tests: `shengbo sim` as a real process — key generation, then packages POSTed to
//! it over loopback, one signed with the trusted key and one with a stranger's.

use shengbo::ebd::assemble::{broadcast_ebm, build_package, envelope};
use shengbo::ebd::keys::{KeySigner, generate_key_pair, load_verifying_key};
use shengbo::ebd::*;

use super::packages::media;
use super::sim::result_code;
use super::{sample_profile, sample_spec, t};

const DIST_ID: &str = "1234567812345678";

#[tokio::test]
async fn the_sim_command_generates_keys_and_serves_on_loopback() {
    use std::io::BufRead;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let out = crate::util::run_in(dir.path(), &["sim", "--gen-keys", keys.to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::util::stderr(&out));
    let private = keys.join("sm2-private.pem");
    let public = keys.join("sm2-public.pem");
    assert!(
        std::fs::read_to_string(&private)
            .unwrap()
            .contains("BEGIN PRIVATE KEY")
    );

    let mut child = KillOnDrop(
        crate::util::shengbo()
            .args(["sim", "--listen", "127.0.0.1:0", "--key"])
            .arg(&private)
            .arg("--peer-key")
            .arg(&public)
            .env("SHENGBO_ROOT", dir.path())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = std::io::BufReader::new(child.0.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in `{line}`"))
        .to_owned();

    // a package signed with the key the simulator trusts, and one signed with another key
    let ours = KeySigner::load(&private, DIST_ID).unwrap();
    let stranger = KeySigner::from_text(&generate_key_pair().private_pem, DIST_ID).unwrap();
    let profile = sample_profile();
    let ebm = broadcast_ebm(&profile, &sample_spec(), &media()).unwrap();
    let id = EbdId::parse("10451343100000001020101012025112700000009", IdFormat::V2018).unwrap();
    let ebd = envelope(
        &profile,
        id,
        None,
        None,
        t("2025-11-27 09:00:00"),
        Body::Ebm(ebm),
    )
    .unwrap();
    let sim_key = load_verifying_key(&public, DIST_ID).unwrap();
    for (signer, code) in [(&ours, 1), (&stranger, 4)] {
        let pkg = build_package(&ebd, &media(), &profile, Some(signer)).unwrap();
        let part = reqwest::multipart::Part::bytes(pkg.bytes.to_vec())
            .file_name(pkg.name)
            .mime_str("application/octet-stream")
            .unwrap();
        let resp = reqwest::Client::new()
            .post(format!("{url}/ts/exchange.do"))
            .timeout(std::time::Duration::from_secs(10))
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let bytes = resp.bytes().await.unwrap();
        let cfg = InboundConfig {
            peer_key: Some(sim_key.clone()),
            ..InboundConfig::default()
        };
        let v = validate_package(&bytes[..], &cfg);
        assert!(v.is_ok(), "{}", v.desc);
        assert_eq!(result_code(&v.package.unwrap().ebd), code);
    }
    child.0.kill().unwrap();
    child.0.wait().unwrap();
}

/// Ends the spawned simulator (by its own handle) even when an assertion fails.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
