//! Range checks of the settings' values: a value out of range is an error at its position and
//! the key keeps its default. `[ebd]` is checked by [`EbdProfile::validate`], each further sender
//! code on its own.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::RawOverride;
use crate::catalog::gate::GateConfig;
use crate::diag::{Diagnostic, Location};
use crate::directory::PopulationOverride;
use crate::ebd::EbdProfile;
use crate::loudness::LoudnessConfig;

/// Finds where a key's value is written.
pub(super) struct Spans<'a> {
    table: &'a DeTable<'a>,
    src: &'a str,
    file: &'a Path,
}

impl<'a> Spans<'a> {
    pub(super) fn new(table: &'a DeTable<'a>, src: &'a str, file: &'a Path) -> Spans<'a> {
        Spans { table, src, file }
    }

    /// The span of `[section] key`'s value.
    fn of(&self, section: &str, key: &str) -> Option<Range<usize>> {
        match self.table.get(section).map(|v| v.get_ref()) {
            Some(DeValue::Table(t)) => t.get(key).map(|v| v.span()),
            _ => None,
        }
    }

    /// The span of item `index` of the array `[section] key`.
    fn item(&self, section: &str, key: &str, index: usize) -> Option<Range<usize>> {
        match self.table.get(section).map(|v| v.get_ref()) {
            Some(DeValue::Table(t)) => match t.get(key).map(|v| v.get_ref()) {
                Some(DeValue::Array(items)) => items.get(index).map(|v| v.span()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The span of a section's name (`ebd` of `[ebd]`).
    fn section(&self, section: &str) -> Option<Range<usize>> {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref() == section)
            .map(|(k, _)| k.span())
    }

    fn error(&self, span: Option<Range<usize>>, message: String) -> Diagnostic {
        let d = Diagnostic::error(self.file, message);
        match span {
            Some(span) => d.at(self.src, span),
            None => d,
        }
    }
}

/// One numeric key of a section: its name, where it lives, what is allowed, and the id of the
/// catalogue message saying what to write.
type Field<C, T> = (
    &'static str,
    fn(&mut C) -> &mut T,
    fn(T) -> bool,
    &'static str,
);

const GATE_NUMBERS: [Field<GateConfig, f64>; 8] = [
    (
        "max_duration_s",
        |g| &mut g.max_duration_s,
        positive,
        "expect-positive-seconds",
    ),
    (
        "min_duration_s",
        |g| &mut g.min_duration_s,
        non_negative,
        "expect-seconds",
    ),
    (
        "silence_dbfs",
        |g| &mut g.silence_dbfs,
        |x| x.is_finite() && x < 0.0,
        "expect-silence-level",
    ),
    (
        "max_silent_fraction",
        |g| &mut g.max_silent_fraction,
        fraction,
        "expect-share",
    ),
    (
        "clip_peak_dbfs",
        |g| &mut g.clip_peak_dbfs,
        |x| x.is_finite() && x <= 0.0,
        "expect-peak-level",
    ),
    (
        "clip_peak_fraction",
        |g| &mut g.clip_peak_fraction,
        fraction,
        "expect-share",
    ),
    (
        "min_lufs",
        |g| &mut g.min_lufs,
        |x| x > -70.0 && x < 0.0,
        "expect-min-lufs",
    ),
    (
        "pair_duration_ratio",
        |g| &mut g.pair_duration_ratio,
        |x| x.is_finite() && x >= 1.0,
        "expect-ratio",
    ),
];

const GATE_COUNTS: [Field<GateConfig, u64>; 2] = [
    (
        "clip_run_samples",
        |g| &mut g.clip_run_samples,
        |n| n >= 1,
        "expect-at-least-one",
    ),
    (
        "clip_peak_count",
        |g| &mut g.clip_peak_count,
        |n| n >= 1,
        "expect-at-least-one",
    ),
];

const LOUDNESS_NUMBERS: [Field<LoudnessConfig, f64>; 3] = [
    (
        "target_lufs",
        |l| &mut l.target_lufs,
        |x| x > -70.0 && x < 0.0,
        "expect-target-lufs",
    ),
    (
        "max_true_peak_dbtp",
        |l| &mut l.max_true_peak_dbtp,
        |x| x > -70.0 && x <= 0.0,
        "expect-true-peak",
    ),
    (
        "pair_tolerance_lu",
        |l| &mut l.pair_tolerance_lu,
        non_negative,
        "expect-lu",
    ),
];

fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

fn non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

fn fraction(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

/// Check `fields` of `[section]`; a value out of range is reported and its default put back.
fn check_fields<C: Default, T: Copy + std::fmt::Display>(
    section: &str,
    cfg: &mut C,
    fields: &[Field<C, T>],
    spans: &Spans<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut defaults = C::default();
    for (key, get, ok, expected) in fields {
        let value = get(cfg);
        if ok(*value) {
            continue;
        }
        let default = *get(&mut defaults);
        let message = crate::t!(
            "settings-out-of-range",
            key = *key,
            section = section,
            value = value.to_string(),
            expected = crate::t!(expected)
        );
        let help = crate::t!("settings-use-default", default = default.to_string());
        diags.push(spans.error(spans.of(section, key), message).with_help(help));
        *value = default;
    }
}

/// `[gate]`: durations positive and ordered, levels at most 0 dBFS, fractions in 0–1.
pub(super) fn gate(
    mut g: GateConfig,
    spans: &Spans<'_>,
    diags: &mut Vec<Diagnostic>,
) -> GateConfig {
    check_fields("gate", &mut g, &GATE_NUMBERS, spans, diags);
    check_fields("gate", &mut g, &GATE_COUNTS, spans, diags);
    if g.min_duration_s >= g.max_duration_s {
        let message = crate::t!(
            "settings-gate-durations",
            min = g.min_duration_s.to_string(),
            max = g.max_duration_s.to_string()
        );
        diags.push(spans.error(spans.of("gate", "min_duration_s"), message));
        let d = GateConfig::default();
        (g.min_duration_s, g.max_duration_s) = (d.min_duration_s, d.max_duration_s);
    }
    g
}

/// `[loudness]`: a target between −70 and 0 LUFS, a ceiling at most 0 dBTP, a tolerance ≥ 0.
pub(super) fn loudness(
    mut l: LoudnessConfig,
    spans: &Spans<'_>,
    diags: &mut Vec<Diagnostic>,
) -> LoudnessConfig {
    check_fields("loudness", &mut l, &LOUDNESS_NUMBERS, spans, diags);
    l
}

/// One `[[population]]` entry: people above zero and a source named, else left out.
pub(super) fn population(
    o: RawOverride,
    spans: &Spans<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(PopulationOverride, Location)> {
    let mut ok = true;
    if o.township.get_ref().trim().is_empty() {
        let message = crate::t!("population-township-empty");
        diags.push(spans.error(Some(o.township.span()), message));
        ok = false;
    }
    if *o.people.get_ref() == 0 {
        let message = crate::t!("population-people-zero");
        diags.push(spans.error(Some(o.people.span()), message));
        ok = false;
    }
    if o.source.get_ref().trim().is_empty() {
        let d = spans
            .error(Some(o.source.span()), crate::t!("population-source-empty"))
            .with_help(crate::t!("population-name-source"));
        diags.push(d);
        ok = false;
    }
    let at = Location::from_range(spans.src, o.township.span());
    ok.then(|| {
        let people = *o.people.get_ref();
        let township = o.township.into_inner();
        let source = o.source.into_inner();
        let o = PopulationOverride {
            township,
            people,
            source,
        };
        (o, at)
    })
}

/// `[ebd]`: a profile the id layouts accept, else every `[ebd]` default (reported at the key at
/// fault). A further sender code that is unreadable or repeated is reported at its item and left
/// out; the others are kept in order.
pub(super) fn ebd(mut p: EbdProfile, spans: &Spans<'_>, diags: &mut Vec<Diagnostic>) -> EbdProfile {
    let extras = std::mem::take(&mut p.extra_sender_ebrids);
    let first = p.validate().and_then(|()| p.sender());
    let mut senders = match first {
        Ok(sender) => vec![sender],
        Err(e) => {
            let at = spans.of("ebd", e.key()).or_else(|| spans.section("ebd"));
            let d = spans
                .error(at, crate::t!("settings-ebd", reason = e.to_string()))
                .with_help(crate::t!("settings-ebd-defaults"));
            diags.push(d);
            return EbdProfile::default();
        }
    };
    for (index, code) in extras.into_iter().enumerate() {
        match p.extra_sender(index, &code, &senders) {
            Ok(sender) => {
                senders.push(sender);
                p.extra_sender_ebrids.push(code);
            }
            Err(e) => {
                let at = spans.item("ebd", "extra_sender_ebrids", index);
                let help = crate::t!(
                    "settings-ebd-extra-left-out",
                    digits = p.id_format.ebrid_len()
                );
                let message = crate::t!("settings-ebd", reason = e.to_string());
                diags.push(spans.error(at, message).with_help(help));
            }
        }
    }
    p
}
