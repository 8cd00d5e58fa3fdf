//! `shengbo check`: schedules, catalog and directory checked together, grouped by file.
//!
//! The loaders report their own problems (schedule syntax and validation, `message.toml` and
//! folder layout); [`cross_check`] adds what only shows when the three meet: unknown messages,
//! messages a campaign cannot air, clips the gate rejected or warned about, and campaigns that
//! lose a township's minute to another on priority.
//!
//! Errors (exit 1): anything the loaders call an error; a campaign naming an unknown message;
//! a campaign naming a message it cannot air (a language of its order missing or rejected, or
//! the pair rejected); a clip the gate rejected; a message without one of its two languages.
//! Warnings: anything the loaders call a warning; a clip the gate passed with a remark; a
//! message whose valid dates never meet the campaign's; two campaigns wanting one township in
//! the same minute (the higher priority airs).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::catalog::Catalog;
use crate::diag::Diagnostic;
use crate::directory::Directory;
use crate::schedule::Campaign;
use crate::settings::Settings;

/// Days planned from the check's start to find same-minute conflicts between campaigns.
pub const CONFLICT_WINDOW_DAYS: i64 = 35;

/// What `check` found, and what it looked at.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub campaigns: usize,
    pub messages: usize,
    pub townships: usize,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }

    /// Files with at least one diagnostic.
    pub fn files(&self) -> usize {
        self.diagnostics
            .iter()
            .map(|d| &d.file)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// `3 errors, 1 warning in 2 files; 4 campaigns, 8 messages, 304 townships`
    pub fn summary(&self) -> String {
        crate::t!(
            "check-summary",
            errors = self.errors(),
            warnings = self.warnings(),
            files = self.files(),
            campaigns = self.campaigns,
            messages = self.messages,
            townships = self.townships,
        )
    }

    /// Every diagnostic grouped by file (files in path order), errors before warnings, then by
    /// position; a blank line after each; the summary line last.
    pub fn render(&self) -> String {
        let mut by_file: BTreeMap<&Path, Vec<&Diagnostic>> = BTreeMap::new();
        for d in &self.diagnostics {
            by_file.entry(&d.file).or_default().push(d);
        }
        let mut out = String::new();
        for list in by_file.values_mut() {
            list.sort_by_key(|d| (d.severity, d.location.as_ref().map(|l| (l.line, l.col))));
            for d in list.iter() {
                let _ = writeln!(out, "{d}\n");
            }
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }
}

/// Everything `check` and `plan` read from disk: the project as every command sees it.
#[derive(Debug)]
pub struct Inputs {
    /// `schedules/settings.toml` (defaults where it is missing or wrong).
    pub settings: Settings,
    pub directory: Directory,
    pub catalog: Catalog,
    /// The campaigns whose files have no errors.
    pub campaigns: Vec<Campaign>,
    /// Each campaign file's text, keyed by its path relative to the root.
    pub sources: BTreeMap<PathBuf, String>,
    /// What the settings, the schedule loader and the catalog reported.
    pub diagnostics: Vec<Diagnostic>,
}

/// Why `check` could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{}", crate::t!("check-no-schedules", root = .0.display().to_string()))]
    NoSchedules(PathBuf),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::load::LoadError),
}

