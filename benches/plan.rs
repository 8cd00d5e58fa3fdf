//! Planning benchmark (not a test): 30 days × every township × the demo campaigns under
//! `schedules/`, with the catalog of `audio/` loaded once beforehand. Run via `benches/plan.sh`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, NaiveTime};
use shengbo::catalog::Catalog;
use shengbo::catalog::gate::GateConfig;
use shengbo::directory::Directory;
use shengbo::plan::{BroadcastRecord, plan};
use shengbo::schedule::cron::place_in_zone;

const RUNS: usize = 30;

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cache = tempfile::tempdir().expect("temporary cache");
    let directory = Directory::liangshan();
    let catalog = Catalog::load(root, &GateConfig::default(), Some(cache.path())).expect("catalog");
    let (campaigns, _) = shengbo::schedule::load_dir(root, &directory);
    let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let tz = chrono_tz::Asia::Shanghai;
    let from = place_in_zone(tz, day.and_time(NaiveTime::MIN));
    let to = place_in_zone(tz, (day + Days::new(30)).and_time(NaiveTime::MIN));

    let mut plan_times = Vec::with_capacity(RUNS);
    let mut json_times = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let p = black_box(plan(&campaigns, &directory, &catalog, from, to));
        plan_times.push(t.elapsed());
        let t = Instant::now();
        let records: Vec<BroadcastRecord> =
            p.broadcasts.iter().map(BroadcastRecord::from).collect();
        let json = black_box(serde_json::to_vec(&records).unwrap());
        json_times.push(t.elapsed());
        last = Some((p, json.len()));
    }
    let (p, bytes) = last.unwrap();
    let items: usize = p.broadcasts.iter().map(|b| b.items.len()).sum();
    println!(
        "input: {} campaigns, {} messages, {} townships, 30 days from {day}",
        campaigns.len(),
        catalog.messages.len(),
        directory.townships().len()
    );
    println!(
        "output: {} broadcasts, {items} items, {} skipped, {} conflicts, JSON {:.1} MB",
        p.broadcasts.len(),
        p.skipped.len(),
        p.conflicts.len(),
        bytes as f64 / 1e6
    );
    report("plan", &mut plan_times);
    report("plan → JSON", &mut json_times);
    frequent(&directory, &catalog);
    calendar_year(
        &directory,
        &catalog,
        "all = true",
        directory.townships().len(),
        "townships",
    );
    let villages: Vec<String> = directory
        .townships()
        .iter()
        .flat_map(|t| &t.villages)
        .map(|v| format!("\"{}\"", v.code))
        .collect();
    let targets = format!("villages = [{}]", villages.join(", "));
    calendar_year(&directory, &catalog, &targets, villages.len(), "villages");
}

