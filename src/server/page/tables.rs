//! The page's tables: totals with their denominators, rows with township drill-down, the
//! townships not reached with their reasons, failures and endpoint health. Texts from the
//! catalogue in the current language; everything from the ledger escaped.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{esc, local};
use crate::coverage::{By, FailureLine, Figures, Report, Row};
use crate::lang::Lang;
use crate::ledger::{CircuitState, DeliveryState};
use crate::reach::{percentage, thousands as num};
use crate::server::state::EndpointStatus;
use crate::t;
use crate::transport::township_of;

fn pct(p: Option<f64>) -> String {
    percentage(p, "—")
}

fn figure_cells(f: &Figures) -> String {
    let failures: u32 = f.failures.values().sum();
    let r = &f.reach;
    format!(
        "<td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        r.townships_reached,
        r.townships_targeted,
        num(r.population_targeted),
        num(r.population_reached),
        num(r.population_played),
        num(r.population_unreported),
        pct(f.pct_targeted_reached),
        pct(f.pct_targeted_played),
        pct(f.pct_area_reached),
        failures
    )
}

/// Header cells, each from the catalogue.
fn head(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("<th>{}</th>", esc(&t!(*id))))
        .collect()
}

const FIGURES: [&str; 9] = [
    "page-col-townships",
    "page-col-targeted",
    "page-col-reached",
    "page-col-played",
    "page-col-unreported",
    "page-col-pct-targeted",
    "page-col-pct-played",
    "page-col-pct-area",
    "page-col-failures",
];

pub fn totals(out: &mut String, r: &Report, note: Option<&str>) {
    let t = &r.totals;
    let _ = write!(
        out,
        "<section id=\"totals\"><h2>{}</h2>",
        esc(&t!("page-totals"))
    );
    if let Some(note) = note {
        let _ = write!(out, "<p class=\"note\">{}</p>", esc(note));
    }
    let period = t!(
        "page-period",
        from = local(r.query.from),
        to = local(r.query.to),
        runs = r.runs
    );
    let _ = write!(out, "<p id=\"period\">{}</p>", esc(&period));
    if r.runs == 0 {
        let _ = write!(
            out,
            "<p id=\"empty\" class=\"empty\"><strong>{}</strong><br>{}</p></section>",
            esc(&t!("page-empty")),
            esc(&t!("page-empty-hint"))
        );
        return;
    }
    let _ = write!(
        out,
        "<table class=\"num\"><tr>{}{}</tr><tr><td>{}</td>{}</tr></table><p class=\"small\">{}</p></section>",
        head(&["page-scope"]),
        head(&FIGURES),
        esc(&t!("page-prefecture", people = num(t.population_area))),
        figure_cells(t),
        esc(&t!(
            "page-denominators",
            estimated = t.reach.townships_estimated
        ))
    );
}

pub fn rows(out: &mut String, r: &Report) {
    let title = match r.query.by {
        By::County => "page-by-county",
        By::Township => "page-by-township",
        By::Village => "page-by-village",
    };
    let _ = write!(out, "<section id=\"rows\"><h2>{}</h2>", esc(&t!(title)));
    for row in &r.rows {
        row_html(out, row);
    }
    out.push_str("</section>");
}

fn row_html(out: &mut String, row: &Row) {
    let summary = t!(
        "page-row-summary",
        code = row.code.as_str(),
        name = row.name.as_str(),
        pct = pct(row.figures.pct_targeted_reached)
    );
    let _ = write!(
        out,
        "<details data-code=\"{}\"><summary>{}</summary><table class=\"num\"><tr>{}{}</tr>\
         <tr><td>{}</td>{}</tr>",
        esc(&row.code),
        esc(&summary),
        head(&["page-col-name"]),
        head(&FIGURES),
        esc(&row.name),
        figure_cells(&row.figures)
    );
    for t in &row.townships {
        let _ = write!(
            out,
            "<tr class=\"township\"><td>{} {}</td>{}</tr>",
            esc(&t.code),
            esc(&t.name),
            figure_cells(&t.figures)
        );
    }
    out.push_str("</table></details>");
}

/// Whether a township row (whole or in part, through its villages) has something targeted
/// that was not reached.
fn unreached(t: &Row) -> bool {
    let r = &t.figures.reach;
    r.townships_reached < r.townships_targeted || r.villages_reached < r.villages_targeted
}

/// Why `township` was not reached: each distinct state and reason of the failures that touch
/// it or its villages, or that nothing confirmed it.
fn reasons(township: &str, r: &Report) -> String {
    let found: BTreeSet<String> = r
        .failures
        .iter()
        .chain(&r.cancelled_pairs)
        .filter(|f| f.row.townships.iter().any(|c| township_of(c) == township))
        .map(|f| match &f.row.reason {
            Some(reason) => format!("{}: {reason}", state_name(&f.row.state)),
            None => state_name(&f.row.state),
        })
        .collect();
    if found.is_empty() {
        return t!("page-unreached-pending");
    }
    found.into_iter().collect::<Vec<_>>().join("; ")
}

