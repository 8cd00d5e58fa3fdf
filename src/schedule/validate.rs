//! The second parsing stage: a [`RawCampaign`] checked key by key into a [`Campaign`], every
//! problem of the file reported as a [`Diagnostic`] pointing at the offending text.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use toml::Spanned;

use super::cron::CronSchedule;
use super::raw::{RawCampaign, RawSlot, SpannedList};
use super::{Campaign, Rotation, Slot, targets};
use crate::diag::{Diagnostic, Location, did_you_mean};
use crate::directory::Directory;
use crate::lang::Lang;

/// Defaults for keys a campaign may leave out (documented in `schedules/README.md`).
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Shanghai;
pub const DEFAULT_GAP_S: f64 = 2.0;
pub const DEFAULT_REPEATS: u32 = 1;
pub const DEFAULT_PRIORITY: i32 = 0;
pub const MAX_GAP_S: f64 = 60.0;
pub const MAX_REPEATS: i64 = 10;
pub const PRIORITY_RANGE: std::ops::RangeInclusive<i64> = 0..=100;

/// Collects the diagnostics of one file.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub file: &'a Path,
    pub src: &'a str,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    pub fn new(file: &'a Path, src: &'a str) -> Ctx<'a> {
        Ctx {
            file,
            src,
            diags: Vec::new(),
        }
    }

    pub fn error(&mut self, span: Range<usize>, message: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::error(self.file, message).at(self.src, self.inner(span));
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    pub fn warning(&mut self, span: Range<usize>, message: impl Into<String>) -> &mut Diagnostic {
        let d = Diagnostic::warning(self.file, message).at(self.src, self.inner(span));
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    pub fn help(d: &mut Diagnostic, help: Option<String>) {
        d.help = help;
    }

    /// A string value's span without its quotes, so the caret sits under the text itself.
    pub fn inner(&self, span: Range<usize>) -> Range<usize> {
        let text = self.src.get(span.clone()).unwrap_or("");
        for q in ["\"\"\"", "'''", "\"", "'"] {
            if text.len() >= 2 * q.len() && text.starts_with(q) && text.ends_with(q) {
                return span.start + q.len()..span.end - q.len();
            }
        }
        span
    }

    pub fn location(&self, span: Range<usize>) -> Location {
        Location::from_range(self.src, self.inner(span))
    }

    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}

/// Check every key; `None` when the file has errors (all of them are in `ctx`).
pub(crate) fn campaign(
    ctx: &mut Ctx<'_>,
    raw: RawCampaign,
    directory: &Directory,
    now: DateTime<Utc>,
) -> Option<Campaign> {
    let (id, id_location) = id(ctx, raw.id.as_ref());
    let name = text_required(
        ctx,
        raw.name.as_ref(),
        "name",
        "a campaign name such as `全州防诈骗宣传`",
    );
    let timezone = timezone(ctx, raw.timezone.as_ref());
    let valid_from = raw
        .valid_from
        .as_ref()
        .and_then(|v| date(ctx, v, "valid_from"));
    let valid_until = raw
        .valid_until
        .as_ref()
        .and_then(|v| date(ctx, v, "valid_until"));
    window(ctx, &raw, (valid_from, valid_until), timezone, now);
    let (messages, message_locations) = messages(ctx, raw.messages.as_ref());
    let rotation = rotation(ctx, raw.rotation.as_ref());
    let allow_single_language = raw.allow_single_language.unwrap_or(false);
    let order = order(ctx, raw.order.as_ref(), allow_single_language);
    let gap_s = gap(ctx, raw.gap_s.as_ref());
    let repeats = bounded(ctx, raw.repeats.as_ref(), "repeats", 1..=MAX_REPEATS)
        .map_or(DEFAULT_REPEATS, |v| v as u32);
    let priority = bounded(ctx, raw.priority.as_ref(), "priority", PRIORITY_RANGE)
        .map_or(DEFAULT_PRIORITY, |v| v as i32);
    let slots = slots(ctx, raw.slots.as_ref());
    let quiet_hours = targets::quiet_list(ctx, raw.quiet_hours.as_ref());
    let townships = targets::resolve(ctx, raw.targets.as_ref(), directory);
    let quiet_overrides =
        targets::overrides(ctx, raw.quiet_overrides.as_ref(), directory, &townships);
    targets::check_slots_quiet(ctx, &slots, &quiet_hours, &quiet_overrides, &townships);
    if ctx.has_errors() {
        return None;
    }
    Some(Campaign {
        id,
        id_location,
        name,
        file: ctx.file.to_path_buf(),
        timezone,
        valid_from,
        valid_until,
        messages,
        message_locations,
        rotation,
        order,
        allow_single_language,
        gap_s,
        repeats,
        slots,
        townships,
        quiet_hours,
        quiet_overrides,
        priority,
    })
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The campaign id: the `id` key, or the file name without `.toml`.
fn id(ctx: &mut Ctx<'_>, raw: Option<&Spanned<String>>) -> (String, Option<Location>) {
    let Some(raw) = raw else {
        let stem = ctx
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned());
        let stem = stem.unwrap_or_default();
        if !is_id(&stem) {
            ctx.error(0..0, format!("file name `{stem}` is not a valid campaign id, expected an `id` key such as `id = \"prefecture-wide\"` (lowercase letters, digits, `-`, `_`)"));
        }
        return (stem, None);
    };
    if !is_id(raw.get_ref()) {
        ctx.error(
            raw.span(),
            format!(
                "invalid campaign id `{}`, expected lowercase letters, digits, `-` or `_`",
                raw.get_ref()
            ),
        );
    }
    (raw.get_ref().clone(), Some(ctx.location(raw.span())))
}

fn text_required(
    ctx: &mut Ctx<'_>,
    raw: Option<&Spanned<String>>,
    key: &str,
    expected: &str,
) -> String {
    match raw {
        Some(v) if !v.get_ref().trim().is_empty() => v.get_ref().trim().to_string(),
        Some(v) => {
            ctx.error(v.span(), format!("`{key}` is empty, expected {expected}"));
            String::new()
        }
        None => {
            ctx.error(0..0, format!("missing key `{key}`, expected {expected}"));
            String::new()
        }
    }
}

fn timezone(ctx: &mut Ctx<'_>, raw: Option<&Spanned<String>>) -> Tz {
    let Some(raw) = raw else {
        return DEFAULT_TIMEZONE;
    };
    match raw.get_ref().parse::<Tz>() {
        Ok(tz) => tz,
        Err(_) => {
            let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
            let hint = did_you_mean(raw.get_ref(), names).map(|n| format!("did you mean `{n}`?"));
            let msg = format!(
                "unknown timezone `{}`, expected an IANA zone name such as `Asia/Shanghai`",
                raw.get_ref()
            );
            Ctx::help(ctx.error(raw.span(), msg), hint);
            DEFAULT_TIMEZONE
        }
    }
}

/// A TOML date (`2026-12-01`) or a string holding one; times of day are refused.
fn date(ctx: &mut Ctx<'_>, raw: &Spanned<toml::Value>, key: &str) -> Option<NaiveDate> {
    let text = match raw.get_ref() {
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        toml::Value::String(s) => s.clone(),
        other => {
            let shown = other.to_string();
            ctx.error(raw.span(), format!("invalid `{key}` `{shown}`, expected a date such as `2026-12-01` (no time of day)"));
            return None;
        }
    };
    let parsed = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
    if parsed.is_none() {
        ctx.error(
            raw.span(),
            format!("invalid `{key}` `{text}`, expected a date such as `2026-12-01`"),
        );
    }
    parsed
}

/// `valid_until` not before `valid_from`; a window wholly in the past is only a warning.
fn window(
    ctx: &mut Ctx<'_>,
    raw: &RawCampaign,
    (from, until): (Option<NaiveDate>, Option<NaiveDate>),
    tz: Tz,
    now: DateTime<Utc>,
) {
    let Some(until_span) = raw.valid_until.as_ref().map(Spanned::span) else {
        return;
    };
    let Some(until) = until else { return };
    if let Some(from) = from.filter(|f| *f > until) {
        let msg = format!(
            "`valid_until` {until} is before `valid_from` {from}, expected a date on or after it"
        );
        ctx.error(until_span, msg);
        return;
    }
    let today = now.with_timezone(&tz).date_naive();
    if until < today {
        let msg =
            format!("campaign ended on {until} (today is {today} in {tz}); it will not air again");
        ctx.warning(until_span, msg);
    }
}

fn messages(ctx: &mut Ctx<'_>, raw: Option<&SpannedList>) -> (Vec<String>, Vec<Location>) {
    let Some(list) = raw else {
        ctx.error(0..0, "missing key `messages`, expected a list of message ids such as `messages = [\"police-impersonation\"]`");
        return (Vec::new(), Vec::new());
    };
    if list.get_ref().is_empty() {
        ctx.error(
            list.span(),
            "`messages` is empty, expected at least one message id",
        );
    }
    let mut seen = BTreeSet::new();
    let mut ids = Vec::new();
    let mut locations = Vec::new();
    for m in list.get_ref() {
        let id = m.get_ref();
        if !is_id(id) {
            ctx.error(m.span(), format!("invalid message id `{id}`, expected the name of a folder in `audio/` (lowercase letters, digits, `-`, `_`)"));
        } else if !seen.insert(id.clone()) {
            ctx.error(m.span(), format!("message `{id}` is listed twice"));
        } else {
            ids.push(id.clone());
            locations.push(ctx.location(m.span()));
        }
    }
    (ids, locations)
}

fn rotation(ctx: &mut Ctx<'_>, raw: Option<&Spanned<String>>) -> Rotation {
    match raw.map(|r| r.get_ref().as_str()) {
        None | Some("all") => Rotation::All,
        Some("round-robin") => Rotation::RoundRobin,
        Some(other) => {
            let hint =
                did_you_mean(other, ["all", "round-robin"]).map(|n| format!("did you mean `{n}`?"));
            let span = raw.map(Spanned::span).unwrap_or_default();
            let msg = format!("unknown rotation `{other}`, expected `all` or `round-robin`");
            Ctx::help(ctx.error(span, msg), hint);
            Rotation::All
        }
    }
}

fn order(ctx: &mut Ctx<'_>, raw: Option<&SpannedList>, allow_single: bool) -> Vec<Lang> {
    let Some(list) = raw else {
        return Lang::ALL.to_vec();
    };
    let mut langs = Vec::new();
    for item in list.get_ref() {
        match item.get_ref().as_str() {
            code @ ("ii" | "zh") => {
                let lang: Lang = code.parse().expect("known code");
                if langs.contains(&lang) {
                    ctx.error(
                        item.span(),
                        format!("language `{code}` is listed twice in `order`"),
                    );
                } else {
                    langs.push(lang);
                }
            }
            other => {
                let msg = format!(
                    "unknown language `{other}` in `order`, expected `ii` (Nuosu Yi) or `zh` (Mandarin)"
                );
                ctx.error(item.span(), msg);
            }
        }
    }
    match (list.get_ref().len(), allow_single) {
        (0, _) => {
            ctx.error(list.span(), "`order` is empty, expected `[\"ii\", \"zh\"]`");
        }
        (1, false) if !langs.is_empty() => {
            let msg = "`order` names one language, expected both (`[\"ii\", \"zh\"]`) unless `allow_single_language = true`";
            ctx.error(list.span(), msg);
        }
        _ => {}
    }
    langs
}

fn gap(ctx: &mut Ctx<'_>, raw: Option<&Spanned<f64>>) -> f64 {
    let Some(raw) = raw else {
        return DEFAULT_GAP_S;
    };
    let v = *raw.get_ref();
    if !(0.0..=MAX_GAP_S).contains(&v) {
        ctx.error(
            raw.span(),
            format!("`gap_s` {v} out of range, expected seconds from 0 to {MAX_GAP_S}"),
        );
        return DEFAULT_GAP_S;
    }
    v
}

fn bounded(
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
        format!("`{key}` {v} out of range, expected a whole number from {lo} to {hi}"),
    );
    None
}

