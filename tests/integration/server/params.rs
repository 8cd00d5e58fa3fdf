//! Query parameters from outside: every number and date in a query string or a flag is
//! range-checked — out of range is a 400 (or exit 1) naming the parameter, never a panic — and
//! a property test throws generated query strings at every route of the real router.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use shengbo::dispatch::Clock;
use tower::ServiceExt;

use super::coverage::fixture_with_ledger;
use super::{Fixture, get};
use crate::util;

#[tokio::test]
async fn spans_and_bounds_out_of_range_are_400_naming_the_parameter() {
    let (f, _) = fixture_with_ledger();
    for (query, name) in [
        ("since=9223372036854775807m", "`since`"),
        ("since=99999999999d", "`since`"),
        ("since=36526d", "`since`"),
        ("since=-5d", "`since`"),
        ("since=0d", "`since`"),
        ("since=153722867280912930w", "`since`"),
        ("from=+99999-01-01", "`from`"),
        ("to=0001-01-01", "`to`"),
        ("to=2026-13-01", "`to`"),
        ("from=2026-12-01&to=2026-11-01", "empty"),
    ] {
        let got = get(
            &f.state,
            &format!("/v1/coverage?{query}"),
            Some(&f.coordinator),
            &[],
        )
        .await;
        assert_eq!(
            got.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            got.text()
        );
        let error = got.json()["message"].as_str().unwrap().to_string();
        assert!(error.contains(name), "{query}: {error}");
        let page = get(
            &f.state,
            &format!("/coverage?{query}"),
            Some(&f.coordinator),
            &[],
        )
        .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{query}");
    }
    // The longest span accepted still answers.
    let ok = get(
        &f.state,
        "/v1/coverage?since=36525d",
        Some(&f.coordinator),
        &[],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
}

#[test]
fn coverage_flags_out_of_range_exit_1_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["coverage", "--since", "99999999999d"][..],
        &["coverage", "--since", "9223372036854775807m"],
        &["coverage", "--since", "1w", "--to", "0001-01-01"],
        &["coverage", "--from", "2026-02-30"],
    ] {
        let out = util::run_in(dir.path(), args);
        let err = util::stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        let flag = args[args.len() - 2].trim_start_matches('-');
        assert!(err.contains(&format!("`{flag}`")), "{args:?}: {err}");
    }
}

/// `serve`'s edge limits out of range are refused before anything starts, naming the flag (a
/// usage error: exit 2, as for every flag clap checks).
#[test]
fn serve_edge_flags_out_of_range_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value) in [
        ("--max-connections", "0"),
        ("--max-connections", "1000001"),
        ("--max-active", "0"),
        ("--max-active", "99999999999"),
        ("--defer-accept-s", "3601"),
        ("--first-byte-timeout-s", "0"),
        ("--first-byte-timeout-s", "3601"),
        ("--header-timeout-s", "0"),
        ("--header-timeout-s", "3601"),
    ] {
        let out = util::run_in(dir.path(), &["serve", "--no-schedule", flag, value]);
        let err = util::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(flag), "{flag} {value}: {err}");
        assert!(!err.contains("panicked"), "{flag} {value}: {err}");
    }
}

/// A query value: numbers with and without units at every magnitude, dates and times near the
/// calendar's ends, and arbitrary text.
fn value() -> impl Strategy<Value = String> {
    let unit = prop_oneof![
        Just(""),
        Just("m"),
        Just("h"),
        Just("d"),
        Just("w"),
        Just("s"),
        Just("x")
    ];
    prop_oneof![
        (any::<i64>(), unit.clone()).prop_map(|(n, u)| format!("{n}{u}")),
        (any::<u64>(), unit).prop_map(|(n, u)| format!("{n}{u}")),
        (0u32..=99999, 0u32..=13, 0u32..=32).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        (0u32..=9999, 1u32..=12, 1u32..=28, 0u32..=25, -14i32..=14)
            .prop_map(|(y, m, d, h, z)| { format!("{y:04}-{m:02}-{d:02}T{h:02}:00:00{z:+03}:00") }),
        "[ -~]{0,24}",
        ".{0,12}",
    ]
}