/// The targeted townships that were not reached, from a report grouped by county: one line
/// per county and reason, naming its townships, so a platform that failed reads as one line.
pub fn not_reached(out: &mut String, by_county: &Report) {
    let _ = write!(
        out,
        "<section id=\"unreached\"><h2>{}</h2>",
        esc(&t!("page-unreached"))
    );
    // (county, reasons) → townships, in county then township order
    let mut lines: Vec<(&Row, String, Vec<&Row>)> = Vec::new();
    for county in &by_county.rows {
        for t in county.townships.iter().filter(|t| unreached(t)) {
            let why = reasons(&t.code, by_county);
            match lines
                .iter_mut()
                .find(|(c, r, _)| c.code == county.code && *r == why)
            {
                Some((_, _, towns)) => towns.push(t),
                None => lines.push((county, why, vec![t])),
            }
        }
    }
    if lines.is_empty() {
        let none = if by_county.runs == 0 {
            t!("page-none")
        } else {
            t!("page-unreached-none")
        };
        let _ = write!(out, "<p>{}</p></section>", esc(&none));
        return;
    }
    let _ = write!(
        out,
        "<table><tr>{}</tr>",
        head(&[
            "page-col-county",
            "page-col-township",
            "page-unreached-people",
            "page-unreached-reason"
        ])
    );
    for (county, why, towns) in lines {
        let names: Vec<String> = towns
            .iter()
            .map(|t| {
                format!(
                    "<span data-code=\"{}\">{}</span>",
                    esc(&t.code),
                    esc(&t.name)
                )
            })
            .collect();
        let people: u64 = towns
            .iter()
            .map(|t| t.figures.reach.population_targeted)
            .sum();
        let _ = write!(
            out,
            "<tr class=\"bad\"><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&county.name),
            names.join("、"),
            num(people),
            esc(&why)
        );
    }
    out.push_str("</table></section>");
}

/// A delivery state (a ledger key such as `expired`) in words; an unknown key as it is.
fn state_name(state: &str) -> String {
    let id = match DeliveryState::parse(state) {
        Some(DeliveryState::Pending) => "page-state-pending",
        Some(DeliveryState::Sent) => "page-state-sent",
        Some(DeliveryState::Delivered) => "page-state-delivered",
        Some(DeliveryState::Rejected) => "page-state-rejected",
        Some(DeliveryState::Expired) => "page-state-expired",
        Some(DeliveryState::Played) => "page-state-played",
        Some(DeliveryState::Failed) => "page-state-failed",
        Some(DeliveryState::Cancelled) => "page-state-cancelled",
        None => return state.to_string(),
    };
    t!(id)
}

/// An endpoint's circuit (`closed`, `open`, `half_open`) in words.
fn circuit_name(circuit: &str) -> String {
    let id = match CircuitState::parse(circuit) {
        Some(CircuitState::Closed) => "page-circuit-closed",
        Some(CircuitState::Open) => "page-circuit-open",
        Some(CircuitState::HalfOpen) => "page-circuit-half_open",
        None => return circuit.to_string(),
    };
    t!(id)
}

fn lang_name(lang: Lang) -> String {
    match lang {
        Lang::Ii => t!("page-lang-ii"),
        Lang::Zh => t!("page-lang-zh"),
    }
}

pub fn failures(out: &mut String, r: &Report) {
    let _ = write!(
        out,
        "<section id=\"failures\"><h2>{}</h2>",
        esc(&t!("page-failures"))
    );
    if r.failures.is_empty() && r.cancelled_pairs.is_empty() {
        let _ = write!(out, "<p>{}</p></section>", esc(&t!("page-none")));
        return;
    }
    let _ = write!(
        out,
        "<table><tr>{}</tr>",
        head(&[
            "page-col-time",
            "page-col-campaign",
            "page-col-township",
            "page-col-lang",
            "page-col-endpoint",
            "page-col-state",
            "page-col-reason"
        ])
    );
    for f in r.failures.iter().chain(&r.cancelled_pairs) {
        failure_row(out, f);
    }
    out.push_str("</table></section>");
}

fn failure_row(out: &mut String, f: &FailureLine) {
    let _ = write!(
        out,
        "<tr class=\"bad\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        esc(&local(f.row.occurrence)),
        esc(&f.row.campaign),
        esc(&f.township_names.join("、")),
        esc(&lang_name(f.row.lang)),
        esc(&f.row.endpoint),
        esc(&state_name(&f.row.state)),
        esc(f.row.reason.as_deref().unwrap_or("—"))
    );
}

pub fn endpoints(out: &mut String, list: &[EndpointStatus]) {
    let _ = write!(
        out,
        "<section id=\"endpoints\"><h2>{}</h2>",
        esc(&t!("page-endpoints"))
    );
    if list.is_empty() {
        let _ = write!(out, "<p>{}</p></section>", esc(&t!("page-no-records")));
        return;
    }
    let _ = write!(
        out,
        "<table><tr>{}</tr>",
        head(&[
            "page-col-endpoint",
            "page-col-circuit",
            "page-col-consecutive",
            "page-col-last-seen",
            "page-col-reason"
        ])
    );
    for e in list {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&e.endpoint),
            esc(&circuit_name(&e.circuit)),
            e.consecutive_failures,
            esc(&e.last_seen.map_or("—".to_string(), local)),
            esc(e.reason.as_deref().unwrap_or("—"))
        );
    }
    out.push_str("</table></section>");
}
