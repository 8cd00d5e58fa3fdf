//! Tokens: who may see what. Station tokens are scoped to one county (its townships' playlists
//! and their audio); coordinator tokens read everything, coverage included.
//!
//! Tokens are 256-bit random strings (`sb_…`), shown once when created. At rest only their
//! sha256 is kept, in `<data-dir>/tokens.json` (mode 0600); a presented token is hashed and
//! compared with every stored hash in constant time (`subtle`). The file is re-read when it
//! changes (looked at no more than once a second), so `shengbo token add/revoke` takes effect
//! on a running server within a second.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::AppError;
use super::state::AppState;

/// What a token may read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Scope {
    Coordinator,
    /// A county station: its county's townships and their audio.
    Station {
        county: String,
    },
}

/// One stored token: its name, scope and hash, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub name: String,
    pub scope: Scope,
    /// Hex sha256 of the token.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    tokens: Vec<TokenRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("tokens file `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("tokens file `{path}` is not valid: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("a token named `{0}` already exists; revoke it first or pick another name")]
    Exists(String),
    #[error("no token named `{0}`")]
    Unknown(String),
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub scope: Scope,
}

impl Principal {
    /// 403 unless this caller may read the county's townships.
    pub fn may_read_county(&self, county: &str) -> Result<(), AppError> {
        match &self.scope {
            Scope::Coordinator => Ok(()),
            Scope::Station { county: own } if own == county => Ok(()),
            Scope::Station { county: own } => Err(AppError::Forbidden(format!(
                "token `{}` is scoped to county `{own}`, not `{county}`",
                self.name
            ))),
        }
    }

    /// 403 unless this caller is a coordinator.
    pub fn require_coordinator(&self) -> Result<(), AppError> {
        match self.scope {
            Scope::Coordinator => Ok(()),
            Scope::Station { .. } => Err(AppError::Forbidden(format!(
                "token `{}` is a station token; coverage needs a coordinator token",
                self.name
            ))),
        }
    }
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A fresh token: `sb_` and 32 random bytes, base64url.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "sb_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Read the tokens file; a missing file holds no tokens.
pub fn load(path: &Path) -> Result<Vec<TokenRecord>, TokenError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(TokenError::Io {
                path: path.into(),
                source,
            });
        }
    };
    serde_json::from_str::<TokenFile>(&text)
        .map(|f| f.tokens)
        .map_err(|source| TokenError::Parse {
            path: path.into(),
            source,
        })
}

