//! This instance's content version in the shared ledger, and the other instances'. At start,
//! on every reload and every [`SEEN_EVERY`], an instance writes its row (name, version, files,
//! when it loaded them, now, whether it pushes) and reads everyone's: a live pushing instance
//! with another version is reported loudly — an error-level event with both versions and the
//! files that differ, the gauge `shengbo_content_version_mismatch`, and a line in `/readyz` —
//! until they agree again.
//!
//! A `serve --no-schedule` mirror writes its row marked as not pushing: pushing instances
//! neither count it as a mismatch nor as holding a run's version (it pushes nothing), while the
//! mirror itself reports every pushing instance whose version differs from what it serves —
//! stations pulling from it would get other programmes than are pushed. A mirror never writes
//! over a live pushing instance's row of the same name (one host's default): it writes as
//! `NAME:mirror` instead.
//!
//! Refusing to push another version's run is [`crate::push::version::may_push`]'s; this only
//! keeps the versions written and the operator told.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::ServiceError;
use crate::dispatch::Clock;
use crate::ledger::{InstanceVersion, Ledger};
use crate::push::Project;
use crate::push::version::{ContentVersion, SEEN_EVERY, is_live, live_others, short};
use crate::server::Metrics;

/// Another live instance holding another content version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub peer: String,
    pub theirs: String,
    /// The files whose digests differ (or that only one of the two has).
    pub files: Vec<String>,
}

impl Mismatch {
    /// How `/readyz` and the log say it.
    pub fn describe(&self, ours: &str) -> String {
        let mut files = self.files.iter().take(5).cloned().collect::<Vec<_>>();
        if self.files.len() > 5 {
            files.push(format!("and {} more", self.files.len() - 5));
        }
        format!(
            "content differs from instance {}: theirs {}, ours {} ({})",
            self.peer,
            short(&self.theirs),
            short(ours),
            files.join(", ")
        )
    }
}

/// The live instances other than `me` whose version is not `ours`, by name.
pub fn compare(
    all: &[InstanceVersion],
    me: &str,
    ours: &ContentVersion,
    now: DateTime<Utc>,
) -> Vec<Mismatch> {
    live_others(all, me, now)
        .filter(|i| i.content_hash != ours.hash)
        .map(|i| Mismatch {
            peer: i.name.clone(),
            theirs: i.content_hash.clone(),
            files: ours.differing(&ContentVersion::parse_manifest(&i.files)),
        })
        .collect()
}

/// Keeps this instance's row written and the others' versions compared.
pub struct Peers {
    pub ledger: Arc<dyn Ledger>,
    pub name: String,
    pub clock: Clock,
    pub metrics: Arc<Metrics>,
    /// Whether this instance pushes (false for a `--no-schedule` mirror).
    pushes: bool,
    /// The version in force and when it was loaded.
    version: ContentVersion,
    loaded_at: DateTime<Utc>,
    /// What was last reported (peer, their hash).
    reported: Vec<(String, String)>,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers")
            .field("name", &self.name)
            .field("version", &self.version.hash)
            .finish_non_exhaustive()
    }
}

impl Peers {
    /// Write `project`'s version under `name` (a pushing instance's when `pushes`, else a
    /// mirror's) and report any live pushing instance with another (before anything is resumed
    /// or pushed).
    pub async fn start(
        ledger: Arc<dyn Ledger>,
        name: &str,
        project: &Project,
        clock: Clock,
        (metrics, pushes): (Arc<Metrics>, bool),
    ) -> Result<Peers, ServiceError> {
        let mut peers = Peers {
            ledger,
            name: name.to_string(),
            clock,
            metrics,
            pushes,
            version: project.version.clone(),
            loaded_at: clock.now(),
            reported: Vec::new(),
        };
        tracing::info!(instance = %peers.name, version = %peers.version.short(),
            files = peers.version.files.len(), pushes, "content version");
        if let Err(e) = peers.check().await {
            if pushes {
                return Err(e);
            }
            // A mirror serves pulls whether or not the ledger takes its row; it tries again.
            tracing::warn!(error = %e, "content versions not compared");
        }
        Ok(peers)
    }

    /// Write the row, compare, and report what changed. Returns the mismatches.
    pub async fn check(&mut self) -> Result<Vec<Mismatch>, ServiceError> {
        let now = self.clock.now();
        if !self.pushes {
            let ledger = Arc::clone(&self.ledger);
            let all = tokio::task::spawn_blocking(move || ledger.instances()).await??;
            let taken = all
                .iter()
                .any(|i| i.pushes && i.name == self.name && is_live(i, now));
            if taken {
                let renamed = format!("{}:mirror", self.name);
                tracing::warn!(instance = %self.name, row = %renamed,
                    "a pushing instance goes by this mirror's name (give the mirror its own \
                     --instance); the mirror's version is written as {renamed}");
                self.name = renamed;
            }
        }
        let row = InstanceVersion {
            name: self.name.clone(),
            content_hash: self.version.hash.clone(),
            files: self.version.manifest(),
            loaded_at: self.loaded_at,
            seen_at: now,
            pushes: self.pushes,
        };
        let ledger = Arc::clone(&self.ledger);
        let all = tokio::task::spawn_blocking(move || {
            ledger.put_instance(&row)?;
            ledger.instances()
        })
        .await??;
        let found = compare(&all, &self.name, &self.version, now);
        self.report(&found);
        Ok(found)
    }

    fn report(&mut self, found: &[Mismatch]) {
        let ours = &self.version.hash;
        let consequence = if self.pushes {
            "runs created by one are not pushed by the other"
        } else {
            "this mirror serves pulls from other schedules than are pushed"
        };
        for m in found {
            if !self.reported.contains(&(m.peer.clone(), m.theirs.clone())) {
                tracing::error!(instance = %self.name, peer = %m.peer, our_version = %ours,
                    their_version = %m.theirs, files = ?m.files, pushes = self.pushes,
                    "{}; {consequence} — roll out the same schedules, endpoints and audio to \
                     every instance", m.describe(ours));
            }
        }
        if found.is_empty() && !self.reported.is_empty() {
            tracing::info!(instance = %self.name, version = %short(ours),
                "every live instance has the same content version again");
        }
        self.reported = found
            .iter()
            .map(|m| (m.peer.clone(), m.theirs.clone()))
            .collect();
        let note = |m: &Mismatch| match self.pushes {
            true => m.describe(ours),
            false => format!("{}; {consequence}", m.describe(ours)),
        };
        self.metrics
            .content_mismatches(found.iter().map(note).collect());
    }

    /// Every [`SEEN_EVERY`] and on every new project, [`Peers::check`]; returns at shutdown.
    pub async fn run(
        mut self,
        mut project: watch::Receiver<Arc<Project>>,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(SEEN_EVERY) => {}
                Ok(()) = project.changed() => {
                    let version = project.borrow_and_update().version.clone();
                    if version != self.version {
                        self.version = version;
                        self.loaded_at = self.clock.now();
                        tracing::info!(instance = %self.name, version = %self.version.short(),
                            "new content version loaded");
                    }
                }
                _ = stop.wait_for(|s| *s) => return,
            }
            if let Err(e) = self.check().await {
                tracing::warn!(error = %e, "content versions not compared");
            }
        }
    }
}
