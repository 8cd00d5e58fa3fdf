//! Several sender codes: the real `shengbo run --once` against the simulator (which checks that
//! a package's EBDID, EBMID and `SRC/EBRID` name one code) after the first code's message
//! counter of the day was raised close to its 9,999 through the ledger. Deliveries roll over to
//! the next code; with none left the run stops with a clear error, keeps what it recorded, and a
//! later run with another code resumes it under the same ids.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use chrono::{DateTime, NaiveDate, Utc};
use shengbo::ebd::{EbdId, EbmId, IdFormat};
use shengbo::ledger::{Delivery, DeliveryState, Ledger, SqliteLedger, sequence_counter};
use shengbo::push::prepare::beijing_day;
use shengbo::sim::Faults;

use super::{all_deliveries, drill_campaign, ledger, project, run_once, start_sim, this_minute};
use crate::util;

const FIRST: &str = "45134310000000102010101";
const SECOND: &str = "45134310000000102010102";
const THIRD: &str = "45134310000000102010103";

/// Three county platforms, one Yi–Mandarin pair each: six deliveries.
const THREE_COUNTIES: &str = "counties = [\"昭觉县\", \"布拖县\", \"美姑县\"]";

fn write_senders(root: &Path, extra: &[&str]) {
    let list: Vec<String> = extra.iter().map(|c| format!("\"{c}\"")).collect();
    let text = format!("[ebd]\nextra_sender_ebrids = [{}]\n", list.join(", "));
    std::fs::write(root.join("schedules/settings.toml"), text).unwrap();
}

/// Mark `used` message ids of `code` as handed out, through the ledger interface, for today's
/// Beijing day and the next: a run started now draws its ids for one of them (the day its run
/// was created), even when the day turns while the test runs.
fn seed(root: &Path, code: &str, used: u32) {
    std::fs::create_dir_all(root.join(".shengbo")).unwrap();
    let l = SqliteLedger::open(&root.join(".shengbo/ledger.sqlite")).unwrap();
    let counter = sequence_counter("ebm", code, code == FIRST);
    let today = beijing_day(Utc::now());
    for day in [today, today.succ_opt().unwrap()] {
        assert_eq!(l.raise_sequence(&counter, day, used).unwrap(), used);
    }
}

/// The Beijing day the project's one run was created on: the day of its ids.
fn run_day(ledger: &SqliteLedger) -> NaiveDate {
    let runs = ledger
        .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)
        .unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    beijing_day(runs[0].created_at)
}

/// (sender code, sequence) of a delivery's EBMID, after checking its EBDID has the same code.
fn sender_and_seq(d: &Delivery) -> (String, u16) {
    let ebm = EbmId::parse(&d.plan.ebm_id, IdFormat::V2018).unwrap();
    let ebd = EbdId::parse(&d.plan.ebd_id, IdFormat::V2018).unwrap();
    assert_eq!(ebd.sender(), ebm.sender(), "{d:?}");
    (ebm.sender().to_string(), ebm.seq())
}

fn by_sender(deliveries: &[Delivery]) -> BTreeMap<String, Vec<u16>> {
    let mut out: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    for d in deliveries {
        let (code, seq) = sender_and_seq(d);
        out.entry(code).or_default().push(seq);
    }
    out.values_mut().for_each(|v| v.sort_unstable());
    out
}

fn ok(out: &Output) {
    util::assert_exit(out, 0);
}

