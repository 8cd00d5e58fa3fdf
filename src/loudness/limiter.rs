//! A look-ahead true-peak limiter, for clips whose gain to the loudness target would push their
//! peaks over the ceiling. Offline (the whole clip is in memory), so the look-ahead costs no
//! delay.
//!
//! 1. **Detection**, oversampled [`OVERSAMPLE`]×: each frame's peak is the largest of its
//!    samples and of the points interpolated (windowed sinc) between it and its neighbours, over
//!    all channels — the inter-sample peaks a true-peak meter and a DAC see.
//! 2. **Required gain** per frame: what brings that peak to the threshold (the ceiling less
//!    [`MARGIN_DB`]), 1 where it is below.
//! 3. **Look-ahead**: the minimum of the required gain over the next `lookahead_ms`, so the gain
//!    is down before the peak arrives; then an exponential **release** back to 1 over
//!    `release_ms`; then a moving average over the look-ahead, which turns every step into a
//!    linear ramp and (because the window of the minimum and the average have the same length)
//!    never rises above the required gain at a peak. No sample is clipped.
//!
//! Where no peak reaches the threshold the audio is returned untouched, bit for bit.

use std::collections::VecDeque;

use crate::audio::decode::Pcm;

/// Oversampling of the peak detection.
pub const OVERSAMPLE: usize = 4;
/// Interpolation taps on each side of a point.
const HALF_TAPS: usize = 6;
/// The limiter aims this far under its ceiling: it covers what detection at [`OVERSAMPLE`]×
/// misses between its points, another meter's interpolation, and 16-bit rounding.
pub const MARGIN_DB: f64 = 0.2;
/// Default look-ahead, milliseconds.
pub const LOOKAHEAD_MS: f64 = 5.0;
/// Default release time constant, milliseconds.
pub const RELEASE_MS: f64 = 100.0;
/// Bumped whenever the limiter's output would change for the same settings.
const VERSION: &str = "limiter-v1";

/// The limiter's settings; all of them are part of the adjusted-clip cache key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limiter {
    /// No true peak of the output exceeds this, dBTP.
    pub ceiling_dbtp: f64,
    pub lookahead_ms: f64,
    pub release_ms: f64,
}

impl Limiter {
    /// The limiter with its default timings under `ceiling_dbtp`.
    pub fn new(ceiling_dbtp: f64) -> Limiter {
        Limiter {
            ceiling_dbtp,
            lookahead_ms: LOOKAHEAD_MS,
            release_ms: RELEASE_MS,
        }
    }

    /// Everything that decides the output, as text for a cache key.
    pub fn cache_tag(&self) -> String {
        format!(
            "{VERSION}:ceiling={:.4}:lookahead_ms={:.3}:release_ms={:.3}:os={OVERSAMPLE}:\
             taps={HALF_TAPS}:margin={MARGIN_DB}",
            self.ceiling_dbtp, self.lookahead_ms, self.release_ms
        )
    }

    /// The linear level the limiter brings peaks to.
    pub fn threshold(&self) -> f32 {
        10f64.powf((self.ceiling_dbtp - MARGIN_DB) / 20.0) as f32
    }

    /// Limit `pcm` in place; returns the largest gain reduction applied, dB (0 if untouched).
    pub fn process(&self, pcm: &mut Pcm) -> f64 {
        let gains = self.gains(pcm);
        let Some(gains) = gains else { return 0.0 };
        let ch = usize::from(pcm.channels.max(1));
        for (frame, g) in pcm.samples.chunks_exact_mut(ch).zip(&gains) {
            frame.iter_mut().for_each(|s| *s *= g);
        }
        let min = gains.iter().copied().fold(1.0f32, f32::min);
        -20.0 * f64::from(min).log10()
    }

    /// The gain of every frame, or `None` when no peak reaches the threshold.
    pub fn gains(&self, pcm: &Pcm) -> Option<Vec<f32>> {
        let ch = usize::from(pcm.channels.max(1));
        let thr = self.threshold();
        let peaks = frame_peaks(&pcm.samples, ch, thr);
        if peaks.iter().all(|&p| p <= thr) {
            return None;
        }
        let rate = f64::from(pcm.sample_rate.max(1));
        let look = ((self.lookahead_ms * rate / 1000.0).round() as usize).max(1);
        let required: Vec<f32> = peaks
            .iter()
            .map(|&p| if p > thr { thr / p } else { 1.0 })
            .collect();
        let mut held = window_min(&required, look);
        let coef = (1.0 - (-1000.0 / (self.release_ms.max(0.001) * rate)).exp()) as f32;
        let mut prev = 1.0f32;
        for g in &mut held {
            prev = g.min(prev + (1.0 - prev) * coef);
            *g = prev;
        }
        Some(moving_average(&held, look))
    }
}

