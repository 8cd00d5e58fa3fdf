//! The second parsing stage: a [`RawCampaign`] checked key by key into a [`Campaign`], every
//! problem of the file reported as a [`Diagnostic`](crate::diag::Diagnostic) pointing at the offending text.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use toml::Spanned;

use super::ctx::Ctx;
use super::programme::{bounded, gap, messages, order, rotation, slots};
use super::raw::RawCampaign;
use super::{Campaign, targets};
use crate::diag::Location;
use crate::directory::Directory;

/// Defaults for keys a campaign may leave out (documented in `schedules/README.md`).
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Shanghai;
pub const DEFAULT_GAP_S: f64 = 2.0;
pub const DEFAULT_REPEATS: u32 = 1;
pub const DEFAULT_PRIORITY: i32 = 0;
pub const MAX_GAP_S: f64 = 60.0;
pub const MAX_REPEATS: i64 = 10;
pub const PRIORITY_RANGE: std::ops::RangeInclusive<i64> = 0..=100;

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
        crate::t!("campaign-name-expected"),
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
    let targets::Resolved {
        townships,
        villages,
    } = targets::resolve(ctx, raw.targets.as_ref(), directory);
    let quiet_overrides =
        targets::overrides(ctx, raw.quiet_overrides.as_ref(), directory, &townships);
    targets::check_slots_quiet(ctx, &slots, &quiet_hours, &quiet_overrides, &townships);
    let days = super::days::spec(ctx, raw.days.as_ref());
    if let (super::Rotation::RoundRobin, Some(r), Some(d)) = (rotation, &raw.rotation, &days)
        && (d.market || !d.within.is_empty())
    {
        let msg = crate::t!("rotation-round-robin-days");
        ctx.warning(r.span(), msg).help = Some(crate::t!("rotation-use-all"));
    }
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
        villages,
        quiet_hours,
        quiet_overrides,
        priority,
        days,
        calendar: crate::calendar::Calendar::shipped(),
    })
}

pub(crate) fn is_id(s: &str) -> bool {
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
            ctx.error(
                0..0,
                crate::t!("campaign-id-from-file", stem = stem.as_str()),
            );
        }
        return (stem, None);
    };
    if !is_id(raw.get_ref()) {
        ctx.error(
            raw.span(),
            crate::t!("campaign-id-invalid", id = raw.get_ref().as_str()),
        );
    }
    (raw.get_ref().clone(), Some(ctx.location(raw.span())))
}

fn text_required(
    ctx: &mut Ctx<'_>,
    raw: Option<&Spanned<String>>,
    key: &str,
    expected: String,
) -> String {
    match raw {
        Some(v) if !v.get_ref().trim().is_empty() => v.get_ref().trim().to_string(),
        Some(v) => {
            ctx.error(
                v.span(),
                crate::t!("key-empty", key = key, expected = expected),
            );
            String::new()
        }
        None => {
            let msg = crate::t!("key-missing", key = key, expected = expected);
            ctx.missing("campaign", 0..0, &msg);
            String::new()
        }
    }
}

fn timezone(ctx: &mut Ctx<'_>, raw: Option<&Spanned<String>>) -> Tz {
    let Some(raw) = raw else {
        return DEFAULT_TIMEZONE;
    };
    match raw.get_ref().parse::<Tz>() {
        Ok(tz) => {
            if let Some((msg, help)) = crate::check::tz::far_zone_warning(tz) {
                Ctx::help(ctx.warning(raw.span(), msg), help);
            }
            tz
        }
        Err(_) => {
            let hint = crate::check::tz::unknown_zone_help(raw.get_ref());
            let msg = crate::t!("tz-unknown", zone = raw.get_ref());
            Ctx::help(ctx.error(raw.span(), msg), hint);
            DEFAULT_TIMEZONE
        }
    }
}

