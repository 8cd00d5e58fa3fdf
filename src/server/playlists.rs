//! Playlist pulls for county stations: one township's (or one village's) current or next
//! broadcast (or the one at `?at=`), its whole day, or every township of a county — each answer with a strong ETag from
//! its bytes, `If-None-Match` → 304, `Cache-Control` and `Last-Modified`.
//!
//! Rendering goes through [`crate::playlist`] with the server's audio URLs
//! (`{base}/v1/audio/{sha256}.{ext}`; `.wav`, the adjusted clips, from a loaded snapshot). The
//! M3U8 is also a valid HLS VOD playlist (`#EXT-X-TARGETDURATION`, `#EXT-X-ENDLIST`), and a whole
//! day is several broadcasts in one file. For ffmpeg there is `playlist.ffconcat` / `day.ffconcat`:
//! its HLS reader joins WAV items into one byte stream and stops after the first clip's `data`
//! chunk (it skips the next file's `RIFF` chunk whole), while its concat demuxer opens each item.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::auth::Principal;
use super::error::{self, AppError};
use super::rendered::{Key, Rendered, Selection};
use super::state::{AppState, Snapshot};
use crate::directory::{County, Township, Village};
use crate::plan::{Broadcast, PlaylistItem};
use crate::playlist::{self, PlaylistJson};

/// The zone in which `?date=` days are counted.
const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

#[derive(Debug, Deserialize)]
pub struct PullQuery {
    at: Option<String>,
    date: Option<String>,
    token: Option<String>,
}

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

/// Broadcasts in order as an ffmpeg concat list (`ffconcat version 1.0`): each item its own
/// `file` with its `duration`. ffmpeg's concat demuxer opens every item afresh, so every clip
/// plays; its HLS reader runs WAV items together into one stream and stops after the first.
pub fn ffconcat(broadcasts: &[&Broadcast], links: &Links) -> String {
    let mut out = String::from("ffconcat version 1.0\n");
    for b in broadcasts {
        let _ = writeln!(out, "# {} {}", b.township_code, b.start.to_rfc3339());
        for item in &b.items {
            let url = playlist::absolute_url(&links.base, &links.audio(item));
            let _ = writeln!(out, "file '{}'", url.replace('\'', "'\\''"));
            let _ = writeln!(out, "duration {}", item.duration_s);
        }
    }
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

/// Absolute audio links from the configured public base URL — never from the request's `Host`,
/// which a client may forge.
fn links(state: &AppState, headers: &HeaderMap, query: &PullQuery) -> Links {
    let base = state.base_url().to_string();
    let by_header = headers.contains_key(header::AUTHORIZATION);
    let suffix = match (&query.token, by_header) {
        (Some(t), false) => format!("?token={t}"),
        _ => String::new(),
    };
    Links { base, suffix }
}

fn parse_at(at: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
    match at {
        None => Ok(now),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                AppError::BadRequest(crate::t!("http-bad-at", at = s, reason = e.to_string()))
            }),
    }
}

fn parse_date(date: Option<&str>, now: DateTime<Utc>) -> Result<NaiveDate, AppError> {
    match date {
        None => Ok(now.with_timezone(&ZONE).date_naive()),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| AppError::BadRequest(crate::t!("http-bad-date", date = s))),
    }
}

fn local_day(b: &Broadcast) -> NaiveDate {
    b.start.with_timezone(&ZONE).date_naive()
}

/// Whose playlist a pull asks for: a township's, or one village's — the broadcasts of its
/// township that it hears (those for the whole township and those naming the village).
#[derive(Clone, Copy)]
struct Area<'d> {
    township: &'d Township,
    village: Option<&'d Village>,
}

