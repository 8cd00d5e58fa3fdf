//! `shengbo ledger migrate --to postgres://…`: copy the SQLite ledger (`--ledger sqlite:PATH`,
//! default the data directory's) into an empty PostgreSQL database, verified table by table
//! by row counts and SHA-256 checksums. Exit 1 when the target is not empty, the copy differs
//! or a value is malformed; 2 when a database cannot be reached.

use std::process::ExitCode;

use unicode_width::UnicodeWidthStr;

use super::Global;
use crate::ledger::pg::copy;
use crate::ledger::{LedgerError, LedgerTarget};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: LedgerCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LedgerCommand {
    /// Copy the SQLite ledger into an empty PostgreSQL database and verify the copy.
    Migrate {
        /// The PostgreSQL database: `postgres://USER@HOST:PORT/DATABASE` (password from
        /// PGPASSWORD or the PGPASSFILE file).
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let LedgerCommand::Migrate { to } = args.command;
    let env = |k: &str| std::env::var(k).ok();
    let from = match global.ledger() {
        Ok(LedgerTarget::Sqlite(path)) => path,
        Ok(LedgerTarget::Postgres(_)) => {
            return fail(&crate::t!("ledger-migrate-needs-sqlite"));
        }
        Err(e) => return fail(&e),
    };
    if !from.is_file() {
        return fail(&crate::t!(
            "ledger-none-at",
            path = from.display().to_string()
        ));
    }
    let config = match LedgerTarget::parse(&to, env) {
        Ok(LedgerTarget::Postgres(c)) => c,
        Ok(LedgerTarget::Sqlite(_)) => {
            return fail(&crate::t!("ledger-to-not-postgres", to = to.as_str()));
        }
        Err(e) => return fail(&e),
    };
    let target = crate::ledger::pg::describe(&config);
    match copy::copy_sqlite(&from, *config) {
        Ok(tables) => {
            // Headings are padded by display width: a Han character is two columns.
            let (table, rows) = (crate::t!("ledger-col-table"), crate::t!("ledger-col-rows"));
            println!(
                "{table}{} {}{rows}  {}",
                " ".repeat(18usize.saturating_sub(table.width())),
                " ".repeat(5usize.saturating_sub(rows.width())),
                crate::t!("ledger-col-sha256")
            );
            for t in &tables {
                println!("{:<18} {:>5}  {}", t.table, t.rows, t.checksum);
            }
            println!(
                "{}",
                crate::t!(
                    "ledger-copied",
                    from = from.display().to_string(),
                    target = target.to_string(),
                    tables = tables.len()
                )
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (LedgerError::PgConnect { .. } | LedgerError::Open { .. })) => {
            crate::locale::eprint_error(e, None);
            Ok(ExitCode::from(2))
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &dyn std::fmt::Display) -> anyhow::Result<ExitCode> {
    crate::locale::eprint_error(e, None);
    Ok(ExitCode::from(1))
}