fn param() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("at"),
        Just("date"),
        Just("from"),
        Just("to"),
        Just("since"),
        Just("by"),
        Just("campaign"),
        Just("format"),
        Just("token"),
        Just("exp"),
        Just("sig"),
        Just("other"),
    ]
    .prop_map(str::to_string)
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every route of the app, with the fixture's codes and one catalogued recording.
fn routes(f: &Fixture) -> Vec<String> {
    let t = &f.township;
    let mut routes: Vec<String> = [
        "playlist.m3u8",
        "playlist.xspf",
        "playlist.json",
        "day.json",
        "day.m3u8",
    ]
    .iter()
    .map(|file| format!("/v1/townships/{t}/{file}"))
    .collect();
    routes.extend([
        "/v1/counties/513431/playlists.json".to_string(),
        format!("/v1/audio/{}.mp3", f.audio[0].sha256),
        "/v1/coverage".to_string(),
        "/coverage".to_string(),
        "/v1/ebd/state".to_string(),
        "/healthz".to_string(),
        "/readyz".to_string(),
        "/metrics".to_string(),
    ]);
    routes
}

#[test]
fn generated_query_strings_never_get_a_5xx_or_a_panic_on_any_route() {
    let (f, _) = fixture_with_ledger();
    let routes = routes(&f);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = ProptestConfig {
        cases: 384,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let app = shengbo::server::app(f.state.clone());
    proptest!(config, |(
        route in 0..routes.len(),
        pairs in proptest::collection::vec((param(), value()), 0..4),
        by_query in any::<bool>(),
    )| {
        let mut query: Vec<String> =
            pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        if by_query {
            query.push(format!("token={}", f.coordinator));
        }
        let uri = format!("{}?{}", routes[route], query.join("&"));
        let method = if routes[route] == "/v1/ebd/state" { "POST" } else { "GET" };
        let mut req = Request::builder().method(method).uri(&uri);
        if !by_query {
            req = req.header("authorization", format!("Bearer {}", f.coordinator));
        }
        let resp = rt
            .block_on(app.clone().oneshot(req.body(Body::empty()).unwrap()))
            .unwrap();
        prop_assert!(
            !resp.status().is_server_error() || resp.status() == StatusCode::SERVICE_UNAVAILABLE
                && routes[route] == "/v1/ebd/state",
            "{uri} → {}",
            resp.status()
        );
    });
}

/// A coverage query without a period covers the 7 days before the service's clock, not the
/// wall clock's: paused tokio time moves it.
#[tokio::test(start_paused = true)]
async fn coverage_default_period_follows_the_service_clock() {
    let (mut f, _) = fixture_with_ledger();
    // The seeded run airs on 2026-11-20 at 11:00 UTC.
    let start = Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap();
    f.state = f.state.clone().with_clock(Clock::starting_at(start));
    let targeted = |f: &Fixture| {
        let state = f.state.clone();
        let token = f.coordinator.clone();
        async move {
            let got = get(&state, "/v1/coverage", Some(&token), &[]).await;
            assert_eq!(got.status, StatusCode::OK, "{}", got.text());
            let j = got.json();
            (
                j["query"]["to"].clone(),
                j["totals"]["townships_targeted"].clone(),
            )
        }
    };
    let (to, n) = targeted(&f).await;
    assert_eq!(to, serde_json::json!(start));
    assert_eq!(n, 3);
    tokio::time::advance(std::time::Duration::from_secs(8 * 86_400)).await;
    let (to, n) = targeted(&f).await;
    assert_eq!(to, serde_json::json!(start + TimeDelta::days(8)));
    assert_eq!(
        n, 0,
        "the run of 2026-11-20 is older than 7 days at 2026-11-30"
    );
}