impl Area<'_> {
    fn code(&self) -> &str {
        self.village.map_or(&self.township.code, |v| &v.code)
    }

    fn hears(&self, b: &Broadcast) -> bool {
        match self.village {
            None => true,
            Some(v) => b.villages.is_empty() || b.villages.contains(&v.code),
        }
    }

    fn describe(&self) -> String {
        match self.village {
            None => crate::t!(
                "http-area-township",
                code = self.township.code.as_str(),
                name = self.township.name.as_str()
            ),
            Some(v) => crate::t!(
                "http-area-village",
                code = v.code.as_str(),
                name = v.name.as_str(),
                township = self.township.name.as_str()
            ),
        }
    }
}

/// `GET /v1/townships/{code}/{playlist.m3u8|playlist.xspf|playlist.json|day.json|day.m3u8}`
pub async fn township(
    State(state): State<AppState>,
    Path((code, file)): Path<(String, String)>,
    Query(query): Query<PullQuery>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let code = error::township_code(&code)?;
    let township = state.directory().township(code).map_err(AppError::lookup)?;
    let area = Area {
        township,
        village: None,
    };
    pull(&state, area, file, &query, &principal, &headers)
}

/// `GET /v1/villages/{code}/{…}`: the same files as a township's, for one village.
pub async fn village(
    State(state): State<AppState>,
    Path((code, file)): Path<(String, String)>,
    Query(query): Query<PullQuery>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let code = error::village_code(&code)?;
    let found = state
        .directory()
        .village_by_code(code)
        .ok_or_else(|| AppError::NotFound {
            message: crate::t!("http-unknown-village", code = code),
            suggestion: None,
        })?;
    let area = Area {
        township: found.township,
        village: Some(found.village),
    };
    pull(&state, area, file, &query, &principal, &headers)
}

fn pull(
    state: &AppState,
    area: Area<'_>,
    file: String,
    query: &PullQuery,
    principal: &Principal,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    principal.may_read_county(&area.township.county_code)?;
    let snapshot = state.snapshot();
    let selection = match file.as_str() {
        "playlist.m3u8" | "playlist.xspf" | "playlist.json" | "playlist.ffconcat" => {
            let at = parse_at(query.at.as_deref(), state.now())?;
            let (i, _) = snapshot
                .next_where(&area.township.code, at, |b| area.hears(b))
                .ok_or_else(|| AppError::NotFound {
                    message: crate::t!(
                        "http-no-broadcast",
                        area = area.describe(),
                        at = at.to_string()
                    ),
                    suggestion: None,
                })?;
            Selection::Broadcast(i)
        }
        "day.json" | "day.m3u8" | "day.ffconcat" => {
            Selection::Day(parse_date(query.date.as_deref(), state.now())?)
        }
        other => {
            return Err(unknown_file(
                other,
                &[
                    "playlist.m3u8",
                    "playlist.xspf",
                    "playlist.json",
                    "playlist.ffconcat",
                    "day.json",
                    "day.m3u8",
                    "day.ffconcat",
                ],
            ));
        }
    };
    let links = links(state, headers, query);
    let key = Key {
        code: area.code().to_string(),
        file,
        selection,
        base: links.base.clone(),
        suffix: links.suffix.clone(),
    };
    let answer = snapshot
        .rendered()
        .get_or_render(key, |key| render_area(&snapshot, area, key, &links))?;
    Ok(answer.respond(headers))
}

/// Render one township or village answer (not cached yet).
fn render_area(
    snapshot: &Snapshot,
    area: Area<'_>,
    key: &Key,
    links: &Links,
) -> Result<Rendered, AppError> {
    let modified = snapshot.built_at;
    let date = match key.selection {
        Selection::Broadcast(i) => {
            let b = &snapshot.broadcasts()[i];
            return Ok(match key.file.as_str() {
                "playlist.m3u8" => Rendered::new(m3u8(&[b], links), M3U8, modified),
                "playlist.xspf" => Rendered::new(xspf(b, links), XSPF, modified),
                "playlist.ffconcat" => Rendered::new(ffconcat(&[b], links), FFCONCAT, modified),
                _ => Rendered::new(to_json(&json_broadcast(b, links))?, JSON, modified),
            });
        }
        Selection::Day(date) => date,
    };
    let township = area.township;
    let day: Vec<&Broadcast> = snapshot
        .broadcasts_of(&township.code)
        .filter(|b| local_day(b) == date && area.hears(b))
        .collect();
    if key.file == "day.m3u8" {
        return Ok(Rendered::new(m3u8(&day, links), M3U8, modified));
    }
    if key.file == "day.ffconcat" {
        return Ok(Rendered::new(ffconcat(&day, links), FFCONCAT, modified));
    }
    let mut body = serde_json::json!({
        "township": township.code,
        "township_name": township.name,
        "date": date,
        "timezone": ZONE.name(),
        "broadcasts": day.iter().map(|b| json_broadcast(b, links)).collect::<Vec<_>>(),
    });
    if let Some(v) = area.village {
        body["village"] = v.code.clone().into();
        body["village_name"] = v.name.clone().into();
    }
    Ok(Rendered::new(to_json(&body)?, JSON, modified))
}

