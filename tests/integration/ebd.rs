//! Integration tests: ebd — golden samples parsed into typed values, built messages compared
//! with them element by element, build/parse round trips of every body type.

use std::path::PathBuf;

use shengbo::ebd::assemble::{EbmSpec, broadcast_ebm, cancel_ebm, envelope};
use shengbo::ebd::package::{ebdb_name, ebds_name};
use shengbo::ebd::*;

mod bench;
mod cli;
mod packages;
mod sim;

use packages::media;

fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ebd")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn t(s: &str) -> chrono::DateTime<chrono::Utc> {
    parse_time(s).unwrap()
}

fn parse(name: &str) -> Ebd {
    parse_ebd(&data(name), IdFormat::V2018).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every element as (path, trimmed text), in document order.
fn flatten(xml: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let mut out = Vec::new();
    for n in doc.descendants().filter(|n| n.is_element()) {
        let path: Vec<&str> = n
            .ancestors()
            .filter(|a| a.is_element())
            .map(|a| a.tag_name().name())
            .collect();
        let path = path.into_iter().rev().collect::<Vec<_>>().join("/");
        let text = if n.children().any(|c| c.is_element()) {
            String::new()
        } else {
            n.text().unwrap_or("").trim().to_owned()
        };
        out.push((path, text));
    }
    out
}

const SAMPLES: [&str; 6] = [
    "EBDB_10451343100000001020101012025112700000001.xml",
    "EBDB_10451343100000001030101012025112700000042_EBDResponse.xml",
    "EBDB_ConnectionCheck.xml",
    "EBDB_EBMBrdLog.xml",
    "EBDB_EBMStateResponse.xml",
    "EBDB_OMDRequest_EBMBrdLog.xml",
];

#[test]
fn sample_ebm_parses_into_typed_fields() {
    let ebd = parse(SAMPLES[0]);
    assert_eq!(ebd.kind(), "EBM");
    assert_eq!(ebd.src.ebrid.as_str(), "45134310000000102010101");
    assert_eq!(
        ebd.src.url.as_deref(),
        Some("http://10.0.0.5:8080/eb/receive")
    );
    assert_eq!(ebd.dest.as_ref().unwrap().resource_type(), Some("0103"));
    assert_eq!(ebd.time.to_rfc3339(), "2025-11-27T01:00:00+00:00");
    assert!(ebd.related.is_none());
    let Body::Ebm(ebm) = &ebd.body else {
        panic!("not an EBM")
    };
    assert_eq!(ebm.id.seq(), 1);
    assert_eq!(ebm.basic.msg_type, MsgType::Broadcast);
    assert_eq!(ebm.basic.sender_name, "昭觉县公安局");
    assert_eq!(ebm.basic.event_type, "14B20");
    assert_eq!(ebm.basic.severity, 10);
    assert_eq!(ebm.basic.start_time, t("2025-11-27 19:30:00"));
    let c = ebm.content.as_ref().unwrap();
    assert_eq!(c.language_code, "iii");
    assert_eq!(c.area_codes, ["513431100000", "513431101000"]);
    assert_eq!(c.auxiliary[0].kind, 2);
    assert_eq!(c.auxiliary[0].desc, "fraud_tel_iii_001.mp3");
    assert_eq!(c.auxiliary[0].size, Some(482_113));
}

#[test]
fn sample_replies_parse_into_typed_fields() {
    let r = parse(SAMPLES[1]);
    assert_eq!(r.related.as_ref().unwrap().sequence().unwrap().1, 1);
    let Body::EbdResponse(resp) = &r.body else {
        panic!()
    };
    assert_eq!(resp.result_code, 1);
    assert_eq!(resp.result_desc, "接收解析及数据校验成功");

    let hb = parse(SAMPLES[2]);
    assert!(hb.id.is_heartbeat());
    assert!(matches!(&hb.body, Body::ConnectionCheck(c) if c.rpt_time == t("2025-11-27 09:02:00")));

    let log = parse(SAMPLES[3]);
    let Body::EbmBrdLog(log) = &log.body else {
        panic!()
    };
    assert_eq!(log.items.len(), 1);
    let item = &log.items[0];
    assert_eq!(item.brd_state_code, 3);
    assert_eq!(
        item.units[0].unit_name.as_deref(),
        Some("昭觉县应急广播中心")
    );
    let cov = item.coverage.as_ref().unwrap();
    assert_eq!(cov.figure, Some(CoverageFigure::Rate(0.95)));
    assert_eq!(cov.res_brd_stat.unwrap().terminals, 38);
    assert!(item.ebm.content.as_ref().unwrap().auxiliary.is_empty());

    let st = parse(SAMPLES[4]);
    let Body::EbmStateResponse(st) = &st.body else {
        panic!()
    };
    assert_eq!(st.ebm_id.as_str(), "45134310000000102010101202511270001");
    assert_eq!(
        BrdState::from_code(st.brd_state_code),
        Some(BrdState::Played)
    );
    let bs = &st.res_brd_info[0].ebrbs[0];
    assert_eq!(bs.start_time, Some(t("2025-11-27 19:30:02")));
    assert!(bs.file_url.as_deref().unwrap().ends_with(".mp3"));

    let omd = parse(SAMPLES[5]);
    let Body::OmdRequest(omd) = &omd.body else {
        panic!()
    };
    assert_eq!(omd.omd_type, "EBMBrdLog");
    assert_eq!(omd.params.rpt_type, Some(RptType::Incremental));
    assert_eq!(omd.params.end, t("2025-11-27 23:59:59"));

    let ebds = data("EBDS_EBDB_10451343100000001020101012025112700000001.xml");
    // the sample's SignatureValue is a placeholder, not base64
    let err = sign::parse_signature(&ebds).unwrap_err();
    assert!(err.to_string().contains("SignatureValue"), "{err}");
    let real = ebds.replace("BASE64_OF_SIGNATURE_BYTES", "AAECAw==");
    let sig = sign::parse_signature(&real).unwrap();
    assert_eq!(sig.shape, SignatureShape::B);
    assert_eq!(sig.cert_sn, "000000000001");
    assert_eq!(sig.ebdid, "10451343100000001020101012025112700000001");
    assert_eq!(sig.value, [0, 1, 2, 3]);
}

#[test]
fn every_sample_writes_back_to_the_same_elements() {
    for name in SAMPLES {
        let ebd = parse(name);
        let written = write_ebd(&ebd);
        assert_eq!(flatten(&written), flatten(&data(name)), "{name}");
        let again = parse_ebd(&written, IdFormat::V2018).unwrap();
        assert_eq!(again, ebd, "{name}");
    }
}

fn sample_profile() -> EbdProfile {
    EbdProfile {
        sender_url: "http://10.0.0.5:8080/eb/receive".into(),
        ..EbdProfile::default()
    }
}

fn sample_spec() -> EbmSpec {
    EbmSpec {
        id: EbmId::parse("45134310000000102010101202511270001", IdFormat::V2018).unwrap(),
        related: None,
        lang: shengbo::lang::Lang::Ii,
        title: "防范电信网络诈骗提示".into(),
        desc: Some("（彝语音频）接到自称公检法、客服的电话要求转账，一律是诈骗。".into()),
        area_codes: vec!["513431100000".into(), "513431101000".into()],
        send_time: t("2025-11-27 09:00:00"),
        start_time: t("2025-11-27 19:30:00"),
        end_time: t("2025-11-27 19:45:00"),
    }
}

fn sample_envelope(profile: &EbdProfile, body: Body) -> Ebd {
    let id = EbdId::parse("10451343100000001020101012025112700000001", IdFormat::V2018).unwrap();
    let dest = Ebrid::parse("45134310000000103010101", IdFormat::V2018).unwrap();
    envelope(
        profile,
        id,
        Some(dest),
        None,
        t("2025-11-27 09:00:00"),
        body,
    )
    .unwrap()
}

#[test]
fn built_ebm_matches_the_sample() {
    let profile = sample_profile();
    let mut ebm = broadcast_ebm(&profile, &sample_spec(), &[]).unwrap();
    ebm.content.as_mut().unwrap().auxiliary.push(Auxiliary {
        kind: 2,
        desc: "fraud_tel_iii_001.mp3".into(),
        size: Some(482_113),
        digest: Some("2fd4e1c67a2d28fced849ee1bb76e7391b93eb12".into()),
    });
    let built = write_ebd(&sample_envelope(&profile, Body::Ebm(ebm)));
    assert_eq!(flatten(&built), flatten(&data(SAMPLES[0])));
}

#[test]
fn every_body_type_round_trips() {
    let profile = sample_profile();
    let id = EbmId::parse("45134310000000102010101202511270001", IdFormat::V2018).unwrap();
    let ebm = broadcast_ebm(&profile, &sample_spec(), &media()).unwrap();
    let cancel = cancel_ebm(&profile, &ebm, t("2025-11-27 10:00:00"));
    let stat = ResBrdStat {
        platforms: 1,
        adapters: 0,
        transmitters: 2,
        terminals: 7,
    };
    let bodies = vec![
        Body::Ebm(ebm),
        Body::Ebm(cancel),
        Body::EbdResponse(EbdResponse {
            result_code: 3,
            result_desc: "内容缺失 <AreaCode> & ꆈꌠ".into(),
        }),
        Body::EbmStateRequest(EbmStateRequest { ebm_id: id.clone() }),
        Body::EbmStateResponse(EbmStateResponse {
            rpt_time: t("2025-11-27 19:46:00"),
            ebm_id: id,
            brd_state_code: 4,
            brd_state_desc: None,
            coverage: Some(Coverage {
                figure: Some(CoverageFigure::Percent(50.5)),
                area_codes: vec!["513431100000".into()],
                res_brd_stat: Some(stat),
            }),
            res_brd_info: vec![],
        }),
        Body::ConnectionCheck(ConnectionCheck {
            rpt_time: t("2025-11-27 09:02:00"),
        }),
    ];
    for body in bodies {
        let ebd = sample_envelope(&profile, body);
        let back = parse_ebd(&write_ebd(&ebd), IdFormat::V2018).unwrap();
        assert_eq!(back, ebd);
    }
}

#[test]
fn tolerant_where_deployments_differ_and_strict_elsewhere() {
    let sample = data(SAMPLES[1]);
    let v10 = sample.replace("<EBDVersion>1</EBDVersion>", "<EBDVersion>1.0</EBDVersion>");
    assert_eq!(parse_ebd(&v10, IdFormat::V2018).unwrap().version, "1.0");
    let start = sample.find("<RelatedEBD>").unwrap();
    let end = sample.find("</RelatedEBD>").unwrap() + "</RelatedEBD>".len();
    let no_rel = format!("{}{}", &sample[..start], &sample[end..]);
    assert!(
        parse_ebd(&no_rel, IdFormat::V2018)
            .unwrap()
            .related
            .is_none()
    );
    let v2 = sample.replace("<EBDVersion>1</EBDVersion>", "<EBDVersion>2</EBDVersion>");
    assert!(parse_ebd(&v2, IdFormat::V2018).is_err());
    let dtd = format!(
        "<!DOCTYPE EBD [<!ENTITY x \"y\">]>{}",
        &sample[sample.find("<EBD").unwrap()..]
    );
    assert!(matches!(
        parse_ebd(&dtd, IdFormat::V2018),
        Err(XmlError::Malformed(_))
    ));
    assert!(parse_ebd(&data(SAMPLES[0]), IdFormat::V2017).is_err());
    let id = "10451343100000001020101012025112700000001";
    assert_eq!(ebdb_name(id), SAMPLES[0]);
    assert_eq!(ebds_name(id), format!("EBDS_{}", SAMPLES[0]));
}
