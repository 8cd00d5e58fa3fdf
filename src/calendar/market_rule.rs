//! One `[[market]]` entry as written and its rule checked into a [`DayRule`]: exactly one
//! rule key, the calendar said where days of the month are counted, the 31st and short
//! months said, an `every` rule anchored.

use serde::Deserialize;
use toml::Spanned;

use super::lunar::BRANCHES;
use super::rule::{Cal, DayRule, ShortMonth, parse_branch, parse_weekday};
use crate::schedule::ctx::Ctx;
use crate::schedule::validate::date;

const RULE_KEYS: &str = "`daily`, `weekdays`, `digits`, `parity`, `every`, `branch` or `dates`";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMarket {
    pub(super) county: Option<Spanned<String>>,
    pub(super) township: Option<Spanned<String>>,
    pub(super) daily: Option<Spanned<bool>>,
    pub(super) weekdays: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) digits: Option<Spanned<Vec<Spanned<i64>>>>,
    pub(super) parity: Option<Spanned<String>>,
    pub(super) every: Option<Spanned<i64>>,
    pub(super) anchor: Option<Spanned<toml::Value>>,
    pub(super) branch: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) dates: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    pub(super) calendar: Option<Spanned<String>>,
    pub(super) on_31st: Option<Spanned<bool>>,
    pub(super) short_month: Option<Spanned<String>>,
    pub(super) note: Option<String>,
}

/// `solar`/`公历` or `lunar`/`农历`.
pub(crate) fn calendar(ctx: &mut Ctx<'_>, v: &Spanned<String>) -> Option<Cal> {
    match v.get_ref().trim() {
        "solar" | "公历" | "阳历" => Some(Cal::Solar),
        "lunar" | "农历" | "阴历" => Some(Cal::Lunar),
        other => {
            ctx.error(
                v.span(),
                format!("unknown calendar `{other}`, expected `solar` (公历) or `lunar` (农历)"),
            );
            None
        }
    }
}

pub(crate) fn short_month(ctx: &mut Ctx<'_>, v: &Spanned<String>) -> Option<ShortMonth> {
    match v.get_ref().trim() {
        "skip" => Some(ShortMonth::Skip),
        "last_day" => Some(ShortMonth::LastDay),
        other => {
            ctx.error(
                v.span(),
                format!("unknown `short_month` `{other}`, expected `skip` or `last_day`"),
            );
            None
        }
    }
}

