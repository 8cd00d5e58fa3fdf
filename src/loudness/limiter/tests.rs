//! The limiter on synthetic signals: a sine with a spike, a square wave, inter-sample peaks.

use super::*;
use crate::loudness::measure;

const RATE: u32 = 48_000;

fn signal(secs: f64, f: impl Fn(f64) -> f64) -> Pcm {
    let n = (secs * f64::from(RATE)) as usize;
    Pcm {
        sample_rate: RATE,
        channels: 1,
        samples: (0..n)
            .map(|i| f(i as f64 / f64::from(RATE)) as f32)
            .collect(),
    }
}

fn sine(freq: f64, amp: f64, phase: f64) -> impl Fn(f64) -> f64 {
    move |t| amp * (2.0 * std::f64::consts::PI * freq * t + phase).sin()
}

/// The output's largest oversampled peak, dBTP by this module's detector and by ebur128.
fn peaks_db(pcm: &Pcm) -> (f64, f64) {
    let own = frame_peaks(&pcm.samples, 1, 0.0)
        .into_iter()
        .fold(0f32, f32::max);
    (
        20.0 * f64::from(own).log10(),
        measure(pcm).unwrap().true_peak_dbtp,
    )
}

fn assert_under_ceiling(pcm: &Pcm, ceiling: f64) {
    let (own, ebu) = peaks_db(pcm);
    assert!(own <= ceiling, "oversampled peak {own} dBTP over {ceiling}");
    assert!(
        ebu <= ceiling,
        "ebur128 true peak {ebu} dBTP over {ceiling}"
    );
}

