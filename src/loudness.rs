//! Loudness policy: the deployment-wide target, the true-peak ceiling, the pair rule, and the
//! gain each clip gets — pure functions over measured numbers, plus [`measure`] (ebur128).
//!
//! # Policy
//!
//! - Every clip is brought to `target_lufs` (default −16 LUFS integrated, EBU R128 / BS.1770)
//!   with one static gain: no compression, so the voice sounds as recorded.
//! - **No true peak over the ceiling** (default −1 dBTP). Where the gain to the target would
//!   push peaks over it, a look-ahead true-peak limiter ([`Limiter`], `limiter = true`, the
//!   default) takes those peaks only; limiting lowers the loudness a little, so the gain is
//!   corrected and the clip limited again until it measures on target ([`settle`]). The
//!   largest gain reduction is reported per clip (`limiter_reduction_db`).
//! - With `limiter = false` **the ceiling caps the gain** instead: the gain stops at the
//!   ceiling and the clip stays quieter than the target; the difference is reported as
//!   `shortfall_lu` and `limited` is set — a message for staff: re-record or re-master it.
//! - A clip measuring at or below [`SILENT_LUFS`] has no loudness to adjust and gets no gain
//!   (the audio gate rejects near-silent clips long before, see `min_lufs` of `[gate]`).
//! - **The pair rule**: the two languages of a message must end within `pair_tolerance_lu`
//!   (default 1 LU) of each other. When capping leaves one clip quieter than that, the other
//!   clip is *lowered to the same expected loudness* (not merely to within 1 LU), so the pair
//!   sounds equally loud even with a little meter disagreement; see [`plan_pair`].
//! - Loudness is taken on the **mono downmix** (the average of the channels) because
//!   loudspeakers and adjusted clips are mono; ebur128 sums the energy of stereo channels, so a
//!   stereo file measures up to 3 LU louder than what airs. [`measure_for_air`] does this.

use serde::Deserialize;

use crate::audio::decode::Pcm;

mod adjust;
mod air;
mod limiter;
mod settle;

pub use adjust::{
    AdjustError, AdjustedClip, adjust_message, adjusted_clip, adjusted_pcm, cache_key,
    downmix_mono, wav_s16_bytes, write_wav_atomic,
};
pub use air::{AirGain, air_loudness, message_gains};
pub use limiter::Limiter;
pub use settle::{apply_plan, settle};

/// Integrated loudness at or below which a clip counts as silence: the absolute gate of
/// BS.1770, under which the meter finds nothing to measure.
pub const SILENT_LUFS: f64 = -70.0;

/// The `[loudness]` section of `schedules/settings.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoudnessConfig {
    /// Integrated loudness every clip is brought to, LUFS.
    pub target_lufs: f64,
    /// No clip's true peak may exceed this after adjustment, dBTP.
    pub max_true_peak_dbtp: f64,
    /// The two languages of a message end within this many LU of each other.
    pub pair_tolerance_lu: f64,
    /// Peaks the gain would push over the ceiling are taken by the look-ahead limiter (true);
    /// false caps the gain at the ceiling instead, leaving such clips short of the target.
    pub limiter: bool,
}

impl Default for LoudnessConfig {
    fn default() -> Self {
        LoudnessConfig {
            target_lufs: -16.0,
            max_true_peak_dbtp: -1.0,
            pair_tolerance_lu: 1.0,
            limiter: true,
        }
    }
}

/// What a clip measures: integrated loudness and true peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    /// LUFS; `-inf` for silence.
    pub lufs: f64,
    /// dBTP; `-inf` for silence.
    pub true_peak_dbtp: f64,
}

/// The static gain planned for one clip and what it should measure afterwards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainPlan {
    pub gain_db: f64,
    pub expected_lufs: f64,
    pub expected_true_peak: f64,
    /// How far below the target the clip ends, LU (0 when it reaches it).
    pub shortfall_lu: f64,
    /// The true-peak ceiling capped the gain (only with `limiter = false`).
    pub limited: bool,
    /// The gain was lowered further to match the other language of the pair.
    pub matched_to_pair: bool,
    /// The limiter that takes the peaks the gain pushes over the ceiling; `None` when the gain
    /// alone keeps the clip under it. Applied after the gain by [`apply_plan`].
    pub limiter: Option<Limiter>,
    /// The largest gain reduction the limiter applied, dB (0 when it had nothing to take).
    pub limiter_reduction_db: f64,
}

