//! Playlist pulls through the router: formats, caching validators, day and county views,
//! malformed and unknown codes, health and limits.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use shengbo::server::DEFAULT_BASE_URL;

use super::{Fixture, get, send};

#[tokio::test]
async fn m3u8_lists_every_item_with_absolute_urls_and_languages() {
    let f = Fixture::new();
    let uri = format!(
        "/v1/townships/{}/playlist.m3u8?at=2030-01-15T07:00:00%2B08:00",
        f.township
    );
    let got = get(&f.state, &uri, Some(&f.station), &[]).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert!(
        got.header("content-type")
            .starts_with("application/vnd.apple.mpegurl")
    );
    let text = got.text();
    assert!(text.starts_with("#EXTM3U\n"), "{text}");
    assert!(text.ends_with("#EXT-X-ENDLIST\n"));
    let extinf: Vec<&str> = text.lines().filter(|l| l.starts_with("#EXTINF:")).collect();
    assert_eq!(extinf.len(), 2, "{text}");
    assert!(
        extinf[0].starts_with("#EXTINF:1.5,") && extinf[0].contains("[ii"),
        "{}",
        extinf[0]
    );
    assert!(extinf[1].contains("[zh"));
    let urls: Vec<&str> = text.lines().filter(|l| l.starts_with("http")).collect();
    assert_eq!(
        urls[0],
        format!("{DEFAULT_BASE_URL}/v1/audio/{}.mp3", f.audio[0].sha256)
    );
    assert_eq!(
        urls[1],
        format!("{DEFAULT_BASE_URL}/v1/audio/{}.mp3", f.audio[1].sha256)
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("#EXTLANG:")).count(),
        2
    );
    // After the morning broadcast ends, the evening one is "next".
    let later = format!(
        "/v1/townships/{}/playlist.json?at=2030-01-15T12:00:00%2B08:00",
        f.township
    );
    let json = get(&f.state, &later, Some(&f.station), &[]).await.json();
    assert!(
        json["start"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-15T19:00:00"),
        "{json}"
    );
}

#[tokio::test]
async fn json_and_xspf_carry_hashes_sizes_order_and_window() {
    let f = Fixture::new();
    let base = format!("/v1/townships/{}/playlist", f.township);
    let json = get(
        &f.state,
        &format!("{base}.json?at=2030-01-15T07:00:00Z"),
        Some(&f.coordinator),
        &[],
    )
    .await
    .json();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["order"], 1);
    assert_eq!(items[0]["lang"], "ii");
    assert_eq!(items[1]["lang"], "zh");
    assert_eq!(items[0]["sha256"], f.audio[0].sha256.as_str());
    assert_eq!(items[0]["size_bytes"], f.audio[0].size);
    assert_eq!(items[0]["duration_s"], 1.5);
    assert_eq!(json["township_code"], f.township.as_str());
    assert!(json["end"].as_str().is_some() && json["timezone"] == "Asia/Shanghai");

    let got = get(
        &f.state,
        &format!("{base}.xspf?at=2030-01-15T07:00:00Z"),
        Some(&f.coordinator),
        &[],
    )
    .await;
    assert_eq!(got.status, StatusCode::OK);
    let text = got.text();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XSPF");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "playlist");
    assert_eq!(root.tag_name().namespace(), Some("http://xspf.org/ns/0/"));
    assert_eq!(root.attribute("version"), Some("1"));
    let tracks: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name(("http://xspf.org/ns/0/", "track")))
        .collect();
    assert_eq!(tracks.len(), 2);
    // XSPF 1's schema fixes the order of children (xs:sequence); check it element by element.
    let playlist_order = [
        "title",
        "creator",
        "annotation",
        "info",
        "location",
        "identifier",
        "image",
        "date",
        "license",
        "attribution",
        "link",
        "meta",
        "extension",
        "trackList",
    ];
    let track_order = [
        "location",
        "identifier",
        "title",
        "creator",
        "annotation",
        "info",
        "image",
        "album",
        "trackNum",
        "duration",
        "link",
        "meta",
        "extension",
    ];
    in_schema_order(root, &playlist_order);
    for track in &tracks {
        in_schema_order(*track, &track_order);
    }
    let location = tracks[0]
        .children()
        .find(|n| n.has_tag_name(("http://xspf.org/ns/0/", "location")))
        .unwrap();
    assert!(
        location
            .text()
            .unwrap()
            .ends_with(&format!("{}.mp3", f.audio[0].sha256))
    );
}

