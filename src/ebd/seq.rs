//! Daily sequence counters for package and message ids, behind [`SequenceStore`] so they survive
//! restarts: a crash-safe file store under the data dir, and an in-memory one for tests.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
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

    fn key(self) -> &'static str {
        match self {
            SeqKind::Ebd => "ebd",
            SeqKind::Ebm => "ebm",
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
    #[error("counter file `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("counter file `{path}` line {line}: cannot read `{text}`")]
    Corrupt {
        path: PathBuf,
        line: usize,
        text: String,
    },
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

/// Counters in one small text file (`<kind> <YYYY-MM-DD> <n>` per line), rewritten by write to a
/// temporary file, fsync, rename and directory fsync: after a crash the file holds either the old
/// or the new value, and a number is persisted before it is handed out. An exclusive lock on
/// `ebd-sequence.lock` serialises processes sharing the data dir.
#[derive(Debug)]
pub struct FileSequence {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileSequence {
    /// A store at `dir/ebd-sequence.txt`; creates `dir` if missing.
    pub fn open(dir: &Path) -> Result<FileSequence, SeqError> {
        fs::create_dir_all(dir).map_err(|source| SeqError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let store = FileSequence {
            path: dir.join("ebd-sequence.txt"),
            lock: Mutex::new(()),
        };
        store.load()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> SeqError {
        SeqError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn load(&self) -> Result<Counters, SeqError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Counters::new()),
            Err(e) => return Err(self.io(e)),
        };
        parse_counters(&text).map_err(|(line, text)| SeqError::Corrupt {
            path: self.path.clone(),
            line,
            text,
        })
    }

    fn store(&self, c: &Counters) -> Result<(), SeqError> {
        let mut text = String::new();
        for ((kind, day), n) in c {
            text.push_str(&format!("{} {day} {n}\n", kind.key()));
        }
        let tmp = self.path.with_extension("txt.tmp");
        let mut f = fs::File::create(&tmp).map_err(|e| self.io(e))?;
        f.write_all(text.as_bytes()).map_err(|e| self.io(e))?;
        f.sync_all().map_err(|e| self.io(e))?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(|e| self.io(e))?;
        if let Some(dir) = self.path.parent()
            && let Ok(d) = fs::File::open(dir)
        {
            // best effort: not every platform can fsync a directory
            let _ = d.sync_all();
        }
        Ok(())
    }
}

fn parse_counters(text: &str) -> Result<Counters, (usize, String)> {
    let mut c = Counters::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || (i + 1, line.to_owned());
        let mut parts = line.split_whitespace();
        let kind = match parts.next() {
            Some("ebd") => SeqKind::Ebd,
            Some("ebm") => SeqKind::Ebm,
            _ => return Err(bad()),
        };
        let day = parts
            .next()
            .and_then(|d| d.parse::<NaiveDate>().ok())
            .ok_or_else(bad)?;
        let n = parts
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(bad)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        c.insert((kind, day), n);
    }
    Ok(c)
}

impl SequenceStore for FileSequence {
    fn next(&self, kind: SeqKind, day: NaiveDate) -> Result<u32, SeqError> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let lock_path = self.path.with_extension("lock");
        let lock_file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| self.io(e))?;
        lock_file.lock().map_err(|e| self.io(e))?;
        let mut c = self.load()?;
        let n = advance(&mut c, kind, day)?;
        self.store(&c)?;
        drop(lock_file);
        tracing::debug!(kind = ?kind, %day, n, "sequence allocated");
        Ok(n)
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
    fn file_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileSequence::open(dir.path()).unwrap();
        assert_eq!(s.next(SeqKind::Ebm, day(27)).unwrap(), 1);
        assert_eq!(s.next(SeqKind::Ebm, day(27)).unwrap(), 2);
        drop(s);
        let s = FileSequence::open(dir.path()).unwrap();
        assert_eq!(s.next(SeqKind::Ebm, day(27)).unwrap(), 3);
        assert_eq!(s.next(SeqKind::Ebd, day(27)).unwrap(), 1);
        assert!(!dir.path().join("ebd-sequence.txt.tmp").exists());
    }

    #[test]
    fn two_stores_on_one_dir_never_hand_out_the_same_number() {
        let dir = tempfile::tempdir().unwrap();
        let a = std::sync::Arc::new(FileSequence::open(dir.path()).unwrap());
        let b = std::sync::Arc::new(FileSequence::open(dir.path()).unwrap());
        let handles: Vec<_> = [a, b]
            .into_iter()
            .map(|s| {
                std::thread::spawn(move || {
                    (0..50)
                        .map(|_| s.next(SeqKind::Ebd, day(27)).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<u32> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (1..=100).collect::<Vec<_>>());
    }

    #[test]
    fn exhausted_and_corrupt_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ebd-sequence.txt"), "ebm 2025-11-27 9999\n").unwrap();
        let s = FileSequence::open(dir.path()).unwrap();
        assert!(matches!(
            s.next(SeqKind::Ebm, day(27)),
            Err(SeqError::Exhausted { max: 9999, .. })
        ));
        assert_eq!(s.next(SeqKind::Ebm, day(28)).unwrap(), 1);
        std::fs::write(dir.path().join("ebd-sequence.txt"), "ebm yesterday 3\n").unwrap();
        assert!(matches!(
            FileSequence::open(dir.path()),
            Err(SeqError::Corrupt { line: 1, .. })
        ));
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
