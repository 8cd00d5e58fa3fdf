//! Several instances, one database: counters handed out once across instances, and `/readyz`
//! saying whether the instance reaches its database (and recovering the connection when the
//! database answers again).

use std::sync::Barrier;

use axum::http::StatusCode;

use super::{Store, t};
use crate::server::{Fixture, get};
use crate::util;

both_stores!(two_instances_never_hand_out_one_counter_value_twice);

/// Two ledgers on one store (two instances) draw the same counter at once: every value once.
fn two_instances_never_hand_out_one_counter_value_twice(store: &Store) {
    let day = t(9, 0).date_naive();
    let barrier = Barrier::new(2);
    let drawn: Vec<u32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let l = store.open();
                    barrier.wait();
                    (0..60)
                        .map(|_| l.next_sequence_within("ebm", day, 120).unwrap().unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut sorted = drawn.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=120).collect::<Vec<u32>>());
    let l = store.open();
    assert_eq!(l.next_sequence_within("ebm", day, 120).unwrap(), None);
}

fn admin(sql: String) {
    std::thread::spawn(move || {
        util::pg::client(&util::pg::url("postgres"))
            .batch_execute(&sql)
            .unwrap()
    })
    .join()
    .unwrap();
}

#[tokio::test]
async fn readyz_says_whether_the_database_answers() {
    let url = util::pg::fresh_database();
    let name = url.rsplit('/').next().unwrap().to_string();
    let ledger = Store::Postgres(url.clone()).open();
    let f = Fixture::new();
    let state = f
        .state
        .clone()
        .with_records(shengbo::server::records::shared(ledger.clone(), None));
    let ready = get(&state, "/readyz", None, &[]).await;
    assert_eq!(ready.status, StatusCode::OK);

    // The database goes away (its connections cut): not ready, and the reason says why.
    admin(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';
         ALTER DATABASE {name} RENAME TO {name}_away"
    ));
    let gone = get(&state, "/readyz", None, &[]).await;
    assert_eq!(
        gone.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        gone.text()
    );
    assert!(gone.text().contains("ledger"), "{}", gone.text());

    // It is back: the next check connects again and the instance is ready, its rows intact.
    admin(format!("ALTER DATABASE {name}_away RENAME TO {name}"));
    let back = get(&state, "/readyz", None, &[]).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text());
    assert!(ledger.open_run("c", t(10, 0), 1, t(9, 0)).unwrap().1);
}
