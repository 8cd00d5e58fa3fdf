//! The audio stations pull is the audio that airs: the repository's own plan, loaded as
//! `shengbo serve` loads it, lists and serves the loudness-adjusted WAVs (decoded and measured
//! here), never the original recordings, and the clip URLs the push path writes into webhook
//! bodies resolve on the server to the same bytes.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use shengbo::catalog::Catalog;
use shengbo::lang::Lang;
use shengbo::loudness::{self, Loudness, LoudnessConfig};
use shengbo::plan::Broadcast;
use shengbo::server::{AppState, Scope, Snapshot, TokenStore, auth};

use super::socket::{client, start};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The repository's plan from yesterday through a week ahead, with adjusted clips in `cache`.
fn load(cache: &Path, now: DateTime<Utc>) -> Snapshot {
    let day = chrono::Duration::days(1);
    Snapshot::load(root(), None, cache, now - day, now + day * 8, now).unwrap()
}

/// The app over `snapshot` and a station token for the county of `b`.
fn app(snapshot: Snapshot, b: &Broadcast, tokens: &Path) -> (AppState, String) {
    let file = tokens.join("tokens.json");
    let scope = Scope::Station {
        county: b.county_code.clone(),
    };
    let station = auth::add(&file, "s", scope, Utc::now()).unwrap();
    let state = AppState::new(
        Arc::new(shengbo::directory::Directory::liangshan()),
        snapshot,
        TokenStore::open(&file).unwrap(),
    );
    (state, station)
}

/// The gain the loudness policy gives a clip, from the catalog's measurements.
fn policy_gain(catalog: &Catalog, message: &str, lang: Lang) -> loudness::GainPlan {
    let probe = |l: Lang| {
        let p = catalog.message(message)?.clips.get(&l)?.probe.as_ref()?;
        Some(Loudness {
            lufs: p.lufs,
            true_peak_dbtp: p.true_peak_dbtp,
        })
    };
    let cfg = LoudnessConfig::default();
    let own = probe(lang).expect("an airable clip is measured");
    match probe(lang.other()) {
        Some(other) => loudness::plan_pair(own, other, &cfg)[0],
        None => loudness::plan_gain(own.lufs, own.true_peak_dbtp, &cfg),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A copy of the repository's project whose recordings are steady tones (about −21 LUFS, peaks
/// near −18 dBFS, generated): every clip reaches the target without meeting the true-peak ceiling.
fn tone_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copy = |sub: &str| {
        for entry in walk(&root().join(sub)) {
            let to = dir.path().join(entry.strip_prefix(root()).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&entry, &to).unwrap();
        }
    };
    copy("schedules");
    copy("audio");
    // Distinct sounds per language (a pair of one sound is refused as the same audio).
    for (i, entry) in walk(&dir.path().join("audio")).iter().enumerate() {
        let hz = 330 + 55 * i;
        match entry.file_name().and_then(|n| n.to_str()) {
            Some("ii.mp3") => lavfi(entry, &format!("sine=frequency={hz}:duration=4")),
            Some("zh.mp3") => lavfi(
                entry,
                &format!("sine=frequency={}:duration=3.5,tremolo=f=3:d=0.6", hz * 2),
            ),
            _ => {}
        }
    }
    dir
}

/// Encode a generated sound (an ffmpeg `lavfi` graph) as a mono MP3 at `path`.
fn lavfi(path: &Path, graph: &str) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "lavfi", "-i", graph])
        .args(["-ac", "1", "-ar", "22050", "-b:a", "48k"])
        .arg(path)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg made {}", path.display());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Pull the first planned broadcast's JSON playlist from the project at `root`, fetch, decode
