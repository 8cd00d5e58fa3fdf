//! Integration tests: villages targeted end to end — `check` and `plan --village` through the
//! binary, a village campaign pushed to the simulator on loopback and read back as
//! `coverage --by village`, and the simulator refusing area codes outside its county.

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
    assert!(
        stdout(&out).contains("竹核镇 (2 villages)"),
        "{}",
        stdout(&out)
    );
    let out = run_in(
        dir.path(),
        &[
            "plan",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-02",
            "--lang",
            "zh",
        ],
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
        stderr(&out).contains("did you mean 尼日村村民委员会 `513431102200` (昭觉县 竹核镇)?"),
        "{}",
        stderr(&out)
    );
}

const PUSHED: &str = "villages = [\"竹核镇/尼日村\", \"513431102201\"]\ntownships = [\"新城镇\"]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn village_codes_go_out_as_area_codes_and_come_back_as_coverage_by_village() {
    use crate::push::{drill_campaign, ledger, project, run_once, start_sim, this_minute};
    use shengbo::ledger::{DeliveryState, Ledger};
    let sim = start_sim(shengbo::sim::Faults::default(), 120.0).await;
    let proj = project(&drill_campaign(PUSHED), None);
    let at = this_minute();
    let out = run_once(proj.path(), &sim.url, at, &[]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let ledger = ledger(proj.path());
    let runs = ledger
        .runs(at, at + chrono::Duration::minutes(1), None)
        .unwrap();
    let deliveries = ledger.deliveries_of_run(runs[0].id).unwrap();
    assert_eq!(deliveries.len(), 2, "one pair through 昭觉县's platform");
    for d in &deliveries {
        assert_eq!(
            d.plan.townships,
            ["513431100", "513431102200", "513431102201"]
        );
        assert_eq!(d.state, DeliveryState::Played);
    }
    // The platform's coverage reports name the same areas (the villages by their own codes).
    let reports = ledger.state_reports(deliveries[0].id).unwrap();
    let areas = &reports.last().unwrap().area_codes;
    assert_eq!(areas, &["513431100000", "513431102200", "513431102201"]);
    let from = (at - chrono::Duration::minutes(1)).to_rfc3339();
    let to = (at + chrono::Duration::minutes(30)).to_rfc3339();
    let args = [
        "coverage", "--by", "village", "--format", "json", "--from", &from, "--to", &to,
    ];
    let out = run_in(proj.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let dir = shengbo::directory::Directory::liangshan();
    let xincheng = dir.township("513431100").unwrap();
    assert_eq!(rows.len(), xincheng.villages.len() + 2);
    let codes: Vec<&str> = rows.iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"513431102200") && codes.contains(&"513431102201"));
    assert!(!codes.contains(&"513431102202"), "{codes:?}");
    let people = |c: &str| dir.area(c).unwrap().population.people;
    let targeted = xincheng.population.people + people("513431102200") + people("513431102201");
    assert_eq!(report["totals"]["population_targeted"], targeted);
    assert_eq!(report["totals"]["population_reached"], targeted);
    assert_eq!(report["totals"]["villages_targeted"], 2);
    assert_eq!(report["totals"]["townships_targeted"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_refuses_area_codes_outside_the_platforms_county() {
    use crate::push::{drill_campaign, ledger, project, run_once, start_sim, this_minute};
    use shengbo::ledger::{DeliveryState, Ledger};
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let demo = std::fs::read_to_string(repo.join("schedules/endpoints.toml")).unwrap();
    // 西昌市's villages sent to a platform that says it is 昭觉县's.
    let wrong = demo.replace(
        "ebrid = \"45134010000000314010101\"",
        "ebrid = \"45134310000000314010101\"",
    );
    assert_ne!(wrong, demo);
    let sim = start_sim(shengbo::sim::Faults::default(), 120.0).await;
    let targets = "villages = [\"513401001003\"]";
    let proj = project(&drill_campaign(targets), Some(&wrong));
    let at = this_minute();
    let out = run_once(proj.path(), &sim.url, at, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let ledger = ledger(proj.path());
    let runs = ledger
        .runs(at, at + chrono::Duration::minutes(1), None)
        .unwrap();
    let deliveries = ledger.deliveries_of_run(runs[0].id).unwrap();
    assert!(!deliveries.is_empty());
    for d in &deliveries {
        assert_eq!(d.state, DeliveryState::Rejected, "{d:?}");
        let reason = d.reason.as_deref().unwrap_or_default();
        assert!(
            reason.contains("AreaCode `513401001003` lies outside"),
            "{reason}"
        );
    }
}

#[test]
fn a_staff_figure_replaces_a_villages_estimate_and_directory_marks_estimates() {
    let dir = project(&[("villages.toml", VILLAGES)]);
    let settings = "[[population]]\ntownship = \"513431102200\"\npeople = 777\nsource = \"村委会 2025 户籍\"\n";
    std::fs::write(dir.path().join("schedules/settings.toml"), settings).unwrap();
    let out = run_in(dir.path(), &["check"]);
    let text = stdout(&out);
    assert!(
        text.contains("竹核镇 尼日村村民委员会 `513431102200` 777 people (`村委会 2025 户籍`)"),
        "{text}{}",
        stderr(&out)
    );
    let args = ["directory", "513431102", "--format", "json"];
    let rows: serde_json::Value =
        serde_json::from_str(&stdout(&run_in(dir.path(), &args))).unwrap();
    let rows = rows.as_array().unwrap();
    // `directory` shows the embedded figures: every village an estimate, adding up to its township.
    let villages: Vec<&serde_json::Value> =
        rows.iter().filter(|r| r["level"] == "village").collect();
    assert!(
        villages.iter().all(|r| r["estimated"] == true),
        "{villages:?}"
    );
    let sum: u64 = villages
        .iter()
        .map(|r| r["population"].as_u64().unwrap())
        .sum();
    let township = rows.iter().find(|r| r["code"] == "513431102").unwrap();
    assert_eq!(Some(sum), township["population"].as_u64());
}
