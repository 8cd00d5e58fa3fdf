//! Picking up an edited endpoint registry without a restart. The pusher and its dispatcher are
//! one [`PushSet`] built from one registry; `serve` keeps the current set in a watch channel and
//! every slot takes the set in force when it is prepared, keeping it until its run is done — a
//! recorded delivery is never re-routed. A registry with errors never replaces a good one.
//!
//! A new set has a new dispatcher: its circuits are restored from the ledger (where every
//! circuit change is recorded), so a dead platform's open circuit is not forgotten.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::watch;

use crate::diag::Diagnostic;
use crate::directory::Directory;
use crate::dispatch::{Clock, Dispatcher};
use crate::endpoint::Registry;
use crate::push::{Project, Pusher};
use crate::transport::Router;

/// A pusher and the dispatcher sending through its router: what one slot pushes with.
#[derive(Debug)]
pub struct PushSet {
    pub pusher: Pusher,
    pub dispatcher: Dispatcher<Router>,
}

impl PushSet {
    /// A dispatcher for `pusher`, its circuits restored from the ledger.
    pub async fn new(pusher: Pusher, clock: Clock) -> PushSet {
        let dispatcher = pusher.dispatcher(clock);
        match dispatcher.restore_breakers().await {
            Ok(n) => tracing::debug!(circuits = n, "circuits restored from the ledger"),
            Err(e) => tracing::warn!(error = %e, "circuits not restored; all start closed"),
        }
        PushSet { pusher, dispatcher }
    }
}

/// How many endpoints an edit added, removed or changed, and whether `[push]` changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegistryChange {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub push: bool,
    /// `lead_time_s` or `air_by_s` changed: the cron loop keeps its own until a restart.
    pub timing: bool,
}

impl RegistryChange {
    pub fn is_empty(&self) -> bool {
        *self == RegistryChange::default()
    }
}

/// What differs between two registries, endpoint by endpoint (matched by id).
pub fn compare(old: &Registry, new: &Registry) -> RegistryChange {
    let (o, n) = (&old.push, &new.push);
    let mut change = RegistryChange {
        push: o != n,
        timing: o.lead_time != n.lead_time || o.air_by != n.air_by,
        ..RegistryChange::default()
    };
    for e in &new.endpoints {
        match old.endpoint(&e.id) {
            None => change.added += 1,
            Some(o) if o != e => change.changed += 1,
            Some(_) => {}
        }
    }
    change.removed = old
        .endpoints
        .iter()
        .filter(|o| new.endpoint(&o.id).is_none())
        .count();
    change
}

/// Load `schedules/endpoints.toml` as `run` and `check` do, `{sim}` replaced by `sim` when
/// given: the registry and its warnings, or every error at `file:line:col`.
pub fn load_registry(
    root: &Path,
    directory: &Directory,
    sim: Option<&str>,
) -> Result<(Registry, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (mut registry, warnings) = crate::endpoint::load_root(root, directory)?;
    if let Some(base) = sim {
        registry.substitute_sim(base);
    }
    Ok((registry, warnings))
}

/// Rebuilds the [`PushSet`] when `schedules/endpoints.toml` changes.
#[derive(Debug)]
pub struct EndpointReload {
    pub root: PathBuf,
    /// Replaces `{sim}` in URLs, as `--sim` did at start.
    pub sim: Option<String>,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub tx: watch::Sender<Arc<PushSet>>,
}

impl EndpointReload {
    /// Load the registry again (townships checked against `project`'s directory). A valid and
    /// different one replaces the current set; an unchanged one leaves it; errors leave it and
    /// are returned.
    pub async fn reload(&self, project: Arc<Project>) -> Result<RegistryChange, Vec<Diagnostic>> {
        let (root, sim) = (self.root.clone(), self.sim.clone());
        let loaded = tokio::task::spawn_blocking(move || {
            load_registry(&root, &project.directory, sim.as_deref())
        })
        .await
        .map_err(|e| vec![Diagnostic::error(crate::endpoint::FILE, e.to_string())])?;
        let (registry, warnings) = loaded?;
        let current = Arc::clone(&self.tx.borrow());
        let change = compare(&current.pusher.registry, &registry);
        if change.is_empty() {
            return Ok(change);
        }
        for w in &warnings {
            tracing::warn!(file = %w.position(), warning = %w.message, "endpoint registry");
        }
        let pusher = current.pusher.with_registry(registry, &self.client);
        let _ = self
            .tx
            .send(Arc::new(PushSet::new(pusher, self.clock).await));
        Ok(change)
    }

