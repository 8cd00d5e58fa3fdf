//! The first parsing stage of a campaign file: plain serde structs mirroring the TOML, every
//! value validation may reject kept with its byte span, plus the syntax and unknown-key pass
//! that reports all such mistakes of a file at once.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A list of strings, each with its span, the list with its own.
pub type SpannedList = Spanned<Vec<Spanned<String>>>;

/// A campaign file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCampaign {
    pub id: Option<Spanned<String>>,
    pub name: Option<Spanned<String>>,
    pub timezone: Option<Spanned<String>>,
    /// A TOML date (`2026-12-01`) or a string holding one.
    pub valid_from: Option<Spanned<toml::Value>>,
    pub valid_until: Option<Spanned<toml::Value>>,
    pub messages: Option<SpannedList>,
    pub rotation: Option<Spanned<String>>,
    pub order: Option<SpannedList>,
    pub allow_single_language: Option<bool>,
    pub gap_s: Option<Spanned<f64>>,
    pub repeats: Option<Spanned<i64>>,
    pub priority: Option<Spanned<i64>>,
    pub quiet_hours: Option<SpannedList>,
    pub targets: Option<Spanned<RawTargets>>,
    pub slots: Option<Spanned<Vec<Spanned<RawSlot>>>>,
    /// Township (code or name) → quiet hours replacing the campaign's there.
    pub quiet_overrides: Option<BTreeMap<Spanned<String>, SpannedList>>,
    /// Which days the campaign runs on: market days, around or outside named days.
    pub days: Option<Spanned<RawDays>>,
}

/// `[days]` of a campaign, or a slot's `days = { … }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDays {
    pub market: Option<Spanned<bool>>,
    /// Named days, each `"火把节"` or `{ day = "火把节", before = 7, after = 0 }`.
    pub within: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    pub except: Option<Spanned<Vec<Spanned<toml::Value>>>>,
}

/// `[targets]`: which townships hear the campaign.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargets {
    pub all: Option<Spanned<bool>>,
    pub counties: Option<SpannedList>,
    pub townships: Option<SpannedList>,
    pub exclude_counties: Option<SpannedList>,
    pub exclude_townships: Option<SpannedList>,
    /// Villages (村) and communities (社区) by 12-digit code, name or `township/village`.
    pub villages: Option<SpannedList>,
    pub exclude_villages: Option<SpannedList>,
}

/// One `[[slots]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlot {
    pub cron: Option<Spanned<String>>,
    pub label: Option<String>,
    pub days: Option<Spanned<RawDays>>,
}

/// Keys accepted at the top level of a campaign file.
pub const CAMPAIGN_KEYS: [&str; 17] = [
    "id",
    "name",
    "timezone",
    "valid_from",
    "valid_until",
    "messages",
    "rotation",
    "order",
    "allow_single_language",
    "gap_s",
    "repeats",
    "priority",
    "quiet_hours",
    "targets",
    "slots",
    "quiet_overrides",
    "days",
];
/// Keys accepted in `[targets]`.
pub const TARGET_KEYS: [&str; 7] = [
    "all",
    "counties",
    "townships",
    "exclude_counties",
    "exclude_townships",
    "villages",
    "exclude_villages",
];
/// Keys accepted in each `[[slots]]` entry.
pub const SLOT_KEYS: [&str; 3] = ["cron", "label", "days"];
/// Keys accepted in `[days]` and a slot's `days`.
pub const DAYS_KEYS: [&str; 3] = ["market", "within", "except"];

/// A problem found by the first stage: a message, a span, and perhaps a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawError {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
    /// For an unknown key or a wrong value: the table it was dropped from (`campaign`,
    /// `[targets]`, `[[slots]]`), so "missing key" complaints there can be held back.
    pub dropped_from: Option<&'static str>,
}

/// Parse a campaign file. A syntax error stops at the first one (what follows it is mostly
/// the parser's confusion); otherwise every unknown key is reported.
pub fn parse(src: &str) -> Result<RawCampaign, Vec<RawError>> {
    match parse_lenient(src) {
        (Some(raw), errors) if errors.is_empty() => Ok(raw),
        (_, errors) => Err(errors),
    }
}

