//! A programme rendered exactly as it airs: clips in order, gaps, repeats and loudness gains,
//! converted to one output rate and channel count, assembled from rodio sources, written as
//! 16-bit PCM WAV, with a timeline of what starts when.
//!
//! # Exact length
//!
//! One rounding rule, used everywhere: a duration becomes **the nearest whole frame at the
//! output rate, halves rounded up** ([`frames_at`] for clips, computed in integers from the
//! decoded frame count; [`gap_frames`] for gaps given in seconds). A programme's length is
//! `repeats × Σ(clip frames + gap frames) + (repeats − 1) × repeat-gap frames`, to the sample.
//! Each clip is followed by a few frames of silence before conversion (the resampler
//! interpolates towards them instead of stopping a frame or two short), then cut to its frame
//! count — padded with zeros should it still be short — so nothing that follows ever shifts.
//!
//! # Conversion
//!
//! Each clip goes through its own `UniformSourceIterator` (rodio's `from_iter` does not convert
//! formats). A clip with more channels than the output is first downmixed to mono by averaging
//! (rodio's channel converter would drop all but the first channel), then rodio converts the
//! rate (linear interpolation) and upmixes if the output has more channels.
//!
//! # Gains
//!
//! An item with `gain_db: None` gets the loudness policy: its converted audio is measured on the
//! mono downmix and planned with [`loudness::plan_pair`] when the programme holds both
//! languages of its message, else [`loudness::plan_gain`], and [`loudness::settle`]d where the
//! limiter takes its peaks. An item with a gain given gets that gain, then the limiter where the
//! gain would break the ceiling. Each clip is shaped once ([`loudness::apply_plan`]); repeats
//! air the same audio.

use std::collections::BTreeMap;
use std::num::NonZero;
use std::path::{Path, PathBuf};

use rodio::Source;
use rodio::buffer::SamplesBuffer;
use rodio::source::{UniformSourceIterator, Zero, from_iter};

use crate::audio::decode::{DecodeError, Pcm, decode_file};
use crate::lang::Lang;
use crate::loudness::{self, GainPlan, LoudnessConfig, MeasureError, downmix_mono};
use crate::plan::Broadcast;

pub mod timeline;

pub use timeline::{TimelineEntry, format_timeline};

/// Silence between the two languages of a pair when nothing else says otherwise, seconds.
pub const DEFAULT_GAP_S: f64 = 1.5;

/// The output's sample rate and channel count (default 48 kHz mono, like the loudspeakers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputFormat {
    pub sample_rate: u32,
    pub channels: u16,
}

impl Default for OutputFormat {
    fn default() -> Self {
        OutputFormat {
            sample_rate: 48_000,
            channels: 1,
        }
    }
}

/// One clip of a programme.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgrammeItem {
    pub message: String,
    pub lang: Lang,
    pub file: PathBuf,
    /// `None`: planned by the loudness policy; `Some`: this gain, dB, as given.
    pub gain_db: Option<f64>,
    /// Silence after this clip, seconds.
    pub gap_after_s: f64,
}

/// What airs: the items in order, `repeats` times, `repeat_gap_s` of silence between repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct Programme {
    pub items: Vec<ProgrammeItem>,
    pub repeats: u32,
    pub repeat_gap_s: f64,
}

/// A rendered programme.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub pcm: Pcm,
    pub timeline: Vec<TimelineEntry>,
    /// Samples that exceeded full scale and were clamped (only possible with explicit gains and
    /// `limiter = false`).
    pub clipped_samples: u64,
}

/// Why a programme could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("the programme has no clips")]
    Empty,
    #[error("`{file}`: gap of `{gap_s}` s is not a non-negative number of seconds")]
    BadGap { file: PathBuf, gap_s: f64 },
    #[error("repeats must be at least 1, got `{0}`")]
    BadRepeats(u32),
    #[error("bad output format: {0} Hz, {1} channel(s)")]
    BadFormat(u32, u16),
    #[error("{}", decode_list(.0))]
    Decode(Vec<(PathBuf, DecodeError)>),
    #[error("`{file}` has no audio channels or no sample rate")]
    BadClip { file: PathBuf },
    #[error("`{file}`: {source}")]
    Measure { file: PathBuf, source: MeasureError },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: loudness::AdjustError,
    },
}

