//! `schedules/festivals.toml` as written (serde structs with spans) and checked into
//! [`Festivals`]: every problem at `file:line:col` with a fix.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::festival::{Block, Festivals, NamedDay, When, years_without_day_30};
use super::rule::ShortMonth;
use crate::diag::did_you_mean;
use crate::schedule::ctx::Ctx;
use crate::schedule::validate::date;

/// The years a lunar day 30 is looked at when `check` says which years skip it.
pub const DAY_30_YEARS: std::ops::RangeInclusive<i32> = 2024..=2035;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    day: Vec<Spanned<RawDay>>,
    #[serde(default)]
    block: Vec<Spanned<RawBlock>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDay {
    name: Spanned<String>,
    calendar: Option<Spanned<String>>,
    month: Option<Spanned<i64>>,
    day: Option<Spanned<i64>>,
    short_month: Option<Spanned<String>>,
    relative_to: Option<Spanned<String>>,
    offset: Option<Spanned<i64>>,
    length: Option<Spanned<i64>>,
    since: Option<Spanned<i64>>,
    until: Option<Spanned<i64>>,
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlock {
    name: Spanned<String>,
    from: Spanned<toml::Value>,
    to: Spanned<toml::Value>,
    notice: Option<String>,
}

/// Keys of a `[[day]]` and a `[[block]]`, for "did you mean".
const KEYS: &[&str] = &[
    "day",
    "block",
    "name",
    "calendar",
    "month",
    "short_month",
    "relative_to",
    "offset",
    "length",
    "since",
    "until",
    "source",
    "from",
    "to",
    "notice",
];

/// Parse and check the file's text; `None` when it has errors (all of them are in `ctx`).
pub(crate) fn parse(ctx: &mut Ctx<'_>) -> Option<Festivals> {
    let raw: RawFile = super::from_toml(ctx, KEYS)?;
    let mut out = Festivals::default();
    let names: Vec<String> = raw
        .day
        .iter()
        .map(|d| d.get_ref().name.get_ref().clone())
        .collect();
    for (i, d) in raw.day.iter().enumerate() {
        let d = d.get_ref();
        if names[..i].contains(d.name.get_ref()) {
            ctx.error(
                d.name.span(),
                format!("named day `{}` is defined twice", d.name.get_ref()),
            )
            .help = Some("keep one `[[day]]` per name; announced dates go in `[[block]]`".into());
        }
        if let Some(day) = named_day(ctx, d, &names) {
            out.days.push(day);
        }
    }
    for b in &raw.block {
        if let Some(b) = block(ctx, b.get_ref()) {
            out.blocks.push(b);
        }
    }
    (!ctx.has_errors()).then_some(out)
}

fn int(
    ctx: &mut Ctx<'_>,
    v: Option<&Spanned<i64>>,
    key: &str,
    range: Range<i64>,
    eg: &str,
) -> Option<i64> {
    let v = v?;
    let n = *v.get_ref();
    if range.contains(&n) {
        return Some(n);
    }
    let msg = format!(
        "`{key}` {n} is out of range, expected {}–{} such as `{eg}`",
        range.start,
        range.end - 1
    );
    ctx.error(v.span(), msg);
    None
}

fn named_day(ctx: &mut Ctx<'_>, d: &RawDay, names: &[String]) -> Option<NamedDay> {
    let length = int(ctx, d.length.as_ref(), "length", 1..367, "length = 3").unwrap_or(1) as u32;
    let since = int(ctx, d.since.as_ref(), "since", 1901..2100, "since = 2023").map(|y| y as i32);
    let until = int(ctx, d.until.as_ref(), "until", 1901..2100, "until = 2030").map(|y| y as i32);
    let when = when(ctx, d, names)?;
    Some(NamedDay {
        name: d.name.get_ref().clone(),
        when,
        length,
        since,
        until,
        source: d.source.clone(),
        location: Some(ctx.location(d.name.span())),
    })
}

fn when(ctx: &mut Ctx<'_>, d: &RawDay, names: &[String]) -> Option<When> {
    let name = d.name.get_ref();
    if let Some(to) = &d.relative_to {
        let Some(index) = names.iter().position(|n| n == to.get_ref()) else {
            let hint = did_you_mean(to.get_ref(), names.iter().map(String::as_str));
            let msg = format!(
                "`relative_to` names `{}`, which no `[[day]]` defines",
                to.get_ref()
            );
            ctx.error(to.span(), msg).help = hint.map(|h| format!("did you mean `{h}`?"));
            return None;
        };
        let offset = int(ctx, d.offset.as_ref(), "offset", -366..367, "offset = -1").unwrap_or(0);
        return Some(When::Relative {
            to: index,
            offset: offset as i32,
        });
    }
    let Some(cal) = &d.calendar else {
        ctx.error(d.name.span(), format!("named day `{name}` says neither `calendar` nor `relative_to`"))
            .help = Some("write `calendar = \"lunar\"` (农历) or `calendar = \"solar\"` (公历) with `month` and `day`".into());
        return None;
    };
    let lunar = match super::market_rule::calendar(ctx, cal)? {
        super::Cal::Lunar => true,
        super::Cal::Solar => false,
    };
    let month = int(ctx, d.month.as_ref(), "month", 1..13, "month = 6");
    let max_day = if lunar { 31 } else { 32 };
    let day = int(ctx, d.day.as_ref(), "day", 1..max_day, "day = 24");
    let (Some(month), Some(day)) = (month, day) else {
        if d.month.is_none() || d.day.is_none() {
            ctx.error(
                d.name.span(),
                format!("named day `{name}` needs `month` and `day`"),
            );
        }
        return None;
    };
    if !lunar {
        if chrono::NaiveDate::from_ymd_opt(2028, month as u32, day as u32).is_none() {
            let at = d.day.as_ref().map_or(d.name.span(), Spanned::span);
            ctx.error(
                at,
                format!("there is no {month}/{day} in the Western calendar"),
            );
            return None;
        }
        return Some(When::Solar {
            month: month as u32,
            day: day as u32,
        });
    }
    let short_month = match &d.short_month {
        Some(s) => super::market_rule::short_month(ctx, s)?,
        None => ShortMonth::Skip,
    };
    if day == 30 && d.short_month.is_none() {
        let skipped = years_without_day_30(month as u8, DAY_30_YEARS);
        let list: Vec<String> = skipped.iter().map(i32::to_string).collect();
        let at = d.day.as_ref().map_or(d.name.span(), Spanned::span);
        let msg = format!(
            "lunar month {month} has only 29 days in some years: `{name}` (day 30) does not happen in {} ({}–{})",
            if list.is_empty() {
                "none of".to_string()
            } else {
                list.join(", ")
            },
            DAY_30_YEARS.start(),
            DAY_30_YEARS.end(),
        );
        ctx.warning(at, msg).help = Some(
            "add `short_month = \"last_day\"` to keep it on the 29th those years, or `short_month = \"skip\"` to say they have none".into(),
        );
    }
    Some(When::Lunar {
        month: month as u8,
        day: day as u8,
        short_month,
    })
}

fn block(ctx: &mut Ctx<'_>, b: &RawBlock) -> Option<Block> {
    let first = date(ctx, &b.from, "from");
    let last = date(ctx, &b.to, "to");
    let (first, last) = (first?, last?);
    if last < first {
        ctx.error(b.to.span(), format!("`to` {last} is before `from` {first}"));
        return None;
    }
    if (last - first).num_days() > 366 {
        ctx.error(
            b.to.span(),
            "a holiday block longer than a year, expected `to` within a year of `from`",
        );
        return None;
    }
    Some(Block {
        name: b.name.get_ref().clone(),
        first,
        last,
        notice: b.notice.clone(),
        location: Some(ctx.location(b.name.span())),
    })
}
