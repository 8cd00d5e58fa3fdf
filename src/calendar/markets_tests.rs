//! Tests of `markets.toml`: the shipped example, county defaults, mistakes at their lines.

use std::path::Path;

use super::*;
use crate::calendar::parse_markets;

fn parse(src: &str) -> (Option<Markets>, Vec<crate::diag::Diagnostic>) {
    parse_markets(
        Path::new("schedules/markets.toml"),
        src,
        &Directory::liangshan(),
    )
}

#[test]
fn the_shipped_example_parses_and_county_defaults_apply() {
    let src = std::fs::read_to_string("schedules/markets.toml").unwrap();
    let (m, diags) = parse(&src);
    assert!(diags.is_empty(), "{diags:?}");
    let m = m.unwrap();
    let dir = Directory::liangshan();
    let zhuhe = dir.township("竹核镇").unwrap();
    assert_eq!(
        m.for_township(zhuhe).unwrap().rule,
        DayRule::Branch(vec![0, 6])
    );
    // Another township of 昭觉县 takes the county's rule.
    let other = dir
        .townships_of("513431")
        .find(|t| t.code != zhuhe.code)
        .unwrap();
    assert_eq!(
        m.for_township(other).unwrap().rule.describe(),
        "农历逢三六九"
    );
    assert!(
        m.for_township(dir.township("会理市/鹿厂镇").unwrap())
            .is_none()
    );
}

#[test]
fn every_without_anchor_and_unknown_township_point_at_their_lines() {
    let src = "[[market]]\ntownship = \"竹合镇\"\ndaily = true\n\n[[market]]\ntownship = \"卫城镇\"\nevery = 3\n";
    let (m, diags) = parse(src);
    assert!(m.is_none());
    let lines: Vec<usize> = diags
        .iter()
        .map(|d| d.location.as_ref().unwrap().line)
        .collect();
    assert_eq!(lines, [2, 7], "{diags:?}");
    assert!(diags[0].message.contains("竹合镇"), "{}", diags[0].message);
    assert!(diags[1].message.contains("anchor"), "{}", diags[1].message);
    assert!(
        diags[1]
            .help
            .as_deref()
            .unwrap()
            .contains("anchor = 2026-12-01")
    );
}

#[test]
fn the_calendar_and_the_31st_must_be_said() {
    let (_, diags) = parse("[[market]]\ntownship = \"卫城镇\"\ndigits = [1, 4, 7]\n");
    assert!(
        diags[0].message.contains("calendar is not said"),
        "{diags:?}"
    );
    let (_, diags) =
        parse("[[market]]\ntownship = \"卫城镇\"\ndigits = [1, 4, 7]\ncalendar = \"solar\"\n");
    assert!(diags[0].message.contains("31st"), "{diags:?}");
    assert_eq!(diags[0].location.as_ref().unwrap().line, 3);
    let (m, diags) =
        parse("[[market]]\ntownship = \"卫城镇\"\ndigits = [5, 10]\ncalendar = \"lunar\"\n");
    assert!(
        m.is_some() && diags.len() == 1 && !diags[0].is_error(),
        "{diags:?}"
    );
    let (_, diags) = parse("[[market]]\ntownship = \"卫城镇\"\nbranch = [\"甲\"]\nweekday = []\n");
    assert!(
        diags[0].message.contains("`weekday`")
            && diags[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("`weekdays`")),
        "{diags:?}"
    );
}
