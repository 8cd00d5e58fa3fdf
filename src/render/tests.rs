//! Unit tests of the renderer on in-memory audio: the rounding rule, conversion, pairing and
//! exact assembly.

use super::*;
use crate::loudness::measure;

fn tone(rate: u32, channels: u16, freq: f64, amp: f64, frames: usize) -> Pcm {
    let mut samples = Vec::with_capacity(frames * usize::from(channels));
    for i in 0..frames {
        let v = amp * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin();
        samples.extend(std::iter::repeat_n(v as f32, usize::from(channels)));
    }
    Pcm {
        sample_rate: rate,
        channels,
        samples,
    }
}

fn item(message: &str, lang: Lang, gap: f64) -> ProgrammeItem {
    ProgrammeItem {
        message: message.into(),
        lang,
        file: format!("{message}/{lang}.wav").into(),
        gain_db: None,
        gap_after_s: gap,
    }
}

/// Positive-going zero crossings per second over `samples` of a mono signal.
fn frequency(samples: &[f32], rate: u32) -> f64 {
    let ups = samples
        .windows(2)
        .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
        .count();
    ups as f64 * f64::from(rate) / samples.len() as f64
}

#[test]
fn rounding_rule_is_nearest_frame_halves_up() {
    assert_eq!(frames_at(22_050, 22_050, 48_000), 48_000);
    // 1 frame at 44.1 kHz is 1.0884 frames at 48 kHz
    assert_eq!(frames_at(1, 44_100, 48_000), 1);
    // 147 frames at 44.1 kHz = exactly 160 at 48 kHz; 3 frames at 2 Hz → 1.5 → 2 at 1 Hz
    assert_eq!(frames_at(147, 44_100, 48_000), 160);
    assert_eq!(frames_at(3, 2, 1), 2);
    assert_eq!(frames_at(5, 2, 1), 3);
    assert_eq!(gap_frames(1.5, 48_000), 72_000);
    assert_eq!(gap_frames(0.000_010_4, 48_000), 0);
    assert_eq!(gap_frames(0.000_010_5, 48_000), 1);
    assert_eq!(gap_frames(0.0, 48_000), 0);
}

#[test]
fn convert_hits_exact_length_and_keeps_frequency() {
    let fmt = OutputFormat::default();
    for (rate, ch) in [(22_050, 1), (44_100, 2), (48_000, 1), (8_000, 1)] {
        let frames = rate as usize * 2 + 7;
        let out = convert(&tone(rate, ch, 440.0, 0.5, frames), fmt, Path::new("x")).unwrap();
        assert_eq!(
            out.frames(),
            frames_at(frames as u64, rate, 48_000),
            "{rate}/{ch}"
        );
        let f = frequency(&out.samples, 48_000);
        assert!((f - 440.0).abs() < 2.0, "{rate}/{ch}: {f} Hz");
    }
}

#[test]
fn stereo_is_downmixed_not_truncated_to_left() {
    // left silent, right a tone: rodio alone would keep only the silent left channel
    let mut pcm = tone(48_000, 2, 440.0, 0.5, 4800);
    for frame in pcm.samples.chunks_exact_mut(2) {
        frame[0] = 0.0;
    }
    let out = convert(&pcm, OutputFormat::default(), Path::new("x")).unwrap();
    let peak = out.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    assert!((peak - 0.25).abs() < 0.01, "peak {peak}");
}

#[test]
fn pairs_match_first_yi_with_first_mandarin_of_the_same_message() {
    let items = vec![
        item("a", Lang::Ii, 1.0),
        item("a", Lang::Zh, 1.0),
        item("b", Lang::Zh, 1.0),
        item("b", Lang::Ii, 1.0),
        item("c", Lang::Zh, 1.0),
    ];
    assert_eq!(pairs(&items), vec![(0, 1), (3, 2)]);
}

