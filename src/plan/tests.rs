//! Unit tests of the planner on hand-built campaigns and catalogs.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};

use super::*;
use crate::catalog::{Clip, Message, Probe, Verdict};
use crate::diag::Location;
use crate::schedule::cron::CronSchedule;
use crate::schedule::{QuietHours, Rotation, Slot};

pub(crate) const T1: &str = "513431100";
pub(crate) const T2: &str = "513431101";

pub(crate) fn clip(message: &str, lang: Lang, duration_s: f64) -> Clip {
    Clip {
        message: message.to_string(),
        lang,
        file: format!("audio/{message}/{}.mp3", lang.code()).into(),
        probe: Some(Probe {
            container: "mp3".into(),
            codec: "mp3".into(),
            sample_rate: 22050,
            channels: 1,
            frames: (duration_s * 22050.0) as u64,
            duration_s,
            lufs: -16.0,
            true_peak_dbtp: -2.0,
            sha256: format!("{message}-{}", lang.code()),
            size_bytes: 1000,
        }),
        verdict: Verdict::Ok,
    }
}

pub(crate) fn message(id: &str, ii_s: f64, zh_s: f64) -> Message {
    Message {
        id: id.to_string(),
        title_zh: id.to_string(),
        title_ii: None,
        topic: "fraud".into(),
        text: BTreeMap::new(),
        valid_from: None,
        valid_until: None,
        source: None,
        clips: BTreeMap::from([
            (Lang::Ii, clip(id, Lang::Ii, ii_s)),
            (Lang::Zh, clip(id, Lang::Zh, zh_s)),
        ]),
        pair_verdict: Verdict::Ok,
    }
}

pub(crate) fn catalog(messages: Vec<Message>) -> Catalog {
    Catalog {
        messages: messages.into_iter().map(|m| (m.id.clone(), m)).collect(),
        diagnostics: Vec::new(),
    }
}

pub(crate) fn campaign(
    id: &str,
    crons: &[&str],
    messages: &[&str],
    townships: &[&str],
) -> Campaign {
    Campaign {
        id: id.to_string(),
        id_location: None,
        name: id.to_string(),
        file: format!("schedules/{id}.toml").into(),
        timezone: chrono_tz::Asia::Shanghai,
        valid_from: None,
        valid_until: None,
        messages: messages.iter().map(|s| s.to_string()).collect(),
        message_locations: Vec::new(),
        rotation: Rotation::All,
        order: vec![Lang::Ii, Lang::Zh],
        allow_single_language: false,
        gap_s: 2.0,
        repeats: 1,
        slots: crons
            .iter()
            .map(|e| Slot {
                expr: e.to_string(),
                schedule: CronSchedule::parse(e).unwrap(),
                label: None,
                location: Location::from_range(e, 0..e.len()),
                days: None,
            })
            .collect(),
        townships: townships.iter().map(|s| s.to_string()).collect(),
        villages: BTreeMap::new(),
        quiet_hours: Vec::new(),
        quiet_overrides: BTreeMap::new(),
        priority: 0,
        days: None,
        calendar: crate::calendar::Calendar::shipped(),
    }
}

