//! Integration tests: schedule — broken campaign files reported at the exact `line:col` with
//! the exact message, whole folders loaded from disk, and the repository's own `schedules/`.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use shengbo::diag::{Diagnostic, Severity};
use shengbo::directory::Directory;
use shengbo::schedule::{self, Rotation};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 4, 0, 0).unwrap()
}

fn diagnose(src: &str) -> Vec<Diagnostic> {
    let dir = Directory::liangshan();
    schedule::parse_at(Path::new("schedules/t.toml"), src, &dir, now()).1
}

/// `(line:col, severity, message)` of every diagnostic.
fn found(src: &str) -> Vec<(String, Severity, String)> {
    diagnose(src)
        .into_iter()
        .map(|d| {
            let loc = d.location.as_ref().map(|l| format!("{}:{}", l.line, l.col));
            (loc.unwrap_or_default(), d.severity, d.message)
        })
        .collect()
}

const HEAD: &str = "name = \"测试\"\nmessages = [\"police-impersonation\"]\n";
const TARGETS: &str = "[targets]\ncounties = [\"昭觉县\"]\n";
const SLOT: &str = "[[slots]]\ncron = \"0 8 * * *\"\n";

/// A campaign with `top` added after the head (from line 3), then targets and one slot.
fn doc(top: &str) -> String {
    format!("{HEAD}{top}{TARGETS}{SLOT}")
}

/// The same with the slot's expression replaced (the `cron` line is line 6).
fn with_cron(expr: &str) -> String {
    format!("{HEAD}{TARGETS}[[slots]]\ncron = \"{expr}\"\n")
}

/// The same with the `[targets]` body replaced (`[targets]` is line 3, its body line 4).
fn with_targets(body: &str) -> String {
    format!("{HEAD}[targets]\n{body}{SLOT}")
}

const KEYS: &str = "`id`, `name`, `timezone`, `valid_from`, `valid_until`, `messages`, `rotation`, `order`, `allow_single_language`, `gap_s`, `repeats`, `priority`, `quiet_hours`, `targets`, `slots`, `quiet_overrides`, `days`";

#[test]
fn baseline_is_valid() {
    assert!(diagnose(&doc("")).is_empty(), "{:?}", found(&doc("")));
}

