//! Calendars (pure): day rules for market days (赶场), the lunar calendar, named days
//! (festivals by rule or announced holiday block), and which days a campaign runs on.
//!
//! - [`lunar`] — lunar dates (`icu_calendar`'s `ChineseTraditional`) and earthly branches;
//! - [`rule`] — the day rules `daily`, `weekdays`, `digits`, `parity`, `every`, `branch`, `dates`;
//! - [`festival`] — named days by rule and announced blocks (`schedules/festivals.toml`);
//! - [`markets`] — each township's market rule (`schedules/markets.toml`);
//! - [`days`] — a campaign's or slot's `days`: market days only, within or outside named days.

use std::path::Path;

use crate::diag::{Diagnostic, display_path};
use crate::directory::Directory;
use crate::schedule::ctx::Ctx;

pub mod days;
pub mod festival;
mod festivals_toml;
pub mod lunar;
mod market_rule;
pub mod markets;
pub mod rule;

pub use days::{DaySpec, Window};
pub use festival::{Festivals, Occurrence};
pub use markets::{Market, Markets};
pub use rule::{Cal, DayInfo, DayRule, ShortMonth};

/// Where the named days live, relative to the project root.
pub const FESTIVALS_FILE: &str = "schedules/festivals.toml";
/// Where the market days live, relative to the project root.
pub const MARKETS_FILE: &str = "schedules/markets.toml";
/// The festivals shipped with shengbo, used when a project has no `festivals.toml`.
const SHIPPED_FESTIVALS: &str = include_str!("../../schedules/festivals.toml");

/// The named days and the market days every campaign is planned against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub festivals: Festivals,
    pub markets: Markets,
}

impl Calendar {
    /// The shipped festivals and no market days, parsed once.
    pub fn shipped() -> std::sync::Arc<Calendar> {
        static SHIPPED: std::sync::LazyLock<std::sync::Arc<Calendar>> =
            std::sync::LazyLock::new(|| std::sync::Arc::new(Calendar::default()));
        std::sync::Arc::clone(&SHIPPED)
    }
}

impl Default for Calendar {
    /// The shipped festivals and no market days.
    fn default() -> Self {
        Calendar {
            festivals: parse_festivals(Path::new(FESTIVALS_FILE), SHIPPED_FESTIVALS)
                .0
                .expect("the shipped festivals file is valid"),
            markets: Markets::default(),
        }
    }
}

/// Parse a festivals file: the named days when it has no errors, and every diagnostic.
pub fn parse_festivals(file: &Path, src: &str) -> (Option<Festivals>, Vec<Diagnostic>) {
    let mut ctx = Ctx::new(file, src);
    let out = festivals_toml::parse(&mut ctx);
    (out, ctx.diags)
}

/// Parse a markets file against the directory.
pub fn parse_markets(
    file: &Path,
    src: &str,
    dir: &Directory,
) -> (Option<Markets>, Vec<Diagnostic>) {
    let mut ctx = Ctx::new(file, src);
    let out = markets::parse(&mut ctx, dir);
    (out, ctx.diags)
}

/// Load `schedules/festivals.toml` (the shipped one when absent) and `schedules/markets.toml`
/// (none when absent). A file with errors is reported and replaced by the default.
pub fn load(root: &Path, dir: &Directory) -> (Calendar, Vec<Diagnostic>) {
    let mut cal = Calendar::default();
    let mut diags = Vec::new();
    let fest = root.join(FESTIVALS_FILE);
    if let Some(src) = read(root, &fest, &mut diags) {
        let (found, d) = parse_festivals(&display_path(root, &fest), &src);
        diags.extend(d);
        cal.festivals = found.unwrap_or(cal.festivals);
    }
    let markets = root.join(MARKETS_FILE);
    if let Some(src) = read(root, &markets, &mut diags) {
        let (found, d) = parse_markets(&display_path(root, &markets), &src, dir);
        diags.extend(d);
        cal.markets = found.unwrap_or_default();
    }
    (cal, diags)
}

/// A calendar file as its serde structs; a syntax error or unknown key reported in `ctx`.
fn from_toml<T: serde::de::DeserializeOwned>(ctx: &mut Ctx<'_>, keys: &[&str]) -> Option<T> {
    match toml::from_str(ctx.src) {
        Ok(r) => Some(r),
        Err(e) => {
            let d = crate::diag::toml_error(ctx.file, ctx.src, &e, keys);
            ctx.diags.push(d);
            None
        }
    }
}

fn read(root: &Path, path: &Path, diags: &mut Vec<Diagnostic>) -> Option<String> {
    if !path.exists() {
        return None;
    }
    match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) => {
            let shown = display_path(root, path);
            diags.push(Diagnostic::error(
                &shown,
                format!("cannot read `{}`: {e}", shown.display()),
            ));
            None
        }
    }
}
