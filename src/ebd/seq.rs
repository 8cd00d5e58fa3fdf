//! Daily sequence counters for package and message ids, behind [`SequenceStore`] so they survive
//! restarts: the ledger's sequences (`crate::service::inbound`), and an in-memory one for tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};

use super::ids::{EbdId, EbmId, Ebrid, IdError};

/// Which counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeqKind {
    /// Package ids (EBDID): 8-digit daily counter.
    Ebd,
    /// Message ids (EBMID): 4-digit daily counter.
    Ebm,
}

impl SeqKind {
    /// The largest value the id layout can hold.
    pub fn max(self) -> u32 {
        match self {
            SeqKind::Ebd => 99_999_999,
            SeqKind::Ebm => 9_999,
        }
    }
}

/// Why a sequence number could not be handed out.
#[derive(Debug, thiserror::Error)]
pub enum SeqError {
    #[error("{kind:?} counter for {day} is exhausted at {max}")]
    Exhausted {
        kind: SeqKind,
        day: NaiveDate,
        max: u32,
    },
    #[error("{kind:?} counter asked for {day}, but {latest} was already used: clock moved back")]
    ClockBack {
        kind: SeqKind,
        day: NaiveDate,
        latest: NaiveDate,
    },
    /// The store behind the counters failed (the ledger's sequences).
    #[error("counter store: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Hands out daily counters starting at 1. A number once returned is never returned again for
/// the same kind and day, also across restarts.
pub trait SequenceStore: Send + Sync {
    fn next(&self, kind: SeqKind, day: NaiveDate) -> Result<u32, SeqError>;
}

type Counters = BTreeMap<(SeqKind, NaiveDate), u32>;

/// Days of counters kept, so a clock set back a little never reuses a number.
const KEEP_DAYS: i64 = 7;

fn advance(c: &mut Counters, kind: SeqKind, day: NaiveDate) -> Result<u32, SeqError> {
    let latest = c.keys().filter(|(k, _)| *k == kind).map(|(_, d)| *d).max();
    if let Some(latest) = latest
        && (latest - day).num_days() > KEEP_DAYS
    {
        return Err(SeqError::ClockBack { kind, day, latest });
    }
    let next = c.get(&(kind, day)).copied().unwrap_or(0) + 1;
    if next > kind.max() {
        return Err(SeqError::Exhausted {
            kind,
            day,
            max: kind.max(),
        });
    }
    c.insert((kind, day), next);
    let newest = latest.map_or(day, |l| l.max(day));
    c.retain(|(k, d), _| *k != kind || (newest - *d).num_days() <= KEEP_DAYS);
    Ok(next)
}

/// Counters in memory only (tests, one-shot tools).
#[derive(Debug, Default)]
pub struct MemorySequence {
    counters: Mutex<Counters>,
}

impl SequenceStore for MemorySequence {
    fn next(&self, kind: SeqKind, day: NaiveDate) -> Result<u32, SeqError> {
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        advance(&mut c, kind, day)
    }
}

/// Why a new id could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AllocError {
    #[error(transparent)]
    Seq(#[from] SeqError),
    #[error(transparent)]
    Id(#[from] IdError),
}

/// The next package id of `sender` for the Beijing day of `now`.
pub fn next_ebdid(
    store: &dyn SequenceStore,
    sender: &Ebrid,
    now: DateTime<Utc>,
) -> Result<EbdId, AllocError> {
    let day = beijing_day(now);
    let n = store.next(SeqKind::Ebd, day)?;
    Ok(EbdId::package(sender, day, n)?)
}

/// The next message id of `sender` for the Beijing day of `now`.
pub fn next_ebmid(
    store: &dyn SequenceStore,
    sender: &Ebrid,
    now: DateTime<Utc>,
) -> Result<EbmId, AllocError> {
    let day = beijing_day(now);
    let n = store.next(SeqKind::Ebm, day)?;
    Ok(EbmId::new(sender, day, n)?)
}

/// The calendar day in Beijing at `now` (ids are dated in local time).
pub fn beijing_day(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 11, d).unwrap()
    }

    #[test]
    fn memory_counts_per_kind_and_resets_daily() {
        let s = MemorySequence::default();
        assert_eq!(s.next(SeqKind::Ebd, day(27)).unwrap(), 1);
        assert_eq!(s.next(SeqKind::Ebd, day(27)).unwrap(), 2);
        assert_eq!(s.next(SeqKind::Ebm, day(27)).unwrap(), 1);
        assert_eq!(s.next(SeqKind::Ebd, day(28)).unwrap(), 1);
        // the clock going back a day never reuses numbers
        assert_eq!(s.next(SeqKind::Ebd, day(27)).unwrap(), 3);
        assert!(matches!(
            s.next(SeqKind::Ebd, day(1)),
            Err(SeqError::ClockBack { .. })
        ));
    }

    #[test]
    fn an_exhausted_counter_is_an_error_until_the_next_day() {
        let s = MemorySequence::default();
        for n in 1..=SeqKind::Ebm.max() {
            assert_eq!(s.next(SeqKind::Ebm, day(27)).unwrap(), n);
        }
        assert!(matches!(
            s.next(SeqKind::Ebm, day(27)),
            Err(SeqError::Exhausted { max: 9999, .. })
        ));
        assert_eq!(s.next(SeqKind::Ebm, day(28)).unwrap(), 1);
    }

    #[test]
    fn ids_are_dated_in_beijing() {
        let s = MemorySequence::default();
        let sender = Ebrid::parse("45134310000000102010101", crate::ebd::IdFormat::V2018).unwrap();
        // 16:30 UTC on the 26th is 00:30 on the 27th in Beijing
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2025, 11, 26, 16, 30, 0).unwrap();
        let id = next_ebdid(&s, &sender, now).unwrap();
        assert_eq!(id.as_str(), "10451343100000001020101012025112700000001");
        let m = next_ebmid(&s, &sender, now).unwrap();
        assert_eq!(m.as_str(), "45134310000000102010101202511270001");
        assert_eq!(next_ebmid(&s, &sender, now).unwrap().seq(), 2);
    }
}
