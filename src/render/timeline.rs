//! The timeline of a rendered programme: when each clip starts, how long it lasts, its language
//! and gain — and its plain-text table for the terminal.

use std::fmt::Write;
use std::path::PathBuf;

use super::{OutputFormat, ProgrammeItem};
use crate::lang::Lang;
use crate::loudness::GainPlan;

/// One clip's place in a rendered programme.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    /// 0 for the first time through the programme.
    pub repeat: u32,
    pub start_frame: u64,
    pub start_s: f64,
    pub frames: u64,
    pub duration_s: f64,
    pub message: String,
    pub lang: Lang,
    pub file: PathBuf,
    pub gain: GainPlan,
}

impl TimelineEntry {
    pub(super) fn new(
        item: &ProgrammeItem,
        repeat: u32,
        start_frame: u64,
        frames: u64,
        gain: GainPlan,
        fmt: OutputFormat,
    ) -> TimelineEntry {
        let rate = f64::from(fmt.sample_rate);
        TimelineEntry {
            repeat,
            start_frame,
            start_s: start_frame as f64 / rate,
            frames,
            duration_s: frames as f64 / rate,
            message: item.message.clone(),
            lang: item.lang,
            file: item.file.clone(),
            gain,
        }
    }
}

/// `m:ss.mmm`.
pub fn clock(seconds: f64) -> String {
    let ms = (seconds * 1000.0).round().max(0.0) as u64;
    format!("{}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000)
}

/// The timeline as a table, one clip a line, with a note for capped or matched gains and for
/// the limiter's gain reduction.
pub fn format_timeline(entries: &[TimelineEntry], total_s: f64) -> String {
    let mut out = String::from("start      length     lang  gain      expected   message  file\n");
    for e in entries {
        let _ = write!(
            out,
            "{:<10} {:<10} {:<5} {:>+6.1} dB {:>6.1} LUFS  {}  {}",
            clock(e.start_s),
            clock(e.duration_s),
            e.lang.code(),
            e.gain.gain_db,
            e.gain.expected_lufs,
            e.message,
            e.file.display(),
        );
        if e.gain.limited {
            let _ = write!(
                out,
                "  (capped by the true-peak ceiling, {:.1} LU short)",
                e.gain.shortfall_lu
            );
        } else if e.gain.matched_to_pair {
            let _ = write!(
                out,
                "  (lowered to match its pair, {:.1} LU short)",
                e.gain.shortfall_lu
            );
        }
        if e.gain.limiter_reduction_db > 0.0 {
            let _ = write!(
                out,
                "  (limiter took peaks down by up to {:.1} dB)",
                e.gain.limiter_reduction_db
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "total {}", clock(total_s));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_formats_minutes_seconds_millis() {
        assert_eq!(clock(0.0), "0:00.000");
        assert_eq!(clock(61.5), "1:01.500");
        assert_eq!(clock(3599.9994), "59:59.999");
    }

    #[test]
    fn table_notes_capped_and_matched_gains() {
        let item = ProgrammeItem {
            message: "fake-police".into(),
            lang: Lang::Ii,
            file: "audio/fake-police/ii.mp3".into(),
            gain_db: None,
            gap_after_s: 1.0,
        };
        let mut gain = GainPlan::unity(crate::loudness::Loudness {
            lufs: -17.0,
            true_peak_dbtp: -1.0,
        });
        gain.limited = true;
        gain.shortfall_lu = 1.0;
        let fmt = OutputFormat::default();
        let e = TimelineEntry::new(&item, 0, 48_000, 96_000, gain, fmt);
        assert_eq!((e.start_s, e.duration_s), (1.0, 2.0));
        let table = format_timeline(&[e], 3.0);
        assert!(table.contains("0:01.000"), "{table}");
        assert!(
            table.contains("capped by the true-peak ceiling, 1.0 LU short"),
            "{table}"
        );
        assert!(table.ends_with("total 0:03.000\n"), "{table}");
        assert!(!table.contains("limiter"), "{table}");
    }

    #[test]
    fn table_shows_the_limiter_reduction() {
        let item = ProgrammeItem {
            message: "fake-rights-agents".into(),
            lang: Lang::Zh,
            file: "audio/fake-rights-agents/zh.mp3".into(),
            gain_db: None,
            gap_after_s: 0.0,
        };
        let mut gain = GainPlan::unity(crate::loudness::Loudness {
            lufs: -16.0,
            true_peak_dbtp: -1.2,
        });
        gain.gain_db = 4.5;
        gain.limiter_reduction_db = 2.34;
        let e = TimelineEntry::new(&item, 0, 0, 48_000, gain, OutputFormat::default());
        let table = format_timeline(&[e], 1.0);
        assert!(table.contains("  +4.5 dB  -16.0 LUFS"), "{table}");
        assert!(
            table.contains("(limiter took peaks down by up to 2.3 dB)"),
            "{table}"
        );
    }
}
