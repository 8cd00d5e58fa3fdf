//! A gain plan applied to audio — the static gain, then the limiter where the plan has one —
//! and [`settle`], which brings a limited clip onto its target: limiting lowers the integrated
//! loudness a little, so gain → limit → measure → correct, a bounded number of times.

use super::{GainPlan, Loudness, LoudnessConfig, MeasureError, measure, measure_for_air};
use crate::audio::decode::Pcm;

/// Most rounds of gain → limit → measure for one clip.
const MAX_PASSES: usize = 5;
/// A limited clip this close to its target (LU) is settled: well inside the 0.5 LU the policy
/// promises, and about what two meters disagree by.
const SETTLED_LU: f64 = 0.1;

/// `pcm` with `plan` applied: the gain, then the plan's limiter if any; and the largest gain
/// reduction the limiter applied, dB. Not clamped: a gain without the limiter may exceed full
/// scale, which the caller counts (render) or the 16-bit writer clamps.
pub fn apply_plan(pcm: &Pcm, plan: &GainPlan) -> (Pcm, f64) {
    let mut out = pcm.clone();
    let g = plan.linear();
    out.samples.iter_mut().for_each(|s| *s *= g);
    let reduction = plan.limiter.map_or(0.0, |l| l.process(&mut out));
    (out, reduction)
}

/// `plan` made exact for `pcm` (the audio as it airs, usually the mono downmix): a plan without
/// a limiter is returned as it is; a limited one is applied and measured, its gain corrected by
/// what the clip still misses of its target and its limiter's ceiling lowered by any true peak
/// the meter finds over the ceiling, until both hold or [`MAX_PASSES`] rounds were made. The
/// plan returned carries the measured figures and the limiter's gain reduction.
pub fn settle(pcm: &Pcm, plan: GainPlan, cfg: &LoudnessConfig) -> Result<GainPlan, MeasureError> {
    let Some(mut limiter) = plan.limiter else {
        return Ok(plan);
    };
    let target = plan.expected_lufs;
    let mut p = plan;
    // (gain, loudness) of the pass before: the slope between two passes is how much of a
    // correction survives the limiter (less than all of it), so the next one is scaled up
    let mut before: Option<(f64, f64)> = None;
    for pass in 1..=MAX_PASSES {
        p.limiter = Some(limiter);
        let (out, reduction) = apply_plan(pcm, &p);
        // the cheap measure (integrated loudness only) until on target, then the true peak too
        let lufs = measure_lufs(&out)?;
        let off = target - lufs;
        let last = pass == MAX_PASSES || !off.is_finite();
        tracing::debug!(pass, gain_db = p.gain_db, lufs, reduction, "limited");
        if off.abs() > SETTLED_LU && !last {
            let step = correction(before, (p.gain_db, lufs), off);
            before = Some((p.gain_db, lufs));
            p.gain_db += step;
            continue;
        }
        let m = measure_output(&out)?;
        p.expected_lufs = m.lufs;
        p.expected_true_peak = m.true_peak_dbtp;
        p.limiter_reduction_db = reduction;
        p.shortfall_lu = (cfg.target_lufs - m.lufs).max(0.0);
        let over = m.true_peak_dbtp - cfg.max_true_peak_dbtp;
        if over <= 0.0 || last {
            break;
        }
        limiter.ceiling_dbtp -= over + 0.05;
        before = None;
        p.gain_db += off;
    }
    Ok(p)
}

/// The gain change for a clip `off` LU from its target, at `now` (gain, loudness) after
/// `before`: `off` scaled by the observed slope (kept within 0.2–1, so it never turns the
/// gain down for a clip below target, nor more than five times the shortfall).
fn correction(before: Option<(f64, f64)>, now: (f64, f64), off: f64) -> f64 {
    let Some((g0, l0)) = before else { return off };
    let (g1, l1) = now;
    let slope = (l1 - l0) / (g1 - g0);
    if slope.is_finite() {
        off / slope.clamp(0.2, 1.0)
    } else {
        off
    }
}

