//! Rendered playlists cached per snapshot: a revalidation is answered from the cache with the
//! full response's ETag, and a new snapshot changes the tag exactly when the bytes change.

use axum::http::StatusCode;
use shengbo::server::Snapshot;
use shengbo::server::rendered::etag_of;

use super::{Fixture, get};

#[tokio::test]
async fn a_cached_304_keeps_the_full_responses_etag_and_a_new_snapshot_retags_changed_bytes() {
    let f = Fixture::new();
    let uri = format!(
        "/v1/townships/{}/playlist.m3u8?at=2030-01-15T07:00:00Z",
        f.township
    );
    let full = get(&f.state, &uri, Some(&f.station), &[]).await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.text());
    let etag = full.header("etag").to_string();
    assert_eq!(etag, etag_of(&full.body), "the tag is the body's hash");
    assert_eq!(f.state.snapshot().rendered().len(), 1);

    let revalidated = get(
        &f.state,
        &uri,
        Some(&f.station),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
    assert_eq!(revalidated.header("etag"), etag);
    assert_eq!(
        revalidated.header("last-modified"),
        full.header("last-modified")
    );
    assert_eq!(
        f.state.snapshot().rendered().len(),
        1,
        "the 304 was answered from the cached answer, nothing new rendered"
    );
    let again = get(&f.state, &uri, Some(&f.station), &[]).await;
    assert_eq!(
        (again.body.clone(), again.header("etag")),
        (full.body.clone(), etag.as_str())
    );

    // A new snapshot of the same plan starts empty, renders the same bytes: the same tag.
    let old = f.state.snapshot();
    let same = Snapshot::new(old.broadcasts().to_vec(), f.audio.clone(), old.built_at);
    f.state.replace_snapshot(same);
    assert!(f.state.snapshot().rendered().is_empty());
    let kept = get(
        &f.state,
        &uri,
        Some(&f.station),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(kept.status, StatusCode::NOT_MODIFIED);
    assert_eq!(kept.header("etag"), etag);

    // A new snapshot whose broadcasts lost their Mandarin item: other bytes, another tag, and
    // the client's old tag now gets the full new playlist.
    let mut shorter = old.broadcasts().to_vec();
    for b in &mut shorter {
        b.items.truncate(1);
    }
    f.state
        .replace_snapshot(Snapshot::new(shorter, f.audio.clone(), old.built_at));
    let changed = get(
        &f.state,
        &uri,
        Some(&f.station),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), etag);
    assert_eq!(changed.header("etag"), etag_of(&changed.body));
    assert_eq!(
        changed.text().matches("#EXTINF:").count(),
        1,
        "{}",
        changed.text()
    );
}