fn decode_list(errs: &[(PathBuf, DecodeError)]) -> String {
    let parts: Vec<String> = errs
        .iter()
        .map(|(p, e)| format!("cannot decode `{}`: {e}", p.display()))
        .collect();
    parts.join("; ")
}

/// Output frames for `frames_in` frames at `rate_in`: nearest frame at `rate_out`, halves up.
pub fn frames_at(frames_in: u64, rate_in: u32, rate_out: u32) -> u64 {
    let num = u128::from(frames_in) * u128::from(rate_out) * 2 + u128::from(rate_in);
    (num / (2 * u128::from(rate_in.max(1)))) as u64
}

/// Frames of a gap of `seconds` at `rate`: nearest frame, halves up.
pub fn gap_frames(seconds: f64, rate: u32) -> u64 {
    (seconds * f64::from(rate) + 0.5).floor() as u64
}

/// The programme one township hears at one slot, as the planner built it; `root` is the project
/// folder the playlist's paths are relative to. The planner already expanded repeats and gaps.
pub fn programme_from_broadcast(b: &Broadcast, root: &Path) -> Programme {
    let items = b
        .items
        .iter()
        .map(|it| ProgrammeItem {
            message: it.message.clone(),
            lang: it.lang,
            file: root.join(&it.file),
            gain_db: None,
            gap_after_s: it.gap_after_s,
        })
        .collect();
    Programme {
        items,
        repeats: 1,
        repeat_gap_s: 0.0,
    }
}

/// One message's pair in `order` with `gap_s` between the clips (none after the last).
pub fn pair_programme(message: &str, clips: &[(Lang, PathBuf)], gap_s: f64) -> Programme {
    let last = clips.len().saturating_sub(1);
    let items = clips
        .iter()
        .enumerate()
        .map(|(i, (lang, file))| ProgrammeItem {
            message: message.to_string(),
            lang: *lang,
            file: file.clone(),
            gain_db: None,
            gap_after_s: if i == last { 0.0 } else { gap_s },
        })
        .collect();
    Programme {
        items,
        repeats: 1,
        repeat_gap_s: gap_s,
    }
}

/// Decode every clip (each distinct file once) and render. Every undecodable clip is reported.
#[tracing::instrument(skip_all, fields(items = p.items.len(), repeats = p.repeats))]
pub fn render_programme(
    p: &Programme,
    fmt: OutputFormat,
    cfg: &LoudnessConfig,
) -> Result<Rendered, RenderError> {
    let mut cache: BTreeMap<&Path, Pcm> = BTreeMap::new();
    let mut failed = Vec::new();
    for item in &p.items {
        if cache.contains_key(item.file.as_path()) || failed.iter().any(|(f, _)| f == &item.file) {
            continue;
        }
        match decode_file(&item.file) {
            Ok(pcm) => {
                cache.insert(&item.file, pcm);
            }
            Err(e) => {
                tracing::warn!(file = %item.file.display(), error = %e, "cannot decode clip");
                failed.push((item.file.clone(), e));
            }
        }
    }
    if !failed.is_empty() {
        return Err(RenderError::Decode(failed));
    }
    let decoded: Vec<&Pcm> = p.items.iter().map(|i| &cache[i.file.as_path()]).collect();
    render_decoded(p, &decoded, fmt, cfg)
}

/// Render from already-decoded clips; `decoded[i]` is the audio of `p.items[i]`.
pub fn render_decoded(
    p: &Programme,
    decoded: &[&Pcm],
    fmt: OutputFormat,
    cfg: &LoudnessConfig,
) -> Result<Rendered, RenderError> {
    validate(p, fmt)?;
    let converted = p
        .items
        .iter()
        .zip(decoded)
        .map(|(item, pcm)| convert(pcm, fmt, &item.file))
        .collect::<Result<Vec<_>, _>>()?;
    let mut plans = plan_gains(p, &converted, cfg)?;
    let shaped = shape(p, &converted, &mut plans);
    let (pcm, timeline) = assemble(p, &shaped, &plans, fmt);
    let clipped_samples = pcm.samples.iter().filter(|s| s.abs() > 1.0).count() as u64;
    Ok(Rendered {
        pcm,
        timeline,
        clipped_samples,
    })
}

