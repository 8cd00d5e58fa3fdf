//! Transports: how one delivery reaches its endpoint — an EBD package ([`ebd`]) or a signed
//! JSON webhook ([`webhook`]). Each attempt returns an [`Outcome`] the dispatcher records; the
//! bytes of a delivery are built from its stored ids and content, so a retry resends exactly
//! what the first attempt sent.

use std::sync::Once;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::lang::Lang;

pub mod ebd;
pub mod media;
pub mod multipart;
pub mod reply;
pub mod router;
pub mod webhook;

pub use router::{EndpointClient, Router};

/// An error and its sources on one line, joined by `: `; a source whose text its parent
/// already shows (an error that prints its source) is not repeated.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut src = err.source();
    while let Some(e) = src {
        let next = e.to_string();
        // Said already, line by line (a cause of several lines may be said on one).
        if !next.lines().all(|line| text.contains(line)) {
            text.push_str(": ");
            text.push_str(&next);
        }
        src = e.source();
    }
    text
}

/// One audio file of a delivery: the loudness-adjusted clip, as it is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Media {
    pub message: String,
    /// The file name inside an EBD package (`EBDR_0001.wav`, …) or in a clip URL.
    pub name: String,
    /// The adjusted file on disk.
    #[serde(skip)]
    pub path: std::path::PathBuf,
    /// The source recording, relative to the project root.
    pub source: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub duration_s: f64,
    pub gap_after_s: f64,
}

/// Everything one delivery carries besides its ids: built from the plan, deterministic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    pub campaign: String,
    pub lang: Lang,
    pub title: String,
    pub description: Option<String>,
    /// The areas this delivery serves: the 9-digit code of each township targeted whole, and
    /// the 12-digit codes of the villages of each township targeted in part.
    pub townships: Vec<String>,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// The instant written as send time (stable across retries).
    pub send_time: DateTime<Utc>,
    pub media: Vec<Media>,
}

impl Content {
    /// 12-digit region codes of the areas (`AreaCode`): a township's `…000`, a village's own.
    pub fn area_codes(&self) -> Vec<String> {
        self.townships.iter().map(|t| area_code(t)).collect()
    }

    /// The 12-digit codes of the villages served, when townships are targeted in part.
    pub fn villages(&self) -> Vec<&str> {
        let villages = self.townships.iter().filter(|t| t.len() == 12);
        villages.map(String::as_str).collect()
    }

    /// The distinct 9-digit townships served, whole or in part.
    pub fn township_codes(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = self.townships.iter().map(|t| township_of(t)).collect();
        codes.dedup();
        codes
    }
}

/// The 12-digit region code (`AreaCode`) of an area: a township's code padded with zeros, a
/// village's code as it is.
pub fn area_code(area: &str) -> String {
    format!("{area:0<12}")
}

/// The township of an area: a township's own code, a village's first 9 digits.
pub fn township_of(area: &str) -> &str {
    area.get(..9).unwrap_or(area)
}

static PROVIDER: Once = Once::new();

/// Install rustls' ring provider once per process (another install is fine).
pub fn install_crypto_provider() {
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The HTTP client every transport shares: pooled connections, a connect timeout; each
/// request sets its own overall timeout.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    install_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent(concat!("shengbo/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A bounded excerpt of a response body for the ledger.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    text.trim().to_string()
}
