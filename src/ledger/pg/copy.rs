//! `ledger migrate`: copy a SQLite ledger into an empty PostgreSQL one, every table and every
//! id as it is, then prove the copy: per table, the row count and a SHA-256 over its rows read
//! back from both stores must agree. All of it is one PostgreSQL transaction: a refused or
//! failed copy leaves the database as it was.

use std::path::Path;

use postgres::types::{ToSql, Type};
use postgres::{Config, Transaction};
use sha2::{Digest, Sha256};

use super::super::{LedgerError, Result};
use super::{describe, schema};

/// One table as copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: &'static str,
    pub rows: u64,
    /// SHA-256 (hex) over the table's rows, the same in both stores.
    pub checksum: String,
}

/// A value of one column, typed by the PostgreSQL column it goes to.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
}

impl Value {
    fn param(&self) -> &(dyn ToSql + Sync) {
        match self {
            Value::Int(v) => v,
            Value::Real(v) => v,
            Value::Text(v) => v,
        }
    }

    /// A rendering that tells every value apart (floats by their bits).
    fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = match self {
            Value::Int(Some(v)) => write!(out, "i{v}|"),
            Value::Real(Some(v)) => write!(out, "r{:x}|", v.to_bits()),
            Value::Text(Some(v)) => write!(out, "t{}:{v}|", v.len()),
            Value::Int(None) | Value::Real(None) | Value::Text(None) => write!(out, "-|"),
        };
    }
}

/// The columns of `table` and their PostgreSQL types, in the database's order.
fn columns(tx: &mut Transaction<'_>, table: &str) -> Result<Vec<(String, Type)>> {
    let stmt = tx.prepare(&format!("SELECT * FROM {table} LIMIT 0"))?;
    Ok(stmt
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.type_().clone()))
        .collect())
}

fn sqlite_rows(
    conn: &rusqlite::Connection,
    table: &str,
    cols: &[(String, Type)],
) -> Result<Vec<Vec<Value>>> {
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    let mut stmt = conn.prepare(&format!("SELECT {} FROM {table}", names.join(", ")))?;
    let rows = stmt.query_map([], |r| {
        cols.iter()
            .enumerate()
            .map(|(i, (_, ty))| {
                Ok(match *ty {
                    Type::INT8 | Type::INT4 => Value::Int(r.get(i)?),
                    Type::FLOAT8 => Value::Real(r.get(i)?),
                    _ => Value::Text(r.get(i)?),
                })
            })
            .collect::<rusqlite::Result<Vec<Value>>>()
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn pg_rows(
    tx: &mut Transaction<'_>,
    table: &str,
    cols: &[(String, Type)],
) -> Result<Vec<Vec<Value>>> {
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    let rows = tx.query(&format!("SELECT {} FROM {table}", names.join(", ")), &[])?;
    Ok(rows
        .iter()
        .map(|r| {
            cols.iter()
                .enumerate()
                .map(|(i, (_, ty))| match *ty {
                    Type::INT8 => Value::Int(r.get(i)),
                    Type::INT4 => Value::Int(r.get::<_, Option<i32>>(i).map(i64::from)),
                    Type::FLOAT8 => Value::Real(r.get(i)),
                    _ => Value::Text(r.get(i)),
                })
                .collect()
        })
        .collect())
}

/// Count and SHA-256 over rows in a fixed order (their renderings, sorted).
fn checksum(rows: &[Vec<Value>]) -> (u64, String) {
    let mut rendered: Vec<String> = rows
        .iter()
        .map(|r| {
            let mut s = String::new();
            r.iter().for_each(|v| v.render(&mut s));
            s
        })
        .collect();
    rendered.sort();
    let mut h = Sha256::new();
    for r in &rendered {
        h.update(r.as_bytes());
        h.update(b"\n");
    }
    (rows.len() as u64, hex::encode(h.finalize()))
}

/// Copy the SQLite ledger at `from` into the PostgreSQL database of `to`, which must hold no
/// ledger rows yet; returns what each table holds in both.
pub fn copy_sqlite(from: &Path, to: Config) -> Result<Vec<TableCopy>> {
    let target = describe(&to);
    let source = super::super::schema::open(from)?;
    let mut client = to
        .connect(postgres::NoTls)
        .map_err(|source| LedgerError::PgConnect {
            target: target.clone(),
            source,
        })?;
    schema::migrate(&mut client, &target)?;
    let mut tx = client.transaction()?;
    for table in schema::TABLES {
        let n: i64 = tx
            .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])?
            .get(0);
        if n > 0 {
            return Err(LedgerError::PgNotEmpty {
                target,
                table,
                rows: n.unsigned_abs(),
            });
        }
    }
    let mut out = Vec::new();
    for table in schema::TABLES {
        let cols = columns(&mut tx, table)?;
        let rows = sqlite_rows(&source, table, &cols)?;
        let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
        let marks: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
        let insert = tx.prepare(&format!(
            "INSERT INTO {table} ({}) OVERRIDING SYSTEM VALUE VALUES ({})",
            names.join(", "),
            marks.join(", ")
        ))?;
        for row in &rows {
            let params: Vec<&(dyn ToSql + Sync)> = row.iter().map(Value::param).collect();
            tx.execute(&insert, &params)?;
        }
        if names.first() == Some(&"id") {
            // The next id handed out follows the copied ones, as in SQLite.
            tx.execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                   COALESCE(MAX(id), 0) + 1, false) FROM {table}"
                ),
                &[],
            )?;
        }
        let (rows_in, sum_in) = checksum(&rows);
        let (rows_out, sum_out) = checksum(&pg_rows(&mut tx, table, &cols)?);
        if (rows_in, &sum_in) != (rows_out, &sum_out) {
            return Err(LedgerError::PgCopyMismatch {
                table,
                detail: format!(
                    "SQLite {rows_in} rows, sha256 {sum_in}; PostgreSQL {rows_out} rows, \
                     sha256 {sum_out}"
                ),
            });
        }
        out.push(TableCopy {
            table,
            rows: rows_in,
            checksum: sum_in,
        });
    }
    tx.commit()?;
    Ok(out)
}
