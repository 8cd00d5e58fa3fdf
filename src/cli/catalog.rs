//! `shengbo catalog`: every clip with its measurements, the gain the loudness policy gives it
//! and what it measures after, and its gate status, as an aligned table or JSON. Exit 0 when no
//! clip is rejected, 1 when any is (or when `schedules/settings.toml` has errors).
//!
//! Loudness is shown as it airs: on the mono downmix (the probe meters every channel, which
//! reads up to 3 LU louder for stereo), and the gains are the pair-level plan
//! ([`crate::loudness::plan_pair`]) with `[loudness]` from the settings.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::Global;
use crate::catalog::gate::GateConfig;
use crate::catalog::load::merge;
use crate::catalog::{Catalog, Clip, Message, Verdict};
use crate::loudness::{GainPlan, Loudness, LoudnessConfig, message_gains};
use crate::settings::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Gate thresholds from this TOML file (keys of `[gate]`); default: `[gate]` of
    /// `schedules/settings.toml`.
    #[arg(long, value_name = "FILE")]
    pub gate: Option<PathBuf>,
    /// Probe every clip again instead of using the probe cache.
    #[arg(long)]
    pub no_cache: bool,
}

/// One output row: a clip, judged together with its pair.
#[derive(Debug, Serialize)]
struct Row {
    message: String,
    lang: String,
    file: String,
    duration_s: Option<f64>,
    format: Option<String>,
    codec: Option<String>,
    /// Integrated loudness as it airs (mono), LUFS.
    lufs: Option<f64>,
    /// True peak as it airs (mono), dBTP.
    true_peak_dbtp: Option<f64>,
    /// What `lufs` and `true_peak_dbtp` were measured on: `mono` or `mono downmix`.
    measured_on: Option<&'static str>,
    /// The static gain the loudness policy applies, dB (pair-level plan).
    gain_db: Option<f64>,
    lufs_after: Option<f64>,
    true_peak_after_dbtp: Option<f64>,
    /// How far below the target the clip stays after the gain, LU.
    gain_shortfall_lu: Option<f64>,
    /// The true-peak ceiling capped the gain.
    gain_limited: Option<bool>,
    /// The gain was lowered to match the other language of the pair.
    gain_matched_to_pair: Option<bool>,
    /// The largest gain reduction the true-peak limiter applies to the clip's peaks, dB (0 when
    /// the gain alone keeps it under the ceiling).
    limiter_reduction_db: Option<f64>,
    status: &'static str,
    reason: Option<String>,
    reasons: Vec<String>,
    sha256: Option<String>,
    sample_rate: Option<u32>,
    channels: Option<u16>,
    size_bytes: Option<u64>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let (settings, settings_diags) = Settings::load(&global.root);
    for d in &settings_diags {
        eprintln!("{d}\n");
    }
    let gate = match &args.gate {
        Some(path) => read_gate(path)?,
        None => settings.gate.clone(),
    };
    let cache = (!args.no_cache).then(|| global.data_dir().probe_cache());
    let catalog = Catalog::load(&global.root, &gate, cache.as_deref())?;
    for d in &catalog.diagnostics {
        eprintln!("{d}\n");
    }
    let cfg = settings.loudness;
    let rows: Vec<Row> = catalog
        .messages
        .values()
        .flat_map(|m| rows_of(&global.root, m, &cfg))
        .collect();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", table(&rows));
        println!("{}", policy_note(&cfg));
    }
    let rejected = rows.iter().filter(|r| r.status == "rejected").count();
    if rejected > 0 {
        eprintln!(
            "{}",
            crate::t!("catalog-rejected", rejected = rejected, clips = rows.len())
        );
        return Ok(ExitCode::from(1));
    }
    if settings_diags.iter().any(|d| d.is_error()) {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn read_gate(path: &Path) -> anyhow::Result<GateConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| crate::t!("catalog-cannot-read", path = path.display().to_string()))?;
    toml::from_str::<GateConfig>(&text)
        .with_context(|| crate::t!("catalog-bad-gate", path = path.display().to_string()))
}

/// The line under the table saying how loudness was measured and planned.
fn policy_note(cfg: &LoudnessConfig) -> String {
    let peaks = if cfg.limiter {
        crate::t!("catalog-limiter-on")
    } else {
        crate::t!("catalog-limiter-off")
    };
    crate::t!(
        "catalog-policy",
        target = cfg.target_lufs.to_string(),
        ceiling = cfg.max_true_peak_dbtp.to_string(),
        tolerance = cfg.pair_tolerance_lu.to_string(),
        peaks = peaks
    )
}

fn rows_of(root: &Path, msg: &Message, cfg: &LoudnessConfig) -> Vec<Row> {
    let gains = message_gains(root, msg, cfg);
    msg.clips
        .values()
        .map(|clip| {
            let gain = gains.get(&clip.lang);
            let measured = gain.map(|g| (g.measured, g.measured_on));
            row(msg, clip, measured, gain.map(|g| g.plan))
        })
        .collect()
}