#[test]
fn programme_is_exact_ordered_and_loudness_matched() {
    let yi = tone(22_050, 1, 440.0, 0.02, 22_050 * 3 + 11);
    let zh = tone(44_100, 2, 880.0, 0.6, 44_100 * 2 + 3);
    let p = Programme {
        items: vec![item("m", Lang::Ii, 1.25), item("m", Lang::Zh, 0.0)],
        repeats: 2,
        repeat_gap_s: 0.5,
    };
    let fmt = OutputFormat::default();
    let cfg = LoudnessConfig::default();
    let r = render_decoded(&p, &[&yi, &zh], fmt, &cfg).unwrap();
    let (fy, fz) = (
        frames_at(66_161, 22_050, 48_000),
        frames_at(88_203, 44_100, 48_000),
    );
    let gap = gap_frames(1.25, 48_000);
    let total = 2 * (fy + gap + fz) + gap_frames(0.5, 48_000);
    assert_eq!(r.pcm.frames(), total);
    assert_eq!(r.timeline.len(), 4);
    assert_eq!(r.timeline[1].start_frame, fy + gap);
    assert_eq!(r.timeline[2].start_frame, fy + gap + fz + 24_000);
    assert_eq!(r.clipped_samples, 0);
    for e in &r.timeline {
        let s = e.start_frame as usize;
        let clip = &r.pcm.samples[s..s + e.frames as usize];
        let want = if e.lang == Lang::Ii { 440.0 } else { 880.0 };
        assert!((frequency(clip, 48_000) - want).abs() < 3.0);
        let half = Pcm {
            sample_rate: 48_000,
            channels: 1,
            samples: clip.to_vec(),
        };
        let m = measure(&half).unwrap();
        assert!((m.lufs - cfg.target_lufs).abs() < 0.5, "{e:?}: {m:?}");
        assert!(m.true_peak_dbtp <= cfg.max_true_peak_dbtp + 0.1, "{m:?}");
    }
    let gap_start = (r.timeline[0].start_frame + fy) as usize;
    assert!(
        r.pcm.samples[gap_start..gap_start + gap as usize]
            .iter()
            .all(|s| *s == 0.0)
    );
}

#[test]
fn explicit_gain_is_used_as_given() {
    let clip = tone(48_000, 1, 440.0, 0.1, 48_000);
    let mut it = item("m", Lang::Zh, 0.0);
    it.gain_db = Some(-6.0);
    let p = Programme {
        items: vec![it],
        repeats: 1,
        repeat_gap_s: 0.0,
    };
    let r = render_decoded(
        &p,
        &[&clip],
        OutputFormat::default(),
        &LoudnessConfig::default(),
    );
    let r = r.unwrap();
    assert_eq!(r.timeline[0].gain.gain_db, -6.0);
    let peak = r.pcm.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    assert!((peak - 0.0501).abs() < 0.001, "{peak}");
}

#[test]
fn bad_programmes_are_refused() {
    let clip = tone(48_000, 1, 440.0, 0.1, 10);
    let cfg = LoudnessConfig::default();
    let fmt = OutputFormat::default();
    let mut p = Programme {
        items: vec![item("m", Lang::Ii, -1.0)],
        repeats: 1,
        repeat_gap_s: 0.0,
    };
    let err = render_decoded(&p, &[&clip], fmt, &cfg).unwrap_err();
    assert!(matches!(err, RenderError::BadGap { .. }), "{err}");
    p.items[0].gap_after_s = 0.0;
    p.repeats = 0;
    assert!(matches!(
        render_decoded(&p, &[&clip], fmt, &cfg),
        Err(RenderError::BadRepeats(0))
    ));
    p.items.clear();
    p.repeats = 1;
    assert!(matches!(
        render_decoded(&p, &[], fmt, &cfg),
        Err(RenderError::Empty)
    ));
}

#[test]
fn converted_clip_ends_with_sound_not_padding() {
    // rodio alone ends this clip two frames short, which zero padding would turn into a step;
    // with the clip's trailing silence fed in, at most the very last frame reaches that silence
    let pcm = tone(22_050, 1, 440.0, 0.5, 88_217);
    let out = convert(&pcm, OutputFormat::default(), Path::new("x")).unwrap();
    assert_eq!(out.frames(), 192_037);
    let trailing_zeros = out.samples.iter().rev().take_while(|s| **s == 0.0).count();
    assert!(trailing_zeros <= 1, "{trailing_zeros} trailing zeros");
}

