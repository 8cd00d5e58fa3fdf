//! Deliveries keyed by run × endpoint × segment: several airings of one language in a run, reach
//! over a programme's segments, and the migration of a version-1 file (keyed by language).

use rusqlite::{Connection, params};
use shengbo::ledger::schema::{MIGRATIONS, current_version};
use shengbo::reach::{self, Confirmed};

use super::*;

both_stores!(
    one_language_airs_in_several_segments_each_recorded_once,
    a_township_counts_by_its_weakest_segment_and_its_best_run,
);

/// A delivery for segment `segment` (message `m`, repeat `repeat`) of `run` at endpoint `ep`.
fn segment(run: RunId, ep: &str, segment: u32, repeat: u32, towns: &[&str]) -> NewDelivery {
    let lang = if segment.is_multiple_of(2) {
        Lang::Ii
    } else {
        Lang::Zh
    };
    NewDelivery {
        segment,
        repeat,
        ..new_delivery(run, ep, lang, towns, 100 * run.0 as u32 + segment)
    }
}

fn one_language_airs_in_several_segments_each_recorded_once(store: &Store) {
    let l = store.open();
    let (run, _) = l.open_run("c", t(10, 0), 1, t(9, 0)).unwrap();
    let mut firsts = Vec::new();
    for s in 0..4 {
        let (d, created) = l
            .record_delivery(&segment(run, "ep", s, s / 2, &["A"]), t(9, 0))
            .unwrap();
        assert!(created, "segment {s}");
        assert_eq!((d.plan.segment, d.plan.repeat), (s, s / 2));
        firsts.push(d);
    }
    let langs: Vec<Lang> = firsts.iter().map(|d| d.plan.lang).collect();
    assert_eq!(langs, [Lang::Ii, Lang::Zh, Lang::Ii, Lang::Zh]);
    // The same segment again (other ids offered) returns the recorded one.
    let again = NewDelivery {
        ebd_id: format!("10{:039}", 999),
        ebm_id: format!("{:035}", 999),
        ..segment(run, "ep", 2, 1, &["A"])
    };
    let (d, created) = l.record_delivery(&again, t(9, 1)).unwrap();
    assert!(!created);
    assert_eq!(
        (d.id, &d.plan.ebm_id),
        (firsts[2].id, &firsts[2].plan.ebm_id)
    );
    assert_eq!(l.deliveries_of_run(run).unwrap().len(), 4);
}

fn a_township_counts_by_its_weakest_segment_and_its_best_run(store: &Store) {
    let l = store.open();
    let (first, _) = l.open_run("c", t(10, 0), 1, t(9, 0)).unwrap();
    let (second, _) = l.open_run("c", t(10, 30), 1, t(9, 0)).unwrap();
    let settle = |run, played: &[u32], delivered: &[u32]| {
        for s in 0..4 {
            let (d, _) = l
                .record_delivery(&segment(run, "ep", s, s / 2, &["A", "B"]), t(9, 0))
                .unwrap();
            if played.contains(&s) || delivered.contains(&s) {
                l.transition(d.id, DeliveryState::Delivered, None, t(9, 1))
                    .unwrap();
            }
            if played.contains(&s) {
                l.transition(d.id, DeliveryState::Played, None, t(9, 2))
                    .unwrap();
            }
        }
    };
    // First run: three segments played, the second repeat's Mandarin only delivered.
    settle(first, &[0, 1, 2], &[3]);
    // Second run: every segment played but the first repeat's Mandarin, never confirmed.
    settle(second, &[0, 2, 3], &[]);
    let dir = shengbo::directory::Directory::liangshan();
    let runs = reach::runs(&l.reach_rows(t(9, 0), t(11, 0), Some("c")).unwrap(), &dir);
    let one = &runs[&first];
    assert_eq!(one.len(), 2);
    assert!(one.values().all(|a| a.level == Some(Confirmed::Delivered)));
    let two = &runs[&second];
    assert!(two.values().all(|a| a.level.is_none()), "{two:?}");
    let both = reach::best_of(runs.values());
    assert!(both.values().all(|a| a.level == Some(Confirmed::Delivered)));
}

