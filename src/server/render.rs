//! Playlists as stations receive them: M3U8 (extended M3U, HLS-compatible so players such as
//! ffmpeg play it as one stream), XSPF 1 and JSON — each item with an absolute audio URL, its
//! language, duration, size and sha256, and the broadcast's play window.

use std::fmt::Write as _;

use chrono::SecondsFormat;
use serde::Serialize;

use crate::plan::{Broadcast, PlaylistItem};

/// How audio URLs are built: `{base}/v1/audio/{sha256}.{ext}{suffix}`.
#[derive(Debug, Clone)]
pub struct Links {
    pub base: String,
    /// Appended to each URL, e.g. `?token=…` when the caller authenticated by query.
    pub suffix: String,
}

impl Links {
    pub fn audio(&self, item: &PlaylistItem) -> String {
        format!(
            "{}/v1/audio/{}.{}{}",
            self.base,
            item.sha256,
            ext(item),
            self.suffix
        )
    }
}

/// The audio extension of an item (lowercase), from its file name.
pub fn ext(item: &PlaylistItem) -> String {
    std::path::Path::new(&item.file)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("bin")
        .to_ascii_lowercase()
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn title(b: &Broadcast, item: &PlaylistItem) -> String {
    format!(
        "{} · {} [{}] · {}",
        item.message,
        item.lang.name_zh(),
        item.lang.code(),
        b.township_name
    )
}

/// Extended M3U of broadcasts in order. `#EXT-X-ENDLIST` marks it complete (not live).
pub fn m3u8(broadcasts: &[&Broadcast], links: &Links) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n");
    let target = broadcasts
        .iter()
        .flat_map(|b| &b.items)
        .map(|i| i.duration_s.ceil() as u64)
        .max()
        .unwrap_or(1);
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{target}");
    for b in broadcasts {
        let _ = writeln!(
            out,
            "#PLAYLIST:{} {} {}\n#EXT-X-PROGRAM-DATE-TIME:{}",
            b.township_name,
            b.campaign,
            rfc3339(b.start),
            rfc3339(b.start)
        );
        for item in &b.items {
            let _ = writeln!(out, "#EXT-X-SHENGBO-LANG:{}", item.lang.code());
            let _ = writeln!(out, "#EXTINF:{:.3},{}", item.duration_s, title(b, item));
            let _ = writeln!(out, "{}", links.audio(item));
        }
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// XSPF version 1 (<http://xspf.org/ns/0/>), elements in the schema's order.
pub fn xspf(b: &Broadcast, links: &Links) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<playlist version=\"1\" xmlns=\"http://xspf.org/ns/0/\">\n");
    let _ = writeln!(
        out,
        "  <title>{}</title>\n  <annotation>{}</annotation>\n  <date>{}</date>",
        xml_escape(&format!("{} {}", b.township_name, b.campaign)),
        xml_escape(&format!(
            "township {} from {} to {}",
            b.township_code,
            rfc3339(b.start),
            rfc3339(b.end)
        )),
        rfc3339(b.start)
    );
    out.push_str("  <trackList>\n");
    for (n, item) in b.items.iter().enumerate() {
        let _ = writeln!(
            out,
            "    <track>\n      <location>{}</location>\n      <identifier>urn:sha256:{}</identifier>\n      \
             <title>{}</title>\n      <trackNum>{}</trackNum>\n      <duration>{}</duration>\n      \
             <meta rel=\"urn:shengbo:lang\">{}</meta>\n    </track>",
            xml_escape(&links.audio(item)),
            item.sha256,
            xml_escape(&title(b, item)),
            n + 1,
            (item.duration_s * 1000.0).round() as u64,
            item.lang.code()
        );
    }
    out.push_str("  </trackList>\n</playlist>\n");
    out
}

/// One item of a JSON playlist.
#[derive(Debug, Serialize)]
pub struct JsonItem<'a> {
    pub order: usize,
    pub message: &'a str,
    pub lang: &'a str,
    pub language_name: &'static str,
    pub url: String,
    pub sha256: &'a str,
    pub size_bytes: u64,
    pub duration_s: f64,
    pub gap_after_s: f64,
}

/// One broadcast in JSON: township, campaign, play window and items.
#[derive(Debug, Serialize)]
pub struct JsonBroadcast<'a> {
    pub township: &'a str,
    pub township_name: &'a str,
    pub county: &'a str,
    pub campaign: &'a str,
    pub window: Window,
    pub duration_s: f64,
    pub items: Vec<JsonItem<'a>>,
}

/// When the broadcast plays, in UTC and in the campaign's zone.
#[derive(Debug, Serialize)]
pub struct Window {
    pub start: String,
    pub end: String,
    pub timezone: String,
    pub local_start: String,
    pub local_end: String,
}

pub fn json_broadcast<'a>(b: &'a Broadcast, links: &Links) -> JsonBroadcast<'a> {
    let items: Vec<JsonItem> = b
        .items
        .iter()
        .enumerate()
        .map(|(n, item)| JsonItem {
            order: n + 1,
            message: &item.message,
            lang: item.lang.code(),
            language_name: item.lang.name_zh(),
            url: links.audio(item),
            sha256: &item.sha256,
            size_bytes: item.size_bytes,
            duration_s: item.duration_s,
            gap_after_s: item.gap_after_s,
        })
        .collect();
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&b.timezone)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    };
    JsonBroadcast {
        township: &b.township_code,
        township_name: &b.township_name,
        county: &b.county_code,
        campaign: &b.campaign,
        window: Window {
            start: rfc3339(b.start),
            end: rfc3339(b.end),
            timezone: b.timezone.name().to_string(),
            local_start: local(b.start),
            local_end: local(b.end),
        },
        duration_s: b.items.iter().map(|i| i.duration_s + i.gap_after_s).sum(),
        items,
    }
}
