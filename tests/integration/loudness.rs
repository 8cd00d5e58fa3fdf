//! Integration tests: every demo pair of the repository (`audio/*`) rendered by the real binary
//! and adjusted by the push path lands on the loudness target under the true-peak ceiling, as
//! ffmpeg's `ebur128=peak=true` measures it (the project's own meter where ffmpeg is missing).

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::Utc;
use shengbo::audio::decode::decode_file;
use shengbo::lang::Lang;
use shengbo::loudness::LoudnessConfig;

use crate::render::ffmpeg_loudness;
use crate::util::{stderr, stdout};

/// How far from the target a pair may land, LU.
const ON_TARGET_LU: f64 = 0.5;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have_ffmpeg() -> bool {
    Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Integrated loudness (LUFS) and true peak (dBTP) of a file, by ffmpeg when installed.
fn meter(path: &Path, ffmpeg: bool) -> (f64, f64) {
    if ffmpeg {
        return ffmpeg_loudness(path);
    }
    let m = shengbo::loudness::measure(&decode_file(path).unwrap()).unwrap();
    (m.lufs, m.true_peak_dbtp)
}

fn assert_on_target(what: &str, (lufs, peak): (f64, f64), cfg: &LoudnessConfig) {
    assert!(
        (lufs - cfg.target_lufs).abs() <= ON_TARGET_LU,
        "{what}: {lufs} LUFS, the target is {}",
        cfg.target_lufs
    );
    assert!(
        peak <= cfg.max_true_peak_dbtp,
        "{what}: true peak {peak} dBTP over the ceiling {}",
        cfg.max_true_peak_dbtp
    );
}

/// The demo messages: the folders of `audio/` with a `message.toml`.
fn demo_messages() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(repo().join("audio"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("message.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn every_demo_pair_renders_and_pushes_on_target_under_the_ceiling() {
    let ffmpeg = have_ffmpeg();
    let messages = demo_messages();
    assert!(messages.len() >= 4, "{messages:?}");
    let data = tempfile::tempdir().unwrap();
    let cfg = LoudnessConfig::default();

    // rendered: the whole pair, and each half as the timeline places it
    for m in &messages {
        let out = data.path().join(format!("{m}.wav"));
        let run = Command::new(env!("CARGO_BIN_EXE_shengbo"))
            .args(["render", "--message", m, "-o"])
            .arg(&out)
            .env("SHENGBO_ROOT", repo())
            .env("SHENGBO_DATA_DIR", data.path())
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(run.status.success(), "{m}: {}", stderr(&run));
        assert_on_target(&format!("rendered {m}"), meter(&out, ffmpeg), &cfg);
        let text = stdout(&run);
        let pcm = decode_file(&out).unwrap();
        let timeline: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && l.contains(m.as_str()))
            .collect();
        assert_eq!(timeline.len(), 2, "both halves: {text}");
        for line in timeline {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (start, len) = (seconds(cols[0]), seconds(cols[1]));
            let rate = f64::from(pcm.sample_rate);
            let (a, b) = ((start * rate) as usize, ((start + len) * rate) as usize);
            let half = shengbo::audio::decode::Pcm {
                samples: pcm.samples[a..b.min(pcm.samples.len())].to_vec(),
                ..pcm.clone()
            };
            let file = data.path().join(format!("{m}-{}.wav", cols[2]));
            std::fs::write(&file, shengbo::loudness::wav_s16_bytes(&half).unwrap()).unwrap();
            assert_on_target(
                &format!("rendered {m} `{}`", cols[2]),
                meter(&file, ffmpeg),
                &cfg,
            );
        }
    }

    // pushed: the adjusted clips the push path sends, under the repo's own settings
    let root = repo();
    let dir = shengbo::datadir::DataDir::resolve(&root, Some(data.path()));
    let (project, diags) = shengbo::push::Project::load(&root, &dir, Utc::now()).unwrap();
    assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
    assert!(
        project.loudness.limiter,
        "the repo's policy uses the limiter"
    );
    let mut resolver =
        shengbo::push::MediaResolver::new(&root, &project.catalog, data.path().join("adjusted"))
            .with_loudness(project.loudness);
    let mut limited = 0;
    for m in &messages {
        let gains = shengbo::loudness::message_gains(
            &root,
            project.catalog.message(m).unwrap(),
            &project.loudness,
        );
        for lang in [Lang::Ii, Lang::Zh] {
            let item = crate::util::playlist_item(&project.catalog, m, lang);
            let media = resolver.resolve(&item).unwrap();
            let what = format!("pushed {m} `{lang}`");
            assert_on_target(&what, meter(&media.path, ffmpeg), &project.loudness);
            limited += usize::from(gains[&lang].plan.limiter_reduction_db > 0.0);
        }
    }
    // the Mandarin stand-ins peak too high for a plain gain: the limiter is what lands them
    assert!(limited >= 1, "no clip needed the limiter");
}

/// `m:ss.mmm` in seconds.
fn seconds(clock: &str) -> f64 {
    let (m, s) = clock.split_once(':').unwrap();
    m.parse::<f64>().unwrap() * 60.0 + s.parse::<f64>().unwrap()
}
