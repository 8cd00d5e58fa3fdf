//! The pushing half of the service: the pusher over the service's ledger, the current
//! [`PushSet`] (replaced when `endpoints.toml` is edited), and the loops that push — the cron
//! loop with its catch-up, the resumption of open runs, state follow-ups and heartbeats.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{ServiceConfig, ServiceError};
use crate::diag::Diagnostic;
use crate::dispatch::Clock;
use crate::ledger::Ledger;
use crate::push::state::StateWait;
use crate::push::{PlayClock, Project, Pusher};
use crate::scheduler::endpoints::{EndpointReload, PushSet, load_registry};
use crate::scheduler::{CronLoop, LoopConfig, PushRunner};
use crate::transport::Router;

/// The pusher and the watch channel of its current set.
pub(super) struct Pushing {
    pub pusher: Pusher,
    pub tx: watch::Sender<Arc<PushSet>>,
    pub rx: watch::Receiver<Arc<PushSet>>,
    pub client: reqwest::Client,
}

impl Pushing {
    /// Load the registry and the EBD profile, and build the pusher over `ledger`.
    pub async fn start(
        config: &ServiceConfig,
        project: &Arc<Project>,
        ledger: Arc<dyn Ledger>,
        clip_base: crate::transport::webhook::ClipLinks,
        clock: Clock,
    ) -> Result<Pushing, ServiceError> {
        let (root, sim, p) = (config.root.clone(), config.sim.clone(), Arc::clone(project));
        let (registry, settings) = tokio::task::spawn_blocking(move || {
            let registry = load_registry(&root, &p.directory, sim.as_deref());
            (registry, crate::settings::Settings::load(&root))
        })
        .await?;
        let (registry, warnings) = registry.map_err(ServiceError::Registry)?;
        for w in &warnings {
            tracing::warn!(file = %w.position(), warning = %w.message, "endpoint registry");
        }
        let (settings, diags) = settings;
        let errors: Vec<Diagnostic> = diags.into_iter().filter(Diagnostic::is_error).collect();
        if !errors.is_empty() {
            return Err(ServiceError::Settings(errors));
        }
        let profile = Arc::new(settings.ebd);
        let client = crate::transport::http_client()?;
        let router = Router::new(&registry, &profile, &client);
        let pusher = Pusher {
            ledger,
            registry: Arc::new(registry),
            router: Arc::new(router),
            profile,
            clip_base,
            wire: clock,
            instance: config.instance.as_str().into(),
        };
        let set = PushSet::new(pusher.clone(), clock).await;
        let (tx, rx) = watch::channel(Arc::new(set));
        Ok(Pushing {
            pusher,
            tx,
            rx,
            client,
        })
    }

    /// Spawn the cron loop (after resuming every open run), the follow-ups and the heartbeats;
    /// returns the endpoint reload for the file watcher.
    pub async fn spawn(
        self,
        tasks: &mut JoinSet<()>,
        project: watch::Receiver<Arc<Project>>,
        config: &ServiceConfig,
        clock: Clock,
        stop: watch::Receiver<bool>,
    ) -> Result<EndpointReload, ServiceError> {
        let push = self.pusher.registry.push.clone();
        let now = clock.now();
        let ledger = Arc::clone(&self.pusher.ledger);
        let (lead, air_by) = (push.lead_time, push.air_by);
        let (cursor, sweep) = tokio::task::spawn_blocking(move || {
            let sweep = super::resume::sweep(ledger.as_ref(), now)?;
            let cursor = super::resume::catch_up_cursor(ledger.as_ref(), now, lead, air_by)?;
            Ok::<_, crate::ledger::LedgerError>((cursor, sweep))
        })
        .await??;
        tracing::info!(
            expired = sweep.expired,
            closed = sweep.closed,
            resumed = sweep.resume.len(),
            "open runs looked at again"
        );
        let wait = StateWait::of(&push);
        let runner = PushRunner {
            push: self.rx.clone(),
            clock,
            play: PlayClock::starting_at(now, 1.0),
            wait,
            preparing: Arc::new(tokio::sync::Semaphore::new(2)),
        };
        let runner = Arc::new(runner);
        let version = project.borrow().version.hash.clone();
        tasks.spawn(super::resume::resume(
            Arc::clone(&runner),
            Arc::clone(&self.pusher.ledger),
            Arc::clone(&project.borrow()),
            sweep.resume,
            now,
            stop.clone(),
        ));
        tasks.spawn(super::takeover::takeover(
            Arc::clone(&runner),
            self.rx.clone(),
            project.clone(),
            clock,
            stop.clone(),
        ));
        let cron = CronLoop {
            runner,
            clock,
            config: LoopConfig {
                lead: push.lead_time,
                air_by: push.air_by,
                drain: Duration::from_secs(30),
            },
            project,
        };
        let metrics = Arc::clone(&config.metrics);
        tasks.spawn(super::loops::follow_up(
            self.pusher.clone(),
            clock,
            push.state_wait,
            version,
            stop.clone(),
        ));
        tasks.spawn(super::loops::heartbeats(
            self.rx.clone(),
            clock,
            metrics,
            stop.clone(),
        ));
        tracing::info!(%cursor, lead_s = push.lead_time.as_secs(), air_by_s = push.air_by.as_secs(),
            "scheduler running");
        tasks.spawn(cron.run(cursor, stop));
        Ok(EndpointReload {
            root: config.root.clone(),
            sim: config.sim.clone(),
            client: self.client,
            clock,
            tx: self.tx,
        })
    }
}
