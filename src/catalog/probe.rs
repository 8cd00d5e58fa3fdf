//! Probing one clip: decode it buffer by buffer and measure what the gate needs — format,
//! exact length, integrated loudness and true peak (ebur128), clipping, a level envelope for
//! silence and same-audio checks — without holding the decoded audio.

use ebur128::{EbuR128, Mode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audio::decode::{DecodeError, Stream, check_end};
use crate::catalog::Probe;

/// A sample this close to 1.0 counts as "at full scale" for the consecutive-samples check.
pub const FULL_SCALE: f32 = 0.999;
/// Length of one envelope block, milliseconds.
pub const BLOCK_MS: u32 = 50;
/// Floor for levels of digital silence, dB (keeps JSON finite).
pub const FLOOR_DB: f64 = -120.0;

/// Settings that change what [`Analysis`] measures; a cached analysis made with other settings
/// is measured again.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AnalysisParams {
    /// Samples at or above this level (dBFS) are counted in [`Analysis::samples_near_full_scale`].
    pub clip_peak_dbfs: f64,
}

/// Gate-relevant statistics measured while decoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub params: AnalysisParams,
    /// Longest run of consecutive samples (one channel) at full scale.
    pub max_full_scale_run: u64,
    /// Samples at or above `params.clip_peak_dbfs`.
    pub samples_near_full_scale: u64,
    /// Highest absolute sample, dBFS.
    pub sample_peak_dbfs: f64,
    /// Audio packets read, and those that failed to decode and were skipped.
    pub packets: u64,
    pub bad_packets: u64,
    /// Per [`BLOCK_MS`] block of the mono mix: RMS level (dBFS) and zero crossings per sample.
    pub envelope: Vec<(f32, f32)>,
    /// sha256 of the mono mix quantised to 16 bits: equal for the same decoded audio.
    pub pcm_sha256: String,
}

/// A probed clip: what the catalog shows, and what the gate judges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub probe: Probe,
    pub analysis: Analysis,
}

/// Hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Probe a clip held in memory (`ext` is its file extension, a format hint).
pub fn probe_bytes(
    bytes: Vec<u8>,
    ext: Option<&str>,
    params: AnalysisParams,
) -> Result<ProbeRecord, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let sha256 = sha256_hex(&bytes);
    let size_bytes = bytes.len() as u64;
    let stream = Stream::open_bytes(bytes, ext)?;
    let info = stream.info().clone();
    if info.sample_rate == 0 || info.channels == 0 {
        return Err(DecodeError::Malformed(
            "no sample rate or channel count".into(),
        ));
    }
    let mut meter = Meter::new(info.sample_rate, info.channels, params)?;
    let (info, end) = stream.for_each_buffer(|buf| meter.add(buf))?;
    check_end(&info, &end)?;
    let (lufs, true_peak_dbtp, analysis) = meter.finish(end.packets, end.bad_packets);
    let probe = Probe {
        container: info.container,
        codec: info.codec,
        sample_rate: info.sample_rate,
        channels: info.channels,
        frames: end.frames,
        duration_s: end.frames as f64 / f64::from(info.sample_rate),
        lufs,
        true_peak_dbtp,
        sha256,
        size_bytes,
    };
    Ok(ProbeRecord { probe, analysis })
}

/// Running measurements over interleaved buffers.
struct Meter {
    ebu: EbuR128,
    channels: usize,
    params: AnalysisParams,
    clip_level: f32,
    runs: Vec<u64>,
    max_run: u64,
    near_full: u64,
    peak: f32,
    block_len: usize,
    block: Block,
    envelope: Vec<(f32, f32)>,
    hasher: Sha256,
    /// The current buffer's quantised mono mix, hashed in one call per buffer.
    quantised: Vec<u8>,
    /// The current buffer mixed to mono.
    mix: Vec<f32>,
}

/// One envelope block being filled.
#[derive(Default)]
struct Block {
    n: usize,
    sum_sq: f64,
    crossings: u32,
    last_positive: bool,
}

