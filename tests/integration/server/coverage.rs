//! Coverage over a real SQLite ledger: the JSON and CSV API, the HTML page (in headless
//! chromium: `browser.rs`), the `shengbo coverage` and `shengbo token` commands.

use std::path::Path;

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone, Utc};
use shengbo::directory::Directory;
use shengbo::lang::Lang;
use shengbo::ledger::{
    CircuitState, DeliveryState, EndpointHealth, Ledger, NewDelivery, RunId, SqliteLedger,
};
use shengbo::server::records;

use super::{Fixture, get};
use crate::util;

fn t(day: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, h, 0, 0).unwrap()
}

fn delivery(run: RunId, lang: Lang, towns: &[String], n: u32) -> NewDelivery {
    NewDelivery {
        run,
        endpoint: if n < 3 {
            "zhaojue-platform"
        } else {
            "zhaojue-east"
        }
        .into(),
        segment: Lang::ALL.iter().position(|&l| l == lang).unwrap() as u32,
        lang,
        message: "calls".into(),
        repeat: 0,
        townships: towns.to_vec(),
        ebd_id: format!("10{n:039}"),
        ebm_id: format!("{n:035}"),
        related_ebm_id: None,
        window_start: t(20, 11),
        window_end: t(20, 12),
        air_by: t(20, 12),
        payload_digest: format!("d{n}"),
    }
}

/// Three townships of 昭觉县 targeted on 2026-11-20: two played (both halves of the pair; a
/// township counts as played only when every segment was), the third expired. Returns the three
/// codes.
pub fn seed_ledger(path: &Path) -> Vec<String> {
    let dir = Directory::liangshan();
    let towns: Vec<String> = dir
        .townships_of("513431")
        .take(3)
        .map(|t| t.code.clone())
        .collect();
    let l = SqliteLedger::open(path).unwrap();
    let (run, _) = l.open_run("winter", t(20, 11), 3, t(20, 10)).unwrap();
    let (ii, _) = l
        .record_delivery(&delivery(run, Lang::Ii, &towns[..2], 1), t(20, 10))
        .unwrap();
    let (zh, _) = l
        .record_delivery(&delivery(run, Lang::Zh, &towns[..2], 2), t(20, 10))
        .unwrap();
    let (late, _) = l
        .record_delivery(&delivery(run, Lang::Ii, &towns[2..], 3), t(20, 10))
        .unwrap();
    l.transition(
        ii.id,
        DeliveryState::Delivered,
        Some("ResultCode 1"),
        t(20, 11),
    )
    .unwrap();
    l.transition(
        ii.id,
        DeliveryState::Played,
        Some("BrdStateCode 3"),
        t(20, 11),
    )
    .unwrap();
    l.transition(
        zh.id,
        DeliveryState::Delivered,
        Some("ResultCode 1"),
        t(20, 11),
    )
    .unwrap();
    l.transition(
        zh.id,
        DeliveryState::Played,
        Some("BrdStateCode 3"),
        t(20, 11),
    )
    .unwrap();
    l.transition(
        late.id,
        DeliveryState::Expired,
        Some("air-by passed <before> delivery"),
        t(20, 12),
    )
    .unwrap();
    l.put_endpoint_health(&EndpointHealth {
        endpoint: "zhaojue-platform".into(),
        last_seen: Some(t(20, 11)),
        consecutive_failures: 2,
        circuit: CircuitState::HalfOpen,
        reason: Some("timeouts".into()),
        updated_at: t(20, 12),
    })
    .unwrap();
    towns
}

pub(super) fn fixture_with_ledger() -> (Fixture, Vec<String>) {
    let mut f = Fixture::new();
    let path = f.root().join(".shengbo/ledger.sqlite");
    let towns = seed_ledger(&path);
    f.state = f.state.clone().with_records(records::open(&path).unwrap());
    (f, towns)
}

const PERIOD: &str = "from=2026-11-01&to=2026-12-01";

