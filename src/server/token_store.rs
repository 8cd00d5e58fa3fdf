//! The server's view of `tokens.json`: decoded hashes, re-read when the file changes, the file
//! looked at no more than once per recheck interval; a presented token is hashed and compared
//! with every stored hash in constant time.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use subtle::ConstantTimeEq;

use super::auth::{Principal, TokenError, TokenRecord, hash, load};

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
    #[cfg(test)]
    fn refresh_now(&self) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::auth::{Scope, add, revoke};
    use chrono::Utc;

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