/// Like [`parse`], but unknown keys and values of the wrong type are reported and dropped, and
/// what remains is handed back so the validation still checks everything else.
pub fn parse_lenient(src: &str) -> (Option<RawCampaign>, Vec<RawError>) {
    let (mut table, syntax) = DeTable::parse_recoverable(src);
    if let Some(first) = syntax
        .iter()
        .min_by_key(|e| e.span().map_or(0, |s| s.start))
    {
        return (None, vec![from_toml(first, src)]);
    }
    let mut errors = Vec::new();
    unknown_keys(table.get_mut(), &mut errors);
    // serde stops at the first wrong value: report it, drop its key, try again.
    let mut raw = None;
    for _ in 0..MAX_TYPE_ERRORS {
        match RawCampaign::deserialize(toml::de::Deserializer::from(table.clone())) {
            Ok(r) => {
                raw = Some(r);
                break;
            }
            Err(e) => {
                let mut error = from_toml(&e, src);
                let dropped = e
                    .span()
                    .and_then(|at| drop_key_at(table.get_mut(), &at, "campaign"));
                error.dropped_from = dropped;
                errors.push(error);
                if dropped.is_none() {
                    break;
                }
            }
        }
    }
    errors.sort_by_key(|e| e.span.start);
    (raw, errors)
}

/// How many wrong values of one file are reported before giving up.
const MAX_TYPE_ERRORS: usize = 32;