/// Integrated loudness of the mono downmix alone (no true peak: a quarter of the work).
fn measure_lufs(out: &Pcm) -> Result<f64, MeasureError> {
    let mono = if out.channels == 1 {
        std::borrow::Cow::Borrowed(out)
    } else {
        std::borrow::Cow::Owned(super::downmix_mono(out))
    };
    let err = |source| MeasureError {
        channels: 1,
        sample_rate: out.sample_rate,
        source,
    };
    let mut meter = ebur128::EbuR128::new(1, out.sample_rate, ebur128::Mode::I).map_err(err)?;
    meter.add_frames_f32(&mono.samples).map_err(err)?;
    meter.loudness_global().map_err(err)
}

/// Loudness on the mono downmix (as it airs), true peak over every channel.
fn measure_output(out: &Pcm) -> Result<Loudness, MeasureError> {
    let air = measure_for_air(out)?;
    if out.channels == 1 {
        return Ok(air);
    }
    Ok(Loudness {
        lufs: air.lufs,
        true_peak_dbtp: measure(out)?.true_peak_dbtp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loudness::plan_gain;

    /// Speech-like: a 200 Hz tone at −30 dBFS with a 0 dBFS click every half second — its
    /// crest factor is far over what the target and the ceiling leave.
    fn spiky() -> Pcm {
        let rate = 16_000;
        let mut samples: Vec<f32> = (0..rate * 4)
            .map(|i| 0.03 * (2.0 * std::f32::consts::PI * 200.0 * i as f32 / rate as f32).sin())
            .collect();
        for i in (0..samples.len()).step_by(8_000) {
            samples[i] = 0.99;
        }
        Pcm {
            sample_rate: rate,
            channels: 1,
            samples,
        }
    }

    #[test]
    fn limited_clip_settles_on_target_under_the_ceiling() {
        let pcm = spiky();
        let m = measure(&pcm).unwrap();
        let cfg = LoudnessConfig::default();
        let plan = plan_gain(m.lufs, m.true_peak_dbtp, &cfg);
        assert!(plan.limiter.is_some() && !plan.limited, "{plan:?}");
        let settled = settle(&pcm, plan, &cfg).unwrap();
        let (out, reduction) = apply_plan(&pcm, &settled);
        let got = measure(&out).unwrap();
        assert!((got.lufs - cfg.target_lufs).abs() <= 0.1, "{got:?}");
        assert!(got.true_peak_dbtp <= cfg.max_true_peak_dbtp, "{got:?}");
        assert_eq!(reduction, settled.limiter_reduction_db);
        assert!(reduction > 10.0, "the clicks are taken: {reduction}");
        assert!(settled.shortfall_lu <= SETTLED_LU, "{settled:?}");
        // the same plan gives the same audio: what is cached is what was measured
        assert_eq!(apply_plan(&pcm, &settled).0, out);
    }

    #[test]
    fn corrections_follow_the_slope_the_limiter_leaves() {
        assert_eq!(correction(None, (3.0, -16.3), 0.3), 0.3);
        // one dB more gave 0.5 LU more: a 0.2 LU shortfall needs 0.4 dB
        let step = correction(Some((3.0, -16.7)), (4.0, -16.2), 0.2);
        assert!((step - 0.4).abs() < 1e-9, "{step}");
        // no change, or a change the wrong way: the plain shortfall or at most five times it
        assert_eq!(correction(Some((3.0, -16.2)), (3.0, -16.2), 0.2), 0.2);
        let step = correction(Some((3.0, -16.1)), (4.0, -16.2), 0.2);
        assert!((step - 1.0).abs() < 1e-9, "{step}");
    }

    #[test]
    fn without_the_limiter_the_gain_is_capped_and_the_shortfall_kept() {
        let pcm = spiky();
        let m = measure(&pcm).unwrap();
        let cfg = LoudnessConfig {
            limiter: false,
            ..LoudnessConfig::default()
        };
        let plan = plan_gain(m.lufs, m.true_peak_dbtp, &cfg);
        assert!(plan.limited && plan.limiter.is_none() && plan.shortfall_lu > 5.0);
        assert_eq!(settle(&pcm, plan, &cfg).unwrap(), plan);
        let (out, reduction) = apply_plan(&pcm, &plan);
        assert_eq!(reduction, 0.0);
        let got = measure(&out).unwrap();
        assert!(
            got.true_peak_dbtp <= cfg.max_true_peak_dbtp + 0.05,
            "{got:?}"
        );
        assert!((got.lufs - plan.expected_lufs).abs() < 0.1, "{got:?}");
    }
}
