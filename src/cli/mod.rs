//! The `shengbo` subcommands. Each lives in its own file with its `Args` and a `run` function;
//! exit codes are 0 fine, 1 the input has problems (reported), 2 could not run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::datadir::DataDir;

pub mod calendar;
pub mod catalog;
pub mod check;
pub mod coverage;
pub mod demo;
pub mod directory;
pub mod ledger;
pub mod plan;
pub mod play;
pub mod render;
pub mod run;
pub mod serve;
pub mod sim;
pub mod token;

/// 声波 shengbo — bilingual (ꆈꌠꉙ + 普通话) fraud-awareness broadcasts over emergency-broadcast
/// loudspeakers.
#[derive(Debug, Parser)]
#[command(name = "shengbo", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// The project folder holding `schedules/` and `audio/`.
    #[arg(long, global = true, default_value = ".", env = "SHENGBO_ROOT")]
    pub root: PathBuf,
    /// Where state lives (ledger, counters, caches); default `<root>/.shengbo`.
    #[arg(long, global = true, env = "SHENGBO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The ledger: `sqlite:PATH` or `postgres://USER@HOST:PORT/DATABASE` (password from
    /// PGPASSWORD or the PGPASSFILE file); default `sqlite:<data dir>/ledger.sqlite`.
    #[arg(long, global = true, env = "SHENGBO_LEDGER", value_name = "URL")]
    pub ledger: Option<String>,
    /// More log output (-v info, -vv debug); `RUST_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Language of messages: `zh` (default) or `en`; else the `locale` setting, else
    /// `LC_ALL`/`LC_MESSAGES`/`LANG`.
    #[arg(long, global = true, value_name = "zh|en")]
    pub lang: Option<crate::locale::Locale>,
}

impl Global {
    /// The interface language: `--lang`, the project's `locale` setting, the environment,
    /// else Chinese.
    pub fn locale(&self) -> crate::locale::Locale {
        self.lang
            .or_else(|| crate::locale::from_settings_file(&self.root))
            .or_else(crate::locale::from_env)
            .unwrap_or_default()
    }

    pub fn data_dir(&self) -> DataDir {
        DataDir::resolve(&self.root, self.data_dir.as_deref())
    }

    /// The ledger's store: `--ledger` / `SHENGBO_LEDGER`, else the data directory's SQLite file.
    pub fn ledger(&self) -> Result<crate::ledger::LedgerTarget, crate::ledger::TargetError> {
        let env = |k: &str| std::env::var(k).ok();
        match &self.ledger {
            Some(url) => crate::ledger::LedgerTarget::parse(url, env),
            None => Ok(crate::ledger::LedgerTarget::default_for(
                &self.data_dir().ledger(),
            )),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check schedules, catalog and directory together.
    Check(check::Args),
    /// Show what will play where and when.
    Plan(plan::Args),
    /// The year's named days and a township's market days.
    Calendar(calendar::Args),
    /// List every clip with its measurements and gate status.
    Catalog(catalog::Args),
    /// Render a township's broadcast to a WAV file, exactly as it airs.
    Render(render::Args),
    /// Play a township's broadcast through the sound device.
    Play(play::Args),
    /// Run slot occurrences: build, push, wait for final states.
    Run(run::Args),
    /// The daemon: cron loop, pushes, and the HTTP server.
    Serve(serve::Args),
    /// Coverage: population reached by confirmed delivery and play, per county or township.
    Coverage(coverage::Args),
    /// Station and coordinator tokens for the HTTP API.
    Token(token::Args),
    /// A loopback simulator of county emergency-broadcast platforms.
    Sim(sim::Args),
    /// The out-of-the-box demo: simulator, all townships, reach per county.
    Demo(demo::Args),
    /// Look up counties, townships and villages: codes, populations, endpoints, campaigns.
    Directory(directory::Args),
    /// The ledger's store: copy a SQLite ledger into PostgreSQL.
    Ledger(ledger::Args),
}

/// Run one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = cli.global;
    crate::locale::set(g.locale());
    match cli.command {
        Command::Check(args) => check::run(&g, args),
        Command::Plan(args) => plan::run(&g, args),
        Command::Calendar(args) => calendar::run(&g, args),
        Command::Catalog(args) => catalog::run(&g, args),
        Command::Render(args) => render::run(&g, args),
        Command::Play(args) => play::run(&g, args),
        Command::Run(args) => run::run(&g, args),
        Command::Serve(args) => serve::run(&g, args),
        Command::Coverage(args) => coverage::run(&g, args),
        Command::Token(args) => token::run(&g, args),
        Command::Sim(args) => sim::run(&g, args),
        Command::Demo(args) => demo::run(&g, args),
        Command::Directory(args) => directory::run(&g, args),
        Command::Ledger(args) => ledger::run(&g, args),
    }
}

/// Logs go to stderr; `RUST_LOG` overrides the verbosity flag.
/// Threads for blocking work. That work is ledger reads and writes (one SQLite connection,
/// taken in turn; the dispatcher's and state follow-ups' writes wait in a queue, not on a
/// thread each, with one committer per queue) and building packages (CPU-bound, on two cores
/// here): beyond this many threads, waiting work only adds stacks and allocator arenas (tokio's
/// default allows 512).
const BLOCKING_THREADS: usize = 16;

/// The async runtime every long-running command uses.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
        .context(crate::t!("cli-runtime"))
}

pub fn init_tracing(verbose: u8) {
    // symphonia logs every damaged packet itself; the clip's one diagnostic says it instead.
    let default = match verbose {
        0 => "warn,symphonia=off",
        1 => "info,symphonia=off",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour_on_stderr())
        .with_writer(std::io::stderr)
        .init();
}

/// ANSI colour only for a terminal, and never with `NO_COLOR` set (<https://no-color.org>).
fn colour_on_stderr() -> bool {
    use std::io::IsTerminal as _;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}
