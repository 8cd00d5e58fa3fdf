//! Integration tests: render — the real binary renders a synthetic pair written by the test;
//! loudness is checked with the project's meter and with ffmpeg's `ebur128` filter.

use std::path::{Path, PathBuf};
use std::process::Command;

use shengbo::audio::decode::Pcm;
use shengbo::loudness::{self, LoudnessConfig};
use shengbo::render::{frames_at, gap_frames};

use crate::util::{run_in, stderr, stdout};

/// True-peak tolerance over the ceiling: 16-bit rounding and the meter's 4× oversampling of a
/// linearly resampled signal may add a few hundredths of a dB; 0.2 dB leaves room for both.
const TP_TOLERANCE_DB: f64 = 0.2;

/// A sine of `freq` Hz, `amp` peak, starting at phase π/4 (so its first sample is not zero).
fn tone(rate: u32, channels: u16, freq: f64, amp: f64, frames: usize) -> Pcm {
    let mut samples = Vec::with_capacity(frames * usize::from(channels));
    for i in 0..frames {
        let phase = 2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate);
        let v = (amp * (phase + std::f64::consts::FRAC_PI_4).sin()) as f32;
        samples.extend(std::iter::repeat_n(v, usize::from(channels)));
    }
    Pcm {
        sample_rate: rate,
        channels,
        samples,
    }
}

fn write_wav(path: &Path, pcm: &Pcm) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, loudness::wav_s16_bytes(pcm).unwrap()).unwrap();
}

fn read_wav(path: &Path) -> Pcm {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    assert_eq!(spec.bits_per_sample, 16);
    let samples = r
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32767.0)
        .collect();
    Pcm {
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        samples,
    }
}

