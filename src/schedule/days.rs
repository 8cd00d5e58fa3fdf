//! A campaign's `[days]` and a slot's `days`: market days only, within windows around named
//! days, never on named days — checked into a [`DaySpec`], and the names checked against the
//! festivals file once it is loaded.

use std::path::Path;

use toml::Spanned;

use super::Campaign;
use super::ctx::Ctx;
use super::raw::RawDays;
use crate::calendar::{Calendar, DaySpec, Window};
use crate::diag::{Diagnostic, did_you_mean};
use crate::directory::Directory;

/// The most days a window may reach before or after its named day.
pub const MAX_WINDOW_DAYS: i64 = 180;

/// Check one `days` table; `None` when absent or wrong (the errors are in `ctx`).
pub(crate) fn spec(ctx: &mut Ctx<'_>, raw: Option<&Spanned<RawDays>>) -> Option<DaySpec> {
    let raw = raw?;
    let r = raw.get_ref();
    let before = ctx.diags.len();
    let spec = DaySpec {
        market: r.market.as_ref().is_some_and(|m| *m.get_ref()),
        within: windows(ctx, r.within.as_ref()),
        except: windows(ctx, r.except.as_ref()),
        location: None,
    };
    if spec == DaySpec::default() && ctx.diags.len() == before {
        let msg = "`days` says nothing, expected `market = true`, `within = [\"火把节\"]` or `except = [\"彝历新年\"]`";
        ctx.error(raw.span().start..raw.span().start + 6, msg);
        return None;
    }
    let at = r.market.as_ref().map_or(raw.span(), Spanned::span);
    Some(DaySpec {
        location: Some(ctx.location(at)),
        ..spec
    })
}

/// A warning when a campaign (or slot) runs on market days only and some of its townships
/// have no market rule: nothing airs there.
pub fn check_markets(c: &Campaign, dir: &Directory) -> Option<Diagnostic> {
    let spec = c
        .days
        .iter()
        .chain(c.slots.iter().filter_map(|s| s.days.as_ref()))
        .find(|s| s.market)?;
    let missing: Vec<&str> = c
        .townships
        .iter()
        .filter_map(|code| dir.township(code).ok())
        .filter(|t| c.calendar.markets.for_township(t).is_none())
        .map(|t| t.name.as_str())
        .collect();
    if missing.is_empty() {
        return None;
    }
    let shown = missing
        .iter()
        .take(5)
        .copied()
        .collect::<Vec<_>>()
        .join("、");
    let more = if missing.len() > 5 { "…" } else { "" };
    let msg = format!(
        "{} of {} targeted townships have no market days ({shown}{more}): this campaign never airs there",
        missing.len(),
        c.townships.len()
    );
    let mut d = Diagnostic::warning(&c.file, msg).with_help(format!(
        "add their rules (or their county's) to `{}`",
        crate::calendar::MARKETS_FILE
    ));
    d.location = spec.location.clone();
    Some(d)
}

type RawList = Spanned<Vec<Spanned<toml::Value>>>;

fn windows(ctx: &mut Ctx<'_>, raw: Option<&RawList>) -> Vec<Window> {
    let mut out = Vec::new();
    for item in raw.map(|l| l.get_ref().as_slice()).unwrap_or_default() {
        if let Some(w) = window(ctx, item) {
            out.push(w);
        }
    }
    out
}

const WINDOW_EXPECTED: &str =
    "expected a named day such as `\"火把节\"` or `{ day = \"火把节\", before = 7, after = 0 }`";

fn window(ctx: &mut Ctx<'_>, item: &Spanned<toml::Value>) -> Option<Window> {
    let span = item.span();
    let (name, before, after) = match item.get_ref() {
        toml::Value::String(s) => (s.clone(), 0, 0),
        toml::Value::Table(t) => {
            if let Some(k) = t
                .keys()
                .find(|k| !["day", "before", "after"].contains(&k.as_str()))
            {
                let hint = did_you_mean(k, ["day", "before", "after"]);
                let msg = format!("unknown key `{k}` in a named-day window, {WINDOW_EXPECTED}");
                ctx.error(span, msg).help = hint.map(|h| format!("did you mean `{h}`?"));
                return None;
            }
            let Some(toml::Value::String(name)) = t.get("day") else {
                ctx.error(
                    span,
                    format!("a window without its `day`, {WINDOW_EXPECTED}"),
                );
                return None;
            };
            let mut days = |key: &str| match t.get(key) {
                None => Some(0),
                Some(toml::Value::Integer(n)) if (0..=MAX_WINDOW_DAYS).contains(n) => {
                    Some(*n as u32)
                }
                Some(other) => {
                    let msg = format!(
                        "`{key}` {other} is out of range, expected 0–{MAX_WINDOW_DAYS} days"
                    );
                    ctx.error(span.clone(), msg);
                    None
                }
            };
            (name.clone(), days("before")?, days("after")?)
        }
        other => {
            ctx.error(
                span,
                format!("invalid named day `{other}`, {WINDOW_EXPECTED}"),
            );
            return None;
        }
    };
    Some(Window {
        name,
        before,
        after,
        location: Some(ctx.location(span)),
    })
}

