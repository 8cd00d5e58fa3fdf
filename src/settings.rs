//! Deployment-wide settings from `schedules/settings.toml` (optional; every key has a default):
//! the audio gate's thresholds (`[gate]`), the loudness policy (`[loudness]`), staff-supplied
//! township populations (`[[population]]`) and the EBD interface's codes (`[ebd]`, among them
//! the sender resource codes).
//!
//! Parsed in two stages like the campaign files: plain serde structs mirroring the file
//! (`deny_unknown_fields`), then range checks. Every problem of the file is reported at once,
//! each at `file:line:col`; a key that is wrong falls back to its default (a bad
//! `[[population]]` entry is left out), so one mistake never stops the rest from applying.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use crate::catalog::gate::GateConfig;
use crate::diag::{Diagnostic, Location, toml_error};
use crate::directory::{Directory, PopulationOverride};
use crate::ebd::EbdProfile;
use crate::loudness::LoudnessConfig;

mod checks;

/// Where the settings live, relative to the project root.
pub const SETTINGS_FILE: &str = "schedules/settings.toml";

/// The keys at the top of the file.
const TOP_KEYS: &[&str] = &["gate", "loudness", "population", "ebd", "locale"];

/// How many wrong values of one file are reported before giving up.
const MAX_TYPE_ERRORS: usize = 32;

/// Validated settings: every value in range (defaults where the file says nothing or is wrong).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The file the settings came from, as shown in diagnostics.
    pub file: PathBuf,
    pub gate: GateConfig,
    pub loudness: LoudnessConfig,
    /// Township populations replacing the estimates, in file order.
    pub population: Vec<PopulationOverride>,
    /// The emergency-broadcast data interface's configurable codes (`[ebd]`).
    pub ebd: EbdProfile,
    /// The interface language of this project (`locale = "zh"` or `"en"`), when set.
    pub locale: Option<crate::locale::Locale>,
    /// Where each population override's `township` is written (same order as `population`).
    population_at: Vec<Option<Location>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            file: PathBuf::from(SETTINGS_FILE),
            gate: GateConfig::default(),
            loudness: LoudnessConfig::default(),
            population: Vec::new(),
            ebd: EbdProfile::default(),
            locale: None,
            population_at: Vec::new(),
        }
    }
}

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSettings {
    gate: GateConfig,
    loudness: LoudnessConfig,
    population: Vec<RawOverride>,
    ebd: EbdProfile,
    locale: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    township: Spanned<String>,
    people: Spanned<u64>,
    source: Spanned<String>,
}

impl Settings {
    /// Parse `src`, the text of `file` (the path shown in diagnostics). Never fails: what is
    /// wrong is reported and replaced by its default.
    pub fn parse(file: &Path, src: &str) -> (Settings, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut settings = Settings {
            file: file.to_path_buf(),
            ..Settings::default()
        };
        let (mut table, syntax) = DeTable::parse_recoverable(src);
        if let Some(first) = syntax
            .iter()
            .min_by_key(|e| e.span().map_or(0, |s| s.start))
        {
            diags.push(toml_error(file, src, first, TOP_KEYS));
            return (settings, diags);
        }
        let raw = lenient(table.get_mut(), file, src, &mut diags);
        let spans = checks::Spans::new(table.get_ref(), src, file);
        settings.gate = checks::gate(raw.gate, &spans, &mut diags);
        settings.loudness = checks::loudness(raw.loudness, &spans, &mut diags);
        for o in raw.population {
            if let Some((o, at)) = checks::population(o, &spans, &mut diags) {
                settings.population.push(o);
                settings.population_at.push(Some(at));
            }
        }
        settings.ebd = checks::ebd(raw.ebd, &spans, &mut diags);
        if let Some(locale) = raw.locale {
            match locale.get_ref().parse() {
                Ok(l) => settings.locale = Some(l),
                Err(crate::locale::UnknownLocale(value)) => diags.push(
                    Diagnostic::error(file, crate::t!("locale-unknown", value = value))
                        .at(src, locale.span()),
                ),
            }
        }
        tracing::debug!(file = %file.display(), problems = diags.len(), "settings parsed");
        (settings, diags)
    }

