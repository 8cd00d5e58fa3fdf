//! `shengbo render`: a township's broadcast (or one message's pair) rendered to a WAV file
//! exactly as it airs, with its timeline printed. The loudness policy is `[loudness]` of
//! `schedules/settings.toml`; a `--message` clip the audio gate rejects is refused.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::Global;
use crate::catalog::{Catalog, Verdict};
use crate::lang::Lang;
use crate::loudness::{AdjustError, LoudnessConfig, adjust_message};
use crate::render::{self, OutputFormat, Programme, RenderError, Rendered};
use crate::settings::Settings;

mod township;

pub use township::{Pick, SEARCH_DAYS, parse_at, pick};

/// What to render; shared with `shengbo play`.
#[derive(Debug, Clone, clap::Args)]
pub struct Selection {
    /// Township (9-digit code or name) whose broadcast to render: the one at `--at`, or
    /// without `--at` its next broadcast from now (the output says which).
    #[arg(long, conflicts_with = "message")]
    pub township: Option<String>,
    /// The slot time: `2026-12-01 08:00` (Asia/Shanghai) or RFC 3339; without a broadcast
    /// starting then, the next one after it is rendered (and the output says so).
    #[arg(long, requires = "township")]
    pub at: Option<String>,
    /// Render one message's pair from `audio/<ID>/` instead of a township's broadcast; repeat
    /// the option for several messages in a row.
    #[arg(long, value_name = "ID")]
    pub message: Vec<String>,
    /// Language order of a `--message` pair.
    #[arg(long, value_delimiter = ',', default_value = "ii,zh")]
    pub order: Vec<Lang>,
    /// Silence between the clips of a `--message` pair, seconds.
    #[arg(long, default_value_t = render::DEFAULT_GAP_S)]
    pub gap: f64,
    /// How many times a `--message` pair airs (the gap also separates repeats).
    #[arg(long, default_value_t = 1)]
    pub repeats: u32,
    /// Output sample rate, Hz.
    #[arg(long, default_value_t = 48_000)]
    pub rate: u32,
    /// Output channels (1 mono, 2 stereo).
    #[arg(long, default_value_t = 1)]
    pub channels: u16,
}