/// Power of `freq` in mono `x` (Goertzel).
fn goertzel(x: &[f32], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in x {
        let s = f64::from(v) + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2
}

/// Integrated loudness and true peak by ffmpeg's `ebur128` filter (its summary block).
pub(crate) fn ffmpeg_loudness(path: &Path) -> (f64, f64) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .expect("ffmpeg is installed (CI installs it)");
    let text = String::from_utf8_lossy(&out.stderr);
    let summary = &text[text.rfind("Summary:").expect("ebur128 summary")..];
    let value = |key: &str| -> f64 {
        let line = summary
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    (value("I:"), value("Peak:"))
}

fn segment(pcm: &Pcm, start: u64, frames: u64) -> Pcm {
    let ch = u64::from(pcm.channels);
    Pcm {
        samples: pcm.samples[(start * ch) as usize..((start + frames) * ch) as usize].to_vec(),
        ..pcm.clone()
    }
}

fn mono_channel(pcm: &Pcm, c: usize) -> Vec<f32> {
    let ch = usize::from(pcm.channels);
    pcm.samples.iter().skip(c).step_by(ch).copied().collect()
}

/// A project with one message: Yi 440 Hz quiet (22.05 kHz mono), Mandarin 880 Hz loud
/// (44.1 kHz stereo).
pub(crate) fn project() -> (tempfile::TempDir, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let (yi_frames, zh_frames) = (22_050 * 4 + 17, 44_100 * 3 + 5);
    let yi = tone(22_050, 1, 440.0, 0.045, yi_frames);
    let zh = tone(44_100, 2, 880.0, 0.8, zh_frames);
    let m_yi = loudness::measure(&yi).unwrap();
    let m_zh = loudness::measure_for_air(&zh).unwrap();
    assert!(m_yi.lufs < -28.0 && m_zh.lufs > -9.0, "{m_yi:?} {m_zh:?}");
    write_wav(&dir.path().join("audio/scam-calls/ii.wav"), &yi);
    write_wav(&dir.path().join("audio/scam-calls/zh.wav"), &zh);
    (dir, yi_frames as u64, zh_frames as u64)
}

/// Round half up of `frames × to / from`, computed independently of the library.
fn expect_frames(frames: u64, from: u32, to: u32) -> u64 {
    let exact = frames as f64 * f64::from(to) / f64::from(from);
    (exact + 0.5).floor() as u64
}

#[test]
fn pair_renders_loudness_matched_in_order_with_exact_gaps() {
    let (dir, yi_in, zh_in) = project();
    let out_path = dir.path().join("out.wav");
    let out = run_in(
        dir.path(),
        &[
            "render",
            "--message",
            "scam-calls",
            "--gap",
            "1.25",
            "-o",
            out_path.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("ii") && text.contains("zh") && text.contains("scam-calls"),
        "{text}"
    );

    let pcm = read_wav(&out_path);
    assert_eq!((pcm.sample_rate, pcm.channels), (48_000, 1));
    let fy = expect_frames(yi_in, 22_050, 48_000);
    let fz = expect_frames(zh_in, 44_100, 48_000);
    assert_eq!(
        (fy, fz),
        (
            frames_at(yi_in, 22_050, 48_000),
            frames_at(zh_in, 44_100, 48_000)
        )
    );
    let gap = 60_000;
    assert_eq!(gap_frames(1.25, 48_000), gap);
    assert_eq!(pcm.frames(), fy + gap + fz, "total length exact");

    // the gap: silent from the end of Yi, and Mandarin (which starts at phase π/4, never on
    // zero) sounds at exactly `gap` frames later; Yi still sounds in its last millisecond
    let s = &pcm.samples;
    let (yi_end, zh_start) = (fy as usize, (fy + gap) as usize);
    assert!(s[yi_end..zh_start].iter().all(|v| *v == 0.0));
    assert!(s[zh_start] != 0.0);
    assert!(
        s[yi_end - 48..yi_end]
            .iter()
            .filter(|v| v.abs() > 0.01)
            .count()
            > 24
    );

    let cfg = LoudnessConfig::default();
    let halves = [(0, fy, 440.0, 880.0), (fy + gap, fz, 880.0, 440.0)];
    for (i, (start, frames, want, other)) in halves.into_iter().enumerate() {
        let half = segment(&pcm, start, frames);
        let (p_want, p_other) = (
            goertzel(&half.samples, 48_000, want),
            goertzel(&half.samples, 48_000, other),
        );
        assert!(
            p_want > 100.0 * p_other,
            "half {i}: {want} Hz must dominate"
        );

        let ours = loudness::measure(&half).unwrap();
        let file = dir.path().join(format!("half{i}.wav"));
        write_wav(&file, &half);
        let (ff_lufs, ff_peak) = ffmpeg_loudness(&file);
        for lufs in [ours.lufs, ff_lufs] {
            assert!(
                (lufs - cfg.target_lufs).abs() <= 1.0,
                "half {i}: {lufs} LUFS"
            );
        }
        for peak in [ours.true_peak_dbtp, ff_peak] {
            assert!(
                peak <= cfg.max_true_peak_dbtp + TP_TOLERANCE_DB,
                "half {i}: {peak} dBTP"
            );
        }
    }
}

#[test]
fn stereo_output_at_another_rate_keeps_frequency_and_length() {
    let (dir, yi_in, zh_in) = project();
    let out_path = dir.path().join("out.wav");
    let args = [
        "render",
        "--message",
        "scam-calls",
        "--order",
        "zh,ii",
        "--gap",
        "0.5",
        "--repeats",
        "2",
        "--rate",
        "44100",
        "--channels",
        "2",
        "-o",
        out_path.to_str().unwrap(),
    ];
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let pcm = read_wav(&out_path);
    assert_eq!((pcm.sample_rate, pcm.channels), (44_100, 2));
    let fz = expect_frames(zh_in, 44_100, 44_100);
    let fy = expect_frames(yi_in, 22_050, 44_100);
    let gap = 22_050;
    // zh, gap, ii, (repeat gap), zh, gap, ii
    assert_eq!(pcm.frames(), 2 * (fz + gap + fy) + gap);
    let starts = [
        (0, fz, 880.0),
        (fz + gap, fy, 440.0),
        (fz + fy + 2 * gap, fz, 880.0),
    ];
    for (start, frames, freq) in starts {
        let seg = segment(&pcm, start, frames);
        for c in 0..2 {
            let x = mono_channel(&seg, c);
            let ups = x.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
            let f = ups as f64 * 44_100.0 / x.len() as f64;
            assert!(
                (f - freq).abs() < 2.0,
                "channel {c} at {start}: {f} Hz, want {freq}"
            );
        }
    }
}

#[test]
fn adjusted_clip_is_loudness_matched_by_ffmpeg_too() {
    let (dir, _, _) = project();
    let src = dir.path().join("audio/scam-calls/zh.wav");
    let cfg = LoudnessConfig::default();
    let m = loudness::measure_for_air(&shengbo::audio::decode::decode_file(&src).unwrap()).unwrap();
    let plan = loudness::plan_gain(m.lufs, m.true_peak_dbtp, &cfg);
    let clip = loudness::adjusted_clip(&src, &plan, &dir.path().join("cache")).unwrap();
    let (lufs, peak) = ffmpeg_loudness(&clip.path);
    assert!((lufs - cfg.target_lufs).abs() <= 1.0, "{lufs}");
    assert!(peak <= cfg.max_true_peak_dbtp + TP_TOLERANCE_DB, "{peak}");
    assert_eq!(read_wav(&clip.path).channels, 1);
}

#[test]
fn without_the_limiter_capped_yi_pulls_mandarin_down_to_match_and_clips_are_cached() {
    let dir = tempfile::tempdir().unwrap();
    // Yi: a quiet tone with a near-full-scale click every half second (crest factor ~35 dB)
    let mut yi = tone(16_000, 1, 300.0, 0.02, 16_000 * 4);
    for i in (0..yi.samples.len()).step_by(8_000) {
        yi.samples[i] = 0.95;
    }
    write_wav(&dir.path().join("audio/clicks/ii.wav"), &yi);
    write_wav(
        &dir.path().join("audio/clicks/zh.wav"),
        &tone(48_000, 1, 700.0, 0.3, 48_000 * 3),
    );
    // the capped policy: without the limiter the ceiling caps Yi's gain
    let settings = dir.path().join("schedules/settings.toml");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, "[loudness]\nlimiter = false\n").unwrap();
    let out_path = dir.path().join("out.wav");
    let adj = dir.path().join("adjusted");
    let args = [
        "render",
        "--message",
        "clicks",
        "--gap",
        "1",
        "-o",
        out_path.to_str().unwrap(),
        "--adjusted",
        adj.to_str().unwrap(),
    ];
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("capped by the true-peak ceiling"), "{text}");
    assert!(text.contains("lowered to match its pair"), "{text}");

    let pcm = read_wav(&out_path);
    let fy = 48_000 * 4;
    let halves = [segment(&pcm, 0, fy), segment(&pcm, fy + 48_000, 48_000 * 3)];
    let mut lufs = Vec::new();
    for (i, half) in halves.iter().enumerate() {
        let file = dir.path().join(format!("half{i}.wav"));
        write_wav(&file, half);
        let (l, peak) = ffmpeg_loudness(&file);
        assert!(peak <= -1.0 + TP_TOLERANCE_DB, "half {i}: {peak} dBTP");
        lufs.push(l);
    }
    assert!((lufs[0] - lufs[1]).abs() <= 1.0, "pair rule: {lufs:?}");
    assert!(lufs[0] < -17.0, "Yi cannot reach the target: {lufs:?}");

    let files: Vec<_> = std::fs::read_dir(&adj)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let again = stdout(&run_in(dir.path(), &args));
    assert_eq!(again.matches(", cached)").count(), 2, "{again}");
}

