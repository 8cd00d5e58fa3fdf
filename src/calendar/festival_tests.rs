//! Festival dates against the published ones (2018–2028), announced blocks overriding rules,
//! and the day-30 check.

use chrono::NaiveDate;

use super::*;
use crate::calendar::{Calendar, parse_festivals};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn shipped() -> Festivals {
    Calendar::default().festivals
}

/// The shipped rules without their announced blocks: what the rules alone compute.
fn rules_only() -> Festivals {
    Festivals {
        blocks: Vec::new(),
        ..shipped()
    }
}

fn first(f: &Festivals, name: &str, year: i32) -> Option<(NaiveDate, NaiveDate, &'static str)> {
    f.in_year(year)
        .into_iter()
        .find(|o| o.name == name)
        .map(|o| (o.first, o.last, o.basis))
}

#[test]
fn torch_festival_by_rule_matches_the_published_dates() {
    let f = rules_only();
    // The announced holiday blocks start on the festival day; 2025–2028 as computed by five crates.
    let published = [
        (2018, d(2018, 8, 5)),
        (2021, d(2021, 8, 2)),
        (2022, d(2022, 7, 22)),
        (2023, d(2023, 8, 10)),
        (2024, d(2024, 7, 29)),
        (2025, d(2025, 7, 18)),
        (2026, d(2026, 8, 6)),
        (2027, d(2027, 7, 27)),
        (2028, d(2028, 8, 14)),
    ];
    for (y, want) in published {
        let got = first(&f, "火把节", y).unwrap();
        assert_eq!(got, (want, want + chrono::Duration::days(2), "rule"), "{y}");
    }
    // 2025's leap sixth month: its 24th (2025-08-17) is no festival.
    let all: Vec<NaiveDate> = f.in_year(2025).iter().map(|o| o.first).collect();
    assert!(!all.contains(&d(2025, 8, 17)), "{all:?}");
}

#[test]
fn spring_festival_and_yi_new_year() {
    let f = shipped();
    for (y, want) in [
        (2018, d(2018, 2, 16)),
        (2026, d(2026, 2, 17)),
        (2027, d(2027, 2, 6)),
        (2028, d(2028, 1, 26)),
    ] {
        assert_eq!(first(&f, "春节", y), Some((want, want, "rule")), "{y}");
    }
    for y in [2018, 2023, 2024, 2025] {
        assert_eq!(
            first(&f, "彝历新年", y),
            Some((d(y, 11, 20), d(y, 11, 26), "notice")),
            "{y}"
        );
    }
    // No notice found for 2026: the rule's three days.
    assert_eq!(
        first(&f, "彝历新年", 2026),
        Some((d(2026, 11, 20), d(2026, 11, 22), "rule"))
    );
}

#[test]
fn blocks_override_the_rule_and_carry_the_day_before() {
    let f = shipped();
    assert_eq!(
        first(&f, "火把节", 2024),
        Some((d(2024, 7, 29), d(2024, 8, 4), "notice"))
    );
    // 民族团结进步节: the day before 火把节 since 2023 (published: 2023-08-09, 2024-07-28).
    assert_eq!(
        first(&f, "民族团结进步节", 2023).map(|o| o.0),
        Some(d(2023, 8, 9))
    );
    assert_eq!(
        first(&f, "民族团结进步节", 2024).map(|o| o.0),
        Some(d(2024, 7, 28))
    );
    assert_eq!(
        first(&f, "民族团结进步节", 2026).map(|o| o.0),
        Some(d(2026, 8, 5))
    );
    assert_eq!(
        first(&f, "民族团结进步节", 2022),
        None,
        "not kept before 2023"
    );
    let o = f.in_year(2024);
    let torch = o.iter().find(|o| o.name == "火把节").unwrap();
    assert!(torch.source.contains("2024"), "{}", torch.source);
}

#[test]
fn a_lunar_day_30_says_which_years_it_skips() {
    let src = "[[day]]\nname = \"除夕\"\ncalendar = \"lunar\"\nmonth = 12\nday = 30\n";
    let (f, diags) = parse_festivals(std::path::Path::new("schedules/festivals.toml"), src);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let skipped = years_without_day_30(12, crate::calendar::festivals_toml::DAY_30_YEARS);
    assert!(!skipped.is_empty());
    for y in &skipped {
        assert!(
            diags[0].message.contains(&y.to_string()),
            "{}",
            diags[0].message
        );
    }
    assert_eq!(diags[0].location.as_ref().unwrap().line, 5);
    assert!(diags[0].help.as_deref().unwrap().contains("short_month"));
    let f = f.unwrap();
    // A skipped year has no 除夕 by this rule; with `last_day` it falls on the 29th.
    let y = skipped[0];
    let eve = lunar_day(y, 12, 30, ShortMonth::LastDay).unwrap();
    assert_eq!(lunar::LunarDate::from_solar(eve).day, 29);
    let western = eve.format("%Y").to_string().parse::<i32>().unwrap();
    assert!(f.in_year(western).iter().all(|o| o.name != "除夕"));
}

#[test]
fn festival_file_errors_point_at_the_line() {
    let src = "[[day]]\nname = \"火把节\"\nmonth = 6\nday = 24\n\n[[day]]\nname = \"x\"\nrelative_to = \"火把\"\n";
    let (f, diags) = parse_festivals(std::path::Path::new("f.toml"), src);
    assert!(f.is_none());
    let lines: Vec<usize> = diags
        .iter()
        .map(|d| d.location.as_ref().unwrap().line)
        .collect();
    assert_eq!(lines, [2, 8], "{diags:?}");
    assert!(
        diags[0]
            .help
            .as_deref()
            .unwrap()
            .contains("calendar = \"lunar\"")
    );
    assert_eq!(diags[1].help.as_deref(), Some("did you mean `火把节`?"));
}
