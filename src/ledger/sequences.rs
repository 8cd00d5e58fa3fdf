//! Daily id counters in the `sequences` table, per (counter, day): each value is handed out once,
//! also across restarts and across instances sharing a database, and a bounded counter is never
//! pushed past its bound. Values are reserved in blocks ([`IdBlocks`]: one transaction per block,
//! not per id) and handed out from memory. The counter names of several sender codes:
//! [`sequence_counter`].

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDate;
use rusqlite::{Connection, TransactionBehavior, params};

use super::{LedgerError, Result};

/// The most values one reservation takes. A process that ends without giving its unused values
/// back (killed, or it lost the race to the counter's top) leaves at most this many unused. On
/// PostgreSQL each reservation is a committed transaction (a WAL flush): a run to 10,000
/// endpoints draws 40,000 ids, about 80 reservations at 512 where 64 took 625.
pub const BLOCK: u32 = 512;

/// The counter of ids of `kind` (`"ebm"`, `"ebd"`) made from sender code `sender`. The first
/// sender's counters keep the names they had before there were several senders, `"ebm"` and
/// `"ebd"`, so an existing ledger never hands out one of its numbers again; a further sender's
/// counter is `"<kind>:<code>"`.
pub fn sequence_counter(kind: &str, sender: &str, first: bool) -> String {
    if first {
        kind.to_string()
    } else {
        format!("{kind}:{sender}")
    }
}

pub(super) fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn to_u32(value: i64) -> Result<u32> {
    u32::try_from(value).map_err(|_| LedgerError::BadValue {
        column: "sequences.value",
        value: value.to_string(),
    })
}

/// The values of one counter and day reserved by this ledger and not yet handed out:
/// `next..=end` (none when `next > end`); the next reservation takes `size` values. `full` is
/// the bound at which the store last said the counter was used up: for that bound or a lower
/// one, nothing is asked again.
#[derive(Debug, Clone, Copy)]
struct Held {
    next: u32,
    end: u32,
    size: u32,
    full: Option<u32>,
}

/// A store's reserved blocks of counter values. The first reservation of a counter and day takes
/// one value and each further one twice as many, up to [`BLOCK`], so a short-lived process (one
/// `run --once`) reserves about what it uses and a long run one transaction per [`BLOCK`] ids.
/// A counter the store found used up to a bound is not asked again for that day and bound: a
/// run drawing from the next sender code once the first's day is full would otherwise spend a
/// transaction per id on the full one (10,000 of them in a run to 10,000 endpoints). Values
/// another instance gives back afterwards are then left to that instance's restart.
#[derive(Debug, Default)]
pub(super) struct IdBlocks {
    held: Mutex<HashMap<(String, NaiveDate), Held>>,
}

/// A store's reservation: `(kind, day, n, max)` → the first and last value of a block of at most
/// `n` values, none above `max`; `None` when the counter already reached `max`.
pub(super) type Reserve<'a> =
    &'a mut dyn FnMut(&str, NaiveDate, u32, u32) -> Result<Option<(u32, u32)>>;

impl IdBlocks {
    /// The next value of `kind` for `day` if it is at most `max`: from the block held, else from
    /// a block `reserve` takes in the store. The lock is held meanwhile, so one ledger reserves
    /// one block at a time.
    pub(super) fn take(
        &self,
        kind: &str,
        day: NaiveDate,
        max: u32,
        reserve: Reserve<'_>,
    ) -> Result<Option<u32>> {
        if max == 0 {
            return Ok(None);
        }
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let h = held.entry((kind.to_string(), day)).or_insert(Held {
            next: 1,
            end: 0,
            size: 1,
            full: None,
        });
        if h.next <= h.end && h.next <= max {
            h.next += 1;
            return Ok(Some(h.next - 1));
        }
        if h.full.is_some_and(|bound| max <= bound) {
            return Ok(None);
        }
        let Some((first, last)) = reserve(kind, day, h.size, max)? else {
            h.full = Some(max);
            return Ok(None);
        };
        *h = Held {
            next: first + 1,
            end: last,
            size: (h.size * 2).min(BLOCK),
            full: None,
        };
        Ok(Some(first))
    }

    /// The next value of `kind` for `day` from the block held, if it has one at most `max`;
    /// `None` otherwise (nothing is reserved: that is [`IdBlocks::take`]'s).
    pub(super) fn take_held(&self, kind: &str, day: NaiveDate, max: u32) -> Option<u32> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let h = held.get_mut(&(kind.to_string(), day))?;
        (h.next <= h.end && h.next <= max).then(|| {
            h.next += 1;
            h.next - 1
        })
    }

    /// Values up to `used` of `kind` for `day` were marked handed out: none of them is handed
    /// out from a held block either.
    pub(super) fn raised(&self, kind: &str, day: NaiveDate, used: u32) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = held.get_mut(&(kind.to_string(), day)) {
            h.next = h.next.max(used.saturating_add(1));
        }
    }

    /// Every held block with values left, `(kind, day, first unused, last)`, forgetting them.
    pub(super) fn unused(&self) -> Vec<(String, NaiveDate, u32, u32)> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.drain()
            .filter(|(_, h)| h.next <= h.end)
            .map(|((kind, day), h)| (kind, day, h.next, h.end))
            .collect()
    }
}