#[tokio::test]
async fn etag_revalidation_answers_304_with_the_same_validators() {
    let f = Fixture::new();
    let uri = format!(
        "/v1/townships/{}/playlist.m3u8?at=2030-01-15T07:00:00Z",
        f.township
    );
    let first = get(&f.state, &uri, Some(&f.station), &[]).await;
    let etag = first.header("etag").to_string();
    assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
    assert!(first.header("cache-control").contains("max-age"));
    assert_eq!(
        first.header("last-modified"),
        "Mon, 14 Jan 2030 00:00:00 GMT"
    );
    let again = get(
        &f.state,
        &uri,
        Some(&f.station),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), etag);
    let stale = get(
        &f.state,
        &uri,
        Some(&f.station),
        &[("if-none-match", "\"0000\"")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
    // Another broadcast, other bytes, another tag.
    let evening = uri.replace("07:00:00Z", "12:00:00Z");
    assert_ne!(
        get(&f.state, &evening, Some(&f.station), &[])
            .await
            .header("etag"),
        etag
    );
}

#[tokio::test]
async fn day_and_county_views_gather_the_days_broadcasts() {
    let f = Fixture::new();
    let day = get(
        &f.state,
        &format!("/v1/townships/{}/day.json?date=2030-01-15", f.township),
        Some(&f.station),
        &[],
    )
    .await
    .json();
    assert_eq!(day["broadcasts"].as_array().unwrap().len(), 2, "{day}");
    let m3u = get(
        &f.state,
        &format!("/v1/townships/{}/day.m3u8?date=2030-01-15", f.township),
        Some(&f.station),
        &[],
    )
    .await
    .text();
    assert_eq!(m3u.matches("#EXTINF:").count(), 4);
    assert_eq!(m3u.matches("#EXTM3U").count(), 1);
    let empty = get(
        &f.state,
        &format!("/v1/townships/{}/day.json?date=2030-01-16", f.township),
        Some(&f.station),
        &[],
    )
    .await
    .json();
    assert_eq!(empty["broadcasts"].as_array().unwrap().len(), 0);
    let county = get(
        &f.state,
        "/v1/counties/513431/playlists.json?date=2030-01-15",
        Some(&f.station),
        &[],
    )
    .await
    .json();
    let towns = county["townships"].as_array().unwrap();
    let dir = shengbo::directory::Directory::liangshan();
    assert_eq!(towns.len(), dir.townships_of("513431").count());
    let with: Vec<_> = towns
        .iter()
        .filter(|t| !t["broadcasts"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(with.len(), 1);
    assert_eq!(with[0]["township"], f.township.as_str());
}

#[tokio::test]
async fn a_village_pulls_the_broadcasts_of_its_township_that_it_hears() {
    let f = Fixture::new();
    let [heard, left_out] = &f.villages;
    let day = |village: &str| format!("/v1/villages/{village}/day.json?date=2030-01-15");
    let both = get(&f.state, &day(heard), Some(&f.station), &[])
        .await
        .json();
    assert_eq!(both["village"], heard.as_str(), "{both}");
    assert_eq!(both["township"], f.township.as_str());
    assert_eq!(both["broadcasts"].as_array().unwrap().len(), 2, "{both}");
    let morning = get(&f.state, &day(left_out), Some(&f.station), &[])
        .await
        .json();
    let only = morning["broadcasts"].as_array().unwrap();
    assert_eq!(only.len(), 1, "{morning}");
    assert!(
        only[0]["start"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-15T07:30")
    );
    // After the morning, the evening broadcast is next for one village and none for the other.
    let next = |village: &str| {
        format!("/v1/villages/{village}/playlist.m3u8?at=2030-01-15T12:00:00%2B08:00")
    };
    let got = get(&f.state, &next(heard), Some(&f.station), &[]).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_eq!(got.text().matches("#EXTINF:").count(), 2);
    let none = get(&f.state, &next(left_out), Some(&f.station), &[]).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert!(none.text().contains(left_out.as_str()), "{}", none.text());
    // Another county's station may not read it; codes are checked.
    let other = get(&f.state, &day(heard), Some(&f.other_station), &[]).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let short = get(&f.state, &day("51343110"), Some(&f.station), &[]).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.text().contains("12 digits"), "{}", short.text());
    let unknown = get(&f.state, &day("513431999999"), Some(&f.station), &[]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // The township still lists both broadcasts.
    let town = format!("/v1/townships/{}/day.json?date=2030-01-15", f.township);
    let all = get(&f.state, &town, Some(&f.station), &[]).await.json();
    assert_eq!(all["broadcasts"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn malformed_and_unknown_codes_are_told_apart() {
    let f = Fixture::new();
    let tok = Some(f.coordinator.as_str());
    for bad in [
        "51343110",
        "51343110x",
        "..%2F..%2Fetc",
        "%E6%98%AD%E8%A7%89",
    ] {
        let got = get(
            &f.state,
            &format!("/v1/townships/{bad}/playlist.m3u8"),
            tok,
            &[],
        )
        .await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{bad}: {}", got.text());
        assert!(got.json()["message"].as_str().unwrap().contains("9 digits"));
    }
    let unknown = get(&f.state, "/v1/townships/513431199/playlist.m3u8", tok, &[]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.json()["did_you_mean"].is_string(),
        "{}",
        unknown.text()
    );
    let county = get(&f.state, "/v1/counties/51343/playlists.json", tok, &[]).await;
    assert_eq!(county.status, StatusCode::BAD_REQUEST);
    let file = get(
        &f.state,
        &format!("/v1/townships/{}/playlist.m3u", f.township),
        tok,
        &[],
    )
    .await;
    assert_eq!(file.status, StatusCode::NOT_FOUND);
    assert_eq!(file.json()["did_you_mean"], "playlist.m3u8");
    let at = get(
        &f.state,
        &format!("/v1/townships/{}/playlist.m3u8?at=noon", f.township),
        tok,
        &[],
    )
    .await;
    assert_eq!(at.status, StatusCode::BAD_REQUEST);
    let none = get(
        &f.state,
        &format!(
            "/v1/townships/{}/playlist.m3u8?at=2031-01-01T00:00:00Z",
            f.township
        ),
        tok,
        &[],
    )
    .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn health_needs_no_token_and_bodies_are_bounded() {
    let f = Fixture::new();
    assert_eq!(
        get(&f.state, "/healthz", None, &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&f.state, "/readyz", None, &[]).await.status,
        StatusCode::OK
    );
    let big = vec![b'x'; 5 * 1024 * 1024];
    let req = Request::post("/v1/ebd/state")
        .header("content-type", "multipart/form-data; boundary=x")
        .header("content-length", big.len())
        .body(Body::from(big))
        .unwrap();
    assert_eq!(
        send(&f.state, req).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // Routes that take no body take at most a kilobyte of one.
    for uri in [
        "/healthz".to_string(),
        format!("/v1/townships/{}/playlist.m3u8", f.township),
    ] {
        let req = Request::get(&uri)
            .header("content-length", 2048)
            .header("authorization", format!("Bearer {}", f.station))
            .body(Body::from(vec![b'x'; 2048]))
            .unwrap();
        assert_eq!(
            send(&f.state, req).await.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{uri}"
        );
    }
    let _ = get(
        &f.state,
        &format!("/v1/townships/{}/playlist.m3u8", f.township),
        None,
        &[],
    )
    .await;
    let metrics = get(&f.state, "/metrics", None, &[]).await.text();
    assert!(
        metrics.contains("shengbo_pulls_total{kind=\"playlist\",status=\"401\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("# TYPE shengbo_push_latency_seconds histogram"));
}

/// Every child element of `node` is in the XSPF namespace, known, and in the schema's order.
fn in_schema_order(node: roxmltree::Node, order: &[&str]) {
    let mut last = 0;
    for child in node.children().filter(|n| n.is_element()) {
        let name = child.tag_name();
        assert_eq!(name.namespace(), Some("http://xspf.org/ns/0/"), "{name:?}");
        let at = order
            .iter()
            .position(|o| *o == name.name())
            .unwrap_or_else(|| panic!("unknown `{}`", name.name()));
        assert!(at >= last, "`{}` out of schema order", name.name());
        last = at;
    }
}

/// Error bodies: `error` a stable English code for programs, `message` in the language the
/// request's `Accept-Language` names first that has a catalogue, Chinese when it names none.
#[tokio::test]
async fn error_messages_follow_accept_language_and_codes_stay_english() {
    let f = Fixture::new();
    let ask = |uri: &str, lang: Option<&str>, token: Option<&str>| {
        let mut req = Request::get(uri).header("host", "stations.example");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(l) = lang {
            req = req.header("accept-language", l);
        }
        super::send_as_is(&f.state, req.body(Body::empty()).unwrap())
    };
    let tok = Some(f.station.as_str());
    let bad = "/v1/townships/51343110/playlist.m3u8";
    let zh = ask(bad, None, tok).await;
    assert_eq!(zh.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        zh.json(),
        serde_json::json!({
            "error": "bad_request",
            "message": "乡镇代码 `51343110` 格式不对：应为 9 位数字"
        })
    );
    let en = ask(bad, Some("en-GB,en;q=0.8"), tok).await;
    assert_eq!(
        en.json(),
        serde_json::json!({
            "error": "bad_request",
            "message": "malformed township code `51343110`: expected 9 digits"
        })
    );
    let first = ask(bad, Some("fr-FR, zh-CN;q=0.9, en;q=0.5"), tok).await;
    assert!(
        first.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("乡镇代码")
    );
    // A lookup: the directory's own message and hint in the language, the code and the
    // suggestion the same in both.
    let unknown = "/v1/townships/513431199/playlist.m3u8";
    let zh = ask(unknown, Some("zh-CN"), tok).await.json();
    let en = ask(unknown, Some("en"), tok).await.json();
    assert_eq!(
        (&zh["error"], &en["error"]),
        (&"not_found".into(), &"not_found".into())
    );
    assert_eq!(zh["did_you_mean"], en["did_you_mean"]);
    let (zh_msg, en_msg) = (
        zh["message"].as_str().unwrap(),
        en["message"].as_str().unwrap(),
    );
    assert!(
        zh_msg.starts_with("未知的乡镇 `513431199`；是不是"),
        "{zh_msg}"
    );
    assert!(en_msg.contains("did you mean"), "{en_msg}");
    // No token, no route: the same in every language but the message.
    let none = ask("/v1/coverage", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.json()["error"], "unauthorized");
    assert!(
        none.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("需要令牌")
    );
    let nowhere = ask("/v1/nowhere", Some("en"), None).await;
    assert_eq!(nowhere.json()["error"], "not_found");
    assert_eq!(nowhere.json()["message"], "no route `/v1/nowhere`");
}
