//! `shengbo serve`: the daemon. Two parts in one process:
//! - the HTTP app ([`crate::server`]): playlist and audio pulls, coverage, health, metrics;
//! - the scheduler (cron loop and pushes), skipped with `--no-schedule`.
//!
//! `shengbo serve --no-schedule` is a read-only mirror: it plans from `schedules/` and
//! `audio/`, serves what it planned, reads the ledger if one exists and never writes it. The
//! only thing it writes is the loudness-adjusted clip cache (`<data>/cache/adjusted`), which
//! holds what it serves.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Days, Utc};

use super::Global;
use crate::directory::Directory;

mod scheduled;
use crate::server::{self, AppState, Snapshot, TokenStore};

/// How often the HTTP-only mode re-plans (schedules, audio and the day may have changed).
const REPLAN_EVERY: Duration = Duration::from_secs(600);

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
    #[arg(long, default_value_t = 5)]
    pub reload_s: u64,
    /// Base URL replacing `{sim}` in the endpoint registry (a running `shengbo sim`).
    #[arg(long, env = "SHENGBO_SIM_URL")]
    pub sim: Option<String>,
    #[command(flatten)]
    pub edge: crate::server::EdgeArgs,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let rt = super::runtime()?;
    if args.no_schedule {
        rt.block_on(http_only(global, args))
    } else {
        rt.block_on(scheduled::run(global, args))
    }
}

/// The window planned for serving: yesterday through a week ahead.
fn window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = now.checked_sub_days(Days::new(1)).unwrap_or(now);
    let to = now.checked_add_days(Days::new(8)).unwrap_or(now);
    (from, to)
}

/// Plan and index audio for the server: the loudness-adjusted clips, cached (by content and
/// gain) under the data directory's `cache/adjusted`, the same cache `run` and `serve` push from.
/// This is the only thing a read-only mirror writes; it never writes the ledger.
pub fn load_snapshot(root: &Path, data: &crate::datadir::DataDir) -> anyhow::Result<Snapshot> {
    let now = Utc::now();
    let (from, to) = window(now);
    let adjusted = data.path().join("cache").join("adjusted");
    Snapshot::load(root, Some(&data.probe_cache()), &adjusted, from, to, now)
        .with_context(|| format!("cannot load `{}`", root.display()))
}

/// The HTTP app's state for this project and data directory.
pub fn app_state(global: &Global, args: &Args) -> anyhow::Result<AppState> {
    let data = global.data_dir();
    let snapshot = load_snapshot(&global.root, &data)?;
    let tokens = TokenStore::open(data.path().join("tokens.json"))?;
    let mut state = AppState::new(Arc::new(Directory::liangshan()), snapshot, tokens);
    if data.ledger().exists() {
        state = state.with_records(server::records::open(&data.ledger())?);
    } else {
        tracing::warn!(ledger = %data.ledger().display(), "no ledger yet: coverage unavailable");
    }
    if let Some(url) = &args.base_url {
        state = state.with_base_url(url.clone());
    }
    // The key that signs clip links in webhook bodies; a read-only mirror only reads it.
    if !args.no_schedule || data.path().join(crate::server::signed::KEY_FILE).exists() {
        state = state.with_url_signer(crate::server::signed::UrlSigner::open(data.path())?);
    }
    Ok(state.with_limits(args.edge.limits()))
}

async fn http_only(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let state = app_state(global, &args)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on `{}`", args.listen))?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let replan = tokio::spawn(replan_loop(global.clone(), state.clone(), stop_rx));
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    };
    server::serve_http(listener, state, shutdown).await?;
    let _ = replan.await;
    Ok(ExitCode::SUCCESS)
}

/// Re-plan every [`REPLAN_EVERY`] until told to stop; a failed load keeps the old snapshot.
async fn replan_loop(
    global: Global,
    state: AppState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(REPLAN_EVERY) => {}
        }
        let g = global.clone();
        let loaded =
            tokio::task::spawn_blocking(move || load_snapshot(&g.root, &g.data_dir())).await;
        match loaded {
            Ok(Ok(snapshot)) => state.replace_snapshot(snapshot),
            Ok(Err(err)) => {
                tracing::error!(error = %format!("{err:#}"), "re-plan failed; serving the previous plan")
            }
            Err(err) => tracing::error!(%err, "re-plan task failed"),
        }
    }
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
