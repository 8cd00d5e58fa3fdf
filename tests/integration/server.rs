//! Integration tests of the HTTP app: router tests with `oneshot` (no socket) over real audio
//! files, real token files and a real SQLite ledger; then a real socket with reqwest, ffmpeg as
//! a player and headless chromium on the coverage page.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use shengbo::directory::Directory;
use shengbo::lang::Lang;
use shengbo::plan::{Broadcast, PlaylistItem};
use shengbo::server::auth::{self, Scope};
use shengbo::server::{AppState, AudioFile, Snapshot, TokenStore, app};
use tower::ServiceExt;

mod airing;
mod audio;
mod browser;
mod cache;
mod conditional;
mod coverage;
mod edge;
mod leaks;
mod params;
mod pdf;
mod pulls;
pub(crate) mod socket;

/// A project folder with generated recordings, planned broadcasts, tokens and (optionally) a
/// ledger, and the app state over them.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    /// 昭觉县's first township: two broadcasts on 2030-01-15.
    pub township: String,
    /// 西昌市's first township: one broadcast with a recording 昭觉 never airs.
    pub other_township: String,
    /// Two villages of `township`: the evening broadcast is for the first only.
    pub villages: [String; 2],
    /// Station token of 昭觉县 (513431).
    pub station: String,
    /// Station token of 西昌市 (513401).
    pub other_station: String,
    pub coordinator: String,
    pub audio: Vec<AudioFile>,
}

/// Generate a short MP3 tone with ffmpeg.
pub fn tone(path: &Path, hz: u32, seconds: f64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let status = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!("sine=frequency={hz}:duration={seconds}"))
        .args(["-ac", "1", "-ar", "22050", "-b:a", "48k"])
        .arg(path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg made {}", path.display());
}

fn audio_file(root: &Path, rel: &str) -> AudioFile {
    let path = root.join(rel);
    let bytes = std::fs::read(&path).unwrap();
    AudioFile {
        sha256: hex::encode(Sha256::digest(&bytes)),
        ext: "mp3".into(),
        content_type: "audio/mpeg",
        path,
        size: bytes.len() as u64,
    }
}

fn item(message: &str, lang: Lang, rel: &str, a: &AudioFile, seconds: f64) -> PlaylistItem {
    PlaylistItem {
        message: message.into(),
        lang,
        file: rel.into(),
        sha256: a.sha256.clone(),
        size_bytes: a.size,
        duration_s: seconds,
        gap_after_s: 1.0,
    }
}

/// 2030-01-15 at `h:m` Beijing time.
pub fn beijing(h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2030, 1, 15, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn broadcast(
    dir: &Directory,
    code: &str,
    start: DateTime<Utc>,
    items: Vec<PlaylistItem>,
) -> Broadcast {
    let t = dir.township(code).unwrap();
    let total: f64 = items.iter().map(|i| i.duration_s + i.gap_after_s).sum();
    Broadcast {
        reason: None,
        campaign: "winter".into(),
        priority: 0,
        township_code: t.code.clone(),
        township_name: t.name.clone(),
        county_code: t.county_code.clone(),
        villages: Vec::new(),
        start,
        end: start + chrono::Duration::milliseconds((total * 1000.0) as i64),
        timezone: chrono_tz::Asia::Shanghai,
        items,
    }
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let files = [
            ("audio/calls/ii.mp3", 440),
            ("audio/calls/zh.mp3", 660),
            ("audio/loans/ii.mp3", 550),
        ];
        for (rel, hz) in files {
            tone(&root.join(rel), hz, 1.5);
        }
        let audio: Vec<AudioFile> = files.iter().map(|(rel, _)| audio_file(root, rel)).collect();
        let directory = Directory::liangshan();
        let township = directory
            .townships_of("513431")
            .next()
            .unwrap()
            .code
            .clone();
        let other = directory
            .townships_of("513401")
            .next()
            .unwrap()
            .code
            .clone();
        let pair = || {
            vec![
                item("calls", Lang::Ii, files[0].0, &audio[0], 1.5),
                item("calls", Lang::Zh, files[1].0, &audio[1], 1.5),
            ]
        };
        let villages: [String; 2] = {
            let t = directory.township(&township).unwrap();
            [t.villages[0].code.clone(), t.villages[1].code.clone()]
        };
        let mut evening = broadcast(&directory, &township, beijing(19, 0), pair());
        evening.villages = vec![villages[0].clone()];
        let broadcasts = vec![
            broadcast(&directory, &township, beijing(7, 30), pair()),
            evening,
            broadcast(
                &directory,
                &other,
                beijing(8, 0),
                vec![item("loans", Lang::Ii, files[2].0, &audio[2], 1.5)],
            ),
        ];
        let tokens = root.join(".shengbo/tokens.json");
        let now = Utc::now();
        let station = auth::add(
            &tokens,
            "zhaojue",
            Scope::Station {
                county: "513431".into(),
            },
            now,
        )
        .unwrap();
        let other_station = auth::add(
            &tokens,
            "xichang",
            Scope::Station {
                county: "513401".into(),
            },
            now,
        )
        .unwrap();
        let coordinator = auth::add(&tokens, "prefecture", Scope::Coordinator, now).unwrap();
        let snapshot = Snapshot::new(
            broadcasts,
            audio.clone(),
            Utc.with_ymd_and_hms(2030, 1, 14, 0, 0, 0).unwrap(),
        );
        let state = AppState::new(
            Arc::new(directory),
            snapshot,
            TokenStore::open(&tokens)
                .unwrap()
                .with_recheck(Duration::ZERO),
        );
        Fixture {
            dir,
            state,
            township,
            other_township: other,
            villages,
            station,
            other_station,
            coordinator,
            audio,
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Got {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Got {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// Send one request through the router (no socket), its messages in English unless it names
/// a language itself (`Accept-Language`): tests that read a message read it in English.
pub async fn send(state: &AppState, mut req: Request<Body>) -> Got {
    if !req.headers().contains_key("accept-language") {
        req.headers_mut()
            .insert("accept-language", "en".parse().unwrap());
    }
    send_as_is(state, req).await
}

/// Send one request through the router exactly as it is.
pub async fn send_as_is(state: &AppState, req: Request<Body>) -> Got {
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Got {
        status,
        headers,
        body,
    }
}

/// GET `uri` with a bearer token (if any) and extra headers.
pub async fn get(state: &AppState, uri: &str, token: Option<&str>, extra: &[(&str, &str)]) -> Got {
    let mut req = Request::get(uri).header("host", "stations.example");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    send(state, req.body(Body::empty()).unwrap()).await
}
