//! Push: one campaign's slot occurrence from plan to play state — plan the occurrence, write the
//! run and its deliveries to the ledger before anything is sent, hand them to the dispatcher,
//! then ask each message's play state after its window and record it.
//!
//! - [`content`] — drafts per endpoint × segment (one airing of one clip) from the plan;
//!   loudness-adjusted media.
//! - [`prepare`] — ids and payloads written to the ledger, reused on restart.
//! - [`state`] — `EBMStateRequest` after the play window; `ConnectionCheck` heartbeats.
//! - [`follow`] — a run driven: each delivery's play state followed as soon as it is delivered.
//! - [`clock`] — the play clock (real time, or accelerated for the demo and drills).
//! - [`pairs`] — whole pairs: a broken pair's other half is withheld or cancelled.
//! - [`breaks`] — cancels sent while the run is still going out, as each pair breaks.
//! - [`leases`] — a run is driven under the leases of its deliveries, renewed while it goes.
//! - [`outcome`] — per-township outcomes and reach of a run, with its denominator.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::catalog::Catalog;
use crate::directory::Directory;
use crate::ebd::{EbdProfile, IdError};
use crate::endpoint::Registry;
use crate::ledger::{Ledger, LedgerError, Run};
use crate::plan::Broadcast;
use crate::schedule::Campaign;
use crate::transport::Router;

pub mod breaks;
pub mod clock;
pub mod content;
pub mod follow;
mod ids;
pub mod leases;
pub mod outcome;
pub mod pairs;
pub mod prepare;
pub mod state;
pub mod version;

pub use clock::PlayClock;
pub use content::{Draft, Drafts, MediaResolver};

/// What can stop a run from being prepared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("id: {0}")]
    Id(#[from] IdError),
    #[error("sender: {0}")]
    Sender(#[from] crate::ebd::profile::ProfileError),
    #[error("building a package: endpoint `{endpoint}`: {source}")]
    Build {
        endpoint: String,
        source: crate::ebd::BuildError,
    },
    #[error("media {0}")]
    Media(#[from] crate::loudness::AdjustError),
    #[error("media {0}")]
    MediaFiles(#[source] std::io::Error),
    #[error("no campaign `{0}`")]
    UnknownCampaign(String),
    #[error(transparent)]
    Version(#[from] version::VersionMismatch),
    #[error(
        "every sender code's {what} ids for {day} are used up ({max} a day each: {codes}); \
         add further resource codes of ours to `extra_sender_ebrids` in `[ebd]` of \
         `schedules/settings.toml` — the deliveries recorded so far are kept and resume on the \
         next run"
    )]
    Exhausted {
        what: &'static str,
        day: chrono::NaiveDate,
        max: u32,
        codes: String,
    },
}

/// One loaded, validated snapshot of the project: what a run is planned from.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub directory: Directory,
    pub campaigns: Vec<Campaign>,
    pub catalog: Catalog,
    /// Where loudness-adjusted clips are cached.
    pub adjusted_cache: PathBuf,
    /// The loudness policy (`[loudness]` of `schedules/settings.toml`).
    pub loudness: crate::loudness::LoudnessConfig,
    /// What it was loaded from: recorded with each run it creates.
    pub version: version::ContentVersion,
}

impl Project {
    /// Load the project the one way every command does ([`crate::check::load`]): the settings,
    /// the directory with its population overrides, the catalog judged by the settings' gate,
    /// the campaigns. Returns what the loaders reported beside it; valid parts are kept.
    pub fn load(
        root: &Path,
        data: &crate::datadir::DataDir,
        now: DateTime<Utc>,
    ) -> Result<(Project, Vec<crate::diag::Diagnostic>), crate::check::CheckError> {
        let inputs = crate::check::load(root, Some(&data.probe_cache()), now)?;
        let version = version::ContentVersion::read(root, &inputs.catalog);
        let project = Project {
            version,
            root: root.to_path_buf(),
            directory: inputs.directory,
            campaigns: inputs.campaigns,
            catalog: inputs.catalog,
            adjusted_cache: data.path().join("cache").join("adjusted"),
            loudness: inputs.settings.loudness,
        };
        Ok((project, inputs.diagnostics))
    }
}

/// Everything a push needs, shared by runs.
#[derive(Clone)]
pub struct Pusher {
    pub ledger: Arc<dyn Ledger>,
    pub registry: Arc<Registry>,
    pub router: Arc<Router>,
    pub profile: Arc<EbdProfile>,
    /// Where stations fetch clips named in webhook bodies (`<clip_base>/<name>`, signed).
    pub clip_base: crate::transport::webhook::ClipLinks,
    /// The real clock: every time and date on the wire (`EBDTime`, `SendTime`, the dates in
    /// ids) is read from it, never from an accelerated play clock or a drill's dispatch clock.
    pub wire: crate::dispatch::Clock,
    /// The instance's name: the holder of the leases on the deliveries it sends, and the row
    /// its content version is written under (its own row is not another instance's version).
    pub instance: Arc<str>,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher")
            .field("endpoints", &self.registry.endpoints.len())
            .field("clip_base", &self.clip_base)
            .finish_non_exhaustive()
    }
}

