//! Integration tests: villages targeted end to end — `check` and `plan --village` through the
//! binary, and a village campaign pushed to the simulator on loopback and read back as
//! `coverage --by village`.

use crate::plan::{plan_json, project};
use crate::util::{run_in, stderr, stdout};

const VILLAGES: &str = r#"
id = "villages"
name = "两个村"
messages = ["police-impersonation"]

[targets]
villages = ["竹核镇/尼日村", "513431102201"]
townships = ["城北镇"]
exclude_villages = ["513431101201"]

[[slots]]
cron = "0 8 * * *"
"#;

#[test]
fn plan_lists_the_villages_each_broadcast_is_for() {
    let dir = project(&[("villages.toml", VILLAGES)]);
    let all = plan_json(dir.path(), &[]);
    let zhuhe: Vec<&serde_json::Value> = all
        .iter()
        .filter(|b| b["township_code"] == "513431102")
        .collect();
    assert_eq!(zhuhe.len(), 2, "{all:?}");
    assert_eq!(
        zhuhe[0]["villages"],
        serde_json::json!(["513431102200", "513431102201"])
    );
    let chengbei = all.iter().find(|b| b["township_code"] == "513431101");
    let kept = chengbei.unwrap()["villages"].as_array().unwrap().len();
    assert!(
        kept > 1
            && !chengbei.unwrap()["villages"]
                .to_string()
                .contains("513431101201")
    );
    // `--village`: only what that village hears.
    let one = plan_json(dir.path(), &["--village", "尼日村"]);
    assert_eq!(one.len(), 2);
    assert!(one.iter().all(|b| b["township_code"] == "513431102"));
    let none = plan_json(dir.path(), &["--village", "513431101201"]);
    assert!(none.is_empty(), "{none:?}");
    // The table marks a township heard in part.
    let out = run_in(
        dir.path(),
        &["plan", "--from", "2026-12-01", "--to", "2026-12-02"],
    );
    assert!(stdout(&out).contains("竹核镇（2 村）"), "{}", stdout(&out));
}

#[test]
fn unknown_villages_fail_check_and_plan_with_a_suggestion() {
    let broken = VILLAGES.replace("竹核镇/尼日村", "竹核镇/泥日村");
    let dir = project(&[("villages.toml", &broken)]);
    let out = run_in(dir.path(), &["--lang", "zh", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out) + &stderr(&out);
    assert!(text.contains("未知的村（社区） `竹核镇/泥日村`"), "{text}");
    assert!(
        text.contains("是不是 尼日村村民委员会 `513431102200`"),
        "{text}"
    );
    let out = run_in(dir.path(), &["plan", "--village", "竹核镇/泥日村"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did you mean `尼日村村民委员会`"),
        "{}",
        stderr(&out)
    );
}
