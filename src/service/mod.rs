//! The service behind `shengbo serve`: one process, one clock. [`serve`] owns the HTTP app, the
//! live view it serves from, the file watcher (schedules, endpoints, audio), and — unless
//! [`ServiceConfig::schedule`] is off — the cron loop, the pusher and its dispatcher, state
//! follow-ups, connection checks and the inbound `POST /v1/ebd/state`.
//!
//! Every loop reads time from the one [`Clock`] it is given, so tests run the whole daemon with
//! tokio's paused time. The ledger is opened once, as a [`Ledger`] trait object, and handed to
//! the pusher and the HTTP records alike.
//!
//! - [`live`] — the snapshot stations pull, rebuilt from the scheduler's project on every
//!   reload and at every Beijing midnight.
//! - [`loops`] — connection checks and the follow-up of deliveries a restart left unsettled.
//! - [`inbound`] — platforms' unsolicited state reports, checked with the registry's keys.
//! - [`resume`] — what a restart picks up again: every open run.
//! - [`peers`] — this instance's content version in the ledger, and other instances' versions.
//! - [`takeover`] — deliveries of an instance that died, claimed when their lease runs out.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::datadir::DataDir;
use crate::diag::Diagnostic;
use crate::dispatch::Clock;
use crate::ledger::{Ledger, LedgerError};
use crate::server::{AppState, Metrics, TokenStore};

pub mod inbound;
pub mod live;
pub mod loops;
pub mod metered;
pub mod peers;
mod pushing;
pub mod resume;
pub mod takeover;

/// Where the HTTP app listens.
#[derive(Debug)]
pub enum Listen {
    /// Bind this address at start.
    Addr(SocketAddr),
    /// A listener already bound (tests bind `127.0.0.1:0` and read the port first).
    Bound(tokio::net::TcpListener),
}

/// What one service runs on.
#[derive(Debug)]
pub struct ServiceConfig {
    /// The project: `schedules/`, `audio/`.
    pub root: PathBuf,
    pub data: DataDir,
    pub listen: Listen,
    /// Public base URL of audio links (playlists, webhook bodies); default the listen address.
    pub base_url: Option<String>,
    /// How often edited schedules, endpoints and audio are looked for.
    pub reload: Duration,
    /// Replaces `{sim}` in the endpoint registry.
    pub sim: Option<String>,
    /// Push (cron loop, pusher, state reports in); off: a read-only mirror.
    pub schedule: bool,
    /// The counters `/metrics` shows; the pusher records into the same ones.
    pub metrics: Arc<Metrics>,
    /// The HTTP edge's limits (connections, header and idle timeouts).
    pub limits: crate::server::Limits,
    /// The ledger's store; default the data directory's SQLite file.
    pub ledger: crate::ledger::LedgerTarget,
    /// This instance's name (default the host name): the holder of its delivery leases and the
    /// row its content version is written under; every instance sharing a ledger needs its own.
    pub instance: String,
}

impl ServiceConfig {
    /// A pushing service for `root` with its data in `data`, listening on `listen`.
    pub fn new(root: PathBuf, data: DataDir, listen: Listen) -> ServiceConfig {
        ServiceConfig {
            root,
            ledger: crate::ledger::LedgerTarget::default_for(&data.ledger()),
            data,
            listen,
            base_url: None,
            reload: Duration::from_secs(5),
            sim: None,
            schedule: true,
            metrics: Arc::new(Metrics::default()),
            limits: crate::server::Limits::default(),
            instance: crate::ledger::lease::default_holder(),
        }
    }
}