impl Block {
    fn add(&mut self, xs: &[f32]) {
        let Some(&first) = xs.first() else { return };
        self.sum_sq += xs.iter().map(|&x| f64::from(x * x)).sum::<f64>();
        let mut crossings = xs
            .windows(2)
            .filter(|w| (w[0] > 0.0) != (w[1] > 0.0))
            .count() as u32;
        if self.n > 0 && (first > 0.0) != self.last_positive {
            crossings += 1;
        }
        self.crossings += crossings;
        self.last_positive = xs[xs.len() - 1] > 0.0;
        self.n += xs.len();
    }
}

impl Meter {
    fn new(rate: u32, channels: u16, params: AnalysisParams) -> Result<Meter, DecodeError> {
        let ebu = EbuR128::new(u32::from(channels), rate, Mode::I | Mode::TRUE_PEAK)
            .map_err(|e| DecodeError::Malformed(format!("loudness meter: {e}")))?;
        Ok(Meter {
            ebu,
            channels: usize::from(channels),
            params,
            clip_level: 10f64.powf(params.clip_peak_dbfs / 20.0) as f32,
            runs: vec![0; usize::from(channels)],
            max_run: 0,
            near_full: 0,
            peak: 0.0,
            block_len: (rate * BLOCK_MS / 1000).max(1) as usize,
            block: Block::default(),
            envelope: Vec::new(),
            hasher: Sha256::new(),
            quantised: Vec::new(),
            mix: Vec::new(),
        })
    }

    fn add(&mut self, buf: &[f32]) {
        // A decoder's odd final buffer cannot be a fraction of a frame; ignore any remainder.
        let whole = buf.len() - buf.len() % self.channels;
        let buf = &buf[..whole];
        let _ = self.ebu.add_frames_f32(buf);
        self.levels(buf);
        let mut mix = std::mem::take(&mut self.mix);
        mix.clear();
        if self.channels == 1 {
            mix.extend_from_slice(buf);
        } else {
            let scale = 1.0 / self.channels as f32;
            mix.extend(
                buf.chunks_exact(self.channels)
                    .map(|f| f.iter().sum::<f32>() * scale),
            );
        }
        // `as` saturates; truncation is as deterministic as rounding.
        self.quantised.clear();
        self.quantised.extend(
            mix.iter()
                .flat_map(|m| ((m * 32767.0) as i16).to_le_bytes()),
        );
        self.hasher.update(&self.quantised);
        let mut rest = &mix[..];
        while !rest.is_empty() {
            let take = (self.block_len - self.block.n).min(rest.len());
            self.block.add(&rest[..take]);
            rest = &rest[take..];
            if self.block.n == self.block_len {
                self.flush_block();
            }
        }
        self.mix = mix;
    }

    /// Peak, samples near full scale, and runs at full scale (per channel), in tight loops.
    fn levels(&mut self, buf: &[f32]) {
        let mut lanes = [0f32; 8];
        let mut near = 0u64;
        let chunks = buf.chunks_exact(8);
        let tail = chunks.remainder();
        for c in chunks {
            for (lane, s) in lanes.iter_mut().zip(c) {
                let a = s.abs();
                *lane = if a > *lane { a } else { *lane };
                near += u64::from(a >= self.clip_level);
            }
        }
        for s in tail {
            lanes[0] = lanes[0].max(s.abs());
            near += u64::from(s.abs() >= self.clip_level);
        }
        let peak = lanes.iter().fold(self.peak, |p, &l| p.max(l));
        self.peak = peak;
        self.near_full += near;
        if peak < FULL_SCALE {
            self.runs.iter_mut().for_each(|r| *r = 0);
            return;
        }
        for ch in 0..self.channels {
            let mut run = self.runs[ch];
            for &s in buf[ch..].iter().step_by(self.channels) {
                run = if s.abs() >= FULL_SCALE { run + 1 } else { 0 };
                self.max_run = self.max_run.max(run);
            }
            self.runs[ch] = run;
        }
    }

    fn flush_block(&mut self) {
        let b = std::mem::take(&mut self.block);
        if b.n == 0 {
            return;
        }
        let rms_db = db((b.sum_sq / b.n as f64).sqrt());
        let zcr = b.crossings as f32 / b.n as f32;
        self.envelope.push((
            (rms_db * 100.0).round() as f32 / 100.0,
            (zcr * 1e4).round() / 1e4,
        ));
    }

