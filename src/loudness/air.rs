//! The gains a message's clips get on air: one computation shared by `catalog` (what it shows),
//! `render --township` (what staff hear) and the push path (what endpoints and stations get).
//! A clip the audio gate rejects never airs and gets no gain at all.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{LazyLock, Mutex};

use crate::audio::decode::{Pcm, decode_file};
use crate::catalog::{Clip, Message, Verdict};
use crate::lang::Lang;

use super::{
    GainPlan, Loudness, LoudnessConfig, downmix_mono, measure_for_air, plan_gain, plan_pair, settle,
};

/// A clip's loudness as it airs and the gain the policy gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AirGain {
    pub measured: Loudness,
    /// `mono` (the probe's figures) or `mono downmix` (a multi-channel file decoded and
    /// measured as it airs).
    pub measured_on: &'static str,
    pub plan: GainPlan,
}

/// A clip's loudness as it airs: the probe's figures for a mono file, else its mono downmix
/// decoded and measured. `None` when it has no probe or cannot be measured.
pub fn air_loudness(root: &Path, clip: &Clip) -> Option<(Loudness, &'static str)> {
    let p = clip.probe.as_ref()?;
    if p.channels == 1 {
        let l = Loudness {
            lufs: p.lufs,
            true_peak_dbtp: p.true_peak_dbtp,
        };
        return Some((l, "mono"));
    }
    let pcm = air_pcm(root, clip)?;
    let l = measure_for_air(&pcm).ok()?;
    Some((l, "mono downmix"))
}

/// The clip's audio as it airs (its mono downmix); `None`, logged, when it cannot be decoded.
fn air_pcm(root: &Path, clip: &Clip) -> Option<Pcm> {
    let pcm = decode_file(&root.join(&clip.file))
        .inspect_err(|e| tracing::warn!(file = %clip.file.display(), error = %e, "cannot decode"))
        .ok()?;
    Some(downmix_mono(&pcm))
}

/// Settled plans already worked out in this process, by [`settle_key`]: the push path asks for
/// a message's gains once per clip, and settling decodes and limits the audio several times.
static SETTLED: LazyLock<Mutex<BTreeMap<String, GainPlan>>> = LazyLock::new(Default::default);

/// What decides a settled plan: the clip's bytes (sha256), the plan and the policy.
fn settle_key(clip: &Clip, plan: &GainPlan, cfg: &LoudnessConfig) -> Option<String> {
    let sha = &clip.probe.as_ref()?.sha256;
    let tag = plan.limiter.map(|l| l.cache_tag()).unwrap_or_default();
    Some(format!(
        "{sha}|{:.6}|{:.6}|{tag}|{:.6}|{:.6}",
        plan.gain_db, plan.expected_lufs, cfg.target_lufs, cfg.max_true_peak_dbtp
    ))
}

/// `plan` settled on `clip`'s audio, from [`SETTLED`] when it was worked out before.
fn settled(root: &Path, clip: &Clip, plan: GainPlan, cfg: &LoudnessConfig) -> Option<GainPlan> {
    let key = settle_key(clip, &plan, cfg)?;
    let memo =
        |m: &Mutex<BTreeMap<String, GainPlan>>| m.lock().ok().and_then(|m| m.get(&key).copied());
    if let Some(done) = memo(&SETTLED) {
        return Some(done);
    }
    let pcm = air_pcm(root, clip)?;
    let done = settle(&pcm, plan, cfg)
        .inspect_err(|e| tracing::warn!(file = %clip.file.display(), error = %e))
        .ok()?;
    if let Ok(mut m) = SETTLED.lock() {
        m.insert(key, done);
    }
    Some(done)
}

/// The gain of every measurable clip of `msg` the gate lets air: both languages planned
/// together by the pair rule when both can be measured, otherwise each on its own; a plan with
/// the limiter is [`settle`]d on the clip's audio, so its figures are what the adjusted clip
/// measures. Rejected clips get no entry.
pub fn message_gains(root: &Path, msg: &Message, cfg: &LoudnessConfig) -> BTreeMap<Lang, AirGain> {
    let measured: Vec<(&Clip, Loudness, &'static str)> = msg
        .clips
        .values()
        .filter(|c| !matches!(c.verdict, Verdict::Rejected(_)))
        .filter_map(|c| air_loudness(root, c).map(|(l, on)| (c, l, on)))
        .collect();
    let plans: Vec<GainPlan> = match &measured[..] {
        [(_, a, _), (_, b, _)] => plan_pair(*a, *b, cfg).to_vec(),
        _ => measured
            .iter()
            .map(|(_, l, _)| plan_gain(l.lufs, l.true_peak_dbtp, cfg))
            .collect(),
    };
    measured
        .into_iter()
        .zip(plans)
        .filter_map(|((clip, measured, measured_on), plan)| {
            let plan = match plan.limiter {
                None => plan,
                Some(_) => settled(root, clip, plan, cfg)?,
            };
            let gain = AirGain {
                measured,
                measured_on,
                plan,
            };
            Some((clip.lang, gain))
        })
        .collect()
}