#[test]
fn broadcast_becomes_programme_with_root_relative_files() {
    use crate::plan::{Broadcast, PlaylistItem};
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap();
    let playlist = |lang, gap| PlaylistItem {
        message: "card-renting".into(),
        lang,
        file: format!("audio/card-renting/{lang}.mp3"),
        sha256: "00".into(),
        size_bytes: 1,
        duration_s: 10.0,
        gap_after_s: gap,
    };
    let b = Broadcast {
        reason: None,
        campaign: "winter".into(),
        priority: 0,
        township_code: "513401001".into(),
        township_name: "新村".into(),
        county_code: "513401".into(),
        villages: Vec::new(),
        start: at.into(),
        end: at.into(),
        timezone: chrono_tz::Asia::Shanghai,
        items: vec![playlist(Lang::Ii, 2.0), playlist(Lang::Zh, 0.0)],
    };
    let p = programme_from_broadcast(&b, Path::new("/srv/project"));
    assert_eq!(p.repeats, 1);
    assert_eq!(p.items.len(), 2);
    assert_eq!(
        p.items[0].file,
        Path::new("/srv/project/audio/card-renting/ii.mp3")
    );
    assert_eq!((p.items[0].gap_after_s, p.items[1].gap_after_s), (2.0, 0.0));
    assert_eq!(p.items[1].lang, Lang::Zh);
    assert!(p.items.iter().all(|i| i.gain_db.is_none()));
}

/// A spiky Yi clip (a quiet tone with near-full-scale clicks), a steady Mandarin one, and the
/// programme airing the pair twice as the planner expands repeats: ii zh ii zh.
fn spiky_pair_twice() -> (Pcm, Pcm, Programme) {
    let mut yi = tone(16_000, 1, 300.0, 0.01, 48_000);
    for i in (0..yi.samples.len()).step_by(8_000) {
        yi.samples[i] = 0.95;
    }
    let zh = tone(48_000, 1, 700.0, 0.3, 96_000);
    let items = vec![
        item("m", Lang::Ii, 1.0),
        item("m", Lang::Zh, 1.0),
        item("m", Lang::Ii, 1.0),
        item("m", Lang::Zh, 0.0),
    ];
    let p = Programme {
        items,
        repeats: 1,
        repeat_gap_s: 0.0,
    };
    (yi, zh, p)
}

#[test]
fn repeated_airings_keep_the_pair_matched_gains() {
    // the planner expands repeats into items: ii zh ii zh; Yi is spiky, so capped, and Mandarin
    // is lowered to match — in both airings, not only the first
    let (yi, zh, p) = spiky_pair_twice();
    let cfg = LoudnessConfig {
        limiter: false,
        ..LoudnessConfig::default()
    };
    let r = render_decoded(&p, &[&yi, &zh, &yi, &zh], OutputFormat::default(), &cfg).unwrap();
    let g: Vec<GainPlan> = r.timeline.iter().map(|e| e.gain).collect();
    assert!(g[0].limited && g[1].matched_to_pair, "{g:?}");
    assert_eq!((g[2], g[3]), (g[0], g[1]));
    let last = &r.timeline[3];
    let s = last.start_frame as usize;
    let half = Pcm {
        sample_rate: 48_000,
        channels: 1,
        samples: r.pcm.samples[s..s + last.frames as usize].to_vec(),
    };
    let m = measure(&half).unwrap();
    assert!(
        (m.lufs - g[0].expected_lufs).abs() <= cfg.pair_tolerance_lu,
        "{m:?} {g:?}"
    );
}

#[test]
fn limited_clips_air_on_target_under_the_ceiling_in_every_airing() {
    // the same spiky Yi clip as above, with the limiter (the default): both languages reach
    // the target, the limiter's reduction is recorded, and both airings are the same audio
    let (yi, zh, p) = spiky_pair_twice();
    let cfg = LoudnessConfig::default();
    let r = render_decoded(&p, &[&yi, &zh, &yi, &zh], OutputFormat::default(), &cfg).unwrap();
    let g: Vec<GainPlan> = r.timeline.iter().map(|e| e.gain).collect();
    assert!(g[0].limiter_reduction_db > 6.0 && !g[0].limited, "{g:?}");
    assert!(g[1].limiter.is_none() && !g[1].matched_to_pair, "{g:?}");
    assert_eq!((g[2], g[3]), (g[0], g[1]));
    assert_eq!(r.clipped_samples, 0);
    let clip = |k: usize| {
        let e = &r.timeline[k];
        let s = e.start_frame as usize;
        Pcm {
            sample_rate: 48_000,
            channels: 1,
            samples: r.pcm.samples[s..s + e.frames as usize].to_vec(),
        }
    };
    assert_eq!(clip(0), clip(2));
    for k in 0..2 {
        let m = measure(&clip(k)).unwrap();
        assert!((m.lufs - cfg.target_lufs).abs() <= 0.5, "{k}: {m:?}");
        assert!(m.true_peak_dbtp <= cfg.max_true_peak_dbtp, "{k}: {m:?}");
    }
}