/// A run written to the ledger, ready to send.
#[derive(Debug, Clone)]
pub struct PreparedRun {
    pub run: Run,
    pub deliveries: Vec<crate::dispatch::DeliveryJob>,
    /// Townships targeted at this occurrence (9-digit codes).
    pub targeted: Vec<String>,
    /// Targeted townships no enabled endpoint serves.
    pub unserved: Vec<String>,
    /// The deliveries this instance leased as it recorded them (see [`Pusher::record`]).
    pub leased: Option<prepare::Leased>,
}

impl Pusher {
    /// Plan one occurrence of `campaign` and write it to the ledger (blocking: disk and SQLite).
    /// `None` when nothing airs at that occurrence (quiet hours, no airable message). With
    /// `lease_at`, the lease clock's now for a caller that drives the run next, the deliveries
    /// it creates are written leased to this instance.
    pub fn prepare_occurrence(
        &self,
        project: &Project,
        campaign: &str,
        occurrence: DateTime<Utc>,
        now: DateTime<Utc>,
        lease_at: Option<DateTime<Utc>>,
    ) -> Result<Option<PreparedRun>, PushError> {
        if !project.campaigns.iter().any(|c| c.id == campaign) {
            return Err(PushError::UnknownCampaign(campaign.to_string()));
        }
        let started = self.wire.now();
        // Wider than the minute: a programme playing on from before it wins over it.
        let (from, to) = crate::plan::occurrence_window(occurrence);
        let plan = crate::plan::plan(
            &project.campaigns,
            &project.directory,
            &project.catalog,
            from,
            to,
        );
        // Only this occurrence's broadcasts are kept: the rest of the window's plan (every
        // campaign, every slot in it) is dropped here, before the run's content is built.
        let kept: Vec<Broadcast> = plan
            .broadcasts
            .into_iter()
            .filter(|b| b.campaign == campaign && b.start == occurrence)
            .collect();
        let broadcasts: Vec<&Broadcast> = kept.iter().collect();
        if broadcasts.is_empty() {
            return Ok(None);
        }
        let targeted: Vec<String> = broadcasts.iter().map(|b| b.township_code.clone()).collect();
        let mut media = MediaResolver::new(
            &project.root,
            &project.catalog,
            project.adjusted_cache.clone(),
        )
        .with_loudness(project.loudness);
        // The run is dated when it is opened, after planning and adjusting the clips (seconds
        // for a fresh project): its creation time is every package's `SendTime`, which must stay
        // close to the real time the packages go out.
        for item in broadcasts.iter().flat_map(|b| &b.items) {
            media.resolve(item)?;
        }
        let now = now + (self.wire.now() - started);
        let ours = &project.version.hash;
        let (run_id, created) = self.ledger.open_run_versioned(
            campaign,
            occurrence,
            targeted.len() as u32,
            Some(ours),
            now,
        )?;
        let run = self
            .ledger
            .run(run_id)?
            .ok_or(LedgerError::UnknownRun(run_id))?;
        let permit = match created {
            true => version::Permit::Same,
            false => self.permit(&run, ours, now)?,
        };
        let send_time = run.created_at.with_nanosecond_zero();
        let drafts = content::drafts(
            &broadcasts,
            &self.registry,
            &project.catalog,
            send_time,
            &mut |item| media.resolve(item),
        )?;
        let air_by = occurrence
            + TimeDelta::from_std(self.registry.push.air_by).unwrap_or(TimeDelta::minutes(30));
        let by_endpoint: Vec<Vec<Draft>> = drafts.by_endpoint.into_values().collect();
        if permit == version::Permit::Adopted {
            self.adopted(&run, ours);
        }
        let recorded = self.record(&run, by_endpoint, air_by, now, lease_at)?;
        tracing::info!(run = %run.id, campaign, %occurrence, deliveries = recorded.jobs.len(),
            unserved = drafts.unserved.len(), "run recorded");
        Ok(Some(PreparedRun {
            run,
            deliveries: recorded.jobs,
            targeted,
            unserved: drafts.unserved,
            leased: recorded.leased,
        }))
    }
}

