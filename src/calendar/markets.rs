//! Market days (`schedules/markets.toml`): one day rule per township, or per county as the
//! default for its townships, parsed with spans and checked into [`Markets`].

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::lunar::BRANCHES;
use super::rule::{Cal, DayRule, ShortMonth, parse_branch, parse_weekday};
use crate::diag::Location;
use crate::directory::{Directory, Township};
use crate::schedule::ctx::Ctx;
use crate::schedule::validate::date;

/// A township's or county's market rule and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Market {
    pub rule: DayRule,
    pub note: Option<String>,
    pub location: Option<Location>,
}

/// Market rules by 9-digit township code and by 6-digit county code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markets {
    pub townships: BTreeMap<String, Market>,
    pub counties: BTreeMap<String, Market>,
}

impl Markets {
    /// A township's market rule: its own, else its county's.
    pub fn for_township(&self, t: &Township) -> Option<&Market> {
        self.townships
            .get(&t.code)
            .or_else(|| self.counties.get(&t.county_code))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    market: Vec<Spanned<RawMarket>>,
}

/// One `[[market]]`: `county` or `township`, and exactly one rule key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMarket {
    county: Option<Spanned<String>>,
    township: Option<Spanned<String>>,
    daily: Option<Spanned<bool>>,
    weekdays: Option<Spanned<Vec<Spanned<String>>>>,
    digits: Option<Spanned<Vec<Spanned<i64>>>>,
    parity: Option<Spanned<String>>,
    every: Option<Spanned<i64>>,
    anchor: Option<Spanned<toml::Value>>,
    branch: Option<Spanned<Vec<Spanned<String>>>>,
    dates: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    calendar: Option<Spanned<String>>,
    on_31st: Option<Spanned<bool>>,
    short_month: Option<Spanned<String>>,
    note: Option<String>,
}

const KEYS: &[&str] = &[
    "market",
    "county",
    "township",
    "daily",
    "weekdays",
    "digits",
    "parity",
    "every",
    "anchor",
    "branch",
    "dates",
    "calendar",
    "on_31st",
    "short_month",
    "note",
];
const RULE_KEYS: &str = "`daily`, `weekdays`, `digits`, `parity`, `every`, `branch` or `dates`";

/// Parse and check the file's text against the directory; `None` when it has errors.
pub(crate) fn parse(ctx: &mut Ctx<'_>, dir: &Directory) -> Option<Markets> {
    let raw: RawFile = match toml::from_str(ctx.src) {
        Ok(r) => r,
        Err(e) => {
            ctx.diags
                .push(crate::diag::toml_error(ctx.file, ctx.src, &e, KEYS));
            return None;
        }
    };
    let mut out = Markets::default();
    for m in &raw.market {
        let (span, m) = (m.span(), m.get_ref());
        let rule = rule(ctx, m, span.clone());
        let market = rule.map(|rule| Market {
            rule,
            note: m.note.clone(),
            location: Some(ctx.location(span.clone())),
        });
        let (map, code, at) = match (&m.county, &m.township) {
            (Some(c), None) => match dir.county(c.get_ref()) {
                Ok(found) => (&mut out.counties, found.code.clone(), c.span()),
                Err(e) => {
                    lookup_failed(ctx, c.span(), &e);
                    continue;
                }
            },
            (None, Some(t)) => match dir.township(t.get_ref()) {
                Ok(found) => (&mut out.townships, found.code.clone(), t.span()),
                Err(e) => {
                    lookup_failed(ctx, t.span(), &e);
                    continue;
                }
            },
            _ => {
                ctx.error(span.start..span.start + 10, "a `[[market]]` names one `county` or one `township`")
                    .help = Some("write `township = \"竹核镇\"` (or `\"昭觉县/竹核镇\"`), or `county = \"昭觉县\"` for the county's default".into());
                continue;
            }
        };
        match map.entry(code) {
            std::collections::btree_map::Entry::Occupied(e) => {
                let msg = format!("a second market rule for `{}`", e.key());
                ctx.error(at, msg).help =
                    Some("keep one `[[market]]` per township or county".into());
            }
            std::collections::btree_map::Entry::Vacant(e) => {
                if let Some(market) = market {
                    e.insert(market);
                }
            }
        }
    }
    (!ctx.has_errors()).then_some(out)
}

