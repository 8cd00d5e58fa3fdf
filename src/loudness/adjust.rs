//! Loudness-adjusted clips: the audio that is pushed to endpoints, so what airs sounds like what
//! was rendered. 16-bit PCM WAV, **mono at the source's sample rate** (no resampling, so nothing
//! is lost before the endpoint), content-addressed in a cache; originals are never touched.
//!
//! Cache key: sha256 over the source file's bytes, the gain (to 1/10000 dB), the limiter's
//! settings (or `limiter=off`) and a format version. The gain and the limiter follow from the
//! measured loudness and the policy, so a changed source or a changed `[loudness]` section gives
//! a new key and a rebuild; an unchanged one is reused.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{
    GainPlan, LoudnessConfig, MeasureError, apply_plan, measure_for_air, plan_gain, plan_pair,
    settle,
};
use crate::audio::decode::{DecodeError, Pcm, decode_bytes};

/// Bumped whenever the adjusted file's bytes would change for the same inputs.
const FORMAT_VERSION: &str = "shengbo-adjusted-v1:wav-s16-mono-source-rate";

/// A loudness-adjusted clip in the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct AdjustedClip {
    pub path: PathBuf,
    /// Hex sha256 of the adjusted file's bytes.
    pub sha256: String,
    pub size_bytes: u64,
    pub duration_s: f64,
    /// The file was already in the cache.
    pub reused: bool,
}

/// Why an adjusted clip could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdjustError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot decode `{path}`: {source}")]
    Decode { path: PathBuf, source: DecodeError },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot measure `{path}`: {source}")]
    Measure { path: PathBuf, source: MeasureError },
    #[error("cannot encode `{path}`: {source}")]
    Encode { path: PathBuf, source: hound::Error },
}

/// The mono downmix of `pcm`: the average of its channels, frame by frame.
pub fn downmix_mono(pcm: &Pcm) -> Pcm {
    let ch = usize::from(pcm.channels.max(1));
    let samples = pcm
        .samples
        .chunks_exact(ch)
        .map(|f| f.iter().sum::<f32>() / ch as f32)
        .collect();
    Pcm {
        sample_rate: pcm.sample_rate,
        channels: 1,
        samples,
    }
}

/// `pcm` downmixed to mono with the plan applied: the gain, then its limiter if any (the
/// 16-bit writer clamps to full scale).
pub fn adjusted_pcm(pcm: &Pcm, gain: &GainPlan) -> Pcm {
    apply_plan(&downmix_mono(pcm), gain).0
}

/// The cache key for `source_bytes` adjusted by `gain`.
pub fn cache_key(source_bytes: &[u8], gain: &GainPlan) -> String {
    let mut h = Sha256::new();
    h.update(FORMAT_VERSION.as_bytes());
    h.update(format!("|gain_db={:.4}|", gain.gain_db).as_bytes());
    let limiter = gain.limiter.map(|l| l.cache_tag());
    h.update(limiter.as_deref().unwrap_or("limiter=off").as_bytes());
    h.update(b"|");
    h.update(source_bytes);
    hex::encode(h.finalize())
}

/// The adjusted version of `source` in `cache_dir`, made if missing.
#[tracing::instrument(skip(gain), fields(gain_db = gain.gain_db))]
pub fn adjusted_clip(
    source: &Path,
    gain: &GainPlan,
    cache_dir: &Path,
) -> Result<AdjustedClip, AdjustError> {
    let bytes = read(source)?;
    let path = cache_dir.join(format!("{}.wav", cache_key(&bytes, gain)));
    let reused = path.is_file();
    if !reused {
        let pcm = decode(source, bytes)?;
        write_wav_atomic(&adjusted_pcm(&pcm, gain), &path)?;
        tracing::info!(cache = %path.display(), "adjusted clip written");
    }
    describe(&path, reused)
}

