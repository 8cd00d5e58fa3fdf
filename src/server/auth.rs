//! Tokens: who may see what. Station tokens are scoped to one county (its townships' playlists
//! and their audio); coordinator tokens read everything, coverage included.
//!
//! Tokens are 256-bit random strings (`sb_…`), shown once when created. At rest only their
//! sha256 is kept, in `<data-dir>/tokens.json` (mode 0600); a presented token is hashed and
//! compared with every stored hash in constant time (`subtle`). The file is re-read when it
//! changes (looked at no more than once a second), so `shengbo token add/revoke` takes effect
//! on a running server within a second. Writers take turns under a lock on
//! `tokens.json.lock` and replace the file whole ([`add`], [`revoke`]).

use std::path::{Path, PathBuf};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::AppError;
use super::state::AppState;
pub use super::token_store::{RECHECK, TokenStore};

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
    #[error("{}", crate::t!("token-file-io", path = path.display().to_string(), reason = source.to_string()))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", crate::t!("token-file-invalid", path = path.display().to_string(), reason = source.to_string()))]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}", crate::t!("token-exists", name = .0.as_str()))]
    Exists(String),
    #[error("{}", crate::t!("token-unknown", name = .0.as_str()))]
    Unknown(String),
    #[error("{}", crate::t!("token-bad-name", name = name.as_str(), reason = reason.as_str()))]
    BadName { name: String, reason: String },
}

/// The longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A token name is shown in logs, lists and errors: 1 to [`MAX_NAME_CHARS`] characters, no
/// control characters (newlines, tabs, escapes), no spaces at either end.
pub fn check_name(name: &str) -> Result<(), TokenError> {
    let bad = |reason: String| TokenError::BadName {
        name: name.escape_debug().to_string(),
        reason,
    };
    if name.trim().is_empty() {
        return Err(bad(crate::t!("token-name-empty")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(bad(crate::t!("token-name-long", max = MAX_NAME_CHARS)));
    }
    if name.chars().any(char::is_control) {
        return Err(bad(crate::t!("token-name-control")));
    }
    if name.trim() != name {
        return Err(bad(crate::t!("token-name-space")));
    }
    Ok(())
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
            Scope::Station { county: own } => Err(AppError::Forbidden(crate::t!(
                "http-token-other-county",
                name = self.name.as_str(),
                own = own.as_str(),
                county = county
            ))),
        }
    }

    /// 403 unless this caller is a coordinator.
    pub fn require_coordinator(&self) -> Result<(), AppError> {
        match self.scope {
            Scope::Coordinator => Ok(()),
            Scope::Station { .. } => Err(AppError::Forbidden(crate::t!(
                "http-token-station",
                name = self.name.as_str()
            ))),
        }
    }
}

pub(super) fn hash(token: &str) -> [u8; 32] {
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

/// Change the tokens of `path` and write them back, under an exclusive lock on
/// `tokens.json.lock` beside it (an OS lock, let go when its process ends however it ends): two
/// writers at once (two `shengbo token` commands, `demo` beside one) take turns, each reading
/// what the other wrote, so no token added is lost and none revoked comes back. Nothing is
/// written when `change` fails.
fn update<T>(
    path: &Path,
    change: impl FnOnce(&mut Vec<TokenRecord>) -> Result<T, TokenError>,
) -> Result<T, TokenError> {
    let io = |source| TokenError::Io {
        path: path.into(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_extension("json.lock"))
        .map_err(io)?;
    lock.lock().map_err(io)?;
    let mut tokens = load(path)?;
    let out = change(&mut tokens)?;
    save(path, tokens)?;
    Ok(out)
}

/// Write `tokens` to a file beside `path` (mode 0600 from the start), on disk, then put it in
/// place: a reader (the server) sees the old file or the new one, whole.
fn save(path: &Path, tokens: Vec<TokenRecord>) -> Result<(), TokenError> {
    use std::io::Write as _;
    let io = |source| TokenError::Io {
        path: path.into(),
        source,
    };
    let text = serde_json::to_string_pretty(&TokenFile { tokens }).expect("tokens serialize");
    let tmp = path.with_extension("json.tmp");
    let mut open = std::fs::OpenOptions::new();
    open.create(true).truncate(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut file = open.open(&tmp).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A file left by an older writer keeps its mode when opened: set it.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    file.write_all((text + "\n").as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Create a token; returns the secret, which is stored nowhere.
pub fn add(
    path: &Path,
    name: &str,
    scope: Scope,
    now: DateTime<Utc>,
) -> Result<String, TokenError> {
    check_name(name)?;
    update(path, |tokens| {
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
        Ok(secret)
    })
}

/// Remove a token by name.
pub fn revoke(path: &Path, name: &str) -> Result<(), TokenError> {
    update(path, |tokens| {
        let before = tokens.len();
        tokens.retain(|t| t.name != name);
        if tokens.len() == before {
            return Err(TokenError::Unknown(name.to_string()));
        }
        Ok(())
    })
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
            return Err(AppError::Unauthorized(crate::t!("http-token-required")));
        };
        state
            .tokens()
            .verify(token)
            .ok_or_else(|| AppError::Unauthorized(crate::t!("http-token-unknown")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_names_are_bounded_printable_text() {
        for good in [
            "zhaojue",
            "昭觉县广播站",
            "station 2",
            &"x".repeat(MAX_NAME_CHARS),
        ] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "  ",
            "a\nb",
            "a\r",
            "tab\there",
            "\u{1b}[31mred",
            " lead",
            "trail ",
            &"x".repeat(MAX_NAME_CHARS + 1),
        ] {
            assert!(
                matches!(check_name(bad), Err(TokenError::BadName { .. })),
                "{bad:?}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        assert!(add(&path, "a\nb", Scope::Coordinator, Utc::now()).is_err());
        assert!(!path.exists(), "nothing written for a bad name");
    }

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
    fn writers_at_once_lose_no_token_and_bring_none_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        for i in 0..8 {
            add(&path, &format!("old-{i}"), Scope::Coordinator, Utc::now()).unwrap();
        }
        let at_once = std::sync::Barrier::new(8);
        let secrets: Vec<(String, String)> = std::thread::scope(|s| {
            let writers: Vec<_> = (0..8)
                .map(|w| {
                    let (path, at_once) = (&path, &at_once);
                    s.spawn(move || {
                        at_once.wait();
                        revoke(path, &format!("old-{w}")).unwrap();
                        (0..6)
                            .map(|i| {
                                let name = format!("w{w}-{i}");
                                let secret =
                                    add(path, &name, Scope::Coordinator, Utc::now()).unwrap();
                                (name, secret)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            writers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        let names: Vec<String> = load(&path).unwrap().into_iter().map(|t| t.name).collect();
        assert_eq!(names.len(), 48, "{names:?}");
        assert!(names.iter().all(|n| !n.starts_with("old-")), "{names:?}");
        let store = TokenStore::open(&path).unwrap();
        for (name, secret) in secrets {
            assert_eq!(store.verify(&secret).map(|p| p.name), Some(name));
        }
    }
}
