//! Auditioning a rendered programme through the sound device: the very samples `render` writes,
//! played with rodio, with a progress line (elapsed / total, current clip and language).
//!
//! The device part needs the cargo feature `audio-device` (rodio's `playback`, ALSA on Linux);
//! the default build has none and [`play`] answers [`PlayError::NotBuilt`].

use std::time::Duration;

use crate::render::{Rendered, TimelineEntry, timeline::clock};

/// Why a programme could not be played.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlayError {
    #[error("{}", crate::t!("play-not-built"))]
    NotBuilt,
    #[error("{}", crate::t!("play-no-device", reason = .0.as_str()))]
    NoDevice(String),
}

/// Where playback is, for the progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    pub elapsed_s: f64,
    pub total_s: f64,
    /// The clip sounding now; `None` in a gap.
    pub current: Option<&'a TimelineEntry>,
}

/// The clip sounding at `frame`, if any (gaps have none).
pub fn clip_at(timeline: &[TimelineEntry], frame: u64) -> Option<&TimelineEntry> {
    let i = timeline.partition_point(|e| e.start_frame <= frame);
    let e = timeline.get(i.checked_sub(1)?)?;
    (frame < e.start_frame + e.frames).then_some(e)
}

/// Where playback is after `elapsed`.
pub fn progress(r: &Rendered, elapsed: Duration) -> Progress<'_> {
    let rate = f64::from(r.pcm.sample_rate);
    let total_s = r.pcm.frames() as f64 / rate;
    let elapsed_s = elapsed.as_secs_f64().min(total_s);
    let frame = (elapsed_s * rate) as u64;
    Progress {
        elapsed_s,
        total_s,
        current: clip_at(&r.timeline, frame),
    }
}

/// `1:02.000 / 3:10.500  ii  fraud-calls  (repeat 2)` or `… gap`.
pub fn progress_line(p: &Progress<'_>) -> String {
    let head = format!("{} / {}", clock(p.elapsed_s), clock(p.total_s));
    match p.current {
        None => format!("{head}  {}", crate::t!("play-gap")),
        Some(e) => {
            let repeat = if e.repeat > 0 {
                format!("  {}", crate::t!("play-repeat", repeat = e.repeat + 1))
            } else {
                String::new()
            };
            let lang = format!("{} {}", e.lang.code(), e.lang.name_zh());
            format!("{head}  {lang}  {}{repeat}", e.message)
        }
    }
}

/// Play `r` on the default output device, calling `on_progress` a few times a second until the
/// end. Returns when the last sample has been handed to the device.
#[cfg(feature = "audio-device")]
pub fn play(r: &Rendered, mut on_progress: impl FnMut(Progress<'_>)) -> Result<(), PlayError> {
    use std::num::NonZero;

    let sink = rodio::DeviceSinkBuilder::open_default_sink()
        .map_err(|e| PlayError::NoDevice(e.to_string()))?;
    let player = rodio::Player::connect_new(sink.mixer());
    let channels = NonZero::new(r.pcm.channels).ok_or(PlayError::NoDevice("no channels".into()))?;
    let rate = NonZero::new(r.pcm.sample_rate).ok_or(PlayError::NoDevice("no rate".into()))?;
    player.append(rodio::buffer::SamplesBuffer::new(
        channels,
        rate,
        r.pcm.samples.clone(),
    ));
    while !player.empty() {
        on_progress(progress(r, player.get_pos()));
        std::thread::sleep(Duration::from_millis(250));
    }
    on_progress(progress(r, Duration::from_secs_f64(r.pcm.duration_s())));
    Ok(())
}

/// Without the `audio-device` feature there is no device to play on.
#[cfg(not(feature = "audio-device"))]
pub fn play(_r: &Rendered, _on_progress: impl FnMut(Progress<'_>)) -> Result<(), PlayError> {
    Err(PlayError::NotBuilt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::decode::Pcm;
    use crate::lang::Lang;
    use crate::loudness::{GainPlan, Loudness};

    fn entry(lang: Lang, repeat: u32, start_frame: u64, frames: u64) -> TimelineEntry {
        TimelineEntry {
            repeat,
            start_frame,
            start_s: start_frame as f64 / 10.0,
            frames,
            duration_s: frames as f64 / 10.0,
            message: "fake-police".into(),
            lang,
            file: "x.wav".into(),
            gain: GainPlan::unity(Loudness {
                lufs: -16.0,
                true_peak_dbtp: -3.0,
            }),
        }
    }

    fn rendered() -> Rendered {
        Rendered {
            pcm: Pcm {
                sample_rate: 10,
                channels: 1,
                samples: vec![0.0; 100],
            },
            timeline: vec![
                entry(Lang::Ii, 0, 0, 30),
                entry(Lang::Zh, 0, 40, 30),
                entry(Lang::Ii, 1, 80, 20),
            ],
            clipped_samples: 0,
        }
    }

    #[test]
    fn progress_follows_clips_and_gaps() {
        let r = rendered();
        let at = |s: f64| progress(&r, Duration::from_secs_f64(s));
        assert_eq!(at(0.0).current.unwrap().lang, Lang::Ii);
        assert!(at(3.5).current.is_none(), "gap between the languages");
        assert_eq!(at(4.0).current.unwrap().lang, Lang::Zh);
        assert_eq!(at(9.0).current.unwrap().repeat, 1);
        assert_eq!(at(60.0).elapsed_s, 10.0, "clamped to the end");
    }

    #[test]
    fn progress_line_names_time_language_and_message() {
        use crate::locale::{Locale, scoped};
        let r = rendered();
        let at = |locale, d| scoped(locale, || progress_line(&progress(&r, d)));
        let line = at(Locale::En, Duration::from_secs(5));
        assert_eq!(line, "0:05.000 / 0:10.000  zh 普通话  fake-police");
        let line = at(Locale::En, Duration::from_secs(9));
        assert!(line.ends_with("(repeat 2)"), "{line}");
        let line = at(Locale::En, Duration::from_millis(3500));
        assert!(line.ends_with("(gap)"), "{line}");
        assert!(at(Locale::Zh, Duration::from_secs(9)).ends_with("（第 2 遍）"));
        assert!(at(Locale::Zh, Duration::from_millis(3500)).ends_with("（间隔）"));
    }

    #[cfg(not(feature = "audio-device"))]
    #[test]
    fn without_the_feature_play_says_so() {
        let err = play(&rendered(), |_| {}).unwrap_err();
        assert!(matches!(err, PlayError::NotBuilt));
        assert!(err.to_string().contains("audio-device"));
    }
}
