//! A run's deliveries recorded in one transaction per batch (on both stores): all of a batch or
//! none, a repeated delivery found with its first ids, two instances recording one batch
//! creating each delivery once; per-delivery writes arriving together, each with its own answer;
//! a group whose connection is cut mid-transaction losing and doubling nothing; a write that
//! loses a deadlock written again.

use super::*;

both_stores!(
    a_batch_is_recorded_whole_or_not_at_all,
    instances_recording_one_batch_at_once_create_each_delivery_once,
    a_delivery_under_another_deliverys_ids_is_refused_naming_them,
    a_recorded_batch_answers_what_reading_it_back_gives
);

/// Each delivery a batch answers — created by it or recorded before — is what reading it back
/// gives: times to the millisecond, townships once each and in order, state and reason. A
/// batch recorded with a lease writes the deliveries it creates leased to its holder.
fn a_recorded_batch_answers_what_reading_it_back_gives(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("c", t(10, 0), 3, t(9, 0)).unwrap();
    let (before, _) = l
        .record_delivery(
            &new_delivery(run, "a", Lang::Ii, &["513431100"], 1),
            t(9, 0),
        )
        .unwrap();
    l.transition(before.id, DeliveryState::Expired, Some("test"), t(9, 1))
        .unwrap();
    let odd = chrono::TimeDelta::nanoseconds(1_234_567);
    let mut unsorted = new_delivery(
        run,
        "b",
        Lang::Ii,
        &["513431102", "513431100", "513431102"],
        2,
    );
    unsorted.window_start += odd;
    unsorted.window_end += odd;
    unsorted.air_by += odd;
    let batch = [
        new_delivery(run, "a", Lang::Ii, &["513431100"], 3),
        unsorted,
        new_delivery(run, "b", Lang::Zh, &["513431101"], 4),
    ];
    let lease = LeaseTerm {
        holder: "county-a",
        until: t(9, 30),
    };
    let recorded = l
        .record_deliveries(&batch, t(9, 2) + odd, Some(lease))
        .unwrap();
    let created: Vec<bool> = recorded.iter().map(|(_, c)| *c).collect();
    assert_eq!(created, [false, true, true]);
    assert_eq!(recorded[1].0.plan.townships, ["513431100", "513431102"]);
    for (d, _) in &recorded {
        assert_eq!(Some(d), l.delivery(d.id).unwrap().as_ref());
    }
    assert_eq!(recorded[0].0.state, DeliveryState::Expired);
    // The two it created were written leased to `county-a` until 9:30; the one found is final
    // and holds no lease.
    let ids: Vec<DeliveryId> = recorded.iter().map(|(d, _)| d.id).collect();
    assert_eq!(
        l.lease(&ids, "county-b", t(9, 40), t(9, 29)).unwrap(),
        [ids[0]],
        "county-a holds the created deliveries until its lease runs out"
    );
    assert_eq!(l.lease(&ids, "county-a", t(9, 40), t(9, 29)).unwrap(), ids);
    assert_eq!(
        l.lease(&ids, "county-b", t(9, 50), t(9, 40)).unwrap(),
        ids,
        "taken over once the renewed lease ran out"
    );
}

fn a_batch_is_recorded_whole_or_not_at_all(store: &Store) {
    let l = store.open();
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
    assert!(l.record_deliveries(&bad, t(9, 1), None).is_err());
    let kept = l.deliveries_of_run(run).unwrap();
    assert_eq!(kept.len(), 1, "only the delivery recorded before: {kept:?}");

    let good = [
        new_delivery(run, "a", Lang::Ii, &["513431100"], 5),
        new_delivery(run, "b", Lang::Ii, &["513431101"], 2),
        new_delivery(run, "b", Lang::Zh, &["513431101"], 3),
    ];
    let recorded = l.record_deliveries(&good, t(9, 2), None).unwrap();
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
    let again = store.open().deliveries_of_run(run).unwrap();
    let ids: Vec<_> = again.iter().map(|d| d.plan.ebd_id.clone()).collect();
    let want: Vec<_> = recorded
        .iter()
        .map(|(d, _)| d.plan.ebd_id.clone())
        .collect();
    assert_eq!(ids, want);
}