/// and measure every item; returns how many items were checked against the bare target.
async fn pull_decode_measure(root: &Path) -> (usize, usize) {
    let cache = tempfile::tempdir().unwrap();
    let now = Utc::now();
    let day = chrono::Duration::days(1);
    let snapshot = Snapshot::load(root, None, cache.path(), now - day, now + day * 8, now).unwrap();
    let catalog = shengbo::check::load(root, None, now).unwrap().catalog;
    let b = snapshot
        .broadcasts()
        .first()
        .expect("the demo plans")
        .clone();
    let tokens = tempfile::tempdir().unwrap();
    let (state, station) = app(snapshot, &b, tokens.path());
    let server = start(state).await;
    let c = client();
    let at = b.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let base = format!("http://{}/v1/townships/{}", server.addr, b.township_code);
    let json: serde_json::Value = c
        .get(format!("{base}/playlist.json?at={at}"))
        .bearer_auth(&station)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = json["items"].as_array().unwrap();
    assert_eq!(items.len(), b.items.len());
    let target = LoudnessConfig::default().target_lufs;
    let mut at_target = 0;
    for item in items {
        let message = item["message"].as_str().unwrap();
        let lang: Lang = serde_json::from_value(item["lang"].clone()).unwrap();
        let original = catalog.message(message).unwrap().clips[&lang].clone();
        let orig_sha = &original.probe.as_ref().unwrap().sha256;
        let sha = item["sha256"].as_str().unwrap();
        assert_ne!(sha, orig_sha, "not the original");
        let url = item["url"].as_str().unwrap();
        assert!(url.ends_with(&format!("/v1/audio/{sha}.wav")), "{url}");
        let resp = c.get(url).bearer_auth(&station).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{url}");
        assert_eq!(resp.headers()["content-type"], "audio/wav");
        let bytes = resp.bytes().await.unwrap().to_vec();
        assert_eq!(sha256_hex(&bytes), sha);
        assert_eq!(bytes.len() as u64, item["size_bytes"].as_u64().unwrap());
        let pcm = shengbo::audio::decode::decode_bytes(bytes, Some("wav")).unwrap();
        let secs = pcm.samples.len() as f64 / f64::from(pcm.channels) / f64::from(pcm.sample_rate);
        assert!((secs - item["duration_s"].as_f64().unwrap()).abs() < 0.01);
        let gain = policy_gain(&catalog, message, lang);
        let air = loudness::measure_for_air(&pcm).unwrap();
        assert!(
            (air.lufs - gain.expected_lufs).abs() <= 1.0,
            "{message} {lang:?}: {air:?}"
        );
        if !gain.limited && !gain.matched_to_pair {
            assert!((air.lufs - target).abs() <= 1.0, "{message}: {air:?}");
            at_target += 1;
        }
        // The original recording is not reachable, under any extension.
        for ext in ["mp3", "wav"] {
            let url = format!("http://{}/v1/audio/{orig_sha}.{ext}", server.addr);
            let resp = c.get(&url).bearer_auth(&station).send().await.unwrap();
            assert_eq!(resp.status(), 404, "{url}");
        }
    }
    server.shutdown().await;
    (items.len(), at_target)
}

/// Clips that can reach the target without meeting the ceiling air within 1 LU of it.
#[tokio::test]
async fn pulled_clips_decode_at_the_target_loudness() {
    let project = tone_project();
    let (items, at_target) = pull_decode_measure(project.path()).await;
    assert!(items > 0);
    assert_eq!(at_target, items, "every tone reaches the target");
}

/// The repository's own recordings (some capped by the ceiling) air at the loudness the
/// policy expects for each.
#[tokio::test]
async fn pulled_demo_clips_decode_at_the_policys_loudness() {
    let (items, _) = pull_decode_measure(root()).await;
    assert!(items > 0);
}

/// The README's ffmpeg command, as written there (between `<!-- ffmpeg-command -->` and the end
/// of its code block).
fn readme_ffmpeg_command() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = readme
        .split("<!-- ffmpeg-command -->\n```sh\n")
        .nth(1)
        .expect("the README shows the ffmpeg command");
    block.split("\n```").next().unwrap().to_string()
}

/// The sum of an ffconcat playlist's `duration` lines.
fn listed_seconds(ffconcat: &str) -> f64 {
    ffconcat
        .lines()
        .filter_map(|l| l.strip_prefix("duration "))
        .map(|d| d.parse::<f64>().unwrap())
        .sum()
}