impl GainPlan {
    /// No change at all (used for silence, which has no loudness to adjust).
    pub fn unity(measured: Loudness) -> GainPlan {
        GainPlan {
            gain_db: 0.0,
            expected_lufs: measured.lufs,
            expected_true_peak: measured.true_peak_dbtp,
            shortfall_lu: 0.0,
            limited: false,
            matched_to_pair: false,
            limiter: None,
            limiter_reduction_db: 0.0,
        }
    }

    /// The gain as a linear factor.
    pub fn linear(&self) -> f32 {
        db_to_linear(self.gain_db)
    }
}

/// A decibel gain as a linear amplitude factor.
pub fn db_to_linear(db: f64) -> f32 {
    10f64.powf(db / 20.0) as f32
}

/// The gain for one clip: up or down to the target. Where that breaks the true-peak ceiling
/// the plan gets the limiter (its figures are estimates until [`settle`]d on the audio), or,
/// with `limiter = false`, the gain is capped at the ceiling.
pub fn plan_gain(lufs: f64, true_peak: f64, cfg: &LoudnessConfig) -> GainPlan {
    let measured = Loudness {
        lufs,
        true_peak_dbtp: true_peak,
    };
    if !lufs.is_finite() || lufs <= SILENT_LUFS {
        return GainPlan::unity(measured);
    }
    let wanted = cfg.target_lufs - lufs;
    let headroom = if true_peak.is_finite() {
        cfg.max_true_peak_dbtp - true_peak
    } else {
        f64::INFINITY
    };
    if cfg.limiter {
        let mut plan = with_gain(measured, wanted, cfg, false);
        plan.limiter = limiter_for(plan.expected_true_peak, cfg);
        if plan.limiter.is_some() {
            plan.expected_true_peak = cfg.max_true_peak_dbtp;
        }
        return plan;
    }
    let limited = wanted > headroom;
    let gain_db = if limited { headroom } else { wanted };
    with_gain(measured, gain_db, cfg, limited)
}

/// The limiter a clip needs whose true peak after the gain would be `true_peak_after` (dBTP):
/// `None` with `limiter = false`, or when the peak stays under the limiter's threshold (the
/// ceiling less its margin).
pub fn limiter_for(true_peak_after: f64, cfg: &LoudnessConfig) -> Option<Limiter> {
    let reaches = true_peak_after > cfg.max_true_peak_dbtp - limiter::MARGIN_DB;
    (cfg.limiter && reaches).then(|| Limiter::new(cfg.max_true_peak_dbtp))
}

fn with_gain(m: Loudness, gain_db: f64, cfg: &LoudnessConfig, limited: bool) -> GainPlan {
    let expected_lufs = m.lufs + gain_db;
    GainPlan {
        gain_db,
        expected_lufs,
        expected_true_peak: m.true_peak_dbtp + gain_db,
        shortfall_lu: (cfg.target_lufs - expected_lufs).max(0.0),
        limited,
        matched_to_pair: false,
        limiter: None,
        limiter_reduction_db: 0.0,
    }
}

/// The gains for the two clips of a message, enforcing the pair rule.
///
/// Each clip is planned alone with [`plan_gain`]. If the two expected loudnesses then differ by
/// more than `pair_tolerance_lu` (only possible when the ceiling capped one of them), the louder
/// clip's gain is lowered so both are expected at the *same* loudness — lowering is always safe
/// for the ceiling, raising the capped one is not. The returned plans keep the argument order.
pub fn plan_pair(a: Loudness, b: Loudness, cfg: &LoudnessConfig) -> [GainPlan; 2] {
    let mut plans = [
        plan_gain(a.lufs, a.true_peak_dbtp, cfg),
        plan_gain(b.lufs, b.true_peak_dbtp, cfg),
    ];
    let (ea, eb) = (plans[0].expected_lufs, plans[1].expected_lufs);
    if !ea.is_finite() || !eb.is_finite() || (ea - eb).abs() <= cfg.pair_tolerance_lu {
        return plans;
    }
    let (loud, measured, quiet) = if ea > eb { (0, a, eb) } else { (1, b, ea) };
    let limited = plans[loud].limited;
    plans[loud] = with_gain(measured, quiet - measured.lufs, cfg, limited);
    plans[loud].matched_to_pair = true;
    plans
}