/// Adjusted clips for one message's clips (usually the pair): each decoded once, measured on
/// its mono downmix, planned together with [`plan_pair`] when there are two, [`settle`]d where
/// the limiter takes peaks, then cached.
pub fn adjust_message(
    sources: &[&Path],
    cfg: &LoudnessConfig,
    cache_dir: &Path,
) -> Result<Vec<(GainPlan, AdjustedClip)>, AdjustError> {
    let mut decoded = Vec::with_capacity(sources.len());
    let mut measured = Vec::with_capacity(sources.len());
    for &src in sources {
        let bytes = read(src)?;
        let pcm = decode(src, bytes.clone())?;
        let m = measure_for_air(&pcm).map_err(|e| AdjustError::Measure {
            path: src.to_path_buf(),
            source: e,
        })?;
        decoded.push((bytes, pcm));
        measured.push(m);
    }
    let plans: Vec<GainPlan> = match measured[..] {
        [a, b] => plan_pair(a, b, cfg).to_vec(),
        _ => measured
            .iter()
            .map(|m| plan_gain(m.lufs, m.true_peak_dbtp, cfg))
            .collect(),
    };
    let mut out = Vec::with_capacity(sources.len());
    for ((bytes, pcm), plan) in decoded.iter().zip(plans) {
        let mono = downmix_mono(pcm);
        let plan = settle(&mono, plan, cfg).map_err(|e| AdjustError::Measure {
            path: sources[out.len()].to_path_buf(),
            source: e,
        })?;
        let path = cache_dir.join(format!("{}.wav", cache_key(bytes, &plan)));
        let reused = path.is_file();
        if !reused {
            write_wav_atomic(&apply_plan(&mono, &plan).0, &path)?;
        }
        out.push((plan, describe(&path, reused)?));
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Vec<u8>, AdjustError> {
    std::fs::read(path).map_err(|e| AdjustError::Read {
        path: path.to_path_buf(),
        source: e,
    })
}

fn decode(path: &Path, bytes: Vec<u8>) -> Result<Pcm, AdjustError> {
    let ext = path.extension().and_then(|e| e.to_str());
    decode_bytes(bytes, ext).map_err(|e| AdjustError::Decode {
        path: path.to_path_buf(),
        source: e,
    })
}

fn describe(path: &Path, reused: bool) -> Result<AdjustedClip, AdjustError> {
    let read_err = |e| AdjustError::Read {
        path: path.to_path_buf(),
        source: e,
    };
    let bytes = std::fs::read(path).map_err(read_err)?;
    let reader =
        hound::WavReader::new(std::io::Cursor::new(&bytes)).map_err(|e| AdjustError::Encode {
            path: path.to_path_buf(),
            source: e,
        })?;
    let spec = reader.spec();
    let duration_s = f64::from(reader.duration()) / f64::from(spec.sample_rate);
    Ok(AdjustedClip {
        path: path.to_path_buf(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        size_bytes: bytes.len() as u64,
        duration_s,
        reused,
    })
}

/// 16-bit PCM WAV bytes of `pcm` (samples rounded to the nearest step, clamped).
pub fn wav_s16_bytes(pcm: &Pcm) -> Result<Vec<u8>, hound::Error> {
    let spec = hound::WavSpec {
        channels: pcm.channels,
        sample_rate: pcm.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cursor, spec)?;
    for &s in &pcm.samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)?;
    }
    w.finalize()?;
    Ok(cursor.into_inner())
}

/// Write `pcm` as 16-bit WAV to `path` via a temporary file and a rename, so a crash never
/// leaves a half-written file under the final name.
pub fn write_wav_atomic(pcm: &Pcm, path: &Path) -> Result<(), AdjustError> {
    let bytes = wav_s16_bytes(pcm).map_err(|e| AdjustError::Encode {
        path: path.to_path_buf(),
        source: e,
    })?;
    let write_err = |e| AdjustError::Write {
        path: path.to_path_buf(),
        source: e,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let tmp = crate::datadir::temp_beside(path);
    let mut f = std::fs::File::create(&tmp).map_err(write_err)?;
    f.write_all(&bytes).map_err(write_err)?;
    f.sync_all().map_err(write_err)?;
    std::fs::rename(&tmp, path).map_err(write_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::decode::decode_file;
    use crate::loudness::measure;

    fn tone(rate: u32, channels: u16, freq: f32, amp: f32, secs: f32) -> Pcm {
        let frames = (rate as f32 * secs) as usize;
        let mut samples = Vec::with_capacity(frames * usize::from(channels));
        for i in 0..frames {
            let v = amp * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin();
            samples.extend(std::iter::repeat_n(v, usize::from(channels)));
        }
        Pcm {
            sample_rate: rate,
            channels,
            samples,
        }
    }

    #[test]
    fn downmix_averages_channels() {
        let pcm = Pcm {
            sample_rate: 8000,
            channels: 2,
            samples: vec![1.0, 0.0, 0.5, 0.5, -1.0, 1.0],
        };
        assert_eq!(downmix_mono(&pcm).samples, vec![0.5, 0.5, 0.0]);
    }

    #[test]
    fn cached_clip_is_reused_until_policy_changes() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("ii.wav");
        let quiet = tone(22_050, 2, 440.0, 0.02, 2.0);
        std::fs::write(&src, wav_s16_bytes(&quiet).unwrap()).unwrap();
        let before = std::fs::read(&src).unwrap();
        let m = crate::loudness::measure_for_air(&quiet).unwrap();
        let cfg = LoudnessConfig::default();
        let plan = plan_gain(m.lufs, m.true_peak_dbtp, &cfg);
        let cache = dir.path().join("cache");

        let first = adjusted_clip(&src, &plan, &cache).unwrap();
        assert!(!first.reused);
        let again = adjusted_clip(&src, &plan, &cache).unwrap();
        assert!(again.reused);
        assert_eq!(again.sha256, first.sha256);
        assert_eq!(std::fs::read(&src).unwrap(), before, "original untouched");

        let adjusted = decode_file(&first.path).unwrap();
        assert_eq!((adjusted.channels, adjusted.sample_rate), (1, 22_050));
        assert!((first.duration_s - 2.0).abs() < 1e-3);
        let got = measure(&adjusted).unwrap();
        assert!((got.lufs - cfg.target_lufs).abs() < 0.2, "{got:?}");

        let louder = LoudnessConfig {
            target_lufs: -14.0,
            ..cfg
        };
        let plan2 = plan_gain(m.lufs, m.true_peak_dbtp, &louder);
        let other = adjusted_clip(&src, &plan2, &cache).unwrap();
        assert!(!other.reused);
        assert_ne!(other.path, first.path);
    }

    #[test]
    fn message_pair_is_planned_together() {
        let dir = tempfile::tempdir().unwrap();
        // Yi: spiky (a 0 dBFS click every second over a quiet tone) so the ceiling caps it
        let mut yi = tone(16_000, 1, 300.0, 0.01, 3.0);
        for i in (0..yi.samples.len()).step_by(16_000) {
            yi.samples[i] = 0.99;
        }
        let zh = tone(44_100, 2, 600.0, 0.3, 3.0);
        let (a, b) = (dir.path().join("ii.wav"), dir.path().join("zh.wav"));
        std::fs::write(&a, wav_s16_bytes(&yi).unwrap()).unwrap();
        std::fs::write(&b, wav_s16_bytes(&zh).unwrap()).unwrap();
        let cfg = LoudnessConfig {
            limiter: false,
            ..LoudnessConfig::default()
        };
        let out = adjust_message(&[&a, &b], &cfg, &dir.path().join("c")).unwrap();
        assert!(
            out[0].0.limited && out[0].0.shortfall_lu > 1.0,
            "{:?}",
            out[0].0
        );
        assert!(out[1].0.matched_to_pair, "{:?}", out[1].0);
        let got: Vec<f64> = out
            .iter()
            .map(|(_, c)| measure(&decode_file(&c.path).unwrap()).unwrap().lufs)
            .collect();
        assert!((got[0] - got[1]).abs() <= cfg.pair_tolerance_lu, "{got:?}");
        let peak = measure(&decode_file(&out[0].1.path).unwrap()).unwrap();
        assert!(
            peak.true_peak_dbtp <= cfg.max_true_peak_dbtp + 0.1,
            "{peak:?}"
        );

        // with the limiter (the default) both reach the target, under the ceiling, in new files
        let cfg = LoudnessConfig::default();
        let limited = adjust_message(&[&a, &b], &cfg, &dir.path().join("c")).unwrap();
        assert!(
            limited[0].0.limiter_reduction_db > 1.0,
            "{:?}",
            limited[0].0
        );
        assert!(!limited[0].1.reused && limited[0].1.path != out[0].1.path);
        for (plan, clip) in &limited {
            let got = measure(&decode_file(&clip.path).unwrap()).unwrap();
            assert!((got.lufs - cfg.target_lufs).abs() <= 0.5, "{got:?}");
            assert!(got.true_peak_dbtp <= cfg.max_true_peak_dbtp, "{got:?}");
            assert!(
                (got.lufs - plan.expected_lufs).abs() <= 0.1,
                "{got:?} {plan:?}"
            );
        }
        // the settled plan rebuilds the same key: pushed clips reuse what was adjusted here
        let again = adjusted_clip(&a, &limited[0].0, &dir.path().join("c")).unwrap();
        assert!(again.reused && again.sha256 == limited[0].1.sha256);
    }

    #[test]
    fn cache_key_changes_with_the_limiter() {
        let plan = plan_gain(-26.0, -5.0, &LoudnessConfig::default());
        let off = GainPlan {
            limiter: None,
            ..plan
        };
        let other = GainPlan {
            limiter: plan.limiter.map(|l| crate::loudness::Limiter {
                release_ms: 50.0,
                ..l
            }),
            ..plan
        };
        let keys = [plan, off, other].map(|p| cache_key(b"same source", &p));
        assert!(keys[0] != keys[1] && keys[0] != keys[2] && keys[1] != keys[2]);
    }

    #[test]
    fn missing_source_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let plan = plan_gain(-20.0, -10.0, &LoudnessConfig::default());
        let err = adjusted_clip(&dir.path().join("nope.mp3"), &plan, dir.path()).unwrap_err();
        assert!(err.to_string().contains("nope.mp3"), "{err}");
    }
}