fn save(path: &Path, tokens: Vec<TokenRecord>) -> Result<(), TokenError> {
    let io = |source| TokenError::Io {
        path: path.into(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let text = serde_json::to_string_pretty(&TokenFile { tokens }).expect("tokens serialize");
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n").map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

/// Create a token; returns the secret, which is stored nowhere.
pub fn add(
    path: &Path,
    name: &str,
    scope: Scope,
    now: DateTime<Utc>,
) -> Result<String, TokenError> {
    let mut tokens = load(path)?;
    if tokens.iter().any(|t| t.name == name) {
        return Err(TokenError::Exists(name.to_string()));
    }
    let secret = generate();
    tokens.push(TokenRecord {
        name: name.to_string(),
        scope,
        sha256: hex::encode(hash(&secret)),
        created_at: now,
    });
    save(path, tokens)?;
    Ok(secret)
}

/// Remove a token by name.
pub fn revoke(path: &Path, name: &str) -> Result<(), TokenError> {
    let mut tokens = load(path)?;
    let before = tokens.len();
    tokens.retain(|t| t.name != name);
    if tokens.len() == before {
        return Err(TokenError::Unknown(name.to_string()));
    }
    save(path, tokens)
}

/// How often, at most, a running server looks at `tokens.json` for changes by default.
pub const RECHECK: Duration = Duration::from_secs(1);

/// One stored token as the server checks it: the decoded hash and who it is.
#[derive(Debug)]
struct Known {
    sha256: [u8; 32],
    principal: Principal,
}

fn known(records: Vec<TokenRecord>) -> Vec<Known> {
    records
        .into_iter()
        .filter_map(|r| {
            let mut sha256 = [0u8; 32];
            hex::decode_to_slice(&r.sha256, &mut sha256).ok()?;
            Some(Known {
                sha256,
                principal: Principal {
                    name: r.name,
                    scope: r.scope,
                },
            })
        })
        .collect()
}

/// The server's view of the tokens, re-read when the file changes. The file's modification
/// time is looked at most once per [`TokenStore::with_recheck`] interval ([`RECHECK`] unless
/// set), so `shengbo token add/revoke` takes effect within that interval.
#[derive(Debug)]
pub struct TokenStore {
    path: Option<PathBuf>,
    cache: RwLock<(Option<SystemTime>, Vec<Known>)>,
    recheck: Duration,
    /// When the store was opened; `last_check` counts nanoseconds from here.
    epoch: Instant,
    last_check: AtomicU64,
}

impl TokenStore {
    /// Tokens from a file (read now, re-read when its modification time changes).
    pub fn open(path: impl Into<PathBuf>) -> Result<TokenStore, TokenError> {
        let path = path.into();
        let records = load(&path)?;
        let mtime = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        Ok(TokenStore {
            path: Some(path),
            cache: RwLock::new((mtime, known(records))),
            recheck: RECHECK,
            epoch: Instant::now(),
            last_check: AtomicU64::new(0),
        })
    }

    /// Fixed tokens (tests, embedding).
    pub fn fixed(records: Vec<TokenRecord>) -> TokenStore {
        TokenStore {
            path: None,
            cache: RwLock::new((None, known(records))),
            recheck: RECHECK,
            epoch: Instant::now(),
            last_check: AtomicU64::new(0),
        }
    }

    /// Look at the file for changes at most once per `interval` (zero: on every request).
    pub fn with_recheck(mut self, interval: Duration) -> TokenStore {
        self.recheck = interval;
        self
    }

    /// Whether the file is due a look; only one caller per interval gets `true`.
    fn due(&self) -> bool {
        if self.recheck.is_zero() {
            return true;
        }
        let now = self.epoch.elapsed().as_nanos() as u64;
        let last = self.last_check.load(Ordering::Relaxed);
        now.saturating_sub(last) >= self.recheck.as_nanos() as u64
            && self
                .last_check
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    fn refresh(&self) {
        let Some(path) = &self.path else { return };
        if !self.due() {
            return;
        }
        self.reload(path);
    }

    /// Re-read the file now if its modification time changed.
    pub fn refresh_now(&self) {
        if let Some(path) = &self.path {
            self.reload(path);
        }
    }

    fn reload(&self, path: &Path) {
        let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if self.cache.read().map(|c| c.0 == mtime).unwrap_or(false) {
            return;
        }
        match load(path) {
            Ok(records) => {
                if let Ok(mut c) = self.cache.write() {
                    *c = (mtime, known(records));
                }
            }
            Err(err) => tracing::error!(%err, "keeping the previous tokens"),
        }
    }

    /// The principal a presented token belongs to. The token is hashed and every stored hash
    /// is compared, in constant time, whatever matches first.
    pub fn verify(&self, token: &str) -> Option<Principal> {
        self.refresh();
        let presented = hash(token);
        let cache = self.cache.read().ok()?;
        let mut found = None;
        for known in &cache.1 {
            if bool::from(known.sha256.ct_eq(&presented)) && found.is_none() {
                found = Some(&known.principal);
            }
        }
        found.cloned()
    }
}

/// The token of a request: `Authorization: Bearer …`, else `?token=…`.
fn presented(parts: &Parts) -> Option<&str> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    header.or_else(|| {
        let query = parts.uri.query()?;
        query.split('&').find_map(|kv| kv.strip_prefix("token="))
    })
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Some(token) = presented(parts) else {
            return Err(AppError::Unauthorized(
                "a token is required: `Authorization: Bearer <token>` or `?token=<token>`"
                    .to_string(),
            ));
        };
        state
            .tokens()
            .verify(token)
            .ok_or_else(|| AppError::Unauthorized("unknown or revoked token".to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_verify_revoke_round_trip_keeps_only_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let secret = add(
            &path,
            "zhaojue",
            Scope::Station {
                county: "513431".into(),
            },
            Utc::now(),
        )
        .unwrap();
        let boss = add(&path, "boss", Scope::Coordinator, Utc::now()).unwrap();
        assert_ne!(secret, boss);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&secret) && !text.contains(&boss));
        assert!(matches!(
            add(&path, "boss", Scope::Coordinator, Utc::now()),
            Err(TokenError::Exists(_))
        ));
        let store = TokenStore::open(&path).unwrap();
        let p = store.verify(&secret).unwrap();
        assert_eq!(p.name, "zhaojue");
        assert!(p.may_read_county("513431").is_ok());
        assert!(p.may_read_county("513401").is_err());
        assert!(p.require_coordinator().is_err());
        assert!(store.verify(&boss).unwrap().require_coordinator().is_ok());
        assert!(store.verify("sb_nope").is_none());
        revoke(&path, "zhaojue").unwrap();
        let store = TokenStore::open(&path).unwrap();
        assert!(store.verify(&secret).is_none());
        assert!(matches!(
            revoke(&path, "zhaojue"),
            Err(TokenError::Unknown(_))
        ));
    }

    #[test]
    fn revocation_is_seen_within_the_recheck_interval() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let secret = add(&path, "boss", Scope::Coordinator, Utc::now()).unwrap();
        let lazy = TokenStore::open(&path)
            .unwrap()
            .with_recheck(Duration::from_secs(3600));
        let eager = TokenStore::open(&path)
            .unwrap()
            .with_recheck(Duration::ZERO);
        assert!(lazy.verify(&secret).is_some() && eager.verify(&secret).is_some());
        revoke(&path, "boss").unwrap();
        assert!(eager.verify(&secret).is_none(), "no interval: seen at once");
        assert!(
            lazy.verify(&secret).is_some(),
            "within the interval the file is not looked at"
        );
        lazy.refresh_now();
        assert!(lazy.verify(&secret).is_none());
    }
}