/// Every named day a campaign (or its slots) mentions that the festivals do not define, as
/// errors pointing at the name, with "did you mean".
pub fn check_names(c: &Campaign, calendar: &Calendar, festivals_file: &Path) -> Vec<Diagnostic> {
    let names = calendar.festivals.names();
    let specs = c
        .days
        .iter()
        .chain(c.slots.iter().filter_map(|s| s.days.as_ref()));
    let mut out = Vec::new();
    for w in specs.flat_map(DaySpec::windows) {
        if names.contains(&w.name.as_str()) {
            continue;
        }
        let msg = format!(
            "unknown named day `{}`: `{}` defines {}",
            w.name,
            festivals_file.display(),
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut d = Diagnostic::error(&c.file, msg);
        d.location = w.location.clone();
        d.help = Some(match did_you_mean(&w.name, names.iter().copied()) {
            Some(n) => format!("did you mean `{n}`?"),
            None => format!(
                "add a `[[day]]` named `{}` to `{}`",
                w.name,
                festivals_file.display()
            ),
        });
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::directory::Directory;
    use crate::schedule::parse_str;

    fn parse(days: &str) -> Result<crate::schedule::Campaign, Vec<Diagnostic>> {
        let src = format!(
            "name = \"x\"\nmessages = [\"a\"]\n[targets]\nall = true\n[[slots]]\ncron = \"0 8 * * *\"\n[days]\n{days}\n"
        );
        parse_str(Path::new("schedules/d.toml"), &src, &Directory::liangshan())
    }

    use super::*;

    #[test]
    fn windows_as_names_or_tables() {
        let c = parse("market = true\nwithin = [\"春节\", { day = \"火把节\", before = 7 }]\nexcept = [\"彝历新年\"]").unwrap();
        let d = c.days.unwrap();
        assert!(d.market);
        assert_eq!(
            (
                d.within[1].name.as_str(),
                d.within[1].before,
                d.within[1].after
            ),
            ("火把节", 7, 0)
        );
        assert!(check_names(&c_with(&d), &Calendar::default(), Path::new("f.toml")).is_empty());
    }

    fn c_with(d: &DaySpec) -> crate::schedule::Campaign {
        let mut c = parse("market = true").unwrap();
        c.days = Some(d.clone());
        c
    }

    #[test]
    fn round_robin_on_market_days_is_a_warning() {
        let src = "name = \"x\"\nmessages = [\"a\", \"b\"]\nrotation = \"round-robin\"\n[targets]\nall = true\n[[slots]]\ncron = \"0 8 * * *\"\n[days]\nmarket = true\n";
        let now = chrono::Utc::now();
        let (c, diags) = crate::schedule::parse_at(
            Path::new("schedules/r.toml"),
            src,
            &Directory::liangshan(),
            now,
        );
        assert!(c.is_some());
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(!diags[0].is_error() && diags[0].location.as_ref().unwrap().line == 3);
        assert!(
            diags[0]
                .help
                .as_deref()
                .unwrap()
                .contains("rotation = \"all\"")
        );
    }

    #[test]
    fn mistakes_point_at_their_line() {
        let errs =
            parse("within = [{ day = \"火把节\", befor = 7 }, 5]\nmarkets = true").unwrap_err();
        let lines: Vec<usize> = errs
            .iter()
            .map(|d| d.location.as_ref().unwrap().line)
            .collect();
        assert_eq!(lines, [8, 8, 9], "{errs:?}");
        assert_eq!(errs[0].help.as_deref(), Some("did you mean `before`?"));
        assert!(
            errs[2].message.contains("unknown key `markets`"),
            "{errs:?}"
        );
        let c = parse("within = [\"火把\"]").unwrap();
        let found = check_names(
            &c,
            &Calendar::default(),
            Path::new("schedules/festivals.toml"),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location.as_ref().unwrap().line, 8);
        assert!(
            found[0].message.contains("`火把节`"),
            "{}",
            found[0].message
        );
    }
}