/// A version-1 file: one run, endpoint `ep` with its Mandarin recorded before its Yi (ids 1, 2)
/// but playing after it, one attempt and one state report each.
fn version_one(path: &std::path::Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(MIGRATIONS[0]).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    conn.execute(
        "INSERT INTO runs (id, campaign, occurrence_ms, created_ms, planned_townships)
         VALUES (1, 'c', 1000, 500, 1)",
        [],
    )
    .unwrap();
    for (id, lang, start) in [(1, "zh", 2000), (2, "ii", 1000)] {
        conn.execute(
            "INSERT INTO deliveries (id, run_id, endpoint, lang, message, ebd_id, ebm_id,
                 related_ebm_id, window_start_ms, window_end_ms, air_by_ms, payload_digest,
                 state, created_ms, updated_ms)
             VALUES (?1, 1, 'ep', ?2, 'm', ?3, ?4, NULL, ?5, ?5 + 500, 9000, 'd', 'played',
                 500, 600)",
            params![id, lang, format!("ebd{id}"), format!("ebm{id}"), start],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO delivery_townships VALUES (?1, 'A')",
            params![id],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO attempts (delivery_id, started_ms, finished_ms, outcome, latency_ms)
             VALUES (?1, 600, 700, 'delivered', 100)",
            params![id],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO state_reports (delivery_id, ebm_id, reported_ms, brd_state_code,
                 coverage_rate, area_codes, terminals, raw)
             VALUES (?1, ?2, 800, 3, ?3, '', 40, '<EBD/>')",
            params![id, format!("ebm{id}"), 0.25 * f64::from(id)],
        )
        .unwrap();
    }
}

#[test]
fn a_version_one_file_migrates_to_segments_in_play_order_keeping_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sqlite");
    version_one(&path);
    let l = open(&path);
    let mut ds = l.deliveries_of_run(RunId(1)).unwrap();
    ds.sort_by_key(|d| d.plan.segment);
    let got: Vec<(u32, Lang, &str, u32)> = ds
        .iter()
        .map(|d| {
            (
                d.plan.segment,
                d.plan.lang,
                d.plan.ebm_id.as_str(),
                d.plan.repeat,
            )
        })
        .collect();
    assert_eq!(got, [(0, Lang::Ii, "ebm2", 0), (1, Lang::Zh, "ebm1", 0)]);
    for d in &ds {
        assert_eq!(l.attempts(d.id).unwrap().len(), 1, "attempts kept");
        assert_eq!(d.plan.townships, ["A"]);
        assert_eq!(d.state, DeliveryState::Played);
    }
    let dir = shengbo::directory::Directory::liangshan();
    let areas = reach::run_areas(&l, RunId(1), &dir).unwrap();
    assert_eq!(areas["A"].level, Some(Confirmed::Played));
    assert_eq!(
        areas["A"].coverage,
        Some(0.25),
        "the coverage reports of a version-1 file scale its reach (the lower of the pair)"
    );
    for d in &ds {
        assert_eq!(
            l.state_reports(d.id).unwrap().len(),
            1,
            "state reports kept"
        );
    }
    drop(l);
    let conn = Connection::open(&path).unwrap();
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, current_version());
    let fk: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0);
    // Foreign keys are on again after migrating: an attempt for no delivery is refused.
    let conn = shengbo::ledger::schema::open(&path).unwrap();
    let orphan = conn.execute(
        "INSERT INTO attempts (delivery_id, started_ms, finished_ms, outcome, latency_ms)
         VALUES (77, 1, 2, 'timeout', 1)",
        [],
    );
    assert!(orphan.is_err(), "{orphan:?}");
}