    /// [`Self::reload`], logged: what changed, or each error and that the last good set stays.
    pub async fn reload_logged(&self, project: Arc<Project>) {
        match self.reload(project).await {
            Ok(c) if c.is_empty() => {}
            Ok(c) => {
                tracing::info!(
                    added = c.added,
                    removed = c.removed,
                    changed = c.changed,
                    push_settings_changed = c.push,
                    "endpoints reloaded; slots prepared from now on use them"
                );
                if c.timing {
                    tracing::warn!(
                        "the cron loop keeps its `lead_time_s` and `air_by_s` until a restart"
                    );
                }
            }
            Err(errors) => {
                for e in &errors {
                    tracing::error!(file = %e.position(), error = %e.message, "invalid endpoint registry after an edit");
                }
                tracing::warn!(
                    errors = errors.len(),
                    "edited endpoints.toml has errors; keeping the last good endpoints"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::ledger::{Ledger, SqliteLedger};

    const DEMO: &str = include_str!("../../schedules/endpoints.toml");

    fn root_with(registry: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
        std::fs::write(dir.path().join(crate::endpoint::FILE), registry).unwrap();
        dir
    }

    fn project(root: &Path) -> Arc<Project> {
        Arc::new(Project {
            root: root.to_path_buf(),
            directory: Directory::liangshan(),
            campaigns: Vec::new(),
            catalog: Catalog::default(),
            adjusted_cache: root.join("cache"),
            loudness: Default::default(),
            version: Default::default(),
        })
    }

    async fn reloader(root: &Path) -> EndpointReload {
        let (registry, _) =
            load_registry(root, &Directory::liangshan(), Some("http://127.0.0.1:9")).unwrap();
        let ledger: Arc<dyn Ledger> =
            Arc::new(SqliteLedger::open(&root.join("ledger.sqlite")).unwrap());
        let profile = Arc::new(crate::ebd::EbdProfile::default());
        let client = crate::transport::http_client().unwrap();
        let pusher = Pusher {
            ledger,
            router: Arc::new(Router::new(&registry, &profile, &client)),
            registry: Arc::new(registry),
            profile,
            clip_base: "http://127.0.0.1:9/v1/audio".into(),
            wire: Clock::system(),
            instance: "county-a".into(),
        };
        let set = PushSet::new(pusher, Clock::system()).await;
        EndpointReload {
            root: root.to_path_buf(),
            sim: Some("http://127.0.0.1:9".into()),
            client,
            clock: Clock::system(),
            tx: watch::channel(Arc::new(set)).0,
        }
    }

    /// The demo registry with zhaojue's id and path renamed.
    fn moved() -> String {
        DEMO.replace("id = \"zhaojue\"", "id = \"zhaojue-b\"")
            .replace("/ebd/513431/", "/b/513431/")
    }

    #[test]
    fn compare_counts_endpoints_by_id() {
        let dir = root_with(DEMO);
        let dirs = Directory::liangshan();
        let (old, _) = load_registry(dir.path(), &dirs, None).unwrap();
        std::fs::write(
            dir.path().join(crate::endpoint::FILE),
            moved().replace("timeout_s = 10", "timeout_s = 7"),
        )
        .unwrap();
        let (new, _) = load_registry(dir.path(), &dirs, None).unwrap();
        let change = compare(&old, &new);
        assert_eq!((change.added, change.removed), (1, 1));
        assert_eq!(
            change.changed,
            old.endpoints.len() - 1,
            "every timeout changed"
        );
        assert!(!change.push && !change.timing);
        assert!(compare(&new, &new).is_empty());
    }

    #[tokio::test]
    async fn a_valid_edit_replaces_the_set_with_sim_substituted() {
        let dir = root_with(DEMO);
        let reload = reloader(dir.path()).await;
        let mut rx = reload.tx.subscribe();
        let unchanged = reload.reload(project(dir.path())).await.unwrap();
        assert!(unchanged.is_empty());
        assert!(
            !rx.has_changed().unwrap(),
            "an unchanged registry keeps the set"
        );
        std::fs::write(dir.path().join(crate::endpoint::FILE), moved()).unwrap();
        let change = reload.reload(project(dir.path())).await.unwrap();
        assert_eq!((change.added, change.removed, change.changed), (1, 1, 0));
        let set = Arc::clone(&rx.borrow_and_update());
        let b = set.pusher.registry.endpoint("zhaojue-b").unwrap();
        assert_eq!(b.url, "http://127.0.0.1:9/b/513431/ts/exchange.do");
        assert!(set.pusher.router.clients.contains_key("zhaojue-b"));
        assert!(!set.pusher.router.clients.contains_key("zhaojue"));
    }

    #[tokio::test]
    async fn a_broken_edit_keeps_the_last_good_set_and_names_the_line() {
        let dir = root_with(DEMO);
        let reload = reloader(dir.path()).await;
        let before = Arc::clone(&reload.tx.borrow());
        let broken = moved().replace("counties = [\"昭觉县\"]", "counties = [\"昭觉镇县\"]");
        std::fs::write(dir.path().join(crate::endpoint::FILE), &broken).unwrap();
        let errors = reload.reload(project(dir.path())).await.unwrap_err();
        let line = broken.lines().position(|l| l.contains("昭觉镇县")).unwrap() + 1;
        let at = format!("schedules/endpoints.toml:{line}:");
        assert!(
            errors.iter().any(|e| e.position().starts_with(&at)),
            "{errors:?}"
        );
        let after = Arc::clone(&reload.tx.borrow());
        assert!(Arc::ptr_eq(&before, &after), "the last good set stays");
        assert!(after.pusher.registry.endpoint("zhaojue").is_some());
    }
}
