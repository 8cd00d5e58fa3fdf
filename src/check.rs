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
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::catalog::{Catalog, Message, Verdict};
use crate::diag::{Diagnostic, Severity, did_you_mean};
use crate::directory::Directory;
use crate::plan::{self, Conflict, message_items, only_missing_languages};
use crate::schedule::Campaign;

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
        format!(
            "{}, {} in {}; {}, {}, {}",
            count(self.errors(), "error"),
            count(self.warnings(), "warning"),
            count(self.files(), "file"),
            count(self.campaigns, "campaign"),
            count(self.messages, "message"),
            count(self.townships, "township"),
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

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Everything `check` and `plan` read from disk.
#[derive(Debug)]
pub struct Inputs {
    pub directory: Directory,
    pub catalog: Catalog,
    /// The campaigns whose files have no errors.
    pub campaigns: Vec<Campaign>,
    /// Each campaign file's text, keyed by its path relative to the root.
    pub sources: BTreeMap<PathBuf, String>,
    /// What the schedule loader and the catalog reported.
    pub diagnostics: Vec<Diagnostic>,
}

/// Why `check` could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("no `schedules` folder in `{0}`: campaigns go in `schedules/*.toml`")]
    NoSchedules(PathBuf),
    #[error(transparent)]
    Catalog(#[from] crate::catalog::load::LoadError),
}

/// Load the directory, the catalog (probing through `cache_dir`) and `<root>/schedules`.
pub fn load(
    root: &Path,
    cache_dir: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<Inputs, CheckError> {
    if !root.join("schedules").is_dir() {
        return Err(CheckError::NoSchedules(root.to_path_buf()));
    }
    let directory = Directory::liangshan();
    let gate = crate::catalog::gate::GateConfig::default();
    let catalog = Catalog::load(root, &gate, cache_dir)?;
    let (campaigns, mut diagnostics) = crate::schedule::load_dir_at(root, &directory, now);
    diagnostics.extend(catalog.diagnostics.iter().cloned());
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
        directory,
        catalog,
        campaigns,
        sources,
        diagnostics,
    })
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

/// Cross-check loaded campaigns against the catalog and directory. `sources` holds each
/// campaign file's text (keyed by `Campaign::file`) so problems can point into it; conflicts are
/// looked for over [`CONFLICT_WINDOW_DAYS`] days from `from`.
pub fn cross_check(
    campaigns: &[Campaign],
    catalog: &Catalog,
    directory: &Directory,
    sources: &BTreeMap<PathBuf, String>,
    from: DateTime<Utc>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for m in catalog.messages.values() {
        let users: Vec<&Campaign> = campaigns
            .iter()
            .filter(|c| c.messages.contains(&m.id))
            .collect();
        check_message(m, &users, &mut out);
    }
    for c in campaigns {
        let src = sources.get(&c.file).map(String::as_str);
        check_campaign_messages(c, catalog, src, &mut out);
    }
    let to = from + chrono::Duration::days(CONFLICT_WINDOW_DAYS);
    let planned = plan::plan(campaigns, directory, catalog, from, to);
    check_conflicts(campaigns, &planned.conflicts, sources, &mut out);
    out
}

/// A message's own problems: the pair's and each clip's gate verdict. A pair lacking a
/// language is only a warning when every campaign using it allows a single language.
fn check_message(m: &Message, users: &[&Campaign], out: &mut Vec<Diagnostic>) {
    let folder = PathBuf::from("audio").join(&m.id);
    let unused = if users.is_empty() {
        " (not used by any campaign)"
    } else {
        ""
    };
    if let Verdict::Rejected(reasons) | Verdict::Warning(reasons) = &m.pair_verdict {
        let text = format!("message `{}`: {}{unused}", m.id, reasons.join("; "));
        let single_ok = !users.is_empty()
            && users.iter().all(|c| c.allow_single_language)
            && only_missing_languages(reasons);
        let d = verdict_diag(&m.pair_verdict, &folder, text);
        out.push(if single_ok {
            Diagnostic {
                severity: Severity::Warning,
                ..d
            }
        } else {
            d
        });
    }
    for clip in m.clips.values() {
        if let Verdict::Rejected(reasons) | Verdict::Warning(reasons) = &clip.verdict {
            let what = if clip.verdict.is_airable() {
                "passes the gate with remarks"
            } else {
                "rejected by the audio gate"
            };
            let text = format!("clip {what}: {}{unused}", reasons.join("; "));
            out.push(verdict_diag(&clip.verdict, &clip.file, text));
        }
    }
}

fn verdict_diag(v: &Verdict, file: &Path, text: String) -> Diagnostic {
    match v {
        Verdict::Rejected(_) => Diagnostic::error(file, text),
        _ => Diagnostic::warning(file, text),
    }
}

/// Each message a campaign names: known, airable in its language order, valid on some day of
/// the campaign's.
fn check_campaign_messages(
    c: &Campaign,
    catalog: &Catalog,
    src: Option<&str>,
    out: &mut Vec<Diagnostic>,
) {
    for (index, id) in c.messages.iter().enumerate() {
        let at = |mut d: Diagnostic| {
            if let Some(loc) = c.message_locations.get(index) {
                d.location = Some(loc.clone());
            } else if let Some((s, r)) = src.and_then(|s| message_span(s, id).map(|r| (s, r))) {
                d = d.at(s, r);
            }
            d
        };
        let Some(m) = catalog.message(id) else {
            let mut d = at(Diagnostic::error(
                &c.file,
                format!("unknown message `{id}`"),
            ));
            if let Some(s) = did_you_mean(id, catalog.messages.keys().map(String::as_str)) {
                d = d.with_help(format!("did you mean `{s}`?"));
            } else if !catalog.messages.is_empty() {
                let known: Vec<String> =
                    catalog.messages.keys().map(|k| format!("`{k}`")).collect();
                d = d.with_help(format!("the catalog holds {}", known.join(", ")));
            }
            out.push(d);
            continue;
        };
        if let Err(reason) = message_items(c, m) {
            let text = format!("message `{id}` cannot air in campaign `{}`: {reason}", c.id);
            out.push(at(Diagnostic::error(&c.file, text)));
        } else if !dates_meet(c, m) {
            let text = format!(
                "message `{id}` is never valid on a day campaign `{}` runs",
                c.id
            );
            let help = format!(
                "the message is valid {}",
                range_text(m.valid_from, m.valid_until)
            );
            out.push(at(Diagnostic::warning(&c.file, text)).with_help(help));
        }
    }
}

fn dates_meet(c: &Campaign, m: &Message) -> bool {
    let lo = c.valid_from.max(m.valid_from);
    let hi = match (c.valid_until, m.valid_until) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    !matches!((lo, hi), (Some(l), Some(h)) if l > h)
}

fn range_text(from: Option<chrono::NaiveDate>, until: Option<chrono::NaiveDate>) -> String {
    let f = from.map_or_else(|| "any day".to_string(), |d| d.to_string());
    let u = until.map_or_else(|| "open-ended".to_string(), |d| d.to_string());
    format!("from {f} until {u}")
}

/// Where a message id appears in a campaign file: the quoted id after the `messages` key
/// (or anywhere), without its quotes.
pub fn message_span(src: &str, id: &str) -> Option<Range<usize>> {
    let after = src.find("messages").unwrap_or(0);
    ['"', '\''].iter().find_map(|q| {
        let needle = format!("{q}{id}{q}");
        src[after..]
            .find(&needle)
            .map(|i| after + i)
            .or_else(|| src.find(&needle))
            .map(|i| i + 1..i + 1 + id.len())
    })
}

/// One warning per (loser, winner) pair of campaigns, at the loser's `priority` (or file).
fn check_conflicts(
    campaigns: &[Campaign],
    conflicts: &[Conflict],
    sources: &BTreeMap<PathBuf, String>,
    out: &mut Vec<Diagnostic>,
) {
    let mut pairs: BTreeMap<(&str, &str), Vec<&Conflict>> = BTreeMap::new();
    for c in conflicts {
        pairs.entry((&c.loser, &c.winner)).or_default().push(c);
    }
    for ((loser, winner), list) in pairs {
        let Some(camp) = campaigns.iter().find(|c| c.id == loser) else {
            continue;
        };
        let first = list[0];
        let towns: BTreeSet<&str> = list.iter().map(|c| c.township_code.as_str()).collect();
        let local = first.minute.with_timezone(&camp.timezone).format("%H:%M");
        let text = format!(
            "campaigns `{loser}` and `{winner}` want the same township in the same minute \
             ({} slots in {} over the next {CONFLICT_WINDOW_DAYS} days, first at {local} in `{}`); \
             `{winner}` airs",
            list.len(),
            count(towns.len(), "township"),
            first.township_code,
        );
        let why = if first.winner_priority > first.loser_priority {
            format!(
                "`{winner}` has priority {} over {}",
                first.winner_priority, first.loser_priority
            )
        } else {
            format!(
                "equal priority {}: the smaller campaign id wins",
                first.winner_priority
            )
        };
        let mut d = Diagnostic::warning(&camp.file, text).with_help(why);
        if let Some((src, i)) = sources
            .get(&camp.file)
            .and_then(|src| src.find("priority").map(|i| (src, i)))
        {
            d = d.at(src, i..i + "priority".len());
        }
        out.push(d);
    }
}

/// Diagnostics sorted the way [`Report::render`] prints them, for callers that list them flat.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            (
                d.file.clone(),
                d.severity,
                d.location.as_ref().map(|l| (l.line, l.col)),
            )
        };
        key(a).cmp(&key(b))
    });
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::catalog::gate::missing_reason;
    use crate::lang::Lang;
    use crate::plan::tests::{campaign, catalog, message};

    const SRC: &str =
        "id = \"a\"\nmessages = [\"police-impersonaton\", \"fundraising\"]\npriority = 1\n";

    fn from() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap()
    }

    fn sources(file: &str) -> BTreeMap<PathBuf, String> {
        BTreeMap::from([(PathBuf::from(file), SRC.to_string())])
    }

    #[test]
    fn unknown_message_points_into_the_file_with_a_suggestion() {
        let cat = catalog(vec![
            message("police-impersonation", 5.0, 5.0),
            message("fundraising", 5.0, 5.0),
        ]);
        let c = campaign(
            "a",
            &["0 8 * * *"],
            &["police-impersonaton", "fundraising"],
            &["513431100"],
        );
        let diags = cross_check(
            &[c],
            &cat,
            &Directory::liangshan(),
            &sources("schedules/a.toml"),
            from(),
        );
        assert_eq!(diags.len(), 1, "{diags:?}");
        let text = diags[0].to_string();
        assert_eq!(
            text,
            "error: unknown message `police-impersonaton`\n  ——▶ schedules/a.toml:2:14\n  |\n2 | \
             messages = [\"police-impersonaton\", \"fundraising\"]\n  |              \
             ^^^^^^^^^^^^^^^^^^^\n  = help: did you mean `police-impersonation`?"
        );
    }

    #[test]
    fn gate_verdicts_and_missing_languages() {
        let mut bad = message("fundraising", 5.0, 5.0);
        bad.clips.get_mut(&Lang::Zh).unwrap().verdict = Verdict::Rejected(vec!["clipped".into()]);
        let mut loud = message("police-impersonation", 5.0, 5.0);
        loud.clips.get_mut(&Lang::Ii).unwrap().verdict = Verdict::Warning(vec!["loud".into()]);
        let mut half = message("spare", 5.0, 5.0);
        half.clips.remove(&Lang::Ii);
        half.pair_verdict = Verdict::Rejected(vec![missing_reason(Lang::Ii)]);
        let cat = catalog(vec![bad, loud, half]);
        let c = campaign("a", &["0 8 * * *"], &["fundraising"], &["513431100"]);
        let mut diags = cross_check(
            &[c],
            &cat,
            &Directory::liangshan(),
            &sources("schedules/a.toml"),
            from(),
        );
        sort(&mut diags);
        let flat: Vec<String> = diags
            .iter()
            .map(|d| format!("{:?} {} {}", d.severity, d.position(), d.message))
            .collect();
        assert_eq!(
            flat,
            [
                "Error audio/fundraising/zh.mp3 clip rejected by the audio gate: clipped",
                "Warning audio/police-impersonation/ii.mp3 clip passes the gate with remarks: loud \
                 (not used by any campaign)",
                "Error audio/spare message `spare`: no Nuosu Yi (`ii`) recording (not used by any campaign)",
                "Error schedules/a.toml:2:37 message `fundraising` cannot air in campaign `a`: \
                 no airable `zh` clip: clipped",
            ]
        );
    }

    #[test]
    fn same_minute_is_a_warning_at_the_losers_priority() {
        let cat = catalog(vec![message("fundraising", 5.0, 5.0)]);
        let mut a = campaign(
            "a",
            &["0 8 * * *"],
            &["fundraising"],
            &["513431100", "513431101"],
        );
        a.priority = 1;
        let mut b = campaign("b", &["0 8 * * 1"], &["fundraising"], &["513431100"]);
        b.priority = 3;
        let diags = cross_check(
            &[a, b],
            &cat,
            &Directory::liangshan(),
            &sources("schedules/a.toml"),
            from(),
        );
        assert_eq!(diags.len(), 1, "{diags:?}");
        let d = &diags[0];
        assert_eq!(d.severity, crate::diag::Severity::Warning);
        assert_eq!(d.position(), "schedules/a.toml:3:1");
        assert_eq!(
            d.message,
            "campaigns `a` and `b` want the same township in the same minute (5 slots in 1 township \
             over the next 35 days, first at 08:00 in `513431100`); `b` airs"
        );
        assert_eq!(d.help.as_deref(), Some("`b` has priority 3 over 1"));
    }

    #[test]
    fn report_groups_by_file_errors_first() {
        let report = Report {
            diagnostics: vec![
                Diagnostic::warning("schedules/b.toml", "w1"),
                Diagnostic::error("audio/x", "e1"),
                Diagnostic::error("schedules/b.toml", "e2"),
            ],
            campaigns: 2,
            messages: 1,
            townships: 304,
        };
        assert_eq!(
            report.render(),
            "error: e1\n  ——▶ audio/x\n\nerror: e2\n  ——▶ schedules/b.toml\n\n\
             warning: w1\n  ——▶ schedules/b.toml\n\n\
             2 errors, 1 warning in 2 files; 2 campaigns, 1 message, 304 townships\n"
        );
    }
}