/// Measuring failed (a channel count or sample rate the meter does not take).
#[derive(Debug, thiserror::Error)]
#[error("cannot measure loudness of {channels} channel(s) at {sample_rate} Hz: {source}")]
pub struct MeasureError {
    pub channels: u16,
    pub sample_rate: u32,
    #[source]
    pub source: ebur128::Error,
}

/// Integrated loudness and true peak of `pcm` as it is (ebur128, modes `I | TRUE_PEAK`).
pub fn measure(pcm: &Pcm) -> Result<Loudness, MeasureError> {
    let err = |source| MeasureError {
        channels: pcm.channels,
        sample_rate: pcm.sample_rate,
        source,
    };
    let mode = ebur128::Mode::I | ebur128::Mode::TRUE_PEAK;
    let mut meter =
        ebur128::EbuR128::new(u32::from(pcm.channels), pcm.sample_rate, mode).map_err(err)?;
    meter.add_frames_f32(&pcm.samples).map_err(err)?;
    let lufs = meter.loudness_global().map_err(err)?;
    let mut peak = 0f64;
    for ch in 0..u32::from(pcm.channels) {
        peak = peak.max(meter.true_peak(ch).map_err(err)?);
    }
    Ok(Loudness {
        lufs,
        true_peak_dbtp: 20.0 * peak.log10(),
    })
}

