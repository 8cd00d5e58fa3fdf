//! The ledger's schema: an ordered list of migrations tracked in SQLite's `user_version`, and
//! the connection set-up (WAL, busy timeout, foreign keys).
//!
//! Opening an older file applies the missing migrations, each in its own immediate transaction
//! (so two processes opening the same file at once migrate it once); opening a file written by a
//! newer build is refused. Instants are stored as UTC milliseconds since the Unix epoch.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::{LedgerError, Result};

/// How long a writer waits for another before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Migrations in order; migration `i` brings the file to version `i + 1`. Append only.
pub const MIGRATIONS: &[&str] = &[
    // 1: runs, deliveries, attempts, state reports, endpoint health, counters.
    r"
    CREATE TABLE runs (
        id                INTEGER PRIMARY KEY,
        campaign          TEXT    NOT NULL,
        occurrence_ms     INTEGER NOT NULL,
        created_ms        INTEGER NOT NULL,
        planned_townships INTEGER NOT NULL,
        state             TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
        UNIQUE (campaign, occurrence_ms)
    );
    CREATE INDEX runs_occurrence ON runs (occurrence_ms);

    CREATE TABLE deliveries (
        id              INTEGER PRIMARY KEY,
        run_id          INTEGER NOT NULL REFERENCES runs (id),
        endpoint        TEXT    NOT NULL,
        lang            TEXT    NOT NULL,
        message         TEXT    NOT NULL,
        ebd_id          TEXT    NOT NULL UNIQUE,
        ebm_id          TEXT    NOT NULL UNIQUE,
        related_ebm_id  TEXT,
        window_start_ms INTEGER NOT NULL,
        window_end_ms   INTEGER NOT NULL,
        air_by_ms       INTEGER NOT NULL,
        payload_digest  TEXT    NOT NULL,
        state           TEXT    NOT NULL DEFAULT 'pending',
        reason          TEXT,
        created_ms      INTEGER NOT NULL,
        updated_ms      INTEGER NOT NULL,
        UNIQUE (run_id, endpoint, lang)
    );
    CREATE INDEX deliveries_state ON deliveries (state, air_by_ms);

    CREATE TABLE delivery_townships (
        delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
        township    TEXT    NOT NULL,
        PRIMARY KEY (delivery_id, township)
    );
    CREATE INDEX delivery_townships_township ON delivery_townships (township);

    CREATE TABLE attempts (
        id          INTEGER PRIMARY KEY,
        delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
        started_ms  INTEGER NOT NULL,
        finished_ms INTEGER NOT NULL,
        outcome     TEXT    NOT NULL,
        code        INTEGER,
        latency_ms  INTEGER NOT NULL,
        error       TEXT
    );
    CREATE INDEX attempts_delivery ON attempts (delivery_id);

    CREATE TABLE state_reports (
        id             INTEGER PRIMARY KEY,
        delivery_id    INTEGER REFERENCES deliveries (id),
        ebm_id         TEXT    NOT NULL,
        reported_ms    INTEGER NOT NULL,
        brd_state_code INTEGER NOT NULL,
        description    TEXT,
        coverage_rate  REAL,
        area_codes     TEXT    NOT NULL,
        terminals      INTEGER,
        raw            TEXT    NOT NULL
    );
    CREATE INDEX state_reports_delivery ON state_reports (delivery_id);

    CREATE TABLE endpoint_health (
        endpoint             TEXT PRIMARY KEY,
        last_seen_ms         INTEGER,
        consecutive_failures INTEGER NOT NULL,
        circuit              TEXT    NOT NULL,
        reason               TEXT,
        updated_ms           INTEGER NOT NULL
    );

    CREATE TABLE sequences (
        kind  TEXT    NOT NULL,
        day   TEXT    NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (kind, day)
    );
    ",
    // 2: a delivery is one segment of the programme (one airing of one clip: message × language
    // × repeat), keyed by run × endpoint × segment. Existing rows become segments 0.. in the
    // order their windows start (the campaign's language order), repeat 0.
    r"
    CREATE TABLE deliveries_v2 (
        id              INTEGER PRIMARY KEY,
        run_id          INTEGER NOT NULL REFERENCES runs (id),
        endpoint        TEXT    NOT NULL,
        segment         INTEGER NOT NULL,
        lang            TEXT    NOT NULL,
        message         TEXT    NOT NULL,
        repeat_index    INTEGER NOT NULL DEFAULT 0,
        ebd_id          TEXT    NOT NULL UNIQUE,
        ebm_id          TEXT    NOT NULL UNIQUE,
        related_ebm_id  TEXT,
        window_start_ms INTEGER NOT NULL,
        window_end_ms   INTEGER NOT NULL,
        air_by_ms       INTEGER NOT NULL,
        payload_digest  TEXT    NOT NULL,
        state           TEXT    NOT NULL DEFAULT 'pending',
        reason          TEXT,
        created_ms      INTEGER NOT NULL,
        updated_ms      INTEGER NOT NULL,
        UNIQUE (run_id, endpoint, segment)
    );
    INSERT INTO deliveries_v2 (id, run_id, endpoint, segment, lang, message, repeat_index,
        ebd_id, ebm_id, related_ebm_id, window_start_ms, window_end_ms, air_by_ms,
        payload_digest, state, reason, created_ms, updated_ms)
    SELECT id, run_id, endpoint,
        ROW_NUMBER() OVER (PARTITION BY run_id, endpoint ORDER BY window_start_ms, id) - 1,
        lang, message, 0, ebd_id, ebm_id, related_ebm_id, window_start_ms, window_end_ms,
        air_by_ms, payload_digest, state, reason, created_ms, updated_ms
    FROM deliveries;
    DROP TABLE deliveries;
    ALTER TABLE deliveries_v2 RENAME TO deliveries;
    CREATE INDEX deliveries_state ON deliveries (state, air_by_ms);
    ",
    // 3: cancels of a broken pair's delivered half, recorded before they are sent.
    r"
    CREATE TABLE cancels (
        delivery_id  INTEGER PRIMARY KEY REFERENCES deliveries (id),
        ebd_id       TEXT    NOT NULL UNIQUE,
        reason       TEXT    NOT NULL,
        cancel_by_ms INTEGER NOT NULL,
        state        TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'done', 'refused', 'too_late')),
        detail       TEXT,
        created_ms   INTEGER NOT NULL,
        updated_ms   INTEGER NOT NULL
    );
    CREATE INDEX cancels_state ON cancels (state);
    ",
    // 4: the content version (`crate::push::version`) a run was created with (NULL before), and
    // each instance's current version, so instances see each other's.
    r"
    ALTER TABLE runs ADD COLUMN content_hash TEXT;
    CREATE TABLE instances (
        name         TEXT    PRIMARY KEY,
        content_hash TEXT    NOT NULL,
        files        TEXT    NOT NULL,
        loaded_ms    INTEGER NOT NULL,
        seen_ms      INTEGER NOT NULL
    );
    ",
    // 5: delivery leases (which instance may send a delivery now, until when) and the instance
    // that made each attempt.
    r"
    ALTER TABLE deliveries ADD COLUMN leased_by TEXT;
    ALTER TABLE deliveries ADD COLUMN lease_until_ms INTEGER;
    ALTER TABLE attempts ADD COLUMN instance TEXT;
    ",
    // 6: whether an instance pushes (0 for a `serve --no-schedule` mirror, which serves pulls
    // only: its version is compared with the pushing instances', never counted as one of them);
    // the leased deliveries by state and lease end, so a takeover finds the run-out follow-ups
    // without reading every delivered row (released leases are NULL and not in it).
    r"
    ALTER TABLE instances ADD COLUMN pushes INTEGER NOT NULL DEFAULT 1;
    CREATE INDEX deliveries_lease ON deliveries (state, lease_until_ms)
        WHERE leased_by IS NOT NULL;
    ",
];

