//! Integration tests: the platform simulator over HTTP — `oneshot` requests through the axum app
//! and one real loopback socket with reqwest.

use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use shengbo::ebd::assemble::{broadcast_ebm, build_package, cancel_ebm, envelope};
use shengbo::ebd::keys::{KeySigner, generate_key_pair};
use shengbo::ebd::package::read_package;
use shengbo::ebd::*;
use shengbo::sim::{Faults, SimClock, SimConfig, SimKeys, SimState, app};
use tower::ServiceExt;

use super::packages::media;
use super::{sample_profile, sample_spec, t};

const DIST_ID: &str = "1234567812345678";

struct Rig {
    sim: SimState,
    ours: KeySigner,
    /// The simulator's public key, to verify its replies.
    sim_key: sm2::dsa::VerifyingKey,
    profile: EbdProfile,
    seq: MemorySequence,
}

fn rig(faults: Faults) -> Rig {
    let ours = KeySigner::from_text(&generate_key_pair().private_pem, DIST_ID).unwrap();
    let sim_signer = KeySigner::from_text(&generate_key_pair().private_pem, DIST_ID).unwrap();
    let sim_key = sim_signer.verifying_key();
    let mut config = SimConfig {
        faults,
        ..SimConfig::default()
    };
    config.terminals.insert("513431100000".into(), 30);
    config.terminals.insert("513431101000".into(), 10);
    let keys = SimKeys {
        signer: Some(Arc::new(sim_signer)),
        peer_key: Some(ours.verifying_key()),
    };
    let sim = SimState::new(config, keys, SimClock::manual(t("2025-11-27 09:00:00"))).unwrap();
    Rig {
        sim,
        ours,
        sim_key,
        profile: sample_profile(),
        seq: MemorySequence::default(),
    }
}

impl Rig {
    fn package(&self, body: Body, with_media: bool) -> BuiltPackage {
        let now = t("2025-11-27 09:00:00");
        let id = next_ebdid(&self.seq, &self.profile.sender().unwrap(), now).unwrap();
        let dest = self.sim.config().profile.sender().ok();
        let ebd = envelope(&self.profile, id, dest, None, now, body).unwrap();
        let m = if with_media { media() } else { vec![] };
        build_package(&ebd, &m, &self.profile, Some(&self.ours)).unwrap()
    }

    fn ebm_package(&self) -> (Ebm, BuiltPackage) {
        let ebm = broadcast_ebm(&self.profile, &sample_spec(), &media()).unwrap();
        (ebm.clone(), self.package(Body::Ebm(ebm), true))
    }

    /// POST through the app without a socket; the reply's EBD, checked against the sim's key.
    async fn post(&self, pkg: &BuiltPackage) -> (StatusCode, Option<Ebd>) {
        let (status, bytes) = self.post_raw(pkg).await;
        (
            status,
            (status == StatusCode::OK).then(|| self.reply(&bytes)),
        )
    }

    /// POST through the app; the reply's status and bytes, unread.
    async fn post_raw(&self, pkg: &BuiltPackage) -> (StatusCode, Vec<u8>) {
        let boundary = "shengbo-test-boundary";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                pkg.name
            )
            .as_bytes(),
        );
        body.extend_from_slice(&pkg.bytes.to_vec());
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post("/ts/exchange.do")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(HttpBody::from(body))
            .unwrap();
        let resp = app(self.sim.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, bytes.to_vec())
    }

    fn reply(&self, bytes: &[u8]) -> Ebd {
        let cfg = InboundConfig {
            peer_key: Some(self.sim_key.clone()),
            ..InboundConfig::default()
        };
        let v = validate_package(bytes, &cfg);
        assert!(v.is_ok(), "simulator reply: {}", v.desc);
        v.package.unwrap().ebd
    }

    async fn state_of(&self, ebm: &Ebm) -> EbmStateResponse {
        let req = Body::EbmStateRequest(EbmStateRequest {
            ebm_id: ebm.id.clone(),
        });
        let (status, reply) = self.post(&self.package(req, false)).await;
        assert_eq!(status, StatusCode::OK);
        match reply.unwrap().body {
            Body::EbmStateResponse(s) => s,
            other => panic!("expected a state response, got {}", other.kind()),
        }
    }
}

pub(super) fn result_code(ebd: &Ebd) -> u8 {
    match &ebd.body {
        Body::EbdResponse(r) => r.result_code,
        other => panic!("expected EBDResponse, got {}", other.kind()),
    }
}

