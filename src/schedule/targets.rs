//! Where and when not: a campaign's `[targets]` resolved against the directory to township
//! codes, its quiet hours and per-township overrides, and slots checked against them.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use chrono::NaiveTime;
use toml::Spanned;

use super::ctx::Ctx;
use super::raw::{RawTargets, SpannedList};
use super::{QuietHours, Slot};
use crate::diag::Diagnostic;
use crate::directory::{Directory, LookupError, VillageRef};

/// Quiet hours when a campaign does not say: no broadcasts from 22:00 to 06:30 local time.
pub const DEFAULT_QUIET_HOURS: &str = "22:00-06:30";

/// A quiet-hours window that cannot be read, in the staff's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuietError {
    /// Not `HH:MM-HH:MM`.
    Invalid(String),
    /// A window that starts when it ends.
    SameTime(String),
}

impl std::fmt::Display for QuietError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuietError::Invalid(text) => f.write_str(&crate::t!("quiet-invalid", text = text)),
            QuietError::SameTime(text) => f.write_str(&crate::t!("quiet-same-time", text = text)),
        }
    }
}

impl std::error::Error for QuietError {}

/// Parse `HH:MM-HH:MM` (`24:00` allowed as an end); `start > end` wraps past midnight.
pub fn parse_quiet(text: &str) -> Result<QuietHours, QuietError> {
    let invalid = || QuietError::Invalid(text.to_string());
    let (a, b) = text.split_once('-').ok_or_else(invalid)?;
    let time = |s: &str| {
        let s = s.trim();
        if s == "24:00" {
            return NaiveTime::from_hms_opt(0, 0, 0);
        }
        NaiveTime::parse_from_str(s, "%H:%M").ok()
    };
    match (time(a), time(b)) {
        (Some(start), Some(end)) if start != end => Ok(QuietHours { start, end }),
        (Some(_), Some(_)) => Err(QuietError::SameTime(text.to_string())),
        _ => Err(invalid()),
    }
}

/// A list of quiet-hour windows; the campaign default when the key is absent.
pub(crate) fn quiet_list(ctx: &mut Ctx<'_>, raw: Option<&SpannedList>) -> Vec<QuietHours> {
    let Some(list) = raw else {
        return vec![parse_quiet(DEFAULT_QUIET_HOURS).expect("valid default")];
    };
    let mut out = Vec::new();
    for item in list.get_ref() {
        match parse_quiet(item.get_ref()) {
            Ok(q) => out.push(q),
            Err(e) => {
                ctx.error(item.span(), e.to_string());
            }
        }
    }
    out
}

fn lookup_failed(ctx: &mut Ctx<'_>, span: Range<usize>, e: &LookupError, expected: &str) {
    let help = e.help().map_or_else(|| crate::t!(expected), str::to_string);
    let d = ctx.error(span, e.to_string());
    Ctx::help(d, Some(help));
}

const COUNTY_EXPECTED: &str = "lookup-expected-county";
const TOWNSHIP_EXPECTED: &str = "lookup-expected-township";
const VILLAGE_EXPECTED: &str = "lookup-expected-village";

fn villages<'d>(
    ctx: &mut Ctx<'_>,
    list: Option<&SpannedList>,
    dir: &'d Directory,
) -> Vec<(Range<usize>, VillageRef<'d>)> {
    let mut out = Vec::new();
    for item in list.map(|l| l.get_ref().as_slice()).unwrap_or_default() {
        match dir.village(item.get_ref()) {
            Ok(v) => out.push((item.span(), v)),
            Err(e) => lookup_failed(ctx, item.span(), &e, VILLAGE_EXPECTED),
        }
    }
    out
}

/// What a campaign targets: every township it reaches, and the ones it reaches in part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// Sorted 9-digit codes of every township reached, whole or in part.
    pub townships: Vec<String>,
    /// Township code → the sorted 12-digit codes of its targeted villages, for the townships
    /// reached in part only (`villages`, or `exclude_villages` within a whole township).
    pub villages: BTreeMap<String, Vec<String>>,
}

fn counties<'d>(
    ctx: &mut Ctx<'_>,
    list: Option<&SpannedList>,
    dir: &'d Directory,
) -> Vec<(Range<usize>, Vec<&'d str>)> {
    let mut out = Vec::new();
    for item in list.map(|l| l.get_ref().as_slice()).unwrap_or_default() {
        match dir.county(item.get_ref()) {
            Ok(c) => {
                let codes = dir.townships_of(&c.code).map(|t| t.code.as_str()).collect();
                out.push((item.span(), codes));
            }
            Err(e) => lookup_failed(ctx, item.span(), &e, COUNTY_EXPECTED),
        }
    }
    out
}

