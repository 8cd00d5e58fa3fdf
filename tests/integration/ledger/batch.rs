//! A run's deliveries recorded in one transaction per batch: all of a batch or none, a repeated
//! delivery found with its first ids.

use super::*;

#[test]
fn a_batch_is_recorded_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sqlite");
    let l = open(&path);
    let (run, _) = l.open_run("c", t(10, 0), 2, t(9, 0)).unwrap();
    let (first, _) = l
        .record_delivery(
            &new_delivery(run, "a", Lang::Ii, &["513431100"], 1),
            t(9, 0),
        )
        .unwrap();

    // The last of the batch names a run that does not exist: nothing of the batch stays.
    let bad = [
        new_delivery(run, "b", Lang::Ii, &["513431101"], 2),
        new_delivery(run, "b", Lang::Zh, &["513431101"], 3),
        new_delivery(RunId(999), "c", Lang::Ii, &["513431102"], 4),
    ];
    assert!(l.record_deliveries(&bad, t(9, 1)).is_err());
    let kept = l.deliveries_of_run(run).unwrap();
    assert_eq!(kept.len(), 1, "only the delivery recorded before: {kept:?}");

    let good = [
        new_delivery(run, "a", Lang::Ii, &["513431100"], 5),
        new_delivery(run, "b", Lang::Ii, &["513431101"], 2),
        new_delivery(run, "b", Lang::Zh, &["513431101"], 3),
    ];
    let recorded = l.record_deliveries(&good, t(9, 2)).unwrap();
    let created: Vec<bool> = recorded.iter().map(|(_, c)| *c).collect();
    assert_eq!(created, [false, true, true]);
    assert_eq!(
        (recorded[0].0.id, &recorded[0].0.plan.ebd_id),
        (first.id, &first.plan.ebd_id),
        "a repeated delivery keeps its first ids"
    );
    assert_eq!(recorded[2].0.plan.townships, ["513431101"]);
    // Durable after reopening, in the order given.
    drop(l);
    let again = open(&path).deliveries_of_run(run).unwrap();
    let ids: Vec<_> = again.iter().map(|d| d.plan.ebd_id.clone()).collect();
    let want: Vec<_> = recorded
        .iter()
        .map(|(d, _)| d.plan.ebd_id.clone())
        .collect();
    assert_eq!(ids, want);
}
