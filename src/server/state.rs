//! What the app serves from: the directory, a swappable snapshot of the plan and the audio
//! index, the records (ledger) behind coverage and state reports, tokens, metrics and limits.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::auth::TokenStore;
use super::ebd_state::EbdInbound;
use super::ops::Metrics;
use super::rendered::RenderCache;
use crate::coverage;
use crate::directory::Directory;
use crate::plan::Broadcast;

/// Bounds on every connection and request.
#[derive(Debug, Clone)]
pub struct Limits {
    pub request_timeout: Duration,
    /// The body limit of `POST /v1/ebd/state`; other routes take at most [`GET_BODY_BYTES`].
    pub max_body_bytes: usize,
    /// Requests handled at once outside health and metrics.
    pub concurrency: usize,
    /// Connections held at once, silent ones included; `None`: as many as the open-file limit
    /// holds (see [`fit_connections`](super::fit_connections)).
    pub max_connections: Option<usize>,
    /// Connections with a request under way or kept alive between requests at once: those that
    /// hold HTTP state and buffers (~16 KiB each). A silent connection holds none.
    pub max_active: usize,
    /// Time the kernel keeps a new connection that has sent nothing away from the server (Linux's
    /// `TCP_DEFER_ACCEPT`, as nginx's `listen … deferred`): it is accepted once its first bytes
    /// arrive, so until then it takes no descriptor and no place under the cap. Past this time
    /// it is accepted silent and [`first_byte_timeout`](Self::first_byte_timeout) counts.
    /// Zero: off (and on systems without the option).
    pub defer_accept: Duration,
    /// Time a new connection may stay silent before its first byte once accepted (at the
    /// connection cap it gives way to a new client sooner: see [`serve_http`](super::serve_http)).
    pub first_byte_timeout: Duration,
    /// Time to complete a request head from its first byte, and to start the next one after an
    /// answer (the idle keep-alive timeout).
    pub header_timeout: Duration,
}

/// The body limit of every route that takes none (GETs).
pub const GET_BODY_BYTES: usize = 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 4 * 1024 * 1024,
            concurrency: 256,
            max_connections: None,
            max_active: 2048,
            defer_accept: Duration::from_secs(60),
            first_byte_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// One servable recording, found by its sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFile {
    pub sha256: String,
    /// Extension in URLs, e.g. `mp3`.
    pub ext: String,
    pub content_type: &'static str,
    /// Absolute path on disk; never built from request input.
    pub path: PathBuf,
    pub size: u64,
}

/// The plan and audio the app currently serves; replaced whole when the plan is rebuilt.
#[derive(Debug, Default)]
pub struct Snapshot {
    broadcasts: Vec<Broadcast>,
    /// Township code → indexes into `broadcasts`, by start time.
    by_township: HashMap<String, Vec<usize>>,
    audio: HashMap<String, AudioFile>,
    /// When this snapshot was built (Last-Modified of playlists).
    pub built_at: DateTime<Utc>,
    /// Whether schedules and catalog loaded without errors.
    pub schedules_loaded: bool,
    /// Playlist answers rendered from this snapshot; they go with it.
    rendered: RenderCache,
}

impl Snapshot {
    pub fn new(
        mut broadcasts: Vec<Broadcast>,
        audio: impl IntoIterator<Item = AudioFile>,
        built_at: DateTime<Utc>,
    ) -> Snapshot {
        broadcasts.sort_by(|a, b| (a.start, &a.township_code).cmp(&(b.start, &b.township_code)));
        let mut by_township: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, b) in broadcasts.iter().enumerate() {
            by_township
                .entry(b.township_code.clone())
                .or_default()
                .push(i);
        }
        Snapshot {
            broadcasts,
            by_township,
            audio: audio.into_iter().map(|a| (a.sha256.clone(), a)).collect(),
            built_at,
            schedules_loaded: true,
            rendered: RenderCache::default(),
        }
    }

    /// Load schedules and catalog under `root` and plan `[from, to)`: the snapshot a server
    /// starts with. Campaigns with errors are left out (as `shengbo plan` does). Playlists and
    /// the audio map carry the loudness-adjusted clips (made in `adjusted_cache` if missing,
    /// exactly as the push path makes them); the original recordings are never served.
    pub fn load(
        root: &Path,
        probe_cache: Option<&Path>,
        adjusted_cache: &Path,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Snapshot, crate::check::CheckError> {
        let inputs = crate::check::load(root, probe_cache, now)?;
        let mut planned = crate::plan::plan(
            &inputs.campaigns,
            &inputs.directory,
            &inputs.catalog,
            from,
            to,
        );
        let airing = super::airing::resolve(
            &inputs.catalog,
            root,
            adjusted_cache,
            inputs.settings.loudness,
        );
        super::airing::rewrite(&mut planned.broadcasts, &airing);
        let audio = super::airing::audio_files(&airing);
        Ok(Snapshot::new(planned.broadcasts, audio, now))
    }

    /// A township's broadcasts, by start time.
    pub fn broadcasts_of(&self, township: &str) -> impl Iterator<Item = &Broadcast> {
        self.by_township
            .get(township)
            .into_iter()
            .flatten()
            .map(|&i| &self.broadcasts[i])
    }

    /// A township's current or next broadcast at `at` (the first that has not ended) among
    /// those `keep` accepts (all of them, or a village's), with its index in
    /// [`Snapshot::broadcasts`].
    pub fn next_where(
        &self,
        township: &str,
        at: DateTime<Utc>,
        keep: impl Fn(&Broadcast) -> bool,
    ) -> Option<(usize, &Broadcast)> {
        self.by_township
            .get(township)?
            .iter()
            .map(|&i| (i, &self.broadcasts[i]))
            .find(|(_, b)| b.end > at && keep(b))
    }

    /// The playlist answers rendered from this snapshot.
    pub fn rendered(&self) -> &RenderCache {
        &self.rendered
    }

    pub fn broadcasts(&self) -> &[Broadcast] {
        &self.broadcasts
    }

    pub fn audio(&self, sha256: &str) -> Option<&AudioFile> {
        self.audio.get(sha256)
    }
}

