//! The webhook transport over real loopback HTTP: a receiver that checks the HMAC signature,
//! fails the first request of each key with 503, and accepts the retry — which must carry the
//! same `Idempotency-Key` and the same bytes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use shengbo::ledger::{DeliveryState, Ledger};
use shengbo::transport::webhook::verify;

use super::{drill_campaign, ledger, project, this_minute};
use crate::util;

const SECRET: &str = "test-secret-not-a-real-one";

#[derive(Default)]
struct Seen {
    /// Bodies received per idempotency key, in order.
    bodies: HashMap<String, Vec<Vec<u8>>>,
    bad_signatures: usize,
}

async fn receiver(seen: Arc<Mutex<Seen>>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let seen = Arc::clone(&seen);
            async move {
                let sig = headers
                    .get("x-shengbo-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let mut s = seen.lock().unwrap();
                if !verify(SECRET.as_bytes(), &body, sig) {
                    s.bad_signatures += 1;
                    return StatusCode::UNAUTHORIZED;
                }
                let list = s.bodies.entry(key).or_default();
                list.push(body.to_vec());
                if list.len() == 1 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_playlist_retried_with_the_same_key_and_bytes() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let url = receiver(Arc::clone(&seen)).await;
    let registry = format!(
        "[push]\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2\n\n[[endpoint]]\nid = \"hook\"\nkind = \"webhook\"\n\
         url = \"{url}\"\ncounties = [\"昭觉县\"]\ntimeout_s = 5\nsecret_env = \"SHENGBO_TEST_HOOK_SECRET\"\n"
    );
    let proj = project(&drill_campaign("counties = [\"昭觉县\"]"), Some(&registry));
    let mut cmd = super::run_cmd(proj.path(), "http://unused", this_minute(), &[]);
    cmd.env("SHENGBO_TEST_HOOK_SECRET", SECRET);
    let out = cmd.output().await.unwrap();
    util::assert_exit(&out, 0);
    let s = seen.lock().unwrap();
    assert_eq!(s.bad_signatures, 0);
    assert_eq!(
        s.bodies.len(),
        2,
        "one key per segment: the Yi and the Mandarin airing"
    );
    for (key, bodies) in &s.bodies {
        assert_eq!(bodies.len(), 2, "503 then accepted");
        assert_eq!(bodies[0], bodies[1], "the retry resent the same bytes");
        let json: serde_json::Value = serde_json::from_slice(&bodies[0]).unwrap();
        assert_eq!(json["id"], key.as_str());
        let items = json["items"].as_array().unwrap();
        assert!(!items.is_empty());
        for item in items {
            let sha = item["sha256"].as_str().unwrap();
            assert_eq!(sha.len(), 64);
            // The clip's URL, signed for a gateway: `…/<sha256>.wav?exp=…&sig=…`.
            let (path, query) = item["url"].as_str().unwrap().split_once('?').unwrap();
            assert!(path.ends_with(&format!("{sha}.wav")), "{path}");
            assert!(
                query.starts_with("exp=") && query.contains("&sig="),
                "{query}"
            );
            assert!(
                item["size_bytes"].as_u64().unwrap() > 44,
                "a WAV with samples"
            );
        }
        assert_eq!(
            json["townships"].as_array().unwrap().len(),
            20,
            "昭觉县's townships"
        );
    }
    let ledger = ledger(proj.path());
    let run = ledger
        .runs(
            chrono::DateTime::<chrono::Utc>::MIN_UTC,
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
            None,
        )
        .unwrap()[0]
        .id;
    for d in ledger.deliveries_of_run(run).unwrap() {
        assert_eq!(d.state, DeliveryState::Delivered);
        assert!(s.bodies.contains_key(&d.plan.ebd_id));
    }
}
