//! The page rendered from reports built on the embedded directory: both languages, the chart,
//! the townships not reached with reasons, the empty state and the default period.

use axum::http::HeaderValue;
use chrono::TimeZone;

use super::*;
use crate::coverage::{FailureRow, Inputs, RunOutcome, aggregate};
use crate::lang::Lang;
use crate::ledger::{DeliveryState, ReachRow, RunId};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

fn query(by: By) -> crate::coverage::Query {
    crate::coverage::Query {
        from: at(1, 0),
        to: at(30, 0),
        by,
        campaign: None,
    }
}

/// One run over the first two townships of 昭觉县: the first played, the second expired.
fn inputs(dir: &Directory) -> (Inputs, [String; 2]) {
    let codes: Vec<String> = dir
        .townships_of("513431")
        .take(2)
        .map(|t| t.code.clone())
        .collect();
    let row = |code: &str, state| ReachRow {
        run: RunId(1),
        township: code.to_string(),
        segment: 0,
        state,
        coverage: None,
    };
    let inputs = Inputs {
        runs: vec![RunOutcome {
            run: 1,
            campaign: "winter".into(),
            occurrence: at(20, 11),
            rows: vec![
                row(&codes[0], DeliveryState::Played),
                row(&codes[1], DeliveryState::Expired),
            ],
        }],
        failures: vec![FailureRow {
            run: 1,
            occurrence: at(20, 11),
            campaign: "winter".into(),
            endpoint: "zhaojue-east".into(),
            lang: Lang::Ii,
            townships: vec![codes[1].clone()],
            state: "expired".into(),
            reason: Some("air-by passed <before> delivery".into()),
        }],
    };
    (inputs, [codes[0].clone(), codes[1].clone()])
}

fn page(report: &Report, locale: Locale, defaulted: Option<Option<DateTime<Utc>>>) -> String {
    let dir = Directory::liangshan();
    render(
        &View {
            report,
            by_county: report,
            directory: &dir,
            endpoints: &[],
            defaulted,
        },
        locale,
    )
}