impl Pusher {
    /// Stop the other half of every broken pair of `runs` (see [`pairs`]); with `shutdown`,
    /// also send their recorded cancels. Returns the pending halves withheld.
    async fn whole_pairs(
        &self,
        runs: &[PreparedRun],
        held: &std::collections::HashSet<crate::ledger::DeliveryId>,
        clock: crate::dispatch::Clock,
        shutdown: Option<&tokio::sync::watch::Receiver<bool>>,
    ) -> std::collections::HashSet<crate::ledger::DeliveryId> {
        let mut withheld = std::collections::HashSet::new();
        let air_by = crate::dispatch::delta(self.registry.push.air_by);
        for r in runs {
            let cancel_by = r.run.occurrence + air_by;
            match self
                .break_pairs(r.run.id, held, cancel_by, clock.now())
                .await
            {
                Ok(ids) => withheld.extend(ids),
                Err(e) => tracing::error!(run = %r.run.id, error = %e, "checking pairs failed"),
            }
        }
        if let Some(stop) = shutdown {
            let sends = runs
                .iter()
                .map(|r| self.send_cancels(r.run.id, held, clock, stop.clone()));
            for r in futures_util::future::join_all(sends).await {
                if let Err(e) = r {
                    tracing::error!(error = %e, "sending cancels failed");
                }
            }
        }
        withheld
    }
}

trait NanoZero {
    fn with_nanosecond_zero(self) -> Self;
}

impl NanoZero for DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        DateTime::from_timestamp(self.timestamp(), 0).unwrap_or(self)
    }
}

/// The retry backoff of `registry`'s `[push]` (pushes, state requests and cancels alike), without
/// looking at its endpoints as [`dispatch_config`] does.
pub fn backoff(registry: &Registry) -> crate::dispatch::Backoff {
    crate::dispatch::Backoff {
        base: registry.push.backoff_base,
        cap: registry.push.backoff_cap,
    }
}

/// The dispatcher's settings from the registry's `[push]` section and endpoints.
pub fn dispatch_config(registry: &Registry) -> crate::dispatch::DispatchConfig {
    let p = &registry.push;
    let enabled = registry.endpoints.iter().filter(|e| e.enabled);
    let longest = enabled
        .clone()
        .map(|e| e.timeout)
        .max()
        .unwrap_or(std::time::Duration::from_secs(10));
    let per_endpoint = enabled.map(|e| e.concurrency).max().unwrap_or(4);
    crate::dispatch::DispatchConfig {
        max_in_flight: p.concurrency,
        per_endpoint,
        // Each request carries its endpoint's own timeout; this only bounds a stuck attempt.
        attempt_timeout: longest + std::time::Duration::from_secs(1),
        backoff: backoff(registry),
        lead: p.lead_time,
        breaker: crate::dispatch::BreakerConfig {
            failure_threshold: p.breaker_threshold,
            cool_down: p.breaker_cooldown,
        },
        drain: std::time::Duration::from_secs(10),
        max_live: crate::dispatch::live_jobs(p.concurrency),
        holder: None,
    }
}

impl Pusher {
    /// The same pusher sending to `registry`'s endpoints: same ledger, profile and clip base.
    pub fn with_registry(&self, registry: Registry, client: &reqwest::Client) -> Pusher {
        let router = Router::new(&registry, &self.profile, client);
        Pusher {
            ledger: Arc::clone(&self.ledger),
            registry: Arc::new(registry),
            router: Arc::new(router),
            profile: Arc::clone(&self.profile),
            clip_base: self.clip_base.clone(),
            wire: self.wire,
            instance: Arc::clone(&self.instance),
        }
    }

    /// A dispatcher sending through this pusher's router, its limits from the registry.
    pub fn dispatcher(&self, clock: crate::dispatch::Clock) -> crate::dispatch::Dispatcher<Router> {
        use rand::SeedableRng as _;
        let config = crate::dispatch::DispatchConfig {
            holder: Some(Arc::clone(&self.instance)),
            ..dispatch_config(&self.registry)
        };
        crate::dispatch::Dispatcher::new(
            Arc::clone(&self.router),
            Arc::clone(&self.ledger),
            config,
            clock,
            rand::rngs::StdRng::from_os_rng(),
        )
    }
}
