//! Playlists as stations receive them, built on [`crate::playlist`]'s renderers with the
//! server's audio URLs (`{base}/v1/audio/{sha256}.{ext}`). The M3U8 is also a valid HLS VOD
//! playlist (`#EXT-X-TARGETDURATION`, `#EXT-X-ENDLIST`) so players such as ffmpeg play every
//! item in order, and a whole day is several broadcasts in one file.

use std::fmt::Write as _;

use crate::plan::{Broadcast, PlaylistItem};
use crate::playlist::{self, PlaylistJson};

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

/// Broadcasts in order as one extended M3U / HLS VOD playlist.
pub fn m3u8(broadcasts: &[&Broadcast], links: &Links) -> String {
    let target = broadcasts
        .iter()
        .flat_map(|b| &b.items)
        .map(|i| i.duration_s.ceil() as u64)
        .max()
        .unwrap_or(1)
        .max(1);
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n");
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{target}");
    for b in broadcasts {
        let one = playlist::m3u8(b, &links.base, |item| links.audio(item));
        out.push_str(one.strip_prefix("#EXTM3U\n").unwrap_or(&one));
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

/// One broadcast as XSPF version 1.
pub fn xspf(b: &Broadcast, links: &Links) -> String {
    playlist::xspf(b, &links.base, |item| links.audio(item))
}

/// One broadcast as JSON: the play window and every item's URL, sha256, size, duration,
/// language and order.
pub fn json_broadcast(b: &Broadcast, links: &Links) -> PlaylistJson {
    playlist::json(b, &links.base, |item| links.audio(item))
}
