//! Integration tests: settings — `schedules/settings.toml` reaching `check`, `plan` and
//! `catalog`; `render --township --at` on the repo's own demo against the planner; `catalog
//! --json` gains on the repo's audio; `render --message` refusing a gate-rejected clip.

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{Duration, Utc};
use serde_json::Value;
use shengbo::plan::Broadcast;

use crate::util::{run_in, shengbo, stderr, stdout};

const RATE: u32 = 16_000;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `shengbo` on the repo's own project, state kept in `data`.
fn in_repo(data: &Path, args: &[&str]) -> Output {
    shengbo()
        .args(args)
        .env("SHENGBO_ROOT", repo())
        .env("SHENGBO_DATA_DIR", data)
        .env_remove("RUST_LOG")
        .output()
        .expect("run shengbo")
}

/// A mono 16-bit WAV of syllable-like tone bursts every `period` s, `secs` long, `amp` loud
/// (0 for silence).
fn write_wav(path: &Path, secs: f64, amp: f64, period: f64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(secs * f64::from(RATE)) as usize {
        let t = i as f64 / f64::from(RATE);
        let on = t % period < period * 0.8;
        let freq = 0.06 / period * 1000.0;
        let v = if on {
            amp * (std::f64::consts::TAU * freq * t).sin()
        } else {
            0.0
        };
        w.write_sample((v * 32767.0).round() as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// A project with a `schedules/` folder holding `settings` and one message `scam` of two
/// 3-second clips.
fn project(settings: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
    std::fs::write(dir.path().join("schedules/settings.toml"), settings).unwrap();
    write_wav(&dir.path().join("audio/scam/ii.wav"), 3.0, 0.3, 0.25);
    write_wav(&dir.path().join("audio/scam/zh.wav"), 3.0, 0.4, 0.4);
    let meta = "title_zh = \"测试\"\ntopic = \"test\"\n[text]\nii = \"ꆈꌠ\"\nzh = \"测试\"\n";
    std::fs::write(dir.path().join("audio/scam/message.toml"), meta).unwrap();
    dir
}

#[test]
fn population_overrides_show_in_check_and_plan_and_bad_ones_point_at_their_line() {
    let dir = project(
        "[[population]]\ntownship = \"513401001\"\npeople = 4321\nsource = \"街道办 2025\"\n\n\
         [[population]]\ntownship = \"西昌市/北城街到\"\npeople = 10\nsource = \"x\"\n",
    );
    let out = run_in(dir.path(), &["check"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("population: 北城街道 `513401001` 4321 people (`街道办 2025`)"),
        "{text}"
    );
    assert!(text.contains("schedules/settings.toml:7:12"), "{text}");
    assert!(text.contains("北城街到"), "{text}");
    let out = run_in(dir.path(), &["plan", "--township", "513401001"]);
    let text = stdout(&out);
    assert!(
        text.lines().next().unwrap().contains("4321 people"),
        "{text}"
    );
}

#[test]
fn settings_gate_is_the_catalog_default_and_gate_file_overrides_it() {
    let dir = project("[gate]\nmax_duration_s = 2.5\n");
    let out = run_in(dir.path(), &["catalog", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(rows.iter().all(|r| r["status"] == "rejected"), "{rows:#?}");
    assert!(
        rows[0]["reason"]
            .as_str()
            .unwrap()
            .contains("the maximum is 2.5 s")
    );
    let gate = dir.path().join("gate.toml");
    std::fs::write(&gate, "max_duration_s = 60.0\n").unwrap();
    let out = run_in(
        dir.path(),
        &["catalog", "--json", "--gate", gate.to_str().unwrap()],
    );
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(rows.iter().all(|r| r["status"] != "rejected"), "{rows:#?}");
}

#[test]
fn settings_errors_are_reported_by_check_with_a_suggestion() {
    let dir = project("[loudness]\ntarget_lufz = -18.0\n");
    let out = run_in(dir.path(), &["check"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("schedules/settings.toml:2:1"), "{text}");
    assert!(text.contains("did you mean `target_lufs`?"), "{text}");
}

#[test]
fn render_message_refuses_a_gate_rejected_clip_with_the_reason() {
    let dir = project("");
    write_wav(&dir.path().join("audio/scam/ii.wav"), 3.0, 0.0, 0.25);
    let out = run_in(dir.path(), &["render", "--message", "scam", "-o", "x.wav"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("audio/scam/ii.wav` is rejected by the audio gate"),
        "{err}"
    );
    assert!(err.contains("mostly silent"), "{err}");
    assert!(!dir.path().join("x.wav").exists());
}

#[test]
fn catalog_json_gives_pair_matched_gains_for_the_repo_audio() {
    let data = tempfile::tempdir().unwrap();
    let out = in_repo(data.path(), &["catalog", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(rows.len() >= 8, "{rows:#?}");
    let num = |r: &Value, k: &str| r[k].as_f64().unwrap_or_else(|| panic!("no `{k}` in {r}"));
    let mut limited = 0;
    for r in &rows {
        let (lufs, gain, after) = (num(r, "lufs"), num(r, "gain_db"), num(r, "lufs_after"));
        let reduction = num(r, "limiter_reduction_db");
        if reduction > 0.0 {
            // the limiter took peaks: the gain was corrected until the clip measured on target
            limited += 1;
            assert!((after + 16.0).abs() <= 0.1, "{r}");
        } else {
            assert!((lufs + gain - after).abs() < 1e-9, "{r}");
        }
        assert!(num(r, "true_peak_after_dbtp") <= -1.0 + 1e-9, "{r}");
        assert!((num(r, "gain_shortfall_lu") - (-16.0 - after).max(0.0)).abs() < 1e-9);
        assert!(
            r["measured_on"].as_str().unwrap().starts_with("mono"),
            "{r}"
        );
    }
    assert!(
        limited >= 1,
        "the Mandarin stand-ins need the limiter: {rows:#?}"
    );
    for pair in rows.chunks(2) {
        assert_eq!(pair[0]["message"], pair[1]["message"]);
        let (a, b) = (num(&pair[0], "lufs_after"), num(&pair[1], "lufs_after"));
        assert!((a - b).abs() <= 1.0, "{} {a} vs {b}", pair[0]["message"]);
    }
}

/// The first broadcast the planner gives the repo's demo tomorrow.
fn first_demo_broadcast(data: &Path) -> Broadcast {
    let now = Utc::now();
    let cache = data.join("probe-cache");
    let inputs = shengbo::check::load(&repo(), Some(&cache), now).unwrap();
    let from = now + Duration::days(1);
    let planned = shengbo::plan::plan(
        &inputs.campaigns,
        &inputs.directory,
        &inputs.catalog,
        from,
        from + Duration::days(2),
    );
    planned
        .broadcasts
        .into_iter()
        .next()
        .expect("the demo airs somewhere")
}

/// Frames at `to` for `frames` at `from`: nearest, halves up (independent of the library).
fn expect_frames(frames: u64, from: u32, to: u32) -> u64 {
    (frames as f64 * f64::from(to) / f64::from(from) + 0.5).floor() as u64
}

#[test]
fn render_township_at_a_planned_slot_is_the_broadcast_to_the_frame() {
    let data = tempfile::tempdir().unwrap();
    let b = first_demo_broadcast(data.path());
    let wav = data.path().join("out.wav");
    let at = b.local_start().format("%Y-%m-%d %H:%M").to_string();
    let args = [
        "render",
        "--township",
        &b.township_code,
        "--at",
        &at,
        "-o",
        wav.to_str().unwrap(),
    ];
    let out = in_repo(data.path(), &args);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.starts_with("broadcast "), "{text}");
    let mut expected = 0;
    for item in &b.items {
        let pcm = shengbo::audio::decode::decode_file(&repo().join(&item.file)).unwrap();
        expected += expect_frames(pcm.frames() as u64, pcm.sample_rate, 48_000);
        expected += (item.gap_after_s * 48_000.0 + 0.5).floor() as u64;
    }
    let reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!(reader.spec().sample_rate, 48_000);
    assert_eq!(u64::from(reader.duration()), expected);
    let planned_s = b.duration_s();
    assert!((expected as f64 / 48_000.0 - planned_s).abs() < 0.001 * b.items.len() as f64);
    // The timeline lists the clips in the planned order.
    let timeline: Vec<(String, String)> = text
        .lines()
        .filter(|l| l.contains(" dB ") && l.contains("LUFS"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[2].to_string(),
                f.iter()
                    .find(|w| w.starts_with("audio/"))
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let planned: Vec<(String, String)> = b
        .items
        .iter()
        .map(|i| (i.lang.code().to_string(), i.file.clone()))
        .collect();
    assert_eq!(timeline, planned, "{text}");
}

#[test]
fn render_township_between_slots_takes_the_next_and_says_so() {
    let data = tempfile::tempdir().unwrap();
    let b = first_demo_broadcast(data.path());
    let before = (b.start - Duration::seconds(1)).to_rfc3339();
    let wav = data.path().join("next.wav");
    let args = [
        "render",
        "--township",
        &b.township_name,
        "--at",
        &before,
        "-o",
        wav.to_str().unwrap(),
    ];
    let out = in_repo(data.path(), &args);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let start = b.local_start().format("%Y-%m-%d %H:%M:%S").to_string();
    assert!(text.starts_with("no broadcast starts at"), "{text}");
    assert!(text.lines().next().unwrap().contains(&start), "{text}");
    let out = in_repo(
        data.path(),
        &[
            "render",
            "--township",
            &b.township_code,
            "--at",
            "12月1日",
            "-o",
            "x.wav",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not a time"), "{}", stderr(&out));
}

/// The copy of the repo's schedules and audio, with `settings` as its `settings.toml`.
fn repo_copy(settings: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["schedules", "audio"] {
        let status = std::process::Command::new("cp")
            .args(["-r"])
            .arg(repo().join(sub))
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    std::fs::write(dir.path().join("schedules/settings.toml"), settings).unwrap();
    dir
}

/// What the push path sends for one clip, under the project's own settings.
fn pushed_loudness(root: &Path, message: &str, lang: shengbo::lang::Lang) -> (f64, f64) {
    let data = shengbo::datadir::DataDir::resolve(root, None);
    let (project, diags) = shengbo::push::Project::load(root, &data, Utc::now()).unwrap();
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    let item = crate::util::playlist_item(&project.catalog, message, lang);
    let mut resolver =
        shengbo::push::MediaResolver::new(root, &project.catalog, project.adjusted_cache.clone())
            .with_loudness(project.loudness);
    let media = resolver.resolve(&item).unwrap();
    let pcm = shengbo::audio::decode::decode_file(&media.path).unwrap();
    let measured = shengbo::loudness::measure_for_air(&pcm).unwrap();
    let gains = shengbo::loudness::message_gains(
        root,
        project.catalog.message(message).unwrap(),
        &project.loudness,
    );
    (measured.lufs, gains[&lang].plan.expected_lufs)
}

#[test]
fn the_loudness_policy_in_settings_reaches_the_pushed_audio() {
    use shengbo::lang::Lang;
    let quiet = repo_copy("[loudness]\ntarget_lufs = -23.0\n");
    let default = repo_copy("");
    // The Yi stand-in of this message is far below the ceiling, so it reaches any target.
    let (quiet_lufs, quiet_expected) =
        pushed_loudness(quiet.path(), "police-impersonation", Lang::Ii);
    let (loud_lufs, loud_expected) =
        pushed_loudness(default.path(), "police-impersonation", Lang::Ii);
    assert!(
        (quiet_lufs - quiet_expected).abs() < 0.5,
        "{quiet_lufs} vs {quiet_expected}"
    );
    assert!(
        (loud_lufs - loud_expected).abs() < 0.5,
        "{loud_lufs} vs {loud_expected}"
    );
    assert!(loud_lufs - quiet_lufs > 3.0, "{loud_lufs} vs {quiet_lufs}");
}

#[test]
fn silent_and_nearly_silent_clips_are_rejected_and_get_no_gain() {
    // nearly silent: bursts at −50 dBFS, every block above a lowered `silence_dbfs`, so only
    // the loudness floor (`min_lufs`) stops it; silent: digital zero
    let quiet = project("[gate]\nsilence_dbfs = -70.0\n");
    write_wav(&quiet.path().join("audio/scam/ii.wav"), 3.0, 0.003, 0.25);
    let silent = project("");
    write_wav(&silent.path().join("audio/scam/ii.wav"), 3.0, 0.0, 0.25);
    for (dir, reason) in [
        (&quiet, "nearly silent: -5"),
        (&silent, "silent: it has no measurable loudness"),
    ] {
        let out = run_in(dir.path(), &["catalog", "--json"]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
        let ii = rows.iter().find(|r| r["lang"] == "ii").unwrap();
        assert_eq!(ii["status"], "rejected", "{ii}");
        assert!(ii["reason"].as_str().unwrap().contains(reason), "{ii}");
        assert!(
            ii["gain_db"].is_null() && ii["lufs_after"].is_null(),
            "{ii}"
        );
        assert!(ii["limiter_reduction_db"].is_null(), "{ii}");
        // the other language is still planned, on its own
        let zh = rows.iter().find(|r| r["lang"] == "zh").unwrap();
        assert!(zh["gain_db"].as_f64().unwrap().abs() < 20.0, "{zh}");

        let table = stdout(&run_in(dir.path(), &["catalog"]));
        let line = table.lines().find(|l| l.contains(" ii ")).unwrap();
        let cells: Vec<&str> = line.split_whitespace().collect();
        // MESSAGE LANG DURATION(2) FORMAT(3) LUFS dBTP GAIN: no gain shown for the rejected clip
        assert_eq!(cells[9], "-", "{table}");
        assert!(!line.contains("+"), "{table}");
    }
}

#[test]
fn check_reads_the_endpoint_registry_and_points_at_its_mistake() {
    let dir = project("");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = std::fs::read_to_string(repo.join("schedules/endpoints.toml")).unwrap();
    let endpoints = dir.path().join("schedules/endpoints.toml");
    std::fs::write(&endpoints, &shipped).unwrap();
    let out = run_in(dir.path(), &["check"]);
    assert!(
        !stdout(&out).contains("endpoints.toml"),
        "the shipped registry checks clean: {}",
        stdout(&out)
    );
    let line = shipped
        .lines()
        .position(|l| l.starts_with("air_by_s"))
        .unwrap()
        + 1;
    std::fs::write(&endpoints, shipped.replacen("air_by_s", "air_bys", 1)).unwrap();
    let out = run_in(dir.path(), &["check"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("schedules/endpoints.toml:{line}:1")),
        "{text}"
    );
    assert!(text.contains("air_bys"), "{text}");
}