pub(super) fn rule(
    ctx: &mut Ctx<'_>,
    m: &RawMarket,
    span: std::ops::Range<usize>,
) -> Option<DayRule> {
    let given = [
        m.daily.is_some(),
        m.weekdays.is_some(),
        m.digits.is_some(),
        m.parity.is_some(),
        m.every.is_some(),
        m.branch.is_some(),
        m.dates.is_some(),
    ];
    let head = span.start..span.start + 10;
    match given.iter().filter(|g| **g).count() {
        1 => {}
        0 => {
            ctx.error(
                head,
                format!("a `[[market]]` without a rule, expected one of {RULE_KEYS}"),
            )
            .help = Some(
                "for example `digits = [1, 4, 7]` with `calendar = \"solar\"` (逢1、4、7)".into(),
            );
            return None;
        }
        _ => {
            ctx.error(
                head,
                format!("a `[[market]]` with more than one rule, expected one of {RULE_KEYS}"),
            );
            return None;
        }
    }
    let needs_cal = m.digits.is_some() || m.parity.is_some();
    let cal = match (&m.calendar, needs_cal) {
        (Some(c), true) => calendar(ctx, c)?,
        (None, true) => {
            ctx.error(head, "the calendar is not said: `digits` and `parity` count days of the month in one calendar")
                .help = Some("add `calendar = \"solar\"` (公历) or `calendar = \"lunar\"` (农历)".into());
            return None;
        }
        (Some(c), false) => {
            ctx.error(
                c.span(),
                "`calendar` only applies to `digits` and `parity` rules",
            );
            return None;
        }
        (None, false) => Cal::Solar,
    };
    if let Some(d) = &m.daily {
        if !*d.get_ref() {
            ctx.error(
                d.span(),
                "`daily = false` is not a rule, expected `daily = true` or another rule",
            );
            return None;
        }
        return Some(DayRule::Daily);
    }
    if let Some(list) = &m.weekdays {
        let days = names(
            ctx,
            list,
            "weekday",
            "`周日`, `星期三` or `sun`",
            parse_weekday,
        )?;
        return Some(DayRule::Weekdays(days));
    }
    if let Some(list) = &m.branch {
        let hint = format!(
            "one of {}",
            BRANCHES
                .iter()
                .map(|b| format!("`{b}`"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let mut b = names(ctx, list, "earthly branch", &hint, parse_branch)?;
        b.sort_unstable();
        return Some(DayRule::Branch(b));
    }
    if let Some(p) = &m.parity {
        let odd = match p.get_ref().trim() {
            "odd" | "单日" | "单" => true,
            "even" | "双日" | "双" => false,
            other => {
                ctx.error(
                    p.span(),
                    format!("unknown parity `{other}`, expected `odd` (单日) or `even` (双日)"),
                );
                return None;
            }
        };
        return Some(DayRule::Parity { cal, odd });
    }
    if let Some(n) = &m.every {
        return every(ctx, m, n);
    }
    if let Some(list) = &m.dates {
        let mut dates: Vec<_> = list
            .get_ref()
            .iter()
            .filter_map(|v| date(ctx, v, "dates"))
            .collect();
        dates.sort_unstable();
        dates.dedup();
        return (dates.len() == list.get_ref().len()).then_some(DayRule::Dates(dates));
    }
    digits(ctx, m, cal)
}

fn names<T: PartialEq>(
    ctx: &mut Ctx<'_>,
    list: &Spanned<Vec<Spanned<String>>>,
    what: &str,
    expected: &str,
    parse: fn(&str) -> Option<T>,
) -> Option<Vec<T>> {
    if list.get_ref().is_empty() {
        ctx.error(
            list.span(),
            format!("an empty list, expected at least one {what}"),
        );
        return None;
    }
    let mut out = Vec::new();
    let mut bad = false;
    for item in list.get_ref() {
        match parse(item.get_ref()) {
            Some(v) if !out.contains(&v) => out.push(v),
            Some(_) => {}
            None => {
                bad = true;
                ctx.error(
                    item.span(),
                    format!("unknown {what} `{}`, expected {expected}", item.get_ref()),
                );
            }
        }
    }
    (!bad).then_some(out)
}

fn every(ctx: &mut Ctx<'_>, m: &RawMarket, n: &Spanned<i64>) -> Option<DayRule> {
    let count = *n.get_ref();
    if !(2..=60).contains(&count) {
        ctx.error(
            n.span(),
            format!(
                "`every` {count} is out of range, expected 2–60 days (隔二赶三 is `every = 3`)"
            ),
        );
        return None;
    }
    let Some(anchor) = &m.anchor else {
        ctx.error(
            n.span(),
            format!("`every = {count}` needs an `anchor`: a date a market was held"),
        )
        .help = Some(
            "add `anchor = 2026-12-01` (any past or future market day of this township)".into(),
        );
        return None;
    };
    let anchor = date(ctx, anchor, "anchor")?;
    Some(DayRule::Every {
        n: count as u32,
        anchor,
    })
}

fn digits(ctx: &mut Ctx<'_>, m: &RawMarket, cal: Cal) -> Option<DayRule> {
    let list = m.digits.as_ref()?;
    let mut digits = Vec::new();
    for d in list.get_ref() {
        match u8::try_from(*d.get_ref()) {
            Ok(v) if v <= 9 => digits.push(v),
            Ok(10) => digits.push(0),
            _ => {
                ctx.error(d.span(), format!("`digits` holds {}, expected last digits 0–9 (逢1、4、7 is `[1, 4, 7]`, 逢十 is `0`)", d.get_ref()));
            }
        }
    }
    if digits.is_empty() {
        ctx.error(
            list.span(),
            "`digits` is empty, expected day digits such as `[1, 4, 7]`",
        );
        return None;
    }
    digits.sort_unstable();
    digits.dedup();
    let on_31st = match (&m.on_31st, cal == Cal::Solar && digits.contains(&1)) {
        (Some(v), true) => *v.get_ref(),
        (None, true) => {
            let d = ctx.error(
                list.span(),
                "whether the 31st is a market day is not said (a solar `1` rule could mean it)",
            );
            d.help =
                Some("add `on_31st = true` (the 31st is a market day) or `on_31st = false`".into());
            return None;
        }
        (Some(v), false) => {
            ctx.error(
                v.span(),
                "`on_31st` only applies to solar `digits` holding 1",
            );
            return None;
        }
        (None, false) => false,
    };
    let short_month = match &m.short_month {
        Some(s) if digits.contains(&0) => short_month(ctx, s)?,
        Some(s) => {
            ctx.error(
                s.span(),
                "`short_month` only applies to `digits` holding 0 (逢十)",
            );
            return None;
        }
        None => ShortMonth::Skip,
    };
    if digits.contains(&0) && m.short_month.is_none() {
        let what = if cal == Cal::Lunar {
            "a 29-day lunar month (about half of them)"
        } else {
            "February"
        };
        ctx.warning(list.span(), format!("a `0` (逢十) rule has no 30th in {what}: no market then"))
            .help = Some("say so with `short_month = \"skip\"`, or hold it on the month's last day with `short_month = \"last_day\"`".into());
    }
    if ctx.has_errors() {
        return None;
    }
    Some(DayRule::Digits {
        cal,
        digits,
        on_31st,
        short_month,
    })
}
