//! The audio gate: which clips and pairs may air. A clip that fails is never scheduled, and
//! the reason is given in plain words. Pure: it judges probe results, it reads no files.

use serde::Deserialize;

use super::Verdict;
use super::probe::{AnalysisParams, ProbeRecord};
use crate::audio::decode::DecodeError;
use crate::lang::Lang;

/// The gate's thresholds (`[gate]` in settings; every field optional).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    /// Longest clip that may air, seconds. Default 120.
    pub max_duration_s: f64,
    /// Shortest clip that may air, seconds. Default 1.
    pub min_duration_s: f64,
    /// A 50 ms block whose RMS level is below this (dBFS) counts as silent. Default -45.
    pub silence_dbfs: f64,
    /// Largest share of silent blocks a clip may have (0–1); above it the clip is "mostly
    /// silent". Default 0.6 — speech has pauses, but not that many.
    pub max_silent_fraction: f64,
    /// A clip whose integrated loudness is below this (LUFS) is nearly silent and rejected
    /// before any gain is planned: bringing it to the target would mostly raise its noise.
    /// Default -45.
    pub min_lufs: f64,
    /// Clipped when one channel has this many consecutive samples at full scale
    /// (|x| ≥ 0.999). Default 4.
    pub clip_run_samples: u64,
    /// A sample at or above this level (dBFS) counts as near full scale. Default -0.5: lossy
    /// encoders smooth a clipped plateau to just under full scale, so exactly 0 dBFS misses it.
    pub clip_peak_dbfs: f64,
    /// Clipped when at least this many samples are near full scale (see `clip_peak_dbfs`)...
    /// Default 50.
    pub clip_peak_count: u64,
    /// ...and they are at least this share of all samples (0–1), so that a long clip's few
    /// honest peaks are not mistaken for clipping. Default 0.001 (one sample in a thousand).
    pub clip_peak_fraction: f64,
    /// Warn when the longer clip of a pair is more than this many times the shorter. Default 2.
    pub pair_duration_ratio: f64,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            max_duration_s: 120.0,
            min_duration_s: 1.0,
            silence_dbfs: -45.0,
            max_silent_fraction: 0.6,
            min_lufs: -45.0,
            clip_run_samples: 4,
            clip_peak_dbfs: -0.5,
            clip_peak_count: 50,
            clip_peak_fraction: 0.001,
            pair_duration_ratio: 2.0,
        }
    }
}

impl GateConfig {
    /// The analysis settings probing must use for this gate.
    pub fn analysis_params(&self) -> AnalysisParams {
        AnalysisParams {
            clip_peak_dbfs: self.clip_peak_dbfs,
        }
    }
}

/// Collects reasons, then becomes a verdict.
#[derive(Debug, Default)]
struct Reasons {
    rejected: Vec<String>,
    warnings: Vec<String>,
}

impl Reasons {
    fn verdict(self) -> Verdict {
        if !self.rejected.is_empty() {
            Verdict::Rejected(self.rejected)
        } else if !self.warnings.is_empty() {
            Verdict::Warning(self.warnings)
        } else {
            Verdict::Ok
        }
    }
}

/// Judge one clip from its probe result; `stand_in` is the note when it is synthetic.
pub fn judge_clip(
    cfg: &GateConfig,
    probed: &Result<ProbeRecord, DecodeError>,
    stand_in: Option<&str>,
) -> Verdict {
    let mut r = Reasons::default();
    match probed {
        Err(e @ (DecodeError::Truncated(_) | DecodeError::Corrupt { .. } | DecodeError::Empty)) => {
            r.rejected.push(e.to_string());
        }
        Err(e) => r
            .rejected
            .push(crate::t!("gate-undecodable", reason = e.to_string())),
        Ok(rec) => judge_audio(cfg, rec, &mut r),
    }
    if let Some(note) = stand_in {
        r.warnings.push(crate::t!("gate-stand-in", note = note));
    }
    r.verdict()
}

