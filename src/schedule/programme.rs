//! What airs and how: a campaign's message ids (kept with their places in the file), rotation,
//! language order, gap, repeats, priority bounds and `[[slots]]` crontab lines.

use std::collections::BTreeSet;

use toml::Spanned;

use super::cron::CronSchedule;
use super::ctx::Ctx;
use super::raw::{RawSlot, SpannedList};
use super::validate::{DEFAULT_GAP_S, MAX_GAP_S, is_id};
use super::{Rotation, Slot};
use crate::diag::{Diagnostic, Location, did_you_mean};
use crate::lang::Lang;

pub(crate) fn messages(
    ctx: &mut Ctx<'_>,
    raw: Option<&SpannedList>,
) -> (Vec<String>, Vec<Location>) {
    let Some(list) = raw else {
        ctx.missing("campaign", 0..0, &crate::t!("messages-missing"));
        return (Vec::new(), Vec::new());
    };
    if list.get_ref().is_empty() {
        ctx.error(list.span(), crate::t!("messages-empty"));
    }
    let mut seen = BTreeSet::new();
    let mut ids = Vec::new();
    let mut locations = Vec::new();
    for m in list.get_ref() {
        let id = m.get_ref();
        if !is_id(id) {
            ctx.error(m.span(), crate::t!("message-id-invalid", id = id.as_str()));
        } else if !seen.insert(id.clone()) {
            ctx.error(
                m.span(),
                crate::t!("message-listed-twice", id = id.as_str()),
            );
        } else {
            ids.push(id.clone());
            locations.push(ctx.location(m.span()));
        }
    }
    (ids, locations)
}

pub(crate) fn rotation(ctx: &mut Ctx<'_>, raw: Option<&Spanned<String>>) -> Rotation {
    match raw.map(|r| r.get_ref().as_str()) {
        None | Some("all") => Rotation::All,
        Some("round-robin") => Rotation::RoundRobin,
        Some(other) => {
            let hint = did_you_mean(other, ["all", "round-robin"])
                .map(|n| crate::t!("did-you-mean", name = n));
            let span = raw.map(Spanned::span).unwrap_or_default();
            let msg = crate::t!("rotation-unknown", rotation = other);
            Ctx::help(ctx.error(span, msg), hint);
            Rotation::All
        }
    }
}

pub(crate) fn order(ctx: &mut Ctx<'_>, raw: Option<&SpannedList>, allow_single: bool) -> Vec<Lang> {
    let Some(list) = raw else {
        return Lang::ALL.to_vec();
    };
    let mut langs = Vec::new();
    for item in list.get_ref() {
        match item.get_ref().as_str() {
            code @ ("ii" | "zh") => {
                let lang: Lang = code.parse().expect("known code");
                if langs.contains(&lang) {
                    ctx.error(item.span(), crate::t!("order-twice", code = code));
                } else {
                    langs.push(lang);
                }
            }
            other => {
                let msg = crate::t!("order-unknown", code = other);
                ctx.error(item.span(), msg);
            }
        }
    }
    match (list.get_ref().len(), allow_single) {
        (0, _) => {
            ctx.error(list.span(), crate::t!("order-empty"));
        }
        (1, false) if !langs.is_empty() => {
            let msg = crate::t!("order-single");
            ctx.error(list.span(), msg);
        }
        _ => {}
    }
    langs
}

pub(crate) fn gap(ctx: &mut Ctx<'_>, raw: Option<&Spanned<f64>>) -> f64 {
    let Some(raw) = raw else {
        return DEFAULT_GAP_S;
    };
    let v = *raw.get_ref();
    if !(0.0..=MAX_GAP_S).contains(&v) {
        ctx.error(
            raw.span(),
            crate::t!("gap-out-of-range", value = v, max = MAX_GAP_S),
        );
        return DEFAULT_GAP_S;
    }
    v
}

pub(crate) fn bounded(
    ctx: &mut Ctx<'_>,
    raw: Option<&Spanned<i64>>,
    key: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Option<i64> {
    let raw = raw?;
    let v = *raw.get_ref();
    if range.contains(&v) {
        return Some(v);
    }
    let (lo, hi) = range.into_inner();
    ctx.error(
        raw.span(),
        crate::t!("whole-out-of-range", key = key, value = v, lo = lo, hi = hi),
    );
    None
}

pub(crate) fn slots(ctx: &mut Ctx<'_>, raw: Option<&Spanned<Vec<Spanned<RawSlot>>>>) -> Vec<Slot> {
    let Some(list) = raw.filter(|l| !l.get_ref().is_empty()) else {
        ctx.missing("campaign", 0..0, &crate::t!("slots-missing"));
        return Vec::new();
    };
    let mut out: Vec<Slot> = Vec::new();
    for slot in list.get_ref() {
        let Some(cron) = &slot.get_ref().cron else {
            let msg = crate::t!("slot-cron-missing");
            ctx.missing("[[slots]]", slot.span(), &msg);
            continue;
        };
        let span = cron.span();
        let inner = ctx.inner(span.clone());
        let exact = ctx.src.get(inner.clone()) == Some(cron.get_ref().as_str());
        match CronSchedule::parse(cron.get_ref()) {
            Ok(schedule) if out.iter().any(|s| s.expr.trim() == cron.get_ref().trim()) => {
                let _ = schedule;
                let msg = crate::t!("slot-twice", cron = cron.get_ref().as_str());
                ctx.warning(span, msg);
            }
            Ok(schedule) => out.push(Slot {
                expr: cron.get_ref().clone(),
                schedule,
                label: slot.get_ref().label.clone(),
                location: ctx.location(span),
                days: super::days::spec(ctx, slot.get_ref().days.as_ref()),
            }),
            Err(e) => {
                // Point into the expression when the file holds it verbatim (no escapes).
                let at = if exact {
                    inner.start + e.range.start..inner.start + e.range.end
                } else {
                    span
                };
                let mut d = Diagnostic::error(
                    ctx.file,
                    crate::t!("cron-invalid", cron = cron.get_ref(), reason = &e.message),
                )
                .at(ctx.src, at);
                d.help = crate::check::forms::cron_help(cron.get_ref());
                ctx.diags.push(d);
            }
        }
    }
    out
}
