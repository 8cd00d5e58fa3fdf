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

both_stores!(writes_arriving_together_each_get_their_own_answer);

/// Many threads settle attempts and record state reports on one ledger at once (on SQLite they
/// are committed in groups): each gets its own answer — its attempt's id, its report's
/// delivery, or, for a write naming no delivery, its own error — and everything that worked is
/// there after reopening.
fn writes_arriving_together_each_get_their_own_answer(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("c", t(10, 0), 48, t(9, 0)).unwrap();
    let news: Vec<_> = (0..48u32)
        .map(|i| new_delivery(run, &format!("e{i}"), Lang::Ii, &["513431100"], i + 1))
        .collect();
    let ids: Vec<_> = l
        .record_deliveries(&news, t(9, 0))
        .unwrap()
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    let answers: Vec<(usize, i64, Option<shengbo::ledger::DeliveryId>)> = std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .chunks(6)
            .enumerate()
            .map(|(k, chunk)| {
                let l = &l;
                s.spawn(move || {
                    let mut out = Vec::new();
                    for (j, d) in chunk.iter().enumerate() {
                        let settled = Settled {
                            attempt: attempt(d.id, AttemptResult::Delivered),
                            to: Some((DeliveryState::Delivered, "ResultCode 1".to_string())),
                            health: None,
                        };
                        let id = l.record_settled(&settled).unwrap();
                        let found = l.record_state_report(&report(&d.plan.ebm_id, 3, None, &[]));
                        out.push((k * 6 + j, id, found.unwrap()));
                    }
                    out
                })
            })
            .collect();
        // A write for a delivery that does not exist, among the others.
        let unknown = shengbo::ledger::DeliveryId(999_999);
        let bad = l.record_settled(&Settled {
            attempt: attempt(unknown, AttemptResult::Delivered),
            to: None,
            health: None,
        });
        assert!(
            matches!(bad, Err(LedgerError::UnknownDelivery(d)) if d == unknown),
            "{bad:?}"
        );
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(answers.len(), ids.len());
    drop(l);
    let l = store.open();
    let mut attempt_ids = std::collections::HashSet::new();
    for (i, id, found) in answers {
        let d = &ids[i];
        assert_eq!(found, Some(d.id), "the report's own delivery");
        let attempts = l.attempts(d.id).unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].id, id, "the attempt's own id");
        assert!(attempt_ids.insert(id));
        assert_eq!(l.state_reports(d.id).unwrap().len(), 1);
        assert_eq!(
            l.delivery(d.id).unwrap().unwrap().state,
            DeliveryState::Played
        );
    }
}
