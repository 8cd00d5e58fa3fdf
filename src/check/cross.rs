//! The cross-checks: what only shows when campaigns, catalog and directory meet.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::CONFLICT_WINDOW_DAYS;
use crate::catalog::{Catalog, Message, Verdict};
use crate::diag::{Diagnostic, Severity, did_you_mean};
use crate::directory::Directory;
use crate::plan::{
    self, Conflict, ConflictKind, PairConflicts, message_items, only_missing_languages,
};
use crate::schedule::Campaign;

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
    let mut stand_ins = Vec::new();
    for m in catalog.messages.values() {
        let users: Vec<&Campaign> = campaigns
            .iter()
            .filter(|c| c.messages.contains(&m.id))
            .collect();
        check_message(m, &users, &mut stand_ins, &mut out);
    }
    out.extend(stand_in_note(&stand_ins));
    for c in campaigns {
        let src = sources.get(&c.file).map(String::as_str);
        check_campaign_messages(c, catalog, src, &mut out);
    }
    // Day by day as `plan` would plan each day (a programme still playing across midnight is
    // settled by `plan` and the service, which plan across it, not reported here), but once per
    // group of townships that hear alike and keeping only the times: a slot every minute over
    // every township stays cheap.
    let day = chrono::Duration::days(1);
    let windows: Vec<_> = (0..CONFLICT_WINDOW_DAYS)
        .map(|d| from + chrono::Duration::days(d))
        .map(|start| (start, start + day))
        .collect();
    let conflicts = plan::conflicts_by_pair(campaigns, directory, catalog, &windows);
    check_conflicts(campaigns, &conflicts, sources, directory, &mut out);
    out
}