/// `GET /v1/counties/{code}/playlists.json?date=`
pub async fn county(
    State(state): State<AppState>,
    Path((code, file)): Path<(String, String)>,
    Query(query): Query<PullQuery>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let code = error::county_code(&code)?;
    let county = state.directory().county(code).map_err(AppError::lookup)?;
    principal.may_read_county(&county.code)?;
    if file != "playlists.json" {
        return Err(unknown_file(&file, &["playlists.json"]));
    }
    let date = parse_date(query.date.as_deref(), state.now())?;
    let snapshot = state.snapshot();
    let links = links(&state, &headers, &query);
    let key = Key {
        code: county.code.clone(),
        file,
        selection: Selection::Day(date),
        base: links.base.clone(),
        suffix: links.suffix.clone(),
    };
    let answer = snapshot.rendered().get_or_render(key, |_| {
        let body = county_day(&state, &snapshot, county, date, &links);
        Ok::<_, AppError>(Rendered::new(to_json(&body)?, JSON, snapshot.built_at))
    })?;
    Ok(answer.respond(&headers))
}

/// A county's townships and their broadcasts on one local day.
fn county_day(
    state: &AppState,
    snapshot: &Snapshot,
    county: &County,
    date: NaiveDate,
    links: &Links,
) -> serde_json::Value {
    let townships: Vec<serde_json::Value> = state
        .directory()
        .townships_of(&county.code)
        .map(|t| {
            let day: Vec<_> = snapshot
                .broadcasts_of(&t.code)
                .filter(|b| local_day(b) == date)
                .map(|b| json_broadcast(b, links))
                .collect();
            serde_json::json!({"township": t.code, "township_name": t.name, "broadcasts": day})
        })
        .collect();
    serde_json::json!({
        "county": county.code,
        "county_name": county.name,
        "date": date,
        "timezone": ZONE.name(),
        "townships": townships,
    })
}

const M3U8: &str = "application/vnd.apple.mpegurl; charset=utf-8";
const XSPF: &str = "application/xspf+xml; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";
const FFCONCAT: &str = "text/plain; charset=utf-8";

fn to_json(v: &impl serde::Serialize) -> Result<String, AppError> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(AppError::internal)
}

fn unknown_file(file: &str, known: &[&str]) -> AppError {
    let suggestion = crate::diag::did_you_mean(file, known.iter().copied()).map(str::to_string);
    AppError::NotFound {
        message: crate::t!(
            "http-unknown-playlist",
            file = file.escape_debug().to_string(),
            known = known.join(", ")
        ),
        suggestion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_checked() {
        assert!(parse_at(Some("2026-11-27T20:00:00+08:00"), Utc::now()).is_ok());
        assert_eq!(
            parse_at(Some("tomorrow"), Utc::now()).unwrap_err().status(),
            axum::http::StatusCode::BAD_REQUEST
        );
        assert!(parse_date(Some("2026-11-27"), Utc::now()).is_ok());
        assert!(parse_date(Some("27/11/2026"), Utc::now()).is_err());
        assert_eq!(
            super::super::rendered::http_date(DateTime::UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }
}