/// Two instances record one run's batch at once (a key twice in it, several townships): every
/// delivery is created once, by one of them, and both get its first ids back, in their order.
fn instances_recording_one_batch_at_once_create_each_delivery_once(store: &Store) {
    let (run, _) = store.open().open_run("c", t(10, 0), 40, t(9, 0)).unwrap();
    let mut news: Vec<_> = (0..40)
        .map(|i| {
            new_delivery(
                run,
                &format!("e{i}"),
                Lang::Ii,
                &["513431101", "513431100"],
                i + 1,
            )
        })
        .collect();
    // The same key again, under other ids: the first one's delivery answers for it.
    news.push(new_delivery(run, "e3", Lang::Ii, &["513431102"], 99));
    let answers = race(store, 2, 1, |l| {
        l.record_deliveries(&news, t(9, 1), None).unwrap()
    });
    for answer in &answers {
        let eps: Vec<_> = answer
            .iter()
            .map(|(d, _)| d.plan.endpoint.as_str())
            .collect();
        let want: Vec<_> = news.iter().map(|n| n.endpoint.as_str()).collect();
        assert_eq!(eps, want, "one answer per delivery, in the batch's order");
        assert!(!answer[40].1, "a key twice in a batch is created once");
        assert_eq!(
            answer[40].0, answer[3].0,
            "the repeat gets the first's delivery"
        );
        assert_eq!(answer[3].0.plan.townships, ["513431100", "513431101"]);
    }
    for i in 0..41 {
        let created = answers.iter().filter(|a| a[i].1).count();
        assert_eq!(
            created,
            usize::from(i < 40),
            "delivery {i} created by exactly one"
        );
        assert_eq!(answers[0][i].0.id, answers[1][i].0.id);
        let first = if i == 40 { 3 } else { i };
        assert_eq!(
            answers[0][i].0.plan.ebd_id, news[first].ebd_id,
            "the first's ids"
        );
    }
    let recorded = store.open().deliveries_of_run(run).unwrap();
    assert_eq!(recorded.len(), 40);
    let mut ids: Vec<_> = recorded.iter().map(|d| d.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 40);
}

/// A new delivery carrying ids another delivery already holds is refused with an error naming
/// its endpoint and ids, alone or in a batch, and nothing of that batch is recorded.
fn a_delivery_under_another_deliverys_ids_is_refused_naming_them(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("c", t(10, 0), 3, t(9, 0)).unwrap();
    let (held, _) = l
        .record_delivery(
            &new_delivery(run, "a", Lang::Ii, &["513431100"], 1),
            t(9, 0),
        )
        .unwrap();
    let clash = new_delivery(run, "b", Lang::Ii, &["513431101"], 1);
    let err = l.record_delivery(&clash, t(9, 1)).unwrap_err().to_string();
    assert!(
        err.contains("`b`") && err.contains(&held.plan.ebd_id) && err.contains("already"),
        "{err}"
    );
    let batch = [new_delivery(run, "c", Lang::Ii, &["513431102"], 2), clash];
    let err = l
        .record_deliveries(&batch, t(9, 2), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains(&held.plan.ebd_id), "{err}");
    let kept = l.deliveries_of_run(run).unwrap();
    assert_eq!(kept.len(), 1, "only the first delivery: {kept:?}");
    assert_eq!(kept[0].plan.endpoint, "a");
}

both_stores!(writes_arriving_together_each_get_their_own_answer);

