//! Delivery leases on both stores: one holder at a time until the lease runs out, renewals,
//! releases, and run-out leases claimed once by instances claiming at the same moment.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use shengbo::lang::Lang;
use shengbo::ledger::{
    AttemptResult, CancelState, Claim, DeliveryId, DeliveryState, Ledger, NewAttempt, NewCancel,
};

use super::{Store, new_delivery, race, t};

both_stores!(
    a_lease_has_one_holder_until_it_runs_out,
    run_out_leases_are_claimed_once_by_racing_instances,
    a_dead_instances_follow_ups_are_claimed_once,
    a_delivery_turning_final_gives_up_its_lease_and_is_not_leased_again,
);

/// A run with `n` deliveries (one per endpoint), written at 09:50.
fn deliveries(l: &dyn Ledger, n: u32) -> Vec<DeliveryId> {
    let (run, _) = l.open_run("fraud", t(10, 0), n, t(9, 50)).unwrap();
    (0..n)
        .map(|i| {
            let new = new_delivery(run, &format!("ep-{i}"), Lang::Ii, &["513431001"], i + 1);
            l.record_delivery(&new, t(9, 50)).unwrap().0.id
        })
        .collect()
}

fn secs(at: DateTime<Utc>, s: i64) -> DateTime<Utc> {
    at + TimeDelta::seconds(s)
}

/// A claim at `now` by instances that ask play states for 2 minutes after a window.
fn at(now: DateTime<Utc>, stale: DateTime<Utc>) -> Claim {
    Claim {
        now,
        stale,
        states_since: now - TimeDelta::minutes(2),
    }
}

fn a_lease_has_one_holder_until_it_runs_out(store: &Store) {
    let (a, b) = (store.open(), store.open());
    let ids = deliveries(a.as_ref(), 3);
    let now = t(9, 50);
    let held = a.lease(&ids[..2], "county-a", t(9, 51), now).unwrap();
    assert_eq!(held, ids[..2]);
    assert_eq!(
        a.lease_of(ids[0]).unwrap(),
        Some(("county-a".to_string(), t(9, 51)))
    );
    // Another instance gets only the free one while A's lease runs.
    let held = b.lease(&ids, "county-b", t(9, 51), secs(now, 30)).unwrap();
    assert_eq!(held, [ids[2]]);
    // The holder renews.
    let held = a
        .lease(&ids[..1], "county-a", t(9, 52), secs(now, 45))
        .unwrap();
    assert_eq!(held, [ids[0]]);
    // At 09:51 A's lease on the second ran out: B takes it, not the renewed first.
    let held = b.lease(&ids, "county-b", t(9, 53), t(9, 51)).unwrap();
    assert_eq!(held, ids[1..]);
    assert_eq!(
        a.lease(&ids[1..2], "county-a", t(9, 54), t(9, 51)).unwrap(),
        []
    );
    // A release gives up only the caller's own leases.
    assert_eq!(a.release_leases(&ids, "county-a").unwrap(), 1);
    assert_eq!(a.lease_of(ids[0]).unwrap(), None);
    assert_eq!(
        b.lease_of(ids[1]).unwrap(),
        Some(("county-b".to_string(), t(9, 53)))
    );
    assert_eq!(b.release_leases(&ids, "county-b").unwrap(), 2);
    assert!(ids.iter().all(|&id| b.lease_of(id).unwrap().is_none()));
    // Every attempt records its instance.
    a.record_attempt(&NewAttempt {
        delivery: ids[0],
        started_at: t(9, 58),
        finished_at: t(9, 58),
        result: AttemptResult::Timeout,
        latency_ms: 5,
        error: None,
        instance: Some("county-b".to_string()),
    })
    .unwrap();
    let attempts = store.open().attempts(ids[0]).unwrap();
    assert_eq!(attempts[0].instance.as_deref(), Some("county-b"));
}