fn townships<'d>(
    ctx: &mut Ctx<'_>,
    list: Option<&SpannedList>,
    dir: &'d Directory,
) -> Vec<(Range<usize>, Vec<&'d str>)> {
    let mut out = Vec::new();
    for item in list.map(|l| l.get_ref().as_slice()).unwrap_or_default() {
        match dir.township(item.get_ref()) {
            Ok(t) => out.push((item.span(), vec![t.code.as_str()])),
            Err(e) => lookup_failed(ctx, item.span(), &e, TOWNSHIP_EXPECTED),
        }
    }
    out
}

/// What a campaign targets: `all`, `counties`, `townships` and `villages`, less
/// `exclude_counties`, `exclude_townships` and `exclude_villages`. A village of a township
/// targeted whole adds nothing (warned); excluding one from a whole township leaves the
/// township's other villages.
pub(crate) fn resolve(
    ctx: &mut Ctx<'_>,
    raw: Option<&Spanned<RawTargets>>,
    dir: &Directory,
) -> Resolved {
    let Some(raw) = raw else {
        ctx.missing("campaign", 0..0, &crate::t!("targets-missing"));
        return Resolved::default();
    };
    let t = raw.get_ref();
    let errors_before = ctx.diags.iter().filter(|d| d.is_error()).count();
    let mut set: BTreeSet<&str> = BTreeSet::new();
    if t.all.as_ref().is_some_and(|a| *a.get_ref()) {
        set.extend(dir.townships().iter().map(|t| t.code.as_str()));
        for (key, list) in [("counties", &t.counties), ("townships", &t.townships)] {
            if let Some(list) = list.as_ref().filter(|l| !l.get_ref().is_empty()) {
                ctx.warning(list.span(), crate::t!("targets-adds-nothing", key = key));
            }
        }
    }
    let included = [
        counties(ctx, t.counties.as_ref(), dir),
        townships(ctx, t.townships.as_ref(), dir),
    ];
    set.extend(
        included
            .iter()
            .flatten()
            .flat_map(|(_, codes)| codes.iter().copied()),
    );
    let mut partial: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (span, v) in villages(ctx, t.villages.as_ref(), dir) {
        if set.contains(v.township.code.as_str()) {
            let msg = crate::t!(
                "targets-village-in-whole-township",
                village = &v.village.name,
                township = &v.township.name
            );
            ctx.warning(span, msg);
        } else {
            let codes = partial.entry(&v.township.code).or_default();
            codes.insert(&v.village.code);
        }
    }
    let excluded = [
        counties(ctx, t.exclude_counties.as_ref(), dir),
        townships(ctx, t.exclude_townships.as_ref(), dir),
    ];
    for (span, codes) in excluded.iter().flatten() {
        let removed = codes
            .iter()
            .filter(|c| set.remove(*c) | partial.remove(*c).is_some())
            .count();
        if removed == 0 {
            let text = ctx.src[ctx.inner(span.clone())].to_string();
            ctx.warning(
                span.clone(),
                crate::t!("targets-excluded-untargeted", text = text),
            );
        }
    }
    for (span, v) in villages(ctx, t.exclude_villages.as_ref(), dir) {
        let township = v.township.code.as_str();
        if set.remove(township) {
            let rest = v.township.villages.iter().map(|o| o.code.as_str());
            partial.insert(township, rest.collect());
        }
        let removed = partial
            .get_mut(township)
            .is_some_and(|codes| codes.remove(v.village.code.as_str()));
        if !removed {
            let text = ctx.src[ctx.inner(span.clone())].to_string();
            ctx.warning(span, crate::t!("targets-excluded-untargeted", text = text));
        }
    }
    partial.retain(|_, codes| !codes.is_empty());
    let errors_now = ctx.diags.iter().filter(|d| d.is_error()).count();
    if set.is_empty()
        && partial.is_empty()
        && errors_now == errors_before
        && !ctx.dropped.contains(&"[targets]")
    {
        ctx.error(raw.span(), crate::t!("targets-none"));
    }
    set.extend(partial.keys());
    Resolved {
        townships: set.into_iter().map(str::to_string).collect(),
        villages: partial
            .into_iter()
            .map(|(t, codes)| {
                (
                    t.to_string(),
                    codes.into_iter().map(str::to_string).collect(),
                )
            })
            .collect(),
    }
}

