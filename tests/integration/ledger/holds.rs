//! A run held while its deliveries are recorded, on both stores: one instance at a time, the
//! next one in once the holder lets go; on PostgreSQL also once the holder's session dies.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use shengbo::ledger::{Ledger, RunId};

use super::{Store, t};

both_stores!(
    a_run_is_held_by_one_instance_at_a_time,
    a_waiting_instance_gets_the_run_once_its_holder_lets_go,
);

/// Long enough never to run out while the holder is alive in these tests.
const LONG: Duration = Duration::from_secs(600);

fn run(l: &dyn Ledger) -> RunId {
    l.open_run("fraud", t(10, 0), 1, t(9, 50)).unwrap().0
}

fn a_run_is_held_by_one_instance_at_a_time(store: &Store) {
    let (a, b) = (store.open(), store.open());
    let id = run(a.as_ref());
    let other = a.open_run("fraud", t(11, 0), 1, t(9, 50)).unwrap().0;
    let held = a.hold_run(id, Duration::ZERO).unwrap().expect("a free run");
    // B's wait runs out while A holds the run; another run is B's at once.
    assert!(b.hold_run(id, Duration::ZERO).unwrap().is_none());
    assert!(b.hold_run(id, Duration::from_millis(20)).unwrap().is_none());
    let _other = b
        .hold_run(other, Duration::ZERO)
        .unwrap()
        .expect("another run");
    drop(held);
    let again = b.hold_run(id, LONG).unwrap();
    assert!(again.is_some(), "B holds the run A let go");
    // A ledger closed while holding nothing leaves B's hold in place.
    drop(a);
    let c = store.open();
    assert!(c.hold_run(id, Duration::ZERO).unwrap().is_none());
}

fn a_waiting_instance_gets_the_run_once_its_holder_lets_go(store: &Store) {
    let (a, b) = (store.open(), store.open());
    let id = run(a.as_ref());
    let held = a.hold_run(id, Duration::ZERO).unwrap().expect("a free run");
    let let_go = AtomicBool::new(false);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let got = b.hold_run(id, LONG).unwrap().is_some();
            (got, let_go.load(Ordering::SeqCst))
        });
        let_go.store(true, Ordering::SeqCst);
        drop(held);
        assert_eq!(
            waiter.join().unwrap(),
            (true, true),
            "B got it only after A let go"
        );
    });
}

/// An instance that dies holding a run (its session ends: the process killed, the connection
/// cut) lets go of it; the one waiting records the run.
#[test]
fn a_dead_holders_run_is_taken_by_the_waiting_instance() {
    let url = crate::util::pg::fresh_database();
    let store = Store::Postgres(url.clone());
    let (a, b) = (store.open(), store.open());
    let id = run(a.as_ref());
    let _held = a.hold_run(id, Duration::ZERO).unwrap().expect("a free run");
    std::thread::scope(|s| {
        let waiter = s.spawn(|| b.hold_run(id, LONG).unwrap().is_some());
        let ended = std::thread::spawn(move || {
            let mut c = crate::util::pg::client(&url);
            // The session holding the run's lock in this database, granted: A's.
            let row = c
                .query_one(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks
                     WHERE locktype = 'advisory' AND granted
                       AND database = (SELECT oid FROM pg_database
                                       WHERE datname = current_database())",
                    &[],
                )
                .unwrap();
            row.get::<_, i64>(0)
        })
        .join()
        .unwrap();
        assert_eq!(ended, 1, "one session held the run");
        assert!(waiter.join().unwrap(), "B holds the dead holder's run");
    });
}
