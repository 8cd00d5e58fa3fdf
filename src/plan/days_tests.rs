//! Planner tests of campaigns that say which days they run on: market days per township,
//! windows around named days across a year boundary, named days kept free.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

use crate::calendar::{Calendar, parse_markets};
use crate::directory::Directory;
use crate::plan::tests::{catalog, message};
use crate::plan::{BroadcastRecord, Plan, Skip, SkipReason, plan};
use crate::schedule::Campaign;
use crate::schedule::parse_str;

const MARKETS: &str = "[[market]]\ntownship = \"会东县/铁柳镇\"\ndigits = [1, 4, 7]\ncalendar = \"solar\"\non_31st = false\n\n[[market]]\ntownship = \"宁南县/竹寿镇\"\nparity = \"odd\"\ncalendar = \"lunar\"\n";

fn campaign(targets: &str, extra: &str) -> Campaign {
    let src = format!(
        "name = \"x\"\nmessages = [\"police\"]\n{extra}\n[targets]\n{targets}\n[[slots]]\ncron = \"0 9 * * *\"\n"
    );
    let dir = Directory::liangshan();
    let mut c = parse_str(Path::new("schedules/m.toml"), &src, &dir).unwrap();
    let (markets, diags) = parse_markets(Path::new("schedules/markets.toml"), MARKETS, &dir);
    assert!(diags.is_empty(), "{diags:?}");
    c.calendar = Arc::new(Calendar {
        markets: markets.unwrap(),
        ..Calendar::default()
    });
    c
}

fn local(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn run(c: &Campaign, from: DateTime<Utc>, to: DateTime<Utc>) -> Plan {
    let cat = catalog(vec![message("police", 20.0, 20.0)]);
    plan(
        std::slice::from_ref(c),
        &Directory::liangshan(),
        &cat,
        from,
        to,
    )
}

fn days_of(p: &Plan, town: &str) -> Vec<NaiveDate> {
    p.broadcasts
        .iter()
        .filter(|b| b.township_name == town)
        .map(|b| b.local_start().date_naive())
        .collect()
}

#[test]
fn a_market_day_campaign_airs_in_each_township_on_its_own_days() {
    let c = campaign(
        "townships = [\"会东县/铁柳镇\", \"宁南县/竹寿镇\", \"会理市/鹿厂镇\"]",
        "[days]\nmarket = true",
    );
    let p = run(&c, local(2026, 12, 24), local(2027, 1, 6));
    let tieliu: Vec<u32> = days_of(&p, "铁柳镇").iter().map(|d| d.day()).collect();
    // 逢1、4、7 without the 31st: 24, 27, then 1 and 4 January.
    assert_eq!(tieliu, [24, 27, 1, 4]);
    let zhushou = days_of(&p, "竹寿镇");
    assert!(!zhushou.is_empty());
    for d in &zhushou {
        assert_eq!(
            crate::calendar::lunar::LunarDate::from_solar(*d).day % 2,
            1,
            "{d}"
        );
    }
    assert_eq!(zhushou.len(), 6, "{zhushou:?}");
    let b = p
        .broadcasts
        .iter()
        .find(|b| b.township_name == "铁柳镇")
        .unwrap();
    assert_eq!(b.reason.as_deref(), Some("赶场 公历逢1、4、7（31日除外）"));
    assert_eq!(BroadcastRecord::from(b).reason, b.reason);
    // 鹿厂镇 has no market rule: nothing airs there, said once.
    assert!(days_of(&p, "鹿厂镇").is_empty());
    let no_market: Vec<&Skip> = p
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::NoMarketDays)
        .collect();
    assert_eq!(no_market.len(), 1);
    assert_eq!(no_market[0].township_code.as_deref(), Some("513402101"));
}