/// The directory's own did-you-mean, as campaign targets report it.
fn lookup_failed(
    ctx: &mut Ctx<'_>,
    span: std::ops::Range<usize>,
    e: &crate::directory::LookupError,
) {
    let help = e.suggestion().map(|s| format!("did you mean `{s}`?"));
    ctx.error(
        span,
        format!("{e}, expected a township (or county) name or code"),
    )
    .help = help;
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

fn rule(ctx: &mut Ctx<'_>, m: &RawMarket, span: std::ops::Range<usize>) -> Option<DayRule> {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::calendar::parse_markets;

    fn parse(src: &str) -> (Option<Markets>, Vec<crate::diag::Diagnostic>) {
        parse_markets(
            Path::new("schedules/markets.toml"),
            src,
            &Directory::liangshan(),
        )
    }

    #[test]
    fn the_shipped_example_parses_and_county_defaults_apply() {
        let src = std::fs::read_to_string("schedules/markets.toml").unwrap();
        let (m, diags) = parse(&src);
        assert!(diags.is_empty(), "{diags:?}");
        let m = m.unwrap();
        let dir = Directory::liangshan();
        let zhuhe = dir.township("竹核镇").unwrap();
        assert_eq!(
            m.for_township(zhuhe).unwrap().rule,
            DayRule::Branch(vec![0, 6])
        );
        // Another township of 昭觉县 takes the county's rule.
        let other = dir
            .townships_of("513431")
            .find(|t| t.code != zhuhe.code)
            .unwrap();
        assert_eq!(
            m.for_township(other).unwrap().rule.describe(),
            "农历逢三六九"
        );
        assert!(
            m.for_township(dir.township("会理市/鹿厂镇").unwrap())
                .is_none()
        );
    }

    #[test]
    fn every_without_anchor_and_unknown_township_point_at_their_lines() {
        let src = "[[market]]\ntownship = \"竹合镇\"\ndaily = true\n\n[[market]]\ntownship = \"卫城镇\"\nevery = 3\n";
        let (m, diags) = parse(src);
        assert!(m.is_none());
        let lines: Vec<usize> = diags
            .iter()
            .map(|d| d.location.as_ref().unwrap().line)
            .collect();
        assert_eq!(lines, [2, 7], "{diags:?}");
        assert!(diags[0].message.contains("竹合镇"), "{}", diags[0].message);
        assert!(diags[1].message.contains("anchor"), "{}", diags[1].message);
        assert!(
            diags[1]
                .help
                .as_deref()
                .unwrap()
                .contains("anchor = 2026-12-01")
        );
    }

    #[test]
    fn the_calendar_and_the_31st_must_be_said() {
        let (_, diags) = parse("[[market]]\ntownship = \"卫城镇\"\ndigits = [1, 4, 7]\n");
        assert!(
            diags[0].message.contains("calendar is not said"),
            "{diags:?}"
        );
        let (_, diags) =
            parse("[[market]]\ntownship = \"卫城镇\"\ndigits = [1, 4, 7]\ncalendar = \"solar\"\n");
        assert!(diags[0].message.contains("31st"), "{diags:?}");
        assert_eq!(diags[0].location.as_ref().unwrap().line, 3);
        let (m, diags) =
            parse("[[market]]\ntownship = \"卫城镇\"\ndigits = [5, 10]\ncalendar = \"lunar\"\n");
        assert!(
            m.is_some() && diags.len() == 1 && !diags[0].is_error(),
            "{diags:?}"
        );
        let (_, diags) =
            parse("[[market]]\ntownship = \"卫城镇\"\nbranch = [\"甲\"]\nweekday = []\n");
        assert!(
            diags[0].message.contains("unknown key `weekday`"),
            "{diags:?}"
        );
    }
}
