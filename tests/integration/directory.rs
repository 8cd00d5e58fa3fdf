//! `shengbo directory` and the interface language: the real binary, Chinese unless told
//! otherwise, English with `--lang en`, `LANG` or the `locale` setting; no ANSI codes when the
//! output is not a terminal.

use crate::util::{run_in, shengbo, stderr, stdout};

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let schedules = dir.path().join("schedules");
    std::fs::create_dir(&schedules).unwrap();
    let campaign = "id = \"zj\"\nname = \"昭觉宣传\"\nmessages = [\"m\"]\n[targets]\ncounties = [\"昭觉县\"]\n[[slots]]\ncron = \"0 12 * * 1-5\"\n";
    std::fs::write(schedules.join("zj.toml"), campaign).unwrap();
    let endpoints = "[[endpoint]]\nid = \"zj-ebm\"\nkind = \"ebd\"\nurl = \"http://127.0.0.1:9/ebd\"\nebrid = \"45134310000000314010101\"\ncounties = [\"昭觉县\"]\n";
    std::fs::write(schedules.join("endpoints.toml"), endpoints).unwrap();
    dir
}

#[test]
fn directory_finds_pinyin_with_endpoint_and_campaign() {
    let dir = project();
    let out = run_in(dir.path(), &["directory", "zhaojue", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let county = rows.iter().find(|r| r["code"] == "513431").unwrap();
    assert_eq!(county["level"], "county");
    assert_eq!(county["campaigns"], "zj");
    assert_eq!(county["endpoints"], "zj-ebm");
    let out = run_in(dir.path(), &["directory", "zhuhe", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let zhuhe = rows.iter().find(|r| r["name"] == "竹核镇").unwrap();
    assert_eq!(zhuhe["estimated"], true);
    assert_eq!(
        (&zhuhe["endpoints"], &zhuhe["campaigns"]),
        (&"zj-ebm".into(), &"zj".into())
    );
}

#[test]
fn directory_table_csv_county_filter_and_no_match() {
    let dir = project();
    let out = run_in(
        dir.path(),
        &["directory", "--county", "昭觉县", "--lang", "zh"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        text.starts_with("级别") && text.contains("竹核镇"),
        "{text}"
    );
    assert!(
        text.contains("（估）") && !text.contains("西昌市"),
        "{text}"
    );
    let out = run_in(dir.path(), &["directory", "大通门", "--format", "csv"]);
    let csv = stdout(&out);
    assert!(
        csv.starts_with("level,code,name,county,township,population"),
        "{csv}"
    );
    assert!(csv.contains("village,513401001003,"), "{csv}");
    let out = run_in(dir.path(), &["directory", "qqqqq"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("`qqqqq`"), "{}", stderr(&out));
    let out = run_in(dir.path(), &["directory", "--county", "昭角县"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("昭觉县 `513431`"), "{}", stderr(&out));
}

#[test]
fn chinese_unless_told_otherwise() {
    let dir = project();
    let check = |envs: &[(&str, &str)], args: &[&str]| {
        let mut cmd = shengbo();
        cmd.env_remove("LANG").env("SHENGBO_ROOT", dir.path());
        cmd.env("SHENGBO_DATA_DIR", dir.path().join(".shengbo"));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd
            .arg("directory")
            .arg("513431")
            .args(args)
            .output()
            .unwrap();
        stdout(&out)
    };
    assert!(check(&[], &[]).starts_with("级别"));
    assert!(check(&[("LANG", "C.UTF-8")], &[]).starts_with("级别"));
    assert!(check(&[("LANG", "en_US.UTF-8")], &[]).starts_with("level"));
    assert!(check(&[("LC_ALL", "en_GB.UTF-8")], &[]).starts_with("level"));
    assert!(check(&[("LANG", "en_US.UTF-8")], &["--lang", "zh"]).starts_with("级别"));
    std::fs::write(
        dir.path().join("schedules/settings.toml"),
        "locale = \"en\"\n",
    )
    .unwrap();
    assert!(check(&[], &[]).starts_with("level"));
    assert!(check(&[], &["--lang", "zh"]).starts_with("级别"));
}

#[test]
fn check_speaks_chinese_and_writes_no_ansi_codes_to_a_pipe() {
    let dir = project();
    std::fs::create_dir(dir.path().join("audio")).unwrap();
    let out = shengbo()
        .args(["-v", "check", "--lang", "zh"])
        .env("NO_COLOR", "1")
        .env("SHENGBO_ROOT", dir.path())
        .env("SHENGBO_DATA_DIR", dir.path().join(".shengbo"))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("错误: 未知的消息 `m`"), "{text}");
    assert!(text.contains("个错误"), "{text}");
    assert!(stderr(&out).contains("INFO"), "{}", stderr(&out));
    assert!(!stderr(&out).contains('\u{1b}') && !text.contains('\u{1b}'));
}