/// `[quiet_overrides]`: township → quiet hours replacing the campaign's there.
pub(crate) fn overrides(
    ctx: &mut Ctx<'_>,
    raw: Option<&BTreeMap<Spanned<String>, SpannedList>>,
    dir: &Directory,
    targeted: &[String],
) -> BTreeMap<String, Vec<QuietHours>> {
    let mut out = BTreeMap::new();
    let mut entries: Vec<_> = raw.into_iter().flatten().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    for (key, list) in entries {
        let code = match dir.township(key.get_ref()) {
            Ok(t) => t.code.clone(),
            Err(e) => {
                lookup_failed(ctx, key.span(), &e, TOWNSHIP_EXPECTED);
                continue;
            }
        };
        let hours = quiet_list(ctx, Some(list));
        if targeted.binary_search(&code).is_err() {
            let msg = crate::t!("quiet-override-untargeted", township = key.get_ref());
            ctx.warning(key.span(), msg);
            continue;
        }
        if let std::collections::btree_map::Entry::Vacant(slot) = out.entry(code.clone()) {
            slot.insert(hours);
        } else {
            let msg = crate::t!("quiet-override-twice", code = &code);
            ctx.error(key.span(), msg);
        }
    }
    out
}

fn shown(windows: &[QuietHours]) -> String {
    let list: Vec<String> = windows.iter().map(|q| format!("`{q}`")).collect();
    if list.is_empty() {
        crate::t!("quiet-none")
    } else {
        list.join(", ")
    }
}

/// A slot whose every time is quiet everywhere it is heard is an error (it would never air);
/// a slot with some times inside the campaign's quiet hours is a warning (those are skipped).
pub(crate) fn check_slots_quiet(
    ctx: &mut Ctx<'_>,
    slots: &[Slot],
    quiet: &[QuietHours],
    overrides: &BTreeMap<String, Vec<QuietHours>>,
    targeted: &[String],
) {
    let campaign_applies = targeted.iter().any(|t| !overrides.contains_key(t));
    let mut sets: Vec<&[QuietHours]> = overrides.values().map(Vec::as_slice).collect();
    if campaign_applies {
        sets.push(quiet);
    }
    if sets.is_empty() {
        return;
    }
    let quiet_in = |set: &[QuietHours], t: NaiveTime| set.iter().any(|q| q.contains(t));
    for slot in slots {
        let times = slot.schedule.times_of_day();
        let never = times.iter().all(|&t| sets.iter().all(|s| quiet_in(s, t)));
        let file = ctx.file;
        let at = |d: Diagnostic| Diagnostic {
            location: Some(slot.location.clone()),
            ..d
        };
        if never {
            let msg = crate::t!("slot-always-quiet", cron = &slot.expr, quiet = shown(quiet));
            let d = at(Diagnostic::error(file, msg)).with_help(crate::t!("slot-move"));
            ctx.diags.push(d);
            continue;
        }
        let hits: Vec<String> = times
            .iter()
            .filter(|&&t| campaign_applies && quiet_in(quiet, t))
            .map(|t| t.format("%H:%M").to_string())
            .collect();
        if !hits.is_empty() {
            let msg = crate::t!(
                "slot-partly-quiet",
                cron = &slot.expr,
                times = hits[..hits.len().min(3)].join(", "),
                more = hits.len().saturating_sub(3),
                quiet = shown(quiet)
            );
            ctx.diags.push(at(Diagnostic::warning(file, msg)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_parse_and_wrap() {
        crate::locale::set_thread(crate::locale::Locale::En);
        let q = parse_quiet("22:00-06:30").unwrap();
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert!(q.contains(t(23, 0)) && q.contains(t(6, 29)) && !q.contains(t(6, 30)));
        assert!(!q.contains(t(12, 0)));
        let q = parse_quiet("12:00-24:00").unwrap();
        assert!(q.contains(t(23, 59)) && !q.contains(t(0, 0)));
        assert!(
            parse_quiet("7:00")
                .unwrap_err()
                .to_string()
                .contains("expected `HH:MM-HH:MM`")
        );
        assert!(parse_quiet("25:00-06:00").is_err());
        assert!(
            parse_quiet("06:00-06:00")
                .unwrap_err()
                .to_string()
                .contains("same time")
        );
    }
}

#[cfg(test)]
mod village_tests;
