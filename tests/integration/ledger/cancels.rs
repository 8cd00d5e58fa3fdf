//! Cancels of a broken pair's half: recorded once before sending, settled once; a confirmed
//! cancel moves its delivery to `cancelled` in the same transaction; a file of the previous
//! schema gains the table.

use shengbo::lang::Lang;
use shengbo::ledger::{CancelState, DeliveryState, NewCancel};

use super::{Store, new_delivery, t};

both_stores!(
    a_cancel_is_recorded_once_and_settled_once,
    a_refused_cancel_leaves_the_delivery_as_it_was,
);

fn a_cancel_is_recorded_once_and_settled_once(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("drill", t(10, 0), 1, t(9, 0)).unwrap();
    let (yi, _) = l
        .record_delivery(
            &new_delivery(run, "zhaojue", Lang::Ii, &["513431100"], 1),
            t(9, 0),
        )
        .unwrap();
    l.transition(yi.id, DeliveryState::Delivered, None, t(9, 1))
        .unwrap();
    let new = NewCancel {
        delivery: yi.id,
        ebd_id: format!("10{:039}", 9),
        reason: "Mandarin half expired".into(),
        cancel_by: t(10, 30),
    };
    let (c, created) = l.record_cancel(&new, t(10, 0)).unwrap();
    assert!(created);
    assert_eq!(c.state, CancelState::Pending);
    let again = NewCancel {
        ebd_id: format!("10{:039}", 10),
        ..new.clone()
    };
    let (same, created) = l.record_cancel(&again, t(10, 1)).unwrap();
    assert!(!created);
    assert_eq!(same.ebd_id, new.ebd_id, "the first package id is kept");
    drop(l);

    // After a reopen (a restart) the pending cancel is still there to send.
    let l = store.open();
    assert_eq!(l.cancels(None).unwrap().len(), 1);
    assert!(
        l.settle_cancel(yi.id, CancelState::Done, Some("taken"), t(10, 2))
            .unwrap()
    );
    assert!(
        !l.settle_cancel(yi.id, CancelState::Refused, Some("late"), t(10, 3))
            .unwrap(),
        "settled once"
    );
    let d = l.delivery(yi.id).unwrap().unwrap();
    assert_eq!(d.state, DeliveryState::Cancelled);
    assert!(d.reason.unwrap().contains("Mandarin half expired"));
    assert!(l.cancels(None).unwrap().is_empty(), "nothing pending");
    let all = l.cancels(Some(run)).unwrap();
    assert_eq!(all[0].state, CancelState::Done);
    assert_eq!(all[0].detail.as_deref(), Some("taken"));
}

fn a_refused_cancel_leaves_the_delivery_as_it_was(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("drill", t(10, 0), 1, t(9, 0)).unwrap();
    let (zh, _) = l
        .record_delivery(
            &new_delivery(run, "zhaojue", Lang::Zh, &["513431100"], 2),
            t(9, 0),
        )
        .unwrap();
    l.transition(zh.id, DeliveryState::Delivered, None, t(9, 1))
        .unwrap();
    let new = NewCancel {
        delivery: zh.id,
        ebd_id: format!("10{:039}", 11),
        reason: "Yi half rejected".into(),
        cancel_by: t(10, 30),
    };
    l.record_cancel(&new, t(10, 0)).unwrap();
    l.settle_cancel(
        zh.id,
        CancelState::Refused,
        Some("ResultCode 5: gone out"),
        t(10, 1),
    )
    .unwrap();
    assert_eq!(
        l.delivery(zh.id).unwrap().unwrap().state,
        DeliveryState::Delivered
    );
    assert_eq!(l.cancels(Some(run)).unwrap()[0].state, CancelState::Refused);
}
