//! `audio/<id>/message.toml`: parsed in two stages — serde structs mirroring the file, then a
//! validated [`MessageMeta`] — with every problem reported as a [`Diagnostic`] at `file:line:col`.
//!
//! ```toml
//! title_zh = "警惕冒充公检法诈骗"
//! topic = "telecom-fraud"
//! valid_from = 2026-01-01          # optional TOML dates
//! source = "county public security bureau"
//! recorded_by = "outreach office"
//! [text]                           # the words spoken in each language
//! ii = "..."
//! zh = "..."
//! [stand_in]                       # optional: which clips are synthetic, and why
//! ii = "synthetic placeholder until staff record it"
//! [synth]                          # optional: the text a speech synthesiser was fed
//! zh = "jing3 ti4 ..."
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use crate::diag::Diagnostic;
use crate::lang::Lang;

/// The keys `message.toml` accepts at top level, for "did you mean".
const KEYS: &[&str] = &[
    "title_zh",
    "title_ii",
    "topic",
    "text",
    "valid_from",
    "valid_until",
    "source",
    "recorded_by",
    "stand_in",
    "synth",
];

/// Stage one: the file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessage {
    title_zh: Spanned<String>,
    title_ii: Option<Spanned<String>>,
    topic: Spanned<String>,
    text: Spanned<BTreeMap<Spanned<String>, Spanned<String>>>,
    valid_from: Option<Spanned<toml::value::Datetime>>,
    valid_until: Option<Spanned<toml::value::Datetime>>,
    source: Option<String>,
    recorded_by: Option<String>,
    #[serde(default)]
    stand_in: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    synth: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// Stage two: a validated `message.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageMeta {
    pub title_zh: String,
    pub title_ii: Option<String>,
    pub topic: String,
    pub text: BTreeMap<Lang, String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub source: Option<String>,
    pub recorded_by: Option<String>,
    /// Languages whose clip is a synthetic stand-in, with the note saying so.
    pub stand_in: BTreeMap<Lang, String>,
}