#[test]
fn broken_schedules_are_reported_exactly() {
    shengbo::locale::set_thread(shengbo::locale::Locale::En);
    use Severity::{Error, Warning};
    let cases: Vec<(&str, String, &str, Severity, String)> = vec![
        ("unknown top-level key", doc("timezon = \"Asia/Shanghai\"\n"), "3:1", Error,
            format!("unknown key `timezon` in campaign, expected one of {KEYS}")),
        ("unknown target key", with_targets("countys = [\"昭觉县\"]\n"), "4:1", Error,
            "unknown key `countys` in [targets], expected one of `all`, `counties`, `townships`, `exclude_counties`, `exclude_townships`, `villages`, `exclude_villages`".into()),
        ("toml syntax", doc("gap_s = = 2\n"), "3:9", Error, "extra `=`, expected nothing".into()),
        ("wrong type", doc("repeats = \"two\"\n"), "3:11", Error, "wrong type: string \"two\", expected a whole number".into()),
        ("wrong type in a slot", with_cron("x").replace("\"x\"", "8"), "6:8", Error, "wrong type: integer `8`, expected a string".into()),
        ("unknown timezone", doc("timezone = \"Asia/Shangai\"\n"), "3:13", Error,
            "unknown time zone `Asia/Shangai`".into()),
        ("dates backwards", doc("valid_from = 2027-05-01\nvalid_until = 2027-04-01\n"), "4:15", Error,
            "`valid_until` 2027-04-01 is before `valid_from` 2027-05-01, expected a date on or after it".into()),
        ("date with time", doc("valid_from = 2027-05-01T08:00:00\n"), "3:14", Error,
            "invalid `valid_from` `2027-05-01T08:00:00`, expected a date such as `2026-12-01` (no time of day)".into()),
        ("bad date string", doc("valid_until = \"2027-02-30\"\n"), "3:16", Error,
            "invalid `valid_until` `2027-02-30`, expected a date such as `2026-12-01`".into()),
        ("window in the past", doc("valid_until = 2026-11-26\n"), "3:15", Warning,
            "campaign ended on 2026-11-26 (today is 2026-11-27 in Asia/Shanghai); it will not air again".into()),
        ("unknown rotation", doc("rotation = \"round_robin\"\n"), "3:13", Error,
            "unknown rotation `round_robin`, expected `all` or `round-robin`".into()),
        ("duplicate language", doc("order = [\"ii\", \"ii\"]\n"), "3:17", Error, "language `ii` is listed twice in `order`".into()),
        ("unknown language", doc("order = [\"yi\", \"zh\"]\n"), "3:11", Error,
            "unknown language `yi` in `order`, expected `ii` (Nuosu Yi) or `zh` (Mandarin)".into()),
        ("single language not allowed", doc("order = [\"zh\"]\n"), "3:9", Error,
            "`order` names one language, expected both (`[\"ii\", \"zh\"]`) unless `allow_single_language = true`".into()),
        ("gap out of range", doc("gap_s = 90\n"), "3:9", Error, "`gap_s` 90 out of range, expected seconds from 0 to 60".into()),
        ("repeats zero", doc("repeats = 0\n"), "3:11", Error, "`repeats` 0 out of range, expected a whole number from 1 to 10".into()),
        ("duplicate message", doc("").replace("[\"police-impersonation\"]", "[\"police-impersonation\", \"police-impersonation\"]"), "2:38", Error,
            "message `police-impersonation` is listed twice".into()),
        ("bad quiet hours", doc("quiet_hours = [\"22:00-6\"]\n"), "3:17", Error,
            "invalid quiet hours `22:00-6`, expected `HH:MM-HH:MM` such as `22:00-06:30`".into()),
        ("unknown county", with_targets("counties = [\"昭觉悬\"]\n"), "4:14", Error,
            "unknown county `昭觉悬`".into()),
        ("unknown township", with_targets("townships = [\"竹核\"]\n"), "4:15", Error,
            "unknown township `竹核`".into()),
        ("empty target set", with_targets("counties = [\"布拖县\"]\nexclude_counties = [\"513429\"]\n"), "3:1", Error,
            "campaign targets no townships, expected `all = true`, `counties` or `townships` leaving at least one township after exclusions".into()),
        ("cron hour out of range", with_cron("0 25 * * *"), "6:11", Error,
            "invalid cron `0 25 * * *`: hour `25` out of range, expected 0–23".into()),
        ("cron bad weekday name", with_cron("0 8 * * mon-fry"), "6:21", Error,
            "invalid cron `0 8 * * mon-fry`: invalid day-of-week `fry`, expected 0–7 (0 and 7 are Sunday) or `sun`…`sat` (did you mean `fri`?)".into()),
        ("cron six fields", with_cron("0 0 8 * * 1-5"), "6:19", Error,
            "invalid cron `0 0 8 * * 1-5`: too many fields starting at `1-5`: expected 5 (minute hour day-of-month month day-of-week), found 6 (seconds and years are not part of crontab lines)".into()),
        ("cron backwards range", with_cron("0 8 * * 5-1"), "6:17", Error,
            "invalid cron `0 8 * * 5-1`: day-of-week range `5-1` runs backwards, expected the smaller value first".into()),
        ("cron impossible day", with_cron("0 8 30 feb *"), "6:13", Error,
            "invalid cron `0 8 30 feb *`: day-of-month `30` never occurs in `feb`, so this line would never fire".into()),
        ("slot always quiet", with_cron("0 23 * * *"), "6:9", Error,
            "slot `0 23 * * *` always falls inside quiet hours (`22:00-06:30`), so it would never air".into()),
        ("slot partly quiet", with_cron("0 6,8 * * *"), "6:9", Warning,
            "slot `0 6,8 * * *` fires at 06:00 inside quiet hours (`22:00-06:30`); those broadcasts are skipped".into()),
        ("missing cron", format!("{HEAD}{TARGETS}[[slots]]\nlabel = \"x\"\n"), "5:1", Error,
            "missing key `cron` in `[[slots]]`, expected a crontab line such as `cron = \"0 8 * * *\"`".into()),
        ("missing name", format!("messages = [\"a\"]\n{TARGETS}{SLOT}"), "1:1", Error,
            "missing key `name`, expected a campaign name such as `全州防诈骗宣传`".into()),
        ("quiet override for an untargeted township", doc("[quiet_overrides]\n\"513401001\" = []\n"), "4:2", Warning,
            "quiet hours for `513401001` have no effect: the campaign does not target it".into()),
    ];
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for (name, src, at, severity, message) in &cases {
        let got = found(src);
        let want = (at.to_string(), *severity, message.clone());
        if got != vec![want.clone()] {
            failures.push(format!("{name}:\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_problem_of_a_file_at_once_with_carets_under_wide_text() {
    shengbo::locale::set_thread(shengbo::locale::Locale::En);
    let src = "name = \"测试\"\ntimezon = \"x\"\nmessages = [\"a\"]\norder = [\"en\", \"zh\"]\n[targets]\ncounties = [\"昭觉悬\"]\n[[slots]]\ncron = \"0 8 * * mon-fry\"\n";
    let diags = diagnose(src);
    let at: Vec<String> = diags.iter().map(|d| d.position()).collect();
    assert_eq!(
        at,
        [
            "schedules/t.toml:2:1",
            "schedules/t.toml:4:11",
            "schedules/t.toml:6:14",
            "schedules/t.toml:8:21"
        ]
    );
    let county = diags[2].to_string();
    // `counties = ["` is 13 columns; `昭觉悬` is three double-width characters.
    assert!(
        county.ends_with(&format!(
            "| {}{}\n  = help: did you mean 昭觉县 `513431`?",
            " ".repeat(13),
            "^".repeat(6)
        )),
        "{county}"
    );
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `timezone`?"));
}

#[test]
fn a_valid_file_becomes_a_campaign_with_defaults_and_locations() {
    let src = doc("quiet_overrides = { \"竹核镇\" = [\"21:00-07:30\"] }\n");
    let dir = Directory::liangshan();
    let c = schedule::parse_str(Path::new("schedules/t.toml"), &src, &dir).unwrap();
    assert_eq!(c.id, "t");
    assert_eq!(c.timezone, chrono_tz::Asia::Shanghai);
    assert_eq!(
        (c.rotation, c.repeats, c.gap_s, c.priority),
        (Rotation::All, 1, 2.0, 0)
    );
    assert_eq!(c.townships.len(), dir.townships_of("513431").count());
    let zhuhe = dir.township("竹核镇").unwrap().code.clone();
    assert_eq!(c.quiet_hours_for(&zhuhe)[0].to_string(), "21:00-07:30");
    assert_eq!(c.quiet_hours_for("513431100")[0].to_string(), "22:00-06:30");
    let loc = &c.message_locations[0];
    assert_eq!(
        (loc.line, loc.col, loc.width),
        (2, 14, "police-impersonation".len())
    );
    let d = c.message_error(0, "unknown message `police-impersonation`");
    assert_eq!(d.position(), "schedules/t.toml:2:14");
    assert_eq!(c.slots[0].location.line, 7);
}

fn write(root: &Path, name: &str, text: &str) {
    std::fs::write(root.join("schedules").join(name), text).unwrap();
}

#[test]
fn load_dir_reports_every_file_and_skips_other_formats() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("schedules")).unwrap();
    write(tmp.path(), "a-good.toml", &doc(""));
    write(tmp.path(), "b-bad.toml", &with_cron("0 25 * * *"));
    write(tmp.path(), "c-bad.toml", &doc("gap_s = -1\n"));
    write(tmp.path(), "d-same-id.toml", &doc("id = \"a-good\"\n"));
    write(
        tmp.path(),
        "settings.toml",
        "anything = \"not a campaign\"\n",
    );
    write(tmp.path(), "endpoints.toml", "[[endpoint]]\n");
    write(tmp.path(), "notes.md", "not toml\n");
    let (campaigns, diags) = schedule::load_dir_at(tmp.path(), &Directory::liangshan(), now());
    let ids: Vec<&str> = campaigns.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["a-good"]);
    let at: Vec<String> = diags.iter().map(Diagnostic::position).collect();
    assert_eq!(
        at,
        [
            "schedules/b-bad.toml:6:11",
            "schedules/c-bad.toml:3:9",
            "schedules/d-same-id.toml:3:7"
        ]
    );
    assert!(
        diags[2]
            .message
            .contains("already used by `schedules/a-good.toml`"),
        "{}",
        diags[2]
    );
}

#[test]
fn missing_folder_is_one_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (campaigns, diags) = schedule::load_dir(tmp.path(), &Directory::liangshan());
    assert!(campaigns.is_empty());
    assert_eq!(diags.len(), 1);
    assert!(
        diags[0].message.starts_with("cannot read `schedules`"),
        "{}",
        diags[0]
    );
}