/// Reserve at most `n` values of `kind` for `day`, none above `max`, in one transaction: the
/// block's first and last value, or `None` once `max` was handed out (the counter stays put).
pub(super) fn reserve(
    conn: &mut Connection,
    kind: &str,
    day: NaiveDate,
    n: u32,
    max: u32,
) -> Result<Option<(u32, u32)>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old: i64 = tx.query_row(
        "SELECT coalesce(max(value), 0) FROM sequences WHERE kind = ?1 AND day = ?2",
        params![kind, day_key(day)],
        |r| r.get(0),
    )?;
    let max = i64::from(max);
    if old >= max {
        return Ok(None);
    }
    let last = (old + i64::from(n.max(1))).min(max);
    tx.execute(
        "INSERT INTO sequences (kind, day, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (kind, day) DO UPDATE SET value = excluded.value",
        params![kind, day_key(day), last],
    )?;
    tx.commit()?;
    Ok(Some((to_u32(old + 1)?, to_u32(last)?)))
}

/// Give back the unused values `first..=last` of `kind` for `day`: only when nobody reserved
/// after them (the counter still stands at `last`). True when given back.
pub(super) fn give_back(
    conn: &Connection,
    kind: &str,
    day: NaiveDate,
    first: u32,
    last: u32,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE sequences SET value = ?3 WHERE kind = ?1 AND day = ?2 AND value = ?4",
        params![kind, day_key(day), i64::from(first) - 1, i64::from(last)],
    )?;
    Ok(n == 1)
}

/// An unbounded counter's value, or the error saying it ran past the largest.
pub(super) fn unbounded(value: Option<u32>) -> Result<u32> {
    value.ok_or(LedgerError::BadValue {
        column: "sequences.value",
        value: "beyond the largest".to_string(),
    })
}

