//! `shengbo calendar` through the binary: named days with their basis, a township's market
//! days, JSON, a broken markets file reported at its line, an out-of-range year refused.

use std::path::Path;

use crate::util::{run_in, run_in_default_lang, stderr, stdout};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn calendar_json_lists_the_festivals_and_a_townships_market_days() {
    let out = run_in(
        repo(),
        &[
            "calendar",
            "--year",
            "2027",
            "--township",
            "会东县/铁柳镇",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let day = |name: &str| {
        v["named_days"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(day("火把节")["first"], "2027-07-27");
    assert_eq!(day("火把节")["last"], "2027-07-29");
    assert_eq!(day("民族团结进步节")["first"], "2027-07-26");
    assert_eq!(day("春节")["first"], "2027-02-06");
    assert_eq!(day("彝历新年")["basis"], "rule");
    let t = &v["township"];
    assert_eq!(t["rule_from"], "township");
    assert_eq!(t["rule"], "公历逢1、4、7（31日除外）");
    let days = t["market_days"].as_array().unwrap();
    // 9 per month (1, 4, 7, 11, 14, 17, 21, 24, 27), the 31st excluded.
    assert_eq!(days.len(), 9 * 12);
    assert_eq!(days[0], "2027-01-01");
    assert!(days.iter().all(|d| !d.as_str().unwrap().ends_with("-31")));
}

#[test]
fn calendar_table_shows_notices_and_a_county_default() {
    let out = run_in(
        repo(),
        &["calendar", "--year", "2024", "--township", "昭觉县/城北镇"],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    let torch = text.lines().find(|l| l.starts_with("火把节")).unwrap();
    assert!(
        torch.contains("2024-07-29") && torch.contains("2024-08-04") && torch.contains("notice"),
        "{torch}"
    );
    assert!(
        text.contains("`513431101` market 农历逢三六九, county default: 111 market days in 2024"),
        "{text}"
    );
    assert!(text.contains("\nJan  4 7 10 "), "{text}");
    // No language in the environment: Chinese headings, basis and months.
    let out = run_in_default_lang(
        repo(),
        &["calendar", "--year", "2024", "--township", "昭觉县/城北镇"],
    );
    let zh = stdout(&out);
    assert!(zh.starts_with("2024 年共 "), "{zh}");
    assert!(zh.lines().nth(1).unwrap().starts_with("节日  "), "{zh}");
    let torch = zh.lines().find(|l| l.starts_with("火把节")).unwrap();
    assert!(torch.contains("通知"), "{torch}");
    assert!(zh.contains("赶场 农历逢三六九，县默认：2024 年共 "), "{zh}");
    // Month names are 3 or 4 columns wide: right-aligned, the days line up.
    assert!(zh.contains("\n 1月  4 7 10 "), "{zh}");
    assert!(zh.contains("\n10月  "), "{zh}");
    let out = run_in_default_lang(repo(), &["calendar", "--year", "1800"]);
    assert_eq!(
        stderr(&out),
        "错误：`--year` 1800 超出范围，应在 1901–2099 之间\n"
    );
}

#[test]
fn calendar_reports_a_broken_markets_file_and_refuses_a_bad_year() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("schedules")).unwrap();
    std::fs::write(
        tmp.path().join("schedules/markets.toml"),
        "[[market]]\ntownship = \"卫城镇\"\nevery = 3\n",
    )
    .unwrap();
    let out = run_in(tmp.path(), &["calendar", "--year", "2026"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("schedules/markets.toml:3:9"), "{err}");
    assert!(err.contains("needs an `anchor`"), "{err}");
    // The shipped festivals still print.
    assert!(stdout(&out).contains("2026-08-06"));
    let out = run_in(tmp.path(), &["calendar", "--year", "1800"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("`--year` 1800 is out of range, expected 1901–2099"));
}

#[test]
fn check_reports_calendar_mistakes_at_their_lines() {
    use shengbo::diag::Diagnostic;
    use shengbo::directory::Directory;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("schedules");
    std::fs::create_dir_all(&dir).unwrap();
    let campaign = |days: &str| {
        format!(
            "name = \"x\"\nmessages = [\"a\"]\n[targets]\ncounties = [\"会东县\"]\n[[slots]]\ncron = \"0 9 * * *\"\n[days]\n{days}\n"
        )
    };
    std::fs::write(dir.join("m.toml"), campaign("market = true")).unwrap();
    std::fs::write(dir.join("n.toml"), campaign("within = [\"火把\"]")).unwrap();
    std::fs::write(
        dir.join("markets.toml"),
        "[[market]]\ntownship = \"会东县/铁柳镇\"\ndaily = true\n\n[[market]]\ntownship = \"铁溜镇\"\ndaily = true\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("festivals.toml"),
        "[[day]]\nname = \"火把节\"\ncalendar = \"lunar\"\nmonth = 6\nday = 24\n\n[[day]]\nname = \"除夕\"\ncalendar = \"lunar\"\nmonth = 12\nday = 30\n",
    )
    .unwrap();
    let now = chrono::Utc::now();
    let (campaigns, diags) =
        shengbo::schedule::load_dir_at(tmp.path(), &Directory::liangshan(), now);
    let ids: Vec<&str> = campaigns.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["m"], "the campaign naming an unknown day is refused");
    let at: Vec<(String, bool)> = diags.iter().map(|d| (d.position(), d.is_error())).collect();
    assert_eq!(
        at,
        [
            ("schedules/festivals.toml:11:7".to_string(), false),
            ("schedules/markets.toml:6:13".to_string(), true),
            ("schedules/n.toml:8:12".to_string(), true),
            ("schedules/m.toml:8:10".to_string(), false),
        ],
        "{diags:#?}"
    );
    let text: Vec<String> = diags.iter().map(Diagnostic::to_string).collect();
    assert!(text[2].contains("unknown named day `火把`"), "{}", text[2]);
    assert!(
        text[0].contains("does not happen in") && text[0].contains("short_month"),
        "{}",
        text[0]
    );
    assert!(
        text[1].contains("`铁溜镇`") && text[1].contains("`铁柳镇`"),
        "{}",
        text[1]
    );
    assert!(
        text[3].contains("have no market days") && text[3].contains("markets.toml"),
        "{}",
        text[3]
    );
    // The markets file had an error: no market rules apply, so every township is listed.
    assert!(campaigns[0].calendar.markets.townships.is_empty());
}

#[test]
fn the_readme_days_example_is_valid() {
    let readme = include_str!("../../schedules/README.md");
    let at = readme.find("```toml\n# 火把节前一周").unwrap() + "```toml\n".len();
    let block = &readme[at..at + readme[at..].find("```").unwrap()];
    let src = format!("name = \"x\"\nmessages = [\"a\"]\n[targets]\nall = true\n{block}");
    let dir = shengbo::directory::Directory::liangshan();
    let c = shengbo::schedule::parse_str(Path::new("schedules/readme.toml"), &src, &dir).unwrap();
    let d = c.days.unwrap();
    assert!(d.market);
    assert_eq!(
        (d.within[0].name.as_str(), d.within[0].before),
        ("火把节", 7)
    );
    assert_eq!(d.except[0].name, "彝历新年");
}
