//! RFC 9110 through the router, one case each, on audio and on playlists: a `Range` of another
//! unit is ignored (200), a suffix longer than the file is the whole file (206), `If-Match` with
//! another tag is 412, `If-Range` with a stale validator is the whole file (200), and
//! `If-None-Match` with the current tag is 304.

use axum::http::StatusCode;
use sha2::{Digest, Sha256};

use super::{Fixture, Got, get};

async fn audio(f: &Fixture, extra: &[(&str, &str)]) -> Got {
    let uri = format!("/v1/audio/{}.mp3", f.audio[0].sha256);
    get(&f.state, &uri, Some(&f.station), extra).await
}

async fn playlist(f: &Fixture, extra: &[(&str, &str)]) -> Got {
    let uri = format!(
        "/v1/townships/{}/playlist.m3u8?at=2030-01-15T07:00:00Z",
        f.township
    );
    get(&f.state, &uri, Some(&f.station), extra).await
}

#[tokio::test]
async fn a_range_of_another_unit_is_ignored() {
    let f = Fixture::new();
    let got = audio(&f, &[("range", "items=0-10")]).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body.len() as u64, f.audio[0].size);
    assert!(got.headers.get("content-range").is_none());
    let got = playlist(&f, &[("range", "items=0-10")]).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.text().ends_with("#EXT-X-ENDLIST\n"), "{}", got.text());
}

#[tokio::test]
async fn a_suffix_longer_than_the_file_is_the_whole_file() {
    let f = Fixture::new();
    let a = &f.audio[0];
    let got = audio(&f, &[("range", "bytes=-99999999999")]).await;
    assert_eq!(got.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(hex::encode(Sha256::digest(&got.body)), a.sha256);
    assert_eq!(
        got.header("content-range"),
        format!("bytes 0-{}/{}", a.size - 1, a.size)
    );
    // A playlist is always sent whole.
    let got = playlist(&f, &[("range", "bytes=-99999999999")]).await;
    assert_eq!(got.status, StatusCode::OK);
}

#[tokio::test]
async fn if_match_with_another_tag_is_412() {
    let f = Fixture::new();
    for (got, current) in [
        (
            audio(&f, &[]).await,
            audio(&f, &[("if-match", "\"nope\"")]).await,
        ),
        (
            playlist(&f, &[]).await,
            playlist(&f, &[("if-match", "\"nope\"")]).await,
        ),
    ] {
        assert_eq!(current.status, StatusCode::PRECONDITION_FAILED);
        assert!(current.body.is_empty());
        assert_eq!(current.header("etag"), got.header("etag"));
        assert!(current.header("cache-control").starts_with("private"));
    }
    let tag = audio(&f, &[]).await.header("etag").to_string();
    let ok = audio(&f, &[("if-match", &tag)]).await;
    assert_eq!(ok.status, StatusCode::OK);
    let tag = playlist(&f, &[]).await.header("etag").to_string();
    let ok = playlist(&f, &[("if-match", &format!("\"x\", {tag}"))]).await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn if_range_with_a_stale_validator_is_the_whole_file() {
    let f = Fixture::new();
    let a = &f.audio[0];
    for stale in ["\"old\"", "Thu, 01 Jan 1970 00:00:00 GMT"] {
        let got = audio(&f, &[("range", "bytes=0-9"), ("if-range", stale)]).await;
        assert_eq!(got.status, StatusCode::OK, "{stale}");
        assert_eq!(got.body.len() as u64, a.size);
    }
    let tag = format!("\"{}\"", a.sha256);
    let fresh = audio(&f, &[("range", "bytes=0-9"), ("if-range", &tag)]).await;
    assert_eq!(fresh.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(fresh.body.len(), 10);
}

#[tokio::test]
async fn if_none_match_with_the_current_tag_is_304() {
    let f = Fixture::new();
    let tag = audio(&f, &[]).await.header("etag").to_string();
    let got = audio(&f, &[("if-none-match", &tag)]).await;
    assert_eq!(got.status, StatusCode::NOT_MODIFIED);
    assert!(got.body.is_empty());
    assert_eq!(got.header("etag"), tag);
    let tag = playlist(&f, &[]).await.header("etag").to_string();
    let got = playlist(&f, &[("if-none-match", &format!("W/{tag}"))]).await;
    assert_eq!(got.status, StatusCode::NOT_MODIFIED);
    assert!(got.body.is_empty());
    assert_eq!(got.header("etag"), tag);
}