#[tokio::test]
async fn ebm_is_accepted_and_plays_in_its_window() {
    let rig = rig(Faults::default());
    let (ebm, pkg) = rig.ebm_package();
    let (status, reply) = rig.post(&pkg).await;
    assert_eq!(status, StatusCode::OK);
    let reply = reply.unwrap();
    assert_eq!(result_code(&reply), 1);
    assert_eq!(reply.related.as_ref(), Some(&pkg.ebdid));
    assert_eq!(
        reply.dest.as_ref().map(Ebrid::as_str),
        Some("45134310000000102010101")
    );

    assert_eq!(rig.state_of(&ebm).await.brd_state_code, 1);
    rig.sim.clock().set(t("2025-11-27 19:31:00"));
    assert_eq!(rig.state_of(&ebm).await.brd_state_code, 2);
    rig.sim.clock().set(t("2025-11-27 19:46:00"));
    let done = rig.state_of(&ebm).await;
    assert_eq!(done.brd_state_code, 3);
    let cov = done.coverage.unwrap();
    assert_eq!(cov.res_brd_stat.unwrap().terminals, 40);
    assert_eq!(cov.figure, Some(CoverageFigure::Rate(1.0)));
    assert_eq!(rig.sim.stats().messages, 1);

    // a retry of the same package is answered 1 and is not a second message
    assert_eq!(result_code(&rig.post(&pkg).await.1.unwrap()), 1);
    assert_eq!(rig.sim.stats().messages, 1);
}

#[tokio::test]
async fn cancel_log_and_heartbeat() {
    let rig = rig(Faults::default());
    let (ebm, pkg) = rig.ebm_package();
    rig.post(&pkg).await;
    let cancel = cancel_ebm(&rig.profile, &ebm, t("2025-11-27 09:05:00"));
    let (_, reply) = rig.post(&rig.package(Body::Ebm(cancel), false)).await;
    assert_eq!(result_code(&reply.unwrap()), 1);
    rig.sim.clock().set(t("2025-11-27 20:00:00"));
    assert_eq!(rig.state_of(&ebm).await.brd_state_code, 5);

    let params = LogParams {
        start: t("2025-11-27 00:00:00"),
        end: t("2025-11-27 23:59:59"),
        rpt_type: Some(RptType::Full),
    };
    let omd = Body::OmdRequest(OmdRequest {
        omd_type: "EBMBrdLog".into(),
        params,
    });
    let (_, reply) = rig.post(&rig.package(omd, false)).await;
    let Body::EbmBrdLog(log) = reply.unwrap().body else {
        panic!("expected a log")
    };
    assert_eq!(log.items.len(), 1);
    assert_eq!(log.items[0].ebm.id, ebm.id);
    assert_eq!(log.items[0].brd_state_code, 5);

    let hb = Body::ConnectionCheck(ConnectionCheck {
        rpt_time: t("2025-11-27 20:00:00"),
    });
    assert_eq!(
        result_code(&rig.post(&rig.package(hb, false)).await.1.unwrap()),
        1
    );
}

#[tokio::test]
async fn wrong_signer_and_missing_tar_part_are_refused() {
    let rig = rig(Faults::default());
    let stranger = KeySigner::from_text(&generate_key_pair().private_pem, DIST_ID).unwrap();
    let ebm = broadcast_ebm(&rig.profile, &sample_spec(), &media()).unwrap();
    let ebd = envelope(
        &rig.profile,
        next_ebdid(
            &rig.seq,
            &rig.profile.sender().unwrap(),
            t("2025-11-27 09:00:00"),
        )
        .unwrap(),
        None,
        None,
        t("2025-11-27 09:00:00"),
        Body::Ebm(ebm),
    )
    .unwrap();
    let pkg = build_package(&ebd, &media(), &rig.profile, Some(&stranger)).unwrap();
    assert_eq!(result_code(&rig.post(&pkg).await.1.unwrap()), 4);
    assert_eq!(rig.sim.stats().messages, 0);

    let mut not_tar = pkg.clone();
    not_tar.name = "EBDT_x.zip".into();
    let (status, _) = rig.post(&not_tar).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(rig.sim.stats().bad_requests, 1);
    assert_eq!(rig.sim.stats().by_code[4], 1);
}

