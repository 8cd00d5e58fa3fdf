//! Range checks of the settings' values: a value out of range is an error at its position and
//! the key keeps its default.

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::RawOverride;
use crate::catalog::gate::GateConfig;
use crate::diag::{Diagnostic, Location};
use crate::directory::PopulationOverride;
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

    fn error(&self, span: Option<Range<usize>>, message: String) -> Diagnostic {
        let d = Diagnostic::error(self.file, message);
        match span {
            Some(span) => d.at(self.src, span),
            None => d,
        }
    }
}

/// Check one number of `section`; out of range, report it and put the default back.
fn number<T: PartialOrd + Copy + std::fmt::Display>(
    spans: &Spans<'_>,
    diags: &mut Vec<Diagnostic>,
    (section, key): (&str, &str),
    (value, default): (&mut T, T),
    ok: impl Fn(T) -> bool,
    expected: &str,
) {
    if ok(*value) {
        return;
    }
    let message = format!("`{key}` in `[{section}]` is `{value}`: expected {expected}");
    diags.push(
        spans
            .error(spans.of(section, key), message)
            .with_help(format!("leave it out for the default, `{default}`")),
    );
    *value = default;
}

fn fraction(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

/// `[gate]`: durations positive and ordered, levels at most 0 dBFS, fractions in 0–1.
pub(super) fn gate(
    mut g: GateConfig,
    spans: &Spans<'_>,
    diags: &mut Vec<Diagnostic>,
) -> GateConfig {
    let d = GateConfig::default();
    let s = "gate";
    let mut f = |key, value: &mut f64, default, ok: fn(f64) -> bool, expected| {
        number(spans, diags, (s, key), (value, default), ok, expected);
    };
    f(
        "max_duration_s",
        &mut g.max_duration_s,
        d.max_duration_s,
        |x| x.is_finite() && x > 0.0,
        "a positive number of seconds",
    );
    f(
        "min_duration_s",
        &mut g.min_duration_s,
        d.min_duration_s,
        |x| x.is_finite() && x >= 0.0,
        "zero or more seconds",
    );
    f(
        "silence_dbfs",
        &mut g.silence_dbfs,
        d.silence_dbfs,
        |x| x.is_finite() && x < 0.0,
        "a level below 0 dBFS, such as `-45`",
    );
    f(
        "max_silent_fraction",
        &mut g.max_silent_fraction,
        d.max_silent_fraction,
        fraction,
        "a share between 0 and 1",
    );
    f(
        "clip_peak_dbfs",
        &mut g.clip_peak_dbfs,
        d.clip_peak_dbfs,
        |x| x.is_finite() && x <= 0.0,
        "a level at or below 0 dBFS",
    );
    f(
        "clip_peak_fraction",
        &mut g.clip_peak_fraction,
        d.clip_peak_fraction,
        fraction,
        "a share between 0 and 1",
    );
    f(
        "pair_duration_ratio",
        &mut g.pair_duration_ratio,
        d.pair_duration_ratio,
        |x| x.is_finite() && x >= 1.0,
        "a ratio of 1 or more",
    );
    let at_least_one = |x: u64| x >= 1;
    number(
        spans,
        diags,
        (s, "clip_run_samples"),
        (&mut g.clip_run_samples, d.clip_run_samples),
        at_least_one,
        "at least 1",
    );
    number(
        spans,
        diags,
        (s, "clip_peak_count"),
        (&mut g.clip_peak_count, d.clip_peak_count),
        at_least_one,
        "at least 1",
    );
    if g.min_duration_s >= g.max_duration_s {
        let message = format!(
            "`min_duration_s` in `[gate]` ({}) must be below `max_duration_s` ({})",
            g.min_duration_s, g.max_duration_s
        );
        diags.push(spans.error(spans.of(s, "min_duration_s"), message));
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
    let d = LoudnessConfig::default();
    let s = "loudness";
    let mut f = |key, value: &mut f64, default, ok: fn(f64) -> bool, expected| {
        number(spans, diags, (s, key), (value, default), ok, expected);
    };
    f(
        "target_lufs",
        &mut l.target_lufs,
        d.target_lufs,
        |x| x > -70.0 && x < 0.0,
        "a loudness between -70 and 0 LUFS, such as `-16`",
    );
    f(
        "max_true_peak_dbtp",
        &mut l.max_true_peak_dbtp,
        d.max_true_peak_dbtp,
        |x| x > -70.0 && x <= 0.0,
        "a ceiling between -70 and 0 dBTP, such as `-1`",
    );
    f(
        "pair_tolerance_lu",
        &mut l.pair_tolerance_lu,
        d.pair_tolerance_lu,
        |x| x.is_finite() && x >= 0.0,
        "zero or more LU",
    );
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
        diags.push(spans.error(
            Some(o.township.span()),
            "`township` must not be empty".into(),
        ));
        ok = false;
    }
    if *o.people.get_ref() == 0 {
        let message = "`people` must be above 0".to_string();
        diags.push(spans.error(Some(o.people.span()), message));
        ok = false;
    }
    if o.source.get_ref().trim().is_empty() {
        let d = spans
            .error(Some(o.source.span()), "`source` must not be empty".into())
            .with_help("say where the figure comes from, e.g. `乡政府 2024 户籍统计`");
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