/// A failure of the records behind coverage and state reports.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("records: {0}")]
    Ledger(#[from] crate::ledger::LedgerError),
    /// The write check's own connection.
    #[error("records: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// An endpoint's health as the records know it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EndpointStatus {
    pub endpoint: String,
    /// `closed` (healthy), `open`, `half_open`.
    pub circuit: String,
    pub consecutive_failures: u32,
    pub last_seen: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// The app's view of the ledger. Blocking: the app calls it from `spawn_blocking`.
pub trait Records: Send + Sync + 'static {
    /// Coverage inputs for runs with occurrence in `[from, to)`.
    fn coverage_inputs(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        campaign: Option<&str>,
    ) -> Result<coverage::Inputs, RecordsError>;
    fn endpoints(&self) -> Result<Vec<EndpointStatus>, RecordsError>;
    /// The occurrence of the most recent run recorded (in the future too: `demo` airs the next
    /// slots), or `None` when the ledger holds no run.
    fn latest_run(&self) -> Result<Option<DateTime<Utc>>, RecordsError>;
    /// Store a platform's state report; returns the delivery it moved, if any.
    fn record_state_report(
        &self,
        report: &crate::ledger::StateReport,
    ) -> Result<Option<i64>, RecordsError>;
    /// Whether the records can be written (readiness).
    fn check_writable(&self) -> Result<(), RecordsError>;
}

struct Shared {
    directory: Arc<Directory>,
    snapshot: RwLock<Arc<Snapshot>>,
    records: Option<Arc<dyn Records>>,
    ebd_inbound: Option<Arc<EbdInbound>>,
    tokens: Arc<TokenStore>,
    metrics: Arc<Metrics>,
    limits: Limits,
    /// Set once: by [`AppState::with_base_url`], else by `serve_http` from its listener.
    base_url: OnceLock<String>,
    url_signer: Option<super::signed::UrlSigner>,
    /// What time it is for "now" defaults (the service's one clock; the wall clock without).
    clock: Option<crate::dispatch::Clock>,
}