    /// Integrated loudness (LUFS), true peak (dBTP) and the analysis.
    fn finish(mut self, packets: u64, bad_packets: u64) -> (f64, f64, Analysis) {
        if self.block.n * 2 >= self.block_len {
            self.flush_block();
        }
        let lufs = self.ebu.loudness_global().unwrap_or(f64::NEG_INFINITY);
        let tp = (0..self.channels as u32)
            .filter_map(|ch| self.ebu.true_peak(ch).ok())
            .fold(0.0f64, f64::max);
        let analysis = Analysis {
            params: self.params,
            max_full_scale_run: self.max_run,
            samples_near_full_scale: self.near_full,
            sample_peak_dbfs: db(f64::from(self.peak)),
            packets,
            bad_packets,
            envelope: self.envelope,
            pcm_sha256: hex::encode(self.hasher.finalize()),
        };
        (lufs.max(FLOOR_DB), db(tp), analysis)
    }
}

/// Linear amplitude to dB, floored at [`FLOOR_DB`].
pub fn db(amplitude: f64) -> f64 {
    if amplitude <= 0.0 {
        FLOOR_DB
    } else {
        (20.0 * amplitude.log10()).max(FLOOR_DB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn wav(rate: u32, secs: f64, f: impl Fn(f64) -> f64) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = std::io::Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
        for i in 0..(secs * f64::from(rate)) as usize {
            let v = f(i as f64 / f64::from(rate)).clamp(-1.0, 1.0);
            w.write_sample((v * 32767.0).round() as i16).unwrap();
        }
        w.finalize().unwrap();
        out.into_inner()
    }

    fn params() -> AnalysisParams {
        AnalysisParams {
            clip_peak_dbfs: -0.1,
        }
    }

    #[test]
    fn measures_a_tone() {
        // A full-scale 1 kHz sine reads -3.01 LUFS; at half amplitude, -9.03.
        let bytes = wav(48000, 5.0, |t| {
            0.5 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()
        });
        let r = probe_bytes(bytes, Some("wav"), params()).unwrap();
        assert_eq!(
            (r.probe.frames, r.probe.sample_rate, r.probe.channels),
            (240_000, 48000, 1)
        );
        assert!((r.probe.lufs - -9.03).abs() < 0.1, "{}", r.probe.lufs);
        assert!(
            (r.probe.true_peak_dbtp - -6.02).abs() < 0.1,
            "{}",
            r.probe.true_peak_dbtp
        );
        assert_eq!(r.analysis.envelope.len(), 100);
        assert_eq!(r.analysis.max_full_scale_run, 0);
        let zcr = r.analysis.envelope[10].1;
        assert!((zcr - 2000.0 / 48000.0).abs() < 0.002, "{zcr}");
    }

    #[test]
    fn counts_clipping_and_silence() {
        let bytes = wav(8000, 2.0, |t| {
            if t < 1.0 {
                0.0
            } else {
                3.0 * (t * 2000.0).sin()
            }
        });
        let r = probe_bytes(bytes, None, params()).unwrap();
        assert!(
            r.analysis.max_full_scale_run > 5,
            "{}",
            r.analysis.max_full_scale_run
        );
        assert!(r.analysis.samples_near_full_scale > 1000);
        assert_eq!(r.analysis.envelope[0].0 as f64, FLOOR_DB);
    }

    #[test]
    fn same_pcm_same_hash_different_file_hash() {
        let a = wav(8000, 1.0, |t| (t * 900.0).sin() * 0.3);
        let mut b = a.clone();
        b.extend_from_slice(b"trailing junk");
        let ra = probe_bytes(a, None, params()).unwrap();
        let rb = probe_bytes(b, None, params()).unwrap();
        assert_ne!(ra.probe.sha256, rb.probe.sha256);
        assert_eq!(ra.analysis.pcm_sha256, rb.analysis.pcm_sha256);
    }

    #[test]
    fn empty_file_is_an_error() {
        let err = probe_bytes(Vec::new(), Some("mp3"), params()).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
