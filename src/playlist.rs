//! One broadcast's playlist rendered for stations and players: M3U8, XSPF and JSON.
//!
//! Pure functions of a [`Broadcast`], a base URL and a function giving each item's location
//! (a path joined to the base URL, or an absolute URL kept as is).

use std::fmt::Write as _;

use chrono::SecondsFormat;
use quick_xml::escape::escape;
use serde::Serialize;

use crate::lang::Lang;
use crate::plan::{Broadcast, PlaylistItem};

/// XSPF `meta`/`extension` namespace of this project.
pub const XSPF_NS: &str = "urn:x-shengbo:playlist";

/// An absolute URL: `location` as is when it has a scheme, else joined to `base_url` with each
/// path segment percent-encoded.
pub fn absolute_url(base_url: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let path: Vec<String> = location
        .trim_start_matches('/')
        .split('/')
        .map(percent_encode)
        .collect();
    format!("{}/{}", base_url.trim_end_matches('/'), path.join("/"))
}

fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn title(b: &Broadcast) -> String {
    format!(
        "{} · {} ({}) · {}",
        b.campaign,
        b.township_name,
        b.township_code,
        rfc3339(b)
    )
}

fn rfc3339(b: &Broadcast) -> String {
    b.local_start()
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

fn item_title(item: &PlaylistItem) -> String {
    format!(
        "{} [{} {}]",
        item.message,
        item.lang.code(),
        item.lang.name_zh()
    )
}

fn secs(s: f64) -> String {
    let t = format!("{s:.3}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Simple extended M3U (UTF-8): `#EXTINF:<seconds>,<title>` then the absolute URL per item;
/// each item's language in an `#EXTLANG:` line and in its title, gaps as comments.
pub fn m3u8(b: &Broadcast, base_url: &str, url_for: impl Fn(&PlaylistItem) -> String) -> String {
    let mut out = String::from("#EXTM3U\n");
    let _ = writeln!(out, "#PLAYLIST:{}", title(b));
    let end = b.local_end().to_rfc3339_opts(SecondsFormat::AutoSi, false);
    let _ = writeln!(out, "# window {} .. {}", rfc3339(b), end);
    for item in &b.items {
        let _ = writeln!(out, "#EXTLANG:{}", item.lang.code());
        let _ = writeln!(
            out,
            "#EXTINF:{},{}",
            secs(item.duration_s),
            item_title(item)
        );
        let _ = writeln!(out, "{}", absolute_url(base_url, &url_for(item)));
        if item.gap_after_s > 0.0 {
            let _ = writeln!(out, "# gap {}s", secs(item.gap_after_s));
        }
    }
    out
}

/// XSPF version 1: `playlist/trackList/track` with location, identifier (`urn:sha256:…`),
/// title, duration (ms), and language, sha256 and gap as `meta` and an `extension`.
pub fn xspf(b: &Broadcast, base_url: &str, url_for: impl Fn(&PlaylistItem) -> String) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<playlist version=\"1\" xmlns=\"http://xspf.org/ns/0/\">\n");
    let _ = writeln!(out, "  <title>{}</title>", escape(title(b).as_str()));
    out.push_str("  <creator>shengbo</creator>\n");
    let _ = writeln!(out, "  <date>{}</date>", rfc3339(b));
    let _ = writeln!(
        out,
        "  <meta rel=\"{XSPF_NS}#campaign\">{}</meta>",
        escape(&b.campaign)
    );
    let _ = writeln!(
        out,
        "  <meta rel=\"{XSPF_NS}#township\">{}</meta>",
        b.township_code
    );
    out.push_str("  <trackList>\n");
    for (i, item) in b.items.iter().enumerate() {
        let url = absolute_url(base_url, &url_for(item));
        out.push_str("    <track>\n");
        let _ = writeln!(out, "      <location>{}</location>", escape(url.as_str()));
        let _ = writeln!(
            out,
            "      <identifier>urn:sha256:{}</identifier>",
            item.sha256
        );
        let _ = writeln!(
            out,
            "      <title>{}</title>",
            escape(item_title(item).as_str())
        );
        let _ = writeln!(out, "      <trackNum>{}</trackNum>", i + 1);
        let ms = (item.duration_s * 1000.0).round() as u64;
        let _ = writeln!(out, "      <duration>{ms}</duration>");
        let _ = writeln!(
            out,
            "      <meta rel=\"{XSPF_NS}#lang\">{}</meta>",
            item.lang.code()
        );
        let _ = writeln!(
            out,
            "      <meta rel=\"{XSPF_NS}#sha256\">{}</meta>",
            item.sha256
        );
        let gap = (item.gap_after_s * 1000.0).round() as u64;
        let _ = writeln!(
            out,
            "      <extension application=\"{XSPF_NS}\"><item xmlns=\"{XSPF_NS}\" message=\"{}\" \
             lang=\"{}\" sha256=\"{}\" size=\"{}\" gap_after_ms=\"{gap}\"/></extension>",
            escape(&item.message),
            item.lang.code(),
            item.sha256,
            item.size_bytes
        );
        out.push_str("    </track>\n");
    }
    out.push_str("  </trackList>\n</playlist>\n");
    out
}

/// The JSON form of a playlist: the play window and every item with what a station needs to
/// fetch, verify and time it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaylistJson {
    pub campaign: String,
    pub township_code: String,
    pub township_name: String,
    pub county_code: String,
    /// RFC 3339 with the campaign zone's offset.
    pub start: String,
    pub end: String,
    pub timezone: String,
    pub duration_s: f64,
    pub items: Vec<PlaylistJsonItem>,
}