/// Midnight of a December 2026 day in Beijing.
fn day(d: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 12, d, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

pub(crate) fn run(campaigns: &[Campaign], cat: &Catalog, from: u32, to: u32) -> Plan {
    plan(campaigns, &Directory::liangshan(), cat, day(from), day(to))
}

fn programme(b: &Broadcast) -> Vec<(String, Lang, f64)> {
    b.items
        .iter()
        .map(|i| (i.message.clone(), i.lang, i.gap_after_s))
        .collect()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

#[test]
fn one_pair_per_township_per_day_sorted_with_end() {
    let cat = catalog(vec![message("police", 30.0, 25.5)]);
    let c = campaign("a", &["0 8 * * *"], &["police"], &[T2, T1]);
    let p = run(&[c], &cat, 1, 4);
    assert_eq!(p.broadcasts.len(), 6);
    let keys: Vec<_> = p
        .broadcasts
        .iter()
        .map(|b| (b.start, b.township_code.as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let b = &p.broadcasts[0];
    assert_eq!(b.township_code, T1);
    assert_eq!(b.local_start().time(), hm(8, 0));
    assert_eq!(
        programme(b),
        [
            ("police".into(), Lang::Ii, 2.0),
            ("police".into(), Lang::Zh, 0.0)
        ]
    );
    assert_eq!(b.end - b.start, chrono::Duration::milliseconds(57_500));
    assert!(!b.township_name.is_empty() && b.county_code == "513431");
    assert!(p.skipped.is_empty() && p.conflicts.is_empty());
}

#[test]
fn order_repeats_and_gaps() {
    let cat = catalog(vec![message("m1", 10.0, 10.0), message("m2", 5.0, 5.0)]);
    let mut c = campaign("a", &["30 9 * * *"], &["m1", "m2"], &[T1]);
    c.order = vec![Lang::Zh, Lang::Ii];
    c.repeats = 2;
    c.gap_s = 1.5;
    let p = run(&[c], &cat, 1, 2);
    let b = &p.broadcasts[0];
    let langs: Vec<_> = b
        .items
        .iter()
        .map(|i| (i.message.as_str(), i.lang))
        .collect();
    let round = [
        ("m1", Lang::Zh),
        ("m1", Lang::Ii),
        ("m2", Lang::Zh),
        ("m2", Lang::Ii),
    ];
    assert_eq!(langs, [round, round].concat());
    let gaps: Vec<f64> = b.items.iter().map(|i| i.gap_after_s).collect();
    assert_eq!(gaps, [1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 0.0]);
    assert_eq!(
        b.end - b.start,
        chrono::Duration::milliseconds(60_000 + 10_500)
    );
}

#[test]
fn quiet_hours_skip_and_overrides_replace() {
    let cat = catalog(vec![message("m", 10.0, 10.0)]);
    let mut c = campaign("a", &["30 22 * * *", "0 12 * * *"], &["m"], &[T1, T2]);
    c.quiet_hours = vec![QuietHours {
        start: hm(22, 0),
        end: hm(6, 0),
    }];
    c.quiet_overrides.insert(
        T2.to_string(),
        vec![QuietHours {
            start: hm(23, 0),
            end: hm(5, 0),
        }],
    );
    let p = run(&[c], &cat, 1, 2);
    let aired: Vec<_> = p
        .broadcasts
        .iter()
        .map(|b| (b.local_start().time(), b.township_code.as_str()))
        .collect();
    assert_eq!(aired, [(hm(12, 0), T1), (hm(12, 0), T2), (hm(22, 30), T2)]);
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].township_code.as_deref(), Some(T1));
    assert_eq!(p.skipped[0].reason, SkipReason::QuietHours);
}

#[test]
fn campaign_and_message_valid_dates() {
    let mut short = message("short", 10.0, 10.0);
    short.valid_until = NaiveDate::from_ymd_opt(2026, 12, 2);
    let cat = catalog(vec![short, message("long", 10.0, 10.0)]);
    let mut c = campaign("a", &["0 8 * * *"], &["short", "long"], &[T1]);
    c.valid_from = NaiveDate::from_ymd_opt(2026, 12, 2);
    let p = run(&[c], &cat, 1, 4);
    let per_day: Vec<usize> = p.broadcasts.iter().map(|b| b.items.len()).collect();
    assert_eq!(per_day, [4, 2], "Dec 2 both messages, Dec 3 only `long`");
    let reasons: Vec<_> = p
        .skipped
        .iter()
        .map(|s| (s.reason.clone(), s.message.clone()))
        .collect();
    assert_eq!(
        reasons,
        [
            (SkipReason::OutsideValidDates, None),
            (
                SkipReason::MessageOutsideValidDates,
                Some("short".to_string())
            )
        ]
    );
}

#[test]
fn round_robin_does_not_depend_on_the_window() {
    let cat = catalog(vec![
        message("m1", 5.0, 5.0),
        message("m2", 5.0, 5.0),
        message("m3", 5.0, 5.0),
    ]);
    let mut c = campaign("a", &["0 8,12,18 * * *"], &["m1", "m2", "m3"], &[T1]);
    c.rotation = Rotation::RoundRobin;
    let whole = run(std::slice::from_ref(&c), &cat, 1, 6);
    let tail = run(&[c], &cat, 3, 6);
    let from3: Vec<_> = whole
        .broadcasts
        .iter()
        .filter(|b| b.start >= day(3))
        .cloned()
        .collect();
    assert_eq!(from3, tail.broadcasts);
    let turns: Vec<_> = whole
        .broadcasts
        .iter()
        .map(|b| b.items[0].message.clone())
        .collect();
    for w in turns.windows(2) {
        assert_ne!(w[0], w[1], "turns rotate: {turns:?}");
    }
    assert!(whole.broadcasts.iter().all(|b| b.items.len() == 2));
}

#[test]
fn unairable_messages_are_left_out_with_reasons() {
    let mut rejected = message("bad", 10.0, 10.0);
    rejected.clips.get_mut(&Lang::Zh).unwrap().verdict = Verdict::Rejected(vec!["silent".into()]);
    let mut half = message("half", 10.0, 10.0);
    half.clips.remove(&Lang::Zh);
    let cat = catalog(vec![rejected, half, message("good", 10.0, 10.0)]);
    let strict = campaign("a", &["0 8 * * *"], &["bad", "nope", "good"], &[T1]);
    let mut lenient = campaign("b", &["0 9 * * *"], &["half"], &[T1]);
    lenient.allow_single_language = true;
    let p = run(&[strict, lenient], &cat, 1, 2);
    let progs: Vec<_> = p.broadcasts.iter().map(programme).collect();
    assert_eq!(
        progs,
        [
            vec![
                ("good".into(), Lang::Ii, 2.0),
                ("good".into(), Lang::Zh, 0.0)
            ],
            vec![("half".into(), Lang::Ii, 0.0)],
        ]
    );
    let reasons: Vec<_> = crate::locale::scoped(crate::locale::Locale::En, || {
        p.skipped.iter().map(|s| s.reason.to_string()).collect()
    });
    assert_eq!(reasons, ["no airable `zh` clip: silent", "unknown message"]);
}

#[test]
fn same_minute_goes_to_priority_then_campaign_id() {
    let cat = catalog(vec![message("m", 10.0, 10.0)]);
    let mut low = campaign("a-low", &["0 8 * * *"], &["m"], &[T1, T2]);
    low.priority = 1;
    let mut high = campaign("z-high", &["0 8 * * *"], &["m"], &[T1]);
    high.priority = 5;
    let mut tie = campaign("b-tie", &["0 8 * * *"], &["m"], &[T2]);
    tie.priority = 1;
    let p = run(&[tie, high, low], &cat, 1, 2);
    let winners: Vec<_> = p
        .broadcasts
        .iter()
        .map(|b| (b.township_code.as_str(), b.campaign.as_str()))
        .collect();
    assert_eq!(winners, [(T1, "z-high"), (T2, "a-low")]);
    let lost: Vec<_> = p
        .conflicts
        .iter()
        .map(|c| {
            (
                c.township_code.as_str(),
                c.winner.as_str(),
                c.loser.as_str(),
            )
        })
        .collect();
    assert_eq!(lost, [(T1, "z-high", "a-low"), (T2, "a-low", "b-tie")]);
}

#[test]
fn round_robin_anchor_survives_a_midnight_that_does_not_exist() {
    // Chile moves its clocks from 00:00 to 01:00 on 2026-09-06: that day has no midnight.
    let tz = chrono_tz::America::Santiago;
    let cat = catalog(vec![message("m1", 5.0, 5.0), message("m2", 5.0, 5.0)]);
    let mut c = campaign("a", &["0 8,20 * * *"], &["m1", "m2", "m1"], &[T1]);
    c.rotation = Rotation::RoundRobin;
    c.timezone = tz;
    c.valid_from = NaiveDate::from_ymd_opt(2026, 9, 6);
    let at = |d: u32| {
        tz.with_ymd_and_hms(2026, 9, d, 12, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    let dir = Directory::liangshan();
    let whole = plan(std::slice::from_ref(&c), &dir, &cat, at(5), at(12));
    let tail = plan(&[c], &dir, &cat, at(9), at(12));
    let from9: Vec<_> = whole
        .broadcasts
        .iter()
        .filter(|b| b.start >= at(9))
        .cloned()
        .collect();
    assert_eq!(from9, tail.broadcasts);
    let first = &whole.broadcasts[0];
    assert_eq!(
        first.local_start().date_naive(),
        NaiveDate::from_ymd_opt(2026, 9, 6).unwrap()
    );
    assert_eq!(
        first.items[0].message, "m1",
        "the first occurrence from valid_from has index 0"
    );
}