#[tokio::test]
async fn coverage_json_and_csv_state_figures_and_denominators() {
    let (f, towns) = fixture_with_ledger();
    let dir = Directory::liangshan();
    let people = |c: &str| dir.township(c).unwrap().population.people;
    let got = get(
        &f.state,
        &format!("/v1/coverage?{PERIOD}&by=township"),
        Some(&f.coordinator),
        &[],
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    let j = got.json();
    let totals = &j["totals"];
    assert_eq!(totals["townships_targeted"], 3);
    assert_eq!(totals["townships_reached"], 2);
    assert_eq!(totals["townships_played"], 2);
    assert_eq!(
        totals["population_reached"],
        people(&towns[0]) + people(&towns[1])
    );
    assert_eq!(
        totals["population_unreported"],
        people(&towns[0]) + people(&towns[1]),
        "no coverage report: counted whole, and marked"
    );
    assert_eq!(
        totals["population_targeted"],
        towns.iter().map(|c| people(c)).sum::<u64>()
    );
    assert_eq!(totals["population_area"], dir.population());
    assert_eq!(totals["failures"]["expired"], 1);
    assert!(j["denominators"]["pct_targeted"].is_string());
    assert_eq!(j["rows"].as_array().unwrap().len(), 3);
    assert_eq!(
        j["failures"][0]["reason"],
        "air-by passed <before> delivery"
    );

    let csv = get(
        &f.state,
        &format!("/v1/coverage?{PERIOD}&format=csv"),
        Some(&f.coordinator),
        &[],
    )
    .await;
    assert!(csv.header("content-type").starts_with("text/csv"));
    let text = csv.text();
    let county = text
        .lines()
        .find(|l| l.starts_with("county,513431,"))
        .expect(&text);
    assert!(
        county.contains(&format!(",{},", people(&towns[0]) + people(&towns[1]))),
        "{county}"
    );

    let empty = get(
        &f.state,
        "/v1/coverage?from=2026-10-01&to=2026-10-02",
        Some(&f.coordinator),
        &[],
    )
    .await
    .json();
    assert_eq!(empty["runs"], 0);
    let bad = get(&f.state, "/v1/coverage?since=7x", Some(&f.coordinator), &[]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["message"].as_str().unwrap().contains("7x"));
}

#[tokio::test]
async fn coverage_page_is_escaped_html_with_drill_down_chart_and_failures() {
    let (f, towns) = fixture_with_ledger();
    // No `Accept-Language`: the page is in Chinese.
    let req = axum::http::Request::get(format!("/coverage?{PERIOD}"))
        .header("host", "stations.example")
        .header("authorization", format!("Bearer {}", f.coordinator))
        .body(axum::body::Body::empty())
        .unwrap();
    let got = super::send_as_is(&f.state, req).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.header("content-type").starts_with("text/html"));
    let html = got.text();
    let dir = Directory::liangshan();
    assert!(html.contains("昭觉县"));
    assert!(html.contains(&dir.township(&towns[2]).unwrap().name));
    assert!(html.contains("<details data-code=\"513431\">"));
    assert!(html.contains("<svg") && html.contains("id=\"reach-chart\""));
    assert!(
        html.contains("air-by passed &lt;before&gt; delivery"),
        "reasons are escaped"
    );
    assert!(!html.contains("<before>"));
    assert!(html.contains("半开（试探中）") && html.contains("timeouts"));
    assert!(html.contains("<td>已过期</td>"), "states in words");
    assert!(html.contains("Noto Sans Yi") && html.contains("ꆈꌠ"));
    for outside in ["<link", "<script", "<img", "@import", "src=\"http"] {
        assert!(!html.contains(outside), "no outside assets: `{outside}`");
    }
    assert_eq!(
        html.matches("url(").count(),
        html.matches("url(/fonts/").count(),
        "only the app's own font"
    );
}