/// A TOML date (`2026-12-01`) or a string holding one; times of day are refused.
pub(crate) fn date(ctx: &mut Ctx<'_>, raw: &Spanned<toml::Value>, key: &str) -> Option<NaiveDate> {
    let text = match raw.get_ref() {
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        toml::Value::String(s) => s.clone(),
        other => {
            let shown = other.to_string();
            let msg = crate::t!("date-not-a-date", key = key, text = shown.as_str());
            ctx.error(raw.span(), msg);
            return None;
        }
    };
    let parsed = NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
    if parsed.is_none() {
        let msg = crate::t!("date-invalid", key = key, text = text.as_str());
        let help = crate::check::forms::date_help(&text);
        Ctx::help(ctx.error(raw.span(), msg), help);
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
        let msg = crate::t!(
            "valid-until-before-from",
            until = until.to_string(),
            from = from.to_string()
        );
        ctx.error(until_span, msg);
        return;
    }
    let today = now.with_timezone(&tz).date_naive();
    if until < today {
        let msg = crate::t!(
            "campaign-ended",
            until = until.to_string(),
            today = today.to_string(),
            tz = tz.name()
        );
        ctx.warning(until_span, msg);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::TimeZone;

    use super::*;
    use crate::diag::Diagnostic;
    use crate::lang::Lang;
    use crate::schedule::{Rotation, parse_at};

    fn parse(extra: &str) -> (Option<Campaign>, Vec<Diagnostic>) {
        crate::locale::set_thread(crate::locale::Locale::En);
        let src = format!(
            "name = \"x\"\nmessages = [\"a\"]\n{extra}\n[targets]\ncounties = [\"布拖县\"]\n\n[[slots]]\ncron = \"0 8 * * *\"\n"
        );
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap();
        parse_at(
            Path::new("schedules/c.toml"),
            &src,
            &Directory::liangshan(),
            now,
        )
    }

    fn messages(diags: &[Diagnostic]) -> Vec<&str> {
        diags.iter().map(|d| d.message.as_str()).collect()
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let (c, diags) = parse("");
        assert!(diags.is_empty(), "{diags:?}");
        let c = c.unwrap();
        assert_eq!((c.id.as_str(), c.timezone), ("c", DEFAULT_TIMEZONE));
        assert_eq!(c.order, Lang::ALL);
        assert_eq!((c.gap_s, c.repeats, c.priority), (DEFAULT_GAP_S, 1, 0));
        assert_eq!(c.rotation, Rotation::All);
        assert_eq!(c.quiet_hours[0].to_string(), "22:00-06:30");
        assert_eq!((c.valid_from, c.valid_until), (None, None));
        assert!(c.id_location.is_none());
    }

    #[test]
    fn single_language_only_when_allowed() {
        let (c, diags) = parse("order = [\"zh\"]\nallow_single_language = true");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(c.unwrap().order, [Lang::Zh]);
        let (_, diags) = parse("order = []");
        assert_eq!(
            messages(&diags),
            ["`order` is empty, expected `[\"ii\", \"zh\"]`"]
        );
    }

    #[test]
    fn dates_as_toml_dates_or_strings_and_ids_checked() {
        let (c, diags) =
            parse("valid_from = \"2026-12-01\"\nvalid_until = 2030-01-31\nid = \"b-1\"");
        assert!(diags.is_empty(), "{diags:?}");
        let c = c.unwrap();
        assert_eq!(c.valid_from, NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(c.valid_until, NaiveDate::from_ymd_opt(2030, 1, 31));
        assert_eq!(c.id_location.unwrap().line, 5);
        let (_, diags) = parse("id = \"Bad Id\"");
        assert_eq!(
            messages(&diags),
            ["invalid campaign id `Bad Id`, expected lowercase letters, digits, `-` or `_`"]
        );
    }

    #[test]
    fn priority_bounds_and_all_the_problems_together() {
        let (c, diags) = parse("priority = 101\nrepeats = 11\nrotation = \"every\"");
        assert!(c.is_none());
        assert_eq!(diags.len(), 3, "{diags:?}");
        assert!(diags.iter().all(Diagnostic::is_error));
        assert_eq!(diags[0].help, None);
        let (c, _) = parse("priority = 100\nrepeats = 10\nrotation = \"round-robin\"");
        let c = c.unwrap();
        assert_eq!(
            (c.priority, c.repeats, c.rotation),
            (100, 10, Rotation::RoundRobin)
        );
    }
}
