//! The timeline of a rendered programme: when each clip starts, how long it lasts, its language
//! and gain — and its plain-text table for the terminal.

use std::fmt::Write;
use std::path::PathBuf;

use unicode_width::UnicodeWidthStr;

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
    let mut out = String::new();
    // Headings padded by display width (a Han character is two columns), at least one space.
    for (id, width) in [
        ("timeline-col-start", 11usize),
        ("timeline-col-length", 11),
        ("timeline-col-lang", 6),
        ("timeline-col-gain", 10),
        ("timeline-col-expected", 11),
        ("timeline-col-message", 9),
    ] {
        let head = crate::t!(id);
        out.push_str(&head);
        out.push_str(&" ".repeat(width.saturating_sub(head.width()).max(1)));
    }
    out.push_str(&crate::t!("timeline-col-file"));
    out.push('\n');
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
            let lu = format!("{:.1}", e.gain.shortfall_lu);
            let _ = write!(out, "  {}", crate::t!("timeline-capped", lu = lu));
        } else if e.gain.matched_to_pair {
            let lu = format!("{:.1}", e.gain.shortfall_lu);
            let _ = write!(out, "  {}", crate::t!("timeline-matched", lu = lu));
        }
        if e.gain.limiter_reduction_db > 0.0 {
            let db = format!("{:.1}", e.gain.limiter_reduction_db);
            let _ = write!(out, "  {}", crate::t!("timeline-limiter", db = db));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{}",
        crate::t!("timeline-total", total = clock(total_s))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locale::{Locale, scoped};

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
        let table = scoped(Locale::En, || {
            format_timeline(std::slice::from_ref(&e), 3.0)
        });
        assert!(table.contains("0:01.000"), "{table}");
        assert!(
            table.contains("capped by the true-peak ceiling, 1.0 LU short"),
            "{table}"
        );
        assert!(table.ends_with("total 0:03.000\n"), "{table}");
        assert!(!table.contains("limiter"), "{table}");
        assert!(
            table.starts_with("start      length     lang  gain      expected   message  file\n")
        );
        let zh = scoped(Locale::Zh, || {
            format_timeline(std::slice::from_ref(&e), 3.0)
        });
        assert!(
            zh.starts_with("开始       时长       语言  增益      预期响度   消息     文件\n"),
            "{zh}"
        );
        assert!(zh.contains("（受真峰值上限限制，差 1.0 LU）"), "{zh}");
        assert!(zh.ends_with("合计 0:03.000\n"), "{zh}");
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
        let table = scoped(Locale::En, || {
            format_timeline(std::slice::from_ref(&e), 1.0)
        });
        assert!(table.contains("  +4.5 dB  -16.0 LUFS"), "{table}");
        assert!(
            table.contains("(limiter took peaks down by up to 2.3 dB)"),
            "{table}"
        );
    }
}