/// The app's state: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("limits", &self.inner.limits)
            .field("records", &self.inner.records.is_some())
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(directory: Arc<Directory>, snapshot: Snapshot, tokens: TokenStore) -> AppState {
        AppState {
            inner: Arc::new(Shared {
                directory,
                snapshot: RwLock::new(Arc::new(snapshot)),
                records: None,
                ebd_inbound: None,
                tokens: Arc::new(tokens),
                metrics: Arc::new(Metrics::default()),
                limits: Limits::default(),
                base_url: OnceLock::new(),
                url_signer: None,
                clock: None,
            }),
        }
    }

    /// A new state with one part changed; clones of `self` keep the old parts.
    fn edit(self, f: impl FnOnce(&mut Shared)) -> AppState {
        let old = &self.inner;
        let mut inner = Shared {
            directory: old.directory.clone(),
            snapshot: RwLock::new(self.snapshot()),
            records: old.records.clone(),
            ebd_inbound: old.ebd_inbound.clone(),
            tokens: old.tokens.clone(),
            metrics: old.metrics.clone(),
            limits: old.limits.clone(),
            base_url: old.base_url.clone(),
            url_signer: old.url_signer.clone(),
            clock: old.clock,
        };
        f(&mut inner);
        AppState {
            inner: Arc::new(inner),
        }
    }

    pub fn with_records(self, records: Arc<dyn Records>) -> AppState {
        self.edit(|s| s.records = Some(records))
    }

    /// Take platforms' state reports on `POST /v1/ebd/state` (needs records too).
    pub fn with_ebd_inbound(self, inbound: EbdInbound) -> AppState {
        self.edit(|s| s.ebd_inbound = Some(Arc::new(inbound)))
    }

    pub fn ebd_inbound(&self) -> Option<Arc<EbdInbound>> {
        self.inner.ebd_inbound.clone()
    }

    pub fn with_metrics(self, metrics: Arc<Metrics>) -> AppState {
        self.edit(|s| s.metrics = metrics)
    }

    pub fn with_limits(self, limits: Limits) -> AppState {
        self.edit(|s| s.limits = limits)
    }

    /// The public base URL for absolute audio links (e.g. `https://sb.example.cn`, checked by
    /// [`parse_base_url`]). Without one, `serve_http` uses its listen address; a request's
    /// `Host` is never used.
    pub fn with_base_url(self, base_url: impl Into<String>) -> AppState {
        let url = base_url.into().trim_end_matches('/').to_string();
        self.edit(|s| s.base_url = OnceLock::from(url))
    }

    /// Accept signed audio links (`?exp=&sig=`) checked with this signer.
    pub fn with_url_signer(self, signer: super::signed::UrlSigner) -> AppState {
        self.edit(|s| s.url_signer = Some(signer))
    }

    pub fn url_signer(&self) -> Option<&super::signed::UrlSigner> {
        self.inner.url_signer.as_ref()
    }

    /// Use `url` as the base URL unless one is configured already; returns the one in force.
    pub fn base_url_or(&self, url: impl FnOnce() -> String) -> &str {
        self.inner.base_url.get_or_init(url)
    }

    /// Read "now" from `clock` (the service's clock) instead of the wall clock.
    pub fn with_clock(self, clock: crate::dispatch::Clock) -> AppState {
        self.edit(|s| s.clock = Some(clock))
    }

    /// The current time: the configured clock's, else the wall clock's.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.map_or_else(Utc::now, |c| c.now())
    }

    /// Replace the snapshot (a new plan, a reloaded catalog); in-flight requests keep theirs.
    pub fn replace_snapshot(&self, snapshot: Snapshot) {
        let mut guard = self
            .inner
            .snapshot
            .write()
            .unwrap_or_else(|e| e.into_inner());
        *guard = Arc::new(snapshot);
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner
            .snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn directory(&self) -> &Directory {
        &self.inner.directory
    }

    pub fn records(&self) -> Option<Arc<dyn Records>> {
        self.inner.records.clone()
    }

    pub fn tokens(&self) -> &TokenStore {
        &self.inner.tokens
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The base URL of audio links: configured, else the listen address, else
    /// [`DEFAULT_BASE_URL`].
    pub fn base_url(&self) -> &str {
        self.inner
            .base_url
            .get()
            .map_or(DEFAULT_BASE_URL, String::as_str)
    }
}

/// The base URL of a server on the default listen address.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8470";

/// A `--base-url` that is not usable as the public base of audio links.
#[derive(Debug, thiserror::Error)]
#[error(
    "base URL `{url}` {reason}; expected e.g. `https://sb.example.cn` or `http://10.0.0.5:8470`"
)]
pub struct BaseUrlError {
    pub url: String,
    pub reason: &'static str,
}

/// Check a public base URL: absolute `http` or `https`, a host, no credentials, query or
/// fragment. Returned without a trailing `/`.
pub fn parse_base_url(s: &str) -> Result<String, BaseUrlError> {
    let err = |reason| BaseUrlError {
        url: s.escape_debug().to_string(),
        reason,
    };
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(err("holds a space or control character"));
    }
    let url = reqwest::Url::parse(s).map_err(|_| err("is not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(err("is not http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(err("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err("carries credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(err("has a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_absolute_http_without_extras() {
        assert_eq!(
            parse_base_url("https://sb.example.cn/").unwrap(),
            "https://sb.example.cn"
        );
        assert_eq!(
            parse_base_url("http://10.0.0.5:8470/shengbo").unwrap(),
            "http://10.0.0.5:8470/shengbo"
        );
        for bad in [
            "sb.example.cn",
            "ftp://sb.example.cn",
            "http://u:p@sb.example.cn",
            "http://sb.example.cn/?a=1",
            "http://sb.example.cn/#x",
            "http://sb.example.cn\n",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }
}
