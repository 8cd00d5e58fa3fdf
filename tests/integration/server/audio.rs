//! Audio and access through the router: whole files, Range and 416, revalidation, paths that
//! must lead nowhere, and token scopes (401 / 403).

use axum::http::StatusCode;
use sha2::{Digest, Sha256};
use shengbo::server::auth;

use super::{Fixture, get};

#[tokio::test]
async fn audio_is_served_whole_by_range_and_revalidated() {
    let f = Fixture::new();
    let a = &f.audio[0];
    let uri = format!("/v1/audio/{}.mp3", a.sha256);
    let whole = get(&f.state, &uri, Some(&f.station), &[]).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(hex::encode(Sha256::digest(&whole.body)), a.sha256);
    assert_eq!(whole.header("content-type"), "audio/mpeg");
    assert_eq!(
        whole.header("cache-control"),
        "private, max-age=31536000, immutable"
    );
    assert_eq!(whole.header("etag"), format!("\"{}\"", a.sha256));
    assert_eq!(whole.header("accept-ranges"), "bytes");
    assert!(whole.headers.get("content-encoding").is_none());

    let part = get(
        &f.state,
        &uri,
        Some(&f.station),
        &[("range", "bytes=10-109")],
    )
    .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, whole.body[10..110]);
    assert_eq!(
        part.header("content-range"),
        format!("bytes 10-109/{}", a.size)
    );
    let tail = get(&f.state, &uri, Some(&f.station), &[("range", "bytes=-16")]).await;
    assert_eq!(tail.body, whole.body[whole.body.len() - 16..]);
    let beyond = format!("bytes={}-", a.size + 10);
    let unsat = get(&f.state, &uri, Some(&f.station), &[("range", &beyond)]).await;
    assert_eq!(unsat.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(unsat.header("content-range"), format!("bytes */{}", a.size));

    let etag = whole.header("etag").to_string();
    let cached = get(
        &f.state,
        &uri,
        Some(&f.station),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    // A partial copy validated by another tag gets the whole file.
    let stale = get(
        &f.state,
        &uri,
        Some(&f.station),
        &[("range", "bytes=0-9"), ("if-range", "\"old\"")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body.len() as u64, a.size);
}

#[tokio::test]
async fn nothing_outside_the_catalog_is_reachable() {
    let f = Fixture::new();
    std::fs::write(f.root().join("secret.mp3"), b"not for you").unwrap();
    let tok = Some(f.coordinator.as_str());
    let secret_sha = hex::encode(Sha256::digest(b"not for you"));
    for path in [
        "/v1/audio/..%2F..%2Fsecret.mp3".to_string(),
        "/v1/audio/../secret.mp3".to_string(),
        "/v1/audio/%2e%2e/secret.mp3".to_string(),
        format!("/v1/audio/{secret_sha}.mp3"),
        format!("/v1/audio/{}.ogg", f.audio[0].sha256),
        "/v1/audio/secret.mp3".to_string(),
        "/.shengbo/tokens.json".to_string(),
    ] {
        let got = get(&f.state, &path, tok, &[]).await;
        assert!(
            matches!(got.status, StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND),
            "{path}: {}",
            got.status
        );
        assert!(!got.body.windows(11).any(|w| w == b"not for you"), "{path}");
    }
}

#[tokio::test]
async fn tokens_are_required_and_scoped() {
    let f = Fixture::new();
    let playlist = format!(
        "/v1/townships/{}/playlist.json?at=2030-01-15T07:00:00Z",
        f.township
    );
    let none = get(&f.state, &playlist, None, &[]).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(none.header("www-authenticate").starts_with("Bearer"));
    let forged = get(&f.state, &playlist, Some("sb_forged"), &[]).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let other = get(&f.state, &playlist, Some(&f.other_station), &[]).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert!(other.json()["message"].as_str().unwrap().contains("513401"));
    let own = format!(
        "/v1/townships/{}/playlist.json?at=2030-01-14T00:00:00Z",
        f.other_township
    );
    assert_eq!(
        get(&f.state, &own, Some(&f.other_station), &[])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        get(
            &f.state,
            "/v1/counties/513431/playlists.json",
            Some(&f.other_station),
            &[]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // Audio: a station hears only what its townships air.
    let loans = format!("/v1/audio/{}.mp3", f.audio[2].sha256);
    assert_eq!(
        get(&f.state, &loans, Some(&f.station), &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&f.state, &loans, Some(&f.other_station), &[])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        get(&f.state, &loans, Some(&f.coordinator), &[])
            .await
            .status,
        StatusCode::OK
    );
    // Coverage is for coordinators.
    assert_eq!(
        get(&f.state, "/v1/coverage", Some(&f.station), &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Query tokens work, and audio links carry them on for players that cannot set headers.
    let by_query = get(
        &f.state,
        &format!("{playlist}&token={}", f.station),
        None,
        &[],
    )
    .await;
    assert_eq!(by_query.status, StatusCode::OK);
    let url = by_query.json()["items"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.ends_with(&format!("?token={}", f.station)), "{url}");
    // Revoking takes effect on the running state.
    auth::revoke(&f.root().join(".shengbo/tokens.json"), "zhaojue").unwrap();
    assert_eq!(
        get(&f.state, &playlist, Some(&f.station), &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
}