/// `out[k]` = the minimum of `x[k .. k + len]` (the window shortened at the end).
fn window_min(x: &[f32], len: usize) -> Vec<f32> {
    let mut out = vec![1.0; x.len()];
    let mut q: VecDeque<usize> = VecDeque::new();
    for end in 0..x.len() + len - 1 {
        if end < x.len() {
            while q.back().is_some_and(|&i| x[i] >= x[end]) {
                q.pop_back();
            }
            q.push_back(end);
        }
        let Some(start) = (end + 1).checked_sub(len) else {
            continue;
        };
        while q.front().is_some_and(|&i| i < start) {
            q.pop_front();
        }
        if start < x.len() {
            out[start] = q.front().map_or(1.0, |&i| x[i]);
        }
    }
    out
}

/// `out[n]` = the mean of `x[n + 1 - len ..= n]`, with `x[0]` before the start (the gain held
/// for the opening frames is the minimum of their windows, so it holds before them too).
fn moving_average(x: &[f32], len: usize) -> Vec<f32> {
    let first = x.first().map_or(1.0, |&f| f64::from(f));
    let mut sum = len as f64 * first;
    let mut out = Vec::with_capacity(x.len());
    for n in 0..x.len() {
        sum += f64::from(x[n]) - n.checked_sub(len).map_or(first, |i| f64::from(x[i]));
        out.push(((sum / len as f64) as f32).min(1.0));
    }
    out
}

/// Interpolation filters: row `k - 1` gives the point `k / OVERSAMPLE` of the way from a
/// sample to the next, from the `2 × HALF_TAPS` samples around (Hann-windowed sinc).
fn phases() -> [[f32; 2 * HALF_TAPS]; OVERSAMPLE - 1] {
    let mut table = [[0.0; 2 * HALF_TAPS]; OVERSAMPLE - 1];
    for (k, row) in table.iter_mut().enumerate() {
        let t = (k + 1) as f64 / OVERSAMPLE as f64;
        for (j, tap) in row.iter_mut().enumerate() {
            // tap j weighs the sample at offset j + 1 - HALF_TAPS
            let u = t - (j as f64 + 1.0 - HALF_TAPS as f64);
            let x = std::f64::consts::PI * u;
            let sinc = if u.abs() < 1e-12 { 1.0 } else { x.sin() / x };
            let window = 0.5 * (1.0 + (x / HALF_TAPS as f64).cos());
            *tap = (sinc * window) as f32;
        }
    }
    table
}

/// Per frame, the oversampled absolute peak over all channels: the sample itself and the
/// interpolated points on both sides of it (between it and the previous and next frames).
/// Points are interpolated only where they could exceed `floor` (the filter's gain bounds them
/// by the samples around); elsewhere the peak is the samples' own, which is then under `floor`
/// too. `floor` 0 gives every point.
pub fn frame_peaks(samples: &[f32], channels: usize, floor: f32) -> Vec<f32> {
    let ch = channels.max(1);
    let frames = samples.len() / ch;
    let table = phases();
    // the most an interpolated point can be, per unit of the largest sample in its window
    let bound = table
        .iter()
        .map(|row| row.iter().map(|h| h.abs()).sum::<f32>())
        .fold(0.0, f32::max);
    let block = 2 * HALF_TAPS;
    // between[n]: the largest point in (n, n + 1), over channels
    let mut between = vec![0f32; frames];
    let mut own = vec![0f32; frames];
    // one channel with HALF_TAPS zeros either side: the taps around frame n are
    // padded[n + 1 .. n + 1 + 2 × HALF_TAPS]
    let mut padded = vec![0f32; frames + 2 * HALF_TAPS];
    for c in 0..ch {
        for n in 0..frames {
            padded[n + HALF_TAPS] = samples[n * ch + c];
            own[n] = own[n].max(samples[n * ch + c].abs());
        }
        // the largest |sample| per block of `block` padded samples: a window spans two blocks
        let block_max: Vec<f32> = padded
            .chunks(block)
            .map(|b| b.iter().fold(0f32, |m, x| m.max(x.abs())))
            .collect();
        for n in 0..frames {
            let near = block_max[(n + 1) / block].max(block_max[(n + block) / block]);
            if near * bound <= floor {
                continue;
            }
            let window = &padded[n + 1..n + 1 + 2 * HALF_TAPS];
            for row in &table {
                let v: f32 = row.iter().zip(window).map(|(h, x)| h * x).sum();
                between[n] = between[n].max(v.abs());
            }
        }
    }
    (0..frames)
        .map(|n| {
            let before = if n > 0 { between[n - 1] } else { 0.0 };
            own[n].max(between[n]).max(before)
        })
        .collect()
}

#[cfg(test)]
mod tests;