/// Parse `src`, the text of `file` (the path shown in diagnostics). All problems at once.
pub fn parse(file: &Path, src: &str) -> Result<MessageMeta, Vec<Diagnostic>> {
    let raw: RawMessage = toml::from_str(src).map_err(|e| vec![serde_error(file, src, &e)])?;
    let mut diags = Vec::new();
    let mut err = |range: std::ops::Range<usize>, msg: String| {
        diags.push(Diagnostic::error(file, msg).at(src, range));
    };
    for (field, value) in [("title_zh", &raw.title_zh), ("topic", &raw.topic)] {
        if value.get_ref().trim().is_empty() {
            err(value.span(), crate::t!("meta-empty", key = field));
        }
    }
    let text = lang_table(&raw.text.get_ref().clone(), "text", &mut err);
    for lang in Lang::ALL {
        if !text.contains_key(&lang) {
            err(
                raw.text.span(),
                crate::t!(
                    "meta-text-missing",
                    lang = lang.code(),
                    name = lang.name_zh()
                ),
            );
        }
    }
    let stand_in = lang_table(&raw.stand_in, "stand_in", &mut err);
    lang_table(&raw.synth, "synth", &mut err);
    let valid_from = raw.valid_from.as_ref().and_then(|d| date(d, &mut err));
    let valid_until = raw.valid_until.as_ref().and_then(|d| date(d, &mut err));
    if let (Some(from), Some(until), Some(span)) = (valid_from, valid_until, &raw.valid_until)
        && until < from
    {
        err(
            span.span(),
            crate::t!(
                "meta-until-before-from",
                until = until.to_string(),
                from = from.to_string()
            ),
        );
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(MessageMeta {
        title_zh: raw.title_zh.into_inner(),
        title_ii: raw.title_ii.map(Spanned::into_inner),
        topic: raw.topic.into_inner(),
        text,
        valid_from,
        valid_until,
        source: raw.source,
        recorded_by: raw.recorded_by,
        stand_in,
    })
}

/// A table keyed by language code, each value non-empty.
fn lang_table(
    table: &BTreeMap<Spanned<String>, Spanned<String>>,
    name: &str,
    err: &mut impl FnMut(std::ops::Range<usize>, String),
) -> BTreeMap<Lang, String> {
    let mut out = BTreeMap::new();
    for (key, value) in table {
        match key.get_ref().parse::<Lang>() {
            Ok(lang) if value.get_ref().trim().is_empty() => {
                let key = format!("{name}.{lang}");
                err(value.span(), crate::t!("meta-empty", key = key));
            }
            Ok(lang) => {
                out.insert(lang, value.get_ref().trim().to_string());
            }
            Err(e) => err(
                key.span(),
                crate::t!("meta-in-table", table = name, reason = e.to_string()),
            ),
        }
    }
    out
}

fn date(
    value: &Spanned<toml::value::Datetime>,
    err: &mut impl FnMut(std::ops::Range<usize>, String),
) -> Option<NaiveDate> {
    let dt = value.get_ref();
    let day = match (dt.date, dt.time) {
        (Some(d), None) => {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        _ => None,
    };
    if day.is_none() {
        err(value.span(), crate::t!("meta-date", text = dt.to_string()));
    }
    day
}

/// A serde/TOML error as a diagnostic, with "did you mean" for a misspelt key.
fn serde_error(file: &Path, src: &str, e: &toml::de::Error) -> Diagnostic {
    crate::diag::toml_error(file, src, e, KEYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
title_zh = "警惕冒充客服诈骗"
topic = "telecom-fraud"
valid_from = 2026-01-01
valid_until = 2026-12-31
[text]
ii = "nuo su hxa"
zh = "请注意"
[stand_in]
ii = "synthetic"
"#;

    fn file() -> &'static Path {
        Path::new("audio/x/message.toml")
    }

    #[test]
    fn parses_a_good_file() {
        let m = parse(file(), GOOD).unwrap();
        assert_eq!(m.title_zh, "警惕冒充客服诈骗");
        assert_eq!(m.text[&Lang::Zh], "请注意");
        assert_eq!(m.valid_until, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(
            m.stand_in.keys().copied().collect::<Vec<_>>(),
            vec![Lang::Ii]
        );
    }

    #[test]
    fn unknown_key_points_at_it_with_a_suggestion() {
        crate::locale::set_thread(crate::locale::Locale::En);
        let src = GOOD.replace("topic =", "topik =");
        let diags = parse(file(), &src).unwrap_err();
        let d = &diags[0];
        assert_eq!(d.message, "unknown key `topik`");
        assert_eq!(d.help.as_deref(), Some("did you mean `topic`?"));
        assert_eq!(d.location.as_ref().unwrap().line, 3);
        assert_eq!(d.position(), "audio/x/message.toml:3:1");
    }

    #[test]
    fn validation_reports_all_problems() {
        crate::locale::set_thread(crate::locale::Locale::En);
        let src = GOOD
            .replace("zh = \"请注意\"", "en = \"hello\"")
            .replace("valid_until = 2026-12-31", "valid_until = 2025-01-01");
        let diags = parse(file(), &src).unwrap_err();
        let msgs: Vec<_> = diags.iter().map(|d| d.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("unknown language `en`")),
            "{msgs:?}"
        );
        assert!(msgs.iter().any(|m| m.contains("no `zh` entry")), "{msgs:?}");
        assert!(
            msgs.iter().any(|m| m.contains("before `valid_from`")),
            "{msgs:?}"
        );
        let en = diags.iter().find(|d| d.message.contains("`en`")).unwrap();
        assert_eq!(en.location.as_ref().unwrap().line, 8);
    }

    #[test]
    fn a_time_is_not_a_date() {
        crate::locale::set_thread(crate::locale::Locale::En);
        let src = GOOD.replace("2026-01-01", "2026-01-01T08:00:00");
        let diags = parse(file(), &src).unwrap_err();
        assert!(
            diags[0].message.starts_with("expected a date"),
            "{:?}",
            diags[0]
        );
    }

    /// `audio/README.md` is the reference of this file: its example parses, and its table names
    /// exactly the keys the parser accepts.
    #[test]
    fn the_reference_matches_the_parser() {
        let doc = include_str!("../../audio/README.md");
        let example = doc
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("a toml example");
        let meta = parse(Path::new("audio/README.md"), example).unwrap();
        assert_eq!(meta.text.len(), 2);
        assert!(meta.valid_from.is_some() && meta.valid_until.is_some());
        let documented: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        assert_eq!(documented, KEYS, "the table's keys, in the parser's order");
        // The example uses every key, so the parser (refusing unknown keys) accepts them all.
        for key in KEYS {
            let used = example
                .lines()
                .any(|l| l.starts_with(&format!("{key} =")) || l == format!("[{key}]"));
            assert!(used, "the example does not use `{key}`");
        }
    }
}
