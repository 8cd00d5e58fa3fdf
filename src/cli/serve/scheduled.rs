//! `shengbo serve` with the scheduler: the cron loop pushing every campaign's slots, the file
//! watcher reloading schedules, endpoints and audio, the `ConnectionCheck` heartbeat (to the
//! endpoints in force), and the HTTP app beside them. SIGTERM or Ctrl-C stops the loop and drains in-flight pushes within a deadline.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use tokio::sync::watch;

use super::{Args, app_state, shutdown_signal};
use crate::cli::Global;
use crate::cli::run::{load_registry, pusher};
use crate::dispatch::Clock;
use crate::push::state::StateWait;
use crate::push::{PlayClock, Pusher};
use crate::scheduler::endpoints::{EndpointReload, PushSet};
use crate::scheduler::reload::{load_strict, watch_files};
use crate::scheduler::{CronLoop, LoopConfig, PushRunner, catch_up_from};

pub(super) async fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let data = global.data_dir();
    let project = match load_strict(&global.root, &data) {
        Ok(p) => p,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "error: the schedules have {} errors; nothing scheduled",
                errors.len()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let registry = load_registry(&global.root, &project.directory, args.sim.as_deref())?;
    let mut pusher = pusher(global, registry)?;
    pusher.clip_base.base = format!(
        "{}/v1/audio",
        args.base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", args.listen))
    );
    let clock = Clock::system();
    let now = clock.now();
    let latest = tokio::task::block_in_place(|| {
        pusher
            .ledger
            .runs(now - TimeDelta::days(7), now + TimeDelta::days(400), None)
    })?
    .into_iter()
    .filter(|r| r.occurrence <= now)
    .map(|r| r.occurrence)
    .max();
    let push = pusher.registry.push.clone();
    let cursor = catch_up_from(latest, now, push.air_by);
    let (stop_tx, stop) = watch::channel(false);
    let (project_tx, project_rx) = watch::channel(Arc::new(project));
    let (push_tx, push_rx) = watch::channel(Arc::new(PushSet::new(pusher.clone(), clock).await));
    let endpoints = EndpointReload {
        root: global.root.clone(),
        sim: args.sim.clone(),
        client: crate::transport::http_client()?,
        clock,
        tx: push_tx,
    };
    let runner = PushRunner {
        push: push_rx.clone(),
        clock,
        play: PlayClock::system(),
        wait: StateWait {
            max_after: push.state_wait,
            ..StateWait::default()
        },
        preparing: Arc::new(tokio::sync::Semaphore::new(2)),
    };
    let cron = CronLoop {
        runner: Arc::new(runner),
        clock,
        config: LoopConfig {
            lead: push.lead_time,
            air_by: push.air_by,
            drain: Duration::from_secs(30),
        },
        project: project_rx,
    };
    let reload = Duration::from_secs(args.reload_s.max(1));
    let watcher = tokio::spawn(watch_files(
        global.root.clone(),
        data,
        reload,
        project_tx,
        endpoints,
        stop.clone(),
    ));
    let follow_up = tokio::spawn(follow_up(pusher.clone(), push.state_wait, stop.clone()));
    let heartbeat = tokio::spawn(heartbeats(push_rx, stop.clone()));
    let scheduler = tokio::spawn(cron.run(cursor, stop.clone()));
    eprintln!(
        "scheduler running: catch-up from {cursor}, lead {}s, air-by {}s",
        push.lead_time.as_secs(),
        push.air_by.as_secs()
    );
    let http = tokio::spawn(http(global.clone(), args, stop.clone()));
    shutdown_signal().await;
    eprintln!("shutting down: draining in-flight pushes");
    let _ = stop_tx.send(true);
    let _ = scheduler.await;
    let _ = tokio::join!(watcher, heartbeat, http, follow_up);
    Ok(ExitCode::SUCCESS)
}

/// The HTTP app on `--listen`, until `stop` (planning its snapshot off the runtime).
async fn http(global: Global, args: Args, mut stop: watch::Receiver<bool>) {
    let listen = args.listen;
    let state = match tokio::task::spawn_blocking(move || app_state(&global, &args)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return tracing::error!(error = %format!("{e:#}"), "http app not started"),
        Err(e) => return tracing::error!(error = %e, "http app not started"),
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => return tracing::error!(%listen, error = %e, "cannot listen"),
    };
    eprintln!("listening on http://{listen}");
    let shutdown = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    if let Err(e) = crate::server::serve_http(listener, state, shutdown).await {
        tracing::error!(error = %e, "http server stopped");
    }
}

/// After a restart: ask the play state of deliveries received before it and never settled.
async fn follow_up(pusher: Pusher, max_after: Duration, stop: watch::Receiver<bool>) {
    let ledger = Arc::clone(&pusher.ledger);
    let waiting =
        match tokio::task::spawn_blocking(move || ledger.deliveries_awaiting_state()).await {
            Ok(Ok(w)) => w,
            _ => return,
        };
    let mut runs: Vec<_> = waiting.iter().map(|d| d.run).collect();
    runs.sort();
    runs.dedup();
    if !runs.is_empty() {
        tracing::info!(
            runs = runs.len(),
            deliveries = waiting.len(),
            "following up unsettled deliveries"
        );
    }
    let wait = StateWait {
        max_after,
        ..StateWait::default()
    };
    for run in runs {
        if let Err(e) = pusher
            .await_states(run, PlayClock::system(), wait, stop.clone())
            .await
        {
            tracing::error!(%run, error = %e, "follow-up failed");
        }
    }
}

/// `ConnectionCheck` to every EBD endpoint in force, every `connection_check_s` of its registry.
async fn heartbeats(push: watch::Receiver<Arc<PushSet>>, mut stop: watch::Receiver<bool>) {
    loop {
        let set = Arc::clone(&push.borrow());
        let interval = set.pusher.registry.push.connection_check;
        for (endpoint, result) in set.pusher.connection_checks(Utc::now()).await {
            match result {
                Ok(()) => tracing::debug!(%endpoint, "heartbeat ok"),
                Err(e) => tracing::warn!(%endpoint, error = %e, "heartbeat failed"),
            }
        }
        drop(set);
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
