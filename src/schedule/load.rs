//! Campaign files in and campaigns out: one file from a string (pure, with the clock passed
//! in), and the whole `schedules/` folder from disk, every problem of every file reported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Campaign;
use super::ctx::Ctx;
use super::raw;
use super::validate;
use crate::calendar::Calendar;
use crate::diag::{Diagnostic, display_path};
use crate::directory::Directory;

/// Files in `schedules/` that are not campaigns (other formats live there too).
pub const NOT_CAMPAIGNS: [&str; 4] = [
    "settings.toml",
    "endpoints.toml",
    "markets.toml",
    "festivals.toml",
];

/// Parse one campaign file at a given moment (`now` decides only the "already ended" warning).
/// Returns the campaign when the file has no errors, and every diagnostic, warnings included.
pub fn parse_at(
    file: &Path,
    src: &str,
    directory: &Directory,
    now: DateTime<Utc>,
) -> (Option<Campaign>, Vec<Diagnostic>) {
    let mut ctx = Ctx::new(file, src);
    let (raw, errors) = raw::parse_lenient(src);
    for e in errors {
        ctx.dropped.extend(e.dropped_from);
        let d = Diagnostic::error(file, e.message).at(src, e.span);
        ctx.diags.push(match e.help {
            Some(h) => d.with_help(h),
            None => d,
        });
    }
    let campaign = raw.and_then(|raw| validate::campaign(&mut ctx, raw, directory, now));
    let mut diags = ctx.diags;
    // In file order; a diagnostic without a position first.
    diags.sort_by_key(|d| d.location.as_ref().map(|l| (l.line, l.col)));
    (campaign, diags)
}

/// Parse one campaign file. `Err` holds every diagnostic (warnings too) when any is an error;
/// warnings of a valid file are dropped here — use [`parse_at`] or [`load_dir`] to keep them.
pub fn parse_str(
    file: &Path,
    src: &str,
    directory: &Directory,
) -> Result<Campaign, Vec<Diagnostic>> {
    match parse_at(file, src, directory, Utc::now()) {
        (Some(campaign), _) => Ok(campaign),
        (None, diags) => Err(diags),
    }
}

/// Load `<root>/schedules/*.toml` (sorted by name, skipping `settings.toml` and `endpoints.toml`): the valid
/// campaigns and the diagnostics of all files.
pub fn load_dir(root: &Path, directory: &Directory) -> (Vec<Campaign>, Vec<Diagnostic>) {
    load_dir_at(root, directory, Utc::now())
}

/// [`load_dir`] at a given moment.
pub fn load_dir_at(
    root: &Path,
    directory: &Directory,
    now: DateTime<Utc>,
) -> (Vec<Campaign>, Vec<Diagnostic>) {
    let folder = root.join("schedules");
    let files = match campaign_files(&folder) {
        Ok(files) => files,
        Err(e) => {
            let shown = display_path(root, &folder);
            let msg = format!("cannot read `{}`: {e}", shown.display());
            return (Vec::new(), vec![Diagnostic::error(shown, msg)]);
        }
    };
    let mut campaigns = Vec::new();
    let mut diags = Vec::new();
    for path in files {
        let shown = display_path(root, &path);
        match std::fs::read_to_string(&path) {
            Ok(src) => {
                let (campaign, found) = parse_at(&shown, &src, directory, now);
                tracing::debug!(file = %shown.display(), problems = found.len(), "campaign file read");
                diags.extend(found);
                campaigns.extend(campaign);
            }
            Err(e) => diags.push(Diagnostic::error(
                &shown,
                format!("cannot read `{}`: {e}", shown.display()),
            )),
        }
    }
    duplicate_ids(&mut campaigns, &mut diags);
    let (calendar, found) = crate::calendar::load(root, directory);
    diags.extend(found);
    attach_calendar(&mut campaigns, calendar, &mut diags);
    diags.extend(
        campaigns
            .iter()
            .filter_map(|c| super::days::check_markets(c, directory)),
    );
    (campaigns, diags)
}

/// Give every campaign the project's calendar; a campaign naming a day the festivals do not
/// define is refused.
fn attach_calendar(campaigns: &mut Vec<Campaign>, calendar: Calendar, diags: &mut Vec<Diagnostic>) {
    let calendar = Arc::new(calendar);
    let file = Path::new(crate::calendar::FESTIVALS_FILE);
    campaigns.retain_mut(|c| {
        let found = super::days::check_names(c, &calendar, file);
        c.calendar = Arc::clone(&calendar);
        let ok = found.is_empty();
        diags.extend(found);
        ok
    });
}

fn campaign_files(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_file() && name.ends_with(".toml") && !NOT_CAMPAIGNS.contains(&name) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Two files with the same campaign id: the later one (by file name) is refused.
fn duplicate_ids(campaigns: &mut Vec<Campaign>, diags: &mut Vec<Diagnostic>) {
    let mut first: BTreeMap<String, PathBuf> = BTreeMap::new();
    campaigns.retain(|c| match first.get(&c.id) {
        None => {
            first.insert(c.id.clone(), c.file.clone());
            true
        }
        Some(other) => {
            let msg = format!(
                "campaign id `{}` is already used by `{}`",
                c.id,
                other.display()
            );
            let mut d = Diagnostic::error(&c.file, msg)
                .with_help("give each campaign its own `id` (or file name)");
            d.location = c.id_location.clone();
            diags.push(d);
            false
        }
    });
}