fn a_delivery_turning_final_gives_up_its_lease_and_is_not_leased_again(store: &Store) {
    let l = store.open();
    let ids = deliveries(l.as_ref(), 3);
    let now = t(9, 50);
    assert_eq!(l.lease(&ids, "county-a", t(9, 51), now).unwrap(), ids);
    // Expired by a move, played by a state report: each gives up its lease as it turns final;
    // one only delivered keeps it.
    l.transition(ids[0], DeliveryState::Expired, Some("test"), now)
        .unwrap();
    l.transition(ids[1], DeliveryState::Delivered, None, now)
        .unwrap();
    l.transition(ids[2], DeliveryState::Delivered, None, now)
        .unwrap();
    let ebm = l.delivery(ids[2]).unwrap().unwrap().plan.ebm_id;
    let played = shengbo::ledger::StateReport {
        ebm_id: ebm,
        reported_at: now,
        brd_state_code: 3,
        description: None,
        coverage_rate: None,
        area_codes: Vec::new(),
        terminals: None,
        raw: String::new(),
    };
    assert_eq!(l.record_state_report(&played).unwrap(), Some(ids[2]));
    assert_eq!(
        l.delivery(ids[2]).unwrap().unwrap().state,
        DeliveryState::Played
    );
    assert_eq!(l.lease_of(ids[0]).unwrap(), None);
    assert_eq!(l.lease_of(ids[2]).unwrap(), None);
    assert_eq!(
        l.lease_of(ids[1]).unwrap(),
        Some(("county-a".to_string(), t(9, 51)))
    );
    // A renewal counts the final ones as held (nothing is lost) without leasing them again; the
    // release then finds only the open one still leased.
    assert_eq!(l.lease(&ids, "county-a", t(9, 52), now).unwrap(), ids);
    assert_eq!(l.lease_of(ids[0]).unwrap(), None);
    assert_eq!(l.lease_of(ids[2]).unwrap(), None);
    assert_eq!(l.lease_of(ids[1]).unwrap().unwrap().1, t(9, 52));
    // Another instance cannot take a final delivery either (but counts it as needing no lease).
    assert_eq!(
        l.lease(&ids, "county-b", t(9, 53), now).unwrap(),
        [ids[0], ids[2]]
    );
    assert_eq!(l.lease_of(ids[0]).unwrap(), None);
    assert_eq!(l.release_leases(&ids, "county-a").unwrap(), 1);
}

fn run_out_leases_are_claimed_once_by_racing_instances(store: &Store) {
    let l = store.open();
    let ids = deliveries(l.as_ref(), 24);
    // A dead instance held 20 until 09:51; one of them is final, one never leased.
    let dead = l
        .lease(&ids[..20], "county-dead", t(9, 51), t(9, 50))
        .unwrap();
    assert_eq!(dead.len(), 20);
    l.transition(ids[0], DeliveryState::Expired, Some("test"), t(9, 50))
        .unwrap();
    // A live instance holds three more until 10:30.
    l.lease(&ids[20..23], "county-live", t(10, 30), t(9, 50))
        .unwrap();
    // Never leased, written at 09:50: claimable only once it is stale (written before 09:45 —
    // it is not), so it stays with whoever is recording it.
    let stale = t(9, 45);
    let claimed = race(store, 2, 6, |l| {
        let me = format!("{:?}", std::thread::current().id());
        let got = l
            .claim_leases(&me, t(9, 53), &at(t(9, 52), stale), 3)
            .unwrap();
        got.into_iter()
            .map(|d| {
                assert_eq!(d.state, DeliveryState::Pending);
                let (holder, until) = l.lease_of(d.id).unwrap().unwrap();
                assert_eq!((holder.as_str(), until), (me.as_str(), t(9, 53)));
                d.id
            })
            .collect::<Vec<_>>()
    });
    let all: Vec<DeliveryId> = claimed.into_iter().flatten().collect();
    let once: BTreeSet<DeliveryId> = all.iter().copied().collect();
    assert_eq!(all.len(), once.len(), "a delivery claimed twice: {all:?}");
    let expected: BTreeSet<DeliveryId> = ids[1..20].iter().copied().collect();
    assert_eq!(once, expected);
    // Once stale, the never-leased one is claimed too (the claims above run to 09:53); past
    // its air-by, nothing is.
    let late = l
        .claim_leases("county-c", t(9, 55), &at(secs(t(9, 52), 30), t(9, 50)), 10)
        .unwrap();
    assert_eq!(late.iter().map(|d| d.id).collect::<Vec<_>>(), [ids[23]]);
    let overdue = l
        .claim_leases("county-c", t(10, 40), &at(t(10, 31), t(10, 31)), 10)
        .unwrap();
    assert!(overdue.is_empty(), "{overdue:?}");
}

/// A cancel of `delivery` (package number `n`) to send until 10:20, recorded at 09:59.
fn record_cancel(l: &dyn Ledger, delivery: DeliveryId, n: u32) {
    let new = NewCancel {
        delivery,
        ebd_id: format!("10{n:039}"),
        reason: "partner half expired".into(),
        cancel_by: t(10, 20),
    };
    l.record_cancel(&new, t(9, 59)).unwrap();
}

