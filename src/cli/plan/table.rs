//! Human-readable tables for `shengbo plan`: columns padded by display width, so Han and Yi
//! names (two columns per character) line up.

use std::collections::{BTreeMap, BTreeSet};

use unicode_width::UnicodeWidthStr;

use super::PLAN_TZ;
use crate::directory::Directory;
use crate::plan::{BroadcastRecord, Plan, SummaryRow};

/// Rows under a header, each column as wide as its widest cell; numbers right-aligned.
pub fn render(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = " ".repeat(widths[i] - c.width());
                if right.contains(&i) {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// One line per broadcast, then a footer counting what airs and what does not.
pub fn broadcasts(plan: &Plan, records: &[BroadcastRecord], directory: &Directory) -> String {
    let county_names: BTreeMap<&str, &str> = directory
        .counties()
        .iter()
        .map(|c| (c.code.as_str(), c.name.as_str()))
        .collect();
    let rows: Vec<Vec<String>> = plan
        .broadcasts
        .iter()
        .zip(records)
        .map(|(b, r)| {
            let start = b.local_start();
            let mut when = start.format("%Y-%m-%d %H:%M").to_string();
            if b.timezone != PLAN_TZ {
                when = format!("{when} {}", b.timezone.name());
            }
            vec![
                when,
                b.local_end().format("%H:%M:%S").to_string(),
                county_names
                    .get(b.county_code.as_str())
                    .unwrap_or(&"")
                    .to_string(),
                match b.villages.len() {
                    0 => b.township_name.clone(),
                    n => crate::t!(
                        "plan-villages",
                        township = b.township_name.as_str(),
                        villages = n
                    ),
                },
                b.township_code.clone(),
                b.campaign.clone(),
                programme(r),
                b.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut header: Vec<String> = [
        "start",
        "end",
        "county",
        "township",
        "code",
        "campaign",
        "programme",
        "why",
    ]
    .iter()
    .map(|c| crate::t!(&format!("plan-col-{c}")))
    .collect();
    // The `why` column only when some campaign says which days it runs on.
    let mut rows = rows;
    if plan.broadcasts.iter().all(|b| b.reason.is_none()) {
        header.pop();
        rows.iter_mut().for_each(|r| {
            r.pop();
        });
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut out = render(&header, &rows, &[]);
    out.push_str(&footer(plan));
    out
}

/// `police-impersonation ii+zh, illegal-fundraising ii+zh ×2`
pub fn programme(r: &BroadcastRecord) -> String {
    let mut segments: Vec<(String, Vec<&str>)> = Vec::new();
    for item in &r.items {
        match segments.last_mut() {
            Some((m, langs)) if *m == item.message && !langs.contains(&item.lang.code()) => {
                langs.push(item.lang.code());
            }
            _ => segments.push((item.message.clone(), vec![item.lang.code()])),
        }
    }
    let n = segments.len();
    let period = (1..=n)
        .find(|&p| n.is_multiple_of(p) && (p..n).all(|i| segments[i] == segments[i % p]))
        .unwrap_or(n);
    let shown: Vec<String> = segments[..period]
        .iter()
        .map(|(m, langs)| format!("{m} {}", langs.join("+")))
        .collect();
    let times = n / period.max(1);
    if times > 1 {
        format!("{} ×{times}", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn footer(plan: &Plan) -> String {
    let towns: BTreeSet<&str> = plan
        .broadcasts
        .iter()
        .map(|b| b.township_code.as_str())
        .collect();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for s in &plan.skipped {
        let key = match &s.reason {
            crate::plan::SkipReason::MessageNotAirable { .. } => crate::t!("skip-not-airable"),
            other => other.to_string(),
        };
        *reasons.entry(key).or_default() += 1;
    }
    let mut out = crate::t!(
        "plan-footer",
        broadcasts = plan.broadcasts.len(),
        townships = towns.len()
    );
    if !plan.skipped.is_empty() {
        let parts: Vec<String> = reasons
            .iter()
            .map(|(r, n)| crate::t!("plan-footer-skip", count = *n, reason = r.as_str()))
            .collect();
        let list = parts.join(&crate::t!("list-separator"));
        out.push_str(&crate::t!("plan-footer-skipped", list = list));
    }
    if !plan.conflicts.is_empty() {
        out.push_str(&crate::t!("plan-footer-lost", count = plan.conflicts.len()));
    }
    out.push('\n');
    out
}

/// Broadcasts per county per day.
pub fn summary(rows: &[SummaryRow]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.day.to_string(),
                r.county_code.clone(),
                r.county_name.clone(),
                r.broadcasts.to_string(),
                r.townships.to_string(),
            ]
        })
        .collect();
    let header: Vec<String> = ["day", "county", "name", "broadcasts", "townships"]
        .iter()
        .map(|c| crate::t!(&format!("plan-col-{c}")))
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut out = render(&header, &cells, &[3, 4]);
    let total: usize = rows.iter().map(|r| r.broadcasts).sum();
    out.push_str(&crate::t!("plan-summary-total", broadcasts = total));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_by_display_width() {
        let rows = vec![
            vec!["新城镇".to_string(), "3".to_string()],
            vec!["ab".to_string(), "12".to_string()],
        ];
        let text = render(&["township", "n"], &rows, &[1]);
        assert_eq!(text, "township   n\n新城镇     3\nab        12\n");
    }
}