/// Ids and payload digests, per endpoint × segment.
fn ids(ledger: &SqliteLedger) -> BTreeMap<(String, u32), (String, String, String)> {
    all_deliveries(ledger)
        .into_iter()
        .map(|d| {
            let key = (d.plan.endpoint, d.plan.segment);
            (key, (d.plan.ebd_id, d.plan.ebm_id, d.plan.payload_digest))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_first_sender_rolls_over_to_the_second_and_the_sim_takes_both() {
    let sim = start_sim(Faults::default(), 120.0).await;
    let proj = project(&drill_campaign(THREE_COUNTIES), None);
    write_senders(proj.path(), &[SECOND]);
    seed(proj.path(), FIRST, 9_998);
    let out = run_once(proj.path(), &sim.url, this_minute(), &[]).await;
    ok(&out);
    let ledger = ledger(proj.path());
    let day = run_day(&ledger);
    let deliveries = all_deliveries(&ledger);
    assert_eq!(deliveries.len(), 6);
    let senders = by_sender(&deliveries);
    assert_eq!(senders[FIRST], [9_999], "the first code's last number");
    assert_eq!(
        senders[SECOND],
        [1, 2, 3, 4, 5],
        "then the second code's from 1"
    );
    assert!(
        deliveries.iter().all(|d| d.state == DeliveryState::Played),
        "the simulator took every package and answered every state request: {deliveries:?}"
    );
    assert_eq!(sim.state.stats().messages, 6);
    assert_eq!(sim.state.stats().by_code[2], 0, "no sender mismatch");
    // A pair may straddle the codes: each message names the other wherever it is from.
    for d in &deliveries {
        let other = deliveries
            .iter()
            .find(|o| o.plan.endpoint == d.plan.endpoint && o.plan.segment != d.plan.segment)
            .unwrap();
        assert_eq!(
            d.plan.related_ebm_id.as_deref(),
            Some(other.plan.ebm_id.as_str())
        );
    }
    // The first code's counter stays at its bound; the second's moved on.
    assert_eq!(
        ledger.next_sequence_within("ebm", day, 9_999).unwrap(),
        None
    );
    let second = sequence_counter("ebm", SECOND, false);
    assert_eq!(ledger.raise_sequence(&second, day, 0).unwrap(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_extra_senders_a_full_day_is_a_clear_error_and_keeps_what_was_recorded() {
    let sim = start_sim(Faults::default(), 120.0).await;
    let proj = project(&drill_campaign(THREE_COUNTIES), None);
    // Two numbers left: one endpoint's pair, then nothing.
    seed(proj.path(), FIRST, 9_997);
    let at = this_minute();
    let out = run_once(proj.path(), &sim.url, at, &[]).await;
    let day = run_day(&ledger(proj.path()));
    assert!(!out.status.success(), "{}", util::stdout(&out));
    let err = util::stderr(&out);
    assert!(err.contains("used up"), "{err}");
    assert!(err.contains(&day.to_string()), "names the day: {err}");
    assert!(err.contains(&format!("`{FIRST}`")), "names the code: {err}");
    assert!(
        err.contains("extra_sender_ebrids"),
        "says what to do: {err}"
    );
    assert_eq!(sim.state.stats().requests, 0, "nothing sent");
    let ledger = ledger(proj.path());
    let kept = all_deliveries(&ledger);
    assert_eq!(
        kept.len(),
        2,
        "the pair recorded before the counter ran out"
    );
    assert_eq!(by_sender(&kept)[FIRST], [9_998, 9_999]);
    assert!(kept.iter().all(|d| d.state == DeliveryState::Pending));
    assert_eq!(
        ledger.next_sequence_within("ebm", day, 9_999).unwrap(),
        None,
        "the counter was not pushed past its bound"
    );
    // The same again changes nothing: no id is handed out twice, nothing recorded is lost.
    let again = run_once(proj.path(), &sim.url, at, &[]).await;
    assert!(!again.status.success());
    assert_eq!(ids(&ledger), ids_of(&kept));
}

fn ids_of(ds: &[Delivery]) -> BTreeMap<(String, u32), (String, String, String)> {
    ds.iter()
        .map(|d| {
            let key = (d.plan.endpoint.clone(), d.plan.segment);
            let v = (
                d.plan.ebd_id.clone(),
                d.plan.ebm_id.clone(),
                d.plan.payload_digest.clone(),
            );
            (key, v)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_one_more_code_reuses_the_second_codes_ids_byte_for_byte() {
    let sim = start_sim(Faults::default(), 120.0).await;
    let proj = project(&drill_campaign(THREE_COUNTIES), None);
    write_senders(proj.path(), &[SECOND]);
    // One number left on the first code, three on the second: two of the three pairs.
    seed(proj.path(), FIRST, 9_998);
    seed(proj.path(), SECOND, 9_996);
    let at = this_minute();
    let out = run_once(proj.path(), &sim.url, at, &[]).await;
    assert!(!out.status.success());
    let err = util::stderr(&out);
    assert!(
        err.contains(&format!("`{FIRST}`, `{SECOND}`")),
        "names every code: {err}"
    );
    let before = ids(&ledger(proj.path()));
    assert_eq!(before.len(), 4);
    let kept = all_deliveries(&ledger(proj.path()));
    assert_eq!(by_sender(&kept)[SECOND], [9_997, 9_998, 9_999]);

    write_senders(proj.path(), &[SECOND, THIRD]);
    let out = run_once(proj.path(), &sim.url, at, &[]).await;
    ok(&out);
    let ledger = ledger(proj.path());
    let after = ids(&ledger);
    assert_eq!(after.len(), 6);
    for (key, recorded) in &before {
        assert_eq!(
            &after[key], recorded,
            "same ids and payload digest for {key:?}"
        );
    }
    let deliveries = all_deliveries(&ledger);
    let senders = by_sender(&deliveries);
    assert_eq!(senders[FIRST], [9_999]);
    assert_eq!(senders[SECOND], [9_997, 9_998, 9_999]);
    assert_eq!(senders[THIRD], [1, 2]);
    // Played: each package was rebuilt to the digest recorded before the restart (a mismatch
    // is cancelled, never sent) and passed the simulator's sender checks.
    assert!(
        deliveries.iter().all(|d| d.state == DeliveryState::Played),
        "{deliveries:?}"
    );
    assert_eq!(sim.state.stats().messages, 6);
    let runs = ledger
        .runs(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, None)
        .unwrap();
    assert_eq!(runs.len(), 1, "the second run resumed the first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_run_then_restart_resends_the_second_codes_packages_unchanged() {
    let faults = Faults {
        slow_rate: 1.0,
        slow_ms: 1_500,
        ..Faults::default()
    };
    let sim = start_sim(faults, 120.0).await;
    let proj = project(&drill_campaign("all = true"), None);
    write_senders(proj.path(), &[SECOND]);
    // Four numbers left on the first code: 30 of the 34 deliveries are the second code's.
    seed(proj.path(), FIRST, 9_995);
    let at = this_minute();
    let mut child = super::run_cmd(proj.path(), &sim.url, at, &[])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let recorded = |root: &Path| {
        let path = root.join(".shengbo/ledger.sqlite");
        SqliteLedger::open(&path).map_or(0, |l| all_deliveries(&l).len())
    };
    while recorded(proj.path()) < 34 || sim.state.stats().requests == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.start_kill().unwrap();
    assert!(!child.wait().await.unwrap().success(), "killed mid-run");
    let before = ids(&ledger(proj.path()));
    let unsettled = all_deliveries(&ledger(proj.path()))
        .iter()
        .filter(|d| !d.state.is_final())
        .count();
    assert!(unsettled > 0, "the kill came before the run finished");

    let out = run_once(proj.path(), &sim.url, at, &[]).await;
    ok(&out);
    let ledger = ledger(proj.path());
    assert_eq!(ids(&ledger), before, "the same ids and payload digests");
    let deliveries = all_deliveries(&ledger);
    let senders = by_sender(&deliveries);
    assert_eq!(senders[FIRST], [9_996, 9_997, 9_998, 9_999]);
    assert_eq!(senders[SECOND], (1..=30).collect::<Vec<u16>>());
    assert!(
        deliveries.iter().all(|d| d.state == DeliveryState::Played),
        "{deliveries:?}"
    );
    // Resent packages were the same messages: one message per delivery reached the simulator.
    assert_eq!(sim.state.stats().messages, 34);
    assert_eq!(sim.state.stats().by_code[2], 0, "no sender mismatch");
}
