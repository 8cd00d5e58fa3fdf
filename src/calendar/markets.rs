//! Market days (`schedules/markets.toml`): one day rule per township, or per county as the
//! default for its townships, parsed with spans and checked into [`Markets`].

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::rule::DayRule;
use crate::diag::Location;
use crate::directory::{Directory, Township};
use crate::schedule::ctx::Ctx;

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
pub(super) use super::market_rule::RawMarket;
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

/// Parse and check the file's text against the directory; `None` when it has errors.
pub(crate) fn parse(ctx: &mut Ctx<'_>, dir: &Directory) -> Option<Markets> {
    let raw: RawFile = super::from_toml(ctx, KEYS)?;
    let mut out = Markets::default();
    for m in &raw.market {
        let (span, m) = (m.span(), m.get_ref());
        let rule = super::market_rule::rule(ctx, m, span.clone());
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

#[cfg(test)]
#[path = "markets_tests.rs"]
mod tests;
