//! Picking up edited schedules, endpoints and audio without a restart: the files' sizes and
//! mtimes are polled; on a change the endpoint registry and the project are each loaded and
//! validated, and only a valid one replaces the current one — on errors the last good one stays,
//! and the log says so. The two are independent: a broken `endpoints.toml` does not hold back
//! edited schedules, nor the reverse.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::datadir::DataDir;
use crate::diag::Diagnostic;
use crate::dispatch::Clock;
use crate::push::Project;
use crate::scheduler::endpoints::EndpointReload;

/// A hash of every file's path, size and mtime under `schedules/` and `audio/`.
pub fn fingerprint(root: &Path) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for dir in ["schedules", "audio"] {
        walk(&root.join(dir), &mut h);
    }
    h.finish()
}

fn walk(dir: &Path, h: &mut impl Hasher) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::path);
    for e in entries {
        let path = e.path();
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() {
            walk(&path, h);
            continue;
        }
        path.hash(h);
        meta.len().hash(h);
        meta.modified().ok().hash(h);
    }
}

/// Load the project; `strict` refuses it on any error, else its valid parts are kept (a
/// read-only mirror plans what it can) and the errors logged. A project that cannot be loaded
/// at all is always refused.
pub fn load_project(
    root: &Path,
    data: &DataDir,
    now: DateTime<Utc>,
    strict: bool,
) -> Result<Project, Vec<Diagnostic>> {
    let (project, diags) = Project::load(root, data, now)
        .map_err(|e| vec![Diagnostic::error("schedules", e.to_string())])?;
    let errors: Vec<Diagnostic> = diags.into_iter().filter(Diagnostic::is_error).collect();
    if errors.is_empty() {
        return Ok(project);
    }
    if strict {
        return Err(errors);
    }
    for e in &errors {
        tracing::warn!(file = %e.position(), error = %e.message, "left out of the plan");
    }
    Ok(project)
}

/// Polls the project's files and sends each new valid project.
#[derive(Debug, Clone)]
pub struct Watcher {
    pub root: PathBuf,
    pub data: DataDir,
    pub interval: Duration,
    /// Refuse an edited project with any error (pushing); else keep its valid parts (a mirror).
    pub strict: bool,
    pub clock: Clock,
}

impl Watcher {
    /// Poll every `interval`; on a change reload the endpoints (when pushing), then send a new
    /// project if it is valid. The endpoints go first, so a slot the new project brings is
    /// prepared with the endpoints edited with it. Returns at shutdown.
    pub async fn run(
        self,
        tx: watch::Sender<Arc<Project>>,
        endpoints: Option<EndpointReload>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut seen = fingerprint(&self.root);
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.interval) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            let r = self.root.clone();
            let Ok(now) = tokio::task::spawn_blocking(move || fingerprint(&r)).await else {
                continue;
            };
            if now == seen {
                continue;
            }
            seen = now;
            if let Some(endpoints) = &endpoints {
                // Townships are checked against the last good project's directory.
                let current = Arc::clone(&tx.borrow());
                endpoints.reload_logged(current).await;
            }
            let (r, d, at, strict) = (
                self.root.clone(),
                self.data.clone(),
                self.clock.now(),
                self.strict,
            );
            let loaded = tokio::task::spawn_blocking(move || load_project(&r, &d, at, strict));
            match loaded.await {
                Ok(Ok(project)) => {
                    tracing::info!(
                        campaigns = project.campaigns.len(),
                        "schedules and audio reloaded"
                    );
                    let _ = tx.send(Arc::new(project));
                }
                Ok(Err(errors)) => {
                    for e in &errors {
                        tracing::error!(file = %e.position(), error = %e.message, "invalid after an edit");
                    }
                    tracing::warn!(
                        errors = errors.len(),
                        "edited schedules have errors; keeping the last good set"
                    );
                }
                Err(e) => tracing::error!(error = %e, "reload panicked; keeping the last good set"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_changes_with_any_edit() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
        std::fs::create_dir_all(dir.path().join("audio/m")).unwrap();
        std::fs::write(dir.path().join("schedules/a.toml"), "x").unwrap();
        let before = fingerprint(dir.path());
        assert_eq!(before, fingerprint(dir.path()));
        std::fs::write(dir.path().join("audio/m/ii.mp3"), "yy").unwrap();
        let after = fingerprint(dir.path());
        assert_ne!(before, after);
        std::fs::write(dir.path().join("schedules/a.toml"), "xz").unwrap();
        assert_ne!(after, fingerprint(dir.path()));
    }

    #[test]
    fn strict_load_refuses_a_broken_campaign() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("schedules")).unwrap();
        std::fs::create_dir_all(dir.path().join("audio")).unwrap();
        std::fs::write(dir.path().join("schedules/bad.toml"), "id = \n").unwrap();
        let data = DataDir::resolve(dir.path(), None);
        let errors = load_project(dir.path(), &data, Utc::now(), true).unwrap_err();
        assert!(
            errors.iter().any(|e| e.file.ends_with("bad.toml")),
            "{errors:?}"
        );
    }
}
