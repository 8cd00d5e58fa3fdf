//! Daily id counters in the `sequences` table, per (counter, day): each value is handed out once,
//! also across restarts, and a bounded counter is never pushed past its bound. The counter names
//! of several sender codes: [`sequence_counter`].

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};

use super::{LedgerError, Result};

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

/// The next value (1, 2, …) of `kind` for `day`, unbounded.
pub(super) fn next(conn: &Connection, kind: &str, day: NaiveDate) -> Result<u32> {
    let value: i64 = conn.query_row(
        "INSERT INTO sequences (kind, day, value) VALUES (?1, ?2, 1)
         ON CONFLICT (kind, day) DO UPDATE SET value = value + 1
         RETURNING value",
        params![kind, day_key(day)],
        |r| r.get(0),
    )?;
    to_u32(value)
}

/// The next value of `kind` for `day` if it is at most `max`, in one statement (so two writers
/// never both get `max`); `None` once `max` was handed out, and the counter stays put.
pub(super) fn next_within(
    conn: &Connection,
    kind: &str,
    day: NaiveDate,
    max: u32,
) -> Result<Option<u32>> {
    if max == 0 {
        return Ok(None);
    }
    let value: Option<i64> = conn
        .query_row(
            "INSERT INTO sequences (kind, day, value) VALUES (?1, ?2, 1)
             ON CONFLICT (kind, day) DO UPDATE SET value = value + 1 WHERE value < ?3
             RETURNING value",
            params![kind, day_key(day), i64::from(max)],
            |r| r.get(0),
        )
        .optional()?;
    value.map(to_u32).transpose()
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

    #[test]
    fn a_bounded_counter_stops_at_its_bound_and_stays_there() {
        let c = conn();
        let got: Vec<Option<u32>> = (0..5)
            .map(|_| next_within(&c, "ebm", day(), 3).unwrap())
            .collect();
        assert_eq!(got, [Some(1), Some(2), Some(3), None, None]);
        assert_eq!(raise(&c, "ebm", day(), 0).unwrap(), 3, "not pushed past 3");
        assert_eq!(
            next(&c, "ebm", day()).unwrap(),
            4,
            "the unbounded view goes on"
        );
        assert_eq!(next_within(&c, "ebm", day(), 3).unwrap(), None);
        assert_eq!(next_within(&c, "ebm", day(), 0).unwrap(), None);
    }

    #[test]
    fn raising_never_lowers_and_counters_are_separate() {
        let c = conn();
        assert_eq!(raise(&c, "ebm", day(), 9_997).unwrap(), 9_997);
        assert_eq!(raise(&c, "ebm", day(), 5).unwrap(), 9_997);
        assert_eq!(next_within(&c, "ebm", day(), 9_999).unwrap(), Some(9_998));
        let second = sequence_counter("ebm", "45134310000000102010102", false);
        assert_eq!(second, "ebm:45134310000000102010102");
        assert_eq!(next_within(&c, &second, day(), 9_999).unwrap(), Some(1));
        assert_eq!(sequence_counter("ebd", "x", true), "ebd");
        let next_day = day().succ_opt().unwrap();
        assert_eq!(next_within(&c, "ebm", next_day, 9_999).unwrap(), Some(1));
    }
}