#[tokio::test]
async fn injected_faults() {
    let down = rig(Faults {
        http_5xx_rate: 1.0,
        ..Faults::default()
    });
    let (_, pkg) = down.ebm_package();
    assert_eq!(down.post(&pkg).await.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.sim.stats().http_5xx, 1);

    let forced = rig(Faults {
        force_result_code: Some(3),
        ..Faults::default()
    });
    let (_, pkg) = forced.ebm_package();
    let reply = forced.post(&pkg).await.1.unwrap();
    assert_eq!(result_code(&reply), 3);
    assert_eq!(reply.related.as_ref(), Some(&pkg.ebdid));

    let failing = rig(Faults {
        brd_fail_rate: 1.0,
        coverage_ratio: 0.5,
        ..Faults::default()
    });
    let (ebm, pkg) = failing.ebm_package();
    failing.post(&pkg).await;
    failing.sim.clock().set(t("2025-11-27 19:50:00"));
    assert_eq!(failing.state_of(&ebm).await.brd_state_code, 4);

    let partial = rig(Faults {
        coverage_ratio: 0.5,
        ..Faults::default()
    });
    let (ebm, pkg) = partial.ebm_package();
    partial.post(&pkg).await;
    partial.sim.clock().set(t("2025-11-27 19:50:00"));
    let st = partial.state_of(&ebm).await;
    assert_eq!(st.brd_state_code, 3);
    assert_eq!(st.coverage.unwrap().res_brd_stat.unwrap().terminals, 20);
}

#[tokio::test]
async fn real_loopback_socket_with_reqwest() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rig = rig(Faults::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, app(rig.sim.clone())).into_future());
    let (_, pkg) = rig.ebm_package();
    let part = reqwest::multipart::Part::bytes(pkg.bytes.to_vec())
        .file_name(pkg.name.clone())
        .mime_str("application/octet-stream")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/Emergency/receive/ebd.htm"))
        .timeout(std::time::Duration::from_secs(10))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let name = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = resp.bytes().await.unwrap();
    let raw = read_package(bytes.as_ref(), &Limits::default()).unwrap();
    assert!(name.contains(&format!("EBDT_{}.tar", raw.ebdid)), "{name}");
    assert_eq!(result_code(&rig.reply(&bytes)), 1);
    server.abort();
}

#[tokio::test]
async fn slow_fault_holds_the_answer_back() {
    // a one-minute delay cannot fit in a 300 ms client timeout
    let slow = rig(Faults {
        slow_rate: 1.0,
        slow_ms: 60_000,
        ..Faults::default()
    });
    let (_, pkg) = slow.ebm_package();
    let waited = tokio::time::timeout(std::time::Duration::from_millis(300), slow.post(&pkg)).await;
    assert!(waited.is_err(), "the answer came before the injected delay");
    assert_eq!(slow.sim.stats().requests, 1);
    assert_eq!(slow.sim.stats().messages, 0);
}

/// GD/J 2017 layout, profile "Identifiers": deployed 2017 resource codes begin with 0 (no level
/// digit), so a heartbeat from `010333112400000001` is taken; the reply names it in `RelatedEBD`.
#[tokio::test]
async fn a_deployed_2017_heartbeat_is_taken_and_its_reply_names_it() {
    let p2017 = |code: &str| EbdProfile {
        id_format: IdFormat::V2017,
        sender_ebrid: code.into(),
        ..EbdProfile::default()
    };
    let config = SimConfig {
        profile: p2017("010333112400000002"),
        ..SimConfig::default()
    };
    let now = t("2025-11-27 09:00:00");
    let sim = SimState::new(config, SimKeys::default(), SimClock::manual(now)).unwrap();
    let rig = Rig {
        sim,
        ..rig(Faults::default())
    };
    let ours = p2017("010333112400000001");
    let id = EbdId::heartbeat(&ours.sender().unwrap());
    let hb = Body::ConnectionCheck(ConnectionCheck { rpt_time: now });
    let ebd = envelope(&ours, id.clone(), None, None, now, hb).unwrap();
    let pkg = build_package(&ebd, &[], &ours, None).unwrap();
    let (status, bytes) = rig.post_raw(&pkg).await;
    assert_eq!(status, StatusCode::OK);
    let cfg = InboundConfig {
        id_format: IdFormat::V2017,
        ..InboundConfig::default()
    };
    let v = validate_package(bytes.as_slice(), &cfg);
    assert!(v.is_ok(), "{}", v.desc);
    let reply = v.package.unwrap().ebd;
    assert_eq!(reply.related.as_ref(), Some(&id));
    match reply.body {
        Body::EbdResponse(r) => assert_eq!(r.result_code, 1, "{}", r.result_desc),
        other => panic!("expected EBDResponse, got {}", other.kind()),
    }
}