fn validate(p: &Programme, fmt: OutputFormat) -> Result<(), RenderError> {
    if p.items.is_empty() {
        return Err(RenderError::Empty);
    }
    if p.repeats == 0 {
        return Err(RenderError::BadRepeats(0));
    }
    if fmt.sample_rate == 0 || fmt.channels == 0 {
        return Err(RenderError::BadFormat(fmt.sample_rate, fmt.channels));
    }
    let gaps = p.items.iter().map(|i| (&i.file, i.gap_after_s));
    let repeat_gap = p.items.last().map(|i| (&i.file, p.repeat_gap_s));
    for (file, gap_s) in gaps.chain(repeat_gap) {
        if !(gap_s.is_finite() && gap_s >= 0.0) {
            let file = file.clone();
            return Err(RenderError::BadGap { file, gap_s });
        }
    }
    Ok(())
}

/// `pcm` at the output rate and channel count, exactly [`frames_at`] frames long.
pub fn convert(pcm: &Pcm, fmt: OutputFormat, file: &Path) -> Result<Pcm, RenderError> {
    let bad = || RenderError::BadClip {
        file: file.to_path_buf(),
    };
    let mut source = if pcm.channels > fmt.channels {
        downmix_mono(pcm)
    } else {
        pcm.clone()
    };
    // rodio's converter can end a frame or two early (it interpolates towards a next frame that
    // never comes): give it the silence that follows every clip anyway, then cut to length.
    let tail = (source.sample_rate / fmt.sample_rate.max(1) + 2) as usize;
    let tail = tail * usize::from(source.channels);
    source.samples.extend(std::iter::repeat_n(0.0, tail));
    let in_ch = NonZero::new(source.channels).ok_or_else(bad)?;
    let in_rate = NonZero::new(source.sample_rate).ok_or_else(bad)?;
    let out_ch = NonZero::new(fmt.channels).ok_or_else(bad)?;
    let out_rate = NonZero::new(fmt.sample_rate).ok_or_else(bad)?;
    let n = frames_at(pcm.frames(), pcm.sample_rate, fmt.sample_rate) as usize
        * usize::from(fmt.channels);
    let buffer = SamplesBuffer::new(in_ch, in_rate, source.samples);
    let mut samples: Vec<f32> = UniformSourceIterator::new(buffer, out_ch, out_rate)
        .take(n)
        .collect();
    samples.resize(n, 0.0);
    Ok(Pcm {
        sample_rate: fmt.sample_rate,
        channels: fmt.channels,
        samples,
    })
}