/// Load the whole project the one way every command does: `schedules/settings.toml` first,
/// then the directory with its population overrides, the catalog judged by the settings' gate
/// (probing through `cache_dir`), and the campaigns of `<root>/schedules`.
pub fn load(
    root: &Path,
    cache_dir: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<Inputs, CheckError> {
    if !root.join("schedules").is_dir() {
        return Err(CheckError::NoSchedules(root.to_path_buf()));
    }
    let (settings, mut diagnostics) = Settings::load(root);
    let mut directory = Directory::liangshan();
    diagnostics.extend(settings.apply_population(&mut directory));
    let catalog = Catalog::load(root, &settings.gate, cache_dir)?;
    let (mut campaigns, campaign_diags) = crate::schedule::load_dir_at(root, &directory, now);
    // A file named here (a misspelt `settings.toml` read as a campaign) is one diagnostic.
    let unread = files::unread(root);
    let named: BTreeSet<&Path> = unread.iter().map(|d| d.file.as_path()).collect();
    campaigns.retain(|c| !named.contains(c.file.as_path()));
    diagnostics.extend(
        campaign_diags
            .into_iter()
            .filter(|d| !named.contains(d.file.as_path())),
    );
    diagnostics.extend(unread.iter().cloned());
    text_slips(root, &mut campaigns, &mut diagnostics);
    diagnostics.extend(catalog.diagnostics.iter().cloned());
    // The endpoint registry, read as `serve` and `run` read it (without `--sim` substitution).
    if root.join(crate::endpoint::FILE).is_file() {
        match crate::endpoint::load_root(root, &directory) {
            Ok((_, warnings)) => diagnostics.extend(warnings),
            Err(errors) => diagnostics.extend(errors),
        }
    }
    let sources = campaigns
        .iter()
        .filter_map(|c| {
            let text = std::fs::read_to_string(root.join(&c.file)).ok()?;
            Some((c.file.clone(), text))
        })
        .collect();
    tracing::info!(
        campaigns = campaigns.len(),
        messages = catalog.messages.len(),
        problems = diagnostics.len(),
        "inputs loaded"
    );
    Ok(Inputs {
        settings,
        directory,
        catalog,
        campaigns,
        sources,
        diagnostics,
    })
}

/// Each campaign file's encoding and input-method slips, found before the TOML parser: where
/// one is found it replaces what the parser made of the same mistake (one mistake, one
/// diagnostic), and the file's campaign is dropped.
fn text_slips(root: &Path, campaigns: &mut Vec<Campaign>, diagnostics: &mut Vec<Diagnostic>) {
    let Ok(entries) = std::fs::read_dir(root.join("schedules")) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
    files.sort();
    for path in files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".toml") || crate::schedule::NOT_CAMPAIGNS.contains(&name) {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let shown = crate::diag::display_path(root, &path);
        let found = match text::decode(&shown, &bytes) {
            Ok(src) => text::slips(&shown, &src),
            Err(d) => vec![*d],
        };
        if found.iter().any(Diagnostic::is_error) {
            diagnostics.retain(|d| d.file != shown);
            campaigns.retain(|c| c.file != shown);
        }
        diagnostics.extend(found);
    }
}

/// One line per population override that applied: the township, the figure, its source and
/// the estimate it replaces, e.g. ``population: 城北镇 `513431100` 12345 people (`户籍`), estimate
/// was 20000 — schedules/settings.toml``.
pub fn population_notes(inputs: &Inputs) -> Vec<String> {
    let estimates = Directory::liangshan();
    let mut notes = Vec::new();
    for o in &inputs.settings.population {
        // A township by code or name, or a village by its 12-digit code.
        let Some(t) = inputs.directory.area(o.township.trim()) else {
            continue;
        };
        if t.population.estimated || t.population.source != o.source {
            continue;
        }
        let code = t.village.map_or(&t.township.code, |v| &v.code);
        let was = estimates.area(code).map_or(0, |e| e.population.people);
        notes.push(crate::t!(
            "check-population-note",
            name = &t.name,
            code = code,
            people = t.population.people,
            source = &o.source,
            was = was,
            file = inputs.settings.file.display().to_string(),
        ));
    }
    notes
}

/// Check loaded inputs: the loaders' diagnostics and the cross-checks, conflicts looked for
/// from the start of `now`'s day in Asia/Shanghai (so the result does not depend on the hour).
pub fn run(inputs: &Inputs, now: DateTime<Utc>) -> Report {
    let tz = chrono_tz::Asia::Shanghai;
    let midnight = now
        .with_timezone(&tz)
        .date_naive()
        .and_time(chrono::NaiveTime::MIN);
    let from = crate::schedule::cron::place_in_zone(tz, midnight);
    let mut diagnostics = inputs.diagnostics.clone();
    diagnostics.extend(cross_check(
        &inputs.campaigns,
        &inputs.catalog,
        &inputs.directory,
        &inputs.sources,
        from,
    ));
    Report {
        diagnostics,
        campaigns: inputs.campaigns.len(),
        messages: inputs.catalog.messages.len(),
        townships: inputs.directory.townships().len(),
    }
}

mod cross;
pub mod files;
pub mod forms;
pub mod text;
pub mod tz;

pub use cross::{cross_check, message_span, sort};

#[cfg(test)]
mod tests;