/// The README's command, run as written against a running server (only its address, township
/// and `$TOKEN` are this server's), writes the whole programme: as long as the playlist says.
#[tokio::test]
async fn the_readmes_ffmpeg_command_plays_the_whole_programme() {
    let cache = tempfile::tempdir().unwrap();
    let snapshot = load(cache.path(), Utc::now());
    let b = snapshot
        .broadcasts()
        .iter()
        .find(|b| b.items.len() > 1)
        .expect("the demo plans pairs")
        .clone();
    let tokens = tempfile::tempdir().unwrap();
    let (state, station) = app(snapshot, &b, tokens.path());
    let server = start(state).await;
    let command = readme_ffmpeg_command()
        .replace("127.0.0.1:8470", &server.addr.to_string())
        .replace("513431100", &b.township_code);
    let url = format!(
        "http://{}/v1/townships/{}/playlist.ffconcat?token={station}",
        server.addr, b.township_code
    );
    let pull = || async {
        client()
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let first = pull().await;
    let files = first.lines().filter(|l| l.starts_with("file ")).count();
    let before = listed_seconds(&first);
    let out = tokio::process::Command::new("sh")
        .args(["-c", &command])
        .current_dir(tokens.path())
        .env("TOKEN", &station)
        .output()
        .await
        .expect("sh runs");
    let after = listed_seconds(&pull().await);
    server.shutdown().await;
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{command}\n{log}");
    let probe = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(tokens.path().join("programme.wav"))
        .output()
        .unwrap();
    let seconds: f64 = String::from_utf8_lossy(&probe.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(files >= 2, "a pair or more: {first}");
    assert!(
        (seconds - before).abs() < 0.1 || (seconds - after).abs() < 0.1,
        "wrote {seconds} s of a {before} s programme\n{log}"
    );
}

#[tokio::test]
async fn webhook_clip_urls_from_the_push_path_resolve_to_the_same_bytes() {
    let now = Utc::now();
    let server_cache = tempfile::tempdir().unwrap();
    let snapshot = load(server_cache.path(), now);
    // The push path, as `run` and `serve` load it, with its own cache.
    let inputs = shengbo::check::load(root(), None, now).unwrap();
    let catalog = Catalog::load(root(), &Default::default(), None).unwrap();
    let day = chrono::Duration::days(1);
    let planned = shengbo::plan::plan(
        &inputs.campaigns,
        &inputs.directory,
        &catalog,
        now - day,
        now + day * 8,
    );
    let b = planned.broadcasts.first().expect("the demo plans").clone();
    let push_cache = tempfile::tempdir().unwrap();
    let mut resolver =
        shengbo::push::MediaResolver::new(root(), &catalog, push_cache.path().to_path_buf());
    let media: Vec<_> = b
        .items
        .iter()
        .map(|i| resolver.resolve(i).unwrap())
        .collect();
    let content = shengbo::transport::Content {
        campaign: b.campaign.clone(),
        lang: Lang::Ii,
        title: "t".into(),
        description: None,
        townships: vec![b.township_code.clone()],
        window_start: b.start,
        window_end: b.end,
        send_time: now,
        media: media.clone(),
    };
    let tokens = tempfile::tempdir().unwrap();
    let (state, _station) = app(snapshot, &b, tokens.path());
    let signer = shengbo::server::signed::UrlSigner::open(tokens.path()).unwrap();
    let server = start(state.with_url_signer(signer.clone())).await;
    let ids = shengbo::transport::ebd::Ids {
        ebd_id: "1".into(),
        ebm_id: "2".into(),
        related_ebm_id: None,
    };
    let clips = shengbo::transport::webhook::ClipLinks {
        base: format!("http://{}/v1/audio", server.addr),
        signer: Some(signer),
    };
    let body = shengbo::transport::webhook::body(&ids, &content, &clips);
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let c = client();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), media.len());
    for (item, m) in items.iter().zip(&media) {
        // A gateway fetches with the link alone: no token.
        let url = item["url"].as_str().unwrap();
        let resp = c.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{item}");
        let bytes = resp.bytes().await.unwrap();
        assert_eq!(sha256_hex(&bytes), m.sha256);
        assert_eq!(bytes.as_ref(), std::fs::read(&m.path).unwrap().as_slice());
        // The link opens this clip only, until its expiry only.
        let (_, query) = url.split_once('?').unwrap();
        let other = media.iter().find(|o| o.sha256 != m.sha256).unwrap();
        let elsewhere = format!("{}/{}.wav?{query}", clips.base, other.sha256);
        assert_eq!(c.get(&elsewhere).send().await.unwrap().status(), 403);
        let exp: i64 = query[4..query.find('&').unwrap()].parse().unwrap();
        assert_eq!(
            exp,
            (content.window_end + chrono::Duration::days(1)).timestamp()
        );
        let stretched = url.replace(&format!("exp={exp}"), &format!("exp={}", exp + 86400));
        assert_eq!(c.get(&stretched).send().await.unwrap().status(), 403);
        let bare = url.split('?').next().unwrap();
        assert_eq!(c.get(bare).send().await.unwrap().status(), 401);
    }
    server.shutdown().await;
}
