//! Integration tests: `shengbo check` and `shengbo plan` on temporary project folders with
//! generated WAV recordings, and `check` on the repository's own `schedules/` and `audio/`.

use std::path::Path;

use crate::util::{run_in, run_in_default_lang, shengbo, stderr, stdout};

/// A mono 16 kHz WAV: a tone at `freq` Hz, amplitude-modulated at `am` Hz like syllables.
fn wav(path: &Path, freq: f64, secs: f64, am: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = (secs * 16_000.0) as usize;
    for i in 0..n {
        let t = i as f64 / 16_000.0;
        let env = 0.6 + 0.4 * (std::f64::consts::TAU * am * t).sin();
        let x = 0.3 * env * (std::f64::consts::TAU * freq * t).sin();
        w.write_sample((x * i16::MAX as f64) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// A message folder with `message.toml` and the given languages (`ii` 3 s, `zh` 4 s).
fn message(root: &Path, id: &str, langs: &[&str]) {
    let dir = root.join("audio").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let toml = format!(
        "title_zh = \"测试 {id}\"\ntopic = \"test\"\n[text]\nii = \"ꆈꌠ\"\nzh = \"普通话\"\n"
    );
    std::fs::write(dir.join("message.toml"), toml).unwrap();
    for lang in langs {
        let (freq, secs, am) = if *lang == "ii" {
            (300.0, 3.0, 4.0)
        } else {
            (520.0, 4.0, 7.0)
        };
        wav(&dir.join(format!("{lang}.wav")), freq, secs, am);
    }
}

pub(crate) fn project(schedules: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
    for (name, text) in schedules {
        std::fs::write(dir.path().join("schedules").join(name), text).unwrap();
    }
    message(dir.path(), "police-impersonation", &["ii", "zh"]);
    message(dir.path(), "illegal-fundraising", &["ii", "zh"]);
    dir
}

const TOWNS: &str = r#"
id = "towns"
name = "两个乡镇"
messages = ["police-impersonation", "illegal-fundraising"]
rotation = "round-robin"
order = ["zh", "ii"]
gap_s = 2
repeats = 1
priority = 5
quiet_hours = ["22:00-07:00"]

[targets]
townships = ["513431100", "昭觉县/城北镇"]

[quiet_overrides]
"513431101" = ["23:00-07:00"]

[[slots]]
cron = "0 8 * * *"

[[slots]]
cron = "30 22 * * *"
"#;

/// The schedule loader's warning about `TOWNS`'s 22:30 slot.
fn late_slot(file: &str) -> String {
    format!(
        "warning: slot `30 22 * * *` fires at 22:30 inside quiet hours (`22:00-07:00`); those \
         broadcasts are skipped\n  ——▶ schedules/{file}.toml:22:9\n   |\n22 | cron = \"30 22 * * *\"\n   \
         |         ^^^^^^^^^^^\n\n"
    )
}

#[test]
fn check_passes_a_project_with_warnings_only() {
    let dir = project(&[("towns.toml", TOWNS)]);
    let out = run_in(dir.path(), &["check"]);
    assert_eq!(
        stdout(&out),
        format!(
            "{}0 errors, 1 warning in 1 file; 1 campaign, 2 messages, 304 townships\n",
            late_slot("towns")
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn check_reports_a_broken_project_grouped_by_file() {
    let typo = r#"id = "typo"
name = "错别字"
messages = ["police-impersonaton", "lonely"]
priority = 1

[targets]
townships = ["513431100"]

[[slots]]
cron = "0 8 * * *"
"#;
    let dir = project(&[("towns.toml", TOWNS), ("typo.toml", typo)]);
    message(dir.path(), "lonely", &["ii"]);
    let out = run_in(dir.path(), &["check"]);
    let lonely = "\
error: message `lonely`: no Mandarin (`zh`) recording
  ——▶ audio/lonely

";
    let typo_errors = "\
error: unknown message `police-impersonaton`
  ——▶ schedules/typo.toml:3:14
  |
3 | messages = [\"police-impersonaton\", \"lonely\"]
  |              ^^^^^^^^^^^^^^^^^^^
  = help: did you mean `police-impersonation`?

error: message `lonely` cannot air in campaign `typo`: pair rejected: no Mandarin (`zh`) recording
  ——▶ schedules/typo.toml:3:37
  |
3 | messages = [\"police-impersonaton\", \"lonely\"]
  |                                     ^^^^^^

3 errors, 1 warning in 3 files; 2 campaigns, 3 messages, 304 townships
";
    let expected = format!("{lonely}{}{typo_errors}", late_slot("towns"));
    assert_eq!(stdout(&out), expected);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn check_warns_when_priority_decides_a_minute() {
    let other = TOWNS
        .replace("id = \"towns\"", "id = \"other\"")
        .replace("priority = 5", "priority = 9")
        .replace("rotation = \"round-robin\"", "rotation = \"all\"");
    let dir = project(&[("towns.toml", TOWNS), ("other.toml", &other)]);
    let out = run_in(dir.path(), &["check"]);
    let conflict = "\
warning: campaigns `towns` and `other` want the same township in the same minute (105 slots in 2 \
townships over the next 35 days, first at 08:00 in 昭觉县 新城镇 `513431100`); `other` airs
  ——▶ schedules/towns.toml:9:1
  |
9 | priority = 5
  | ^^^^^^^^
  = help: `other` has priority 9 over 5

";
    let expected = format!(
        "{}{conflict}{}0 errors, 3 warnings in 2 files; 2 campaigns, 2 messages, 304 townships\n",
        late_slot("other"),
        late_slot("towns")
    );
    assert_eq!(stdout(&out), expected);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn check_cannot_run_without_schedules() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no `schedules` folder"),
        "{}",
        stderr(&out)
    );
}

pub(crate) fn plan_json(root: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec![
        "plan",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-03",
        "--format",
        "json",
    ];
    args.extend(extra);
    let out = run_in(root, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str::<serde_json::Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn plan_json_lists_pairs_in_order_outside_quiet_hours() {
    let dir = project(&[("towns.toml", TOWNS)]);
    let all = plan_json(dir.path(), &[]);
    // 2 days × 2 townships at 08:00; at 22:30 only 城北镇, whose quiet hours start at 23:00.
    assert_eq!(all.len(), 6);
    let late: Vec<&str> = all
        .iter()
        .filter(|b| b["start"].as_str().unwrap().contains("T22:30:00"))
        .map(|b| b["township_code"].as_str().unwrap())
        .collect();
    assert_eq!(late, ["513431101", "513431101"]);
    let b = &all[0];
    assert_eq!(b["township_code"], "513431100");
    assert_eq!(b["township_name"], "新城镇");
    assert_eq!(b["county_code"], "513431");
    assert_eq!(b["campaign"], "towns");
    assert_eq!(b["start"], "2026-12-01T08:00:00+08:00");
    // zh 4 s + gap 2 s + ii 3 s
    assert_eq!(b["end"], "2026-12-01T08:00:09+08:00");
    let items = b["items"].as_array().unwrap();
    let langs: Vec<&str> = items.iter().map(|i| i["lang"].as_str().unwrap()).collect();
    assert_eq!(langs, ["zh", "ii"]);
    assert_eq!(items[0]["message"], items[1]["message"]);
    assert_eq!(items[0]["gap_after_s"], 2.0);
    assert_eq!(items[1]["gap_after_s"], 0.0);
    assert_eq!(items[0]["duration_s"], 4.0);
    let file = items[0]["file"].as_str().unwrap();
    assert!(
        file.starts_with("audio/") && file.ends_with("/zh.wav"),
        "{file}"
    );
    // Round robin: the next occurrence airs the other message.
    let next = all
        .iter()
        .find(|b| b["start"] == "2026-12-01T22:30:00+08:00")
        .unwrap();
    assert_ne!(next["items"][0]["message"], b["items"][0]["message"]);
    // Filters narrow to one township.
    let one = plan_json(dir.path(), &["--township", "城北镇"]);
    assert_eq!(one.len(), 4);
    assert!(one.iter().all(|b| b["township_code"] == "513431101"));
    // Planning twice gives the same bytes.
    assert_eq!(plan_json(dir.path(), &[]), all);
}

#[test]
fn plan_summary_counts_per_county_per_day() {
    let dir = project(&[("towns.toml", TOWNS)]);
    let args = [
        "plan",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-03",
        "--summary",
        "--format",
        "csv",
    ];
    let out = run_in(dir.path(), &args);
    assert_eq!(
        stdout(&out),
        "day,county_code,county_name,broadcasts,townships\n\
         2026-12-01,513431,昭觉县,3,2\n2026-12-02,513431,昭觉县,3,2\n"
    );
}

#[test]
fn plan_rejects_an_unknown_county_with_a_suggestion() {
    let dir = project(&[("towns.toml", TOWNS)]);
    let out = run_in(dir.path(), &["plan", "--county", "昭觉市"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error: unknown county `昭觉市`"), "{err}");
    assert!(
        err.contains("= help: did you mean 昭觉县 `513431`?"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn plan_with_errors_plans_the_valid_parts_and_exits_1() {
    let broken = TOWNS.replace("\"illegal-fundraising\"", "\"illegal-fundrasing\"");
    let dir = project(&[("towns.toml", &broken)]);
    let out = run_in(
        dir.path(),
        &[
            "plan",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-02",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("error: unknown message `illegal-fundrasing`"),
        "{err}"
    );
    assert!(
        err.contains("warning: `shengbo check` finds 1 error; planning only the valid"),
        "{err}"
    );
    let all: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(all.len(), 3);
    assert!(
        all.iter()
            .all(|b| b["items"][0]["message"] == "police-impersonation")
    );
}

#[test]
fn the_repositorys_own_schedules_and_audio_pass_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join("audio").is_dir() {
        panic!("the repository has no audio/ folder yet");
    }
    let data = tempfile::tempdir().unwrap();
    let out = shengbo()
        .args(["check"])
        .env("SHENGBO_ROOT", root)
        .env("SHENGBO_DATA_DIR", data.path())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.lines().any(|l| l.starts_with("0 errors,")), "{text}");
}

#[test]
fn plan_table_lines_up_han_names() {
    let dir = project(&[("towns.toml", TOWNS)]);
    let out = run_in(
        dir.path(),
        &["plan", "--from", "2026-12-01", "--to", "2026-12-02"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = "\
start             end       county  township  code       campaign  programme
2026-12-01 08:00  08:00:09  昭觉县  新城镇    513431100  towns     police-impersonation zh+ii
2026-12-01 08:00  08:00:09  昭觉县  城北镇    513431101  towns     police-impersonation zh+ii
2026-12-01 22:30  22:30:09  昭觉县  城北镇    513431101  towns     illegal-fundraising zh+ii
3 broadcasts in 2 townships; skipped: 1 starts in the township's quiet hours
";
    assert_eq!(stdout(&out), expected);
}

#[test]
fn plan_speaks_chinese_by_default_and_english_with_lang_en() {
    let dir = project(&[("towns.toml", TOWNS)]);
    let args = ["plan", "--from", "2026-12-01", "--to", "2026-12-02"];
    let out = run_in_default_lang(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Han headings are two columns a character wide: the columns still line up.
    let expected = "\
开始              结束      县      乡镇    代码       活动   节目
2026-12-01 08:00  08:00:09  昭觉县  新城镇  513431100  towns  police-impersonation zh+ii
2026-12-01 08:00  08:00:09  昭觉县  城北镇  513431101  towns  police-impersonation zh+ii
2026-12-01 22:30  22:30:09  昭觉县  城北镇  513431101  towns  illegal-fundraising zh+ii
3 次播出，涉及 2 个乡镇；跳过：1 次开始时间在乡镇的静默时段内
";
    assert_eq!(stdout(&out), expected);
    let out = run_in_default_lang(dir.path(), &[&args[..], &["--lang", "en"]].concat());
    assert!(stdout(&out).starts_with("start  "), "{}", stdout(&out));
    let summary = run_in_default_lang(dir.path(), &[&args[..], &["--summary"]].concat());
    assert_eq!(
        stdout(&summary),
        "日期        县      名称    播出次数  乡镇数\n\
         2026-12-01  513431  昭觉县         3       2\n\
         共 3 次播出\n"
    );
    let out = run_in_default_lang(dir.path(), &["plan", "--county", "昭觉市"]);
    assert!(
        stderr(&out).starts_with("错误：未知的县市 `昭觉市`\n  = 提示：是不是 昭觉县 `513431`？"),
        "{}",
        stderr(&out)
    );
    let out = run_in_default_lang(
        dir.path(),
        &["plan", "--from", "2026-12-02", "--to", "2026-12-01"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "错误：`--to`（2026-12-01）必须晚于 `--from`（2026-12-02）\n"
    );
}

#[test]
fn plan_says_why_a_market_day_broadcast_airs() {
    let market = "id = \"market\"\nname = \"赶场\"\nmessages = [\"police-impersonation\"]\n\
                  [targets]\ncounties = [\"昭觉县\"]\n[days]\nmarket = true\n\
                  [[slots]]\ncron = \"0 9 * * *\"\n";
    let markets = "[[market]]\ncounty = \"昭觉县\"\ndigits = [3, 6, 9]\ncalendar = \"solar\"\n\n\
                   [[market]]\ntownship = \"竹核镇\"\nbranch = [\"子\", \"午\"]\n";
    let dir = project(&[("market.toml", market), ("markets.toml", markets)]);
    let args = [
        "plan",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-11",
        "--township",
        "竹核镇",
        "--format",
        "json",
    ];
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = v.as_array().or_else(|| v["broadcasts"].as_array()).unwrap();
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|b| {
            (
                &b["start"].as_str().unwrap()[..10],
                b["reason"].as_str().unwrap(),
            )
        })
        .collect();
    // 子 and 午 days in early December 2026: the 4th and the 10th.
    assert_eq!(
        got,
        [("2026-12-04", "赶场 子午日"), ("2026-12-10", "赶场 子午日")]
    );
    let args = [
        "plan",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-07",
        "--township",
        "城北镇",
    ];
    let out = run_in(dir.path(), &args);
    let text = stdout(&out);
    assert!(
        text.contains("why") && text.contains("赶场 公历逢3、6、9"),
        "{text}"
    );
    let args = [
        "plan",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-04",
        "--township",
        "城北镇",
        "--format",
        "csv",
    ];
    let text = stdout(&run_in(dir.path(), &args));
    assert!(
        text.lines().next().unwrap().ends_with(",reason,villages"),
        "{text}"
    );
    assert!(text.contains(",赶场 公历逢3、6、9"), "{text}");
}