#[test]
fn unknown_message_is_an_input_problem_with_a_suggestion() {
    let (dir, _, _) = project();
    let out = run_in(
        dir.path(),
        &["render", "--message", "scam-call", "-o", "x.wav"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no message `scam-call`") && err.contains("did you mean `scam-calls`"),
        "{err}"
    );
}

#[test]
fn undecodable_clip_is_named() {
    let (dir, _, _) = project();
    let bad: PathBuf = dir.path().join("audio/scam-calls/zh.wav");
    std::fs::write(&bad, b"RIFF not really a wave file").unwrap();
    let out = run_in(
        dir.path(),
        &["render", "--message", "scam-calls", "-o", "x.wav"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("zh.wav"), "{}", stderr(&out));
    assert!(!dir.path().join("x.wav").exists());
}

#[test]
fn township_render_names_an_unknown_township_with_a_suggestion() {
    let (dir, _, _) = project();
    std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
    let args = [
        "render",
        "--township",
        "北城街到",
        "--at",
        "2026-12-01 08:00",
        "-o",
        "x.wav",
    ];
    let out = run_in(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("北城街道"), "{}", stderr(&out));
}

mod next;

#[cfg(not(feature = "audio-device"))]
#[test]
fn play_without_a_device_build_suggests_render() {
    let (dir, _, _) = project();
    let out = run_in(dir.path(), &["play", "--message", "scam-calls"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("audio-device") && err.contains("render"),
        "{err}"
    );
}