/// What a dead instance left to follow up — a delivered delivery whose play state is still
/// asked, a delivered half with a cancel to send — is claimed once its lease runs out, by one
/// of the instances claiming at once, and so is a cancel no one is sending (its delivery
/// released); a followed-up delivery its holder released, a live lease, a final delivery, a
/// state wait over and a settled cancel are not.
fn a_dead_instances_follow_ups_are_claimed_once(store: &Store) {
    let l = store.open();
    // Windows end at 10:05, air-by 10:02; written at 09:50.
    let ids = deliveries(l.as_ref(), 8);
    l.lease(&ids, "county-dead", t(10, 1), t(9, 50)).unwrap();
    for &id in ids[..6].iter().chain(&ids[7..]) {
        l.transition(id, DeliveryState::Delivered, None, t(9, 58))
            .unwrap();
    }
    // ids[0]: delivered, its play state still to ask. ids[1]: delivered, a cancel to send.
    record_cancel(l.as_ref(), ids[1], 901);
    // ids[2]: followed up and released by its holder. ids[3]: held by a live instance.
    assert_eq!(l.release_leases(&ids[2..3], "county-dead").unwrap(), 1);
    l.release_leases(&ids[3..4], "county-dead").unwrap();
    l.lease(&ids[3..4], "county-live", t(10, 30), t(9, 59))
        .unwrap();
    // ids[7]: delivered and released, then a cancel recorded for it (its pair broke later):
    // no one is sending that cancel.
    assert_eq!(l.release_leases(&ids[7..], "county-dead").unwrap(), 1);
    record_cancel(l.as_ref(), ids[7], 903);
    // ids[4]: played. ids[5]: delivered with a settled (refused) cancel: claimed for its play
    // state only while the state wait lasts. ids[6]: pending past its air-by.
    l.transition(ids[4], DeliveryState::Played, None, t(10, 5))
        .unwrap();
    record_cancel(l.as_ref(), ids[5], 902);
    l.settle_cancel(ids[5], CancelState::Refused, Some("refused"), t(10, 0))
        .unwrap();
    // Before the lease ran out only the cancel no one is sending is claimed (until 10:02).
    let early = l
        .claim_leases("county-b", t(10, 2), &at(t(10, 0), t(9, 55)), 10)
        .unwrap();
    assert_eq!(early.iter().map(|d| d.id).collect::<Vec<_>>(), [ids[7]]);
    // At 10:06 (state wait 2 minutes): the ones to follow up, once, by racing instances.
    let claimed = race(store, 2, 3, |l| {
        let me = format!("{:?}", std::thread::current().id());
        let got = l
            .claim_leases(&me, t(10, 7), &at(t(10, 6), t(10, 0)), 10)
            .unwrap();
        got.iter().map(|d| d.id).collect::<Vec<_>>()
    });
    let all: Vec<DeliveryId> = claimed.into_iter().flatten().collect();
    let once: BTreeSet<DeliveryId> = all.iter().copied().collect();
    assert_eq!(all.len(), once.len(), "a delivery claimed twice: {all:?}");
    let expected = BTreeSet::from([ids[0], ids[1], ids[5], ids[7]]);
    assert_eq!(once, expected);
    assert_eq!(l.lease_of(ids[6]).unwrap().unwrap().0, "county-dead");
    // At 10:12 the state wait is over (window ended 10:05 < 10:10): only the cancels, still
    // inside their cancel-by, are claimed again once the claims above ran out.
    let later = l
        .claim_leases("county-c", t(10, 13), &at(t(10, 12), t(10, 0)), 10)
        .unwrap();
    assert_eq!(
        later.iter().map(|d| d.id).collect::<Vec<_>>(),
        [ids[1], ids[7]]
    );
    assert_eq!(later[0].state, DeliveryState::Delivered);
    // Settled (done: the delivery is cancelled; too late), nothing is left to claim.
    l.settle_cancel(ids[1], CancelState::Done, Some("ok"), t(10, 13))
        .unwrap();
    l.settle_cancel(ids[7], CancelState::TooLate, Some("late"), t(10, 13))
        .unwrap();
    let none = l
        .claim_leases("county-d", t(10, 15), &at(t(10, 14), t(10, 0)), 10)
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
}