#[test]
fn a_window_before_the_torch_festival_says_how_many_days_before() {
    let c = campaign(
        "townships = [\"会理市/鹿厂镇\"]",
        "[days]\nwithin = [{ day = \"火把节\", before = 7 }]",
    );
    let p = run(&c, local(2026, 7, 1), local(2026, 9, 1));
    let days = days_of(&p, "鹿厂镇");
    // 火把节 2026-08-06 for three days: from 07-30 to 08-08.
    assert_eq!(days.first(), NaiveDate::from_ymd_opt(2026, 7, 30).as_ref());
    assert_eq!(days.last(), NaiveDate::from_ymd_opt(2026, 8, 8).as_ref());
    assert_eq!(days.len(), 10);
    let reasons: Vec<&str> = p
        .broadcasts
        .iter()
        .filter_map(|b| b.reason.as_deref())
        .collect();
    assert_eq!(reasons[4], "火把节前 3 天");
    assert_eq!(reasons[7], "火把节第 1 天");
    assert_eq!(reasons[9], "火把节第 3 天");
}

#[test]
fn windows_across_the_year_boundary() {
    // 春节 2027-02-06: 40 days before reaches into 2026; planned from 2026-12-20.
    let c = campaign(
        "townships = [\"会理市/鹿厂镇\"]",
        "[days]\nwithin = [{ day = \"春节\", before = 40, after = 3 }]",
    );
    let p = run(&c, local(2026, 12, 20), local(2027, 3, 1));
    let days = days_of(&p, "鹿厂镇");
    assert_eq!(days.first(), NaiveDate::from_ymd_opt(2026, 12, 28).as_ref());
    assert_eq!(days.last(), NaiveDate::from_ymd_opt(2027, 2, 9).as_ref());
    assert_eq!(p.broadcasts[0].reason.as_deref(), Some("春节前 40 天"));
    // 彝历新年 (late November) with 40 days after reaches into January.
    let c = campaign(
        "townships = [\"会理市/鹿厂镇\"]",
        "[days]\nwithin = [{ day = \"彝历新年\", after = 40 }]",
    );
    let p = run(&c, local(2027, 1, 1), local(2027, 1, 10));
    assert_eq!(
        days_of(&p, "鹿厂镇").len(),
        1,
        "2026-11-22 + 40 days is 2027-01-01"
    );
    assert_eq!(p.broadcasts[0].reason.as_deref(), Some("彝历新年后 40 天"));
}

#[test]
fn named_days_kept_free_are_skipped_with_the_day() {
    let c = campaign(
        "townships = [\"会东县/铁柳镇\"]",
        "[days]\nmarket = true\nexcept = [\"彝历新年\"]",
    );
    let p = run(&c, local(2026, 11, 17), local(2026, 11, 28));
    let days: Vec<u32> = days_of(&p, "铁柳镇").iter().map(|d| d.day()).collect();
    // Market days 17, 21, 24, 27; 彝历新年 2026 is 20–22 November (no notice yet): 21 is kept free.
    assert_eq!(days, [17, 24, 27]);
    let free: Vec<&SkipReason> = p
        .skipped
        .iter()
        .map(|s| &s.reason)
        .filter(|r| matches!(r, SkipReason::NamedDay { .. }))
        .collect();
    assert_eq!(free.len(), 3, "one per day of the festival, campaign-wide");
    assert_eq!(
        crate::locale::scoped(crate::locale::Locale::En, || free[1].to_string()),
        "kept free of broadcasts: 彝历新年第 2 天"
    );
}

#[test]
fn a_slot_can_narrow_the_days() {
    let src = "name = \"x\"\nmessages = [\"police\"]\n[targets]\ntownships = [\"会东县/铁柳镇\"]\n[[slots]]\ncron = \"0 9 * * *\"\n[[slots]]\ncron = \"0 14 * * *\"\ndays = { market = true }\n";
    let dir = Directory::liangshan();
    let mut c = parse_str(Path::new("schedules/s.toml"), src, &dir).unwrap();
    c.calendar = campaign("all = true", "").calendar;
    let p = run(&c, local(2026, 12, 1), local(2026, 12, 5));
    let hours: Vec<(u32, u32)> = p
        .broadcasts
        .iter()
        .map(|b| {
            (
                b.local_start().day(),
                chrono::Timelike::hour(&b.local_start()),
            )
        })
        .collect();
    assert_eq!(hours, [(1, 9), (1, 14), (2, 9), (3, 9), (4, 9), (4, 14)]);
    assert_eq!(p.broadcasts[0].reason, None);
}