#[test]
fn the_repository_schedules_load_without_errors_or_warnings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (campaigns, diags) = schedule::load_dir(root, &Directory::liangshan());
    let shown: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    assert!(shown.is_empty(), "{}", shown.join("\n\n"));
    assert!(campaigns.len() >= 3);
    let wide = campaigns
        .iter()
        .find(|c| c.id == "prefecture-wide")
        .unwrap();
    assert_eq!(wide.townships.len(), 304);
    assert_eq!(wide.rotation, Rotation::RoundRobin);
    let targeted = campaigns
        .iter()
        .find(|c| c.id == "zhaojue-butuo-weekdays")
        .unwrap();
    assert!(targeted.priority > wide.priority);
    for c in &campaigns {
        let known = [
            "police-impersonation",
            "illegal-fundraising",
            "fake-rights-agents",
            "bank-sim-card-rental",
        ];
        assert!(
            c.messages.iter().all(|m| known.contains(&m.as_str())),
            "{}",
            c.id
        );
        // Still airing: some slot fires within the next fortnight.
        assert!(
            !c.occurrences(Utc::now(), Utc::now() + chrono::Duration::days(14))
                .is_empty(),
            "{}",
            c.id
        );
    }
}

#[test]
fn the_readme_example_is_a_valid_campaign() {
    let readme = include_str!("../../schedules/README.md");
    let start = readme.find("```toml\n").unwrap() + "```toml\n".len();
    let src = &readme[start..start + readme[start..].find("```").unwrap()];
    let (campaign, diags) =
        schedule::parse_at(Path::new("README.md"), src, &Directory::liangshan(), now());
    assert!(diags.is_empty(), "{diags:?}");
    let c = campaign.unwrap();
    let lizhou = Directory::liangshan()
        .township("西昌市/礼州镇")
        .unwrap()
        .code
        .clone();
    assert!(c.quiet_hours_for(&lizhou).is_empty());
    assert_eq!(c.quiet_hours_for("513401001")[0].to_string(), "21:00-08:00");
    assert!(
        !c.townships
            .iter()
            .any(|t| t.starts_with("513422") || t == "513431102")
    );
}

