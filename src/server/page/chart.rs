//! The page's chart: people reached in each county against the county's population, one
//! horizontal bar per county of the directory (targeted or not), sorted by the share reached,
//! with a labelled people axis, tick numbers and each bar's figures written beside it. Inline
//! SVG drawn on the server: no script, no outside asset.

use std::fmt::Write as _;

use super::esc;
use crate::coverage::Report;
use crate::directory::Directory;
use crate::reach::{percent, share, thousands as num};
use crate::t;

/// One county's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub code: String,
    pub name: String,
    /// The county's whole population: the bar's full length.
    pub people: u64,
    /// People reached in the period (the county row's `population_reached`).
    pub reached: u64,
    /// Whether any township of the county was targeted in the period.
    pub targeted: bool,
}

impl Bar {
    fn share(&self) -> f64 {
        share(self.reached, self.people).unwrap_or(0.0)
    }
}

/// Every county of the directory with its people reached in `by_county` (a report grouped by
/// county), highest share reached first; ties by population, then code.
pub fn bars(directory: &Directory, by_county: &Report) -> Vec<Bar> {
    let mut bars: Vec<Bar> = directory
        .counties()
        .iter()
        .map(|c| {
            let row = by_county.rows.iter().find(|r| r.code == c.code);
            Bar {
                code: c.code.clone(),
                name: c.name.clone(),
                people: c.population.people,
                reached: row.map_or(0, |r| r.figures.reach.population_reached),
                targeted: row.is_some_and(|r| r.figures.reach.townships_targeted > 0),
            }
        })
        .collect();
    bars.sort_by(|a, b| {
        b.share()
            .total_cmp(&a.share())
            .then(b.people.cmp(&a.people))
            .then(a.code.cmp(&b.code))
    });
    bars
}

