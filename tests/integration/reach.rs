//! Reach on every surface: the simulator at 50% coverage behind `shengbo demo`, then the same
//! ledger read by `run --json`, `coverage --format json` and `GET /v1/coverage` — each shows
//! about half the targeted population reached, and all show the same numbers.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use shengbo::server::records;
use shengbo::sim::Faults;

use super::push::{drill_campaign, project, run_once, start_sim, this_minute};
use super::server::{Fixture, get};
use super::util;

/// `reached 1,234 of 5,678 people` in `text` after `marker` → (1234, 5678).
fn reached_in(text: &str, marker: &str) -> (u64, u64) {
    let rest = &text[text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker}: {text}"))
        + marker.len()..];
    let num = |s: &str| s.replace(',', "").parse::<u64>().unwrap();
    let (reached, rest) = rest.split_once(" of ").unwrap();
    let targeted = rest.split_whitespace().next().unwrap();
    (num(reached), num(targeted))
}

fn totals(j: &Value) -> (u64, u64) {
    let n = |k: &str| j[k].as_u64().unwrap_or_else(|| panic!("{k}: {j}"));
    (n("population_reached"), n("population_targeted"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_coverage_is_half_reached_and_the_same_on_every_surface() {
    let proj = project(&drill_campaign("all = true"), None);
    let root = proj.path();
    let at: DateTime<Utc> = this_minute() + Duration::minutes(1);
    let demo = util::run_in(
        root,
        &[
            "demo",
            "--slots",
            "1",
            "--coverage",
            "0.5",
            "--from",
            &at.to_rfc3339(),
        ],
    );
    let text = util::stdout(&demo);
    assert_eq!(
        demo.status.code(),
        Some(0),
        "{text}\n{}",
        util::stderr(&demo)
    );
    let from_demo = reached_in(&text, "reach: reached ");
    let share = from_demo.0 as f64 / from_demo.1 as f64;
    assert!((0.45..=0.5).contains(&share), "demo: {share}\n{text}");
    assert!(
        !text.contains("not confirmed by a coverage report"),
        "{text}"
    );

    // `run` over the same slot: everything is final in the ledger, nothing is sent again.
    let sim = start_sim(
        Faults {
            coverage_ratio: 0.5,
            ..Faults::default()
        },
        120.0,
    )
    .await;
    let run = run_once(root, &sim.url, at, &["--json"]).await;
    assert_eq!(run.status.code(), Some(0), "{}", util::stderr(&run));
    let run: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(totals(&run["reach"]), from_demo);
    let text = run_once(root, &sim.url, at, &[]).await;
    let text = util::stdout(&text);
    assert_eq!(reached_in(&text, "reach: reached "), from_demo, "{text}");
    assert_eq!(sim.state.stats().messages, 0, "nothing sent twice");

    let period = [
        (at - Duration::hours(1)).to_rfc3339(),
        (at + Duration::hours(1)).to_rfc3339(),
    ];
    let cli = util::run_in(
        root,
        &[
            "coverage", "--format", "json", "--from", &period[0], "--to", &period[1],
        ],
    );
    assert_eq!(cli.status.code(), Some(0), "{}", util::stderr(&cli));
    let cli: Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(totals(&cli["totals"]), from_demo);
    assert_eq!(cli["totals"]["population_unreported"], 0);
    // The same figures as a table: Chinese with no language in the environment, English with
    // `--lang en`; the prefecture's total people reached is the JSON's either way.
    let table = |lang: &[&str]| {
        let args = [
            &["coverage", "--from", &period[0], "--to", &period[1]],
            lang,
        ]
        .concat();
        util::stdout(&util::run_in_default_lang(root, &args))
    };
    let zh = table(&[]);
    assert!(zh.starts_with("覆盖 "), "{zh}");
    assert!(zh.lines().nth(1).unwrap().starts_with("地区 "), "{zh}");
    let total = zh.lines().find(|l| l.starts_with("凉山州 合计")).unwrap();
    let reached = cli["totals"]["population_reached"].to_string();
    assert!(total.contains(&format!(" {reached} ")), "{total}");
    assert!(zh.contains("%目标：占目标人口"), "{zh}");
    let en = table(&["--lang", "en"]);
    assert!(en.lines().nth(1).unwrap().starts_with("area "), "{en}");
    assert!(en.contains("\n凉山州 total "), "{en}");

    let mut f = Fixture::new();
    let ledger = root.join(".shengbo/ledger.sqlite");
    f.state = f
        .state
        .clone()
        .with_records(records::open(&ledger).unwrap());
    let uri = format!(
        "/v1/coverage?from={}&to={}",
        period[0].replace('+', "%2B"),
        period[1].replace('+', "%2B")
    );
    let api = get(&f.state, &uri, Some(&f.coordinator), &[]).await;
    assert_eq!(api.status, axum::http::StatusCode::OK, "{}", api.text());
    let api = api.json();
    assert_eq!(totals(&api["totals"]), from_demo);
    assert_eq!(api["totals"], cli["totals"], "API and CLI give one report");
    assert_eq!(api["rows"], cli["rows"]);
    let page = get(
        &f.state,
        &uri.replace("/v1/coverage", "/coverage"),
        Some(&f.coordinator),
        &[],
    )
    .await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    let cell = format!("<td>{}</td>", shengbo::reach::thousands(from_demo.0));
    assert!(page.text().contains(&cell), "the page shows {cell}");

    // One reach function for the metrics, on the same ledger.
    let l = shengbo::ledger::SqliteLedger::open(&ledger).unwrap();
    let dir = shengbo::directory::Directory::liangshan();
    let figures = shengbo::reach::of_period(
        &l,
        &dir,
        at - Duration::hours(1),
        at + Duration::hours(1),
        None,
    )
    .unwrap();
    assert_eq!(
        (figures.population_reached, figures.population_targeted),
        from_demo
    );
    let (last, figures) = shengbo::reach::of_last_closed_run(&l, &dir)
        .unwrap()
        .unwrap();
    assert_eq!(last.occurrence, at);
    assert_eq!(
        (figures.population_reached, figures.population_targeted),
        from_demo
    );
}