fn judge_audio(cfg: &GateConfig, rec: &ProbeRecord, r: &mut Reasons) {
    let (p, a) = (&rec.probe, &rec.analysis);
    if p.frames == 0 {
        r.rejected.push(crate::t!("gate-empty"));
        return;
    }
    if p.duration_s < cfg.min_duration_s {
        r.rejected.push(crate::t!(
            "gate-too-short",
            seconds = format!("{:.2}", p.duration_s),
            min = cfg.min_duration_s
        ));
    }
    if p.duration_s > cfg.max_duration_s {
        r.rejected.push(crate::t!(
            "gate-too-long",
            seconds = format!("{:.1}", p.duration_s),
            max = cfg.max_duration_s
        ));
    }
    if let Some(reason) = too_quiet(cfg, p.lufs) {
        r.rejected.push(reason);
    }
    let silent = silent_fraction(cfg, rec);
    if silent > cfg.max_silent_fraction {
        r.rejected.push(crate::t!(
            "gate-mostly-silent",
            percent = format!("{:.0}", silent * 100.0),
            level = cfg.silence_dbfs,
            allowed = format!("{:.0}", cfg.max_silent_fraction * 100.0)
        ));
    }
    if a.max_full_scale_run >= cfg.clip_run_samples {
        r.rejected.push(crate::t!(
            "gate-clipped-run",
            samples = a.max_full_scale_run
        ));
    } else if a.samples_near_full_scale >= clip_count_limit(cfg, p.frames * u64::from(p.channels)) {
        r.rejected.push(crate::t!(
            "gate-clipped-peaks",
            samples = a.samples_near_full_scale,
            level = cfg.clip_peak_dbfs
        ));
    }
    if a.bad_packets > 0 {
        r.warnings.push(crate::t!(
            "gate-bad-packets",
            bad = a.bad_packets,
            packets = a.packets
        ));
    }
}

/// The reason a clip of integrated loudness `lufs` is rejected as (nearly) silent, if it is.
fn too_quiet(cfg: &GateConfig, lufs: f64) -> Option<String> {
    if !lufs.is_finite() || lufs <= crate::loudness::SILENT_LUFS {
        return Some(crate::t!("gate-silent"));
    }
    (lufs < cfg.min_lufs).then(|| {
        crate::t!(
            "gate-nearly-silent",
            lufs = format!("{lufs:.1}"),
            min = cfg.min_lufs
        )
    })
}

/// How many samples near full scale make a clip of `samples` samples clipped.
fn clip_count_limit(cfg: &GateConfig, samples: u64) -> u64 {
    let share = (cfg.clip_peak_fraction * samples as f64).ceil() as u64;
    cfg.clip_peak_count.max(share)
}

/// Share of envelope blocks below the silence threshold (1.0 for a clip with no blocks).
pub fn silent_fraction(cfg: &GateConfig, rec: &ProbeRecord) -> f64 {
    let env = &rec.analysis.envelope;
    if env.is_empty() {
        return 1.0;
    }
    let silent = env
        .iter()
        .filter(|(db, _)| f64::from(*db) < cfg.silence_dbfs)
        .count();
    silent as f64 / env.len() as f64
}

/// Judge a message's pair: each language present (`None` = no recording), not the same file,
/// not the same audio, lengths not far apart.
pub fn judge_pair(cfg: &GateConfig, ii: Option<&ProbeRecord>, zh: Option<&ProbeRecord>) -> Verdict {
    let mut r = Reasons::default();
    let present = [(Lang::Ii, ii.is_some()), (Lang::Zh, zh.is_some())];
    for (lang, _) in present.iter().filter(|(_, there)| !there) {
        r.rejected.push(missing_reason(*lang));
    }
    if let (Some(a), Some(b)) = (ii, zh) {
        if a.probe.sha256 == b.probe.sha256 {
            r.rejected.push(crate::t!("gate-same-file"));
        } else if same_audio(cfg, a, b) {
            r.rejected.push(crate::t!("gate-same-audio"));
        }
        let (da, db) = (a.probe.duration_s, b.probe.duration_s);
        let ratio = da.max(db) / da.min(db).max(1e-9);
        if ratio > cfg.pair_duration_ratio {
            r.warnings.push(crate::t!(
                "gate-lengths-differ",
                ii = format!("{da:.1}"),
                zh = format!("{db:.1}"),
                ratio = format!("{ratio:.1}"),
                max = cfg.pair_duration_ratio
            ));
        }
    }
    r.verdict()
}

/// The reason given when a message has no recording in `lang`.
pub fn missing_reason(lang: Lang) -> String {
    match lang {
        Lang::Ii => crate::t!("gate-no-ii"),
        Lang::Zh => crate::t!("gate-no-zh"),
    }
}