fn plan_gains(
    p: &Programme,
    converted: &[Pcm],
    cfg: &LoudnessConfig,
) -> Result<Vec<GainPlan>, RenderError> {
    let measured = p
        .items
        .iter()
        .zip(converted)
        .map(|(item, pcm)| {
            loudness::measure_for_air(pcm).map_err(|source| RenderError::Measure {
                file: item.file.clone(),
                source,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut plans: Vec<GainPlan> = measured
        .iter()
        .map(|m| loudness::plan_gain(m.lufs, m.true_peak_dbtp, cfg))
        .collect();
    for (i, j) in pairs(&p.items) {
        let [a, b] = loudness::plan_pair(measured[i], measured[j], cfg);
        plans[i] = a;
        plans[j] = b;
    }
    let first = first_airing(&p.items);
    for (i, item) in p.items.iter().enumerate() {
        if first[i] != i {
            continue;
        }
        let m = measured[i];
        plans[i] = match item.gain_db {
            Some(db) => GainPlan {
                gain_db: db,
                expected_lufs: m.lufs + db,
                expected_true_peak: m.true_peak_dbtp + db,
                shortfall_lu: (cfg.target_lufs - m.lufs - db).max(0.0),
                limiter: loudness::limiter_for(m.true_peak_dbtp + db, cfg),
                ..GainPlan::unity(m)
            },
            None => loudness::settle(&converted[i], plans[i], cfg).map_err(|source| {
                RenderError::Measure {
                    file: item.file.clone(),
                    source,
                }
            })?,
        };
    }
    // a message aired again (repeats) gets exactly the gains of its first airing
    for (i, &f) in first.iter().enumerate() {
        plans[i] = plans[f];
    }
    Ok(plans)
}

/// Each clip with its plan applied (gain, then limiter), once per distinct clip; the limiter's
/// gain reduction is recorded in the plans.
fn shape(p: &Programme, converted: &[Pcm], plans: &mut [GainPlan]) -> Vec<Pcm> {
    let first = first_airing(&p.items);
    let mut shaped: Vec<Pcm> = Vec::with_capacity(converted.len());
    for (i, &f) in first.iter().enumerate() {
        if f == i {
            let (pcm, reduction) = loudness::apply_plan(&converted[i], &plans[i]);
            plans[i].limiter_reduction_db = reduction;
            shaped.push(pcm);
        } else {
            plans[i] = plans[f];
            shaped.push(shaped[f].clone());
        }
    }
    shaped
}

/// For each item, the index of the first item with the same message, language and file.
fn first_airing(items: &[ProgrammeItem]) -> Vec<usize> {
    let mut first: BTreeMap<(&str, Lang, &Path), usize> = BTreeMap::new();
    items
        .iter()
        .enumerate()
        .map(|(i, it)| *first.entry((&it.message, it.lang, &it.file)).or_insert(i))
        .collect()
}

/// Index pairs (Yi, Mandarin) of the same message: the first clip of each language per message.
fn pairs(items: &[ProgrammeItem]) -> Vec<(usize, usize)> {
    let mut first: BTreeMap<(&str, Lang), usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        first.entry((item.message.as_str(), item.lang)).or_insert(i);
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let key = item.message.as_str();
        if item.lang == Lang::Ii
            && first[&(key, Lang::Ii)] == i
            && let Some(&j) = first.get(&(key, Lang::Zh))
        {
            out.push((i, j));
        }
    }
    out
}

fn assemble(
    p: &Programme,
    shaped: &[Pcm],
    plans: &[GainPlan],
    fmt: OutputFormat,
) -> (Pcm, Vec<TimelineEntry>) {
    let ch = NonZero::new(fmt.channels).expect("validated");
    let rate = NonZero::new(fmt.sample_rate).expect("validated");
    let width = usize::from(fmt.channels);
    let silence = |frames: u64| -> Box<dyn Source + Send> {
        Box::new(Zero::new_samples(ch, rate, frames as usize * width))
    };
    let mut sources: Vec<Box<dyn Source + Send>> = Vec::new();
    let mut timeline = Vec::new();
    let mut at = 0u64;
    for repeat in 0..p.repeats {
        if repeat > 0 {
            let gap = gap_frames(p.repeat_gap_s, fmt.sample_rate);
            sources.push(silence(gap));
            at += gap;
        }
        for (i, item) in p.items.iter().enumerate() {
            let frames = shaped[i].frames();
            let clip = SamplesBuffer::new(ch, rate, shaped[i].samples.clone());
            sources.push(Box::new(clip));
            timeline.push(TimelineEntry::new(item, repeat, at, frames, plans[i], fmt));
            let gap = gap_frames(item.gap_after_s, fmt.sample_rate);
            sources.push(silence(gap));
            at += frames + gap;
        }
    }
    let samples: Vec<f32> = from_iter(sources).collect();
    debug_assert_eq!(samples.len() as u64, at * width as u64);
    let pcm = Pcm {
        sample_rate: fmt.sample_rate,
        channels: fmt.channels,
        samples,
    };
    (pcm, timeline)
}

/// Write a rendered programme as 16-bit PCM WAV (via a temporary file and a rename).
pub fn write_wav(r: &Rendered, path: &Path) -> Result<(), RenderError> {
    loudness::write_wav_atomic(&r.pcm, path).map_err(|source| RenderError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests;
