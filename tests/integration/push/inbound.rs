//! `POST /v1/ebd/state` under the service with several platforms, each with its own key: a
//! report is verified with the key of the endpoint whose `ebrid` it names as sender, so one
//! platform cannot sign for another, and a sender that is no keyed endpoint is refused.

use std::time::Duration;

use chrono::{DateTime, Utc};
use shengbo::dispatch::Clock;
use shengbo::ebd::EbdProfile;
use shengbo::ebd::keys::{KeySigner, generate_key_pair};
use shengbo::ledger::{DeliveryState, Ledger};

use super::service::{Running, campaign, played_report, settled_run, sim_at, t0};
use super::{fast_registry, ledger, project};

const XICHANG: &str = "45134010000000314010101";

/// A played report for `ebm`, sent as the platform `src` and signed by `signer`.
fn report(src: &str, signer: &KeySigner, ebm: &str, n: u32, at: DateTime<Utc>) -> Vec<u8> {
    let profile = EbdProfile {
        sender_ebrid: src.to_string(),
        ..EbdProfile::default()
    };
    played_report(&profile, ebm, at, n, Some(signer))
}

/// `registry` with `peer_public_key = key` added to the endpoint `id`.
fn with_peer_key(registry: &str, id: &str, key: &str) -> String {
    let at = registry.find(&format!("id = \"{id}\"")).unwrap();
    let end = at + registry[at..].find("signer = \"none\"\n").unwrap() + 16;
    format!(
        "{}peer_public_key = \"{key}\"\n{}",
        &registry[..end],
        &registry[end..]
    )
}

#[tokio::test(start_paused = true)]
async fn each_platform_s_report_is_verified_with_the_key_of_the_endpoint_it_names() {
    let push = "lead_time_s = 120\nair_by_s = 600\nconnection_check_s = 3600\nstate_wait_s = 86400";
    let registry = fast_registry(push, "5");
    let registry = with_peer_key(&registry, "xichang", "keys/xichang.pub");
    let registry = with_peer_key(&registry, "huili", "keys/huili.pub");
    let dir = project(
        &campaign("drill", "police-impersonation", "0 * * * *"),
        Some(&registry),
    );
    let root = dir.path();
    let profile = EbdProfile::default();
    let mut signers = Vec::new();
    std::fs::create_dir_all(root.join("keys")).unwrap();
    for name in ["xichang", "huili"] {
        let pair = generate_key_pair();
        std::fs::write(root.join(format!("keys/{name}.pub")), &pair.public_pem).unwrap();
        signers.push(KeySigner::from_text(&pair.private_pem, &profile.sm2_dist_id).unwrap());
    }
    let (xichang, huili) = (&signers[0], &signers[1]);
    let huili_ebrid = {
        let text = std::fs::read_to_string(root.join("schedules/endpoints.toml")).unwrap();
        let at = text.find("id = \"huili\"").unwrap();
        let line = text[at..].lines().find(|l| l.starts_with("ebrid")).unwrap();
        line.split('"').nth(1).unwrap().to_string()
    };

    let sim = sim_at(t0()).await;
    let clock = Clock::starting_at(t0());
    // Two endpoints with different peer keys: the service starts and takes reports from both.
    let service = Running::start(root, &sim, clock, true, 3600).await;
    let first = t0() + chrono::TimeDelta::minutes(10);
    let pushed = settled_run(root, "drill", first, Duration::from_secs(3600)).await;
    let mut delivered = pushed
        .iter()
        .filter(|d| d.state == DeliveryState::Delivered);
    let (a, b) = (delivered.next().unwrap(), delivered.next().unwrap());
    let client = shengbo::transport::http_client().unwrap();
    let post = |tar| crate::server::socket::post(&client, service.addr, tar);
    let now = clock.now();

    // Signed by huili's key but naming xichang as sender: refused (4), nothing recorded.
    let (code, desc) = post(report(XICHANG, huili, &a.plan.ebm_id, 1, now)).await;
    assert_eq!(code, 4, "{desc}");
    // A sender that is no endpoint with a key, signed by a key the service knows: refused.
    let (code, desc) = post(report(
        &profile.sender_ebrid,
        xichang,
        &a.plan.ebm_id,
        2,
        now,
    ))
    .await;
    assert_eq!(code, 4, "{desc}");
    assert!(desc.contains(&profile.sender_ebrid), "{desc}");
    assert_eq!(
        ledger(root).delivery(a.id).unwrap().unwrap().state,
        DeliveryState::Delivered
    );

    // Each platform with its own key: both recorded.
    let (code, desc) = post(report(XICHANG, xichang, &a.plan.ebm_id, 3, now)).await;
    assert_eq!(code, 1, "{desc}");
    let (code, desc) = post(report(&huili_ebrid, huili, &b.plan.ebm_id, 4, now)).await;
    assert_eq!(code, 1, "{desc}");
    let l = ledger(root);
    for d in [a, b] {
        assert_eq!(
            l.delivery(d.id).unwrap().unwrap().state,
            DeliveryState::Played
        );
        assert_eq!(l.state_reports(d.id).unwrap().len(), 1);
    }
    service.stop().await;
}
