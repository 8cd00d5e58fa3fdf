//! Edited endpoints under the in-process service on paused time: a broken `endpoints.toml`
//! leaves the last good endpoints in force for the next slot; a valid edit moves a township to
//! another platform for the slot after, and the heartbeat follows the endpoints in force.

use std::time::Duration;

use chrono::TimeDelta;
use shengbo::dispatch::Clock;
use shengbo::sim::Faults;

use super::fast_registry;
use super::service::{Running, campaign, settled_run, sim_with, t0};

/// Write `text` to `schedules/<name>` in one step (a rename), so a poll never sees half a file.
fn replace_file(root: &std::path::Path, name: &str, text: &str) {
    let tmp = root.join(format!("{name}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, root.join("schedules").join(name)).unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_edited_endpoint_registry_applies_to_the_next_slot_a_broken_one_never() {
    let push = "lead_time_s = 120\nair_by_s = 600\nbackoff_base_ms = 20\nbackoff_cap_s = 0.2\n\
                connection_check_s = 60\nstate_wait_s = 5";
    let registry = fast_registry(push, "5");
    let proj = super::project(
        &campaign("drill", "police-impersonation", "0 * * * *"),
        Some(&registry),
    );
    let root = proj.path();
    let (sim, old) = sim_with(t0(), Faults::default()).await;
    let (other_url, other) = sim_with(t0(), Faults::default()).await;
    let service = Running::start(root, &sim, Clock::starting_at(t0()), true, 1).await;
    let first = t0() + TimeDelta::minutes(10);
    let pushed = settled_run(root, "drill", first, Duration::from_secs(3600)).await;
    assert!(
        pushed.iter().all(|d| d.plan.endpoint == "zhaojue"),
        "{pushed:?}"
    );
    let sent = old.stats().messages;
    assert_eq!(sent, pushed.len() as u64);

    // A broken edit: the next slot keeps the last good endpoints.
    replace_file(
        root,
        "endpoints.toml",
        &registry.replace("[\"昭觉县\"]", "[\"昭觉镇县\"]"),
    );
    let second = first + TimeDelta::hours(1);
    let pushed = settled_run(root, "drill", second, Duration::from_secs(2 * 3600)).await;
    assert!(
        pushed.iter().all(|d| d.plan.endpoint == "zhaojue"),
        "{pushed:?}"
    );
    assert_eq!(
        other.stats().requests,
        0,
        "nothing went to the other platform"
    );

    // 昭觉县 moves to a new endpoint on another platform; the others keep `{sim}`.
    let moved = registry
        .replace("\"zhaojue\"", "\"zhaojue-b\"")
        .replace("{sim}/ebd/513431/", &format!("{other_url}/b/513431/"));
    replace_file(root, "endpoints.toml", &moved);
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert!(
        other.stats().requests > 0,
        "the heartbeat checks the endpoints in force"
    );
    let sent = old.stats().messages;
    let third = second + TimeDelta::hours(1);
    let pushed = settled_run(root, "drill", third, Duration::from_secs(2 * 3600)).await;
    assert!(
        pushed.iter().all(|d| d.plan.endpoint == "zhaojue-b"),
        "{pushed:?}"
    );
    assert_eq!(
        other.stats().messages,
        pushed.len() as u64,
        "sent to the new url"
    );
    assert_eq!(old.stats().messages, sent, "nothing more to the old one");
    service.stop().await;
}