#[tokio::test]
async fn the_pages_yi_face_and_its_licence_are_served_to_anyone() {
    let (f, _) = fixture_with_ledger();
    let font = get(&f.state, "/fonts/noto-sans-yi-2.000.woff2", None, &[]).await;
    assert_eq!(font.status, StatusCode::OK);
    assert_eq!(font.header("content-type"), "font/woff2");
    assert!(font.header("cache-control").contains("immutable"));
    assert!(font.body.starts_with(b"wOF2") && font.body.len() < 64 * 1024);
    let licence = get(&f.state, "/fonts/OFL.txt", None, &[]).await;
    assert!(licence.text().contains("SIL OPEN FONT LICENSE Version 1.1"));
    let missing = get(&f.state, "/fonts/NuosuSIL.woff2", None, &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn coverage_page_speaks_the_asked_language_for_any_grouping() {
    let (f, towns) = fixture_with_ledger();
    let english = [("accept-language", "en-GB,en;q=0.9")];
    let by_township = get(
        &f.state,
        &format!("/coverage?{PERIOD}&by=township"),
        Some(&f.coordinator),
        &english,
    )
    .await;
    assert_eq!(by_township.status, StatusCode::OK);
    assert!(by_township.header("vary").contains("accept-language"));
    let html = by_township.text();
    assert!(
        html.starts_with("<!DOCTYPE html><html lang=\"en\">"),
        "{html}"
    );
    assert!(html.contains("By township") && html.contains("People reached per county"));
    assert_eq!(
        html.matches("<g class=\"bar\"").count(),
        17,
        "a bar per county"
    );
    let unreached = &html[html.find("id=\"unreached\"").unwrap()..];
    assert!(unreached.contains(&format!("data-code=\"{}\"", towns[2])));
    let chinese = get(
        &f.state,
        &format!("/coverage?{PERIOD}&lang=zh&campaign=winter"),
        Some(&f.coordinator),
        &english,
    )
    .await
    .text();
    assert!(
        chinese.contains("各县市覆盖人口"),
        "?lang wins over the header"
    );
    let none = get(
        &f.state,
        "/coverage?since=1d&campaign=winter",
        Some(&f.coordinator),
        &[],
    )
    .await
    .text();
    assert!(
        none.contains("id=\"empty\"") && !none.contains("<svg"),
        "{none}"
    );
    let bad = get(&f.state, "/coverage?lang=fr", Some(&f.coordinator), &[]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[test]
fn coverage_command_reads_the_ledger_and_refuses_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = util::run_in(dir.path(), &["coverage", "--since", "7d"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        util::stderr(&missing).contains("no ledger"),
        "{}",
        util::stderr(&missing)
    );
    let towns = seed_ledger(&dir.path().join(".shengbo/ledger.sqlite"));
    let args = [
        "coverage",
        "--from",
        "2026-11-01",
        "--to",
        "2026-12-01",
        "--by",
        "township",
    ];
    let table = util::run_in(dir.path(), &args);
    assert_eq!(table.status.code(), Some(0), "{}", util::stderr(&table));
    let text = util::stdout(&table);
    for code in &towns {
        assert!(text.contains(code.as_str()), "{text}");
    }
    assert!(text.contains("failed: run") && text.contains("expired"));
    let json = util::run_in(dir.path(), &[&args[..], &["--format", "json"]].concat());
    let j: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(j["totals"]["townships_reached"], 2);
    let bad = util::run_in(dir.path(), &["coverage", "--since", "soon"]);
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn token_command_prints_the_secret_once_on_the_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let add = util::run_in(
        dir.path(),
        &["token", "add", "--county", "昭觉县", "--name", "zhaojue"],
    );
    assert_eq!(add.status.code(), Some(0), "{}", util::stderr(&add));
    let out = util::stdout(&add);
    let secret = out.lines().last().unwrap().to_string();
    assert!(secret.starts_with("sb_") && secret.len() > 40, "{out}");
    let stored = std::fs::read_to_string(dir.path().join(".shengbo/tokens.json")).unwrap();
    assert!(!stored.contains(&secret));
    let list = util::stdout(&util::run_in(dir.path(), &["token", "list"]));
    assert!(list.contains("zhaojue") && list.contains("513431") && !list.contains(&secret));
    let dup = util::run_in(
        dir.path(),
        &["token", "add", "--coordinator", "--name", "zhaojue"],
    );
    assert_eq!(dup.status.code(), Some(1));
    let typo = util::run_in(
        dir.path(),
        &["token", "add", "--county", "昭觉", "--name", "x"],
    );
    assert_eq!(typo.status.code(), Some(0), "short county names resolve");
    let unknown = util::run_in(
        dir.path(),
        &["token", "add", "--county", "5134319", "--name", "y"],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        util::stderr(&unknown).contains("did you mean"),
        "{}",
        util::stderr(&unknown)
    );
    let revoke = util::run_in(dir.path(), &["token", "revoke", "zhaojue"]);
    assert_eq!(revoke.status.code(), Some(0));
    assert!(!util::stdout(&util::run_in(dir.path(), &["token", "list"])).contains("zhaojue"));
}

#[tokio::test]
async fn readiness_follows_the_ledgers_write_lock() {
    let (f, _) = fixture_with_ledger();
    assert_eq!(
        get(&f.state, "/readyz", None, &[]).await.status,
        StatusCode::OK
    );
    let path = f.root().join(".shengbo/ledger.sqlite");
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let held = get(&f.state, "/readyz", None, &[]).await;
    assert_eq!(held.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        held.text().contains("ledger not writable"),
        "{}",
        held.text()
    );
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        get(&f.state, "/readyz", None, &[]).await.status,
        StatusCode::OK
    );
}