/// One item of [`PlaylistJson`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaylistJsonItem {
    /// 1-based position.
    pub order: usize,
    pub message: String,
    pub lang: Lang,
    /// ISO 639-2 code as on the emergency-broadcast wire.
    pub lang_iso639_2: &'static str,
    pub url: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub duration_s: f64,
    pub gap_after_s: f64,
    /// Seconds from the broadcast's start to this item's start.
    pub offset_s: f64,
}

/// The JSON playlist of a broadcast.
pub fn json(
    b: &Broadcast,
    base_url: &str,
    url_for: impl Fn(&PlaylistItem) -> String,
) -> PlaylistJson {
    let round = crate::plan::round_ms;
    let mut offset = 0.0;
    let items = b
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = offset;
            offset += item.duration_s + item.gap_after_s;
            PlaylistJsonItem {
                order: i + 1,
                message: item.message.clone(),
                lang: item.lang,
                lang_iso639_2: item.lang.iso639_2(),
                url: absolute_url(base_url, &url_for(item)),
                sha256: item.sha256.clone(),
                size_bytes: item.size_bytes,
                duration_s: round(item.duration_s),
                gap_after_s: round(item.gap_after_s),
                offset_s: round(at),
            }
        })
        .collect();
    PlaylistJson {
        campaign: b.campaign.clone(),
        township_code: b.township_code.clone(),
        township_name: b.township_name.clone(),
        county_code: b.county_code.clone(),
        start: rfc3339(b),
        end: b.local_end().to_rfc3339_opts(SecondsFormat::AutoSi, false),
        timezone: b.timezone.name().to_string(),
        duration_s: round(b.duration_s()),
        items,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// An item's location as its file path under the project root (`audio/<id>/ii.mp3`).
    fn file_path(item: &PlaylistItem) -> String {
        item.file.clone()
    }

    fn item(message: &str, lang: Lang, duration_s: f64, gap_after_s: f64) -> PlaylistItem {
        PlaylistItem {
            message: message.to_string(),
            lang,
            file: format!("audio/{message}/{}.mp3", lang.code()),
            sha256: format!("{:064x}", duration_s as u64),
            size_bytes: 1000,
            duration_s,
            gap_after_s,
        }
    }

    fn broadcast() -> Broadcast {
        let start = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        Broadcast {
            reason: None,
            campaign: "winter & <safety>".to_string(),
            priority: 0,
            township_code: "513431100".to_string(),
            township_name: "新城镇".to_string(),
            county_code: "513431".to_string(),
            villages: Vec::new(),
            start,
            end: start + chrono::Duration::milliseconds(64_250),
            timezone: chrono_tz::Asia::Shanghai,
            items: vec![
                item("police-impersonation", Lang::Ii, 30.5, 1.5),
                item("police-impersonation", Lang::Zh, 32.25, 0.0),
            ],
        }
    }

    #[test]
    fn urls_join_and_encode() {
        assert_eq!(
            absolute_url("http://h:1/", "/audio/a b/ii.mp3"),
            "http://h:1/audio/a%20b/ii.mp3"
        );
        assert_eq!(
            absolute_url("http://h", "https://cdn/x.mp3"),
            "https://cdn/x.mp3"
        );
        assert_eq!(
            absolute_url("http://h", "音/ii.mp3"),
            "http://h/%E9%9F%B3/ii.mp3"
        );
    }

    #[test]
    fn m3u8_lines_in_order_with_languages() {
        let text = m3u8(&broadcast(), "http://st.example/", file_path);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "#EXTM3U");
        assert!(lines[1].starts_with("#PLAYLIST:winter & <safety> · 新城镇 (513431100)"));
        assert_eq!(
            lines[2],
            "# window 2026-12-01T08:00:00+08:00 .. 2026-12-01T08:01:04.250+08:00"
        );
        assert_eq!(
            &lines[3..],
            [
                "#EXTLANG:ii",
                "#EXTINF:30.5,police-impersonation [ii 彝语]",
                "http://st.example/audio/police-impersonation/ii.mp3",
                "# gap 1.5s",
                "#EXTLANG:zh",
                "#EXTINF:32.25,police-impersonation [zh 普通话]",
                "http://st.example/audio/police-impersonation/zh.mp3",
            ]
        );
    }

    #[test]
    fn xspf_is_well_formed_version_1() {
        let text = xspf(&broadcast(), "http://st.example", file_path);
        let doc = roxmltree::Document::parse(&text).expect("well-formed");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "playlist");
        assert_eq!(root.tag_name().namespace(), Some("http://xspf.org/ns/0/"));
        assert_eq!(root.attribute("version"), Some("1"));
        let title = root.children().find(|n| n.has_tag_name("title")).unwrap();
        assert!(title.text().unwrap().starts_with("winter & <safety>"));
        let list = root
            .children()
            .find(|n| n.has_tag_name("trackList"))
            .unwrap();
        let tracks: Vec<_> = list.children().filter(|n| n.is_element()).collect();
        assert_eq!(tracks.len(), 2);
        let child = |t: &roxmltree::Node, name: &str| {
            t.children()
                .find(|n| n.has_tag_name(name))
                .and_then(|n| n.text())
                .map(str::to_string)
        };
        assert_eq!(child(&tracks[0], "duration").as_deref(), Some("30500"));
        assert_eq!(child(&tracks[1], "duration").as_deref(), Some("32250"));
        assert_eq!(
            child(&tracks[1], "location").as_deref(),
            Some("http://st.example/audio/police-impersonation/zh.mp3")
        );
        let langs: Vec<_> = tracks
            .iter()
            .flat_map(|t| t.children().filter(|n| n.has_tag_name("meta")))
            .filter(|m| m.attribute("rel") == Some("urn:x-shengbo:playlist#lang"))
            .map(|m| m.text().unwrap().to_string())
            .collect();
        assert_eq!(langs, ["ii", "zh"]);
        let ext = tracks[0]
            .descendants()
            .find(|n| n.has_tag_name("item"))
            .unwrap();
        assert_eq!(ext.attribute("gap_after_ms"), Some("1500"));
        // XSPF 1 orders a track's children: location, identifier, title, …, duration, …, meta, extension.
        let names: Vec<_> = tracks[0]
            .children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        assert_eq!(
            names,
            [
                "location",
                "identifier",
                "title",
                "trackNum",
                "duration",
                "meta",
                "meta",
                "extension"
            ]
        );
    }

    #[test]
    fn json_has_window_offsets_and_languages() {
        let j = json(&broadcast(), "http://st.example", file_path);
        assert_eq!(j.start, "2026-12-01T08:00:00+08:00");
        assert_eq!(j.end, "2026-12-01T08:01:04.250+08:00");
        assert_eq!(j.duration_s, 64.25);
        let offsets: Vec<f64> = j.items.iter().map(|i| i.offset_s).collect();
        assert_eq!(offsets, [0.0, 32.0]);
        assert_eq!(j.items[0].lang_iso639_2, "iii");
        let v = serde_json::to_value(&j).unwrap();
        assert_eq!(v["items"][1]["lang"], "zh");
        assert_eq!(v["items"][1]["order"], 2);
    }
}