fn row(
    msg: &Message,
    clip: &Clip,
    measured: Option<(Loudness, &'static str)>,
    plan: Option<GainPlan>,
) -> Row {
    let verdict = merge(clip.verdict.clone(), msg.pair_verdict.clone());
    let (status, reasons) = match verdict {
        Verdict::Ok => ("ok", vec![]),
        Verdict::Warning(r) => ("warning", r),
        Verdict::Rejected(r) => ("rejected", r),
    };
    let p = clip.probe.as_ref();
    let finite = |x: f64| x.is_finite().then_some(x);
    Row {
        message: msg.id.clone(),
        lang: clip.lang.code().to_string(),
        file: clip.file.display().to_string(),
        duration_s: p.map(|p| p.duration_s),
        format: p.map(|p| p.container.clone()),
        codec: p.map(|p| p.codec.clone()),
        lufs: measured.and_then(|(l, _)| finite(l.lufs)),
        true_peak_dbtp: measured.and_then(|(l, _)| finite(l.true_peak_dbtp)),
        measured_on: measured.map(|(_, on)| on),
        gain_db: plan.and_then(|g| finite(g.gain_db)),
        lufs_after: plan.and_then(|g| finite(g.expected_lufs)),
        true_peak_after_dbtp: plan.and_then(|g| finite(g.expected_true_peak)),
        gain_shortfall_lu: plan.and_then(|g| finite(g.shortfall_lu)),
        gain_limited: plan.map(|g| g.limited),
        gain_matched_to_pair: plan.map(|g| g.matched_to_pair),
        limiter_reduction_db: plan.map(|g| g.limiter_reduction_db),
        status,
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        reasons,
        sha256: p.map(|p| p.sha256.clone()),
        sample_rate: p.map(|p| p.sample_rate),
        channels: p.map(|p| p.channels),
        size_bytes: p.map(|p| p.size_bytes),
    }
}

/// The rows as an aligned text table (widths measured in terminal columns).
fn table(rows: &[Row]) -> String {
    let col = |id: &str| crate::t!(&format!("catalog-col-{id}"));
    let header = [
        col("message"),
        col("lang"),
        col("duration"),
        col("format"),
        "LUFS".to_string(),
        "dBTP".to_string(),
        col("gain"),
        col("limiter"),
        col("lufs-after"),
        col("dbtp-after"),
        col("status"),
        col("reason"),
    ];
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut cells: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let num =
            |v: Option<f64>, unit: &str| v.map_or("-".to_string(), |v| format!("{v:.1}{unit}"));
        let format = match (&r.format, &r.codec, r.sample_rate, r.channels) {
            (Some(f), Some(c), Some(rate), Some(ch)) if f == c => format!("{f} {rate}Hz {ch}ch"),
            (Some(f), Some(c), Some(rate), Some(ch)) => format!("{f}/{c} {rate}Hz {ch}ch"),
            _ => "-".to_string(),
        };
        cells.push(vec![
            r.message.clone(),
            r.lang.clone(),
            num(r.duration_s, " s"),
            format,
            num(r.lufs, ""),
            num(r.true_peak_dbtp, ""),
            r.gain_db.map_or("-".to_string(), |g| {
                let mark = if r.gain_matched_to_pair == Some(true) {
                    " ="
                } else if r.gain_limited == Some(true) {
                    " ^"
                } else {
                    ""
                };
                format!("{g:+.1}{mark}")
            }),
            num(r.limiter_reduction_db.filter(|&d| d > 0.0).map(|d| -d), ""),
            num(r.lufs_after, ""),
            num(r.true_peak_after_dbtp, ""),
            crate::t!(&format!("catalog-status-{}", r.status)),
            r.reason.clone().unwrap_or_default(),
        ]);
    }
    super::plan::table::render(&header, &cells, &[])
}

#[cfg(test)]
mod tests {
    use unicode_width::UnicodeWidthStr;

    use super::*;

    fn sample_row(message: &str, reason: Option<&str>) -> Row {
        Row {
            message: message.into(),
            lang: "zh".into(),
            file: "audio/x/zh.mp3".into(),
            duration_s: Some(12.34),
            format: Some("mp3".into()),
            codec: Some("mp3".into()),
            lufs: Some(-18.04),
            true_peak_dbtp: Some(-4.0),
            measured_on: Some("mono"),
            gain_db: Some(2.04),
            lufs_after: Some(-16.0),
            true_peak_after_dbtp: Some(-1.96),
            gain_shortfall_lu: Some(0.0),
            gain_limited: Some(false),
            gain_matched_to_pair: Some(false),
            limiter_reduction_db: Some(1.26),
            status: if reason.is_some() { "rejected" } else { "ok" },
            reason: reason.map(String::from),
            reasons: vec![],
            sha256: None,
            sample_rate: Some(22050),
            channels: Some(1),
            size_bytes: None,
        }
    }

    #[test]
    fn table_aligns_han_text_by_display_width() {
        let rows = [
            sample_row("冒充客服", None),
            sample_row("abcdefgh", Some("bad")),
        ];
        let zh = crate::locale::scoped(crate::locale::Locale::Zh, || table(&rows));
        let lines: Vec<&str> = zh.lines().collect();
        assert!(lines[0].starts_with("消息      语言"), "{zh}");
        assert!(lines[0].contains("增益 dB  限幅 dB  处理后 LUFS"), "{zh}");
        assert!(lines[2].ends_with("不通过  bad"), "{zh}");
        let col = |line: &str| line[..line.find("zh").unwrap()].width();
        assert_eq!(col(lines[1]), col(lines[2]));
        let t = crate::locale::scoped(crate::locale::Locale::En, || table(&rows));
        let lines: Vec<&str> = t.lines().collect();
        let col = |line: &str| line[..line.find("zh").unwrap()].width();
        assert_eq!(col(lines[1]), col(lines[2]));
        assert!(lines[1].contains("12.3 s") && lines[1].contains("mp3 22050Hz 1ch"));
        assert!(lines[2].ends_with("rejected  bad"));
        assert!(lines[0].contains("GAIN dB  LIMITER dB  LUFS AFTER"), "{t}");
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        assert!(
            cells.windows(3).any(|w| w == ["+2.0", "-1.3", "-16.0"]),
            "{t}"
        );
    }
}
