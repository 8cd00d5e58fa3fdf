//! `shengbo serve`: the daemon ([`crate::service`]) on the system clock until SIGTERM or Ctrl-C.
//! Two parts in one process:
//! - the HTTP app ([`crate::server`]): playlist and audio pulls, coverage, health, metrics;
//! - the scheduler (cron loop and pushes), skipped with `--no-schedule`.
//!
//! `shengbo serve --no-schedule` is a read-only mirror: it plans from `schedules/` and
//! `audio/`, serves what it planned, and reads the ledger if one exists. It writes only the
//! loudness-adjusted clip cache (`<data>/cache/adjusted`), which holds what it serves, and its
//! content version into the ledger's `instances`, marked as not pushing, so it can say when
//! what it serves differs from what the pushing instances push ([`crate::service::peers`]).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use super::Global;
use crate::dispatch::Clock;
use crate::service::{Listen, ServiceConfig};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run only the HTTP app (a read-only mirror): no cron loop, no pushes.
    #[arg(long)]
    pub no_schedule: bool,
    /// Where the HTTP app listens.
    #[arg(long, default_value = "127.0.0.1:8470")]
    pub listen: SocketAddr,
    /// Public base URL of audio links in playlists and webhook bodies, e.g.
    /// `https://sb.example.cn` (default: `http://` and the listen address; never a request's
    /// `Host`).
    #[arg(long, value_parser = crate::server::parse_base_url)]
    pub base_url: Option<String>,
    /// Seconds between checks for edited schedules and audio.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub reload_s: u64,
    /// Base URL replacing `{sim}` in the endpoint registry (a running `shengbo sim`).
    #[arg(long, env = "SHENGBO_SIM_URL")]
    pub sim: Option<String>,
    /// This instance's name, the `instance` label on every metric: 1–64 of `A-Z a-z 0-9 . _ : -`
    /// (default with a PostgreSQL ledger: the host name; with SQLite: no label).
    #[arg(long, env = "SHENGBO_INSTANCE", value_parser = parse_instance)]
    pub instance: Option<String>,
    #[command(flatten)]
    pub edge: crate::server::EdgeArgs,
}

/// An instance name outside the rule of `--instance`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("an instance name is 1–64 characters of A-Z a-z 0-9 . _ : -")]
pub struct InstanceError;

pub(crate) fn parse_instance(s: &str) -> Result<String, InstanceError> {
    let ok = (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
    if ok {
        Ok(s.to_string())
    } else {
        Err(InstanceError)
    }
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let rt = super::runtime()?;
    let stop = {
        let _in_runtime = rt.enter();
        shutdown_signal()
    };
    let listener = rt
        .block_on(crate::server::bind(args.listen))
        .with_context(|| crate::t!("serve-cannot-listen", addr = args.listen.to_string()))?;
    eprintln!(
        "{}",
        crate::t!(
            "serve-listening",
            url = format!("http://{}", listener.local_addr()?)
        )
    );
    let mut config = ServiceConfig::new(
        global.root.clone(),
        global.data_dir(),
        Listen::Bound(listener),
    );
    config.base_url = args.base_url;
    config.reload = Duration::from_secs(args.reload_s);
    config.sim = args.sim;
    config.schedule = !args.no_schedule;
    config.limits = args.edge.limits();
    config.ledger = global.ledger()?;
    let shared = matches!(config.ledger, crate::ledger::LedgerTarget::Postgres(_));
    let host = || crate::ledger::lease::host_name().and_then(|h| parse_instance(&h).ok());
    if let Some(name) = args.instance.or_else(|| shared.then(host).flatten()) {
        config.metrics.set_instance(&name);
        config.instance = name;
    }
    match rt.block_on(crate::service::serve(config, Clock::system(), stop)) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            if let Some(diags) = e.diagnostics() {
                for d in diags {
                    eprintln!("{d}");
                }
                crate::locale::eprint_error(&e, None);
                return Ok(ExitCode::from(1));
            }
            Err(anyhow::Error::new(e).context(crate::t!("serve-stopped")))
        }
    }
}

/// Ctrl-C or SIGTERM. The handlers are installed when this is called (inside the runtime),
/// not when the future is first polled: `serve` calls it before it says where it listens, so a
/// SIGTERM sent as soon as the server answers stops it gracefully, never by the default action.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut streams: Vec<_> = [SignalKind::interrupt(), SignalKind::terminate()]
            .into_iter()
            .filter_map(|kind| signal(kind).ok())
            .collect();
        async move {
            if streams.is_empty() {
                return std::future::pending().await;
            }
            let any = streams.iter_mut().map(|s| Box::pin(s.recv()));
            futures_util::future::select_all(any).await;
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