fn slots(ctx: &mut Ctx<'_>, raw: Option<&Spanned<Vec<Spanned<RawSlot>>>>) -> Vec<Slot> {
    let Some(list) = raw.filter(|l| !l.get_ref().is_empty()) else {
        ctx.error(0..0, "missing `[[slots]]`, expected at least one slot such as `[[slots]]` with `cron = \"0 8 * * *\"`");
        return Vec::new();
    };
    let mut out: Vec<Slot> = Vec::new();
    for slot in list.get_ref() {
        let Some(cron) = &slot.get_ref().cron else {
            let msg = "missing key `cron` in `[[slots]]`, expected a crontab line such as `cron = \"0 8 * * *\"`";
            ctx.error(slot.span(), msg);
            continue;
        };
        let span = cron.span();
        let inner = ctx.inner(span.clone());
        let exact = ctx.src.get(inner.clone()) == Some(cron.get_ref().as_str());
        match CronSchedule::parse(cron.get_ref()) {
            Ok(schedule) if out.iter().any(|s| s.expr.trim() == cron.get_ref().trim()) => {
                let _ = schedule;
                ctx.warning(
                    span,
                    format!("slot `{}` is listed twice; it fires once", cron.get_ref()),
                );
            }
            Ok(schedule) => out.push(Slot {
                expr: cron.get_ref().clone(),
                schedule,
                label: slot.get_ref().label.clone(),
                location: ctx.location(span),
            }),
            Err(e) => {
                // Point into the expression when the file holds it verbatim (no escapes).
                let at = if exact {
                    inner.start + e.range.start..inner.start + e.range.end
                } else {
                    span
                };
                ctx.diags.push(
                    Diagnostic::error(
                        ctx.file,
                        format!("invalid cron `{}`: {}", cron.get_ref(), e.message),
                    )
                    .at(ctx.src, at),
                );
            }
        }
    }
    out
}