/// The schema version this build writes.
pub fn current_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// Open (creating if missing) the ledger file at `path`, set it up and migrate it.
pub fn open(path: &Path) -> Result<Connection> {
    let wrap = |source| LedgerError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut conn = Connection::open(path).map_err(wrap)?;
    // Turning a new file to WAL takes its lock without waiting in SQLite's busy handler: two
    // processes opening a fresh ledger at once had one fail with "database is locked". Tried
    // again for up to the busy timeout.
    let started = std::time::Instant::now();
    loop {
        match configure(&conn) {
            Err(e) if busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            done => break done.map_err(wrap)?,
        }
    }
    migrate(&mut conn, path)?;
    Ok(conn)
}

fn busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// The file's schema version.
pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Apply every migration the file lacks; refuse a file newer than this build. Foreign keys are
/// off while migrating (a table rebuild drops the table others reference) and each migration
/// checks them before it commits.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    conn.pragma_update(None, "foreign_keys", false)?;
    let done = migrate_all(conn, path);
    conn.pragma_update(None, "foreign_keys", true)?;
    done
}

fn migrate_all(conn: &mut Connection, path: &Path) -> Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = version(&tx)?;
        if found > current_version() {
            return Err(LedgerError::NewerSchema {
                path: path.to_path_buf(),
                found,
                supported: current_version(),
            });
        }
        let Some(sql) = MIGRATIONS.get(found as usize) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        let broken: Option<String> = tx
            .prepare("PRAGMA foreign_key_check")?
            .query_row([], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            return Err(LedgerError::Migration {
                path: path.to_path_buf(),
                version: found + 1,
                detail: format!("a row of `{table}` lost its foreign key"),
            });
        }
        tx.pragma_update(None, "user_version", found + 1)?;
        tx.commit()?;
        tracing::info!(path = %path.display(), version = found + 1, "ledger migrated");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_reaches_the_current_version_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        let conn = open(&path).unwrap();
        assert_eq!(version(&conn).unwrap(), current_version());
        drop(conn);
        let conn = open(&path).unwrap();
        assert_eq!(version(&conn).unwrap(), current_version());
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[test]
    fn a_newer_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", current_version() + 3)
            .unwrap();
        drop(conn);
        let err = open(&path).unwrap_err();
        match &err {
            LedgerError::NewerSchema { found, .. } => assert_eq!(*found, current_version() + 3),
            other => panic!("unexpected {other}"),
        }
        assert!(err.to_string().contains("newer than this build"));
    }
}
