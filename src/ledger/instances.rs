//! Each instance's current content version (`instances`: name, hash, files, loaded, last seen),
//! on both stores with the same statements: an instance writes its row when it loads a version
//! and again as it goes on, and reads everyone's to notice a version other than its own.

use chrono::{DateTime, Utc};

use super::queries::ms;
use super::{InstanceVersion, LedgerError, Result};

const UPSERT: &str = "INSERT INTO instances (name, content_hash, files, loaded_ms, seen_ms, pushes)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (name) DO UPDATE SET content_hash = excluded.content_hash,
         files = excluded.files, loaded_ms = excluded.loaded_ms, seen_ms = excluded.seen_ms,
         pushes = excluded.pushes";

const SELECT: &str =
    "SELECT name, content_hash, files, loaded_ms, seen_ms, pushes FROM instances ORDER BY name";

/// A stored row's values, in [`SELECT`]'s order.
type Row = (String, String, String, i64, i64, i32);

fn instant(v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| LedgerError::BadValue {
        column: "instances.instant",
        value: v.to_string(),
    })
}

fn from_row((name, content_hash, files, loaded, seen, pushes): Row) -> Result<InstanceVersion> {
    Ok(InstanceVersion {
        name,
        content_hash,
        files,
        loaded_at: instant(loaded)?,
        seen_at: instant(seen)?,
        pushes: pushes != 0,
    })
}

/// Write `i` into the SQLite ledger.
pub fn put_sqlite(conn: &rusqlite::Connection, i: &InstanceVersion) -> Result<()> {
    conn.execute(
        UPSERT,
        rusqlite::params![
            i.name,
            i.content_hash,
            i.files,
            ms(i.loaded_at),
            ms(i.seen_at),
            i32::from(i.pushes)
        ],
    )?;
    Ok(())
}

/// Every instance in the SQLite ledger, by name.
pub fn list_sqlite(conn: &rusqlite::Connection) -> Result<Vec<InstanceVersion>> {
    let mut stmt = conn.prepare_cached(SELECT)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })?;
    rows.map(|r| from_row(r?)).collect()
}

/// Write `i` into the PostgreSQL ledger.
pub fn put_pg(c: &mut impl postgres::GenericClient, i: &InstanceVersion) -> Result<()> {
    c.execute(
        UPSERT,
        &[
            &i.name,
            &i.content_hash,
            &i.files,
            &ms(i.loaded_at),
            &ms(i.seen_at),
            &i32::from(i.pushes),
        ],
    )?;
    Ok(())
}

/// Every instance in the PostgreSQL ledger, by name.
pub fn list_pg(c: &mut impl postgres::GenericClient) -> Result<Vec<InstanceVersion>> {
    c.query(SELECT, &[])?
        .iter()
        .map(|r| {
            let pushes = r.get(5);
            from_row((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), pushes))
        })
        .collect()
}