mod crontab_against_brute_force {
    use chrono::{Datelike, Duration, TimeZone, Timelike, Utc};
    use proptest::prelude::*;
    use shengbo::schedule::cron::CronSchedule;

    /// One field: `*`, `*/n`, `a-b`, or a list of values, with the values it selects.
    fn field(lo: u32, hi: u32) -> impl Strategy<Value = (String, Vec<u32>, bool)> {
        prop_oneof![
            Just(("*".to_string(), (lo..=hi).collect(), true)),
            (2..6u32).prop_map(move |n| (
                format!("*/{n}"),
                (lo..=hi).step_by(n as usize).collect(),
                true
            )),
            (lo..=hi, lo..=hi).prop_map(|(a, b)| {
                let (a, b) = (a.min(b), a.max(b));
                (format!("{a}-{b}"), (a..=b).collect(), false)
            }),
            proptest::collection::btree_set(lo..=hi, 1..4).prop_map(|set| {
                let text = set.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
                (text, set.into_iter().collect(), false)
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// In Asia/Shanghai (no DST) the adapter fires exactly at the minutes a literal reading
        /// of crontab's rules selects, including the day-of-month OR day-of-week rule and 7 = Sunday.
        #[test]
        fn matches_a_literal_reading_of_crontab(
            min in field(0, 59), hour in field(0, 23), dom in field(1, 31),
            month in field(1, 12), dow in field(0, 7), start_day in 0..360i64,
        ) {
            let expr = format!("{} {} {} {} {}", min.0, hour.0, dom.0, month.0, dow.0);
            let Ok(schedule) = CronSchedule::parse(&expr) else {
                // Only a day-of-month no selected month has is refused.
                prop_assert!(!dom.2 && dow.2);
                return Ok(());
            };
            let tz = chrono_tz::Asia::Shanghai;
            let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::days(start_day);
            let to = from + Duration::days(40);
            let got = schedule.occurrences(tz, from, to);
            let weekdays: Vec<u32> = dow.1.iter().map(|d| d % 7).collect();
            let mut want = Vec::new();
            let mut t = from;
            while t < to {
                let l = t.with_timezone(&tz);
                let d_ok = dom.1.contains(&l.day());
                let w_ok = weekdays.contains(&l.weekday().num_days_from_sunday());
                let day_ok = if dom.2 || dow.2 { d_ok && w_ok } else { d_ok || w_ok };
                if min.1.contains(&l.minute()) && hour.1.contains(&l.hour()) && month.1.contains(&l.month()) && day_ok {
                    want.push(t);
                }
                t += Duration::minutes(1);
            }
            prop_assert_eq!(got, want, "{}", expr);
        }
    }
}