impl Selection {
    pub fn format(&self) -> OutputFormat {
        OutputFormat {
            sample_rate: self.rate,
            channels: self.channels,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub select: Selection,
    /// The WAV file to write (16-bit PCM).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Also write the loudness-adjusted clips that are pushed to endpoints (mono, 16-bit, at
    /// each source's rate) into this folder, content-addressed.
    #[arg(long, value_name = "DIR")]
    pub adjusted: Option<PathBuf>,
}

/// Input problems (exit 1) as opposed to failures to run (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputProblem(pub String);

/// A selection made ready to render: what airs and the loudness policy it airs with.
#[derive(Debug, Clone)]
pub struct Selected {
    pub programme: Programme,
    pub loudness: LoudnessConfig,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if args.output.is_none() && args.adjusted.is_none() {
        anyhow::bail!(crate::t!("render-say-where"));
    }
    let selected = match select(global, &args.select)? {
        Ok(s) => s,
        Err(problem) => return Ok(input_problem(&problem)),
    };
    if let Some(output) = &args.output {
        let rendered = match render_selected(&selected, args.select.format())? {
            Ok(r) => r,
            Err(problem) => return Ok(input_problem(&problem)),
        };
        render::write_wav(&rendered, output)
            .with_context(|| crate::t!("render-writing", path = output.display().to_string()))?;
        print!("{}", describe(global, &rendered));
        println!(
            "{}",
            crate::t!(
                "render-wrote",
                path = output.display().to_string(),
                rate = rendered.pcm.sample_rate,
                channels = rendered.pcm.channels,
                frames = rendered.pcm.frames()
            )
        );
    }
    if let Some(dir) = &args.adjusted {
        match write_adjusted(global, &selected, dir) {
            Err(AdjustError::Read { path, source }) => {
                let problem = crate::t!(
                    "render-cannot-read",
                    path = path.display().to_string(),
                    reason = source.to_string()
                );
                return Ok(input_problem(&InputProblem(problem)));
            }
            Err(e @ AdjustError::Decode { .. }) => {
                return Ok(input_problem(&InputProblem(e.to_string())));
            }
            other => other?,
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn input_problem(problem: &InputProblem) -> ExitCode {
    crate::locale::eprint_error(problem, None);
    ExitCode::from(1)
}

/// Write (or reuse) the adjusted clips of every message in `p`, one line each.
fn write_adjusted(global: &Global, s: &Selected, dir: &Path) -> Result<(), AdjustError> {
    let p = &s.programme;
    let mut seen: Vec<&str> = Vec::new();
    for item in &p.items {
        if seen.contains(&item.message.as_str()) {
            continue;
        }
        seen.push(&item.message);
        let mut files: Vec<&Path> = Vec::new();
        for it in p.items.iter().filter(|i| i.message == item.message) {
            if !files.contains(&it.file.as_path()) {
                files.push(&it.file);
            }
        }
        for (src, (plan, clip)) in files.iter().zip(adjust_message(&files, &s.loudness, dir)?) {
            let limiter = if plan.limiter_reduction_db > 0.0 {
                crate::t!(
                    "render-adjusted-limiter",
                    db = format!("{:.1}", plan.limiter_reduction_db)
                )
            } else {
                String::new()
            };
            let cached = if clip.reused {
                crate::t!("render-adjusted-cached")
            } else {
                String::new()
            };
            println!(
                "{}",
                crate::t!(
                    "render-adjusted",
                    from = crate::diag::display_path(&global.root, src)
                        .display()
                        .to_string(),
                    to = clip.path.display().to_string(),
                    gain = format!("{:+.1}", plan.gain_db),
                    limiter = limiter,
                    bytes = clip.size_bytes,
                    sha = &clip.sha256[..16],
                    cached = cached
                )
            );
        }
    }
    Ok(())
}

/// The timeline with paths shown relative to the project root.
pub fn describe(global: &Global, r: &Rendered) -> String {
    let mut timeline = r.timeline.clone();
    for e in &mut timeline {
        e.file = crate::diag::display_path(&global.root, &e.file);
    }
    let mut out = render::format_timeline(&timeline, r.pcm.duration_s());
    if r.clipped_samples > 0 {
        out.push_str(&crate::t!("render-clipped", samples = r.clipped_samples));
        out.push('\n');
    }
    out
}

/// Build and render what `sel` names: `Ok(Err(_))` is a problem with the input.
pub fn render_selection(
    global: &Global,
    sel: &Selection,
) -> anyhow::Result<Result<Rendered, InputProblem>> {
    match select(global, sel)? {
        Ok(selected) => render_selected(&selected, sel.format()),
        Err(problem) => Ok(Err(problem)),
    }
}

/// Render a selected programme with its loudness policy.
pub fn render_selected(
    s: &Selected,
    fmt: OutputFormat,
) -> anyhow::Result<Result<Rendered, InputProblem>> {
    match render::render_programme(&s.programme, fmt, &s.loudness) {
        Ok(r) => Ok(Ok(r)),
        Err(e @ (RenderError::Decode(_) | RenderError::BadGap { .. })) => {
            Ok(Err(InputProblem(e.to_string())))
        }
        Err(e) => Err(e.into()),
    }
}

/// What `sel` names, with the settings' loudness policy: `Ok(Err(_))` is a problem with the
/// input. A township's broadcast comes from the planner; `--message` pairs are checked against
/// the audio gate.
pub fn select(global: &Global, sel: &Selection) -> anyhow::Result<Result<Selected, InputProblem>> {
    match (&sel.message[..], &sel.township, &sel.at) {
        ([_, ..], _, _) => messages_selected(global, sel),
        ([], Some(township), at) => township::selected(global, township, at.as_deref()),
        _ => anyhow::bail!("{}", crate::t!("render-say-what")),
    }
}

fn messages_selected(
    global: &Global,
    sel: &Selection,
) -> anyhow::Result<Result<Selected, InputProblem>> {
    let programme = match messages_programme(&global.root, &sel.message, sel) {
        Ok(p) => p,
        Err(problem) => return Ok(Err(problem)),
    };
    let (settings, diags) = Settings::load(&global.root);
    for d in diags.iter().filter(|d| d.is_error()) {
        eprintln!("{d}\n");
    }
    let cache = global.data_dir().probe_cache();
    let catalog = Catalog::load(&global.root, &settings.gate, Some(&cache)).with_context(|| {
        crate::t!(
            "render-catalog-unreadable",
            root = global.root.display().to_string()
        )
    })?;
    if let Err(problem) = gate_allows(&global.root, &catalog, &programme) {
        return Ok(Err(problem));
    }
    Ok(Ok(Selected {
        programme,
        loudness: settings.loudness,
    }))
}

/// Refuse a clip the audio gate rejected, with the gate's reasons. A pair-level rejection
/// (metadata missing, the two languages the same audio) is a warning: auditioning a message
/// before it is complete is what `--message` is for.
fn gate_allows(root: &Path, catalog: &Catalog, p: &Programme) -> Result<(), InputProblem> {
    let mut warned: Vec<&str> = Vec::new();
    for item in &p.items {
        let Some(msg) = catalog.message(&item.message) else {
            continue;
        };
        let Some(clip) = msg.clips.get(&item.lang) else {
            continue;
        };
        if root.join(&clip.file) != item.file {
            continue;
        }
        if let Verdict::Rejected(reasons) = &clip.verdict {
            return Err(InputProblem(crate::t!(
                "render-clip-rejected",
                file = clip.file.display().to_string(),
                reasons = reasons.join("; ")
            )));
        }
        if let Verdict::Rejected(reasons) = &msg.pair_verdict
            && !warned.contains(&msg.id.as_str())
        {
            warned.push(&msg.id);
            tracing::warn!(message = %msg.id, "pair rejected by the gate");
            eprintln!(
                "{}",
                crate::t!(
                    "render-pair-rejected",
                    message = msg.id.as_str(),
                    reasons = reasons.join("; ")
                )
            );
        }
    }
    Ok(())
}

/// Several messages' pairs in a row, `sel.gap` after every clip but the last.
pub fn messages_programme(
    root: &Path,
    ids: &[String],
    sel: &Selection,
) -> Result<Programme, InputProblem> {
    let mut programme = Programme {
        items: Vec::new(),
        repeats: sel.repeats,
        repeat_gap_s: sel.gap,
    };
    for id in ids {
        let mut p = message_programme(root, id, sel)?;
        if let Some(last) = programme.items.last_mut() {
            last.gap_after_s = sel.gap;
        }
        programme.items.append(&mut p.items);
    }
    Ok(programme)
}

/// One message's pair from `audio/<id>/{ii,zh}.<ext>`, in `sel.order`.
pub fn message_programme(
    root: &Path,
    id: &str,
    sel: &Selection,
) -> Result<Programme, InputProblem> {
    let audio = root.join("audio");
    let dir = audio.join(id);
    if id.contains(['/', '\\']) || !dir.is_dir() {
        let known = message_ids(&audio);
        let dir = audio.display().to_string();
        let problem = match crate::diag::did_you_mean(id, known.iter().map(String::as_str)) {
            Some(m) => crate::t!("render-no-message-suggest", id = id, dir = dir, name = m),
            None => crate::t!("render-no-message", id = id, dir = dir),
        };
        return Err(InputProblem(problem));
    }
    let mut clips = Vec::new();
    for &lang in &sel.order {
        let file = clip_file(&dir, lang).ok_or_else(|| {
            InputProblem(crate::t!(
                "render-no-clip",
                id = id,
                lang = lang.code(),
                name = lang.name_zh(),
                dir = dir.display().to_string()
            ))
        })?;
        clips.push((lang, file));
    }
    let mut p = render::pair_programme(id, &clips, sel.gap);
    p.repeats = sel.repeats;
    Ok(p)
}

fn message_ids(audio: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(audio) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = rd
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    ids
}

/// `dir/<lang>.<ext>` for the first audio extension found, in a fixed order.
fn clip_file(dir: &Path, lang: Lang) -> Option<PathBuf> {
    ["wav", "flac", "mp3", "ogg", "m4a", "aac"]
        .iter()
        .map(|ext| dir.join(format!("{}.{ext}", lang.code())))
        .find(|p| p.is_file())
}