/// A tick step of 1, 2 or 5 × 10ⁿ giving at most six intervals up to `max`, and the axis end
/// (the first multiple of the step at or above `max`).
pub fn ticks(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let mut magnitude = 1u64;
    loop {
        for m in [1, 2, 5] {
            let step = magnitude.saturating_mul(m);
            if max.div_ceil(step) <= 6 {
                return (step, max.div_ceil(step).saturating_mul(step));
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

const WIDTH: f64 = 820.0;
/// Left of the bars: the county names, right-aligned.
const LABELS: f64 = 130.0;
const BARS: f64 = 420.0;
const ROW: f64 = 26.0;
const TOP: f64 = 44.0;
const REACHED: &str = "#1f5fa8";
const POPULATION: &str = "#d5dde6";

/// The chart as an `<svg>` element, its texts from the catalogue in the current language.
pub fn chart(bars: &[Bar]) -> String {
    let (step, end) = ticks(bars.iter().map(|b| b.people).max().unwrap_or(0));
    let x = |v: u64| LABELS + v as f64 / end as f64 * BARS;
    let base = TOP + bars.len() as f64 * ROW;
    let height = base + 56.0;
    let heading = esc(&t!("page-chart-heading"));
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"reach-chart\" width=\"{WIDTH}\" \
         height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"{heading}\" font-size=\"13\">"
    );
    legend(&mut svg);
    let _ = write!(
        svg,
        "<text class=\"axis-y\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-weight=\"bold\">{}</text>",
        LABELS - 8.0,
        TOP - 8.0,
        esc(&t!("page-chart-axis-y"))
    );
    for tick in (0..=end).step_by(step as usize) {
        let _ = write!(
            svg,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{TOP}\" y2=\"{1:.1}\" stroke=\"#eee\"/>\
             <text class=\"tick\" x=\"{0:.1}\" y=\"{2:.1}\" text-anchor=\"middle\" font-size=\"11\">{3}</text>",
            x(tick),
            base + 4.0,
            base + 18.0,
            num(tick)
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        bar_row(&mut svg, bar, TOP + i as f64 * ROW, &x);
    }
    let _ = write!(
        svg,
        "<line x1=\"{LABELS}\" x2=\"{LABELS}\" y1=\"{TOP}\" y2=\"{base}\" stroke=\"#555\"/>\
         <line x1=\"{LABELS}\" x2=\"{:.1}\" y1=\"{base}\" y2=\"{base}\" stroke=\"#555\"/>\
         <text class=\"axis-x\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text></svg>",
        LABELS + BARS,
        LABELS + BARS / 2.0,
        base + 40.0,
        esc(&t!("page-chart-axis-x"))
    );
    svg
}

fn legend(svg: &mut String) {
    let items = [
        (POPULATION, t!("page-chart-legend-population")),
        (REACHED, t!("page-chart-legend-reached")),
    ];
    for (i, (color, text)) in items.iter().enumerate() {
        let left = LABELS + i as f64 * 180.0;
        let _ = write!(
            svg,
            "<rect x=\"{left}\" y=\"6\" width=\"14\" height=\"14\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"18\">{}</text>",
            left + 20.0,
            esc(text)
        );
    }
}

fn bar_row(svg: &mut String, bar: &Bar, top: f64, x: &impl Fn(u64) -> f64) {
    let mid = top + ROW / 2.0;
    let mut value = t!(
        "page-chart-value",
        reached = num(bar.reached),
        people = num(bar.people),
        pct = percent(bar.share())
    );
    if !bar.targeted {
        value = format!("{value} — {}", t!("page-chart-not-targeted"));
    }
    let value = esc(&value);
    let _ = write!(
        svg,
        "<g class=\"bar\" data-code=\"{code}\"><title>{name}: {value}</title>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{name}</text>\
         <rect class=\"population\" x=\"{LABELS}\" y=\"{:.1}\" width=\"{:.1}\" height=\"16\" fill=\"{POPULATION}\"/>\
         <rect class=\"reached\" x=\"{LABELS}\" y=\"{:.1}\" width=\"{:.1}\" height=\"16\" fill=\"{REACHED}\"/>\
         <text class=\"value\" x=\"{:.1}\" y=\"{:.1}\">{value}</text></g>",
        LABELS - 8.0,
        mid + 4.5,
        mid - 8.0,
        x(bar.people) - LABELS,
        mid - 8.0,
        x(bar.reached) - LABELS,
        x(bar.people) + 6.0,
        mid + 4.5,
        code = esc(&bar.code),
        name = esc(&bar.name),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_largest_bar() {
        assert_eq!(ticks(0), (1, 1));
        assert_eq!(ticks(7), (2, 8));
        assert_eq!(ticks(1_000), (200, 1_000));
        assert_eq!(ticks(1_001), (200, 1_200));
        assert_eq!(ticks(955_000), (200_000, 1_000_000));
    }

    fn bar(code: &str, people: u64, reached: u64) -> Bar {
        Bar {
            code: code.into(),
            name: format!("县{code}"),
            people,
            reached,
            targeted: reached > 0,
        }
    }

    #[test]
    fn bars_are_drawn_to_scale_with_their_figures_and_axis() {
        let svg = crate::locale::scoped(crate::locale::Locale::Zh, || {
            chart(&[bar("1", 400_000, 100_000), bar("2", 200_000, 0)])
        });
        // The axis ends at 400,000: the first county's bar is the full 420 px, a quarter reached.
        assert!(svg.contains("class=\"population\" x=\"130\" y=\"49.0\" width=\"420.0\""));
        assert!(svg.contains("class=\"reached\" x=\"130\" y=\"49.0\" width=\"105.0\""));
        assert!(svg.contains("100,000 / 400,000（25.0%）"), "{svg}");
        assert!(svg.contains("0 / 200,000（0.0%） — 未列入目标"), "{svg}");
        for tick in ["0", "100,000", "200,000", "300,000", "400,000"] {
            assert!(svg.contains(&format!(">{tick}</text>")), "tick {tick}");
        }
        assert!(svg.contains(">人口（人）</text>") && svg.contains(">县市</text>"));
    }
}