/// Largest change of the gain from one frame to the next.
fn largest_step(gains: &[f32]) -> f32 {
    gains
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn sine_with_a_spike_is_limited_only_around_the_spike() {
    let mut pcm = signal(2.0, sine(440.0, 0.3, 0.0));
    let spike = RATE as usize;
    pcm.samples[spike] = 1.0;
    let input = pcm.clone();
    let lim = Limiter::new(-1.0);
    let gains = lim.gains(&pcm).expect("the spike is over the threshold");
    let reduction = lim.process(&mut pcm);
    assert_under_ceiling(&pcm, -1.0);
    // the spike is at 0 dBFS (plus its inter-sample overshoot): at least 1.2 dB comes off
    assert!(reduction > 1.2 && reduction < 12.0, "{reduction}");
    // the gain is down before the spike arrives (look-ahead) and ramps, never steps
    let look = (LOOKAHEAD_MS * f64::from(RATE) / 1000.0) as usize;
    assert!(gains[spike - look / 2] < 1.0);
    assert!(largest_step(&gains) <= 1.0 / look as f32 + 1e-4);
    // far from the spike the audio is untouched
    let far = spike - 2 * look;
    assert_eq!(pcm.samples[..far], input.samples[..far]);
    let release_end = spike + (RATE as usize) * 8 / 10;
    let tail = &pcm.samples[release_end..];
    let tail_in = &input.samples[release_end..];
    let worst = tail
        .iter()
        .zip(tail_in)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(worst < 1e-3, "released after 800 ms: {worst}");
}

#[test]
fn square_wave_is_held_under_the_ceiling_with_smooth_gain() {
    // a full-scale square wave: its Gibbs overshoot is an inter-sample peak over 0 dBTP
    let mut pcm = signal(1.0, |t| {
        if (t * 500.0).fract() < 0.5 {
            0.95
        } else {
            -0.95
        }
    });
    let lim = Limiter::new(-1.0);
    let gains = lim.gains(&pcm).unwrap();
    let reduction = lim.process(&mut pcm);
    assert_under_ceiling(&pcm, -1.0);
    assert!(reduction > 0.7, "{reduction}");
    let look = (LOOKAHEAD_MS * f64::from(RATE) / 1000.0) as usize;
    assert!(largest_step(&gains) <= 1.0 / look as f32 + 1e-4);
    assert!(pcm.samples.iter().all(|s| s.abs() < 1.0), "nothing clipped");
}

#[test]
fn inter_sample_peaks_are_caught() {
    // a sine at a quarter of the rate, 45° off: every sample is at 0.707 × 0.99 (−3.1 dBFS),
    // the true peak is 0.99 (−0.1 dBTP) — over a −1 dBTP ceiling only between the samples
    let mut pcm = signal(
        1.0,
        sine(f64::from(RATE) / 4.0, 0.99, std::f64::consts::FRAC_PI_4),
    );
    let sample_peak = pcm.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    assert!(20.0 * f64::from(sample_peak).log10() < -3.0);
    let (before, _) = peaks_db(&pcm);
    assert!(before > -0.2, "the detector sees the true peak: {before}");
    let reduction = Limiter::new(-1.0).process(&mut pcm);
    assert!(reduction > 0.8, "{reduction}");
    assert_under_ceiling(&pcm, -1.0);
}

#[test]
fn below_the_threshold_nothing_changes() {
    let mut pcm = signal(1.0, sine(1000.0, 0.8, 0.0));
    let input = pcm.clone();
    let lim = Limiter::new(-1.0);
    assert!(lim.gains(&pcm).is_none());
    assert_eq!(lim.process(&mut pcm), 0.0);
    assert_eq!(pcm, input);
}

#[test]
fn stereo_channels_share_one_gain() {
    let mono = signal(0.5, sine(300.0, 0.5, 0.0));
    let mut samples = Vec::new();
    for (i, &s) in mono.samples.iter().enumerate() {
        let right = if i == 10_000 { 1.0 } else { s * 0.5 };
        samples.extend([s, right]);
    }
    let mut pcm = Pcm {
        sample_rate: RATE,
        channels: 2,
        samples,
    };
    Limiter::new(-1.0).process(&mut pcm);
    // the left channel is turned down around the right channel's spike, by the same ratio
    let (l, r) = (pcm.samples[2 * 10_000], pcm.samples[2 * 10_000 + 1]);
    assert!(r < 0.891, "{r}");
    let ratio = l / mono.samples[10_000];
    assert!((ratio - r).abs() < 1e-6, "{ratio} vs {r}");
}

#[test]
fn window_min_and_average_keep_the_gain_under_every_peak() {
    assert_eq!(
        window_min(&[1.0, 0.5, 1.0, 1.0, 0.2], 2),
        vec![0.5, 0.5, 1.0, 0.2, 0.2]
    );
    assert_eq!(
        moving_average(&[0.5, 1.0, 0.5, 1.0], 2),
        vec![0.5, 0.75, 0.75, 0.75]
    );
    let required = [1.0, 1.0, 1.0, 0.4, 1.0, 1.0, 1.0, 1.0];
    let smooth = moving_average(&window_min(&required, 3), 3);
    assert!(smooth[3] <= 0.4 + 1e-6, "{smooth:?}");
    assert!(
        smooth[1] < 1.0 && smooth[1] > 0.4,
        "ramps down ahead: {smooth:?}"
    );
}

#[test]
fn cache_tag_names_every_setting() {
    let a = Limiter::new(-1.0);
    let tags = [
        a.cache_tag(),
        Limiter::new(-2.0).cache_tag(),
        Limiter {
            release_ms: 50.0,
            ..a
        }
        .cache_tag(),
        Limiter {
            lookahead_ms: 3.0,
            ..a
        }
        .cache_tag(),
    ];
    for (i, x) in tags.iter().enumerate() {
        assert!(tags[i + 1..].iter().all(|y| y != x), "{tags:?}");
    }
}

#[test]
fn peaks_under_the_floor_are_skipped_but_never_missed() {
    let mut pcm = signal(
        0.5,
        sine(f64::from(RATE) / 4.0, 0.5, std::f64::consts::FRAC_PI_4),
    );
    pcm.samples[5_000] = 0.99;
    let exact = frame_peaks(&pcm.samples, 1, 0.0);
    let floor = 0.8;
    let fast = frame_peaks(&pcm.samples, 1, floor);
    for (n, (e, f)) in exact.iter().zip(&fast).enumerate() {
        assert!(f <= e, "{n}");
        assert!(
            if *e > floor { f == e } else { *f <= floor },
            "{n}: {e} vs {f}"
        );
    }
    // the sine's inter-sample peaks (0.5) are over its samples (0.354)
    assert!(exact[100] > 0.49 && fast[100] < 0.36);
}