/// Envelope blocks the two clips may be offset by (encoder delay), each way.
const MAX_LAG_BLOCKS: usize = 4;
/// Mean level difference (dB) over sounding blocks below which two envelopes match.
const SAME_LEVEL_DB: f64 = 1.5;
/// Mean difference in zero crossings per sample below which two envelopes match.
const SAME_ZCR: f64 = 0.02;

/// Whether two clips carry the same sound: identical decoded PCM, or (across lossy encodings)
/// lengths within 2% and level/zero-crossing envelopes that match at some small offset.
pub fn same_audio(cfg: &GateConfig, a: &ProbeRecord, b: &ProbeRecord) -> bool {
    if a.analysis.pcm_sha256 == b.analysis.pcm_sha256 {
        return true;
    }
    let (da, db) = (a.probe.duration_s, b.probe.duration_s);
    if (da - db).abs() > 0.02 * da.max(db) {
        return false;
    }
    (0..=MAX_LAG_BLOCKS).any(|lag| {
        envelopes_match(
            cfg,
            &a.analysis.envelope[lag.min(a.analysis.envelope.len())..],
            &b.analysis.envelope,
        ) || envelopes_match(
            cfg,
            &a.analysis.envelope,
            &b.analysis.envelope[lag.min(b.analysis.envelope.len())..],
        )
    })
}

