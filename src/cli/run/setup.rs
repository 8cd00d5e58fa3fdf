//! Loading shared by `run`, `demo` and `serve`: the project snapshot, the endpoint registry,
//! the EBD profile, the pusher over the data dir's ledger, and its dispatcher.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::cli::Global;
use crate::diag::Diagnostic;
use crate::directory::Directory;
use crate::ebd::EbdProfile;
use crate::endpoint::Registry;
use crate::ledger::Ledger;
use crate::push::{Project, Pusher};
use crate::transport::{Router, http_client};

/// Load the project as every command does; diagnostics go to stderr, valid parts are kept.
pub(crate) fn load_project(root: &Path, data: &crate::datadir::DataDir) -> anyhow::Result<Project> {
    let (project, diags) = Project::load(root, data, chrono::Utc::now())
        .with_context(|| crate::t!("run-loading", root = root.display().to_string()))?;
    report(&diags);
    Ok(project)
}

/// Load `schedules/endpoints.toml`, substituting the simulator's URL when given.
pub(crate) fn load_registry(
    root: &Path,
    dir: &Directory,
    sim: Option<&str>,
) -> anyhow::Result<Registry> {
    match crate::scheduler::endpoints::load_registry(root, dir, sim) {
        Ok((registry, warnings)) => {
            report(&warnings);
            Ok(registry)
        }
        Err(errors) => {
            report(&errors);
            anyhow::bail!(
                "{}",
                crate::t!("run-registry-errors", errors = errors.len())
            );
        }
    }
}

/// The EBD profile: `[ebd]` of `schedules/settings.toml` (checked there), else the defaults.
pub(crate) fn load_profile(root: &Path) -> anyhow::Result<EbdProfile> {
    let (settings, diags) = crate::settings::Settings::load(root);
    let errors: Vec<Diagnostic> = diags.into_iter().filter(Diagnostic::is_error).collect();
    if !errors.is_empty() {
        report(&errors);
        anyhow::bail!(
            "{}",
            crate::t!("run-settings-errors", errors = errors.len())
        );
    }
    Ok(settings.ebd)
}

/// The pusher over the data dir's ledger.
pub(crate) fn pusher(global: &Global, registry: Registry) -> anyhow::Result<Pusher> {
    let data = global.data_dir();
    data.ensure()
        .with_context(|| crate::t!("run-creating", path = data.path().display().to_string()))?;
    let ledger: Arc<dyn Ledger> = global.ledger()?.open()?;
    let profile = Arc::new(load_profile(&global.root)?);
    let client = http_client().with_context(|| crate::t!("run-http-client"))?;
    let router = Router::new(&registry, &profile, &client);
    Ok(Pusher {
        ledger,
        registry: Arc::new(registry),
        router: Arc::new(router),
        profile,
        clip_base: crate::transport::webhook::ClipLinks {
            base: format!("{}/v1/audio", crate::server::DEFAULT_BASE_URL),
            signer: Some(crate::server::signed::UrlSigner::open(data.path())?),
        },
        wire: crate::dispatch::Clock::system(),
    })
}

fn report(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{d}");
    }
}
