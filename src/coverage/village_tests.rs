//! Coverage by village: villages targeted on their own, a township targeted whole in one run
//! and in part in another, and the reach rule's area codes for villages.

use super::tests::{at, query, run};
use super::*;
use crate::ledger::DeliveryState::{Delivered, Failed, Played};
use crate::reach::rule::covers;

const NIRI: &str = "513431102200";
const HUOLUO: &str = "513431102201";
const ZHUHE: &str = "513431102";

fn people(dir: &Directory, code: &str) -> u64 {
    dir.area(code).unwrap().population.people
}

#[test]
fn villages_targeted_on_their_own_are_rows_weighted_by_their_people() {
    let dir = Directory::liangshan();
    let inputs = Inputs {
        runs: vec![run(1, at(2, 1), &[(NIRI, Played), (HUOLUO, Failed)])],
        failures: vec![],
    };
    let r = aggregate(&inputs, &dir, &query(By::Village));
    assert_eq!(r.rows.len(), 2);
    let niri = &r.rows[0];
    assert_eq!(
        (niri.code.as_str(), niri.county_code.as_str()),
        (NIRI, "513431")
    );
    assert_eq!(niri.name, "竹核镇 尼日村村民委员会");
    let p = people(&dir, NIRI);
    assert_eq!(niri.figures.population_area, p);
    // Played at the 50% the platform reported.
    assert_eq!(
        niri.figures.reach.population_reached,
        (p as f64 * 0.5).round() as u64
    );
    assert_eq!(r.rows[1].figures.reach.population_reached, 0);
    let t = &r.totals.reach;
    assert_eq!(
        (
            t.villages_targeted,
            t.villages_reached,
            t.townships_targeted
        ),
        (2, 1, 0)
    );
    assert_eq!(t.population_targeted, p + people(&dir, HUOLUO));
    assert_eq!(t.villages_estimated, 2);
    // By township: one row, the township's people as its area, its villages' as targeted.
    let r = aggregate(&inputs, &dir, &query(By::Township));
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0].code, ZHUHE);
    assert_eq!(r.rows[0].figures.population_area, people(&dir, ZHUHE));
    assert_eq!(
        r.rows[0].figures.reach.population_targeted,
        t.population_targeted
    );
    let csv = to_csv(&aggregate(&inputs, &dir, &query(By::Village)));
    assert!(
        csv.lines().any(|l| l.starts_with("village,513431102200,")),
        "{csv}"
    );
}

#[test]
fn a_township_whole_in_one_run_and_in_part_in_another_counts_its_people_once() {
    let dir = Directory::liangshan();
    let inputs = Inputs {
        runs: vec![
            run(1, at(2, 1), &[(ZHUHE, Delivered)]),
            run(2, at(3, 1), &[(NIRI, Played)]),
        ],
        failures: vec![],
    };
    let whole = people(&dir, ZHUHE);
    let r = aggregate(&inputs, &dir, &query(By::County));
    let t = &r.totals.reach;
    assert_eq!(t.population_targeted, whole);
    let villages = dir.township(ZHUHE).unwrap().villages.len() as u32;
    assert_eq!((t.villages_targeted, t.townships_targeted), (villages, 0));
    // 尼日村 by its best run (played at 50%), every other village by the whole township's.
    let niri = people(&dir, NIRI);
    let expected = (whole - niri) as f64 + niri as f64 * 0.5;
    assert_eq!(t.population_reached, expected.round() as u64);
    // By village: every village of the township is a row.
    let r = aggregate(&inputs, &dir, &query(By::Village));
    assert_eq!(r.rows.len(), villages as usize);
    let sum: u64 = r.rows.iter().map(|x| x.figures.population_area).sum();
    assert_eq!(sum, whole);
}

#[test]
fn a_whole_township_counts_in_each_of_its_villages_by_village() {
    let dir = Directory::liangshan();
    let inputs = Inputs {
        runs: vec![run(1, at(2, 1), &[(ZHUHE, Played)])],
        failures: vec![],
    };
    let by_county = aggregate(&inputs, &dir, &query(By::County));
    let by_village = aggregate(&inputs, &dir, &query(By::Village));
    assert_eq!(by_county.totals, by_village.totals);
    assert_eq!(by_county.totals.reach.townships_targeted, 1);
    let reached: u64 = by_village
        .rows
        .iter()
        .map(|x| x.figures.reach.population_reached)
        .sum();
    let total = by_village.totals.reach.population_reached as i64;
    assert!((reached as i64 - total).abs() <= by_village.rows.len() as i64);
}

#[test]
fn area_codes_cover_a_village_from_itself_its_township_or_above() {
    assert!(covers(NIRI, NIRI));
    assert!(covers("513431102000", NIRI));
    assert!(covers("513431", NIRI) && covers("5134", NIRI));
    assert!(!covers(HUOLUO, NIRI));
    assert!(!covers("513431103000", NIRI));
    // A township target is still covered by one of its villages.
    assert!(covers(NIRI, ZHUHE));
    assert!(!covers("5134311022001", NIRI));
}
