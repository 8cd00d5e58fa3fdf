//! `shengbo token add|list|revoke`: station and coordinator tokens for the HTTP API. A new
//! token is printed once, alone on the last line of stdout; only its sha256 is stored, in
//! `<data-dir>/tokens.json`.

use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;

use super::Global;
use crate::directory::Directory;
use crate::server::auth::{self, Scope};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once.
    Add {
        /// A station token for this county (code or name, e.g. `513431` or `昭觉县`).
        #[arg(
            long,
            conflicts_with = "coordinator",
            required_unless_present = "coordinator"
        )]
        county: Option<String>,
        /// A coordinator token: reads coverage and every playlist.
        #[arg(long)]
        coordinator: bool,
        /// A unique name for the token, e.g. the station's.
        #[arg(long)]
        name: String,
    },
    /// List tokens (names and scopes, never secrets).
    List,
    /// Revoke a token by name.
    Revoke { name: String },
}

/// Where the tokens file lives in a data directory.
pub fn tokens_path(global: &Global) -> std::path::PathBuf {
    global.data_dir().path().join("tokens.json")
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let path = tokens_path(global);
    match args.command {
        TokenCommand::Add {
            county,
            coordinator,
            name,
        } => {
            let scope = match (county, coordinator) {
                (_, true) => Scope::Coordinator,
                (Some(q), false) => {
                    let directory = Directory::liangshan();
                    match directory.county(&q) {
                        Ok(c) => Scope::Station {
                            county: c.code.clone(),
                        },
                        Err(err) => {
                            crate::locale::eprint_error(&err, err.help());
                            return Ok(ExitCode::from(1));
                        }
                    }
                }
                (None, false) => anyhow::bail!(crate::t!("token-say-scope")),
            };
            let secret = match auth::add(&path, &name, scope.clone(), Utc::now()) {
                Ok(s) => s,
                Err(err @ (auth::TokenError::Exists(_) | auth::TokenError::BadName { .. })) => {
                    crate::locale::eprint_error(err, None);
                    return Ok(ExitCode::from(1));
                }
                Err(err) => return Err(err).context(crate::t!("token-save-failed")),
            };
            println!(
                "{}",
                crate::t!(
                    "token-created",
                    name = name.as_str(),
                    scope = describe(&scope)
                )
            );
            println!("{secret}");
        }
        TokenCommand::List => {
            let tokens = auth::load(&path).context(crate::t!("token-read-failed"))?;
            if tokens.is_empty() {
                println!(
                    "{}",
                    crate::t!("token-none", path = path.display().to_string())
                );
            }
            for t in tokens {
                println!(
                    "{}\t{}\t{}",
                    t.name,
                    describe(&t.scope),
                    t.created_at.to_rfc3339()
                );
            }
        }
        TokenCommand::Revoke { name } => match auth::revoke(&path, &name) {
            Ok(()) => println!("{}", crate::t!("token-revoked", name = name.as_str())),
            Err(err @ auth::TokenError::Unknown(_)) => {
                crate::locale::eprint_error(err, None);
                return Ok(ExitCode::from(1));
            }
            Err(err) => return Err(err).context(crate::t!("token-revoke-failed")),
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(scope: &Scope) -> String {
    match scope {
        Scope::Coordinator => crate::t!("token-scope-coordinator"),
        Scope::Station { county } => crate::t!("token-scope-station", county = county.as_str()),
    }
}
