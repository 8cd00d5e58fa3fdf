//! What must not leak: audio links name the configured public base URL whatever `Host` a client
//! sends, token-gated answers are `private`, and token names cannot smuggle lines into lists
//! and logs.

use axum::http::StatusCode;
use shengbo::server::parse_base_url;

use super::socket::{client, start};
use super::{Fixture, get};
use crate::util;

#[tokio::test]
async fn a_forged_host_never_reaches_a_playlist() {
    let f = Fixture::new();
    let state = f
        .state
        .clone()
        .with_base_url(parse_base_url("https://sb.example.cn/").unwrap());
    for file in [
        "playlist.m3u8",
        "playlist.xspf",
        "playlist.json",
        "day.m3u8",
    ] {
        let uri = format!(
            "/v1/townships/{}/{file}?at=2030-01-15T07:00:00Z&date=2030-01-15",
            f.township
        );
        let got = get(&state, &uri, Some(&f.station), &[("host", "evil.example")]).await;
        assert_eq!(got.status, StatusCode::OK, "{file}");
        let text = got.text();
        assert!(!text.contains("evil.example"), "{file}: {text}");
        assert!(
            text.contains(&format!(
                "https://sb.example.cn/v1/audio/{}",
                f.audio[0].sha256
            )),
            "{file}: {text}"
        );
        assert!(got.header("cache-control").starts_with("private"), "{file}");
    }
}

#[tokio::test]
async fn without_a_base_url_links_name_the_listen_address_not_the_host() {
    let f = Fixture::new();
    let server = start(f.state.clone()).await;
    let url = format!(
        "http://{}/v1/townships/{}/playlist.m3u8?at=2030-01-15T07:00:00Z",
        server.addr, f.township
    );
    let body = client()
        .get(&url)
        .bearer_auth(&f.station)
        .header("host", "evil.example")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let addr = server.addr;
    server.shutdown().await;
    assert!(!body.contains("evil.example"), "{body}");
    assert!(
        body.contains(&format!("http://{addr}/v1/audio/{}", f.audio[0].sha256)),
        "{body}"
    );
}

#[test]
fn token_names_with_control_characters_or_too_long_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(65);
    for name in ["two\nlines", "tab\there", "", long.as_str()] {
        let out = util::run_in(
            dir.path(),
            &["token", "add", "--coordinator", "--name", name],
        );
        assert_eq!(out.status.code(), Some(1), "{name:?}");
        let err = util::stderr(&out);
        assert!(err.contains("token name"), "{name:?}: {err}");
        assert!(util::stdout(&out).is_empty(), "no secret printed");
    }
    let bad = util::run_in(dir.path(), &["serve", "--base-url", "sb.example.cn"]);
    assert_eq!(bad.status.code(), Some(2), "clap refuses the flag");
    assert!(
        util::stderr(&bad).contains("--base-url"),
        "{}",
        util::stderr(&bad)
    );
}