/// Loudness of `pcm` as it airs: measured on the mono downmix.
pub fn measure_for_air(pcm: &Pcm) -> Result<Loudness, MeasureError> {
    if pcm.channels == 1 {
        measure(pcm)
    } else {
        measure(&downmix_mono(pcm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy that caps the gain at the ceiling (`limiter = false`).
    fn cfg() -> LoudnessConfig {
        LoudnessConfig {
            limiter: false,
            ..LoudnessConfig::default()
        }
    }

    fn loud(lufs: f64, true_peak_dbtp: f64) -> Loudness {
        Loudness {
            lufs,
            true_peak_dbtp,
        }
    }

    #[test]
    fn quiet_clip_with_headroom_reaches_target() {
        let p = plan_gain(-30.0, -20.0, &cfg());
        assert!((p.gain_db - 14.0).abs() < 1e-9);
        assert!((p.expected_lufs + 16.0).abs() < 1e-9);
        assert!((p.expected_true_peak + 6.0).abs() < 1e-9);
        assert_eq!(p.shortfall_lu, 0.0);
        assert!(!p.limited);
    }

    #[test]
    fn loud_clip_is_turned_down() {
        let p = plan_gain(-8.0, -0.5, &cfg());
        assert!((p.gain_db + 8.0).abs() < 1e-9);
        assert!(p.expected_true_peak <= -1.0);
        assert!(!p.limited);
    }

    #[test]
    fn ceiling_caps_gain_and_reports_shortfall() {
        // crest factor 16 dB: reaching −16 LUFS would peak at 0 dBTP
        let p = plan_gain(-26.0, -10.0, &cfg());
        assert!(p.limited);
        assert!((p.gain_db - 9.0).abs() < 1e-9);
        assert!((p.expected_true_peak + 1.0).abs() < 1e-9);
        assert!((p.shortfall_lu - 1.0).abs() < 1e-9);
    }

    #[test]
    fn with_the_limiter_the_gain_reaches_the_target_and_the_limiter_takes_the_peaks() {
        let c = LoudnessConfig::default();
        assert!(c.limiter, "the limiter is the default");
        let p = plan_gain(-26.0, -10.0, &c);
        assert!(!p.limited && p.shortfall_lu == 0.0);
        assert!((p.gain_db - 10.0).abs() < 1e-9);
        assert_eq!(p.limiter, Some(Limiter::new(-1.0)));
        assert_eq!(p.expected_true_peak, -1.0);
        // with headroom to spare, no limiter
        let p = plan_gain(-30.0, -20.0, &c);
        assert!(p.limiter.is_none() && (p.expected_lufs + 16.0).abs() < 1e-9);
        // a pair both on target: nothing to match
        let [yi, zh] = plan_pair(loud(-26.0, -8.0), loud(-20.0, -12.0), &c);
        assert!(yi.limiter.is_some() && zh.limiter.is_none() && !zh.matched_to_pair);
        assert_eq!(yi.expected_lufs, zh.expected_lufs);
    }

    #[test]
    fn near_silence_gets_no_gain() {
        for lufs in [-70.0, -90.0, -118.9] {
            let p = plan_gain(lufs, -60.0, &LoudnessConfig::default());
            assert_eq!((p.gain_db, p.limiter), (0.0, None), "{lufs}");
        }
    }

    #[test]
    fn silence_is_left_alone() {
        let p = plan_gain(f64::NEG_INFINITY, f64::NEG_INFINITY, &cfg());
        assert_eq!(p.gain_db, 0.0);
        assert!(!p.limited);
    }

    #[test]
    fn pair_within_tolerance_is_untouched() {
        // Yi capped 0.5 LU short: within 1 LU, Mandarin stays at the target
        let [yi, zh] = plan_pair(loud(-26.0, -10.5), loud(-20.0, -12.0), &cfg());
        assert!(yi.limited && (yi.shortfall_lu - 0.5).abs() < 1e-9);
        assert!(!zh.matched_to_pair);
        assert!((zh.expected_lufs + 16.0).abs() < 1e-9);
    }

    #[test]
    fn pair_lowers_the_louder_clip_to_match() {
        // Yi capped 3 LU short; Mandarin would reach the target
        let [yi, zh] = plan_pair(loud(-26.0, -8.0), loud(-20.0, -12.0), &cfg());
        assert!(yi.limited);
        assert!((yi.shortfall_lu - 3.0).abs() < 1e-9);
        assert!(zh.matched_to_pair);
        assert!((zh.expected_lufs - yi.expected_lufs).abs() < 1e-9);
        assert!((zh.shortfall_lu - 3.0).abs() < 1e-9);
        // order of arguments does not matter
        let [zh2, yi2] = plan_pair(loud(-20.0, -12.0), loud(-26.0, -8.0), &cfg());
        assert_eq!((zh2, yi2), (zh, yi));
    }

    #[test]
    fn pair_never_exceeds_ceiling_or_tolerance() {
        let c = cfg();
        for (la, pa, lb, pb) in [(-40.0, -2.0, -10.0, -0.1), (-5.0, 0.0, -35.0, -30.0)] {
            let [a, b] = plan_pair(loud(la, pa), loud(lb, pb), &c);
            assert!((a.expected_lufs - b.expected_lufs).abs() <= c.pair_tolerance_lu);
            assert!(a.expected_true_peak <= c.max_true_peak_dbtp + 1e-9);
            assert!(b.expected_true_peak <= c.max_true_peak_dbtp + 1e-9);
        }
    }

    #[test]
    fn config_defaults_and_rejects_unknown_keys() {
        let c: LoudnessConfig = toml::from_str("target_lufs = -18.0").unwrap();
        assert_eq!(c.target_lufs, -18.0);
        assert_eq!(c.max_true_peak_dbtp, -1.0);
        let err = toml::from_str::<LoudnessConfig>("target = -18.0").unwrap_err();
        assert!(err.to_string().contains("target"), "{err}");
    }

    #[test]
    fn measure_sine_matches_theory() {
        // a full-scale-minus-20-dB 1 kHz sine: about −23 LUFS, peak −20 dBTP
        let rate = 48_000;
        let samples: Vec<f32> = (0..rate * 3)
            .map(|i| 0.1 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate as f32).sin())
            .collect();
        let pcm = Pcm {
            sample_rate: rate,
            channels: 1,
            samples,
        };
        let m = measure(&pcm).unwrap();
        assert!((m.lufs + 23.0).abs() < 0.2, "{m:?}");
        assert!((m.true_peak_dbtp + 20.0).abs() < 0.1, "{m:?}");
    }
}