/// A message's own problems: the pair's and each clip's gate verdict. A pair lacking a
/// language is only a warning when every campaign using it allows a single language. A clip
/// whose only remark is that it stands in for a recording goes to `stand_ins`, said once for all.
fn check_message(
    m: &Message,
    users: &[&Campaign],
    stand_ins: &mut Vec<(PathBuf, String)>,
    out: &mut Vec<Diagnostic>,
) {
    let folder = PathBuf::from("audio").join(&m.id);
    let unused = if users.is_empty() {
        crate::t!("check-unused")
    } else {
        String::new()
    };
    if let Verdict::Rejected(reasons) | Verdict::Warning(reasons) = &m.pair_verdict {
        let text = crate::t!(
            "check-pair-verdict",
            id = &m.id,
            reasons = reasons.join("; "),
            unused = &unused
        );
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
    let stand_in = crate::t!("gate-stand-in", note = "");
    for clip in m.clips.values() {
        if let Verdict::Warning(reasons) = &clip.verdict
            && !users.is_empty()
            && let [only] = &reasons[..]
            && let Some(note) = only.strip_prefix(&stand_in)
        {
            stand_ins.push((clip.file.clone(), note.to_string()));
            continue;
        }
        if let Verdict::Rejected(reasons) | Verdict::Warning(reasons) = &clip.verdict {
            let id = if clip.verdict.is_airable() {
                "check-clip-warning"
            } else {
                "check-clip-rejected"
            };
            let text = crate::t!(id, reasons = reasons.join("; "), unused = &unused);
            out.push(verdict_diag(&clip.verdict, &clip.file, text));
        }
    }
}

/// One warning for every clip that stands in for a staff recording (synthetic demo audio):
/// it needs a person once, not once per clip.
fn stand_in_note(stand_ins: &[(PathBuf, String)]) -> Option<Diagnostic> {
    if stand_ins.is_empty() {
        return None;
    }
    let files: Vec<String> = stand_ins
        .iter()
        .map(|(f, _)| format!("`{}`", f.display()))
        .collect();
    let mut notes: Vec<&str> = stand_ins.iter().map(|(_, n)| n.as_str()).collect();
    notes.sort_unstable();
    notes.dedup();
    let text = crate::t!(
        "check-stand-ins",
        count = stand_ins.len(),
        files = files.join(", ")
    );
    let help = crate::t!("check-stand-ins-notes", notes = notes.join("; "));
    Some(Diagnostic::warning("audio", text).with_help(help))
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
                crate::t!("check-unknown-message", id = id),
            ));
            if let Some(s) = did_you_mean(id, catalog.messages.keys().map(String::as_str)) {
                d = d.with_help(crate::t!("did-you-mean", name = s));
            } else if !catalog.messages.is_empty() {
                let known: Vec<String> =
                    catalog.messages.keys().map(|k| format!("`{k}`")).collect();
                d = d.with_help(crate::t!("check-catalog-holds", list = known.join(", ")));
            }
            out.push(d);
            continue;
        };
        if let Err(reason) = message_items(c, m) {
            let text = crate::t!(
                "check-message-cannot-air",
                id = id,
                campaign = &c.id,
                reason = reason.to_string()
            );
            out.push(at(Diagnostic::error(&c.file, text)));
        } else if !dates_meet(c, m) {
            let text = crate::t!("check-message-never-valid", id = id, campaign = &c.id);
            let help = range_text(m.valid_from, m.valid_until);
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
    let f = from.map_or_else(|| crate::t!("check-any-day"), |d| d.to_string());
    let u = until.map_or_else(|| crate::t!("check-open-ended"), |d| d.to_string());
    crate::t!("check-message-valid-range", from = f, until = u)
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

/// One warning per (loser, winner) pair of campaigns and kind of conflict, at the loser's
/// `priority` (same minute) or the slot that would start while the other plays (overlap).
fn check_conflicts(
    campaigns: &[Campaign],
    conflicts: &[PairConflicts],
    sources: &BTreeMap<PathBuf, String>,
    directory: &Directory,
    out: &mut Vec<Diagnostic>,
) {
    for pair in conflicts {
        let (first, loser, winner) = (&pair.first, &pair.first.loser, &pair.first.winner);
        let Some(camp) = campaigns.iter().find(|c| &c.id == loser) else {
            continue;
        };
        let local = first.minute.with_timezone(&camp.timezone).format("%H:%M");
        let township = crate::directory::lookup::township_label(directory, &first.township_code);
        let (text, why) = match first.kind {
            ConflictKind::SameMinute => {
                let text = crate::t!(
                    "check-conflict",
                    loser = loser,
                    winner = winner,
                    slots = pair.broadcasts,
                    townships = pair.townships,
                    days = CONFLICT_WINDOW_DAYS,
                    time = local.to_string(),
                    township = township,
                );
                let why = why_it_lost(first, winner, "check-conflict-equal");
                (text, why)
            }
            ConflictKind::Overlap {
                winner_start,
                winner_end,
                loser_start,
            } => {
                let counts = OverlapCounts {
                    slots: pair.broadcasts,
                    townships: pair.townships,
                    township,
                };
                let times = (winner_start, winner_end, loser_start);
                overlap_text(camp, first, times, counts)
            }
        };
        let mut d = Diagnostic::warning(&camp.file, text).with_help(why);
        if let ConflictKind::Overlap { loser_start, .. } = first.kind {
            // At the slot that would start while the other plays: that is the line to move.
            let second = chrono::Duration::seconds(1);
            d.location = camp
                .slots
                .iter()
                .find(|s| {
                    !s.schedule
                        .occurrences(camp.timezone, loser_start, loser_start + second)
                        .is_empty()
                })
                .map(|s| s.location.clone());
        } else if let Some((src, i)) = sources
            .get(&camp.file)
            .and_then(|src| key_offset(src, "priority").map(|i| (src, i)))
        {
            d = d.at(src, i..i + "priority".len());
        }
        out.push(d);
    }
}

/// How many broadcasts an overlap costs, and the first township it happens in.
struct OverlapCounts {
    slots: usize,
    townships: usize,
    township: String,
}

/// The warning and its fix for a broadcast that would start while another still plays: who
/// airs and why, and the first minute the loser could start instead (or, for a campaign
/// overlapping itself, how far apart its slots must be).
fn overlap_text(
    camp: &Campaign,
    first: &Conflict,
    (winner_start, winner_end, loser_start): (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>),
    counts: OverlapCounts,
) -> (String, String) {
    let tz = camp.timezone;
    let hms = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M:%S").to_string();
    let hm = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
    let (winner, loser) = (first.winner.as_str(), first.loser.as_str());
    if winner == loser {
        let text = crate::t!(
            "check-overlap-self",
            campaign = loser,
            time = hm(loser_start),
            township = counts.township,
            from = hms(winner_start),
            until = hms(winner_end),
            slots = counts.slots,
            days = CONFLICT_WINDOW_DAYS,
        );
        let minutes = ((winner_end - winner_start).num_seconds() + 59) / 60;
        return (text, crate::t!("check-overlap-self-fix", minutes = minutes));
    }
    let text = crate::t!(
        "check-overlap",
        loser = loser,
        winner = winner,
        time = hm(loser_start),
        township = counts.township,
        from = hms(winner_start),
        until = hms(winner_end),
        slots = counts.slots,
        townships = counts.townships,
        days = CONFLICT_WINDOW_DAYS,
    );
    let why = why_it_lost(first, winner, "check-overlap-equal");
    let fix = if loser_start > winner_start {
        // The first whole minute after the winner ends.
        let free = winner_end + chrono::Duration::seconds(59);
        crate::t!("check-overlap-fix-later", loser = loser, time = hm(free))
    } else {
        crate::t!("check-overlap-fix-earlier", loser = loser, winner = winner)
    };
    (text, crate::t!("check-overlap-help", why = why, fix = fix))
}

/// Where a line of `src` starts with `key =` (not in a comment or a value), as a byte offset.
fn key_offset(src: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(offset + line.len() - trimmed.len());
        }
        offset += line.len();
    }
    None
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

/// Why a conflict's loser lost: the winner's higher priority, or (message `equal`) equal
/// priorities settled by the rule of that kind of conflict.
fn why_it_lost(first: &Conflict, winner: &str, equal: &str) -> String {
    if first.winner_priority > first.loser_priority {
        crate::t!(
            "check-conflict-priority",
            winner = winner,
            high = first.winner_priority,
            low = first.loser_priority
        )
    } else {
        crate::t!(equal, priority = first.winner_priority)
    }
}