/// Raise `kind` for `day` so that the next value handed out is above `used`; never lowers it.
pub(super) fn raise(conn: &Connection, kind: &str, day: NaiveDate, used: u32) -> Result<u32> {
    let value: i64 = conn.query_row(
        "INSERT INTO sequences (kind, day, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (kind, day) DO UPDATE SET value = max(value, excluded.value)
         RETURNING value",
        params![kind, day_key(day), i64::from(used)],
        |r| r.get(0),
    )?;
    to_u32(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE sequences (kind TEXT NOT NULL, day TEXT NOT NULL,
             value INTEGER NOT NULL, PRIMARY KEY (kind, day));",
        )
        .unwrap();
        c
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    fn stored(c: &Connection, kind: &str) -> i64 {
        c.query_row(
            "SELECT value FROM sequences WHERE kind = ?1",
            params![kind],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// `n` values of `kind` (at most `max`) drawn through `blocks` from `c`.
    fn draw(
        blocks: &IdBlocks,
        c: &mut Connection,
        kind: &str,
        max: u32,
        n: usize,
    ) -> Vec<Option<u32>> {
        let mut r = |k: &str, d: NaiveDate, n: u32, m: u32| reserve(c, k, d, n, m);
        (0..n)
            .map(|_| blocks.take(kind, day(), max, &mut r).unwrap())
            .collect()
    }

    #[test]
    fn a_bounded_counter_stops_at_its_bound_and_stays_there() {
        let mut c = conn();
        let got = draw(&IdBlocks::default(), &mut c, "ebm", 3, 5);
        assert_eq!(got, [Some(1), Some(2), Some(3), None, None]);
        assert_eq!(stored(&c, "ebm"), 3, "not pushed past 3");
        assert_eq!(raise(&c, "ebm", day(), 0).unwrap(), 3);
        let unbounded = draw(&IdBlocks::default(), &mut c, "ebm", u32::MAX, 1);
        assert_eq!(unbounded, [Some(4)], "the unbounded view goes on");
        assert_eq!(draw(&IdBlocks::default(), &mut c, "ebm", 3, 1), [None]);
        assert_eq!(draw(&IdBlocks::default(), &mut c, "ebm", 0, 1), [None]);
    }

    #[test]
    fn a_counter_found_used_up_is_not_asked_again_for_that_bound() {
        let mut c = conn();
        let blocks = IdBlocks::default();
        let mut asked = Vec::new();
        let mut r = |k: &str, d: NaiveDate, n: u32, m: u32| {
            asked.push(m);
            reserve(&mut c, k, d, n, m)
        };
        let got: Vec<_> = (0..6)
            .map(|_| blocks.take("ebm", day(), 2, &mut r).unwrap())
            .collect();
        assert_eq!(got, [Some(1), Some(2), None, None, None, None]);
        // A higher bound is asked again, and goes on.
        assert_eq!(blocks.take("ebm", day(), 4, &mut r).unwrap(), Some(3));
        assert_eq!(
            asked,
            [2, 2, 2, 4],
            "one reservation found the counter full"
        );
    }

    #[test]
    fn a_held_value_is_handed_out_without_the_store_and_only_from_a_block() {
        let mut c = conn();
        let blocks = IdBlocks::default();
        assert_eq!(
            blocks.take_held("ebd", day(), 9_999),
            None,
            "nothing held yet"
        );
        // 1, then the block 2–3: 2 is handed out, 3 is held.
        assert_eq!(draw(&blocks, &mut c, "ebd", 9_999, 2), [Some(1), Some(2)]);
        assert_eq!(
            blocks.take_held("ebd", day(), 2),
            None,
            "3 is over the bound"
        );
        assert_eq!(blocks.take_held("ebd", day(), 9_999), Some(3));
        assert_eq!(
            blocks.take_held("ebd", day(), 9_999),
            None,
            "the block is used up"
        );
        assert_eq!(stored(&c, "ebd"), 3, "the store was not asked");
        // The next draw goes on after the held values, never repeating one.
        assert_eq!(draw(&blocks, &mut c, "ebd", 9_999, 1), [Some(4)]);
        let other = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(blocks.take_held("ebd", other, 9_999), None, "another day");
    }

    #[test]
    fn blocks_grow_to_their_largest_and_unused_values_go_back_only_from_the_top() {
        let mut c = conn();
        let (a, b) = (IdBlocks::default(), IdBlocks::default());
        // 1, then 2–3, then 4–7: the counter stands at 7 after four values.
        assert_eq!(draw(&a, &mut c, "ebd", 9_999, 4), [1, 2, 3, 4].map(Some));
        assert_eq!(stored(&c, "ebd"), 7);
        for _ in 0..10 {
            draw(&a, &mut c, "ebd", 9_999, 1);
        }
        assert!(stored(&c, "ebd") - 14 <= i64::from(BLOCK));
        // A second ledger on the same counter gets values after a's blocks, never one of them.
        let from_b = draw(&b, &mut c, "ebd", 9_999, 4);
        let top = stored(&c, "ebd");
        assert!(from_b.iter().all(|v| v.unwrap() > 14), "{from_b:?}");
        // a's unused values are below b's block: they cannot go back; b's can.
        for (kind, d, first, last) in a.unused() {
            assert!(!give_back(&c, &kind, d, first, last).unwrap());
        }
        assert_eq!(stored(&c, "ebd"), top);
        let left = b.unused();
        assert_eq!(left.len(), 1);
        let (kind, d, first, last) = left[0].clone();
        assert_eq!(i64::from(last), top);
        assert!(give_back(&c, &kind, d, first, last).unwrap());
        assert_eq!(stored(&c, "ebd"), i64::from(from_b[3].unwrap()));
        assert!(b.unused().is_empty(), "forgotten once given back");
    }

    #[test]
    fn raising_skips_held_values_never_lowers_and_counters_are_separate() {
        let mut c = conn();
        let held = IdBlocks::default();
        assert_eq!(draw(&held, &mut c, "ebm", 9_999, 4), [1, 2, 3, 4].map(Some));
        held.raised("ebm", day(), 6);
        assert_eq!(raise(&c, "ebm", day(), 6).unwrap(), 7, "never lowers");
        assert_eq!(draw(&held, &mut c, "ebm", 9_999, 1), [Some(7)]);
        assert_eq!(raise(&c, "ebm", day(), 9_997).unwrap(), 9_997);
        assert_eq!(
            draw(&held, &mut c, "ebm", 9_999, 3),
            [Some(9_998), Some(9_999), None]
        );
        let second = sequence_counter("ebm", "45134310000000102010102", false);
        assert_eq!(second, "ebm:45134310000000102010102");
        assert_eq!(draw(&held, &mut c, &second, 9_999, 1), [Some(1)]);
        assert_eq!(sequence_counter("ebd", "x", true), "ebd");
        let mut r = |k: &str, d: NaiveDate, n: u32, m: u32| reserve(&mut c, k, d, n, m);
        let next_day = day().succ_opt().unwrap();
        assert_eq!(held.take("ebm", next_day, 9_999, &mut r).unwrap(), Some(1));
    }
}