fn envelopes_match(cfg: &GateConfig, a: &[(f32, f32)], b: &[(f32, f32)]) -> bool {
    let (mut n, mut level, mut zcr) = (0usize, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        if f64::from(x.0.max(y.0)) < cfg.silence_dbfs {
            continue;
        }
        n += 1;
        level += f64::from((x.0 - y.0).abs());
        zcr += f64::from((x.1 - y.1).abs());
    }
    let blocks = a.len().min(b.len());
    n * 2 >= blocks && n > 0 && level / n as f64 <= SAME_LEVEL_DB && zcr / n as f64 <= SAME_ZCR
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Probe;
    use crate::catalog::probe::Analysis;

    /// A probe record; the test reads its verdicts in English.
    fn rec(secs: f64, env: Vec<(f32, f32)>, sha: &str) -> ProbeRecord {
        crate::locale::set_thread(crate::locale::Locale::En);
        ProbeRecord {
            probe: Probe {
                container: "wav".into(),
                codec: "pcm_s16le".into(),
                sample_rate: 8000,
                channels: 1,
                frames: (secs * 8000.0) as u64,
                duration_s: secs,
                lufs: -20.0,
                true_peak_dbtp: -3.0,
                sha256: sha.into(),
                size_bytes: 100,
            },
            analysis: Analysis {
                params: GateConfig::default().analysis_params(),
                max_full_scale_run: 0,
                samples_near_full_scale: 0,
                sample_peak_dbfs: -3.0,
                packets: 10,
                bad_packets: 0,
                envelope: env,
                pcm_sha256: format!("pcm-{sha}"),
            },
        }
    }

    /// A speech-like envelope: level and crossings vary block to block with `seed`.
    fn speech(blocks: usize, seed: u32) -> Vec<(f32, f32)> {
        (0..blocks as u32)
            .map(|i| {
                let x = (i.wrapping_mul(2_654_435_761).wrapping_add(seed * 97)) % 1000;
                (-40.0 + x as f32 / 40.0, 0.05 + x as f32 / 10_000.0)
            })
            .collect()
    }

    fn reasons(v: &Verdict) -> String {
        match v {
            Verdict::Ok => String::new(),
            Verdict::Warning(r) | Verdict::Rejected(r) => r.join("; "),
        }
    }

    #[test]
    fn a_good_clip_passes() {
        let v = judge_clip(
            &GateConfig::default(),
            &Ok(rec(10.0, speech(200, 1), "a")),
            None,
        );
        assert_eq!(v, Verdict::Ok);
    }

    #[test]
    fn limits_reject_in_plain_words() {
        let cfg = GateConfig::default();
        let long = judge_clip(&cfg, &Ok(rec(130.0, speech(2600, 1), "a")), None);
        assert!(reasons(&long).contains("too long: 130.0 s"), "{long:?}");
        let silent = judge_clip(&cfg, &Ok(rec(10.0, vec![(-90.0, 0.0); 200], "a")), None);
        assert!(
            reasons(&silent).contains("mostly silent: 100%"),
            "{silent:?}"
        );
        let mut clipped = rec(10.0, speech(200, 1), "a");
        clipped.analysis.max_full_scale_run = 9;
        let v = judge_clip(&cfg, &Ok(clipped.clone()), None);
        assert!(matches!(v, Verdict::Rejected(_)) && reasons(&v).contains("clipped"));
        // 10 s at 8 kHz: 80 samples near full scale is a peak or two, 80 000 is clipping.
        clipped.analysis.max_full_scale_run = 0;
        clipped.analysis.samples_near_full_scale = 79;
        assert_eq!(judge_clip(&cfg, &Ok(clipped.clone()), None), Verdict::Ok);
        clipped.analysis.samples_near_full_scale = 80;
        let v = judge_clip(&cfg, &Ok(clipped), None);
        assert!(
            reasons(&v).contains("80 samples at or above -0.5 dBFS"),
            "{v:?}"
        );
    }

    #[test]
    fn silent_and_nearly_silent_clips_are_rejected_by_loudness() {
        let cfg = GateConfig::default();
        let speechy = |lufs: f64| {
            let mut r = rec(10.0, speech(200, 1), "a");
            r.probe.lufs = lufs;
            judge_clip(&cfg, &Ok(r), None)
        };
        assert_eq!(speechy(-44.9), Verdict::Ok);
        let v = speechy(-52.34);
        assert!(
            reasons(&v).contains("nearly silent: -52.3 LUFS, below the minimum of -45 LUFS"),
            "{v:?}"
        );
        // the probe's floor for digital silence, and no measurement at all
        for lufs in [-120.0, f64::NEG_INFINITY] {
            let v = speechy(lufs);
            assert!(matches!(v, Verdict::Rejected(_)), "{v:?}");
            assert!(reasons(&v).contains("no measurable loudness"), "{v:?}");
            assert!(!reasons(&v).contains("dB"), "no gain is shown: {v:?}");
        }
        let stricter = GateConfig {
            min_lufs: -30.0,
            ..GateConfig::default()
        };
        let mut r = rec(10.0, speech(200, 1), "a");
        r.probe.lufs = -35.0;
        assert!(matches!(
            judge_clip(&stricter, &Ok(r), None),
            Verdict::Rejected(_)
        ));
    }

    #[test]
    fn stand_in_is_a_warning() {
        let v = judge_clip(
            &GateConfig::default(),
            &Ok(rec(10.0, speech(200, 1), "a")),
            Some("tts"),
        );
        assert_eq!(v, Verdict::Warning(vec!["stand-in: tts".into()]));
    }

    #[test]
    fn pairs_same_file_same_audio_missing_and_ratio() {
        let cfg = GateConfig::default();
        let a = rec(10.0, speech(200, 1), "a");
        let same_file = judge_pair(&cfg, Some(&a), Some(&a));
        assert!(reasons(&same_file).contains("same file"));
        let mut reencoded = rec(10.05, speech(201, 1), "b");
        reencoded.analysis.envelope.insert(0, (-80.0, 0.0));
        let v = judge_pair(&cfg, Some(&a), Some(&reencoded));
        assert!(reasons(&v).contains("same audio"), "{v:?}");
        let other = rec(10.0, speech(200, 7), "c");
        assert_eq!(judge_pair(&cfg, Some(&a), Some(&other)), Verdict::Ok);
        let missing = judge_pair(&cfg, None, Some(&a));
        assert!(reasons(&missing).contains("no Nuosu Yi (`ii`) recording"));
        let short = rec(3.0, speech(60, 3), "d");
        let v = judge_pair(&cfg, Some(&a), Some(&short));
        assert!(matches!(v, Verdict::Warning(_)) && reasons(&v).contains("differ a lot"));
    }

    #[test]
    fn config_rejects_unknown_keys() {
        let cfg: GateConfig = toml::from_str("max_duration_s = 60.0").unwrap();
        assert_eq!(cfg.max_duration_s, 60.0);
        assert_eq!(cfg.min_duration_s, 1.0);
        assert!(toml::from_str::<GateConfig>("max_duration = 60.0").is_err());
    }
}