/// A year of market-day and festival campaigns over `targets` (all 304 townships, or all 2,377
/// villages by code, `n` of them): every county has a market rule (a mix of kinds, solar and
/// lunar), one campaign airs at 09:00 on each township's market days, one in windows around
/// 火把节 and 春节 and never on 彝历新年.
fn calendar_year(directory: &Directory, catalog: &Catalog, targets: &str, n: usize, what: &str) {
    let dir = tempfile::tempdir().expect("temporary project");
    let schedules = dir.path().join("schedules");
    std::fs::create_dir_all(&schedules).unwrap();
    let rules = [
        "digits = [1, 4, 7]\ncalendar = \"solar\"\non_31st = false",
        "digits = [3, 6, 9]\ncalendar = \"lunar\"",
        "parity = \"odd\"\ncalendar = \"lunar\"",
        "every = 3\nanchor = 2026-12-01",
        "branch = [\"子\", \"午\"]",
        "weekdays = [\"周日\"]",
    ];
    let markets: String = directory
        .counties()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "[[market]]\ncounty = \"{}\"\n{}\n\n",
                c.code,
                rules[i % rules.len()]
            )
        })
        .collect();
    std::fs::write(schedules.join("markets.toml"), markets).unwrap();
    let head = format!(
        "messages = [\"police-impersonation\", \"illegal-fundraising\"]\n[targets]\n{targets}\n"
    );
    let market = format!(
        "id = \"market\"\nname = \"赶场\"\n{head}[days]\nmarket = true\n[[slots]]\ncron = \"0 9 * * *\"\n"
    );
    let festival = format!(
        "id = \"festival\"\nname = \"节日\"\n{head}[days]\nwithin = [{{ day = \"火把节\", before = 7 }}, {{ day = \"春节\", before = 14, after = 7 }}]\nexcept = [\"彝历新年\"]\n[[slots]]\ncron = \"0 10,16 * * *\"\n"
    );
    std::fs::write(schedules.join("market.toml"), market).unwrap();
    std::fs::write(schedules.join("festival.toml"), festival).unwrap();
    let (campaigns, diags) = shengbo::schedule::load_dir(dir.path(), directory);
    assert_eq!(campaigns.len(), 2, "{diags:?}");
    let tz = chrono_tz::Asia::Shanghai;
    let day = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    let from = place_in_zone(tz, day.and_time(NaiveTime::MIN));
    let to = place_in_zone(tz, (day + Days::new(365)).and_time(NaiveTime::MIN));
    let mut times = Vec::with_capacity(10);
    let (mut broadcasts, mut areas) = (0, 0);
    for _ in 0..10 {
        let t = Instant::now();
        let p = black_box(plan(&campaigns, directory, catalog, from, to));
        times.push(t.elapsed());
        broadcasts = p.broadcasts.len();
        areas = p.broadcasts.iter().map(|b| b.villages.len().max(1)).sum();
    }
    println!(
        "calendar year 2027: 2 campaigns × {n} {what} × 365 days: {broadcasts} broadcasts for {areas} {what}"
    );
    times.sort();
    let median = times[times.len() / 2].as_secs_f64();
    println!(
        "  per day {:.2} ms, per target-day ({what}) {:.2} µs",
        median * 1000.0 / 365.0,
        median * 1e6 / 365.0 / n as f64
    );
    report(
        &format!("plan (calendar campaigns over {what}, one year)"),
        &mut times,
    );
}

/// A round-robin campaign firing every minute with no `valid_from` (turns counted from
/// 2024-01-01): what a scheduler re-planning the next hour pays for the rotation index.
fn frequent(directory: &Directory, catalog: &Catalog) {
    let dir = tempfile::tempdir().expect("temporary project");
    let schedules = dir.path().join("schedules");
    std::fs::create_dir_all(&schedules).unwrap();
    let toml = "id = \"every-minute\"\nname = \"每分钟\"\ntimezone = \"Asia/Shanghai\"\n\
                messages = [\"police-impersonation\", \"illegal-fundraising\"]\n\
                rotation = \"round-robin\"\norder = [\"ii\", \"zh\"]\n\
                [targets]\ncounties = [\"昭觉县\"]\n[[slots]]\ncron = \"* * * * *\"\n";
    std::fs::write(schedules.join("every-minute.toml"), toml).unwrap();
    let (campaigns, _) = shengbo::schedule::load_dir(dir.path(), directory);
    assert_eq!(campaigns.len(), 1, "the every-minute campaign loads");
    let tz = chrono_tz::Asia::Shanghai;
    let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let from = place_in_zone(tz, day.and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap()));
    let mut times = Vec::with_capacity(RUNS);
    let mut broadcasts = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let p = black_box(plan(
            &campaigns,
            directory,
            catalog,
            from,
            from + chrono::Duration::hours(1),
        ));
        times.push(t.elapsed());
        broadcasts = p.broadcasts.len();
    }
    println!("every-minute round-robin, 1 hour, 1 county: {broadcasts} broadcasts");
    report("plan (every minute, next hour)", &mut times);
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what}: min {:.1} ms, median {:.1} ms, max {:.1} ms ({} runs)",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
        times.len()
    );
}