/// Remove the innermost key whose value holds `at` (a `[table]`'s own span is only its
/// header, so nested tables are searched first); the name of its table if one was removed.
fn drop_key_at(
    table: &mut DeTable<'_>,
    at: &Range<usize>,
    name: &'static str,
) -> Option<&'static str> {
    let keys: Vec<String> = table.keys().map(|k| k.get_ref().to_string()).collect();
    for key in &keys {
        let inner = match key.as_str() {
            "targets" => "[targets]",
            "slots" => "[[slots]]",
            "days" => "[days]",
            _ => name,
        };
        let found = match table.get_mut(key.as_str()).map(Spanned::get_mut) {
            Some(DeValue::Table(t)) => drop_key_at(t, at, inner),
            Some(DeValue::Array(items)) => items.iter_mut().find_map(|item| match item.get_mut() {
                DeValue::Table(t) => drop_key_at(t, at, inner),
                _ => None,
            }),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    let holds = |span: Range<usize>| span.start <= at.start && at.end <= span.end;
    let key = keys
        .into_iter()
        .find(|k| table.get(k.as_str()).is_some_and(|v| holds(v.span())))?;
    table.remove(key.as_str()).map(|_| name)
}

/// Campaign words first; [`crate::diag::plain_serde`] does the rest.
const SERDE_WORDS: [(&str, &str); 4] = [
    (
        "expected a sequence",
        "expected a list such as `[\"a\", \"b\"]`",
    ),
    ("expected struct RawTargets", "expected a table `[targets]`"),
    ("expected struct RawSlot", "expected a `[[slots]]` table"),
    ("expected a map", "expected a table"),
];

fn from_toml(e: &toml::de::Error, src: &str) -> RawError {
    let mut message = e.message().trim().trim_end_matches('.').to_string();
    // serde names Rust types; say what to write instead.
    for (rust, plain) in SERDE_WORDS {
        message = message.replace(rust, plain);
    }
    let message = crate::diag::plain_serde(&message);
    RawError {
        message,
        span: e.span().unwrap_or(0..src.len().min(1)),
        help: None,
        dropped_from: None,
    }
}

/// Walk the document; report and remove every key no table accepts, with "did you mean".
fn unknown_keys(root: &mut DeTable<'_>, errors: &mut Vec<RawError>) {
    check_table(root, &CAMPAIGN_KEYS, "campaign", errors);
    if let Some(DeValue::Table(t)) = root.get_mut("targets").map(Spanned::get_mut) {
        check_table(t, &TARGET_KEYS, "[targets]", errors);
    }
    if let Some(DeValue::Table(t)) = root.get_mut("days").map(Spanned::get_mut) {
        check_table(t, &DAYS_KEYS, "[days]", errors);
    }
    if let Some(DeValue::Array(slots)) = root.get_mut("slots").map(Spanned::get_mut) {
        for slot in slots.iter_mut() {
            if let DeValue::Table(t) = slot.get_mut() {
                check_table(t, &SLOT_KEYS, "[[slots]]", errors);
                if let Some(DeValue::Table(d)) = t.get_mut("days").map(Spanned::get_mut) {
                    check_table(d, &DAYS_KEYS, "`days`", errors);
                }
            }
        }
    }
}

fn check_table(
    table: &mut DeTable<'_>,
    known: &[&str],
    what: &'static str,
    errors: &mut Vec<RawError>,
) {
    let unknown: Vec<(String, Range<usize>)> = table
        .keys()
        .filter(|k| !known.contains(&k.get_ref().as_ref()))
        .map(|k| (k.get_ref().to_string(), k.span()))
        .collect();
    let list = known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    for (name, span) in unknown {
        table.remove(name.as_str());
        errors.push(RawError {
            message: format!("unknown key `{name}` in {what}, expected one of {list}"),
            span,
            help: crate::diag::did_you_mean(&name, known.iter().copied())
                .map(|k| format!("did you mean `{k}`?")),
            dropped_from: Some(what),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
id = "x"
name = "x"
timezone = "Asia/Shanghai"
valid_from = 2026-01-01
valid_until = "2027-01-01"
messages = ["a"]
rotation = "all"
order = ["ii", "zh"]
allow_single_language = false
gap_s = 2
repeats = 1
priority = 0
quiet_hours = ["22:00-06:30"]
quiet_overrides = { "新城镇" = [] }

[targets]
all = true
counties = []
townships = []
exclude_counties = []
exclude_townships = []

[[slots]]
cron = "0 8 * * *"
label = "morning"
"#;

    #[test]
    fn every_listed_key_is_accepted() {
        let raw = parse(FULL).unwrap();
        assert_eq!(raw.gap_s.unwrap().into_inner(), 2.0);
        let slots = raw.slots.unwrap().into_inner();
        assert_eq!(
            slots[0].get_ref().cron.as_ref().unwrap().get_ref(),
            "0 8 * * *"
        );
        let overrides = raw.quiet_overrides.unwrap();
        let (key, value) = overrides.iter().next().unwrap();
        assert_eq!(&FULL[key.span()], "\"新城镇\"");
        assert!(value.get_ref().is_empty());
    }

    #[test]
    fn reports_every_unknown_key_with_a_hint() {
        let src = "timezon = \"Asia/Shanghai\"\n[targets]\nal = true\n[[slots]]\ncorn = \"x\"\n";
        let errors = parse(src).unwrap_err();
        let spans: Vec<&str> = errors.iter().map(|e| &src[e.span.clone()]).collect();
        assert_eq!(spans, ["timezon", "al", "corn"]);
        assert_eq!(errors[0].help.as_deref(), Some("did you mean `timezone`?"));
        assert_eq!(errors[2].help.as_deref(), Some("did you mean `cron`?"));
    }

    #[test]
    fn reports_every_wrong_value_and_keeps_the_rest() {
        let src = "name = 1\nmessages = [\"a\"]\n[targets]\nall = \"yes\"\n[[slots]]\ncron = 5\n";
        let (raw, errors) = parse_lenient(src);
        let at: Vec<&str> = errors.iter().map(|e| &src[e.span.clone()]).collect();
        assert_eq!(at, ["1", "\"yes\"", "5"]);
        let from: Vec<_> = errors.iter().map(|e| e.dropped_from).collect();
        assert_eq!(
            from,
            [Some("campaign"), Some("[targets]"), Some("[[slots]]")]
        );
        assert_eq!(
            errors[1].message,
            "wrong type: string \"yes\", expected a boolean"
        );
        let raw = raw.unwrap();
        assert_eq!(raw.messages.unwrap().get_ref().len(), 1);
        assert!(raw.name.is_none() && raw.targets.unwrap().get_ref().all.is_none());
    }

    #[test]
    fn reports_syntax_errors_with_spans() {
        let src = "name = \"x\"\nmessages = [\"a\"\n[targets]\nall = tru\n";
        let errors = parse(src).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].span.start, src.find("[targets]").unwrap());
    }
}
