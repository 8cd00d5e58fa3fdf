//! The endpoint registry (`schedules/endpoints.toml`): where each township's broadcasts are
//! pushed (an EBD platform or a JSON webhook), how (timeouts, concurrency, signing), and the
//! deployment-wide push settings (`[push]`: air-by deadline, lead time, retries, concurrency).
//!
//! Credentials and keys appear by reference only (an environment variable name or a file path
//! outside the project); a literal secret in the file is an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::diag::Diagnostic;
use crate::directory::Directory;

mod parse;
mod rules;

pub use parse::{load, parse_str};

/// The registry's file, relative to the project root.
pub const FILE: &str = "schedules/endpoints.toml";

/// The placeholder a demo registry uses for the simulator's base URL (`http://127.0.0.1:<port>`).
pub const SIM_PLACEHOLDER: &str = "{sim}";

/// How an endpoint is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The emergency-broadcast data interface: tar packages of EBM messages.
    Ebd,
    /// A JSON POST of the playlist, signed with HMAC-SHA256.
    Webhook,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ebd => "ebd",
            Kind::Webhook => "webhook",
        }
    }
}

/// A secret named, never written: an environment variable or a file outside the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    File(PathBuf),
}

/// A secret that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable `{0}` is not set")]
    EnvMissing(String),
    #[error("secret file `{path}`: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("secret from {0} is empty")]
    Empty(String),
}

impl SecretRef {
    /// Read the secret's bytes (a file's trailing newline is dropped).
    pub fn resolve(&self) -> Result<Vec<u8>, SecretError> {
        let bytes = match self {
            SecretRef::Env(name) => std::env::var(name)
                .map_err(|_| SecretError::EnvMissing(name.clone()))?
                .into_bytes(),
            SecretRef::File(path) => {
                let mut b = std::fs::read(path).map_err(|source| SecretError::File {
                    path: path.clone(),
                    source,
                })?;
                while b.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
                    b.pop();
                }
                b
            }
        };
        if bytes.is_empty() {
            return Err(SecretError::Empty(self.to_string()));
        }
        Ok(bytes)
    }
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretRef::Env(name) => write!(f, "env `{name}`"),
            SecretRef::File(path) => write!(f, "file `{}`", path.display()),
        }
    }
}

/// How packages to an EBD endpoint are signed, and how its replies are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// No signature value (the platform runs with signing turned off).
    None,
    /// A software SM2 private key in a file outside the project.
    KeyFile(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signing {
    pub signer: Signer,
    /// The platform's SM2 public key (file), to verify its response signatures.
    pub peer_public_key: Option<PathBuf>,
}

/// What a validated endpoint speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    Ebd {
        /// The platform's resource code (`DEST/EBRID`).
        ebrid: String,
        signing: Signing,
    },
    Webhook {
        /// The HMAC-SHA256 key for `X-Shengbo-Signature`.
        secret: SecretRef,
    },
}

/// One validated endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    /// The URL as written; may hold [`SIM_PLACEHOLDER`] until [`Registry::substitute_sim`].
    pub url: String,
    pub protocol: Protocol,
    /// 9-digit township codes served, sorted.
    pub townships: Vec<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// At most this many requests in flight to this endpoint.
    pub concurrency: usize,
    pub enabled: bool,
}

impl Endpoint {
    pub fn kind(&self) -> Kind {
        match self.protocol {
            Protocol::Ebd { .. } => Kind::Ebd,
            Protocol::Webhook { .. } => Kind::Webhook,
        }
    }

    /// Whether this endpoint serves a township.
    pub fn serves(&self, township: &str) -> bool {
        self.townships
            .binary_search_by(|t| t.as_str().cmp(township))
            .is_ok()
    }
}

/// Deployment-wide push settings (`[push]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSettings {
    /// A delivery not delivered this long after its slot's start is expired, never aired late.
    pub air_by: Duration,
    /// Push this long before the play window opens.
    pub lead_time: Duration,
    /// Ceiling of the first retry delay; later ones double, with full jitter, up to
    /// `backoff_cap`. Retries go on until delivered, refused, or the air-by deadline.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Requests in flight across all endpoints.
    pub concurrency: usize,
    /// Consecutive failures that open an endpoint's circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit waits before one trial request.
    pub breaker_cooldown: Duration,
    /// Interval of `ConnectionCheck` heartbeats to EBD endpoints.
    pub connection_check: Duration,
    /// How long after the play window ends a `run --once` waits for play states.
    pub state_wait: Duration,
    /// How long an instance's lease on the deliveries it sends lasts unless renewed: after
    /// its death, another instance takes them over within this time plus a few seconds.
    pub lease: Duration,
}

impl Default for PushSettings {
    fn default() -> Self {
        PushSettings {
            air_by: Duration::from_secs(30 * 60),
            lead_time: Duration::from_secs(120),
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(60),
            concurrency: 32,
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(60),
            connection_check: Duration::from_secs(120),
            state_wait: Duration::from_secs(120),
            lease: Duration::from_secs(30),
        }
    }
}

/// The validated registry.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    pub push: PushSettings,
    pub endpoints: Vec<Endpoint>,
}

impl Registry {
    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.id == id)
    }

    /// The enabled endpoints serving a township.
    pub fn endpoints_for<'a>(&'a self, township: &'a str) -> impl Iterator<Item = &'a Endpoint> {
        self.endpoints
            .iter()
            .filter(move |e| e.enabled && e.serves(township))
    }

    /// Townships of the directory no enabled endpoint serves.
    pub fn unserved<'a>(&self, directory: &'a Directory) -> Vec<&'a str> {
        directory
            .townships()
            .iter()
            .filter(|t| self.endpoints_for(&t.code).next().is_none())
            .map(|t| t.code.as_str())
            .collect()
    }

    /// Enabled endpoints serving each of `townships`, keyed by endpoint id.
    pub fn route<'a>(&self, townships: impl IntoIterator<Item = &'a str>) -> Routing {
        let mut routing = Routing::default();
        for t in townships {
            let mut any = false;
            for e in self.endpoints_for(t) {
                routing
                    .by_endpoint
                    .entry(e.id.clone())
                    .or_default()
                    .push(t.to_string());
                any = true;
            }
            if !any {
                routing.unserved.push(t.to_string());
            }
        }
        routing
    }

    /// Replace [`SIM_PLACEHOLDER`] in every URL with the simulator's base URL.
    pub fn substitute_sim(&mut self, base: &str) {
        let base = base.trim_end_matches('/');
        for e in &mut self.endpoints {
            e.url = e.url.replace(SIM_PLACEHOLDER, base);
        }
    }

    /// Whether any URL still holds the simulator placeholder.
    pub fn needs_sim(&self) -> bool {
        self.endpoints
            .iter()
            .any(|e| e.enabled && e.url.contains(SIM_PLACEHOLDER))
    }
}

/// Townships grouped by the endpoint that serves them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    pub by_endpoint: BTreeMap<String, Vec<String>>,
    /// Townships no enabled endpoint serves.
    pub unserved: Vec<String>,
}

/// Load the registry of a project root: `Ok` with warnings, or every error found.
pub fn load_root(
    root: &Path,
    directory: &Directory,
) -> Result<(Registry, Vec<Diagnostic>), Vec<Diagnostic>> {
    load(root, &root.join(FILE), directory)
}

#[cfg(test)]
mod tests;