    /// Load `<root>/schedules/settings.toml`; a missing file means every default.
    pub fn load(root: &Path) -> (Settings, Vec<Diagnostic>) {
        let file = PathBuf::from(SETTINGS_FILE);
        match std::fs::read_to_string(root.join(&file)) {
            Ok(src) => Settings::parse(&file, &src),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Settings::default(), vec![]),
            Err(e) => {
                let message = crate::t!("settings-unreadable", reason = e.to_string());
                let d = Diagnostic::error(&file, message).with_help(crate::t!("settings-defaults"));
                (Settings::default(), vec![d])
            }
        }
    }

    /// Replace estimated township populations with the overrides. Each override is applied on
    /// its own: an unknown township, or one named twice, is an error at its line and the others
    /// still apply.
    pub fn apply_population(&self, directory: &mut Directory) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let mut seen: Vec<(String, usize)> = Vec::new();
        for (i, o) in self.population.iter().enumerate() {
            let at = self.population_at.get(i).cloned().flatten();
            let mut diag = |message: String, help: Option<String>| {
                let mut d = Diagnostic::error(&self.file, message);
                d.location = at.clone();
                d.help = help;
                diags.push(d);
            };
            // A 12-digit village code replaces that village's estimate.
            let found = match directory.village_by_code(o.township.trim()) {
                Some(r) => Ok(r.village.code.clone()),
                None => directory.township(&o.township).map(|t| t.code.clone()),
            };
            let code = match found {
                Ok(code) => code,
                Err(e) => {
                    diag(
                        crate::t!("population-override", reason = e.to_string()),
                        e.help().map(str::to_string),
                    );
                    continue;
                }
            };
            if let Some((_, first)) = seen.iter().find(|(c, _)| *c == code) {
                let line = self.population_at[*first].as_ref().map_or(0, |l| l.line);
                diag(
                    crate::t!("population-twice", code = code.as_str()),
                    Some(crate::t!("population-first-at", line = line)),
                );
                continue;
            }
            seen.push((code, i));
            if let Err(e) = directory.apply_overrides(std::slice::from_ref(o)) {
                diag(
                    crate::t!("population-override", reason = e.to_string()),
                    None,
                );
            }
        }
        diags
    }
}

/// Deserialize what serde accepts: each wrong or unknown key is reported and dropped (a bad
/// `[[population]]` entry as a whole) and deserialization tried again.
fn lenient(
    table: &mut DeTable<'_>,
    file: &Path,
    src: &str,
    diags: &mut Vec<Diagnostic>,
) -> RawSettings {
    for _ in 0..MAX_TYPE_ERRORS {
        let doc = Spanned::new(0..src.len(), table.clone());
        match RawSettings::deserialize(toml::de::Deserializer::from(doc)) {
            Ok(raw) => return raw,
            Err(e) => {
                diags.push(toml_error(file, src, &e, TOP_KEYS));
                let dropped = e.span().is_some_and(|at| drop_at(table, &at));
                if !dropped {
                    break;
                }
            }
        }
    }
    RawSettings::default()
}

fn holds(span: Range<usize>, at: &Range<usize>) -> bool {
    span.start <= at.start && at.end <= span.end
}

/// Whether any key or value of `t` (or of a table inside it) covers `at`.
fn table_holds(t: &DeTable<'_>, at: &Range<usize>) -> bool {
    t.iter().any(|(k, v)| {
        holds(k.span(), at)
            || holds(v.span(), at)
            || matches!(v.get_ref(), DeValue::Table(inner) if table_holds(inner, at))
    })
}

/// Remove the innermost key covering `at`; in an array of tables, the whole entry covering it.
fn drop_at(table: &mut DeTable<'_>, at: &Range<usize>) -> bool {
    let keys: Vec<String> = table.keys().map(|k| k.get_ref().to_string()).collect();
    for key in &keys {
        let dropped = match table.get_mut(key.as_str()).map(Spanned::get_mut) {
            Some(DeValue::Table(t)) => drop_at(t, at),
            Some(DeValue::Array(items)) => drop_entry(items, at),
            _ => false,
        };
        if dropped {
            return true;
        }
    }
    let found = table
        .iter()
        .find(|(k, v)| holds(k.span(), at) || holds(v.span(), at))
        .map(|(k, _)| k.get_ref().to_string());
    found.is_some_and(|k| table.remove(k.as_str()).is_some())
}

/// Remove the entry of an array (of tables) covering `at`.
fn drop_entry(items: &mut DeArray<'_>, at: &Range<usize>) -> bool {
    let hit = items.iter().position(|it| {
        holds(it.span(), at) || matches!(it.get_ref(), DeValue::Table(t) if table_holds(t, at))
    });
    let Some(i) = hit else {
        return false;
    };
    let kept = items.iter().enumerate().filter(|(j, _)| *j != i);
    *items = kept.map(|(_, v)| v.clone()).collect();
    true
}

#[cfg(test)]
mod tests;