/// Many threads settle attempts and record state reports on one ledger at once (committed in
/// groups, on both stores): each gets its own answer — its attempt's id, its report's
/// delivery, or, for a write naming no delivery, its own error — and everything that worked is
/// there after reopening.
fn writes_arriving_together_each_get_their_own_answer(store: &Store) {
    let l = store.open();
    let ids = deliveries(l.as_ref(), 48);
    let answers: Vec<(usize, i64, Option<shengbo::ledger::DeliveryId>)> = std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .chunks(6)
            .enumerate()
            .map(|(k, chunk)| {
                let l = &l;
                s.spawn(move || {
                    let mut out = Vec::new();
                    for (j, d) in chunk.iter().enumerate() {
                        let id = l.record_settled(&delivered(d.id)).unwrap();
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
        // The same with a state to move to.
        let bad = l.record_settled(&delivered(unknown));
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

both_stores!(queued_writes_wait_for_the_committer_and_each_gets_its_own_answer);

/// Writes queued from async code (`queue_settled`, `queue_state_report`: what the dispatcher
/// and the state follow-ups use) are not written on the caller's thread but by a committer on a
/// blocking thread: on a runtime with one, kept busy until every write is queued, none is
/// answered; once it is free, the committer writes them all, each with its own answer (an
/// unknown delivery's its own error), and everything that worked is there after reopening.
fn queued_writes_wait_for_the_committer_and_each_gets_its_own_answer(store: &Store) {
    use futures_util::FutureExt as _;
    let l = store.open();
    let ids = deliveries(l.as_ref(), 40);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (free, busy) = std::sync::mpsc::channel::<()>();
    runtime.block_on(async {
        let blocker = tokio::task::spawn_blocking(move || busy.recv());
        let mut settles: Vec<_> = ids
            .iter()
            .map(|d| l.queue_settled(delivered(d.id)))
            .collect();
        let unknown = shengbo::ledger::DeliveryId(999_999);
        let mut bad = l.queue_settled(delivered(unknown));
        tokio::task::yield_now().await;
        assert!(
            settles.iter_mut().all(|s| s.now_or_never().is_none()),
            "a queued write answered while the only blocking thread was busy"
        );
        assert!((&mut bad).now_or_never().is_none());
        free.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        let settled = futures_util::future::join_all(settles).await;
        let bad = bad.await;
        assert!(
            matches!(bad, Err(LedgerError::UnknownDelivery(d)) if d == unknown),
            "{bad:?}"
        );
        let reports = ids
            .iter()
            .map(|d| l.queue_state_report(report(&d.plan.ebm_id, 3, None, &[])));
        let reported = futures_util::future::join_all(reports).await;
        let mut attempt_ids = std::collections::HashSet::new();
        for ((d, id), found) in ids.iter().zip(settled).zip(reported) {
            let id = id.unwrap();
            assert_eq!(found.unwrap(), Some(d.id), "the report's own delivery");
            assert_eq!(l.attempts(d.id).unwrap()[0].id, id, "the attempt's own id");
            assert!(attempt_ids.insert(id));
        }
    });
    drop(runtime);
    drop(l);
    let l = store.open();
    for d in &ids {
        assert_eq!(l.attempts(d.id).unwrap().len(), 1);
        assert_eq!(l.state_reports(d.id).unwrap().len(), 1);
        assert_eq!(
            l.delivery(d.id).unwrap().unwrap().state,
            DeliveryState::Played
        );
    }
}

/// A run with `n` deliveries, one per endpoint `e0`, `e1`, …
fn deliveries(l: &dyn Ledger, n: u32) -> Vec<shengbo::ledger::Delivery> {
    let (run, _) = l.open_run("c", t(10, 0), n, t(9, 0)).unwrap();
    let news: Vec<_> = (0..n)
        .map(|i| new_delivery(run, &format!("e{i}"), Lang::Ii, &["513431100"], i + 1))
        .collect();
    let recorded = l.record_deliveries(&news, t(9, 0), None).unwrap();
    recorded.into_iter().map(|(d, _)| d).collect()
}

/// A settled, delivered attempt of `d`.
fn delivered(d: shengbo::ledger::DeliveryId) -> Settled {
    Settled {
        attempt: attempt(d, AttemptResult::Delivered),
        to: Some((DeliveryState::Delivered, "ResultCode 1".to_string())),
        health: None,
    }
}

/// [`delivered`], with the health of one endpoint: writes of one endpoint form one group at a
/// time (the PostgreSQL ledger sends several groups at once, one endpoint's writes in one).
fn of_one_endpoint(d: shengbo::ledger::DeliveryId) -> Settled {
    Settled {
        health: Some(EndpointHealth {
            endpoint: "e-cut".to_string(),
            last_seen: Some(t(9, 58)),
            consecutive_failures: 0,
            circuit: CircuitState::Closed,
            reason: None,
            updated_at: t(9, 58),
        }),
        ..delivered(d)
    }
}

/// Wait until a session of the test database waits on a lock of `kind` (`'advisory'`, or any
/// other lock). Each look is one query; no clock is involved.
fn until_waiting(watch: &mut postgres::Client, advisory: bool) {
    let sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
               AND wait_event_type = 'Lock' AND (wait_event = 'advisory') = $1";
    while watch.query_one(sql, &[&advisory]).unwrap().get::<_, i64>(0) == 0 {
        std::thread::yield_now();
    }
}

/// On PostgreSQL, a group's connection is cut in the middle of its transaction (the backend
/// terminated, as a restart or a network cut would): the writes it had already made are rolled
/// back and each of its writers answers with an error, none is written twice, writes answered
/// `Ok` are there once, and each write made again afterwards is there once.
///
/// How the group is made: a first write waits on a delivery row the test holds, so the next
/// writes queue behind it and become one group; a trigger stops the group at one write (an
/// advisory lock the test holds) while the writes before it are done but not committed. The
/// test reads which those are (their rows are locked) and terminates the group's backend.
#[test]
fn a_group_cut_mid_transaction_loses_and_doubles_nothing() {
    let url = crate::util::pg::fresh_database();
    let l = Store::Postgres(url.clone()).open();
    let ids: Vec<_> = deliveries(l.as_ref(), 40).iter().map(|d| d.id).collect();
    let (mut admin, mut watch) = (crate::util::pg::client(&url), crate::util::pg::client(&url));
    admin
        .batch_execute(
            "CREATE TABLE stop_at (delivery_id BIGINT PRIMARY KEY);
             CREATE FUNCTION stop_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                 IF EXISTS (SELECT 1 FROM stop_at WHERE delivery_id = NEW.delivery_id) THEN
                     PERFORM pg_advisory_xact_lock(1);
                 END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER stop_at BEFORE INSERT ON attempts
                 FOR EACH ROW EXECUTE FUNCTION stop_at();",
        )
        .unwrap();
    let mut cut_after_some = 0;
    // Four rounds of ten deliveries: a round whose writers had not all queued behind the first
    // write still checks that nothing is lost or doubled; at least one round cuts a group
    // after some of its writes.
    for round in ids.chunks(10) {
        let (gate, stop) = (round[0], round[5]);
        admin
            .execute("INSERT INTO stop_at VALUES ($1)", &[&stop.0])
            .unwrap();
        admin.execute("SELECT pg_advisory_lock(1)", &[]).unwrap();
        let mut hold = watch.transaction().unwrap();
        hold.execute(
            "SELECT 1 FROM deliveries WHERE id = $1 FOR UPDATE",
            &[&gate.0],
        )
        .unwrap();
        let barrier = std::sync::Barrier::new(round.len());
        let (answers, applied) = std::thread::scope(|s| {
            let first = s.spawn(|| l.record_settled(&of_one_endpoint(gate)));
            let mut look = crate::util::pg::client(&url);
            until_waiting(&mut look, false);
            let writers: Vec<_> = round[1..]
                .iter()
                .map(|&d| {
                    let (l, barrier) = (&l, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        (d, l.record_settled(&of_one_endpoint(d)))
                    })
                })
                .collect();
            barrier.wait();
            hold.commit().unwrap();
            until_waiting(&mut look, true);
            // The writes of the stopped group made before the stop: their rows are locked.
            let mut tx = admin.transaction().unwrap();
            let free: Vec<i64> = tx
                .query(
                    "SELECT id FROM deliveries WHERE id = ANY($1) FOR UPDATE SKIP LOCKED",
                    &[&round.iter().map(|d| d.0).collect::<Vec<_>>()],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            tx.rollback().unwrap();
            let applied: Vec<_> = round
                .iter()
                .filter(|d| !free.contains(&d.0) && **d != stop)
                .copied()
                .collect();
            look.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event = 'advisory'",
                &[],
            )
            .unwrap();
            let mut answers = vec![(gate, first.join().unwrap())];
            answers.extend(writers.into_iter().map(|w| w.join().unwrap()));
            (answers, applied)
        });
        admin.execute("SELECT pg_advisory_unlock(1)", &[]).unwrap();
        admin.execute("DELETE FROM stop_at", &[]).unwrap();
        cut_after_some += usize::from(!applied.is_empty());
        for (d, answer) in answers {
            let recorded = l.attempts(d).unwrap();
            match answer {
                Ok(id) => {
                    assert!(d != stop && !applied.contains(&d), "{d} answered Ok");
                    assert_eq!(recorded.iter().map(|a| a.id).collect::<Vec<_>>(), [id]);
                }
                Err(_) => {
                    assert!(
                        recorded.is_empty(),
                        "{d} failed but is recorded: {recorded:?}"
                    );
                    // Written again on a connection opened anew: there once.
                    let id = l.record_settled(&delivered(d)).unwrap();
                    let again = l.attempts(d).unwrap();
                    assert_eq!(again.iter().map(|a| a.id).collect::<Vec<_>>(), [id]);
                }
            }
            assert_eq!(
                l.delivery(d).unwrap().unwrap().state,
                DeliveryState::Delivered
            );
        }
    }
    assert!(
        cut_after_some > 0,
        "no group was cut after some of its writes"
    );
}

/// On PostgreSQL, a write that PostgreSQL picks to break a deadlock is written again alone and
/// answers `Ok`: another transaction holds what the write's transition waits for (a trigger
/// takes an advisory lock the test holds) and then asks for the delivery the write locked.
/// PostgreSQL fails whichever waiter checks first; when that is the test's own session (the
/// write checked before the circle closed, on a loaded machine), the round proves nothing and
/// another delivery is tried, the advisory lock released either way so nothing hangs.
#[test]
fn a_write_losing_a_deadlock_is_written_again() {
    const ROUNDS: u32 = 5;
    let url = crate::util::pg::fresh_database();
    let l = Store::Postgres(url.clone()).open();
    let ids: Vec<_> = deliveries(l.as_ref(), ROUNDS)
        .iter()
        .map(|d| d.id)
        .collect();
    let (mut other, mut look) = (crate::util::pg::client(&url), crate::util::pg::client(&url));
    other
        .batch_execute(
            "CREATE FUNCTION stop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                 PERFORM pg_advisory_xact_lock(2);
                 RETURN NEW;
             END $$;
             CREATE TRIGGER stop BEFORE UPDATE ON deliveries
                 FOR EACH ROW EXECUTE FUNCTION stop();",
        )
        .unwrap();
    for d in ids {
        other.execute("SELECT pg_advisory_lock(2)", &[]).unwrap();
        let (answer, write_lost) = std::thread::scope(|s| {
            let write = s.spawn(|| l.record_settled(&delivered(d)));
            // The write holds its delivery and waits for the advisory lock; asking for the
            // delivery closes the circle, and PostgreSQL breaks it by failing one side.
            until_waiting(&mut look, true);
            let asked = other.transaction().and_then(|mut tx| {
                tx.execute("SELECT 1 FROM deliveries WHERE id = $1 FOR UPDATE", &[&d.0])?;
                tx.commit()
            });
            other.execute("SELECT pg_advisory_unlock(2)", &[]).unwrap();
            (write.join().unwrap(), asked.is_ok())
        });
        let id = answer.expect("the write answers Ok either way");
        if !write_lost {
            continue;
        }
        let recorded = l.attempts(d).unwrap();
        assert_eq!(recorded.iter().map(|a| a.id).collect::<Vec<_>>(), [id]);
        assert_eq!(
            l.delivery(d).unwrap().unwrap().state,
            DeliveryState::Delivered
        );
        return;
    }
    panic!("PostgreSQL never failed the write to break the deadlock in {ROUNDS} rounds");
}

/// On PostgreSQL, settled attempts queued together are written in one statement of many rows
/// (a statement-level trigger counts the attempts each statement inserts), each answered with
/// its own attempt; the endpoint's health keeps the `last_seen` one write of the group gave
/// when a later one gives none. A group holding a move the rules refuse goes write by write:
/// that write alone fails and leaves no attempt, the others are recorded once.
///
/// How the group is made: a first write waits on a delivery row the test holds, so the next
/// writes (one endpoint's, so one lane's) queue behind it. A round whose writers had not all
/// queued yet still checks every answer; the test asks for one round with a statement of
/// several attempts among its rounds.
#[test]
fn writes_queued_together_go_in_one_statement_and_a_refused_move_fails_alone() {
    const ROUNDS: usize = 8;
    let url = crate::util::pg::fresh_database();
    let l = Store::Postgres(url.clone()).open();
    let ids: Vec<_> = deliveries(l.as_ref(), 8 * ROUNDS as u32)
        .iter()
        .map(|d| d.id)
        .collect();
    let (mut admin, mut watch) = (crate::util::pg::client(&url), crate::util::pg::client(&url));
    admin
        .batch_execute(
            "CREATE TABLE inserted (n BIGINT NOT NULL);
             CREATE FUNCTION count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                 INSERT INTO inserted SELECT count(*) FROM new_rows;
                 RETURN NULL;
             END $$;
             CREATE TRIGGER count_inserted AFTER INSERT ON attempts
                 REFERENCING NEW TABLE AS new_rows
                 FOR EACH STATEMENT EXECUTE FUNCTION count_inserted();",
        )
        .unwrap();
    let mut grouped = 0;
    for (k, round) in ids.chunks(8).enumerate() {
        // Every other round holds a write whose move the rules refuse: its delivery expired.
        let refused = (k % 2 == 1).then_some(round[4]);
        if let Some(d) = refused {
            l.transition(d, DeliveryState::Expired, Some("test"), t(9, 57))
                .unwrap();
        }
        let endpoint = format!("e-group-{k}");
        // Only the fourth write gives a `last_seen`; the others keep what is recorded.
        let write = |d: shengbo::ledger::DeliveryId| Settled {
            health: Some(EndpointHealth {
                endpoint: endpoint.clone(),
                last_seen: (d == round[3]).then_some(t(9, 58)),
                consecutive_failures: 0,
                circuit: CircuitState::Closed,
                reason: None,
                updated_at: t(9, 58),
            }),
            ..delivered(d)
        };
        admin.execute("DELETE FROM inserted", &[]).unwrap();
        let mut hold = watch.transaction().unwrap();
        hold.execute(
            "SELECT 1 FROM deliveries WHERE id = $1 FOR UPDATE",
            &[&round[0].0],
        )
        .unwrap();
        let barrier = std::sync::Barrier::new(round.len());
        let answers = std::thread::scope(|s| {
            let first = s.spawn(|| l.record_settled(&write(round[0])));
            let mut look = crate::util::pg::client(&url);
            until_waiting(&mut look, false);
            let writers: Vec<_> = round[1..]
                .iter()
                .map(|&d| {
                    let (l, barrier, write) = (&l, &barrier, &write);
                    s.spawn(move || {
                        barrier.wait();
                        (d, l.record_settled(&write(d)))
                    })
                })
                .collect();
            barrier.wait();
            hold.commit().unwrap();
            let mut answers = vec![(round[0], first.join().unwrap())];
            answers.extend(writers.into_iter().map(|w| w.join().unwrap()));
            answers
        });
        for (d, answer) in answers {
            let recorded: Vec<i64> = l.attempts(d).unwrap().iter().map(|a| a.id).collect();
            if Some(d) == refused {
                assert!(
                    matches!(answer, Err(LedgerError::IllegalTransition(ref e))
                        if e.delivery == d && e.from == DeliveryState::Expired),
                    "{answer:?}"
                );
                assert!(recorded.is_empty(), "{d}: {recorded:?}");
                let kept = l.delivery(d).unwrap().unwrap().state;
                assert_eq!(kept, DeliveryState::Expired);
            } else {
                assert_eq!(recorded, [answer.unwrap()], "{d}: its own attempt, once");
                let state = l.delivery(d).unwrap().unwrap().state;
                assert_eq!(state, DeliveryState::Delivered);
            }
        }
        let health = l.endpoint_health(&endpoint).unwrap().unwrap();
        assert_eq!(health.last_seen, Some(t(9, 58)), "round {k}");
        let sizes: Vec<i64> = admin
            .query("SELECT n FROM inserted", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(sizes.iter().sum::<i64>(), 8 - i64::from(refused.is_some()));
        grouped += usize::from(refused.is_none() && sizes.iter().any(|&n| n > 1));
    }
    assert!(
        grouped > 0,
        "no round wrote its queued attempts in one statement"
    );
}
