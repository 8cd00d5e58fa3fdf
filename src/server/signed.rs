//! Signed audio URLs: `/v1/audio/{sha256}.{ext}?exp=<unix seconds>&sig=<hex>` is readable without
//! a token until `exp`, so a webhook gateway can fetch the clips a body names. The signature is
//! HMAC-SHA256 over `{sha256}.{ext}:{exp}` (first 128 bits, hex) with a 256-bit key kept in the
//! data directory (`keys/audio-url.key`, mode 0600, made on first use); a link names one clip
//! and cannot be stretched to another or to a later expiry.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Where the key lives inside a data directory.
pub const KEY_FILE: &str = "keys/audio-url.key";

/// The furthest an `exp` may lie ahead of now: 30 days.
pub const MAX_AHEAD_S: i64 = 30 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum SignedUrlError {
    #[error("{}", crate::t!("signed-key-io", path = path.display().to_string(), reason = source.to_string()))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", crate::t!("signed-key-malformed", path = .0.display().to_string()))]
    Malformed(PathBuf),
    #[error("{}", crate::t!("signed-bad-exp", exp = .0.as_str()))]
    BadExp(String),
    #[error("{}", crate::t!("signed-expired", at = .0.to_string()))]
    Expired(DateTime<Utc>),
    #[error("{}", crate::t!("signed-bad-sig"))]
    BadSig,
}

/// Signs and checks audio links.
#[derive(Clone)]
pub struct UrlSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(..)")
    }
}

impl UrlSigner {
    pub fn from_key(key: [u8; 32]) -> UrlSigner {
        UrlSigner { key }
    }

    /// The data directory's key, made (0600) when missing.
    pub fn open(data_dir: &Path) -> Result<UrlSigner, SignedUrlError> {
        let path = data_dir.join(KEY_FILE);
        let io = |source| SignedUrlError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => hex::decode(text.trim())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .map(UrlSigner::from_key)
                .ok_or_else(|| SignedUrlError::Malformed(path.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rng().fill_bytes(&mut key);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                // Several processes may start on one new data directory at once (two
                // `run --once`, `serve` and a `token add`): each writes its own temporary file
                // and links it in place, which fails for all but the first; the others then
                // read the first one's key, so every process signs with the same.
                let tmp = path.with_extension(format!("tmp.{:016x}", rand::rng().next_u64()));
                std::fs::write(&tmp, hex::encode(key) + "\n").map_err(io)?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                        .map_err(io)?;
                }
                let linked = std::fs::hard_link(&tmp, &path);
                let _ = std::fs::remove_file(&tmp);
                match linked {
                    Ok(()) => Ok(UrlSigner::from_key(key)),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        UrlSigner::open(data_dir)
                    }
                    Err(e) => Err(io(e)),
                }
            }
            Err(e) => Err(io(e)),
        }
    }

    fn mac(&self, file: &str, exp: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("hmac takes any key length");
        mac.update(format!("{file}:{exp}").as_bytes());
        mac
    }

    /// The query that lets `file` (`{sha256}.{ext}`) be fetched until `exp`.
    pub fn query(&self, file: &str, exp: DateTime<Utc>) -> String {
        let exp = exp.timestamp();
        let sig = &self.mac(file, exp).finalize().into_bytes()[..16];
        format!("?exp={exp}&sig={}", hex::encode(sig))
    }

    /// Check `exp` and `sig` for `file` at `now`.
    pub fn verify(
        &self,
        file: &str,
        exp: &str,
        sig: &str,
        now: DateTime<Utc>,
    ) -> Result<(), SignedUrlError> {
        let bad_exp = || SignedUrlError::BadExp(exp.escape_debug().to_string());
        if exp.is_empty() || exp.len() > 12 || !exp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_exp());
        }
        let secs: i64 = exp.parse().map_err(|_| bad_exp())?;
        let at = DateTime::from_timestamp(secs, 0).ok_or_else(bad_exp)?;
        let sig = hex::decode(sig)
            .ok()
            .filter(|s| s.len() == 16)
            .ok_or(SignedUrlError::BadSig)?;
        self.mac(file, secs)
            .verify_truncated_left(&sig)
            .map_err(|_| SignedUrlError::BadSig)?;
        if at <= now {
            return Err(SignedUrlError::Expired(at));
        }
        if secs - now.timestamp() > MAX_AHEAD_S {
            return Err(bad_exp());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `exp` and `sig` of a query.
    fn parts(q: &str) -> (String, String) {
        let (e, s) = q
            .strip_prefix("?exp=")
            .unwrap()
            .split_once("&sig=")
            .unwrap();
        (e.to_string(), s.to_string())
    }

    #[test]
    fn processes_starting_together_on_a_new_data_dir_share_one_key() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let signers: Vec<UrlSigner> = std::thread::scope(|s| {
                let opened: Vec<_> = (0..8)
                    .map(|_| s.spawn(|| UrlSigner::open(dir.path())))
                    .collect();
                opened
                    .into_iter()
                    .map(|h| h.join().unwrap().unwrap())
                    .collect()
            });
            let now = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
            let exp = now + chrono::Duration::hours(1);
            let (e, sig) = parts(&signers[0].query("ab.wav", exp));
            for other in &signers {
                assert!(
                    other.verify("ab.wav", &e, &sig, now).is_ok(),
                    "one key for all"
                );
            }
            let left: Vec<_> = std::fs::read_dir(dir.path().join("keys"))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
        }
    }

    #[test]
    fn a_link_opens_one_clip_until_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let signer = UrlSigner::open(dir.path()).unwrap();
        let again = UrlSigner::open(dir.path()).unwrap();
        let now = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        let exp = now + chrono::Duration::hours(2);
        let (e, s) = parts(&signer.query("ab.wav", exp));
        let (e, s) = (e.as_str(), s.as_str());
        assert!(again.verify("ab.wav", e, s, now).is_ok(), "the key is kept");
        assert!(matches!(
            signer.verify("cd.wav", e, s, now),
            Err(SignedUrlError::BadSig)
        ));
        let later = (exp.timestamp() + 1).to_string();
        assert!(matches!(
            signer.verify("ab.wav", &later, s, now),
            Err(SignedUrlError::BadSig)
        ));
        assert!(matches!(
            signer.verify("ab.wav", e, s, exp),
            Err(SignedUrlError::Expired(_))
        ));
        for bad in ["", "-1", "1e9", "99999999999999999999"] {
            assert!(matches!(
                signer.verify("ab.wav", bad, s, now),
                Err(SignedUrlError::BadExp(_))
            ));
        }
        let far = now + chrono::Duration::days(31);
        let (e, s) = parts(&signer.query("ab.wav", far));
        let (e, s) = (e.as_str(), s.as_str());
        assert!(matches!(
            signer.verify("ab.wav", e, s, now),
            Err(SignedUrlError::BadExp(_))
        ));
        assert!(
            UrlSigner::from_key([7; 32])
                .verify("ab.wav", e, s, now)
                .is_err()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