/// Why the service could not start (or its HTTP server stopped).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    #[error("{}", crate::t!("service-listen", addr = addr.to_string(), reason = source.to_string()))]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// Each diagnostic names its file and line.
    #[error("{}", crate::t!("service-schedules", errors = .0.len()))]
    Schedules(Vec<Diagnostic>),
    #[error("{}", crate::t!("service-registry", errors = .0.len()))]
    Registry(Vec<Diagnostic>),
    #[error("{}", crate::t!("service-settings", errors = .0.len()))]
    Settings(Vec<Diagnostic>),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("{}", crate::t!("service-tokens", reason = .0.to_string()))]
    Tokens(#[from] crate::server::auth::TokenError),
    #[error(transparent)]
    LinkKey(#[from] crate::server::signed::SignedUrlError),
    #[error("{}", crate::t!("service-client", reason = .0.to_string()))]
    Client(#[from] reqwest::Error),
    #[error("{}", crate::t!("service-task", reason = .0.to_string()))]
    Task(#[from] tokio::task::JoinError),
}

impl ServiceError {
    /// The diagnostics behind an input error (schedules, registry, settings), if it is one.
    pub fn diagnostics(&self) -> Option<&[Diagnostic]> {
        match self {
            ServiceError::Schedules(d) | ServiceError::Registry(d) | ServiceError::Settings(d) => {
                Some(d)
            }
            _ => None,
        }
    }
}

/// Run the service until `shutdown` completes, then stop every loop (in-flight pushes get their
/// drain time) and return.
pub async fn serve(
    mut config: ServiceConfig,
    clock: Clock,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServiceError> {
    let unbound = Listen::Addr(SocketAddr::from(([127, 0, 0, 1], 0)));
    let listener = match std::mem::replace(&mut config.listen, unbound) {
        Listen::Addr(addr) => crate::server::bind(addr)
            .await
            .map_err(|source| ServiceError::Listen { addr, source })?,
        Listen::Bound(l) => l,
    };
    let addr = listener.local_addr().map_err(|source| ServiceError::Io {
        what: crate::t!("service-what-listen-address"),
        source,
    })?;
    let base = config
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let (root, data) = (config.root.clone(), config.data.clone());
    let now = clock.now();
    let strict = config.schedule;
    let project = tokio::task::spawn_blocking(move || {
        crate::scheduler::reload::load_project(&root, &data, now, strict)
    })
    .await?
    .map_err(ServiceError::Schedules)?;
    let project = Arc::new(project);
    let directory = Arc::new(project.directory.clone());
    let ledger = open_ledger(&config.data, &config.ledger, config.schedule)
        .await?
        .map(|inner| -> Arc<dyn Ledger> {
            Arc::new(metered::MeteredLedger {
                inner,
                metrics: Arc::clone(&config.metrics),
                directory: Arc::clone(&directory),
            })
        });
    let (stop_tx, stop) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let (project_tx, project_rx) = watch::channel(Arc::clone(&project));

    let snapshot = {
        let p = Arc::clone(&project);
        tokio::task::spawn_blocking(move || live::snapshot_of(&p, now)).await?
    };
    let tokens = TokenStore::open(config.data.path().join("tokens.json"))?;
    let mut state = AppState::new(directory, snapshot, tokens)
        .with_clock(clock)
        .with_metrics(Arc::clone(&config.metrics));
    if let Some(l) = &ledger {
        let file = config.ledger.sqlite_file();
        state = state.with_records(crate::server::records::shared(Arc::clone(l), file));
    } else {
        tracing::warn!(ledger = %config.ledger.describe(), "no ledger yet: coverage unavailable");
    }
    if let Some(url) = &config.base_url {
        state = state.with_base_url(url.clone());
    }
    // The key that signs clip links in webhook bodies; a read-only mirror only reads it.
    let key_file = config.data.path().join(crate::server::signed::KEY_FILE);
    let signer = if config.schedule || key_file.exists() {
        Some(crate::server::signed::UrlSigner::open(config.data.path())?)
    } else {
        None
    };
    if let Some(s) = &signer {
        state = state.with_url_signer(s.clone());
    }
    state = state.with_limits(config.limits.clone());
    let pushing = match (&ledger, config.schedule) {
        (Some(l), true) => {
            let m = Arc::clone(&config.metrics);
            let name = config.instance.as_str();
            let peers =
                peers::Peers::start(Arc::clone(l), name, &project, clock, (m, true)).await?;
            tasks.spawn(peers.run(project_rx.clone(), stop.clone()));
            let clip_base = crate::transport::webhook::ClipLinks {
                base: format!("{base}/v1/audio"),
                signer,
            };
            let p =
                pushing::Pushing::start(&config, &project, Arc::clone(l), clip_base, clock).await?;
            state = state.with_ebd_inbound(inbound::from_pusher(&p.pusher));
            Some(p)
        }
        (Some(l), false) => {
            // A mirror: its version written as not pushing, the pushers' compared with it.
            let m = (Arc::clone(&config.metrics), false);
            let name = config.instance.as_str();
            let peers = peers::Peers::start(Arc::clone(l), name, &project, clock, m).await?;
            tasks.spawn(peers.run(project_rx.clone(), stop.clone()));
            None
        }
        _ => None,
    };

    tasks.spawn(live::follow(
        state.clone(),
        project_rx.clone(),
        clock,
        stop.clone(),
    ));
    let endpoints = match pushing {
        Some(p) => Some(
            p.spawn(&mut tasks, project_rx, &config, clock, stop.clone())
                .await?,
        ),
        None => None,
    };
    let watcher = crate::scheduler::reload::Watcher {
        root: config.root.clone(),
        data: config.data.clone(),
        interval: config.reload.max(Duration::from_millis(100)),
        strict: config.schedule,
        clock,
    };
    tasks.spawn(watcher.run(project_tx, endpoints, stop.clone()));
    let http_stop = stop.clone();
    let http = tokio::spawn(crate::server::serve_http(listener, state, async move {
        let mut s = http_stop;
        let _ = s.wait_for(|s| *s).await;
    }));
    tracing::info!(%addr, schedule = config.schedule, "listening");
    shutdown.await;
    tracing::info!("shutting down: draining in-flight pushes");
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    http.await?.map_err(|source| ServiceError::Io {
        what: crate::t!("service-what-http"),
        source,
    })
}

/// The ledger, opened once: created when pushing; a mirror reads a SQLite file only if it
/// exists (a PostgreSQL ledger is always there to read).
async fn open_ledger(
    data: &DataDir,
    target: &crate::ledger::LedgerTarget,
    pushing: bool,
) -> Result<Option<Arc<dyn Ledger>>, ServiceError> {
    if let crate::ledger::LedgerTarget::Sqlite(path) = target
        && !pushing
        && !path.exists()
    {
        return Ok(None);
    }
    if pushing {
        data.ensure().map_err(|source| ServiceError::Io {
            what: crate::t!(
                "service-what-create",
                path = data.path().display().to_string()
            ),
            source,
        })?;
    }
    let target = target.clone();
    let ledger = tokio::task::spawn_blocking(move || target.open()).await??;
    Ok(Some(ledger))
}