#[test]
fn text_is_escaped() {
    assert_eq!(esc("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
}

#[test]
fn chart_has_every_county_sorted_and_the_unreached_township_its_reason() {
    let dir = Directory::liangshan();
    let (inputs, codes) = inputs(&dir);
    let report = aggregate(&inputs, &dir, &query(By::County));
    let html = page(&report, Locale::Zh, None);
    let bars: Vec<&str> = html
        .match_indices("<g class=\"bar\" data-code=\"")
        .collect::<Vec<_>>()
        .iter()
        .map(|(i, m)| &html[i + m.len()..i + m.len() + 6])
        .collect();
    assert_eq!(bars.len(), dir.counties().len(), "every county has a bar");
    assert_eq!(bars[0], "513431", "the one county reached comes first");
    let people = dir.township(&codes[0]).unwrap().population.people;
    let county = dir.county("513431").unwrap().population.people;
    assert!(html.contains(&format!(
        "{} / {}（",
        crate::reach::thousands(people),
        crate::reach::thousands(county)
    )));
    assert!(html.contains("未列入目标") && html.contains(">人口（人）</text>"));
    let unreached = &html[html.find("id=\"unreached\"").unwrap()..];
    let unreached = &unreached[..unreached.find("</section>").unwrap()];
    assert!(unreached.contains(&format!("<span data-code=\"{}\">", codes[1])));
    assert!(
        !unreached.contains(&codes[0]),
        "the played township is not listed"
    );
    assert!(unreached.contains("已过期: air-by passed &lt;before&gt; delivery"));
    assert!(!html.contains("最高"), "no bare maximum label");
}

#[test]
fn english_page_has_english_texts_and_the_same_figures() {
    let dir = Directory::liangshan();
    let (inputs, _) = inputs(&dir);
    let report = aggregate(&inputs, &dir, &query(By::County));
    let html = page(&report, Locale::En, None);
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    for text in [
        "People reached per county",
        "Townships not reached",
        ">People</text>",
        "not targeted",
        "Period (Beijing time) 2026-11-01 08:00 to 2026-11-30 08:00, 1 run.",
    ] {
        assert!(html.contains(text), "`{text}` in {html}");
    }
    assert!(!html.contains("覆盖率"), "no Chinese heading left");
    assert!(
        html.contains("昭觉县"),
        "place names stay as the directory has them"
    );
}

#[test]
fn an_empty_period_says_so_and_draws_no_chart() {
    let dir = Directory::liangshan();
    let report = aggregate(&Inputs::default(), &dir, &query(By::County));
    let html = page(&report, Locale::Zh, Some(None));
    assert!(html.contains("id=\"empty\"") && html.contains("本期间没有播发记录"));
    assert!(html.contains("账本中还没有任何播发记录"));
    assert!(!html.contains("<svg") && !html.contains("最高"));
    let en = page(&report, Locale::En, Some(Some(at(20, 11))));
    assert!(en.contains("the 7 days up to the day of the most recent run (2026-11-20 19:00)"));
}

#[test]
fn fonts_are_declared_for_chinese_and_yi() {
    let dir = Directory::liangshan();
    let report = aggregate(&Inputs::default(), &dir, &query(By::County));
    let html = page(&report, Locale::Zh, None);
    for face in [
        "PingFang SC",
        "Microsoft YaHei",
        "Noto Sans CJK SC",
        "WenQuanYi Micro Hei",
    ] {
        assert!(html.contains(&format!("\"{face}\"")), "{face}");
    }
    for face in ["Nuosu SIL", "Noto Sans Yi", "Microsoft Yi Baiti"] {
        assert!(html.contains(&format!("\"{face}\"")), "{face}");
    }
    assert!(html.contains(":lang(ii),.yi{font-family:\"Shengbo Noto Sans Yi\",\"Nuosu SIL\""));
    assert!(html.contains(
        "@font-face{font-family:\"Shengbo Noto Sans Yi\";src:url(/fonts/noto-sans-yi-2.000.woff2)"
    ));
}

#[test]
fn the_default_period_is_the_week_up_to_the_latest_runs_day() {
    // 2026-11-20 23:30 Beijing is 15:30 UTC: the period ends at the next Beijing midnight.
    let latest = Utc.with_ymd_and_hms(2026, 11, 20, 15, 30, 0).unwrap();
    let (from, to) = latest_period(latest);
    assert_eq!(to, Utc.with_ymd_and_hms(2026, 11, 20, 16, 0, 0).unwrap());
    assert_eq!(from, Utc.with_ymd_and_hms(2026, 11, 13, 16, 0, 0).unwrap());
    assert!(from <= latest && latest < to);
}

#[test]
fn language_from_the_query_then_accept_language_then_chinese() {
    let mut headers = HeaderMap::new();
    assert_eq!(locale(None, &headers).unwrap(), Locale::Zh);
    headers.insert(
        header::ACCEPT_LANGUAGE,
        HeaderValue::from_static("fr-FR,en-GB;q=0.8,zh;q=0.5"),
    );
    assert_eq!(locale(None, &headers).unwrap(), Locale::En);
    assert_eq!(locale(Some("zh"), &headers).unwrap(), Locale::Zh);
    assert!(locale(Some("klingon"), &headers).is_err());
}

#[test]
fn the_pages_texts_are_in_the_catalogue() {
    for (file, text) in [
        ("page.rs", include_str!("../page.rs")),
        ("chart.rs", include_str!("chart.rs")),
        ("tables.rs", include_str!("tables.rs")),
    ] {
        let code = text.split("#[cfg(test)]").next().unwrap();
        let han: Vec<&str> = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .filter(|l| l.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
            .collect();
        // The one literal is the page's Yi title, ꆈꌠ; the list joiner 、 is punctuation.
        assert!(
            han.is_empty(),
            "{file}: Chinese text outside the catalogue: {han:?}"
        );
    }
}
