//! SM2 keys: load a private key (PKCS#8 or SEC1 PEM, or 64 hex digits) from a file kept outside
//! the repository, load a peer's public key (SPKI PEM or SEC1 hex), generate a pair for tests
//! and demos, and the [`Signer`] seam for an external crypto device.

use std::fmt;
use std::path::{Path, PathBuf};

use sm2::dsa::signature::Signer as _;
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use sm2::{PublicKey, SecretKey};

/// Why a key could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    /// A signer that failed: the software key's own error, or a hardware device's.
    #[error("signing device: {0}")]
    Device(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Signs bytes with SM2 (SM3 digest with the distinguishing id); returns r‖s.
/// Implement this for a hardware crypto device; [`KeySigner`] is the software one.
pub trait Signer: Send + Sync + fmt::Debug {
    fn sign(&self, data: &[u8]) -> Result<[u8; 64], KeyError>;
}

/// A software SM2 signer from a private key.
pub struct KeySigner {
    key: SigningKey,
}

impl fmt::Debug for KeySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySigner").finish_non_exhaustive()
    }
}

impl KeySigner {
    /// A signer from key text: PKCS#8 PEM, SEC1 PEM, or 64 hex digits.
    pub fn from_text(text: &str, dist_id: &str) -> Result<KeySigner, KeyError> {
        let secret = parse_secret(text)?;
        let key = SigningKey::new(dist_id, &secret)
            .map_err(|_| KeyError::Invalid("sm2 signing key refused".into()))?;
        Ok(KeySigner { key })
    }

    /// A signer from a key file.
    pub fn load(path: &Path, dist_id: &str) -> Result<KeySigner, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        KeySigner::from_text(&text, dist_id)
    }

    /// The matching public key, for peers.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key().clone()
    }
}

impl Signer for KeySigner {
    fn sign(&self, data: &[u8]) -> Result<[u8; 64], KeyError> {
        let sig: Signature = self
            .key
            .try_sign(data)
            .map_err(|e| KeyError::Device(Box::new(e)))?;
        Ok(sig.to_bytes())
    }
}

fn parse_secret(text: &str) -> Result<SecretKey, KeyError> {
    let t = text.trim();
    if t.contains("BEGIN PRIVATE KEY") {
        return SecretKey::from_pkcs8_pem(t)
            .map_err(|e| KeyError::Invalid(format!("pkcs#8 private key: {e}")));
    }
    if t.contains("BEGIN EC PRIVATE KEY") {
        return SecretKey::from_sec1_pem(t)
            .map_err(|e| KeyError::Invalid(format!("sec1 private key: {e}")));
    }
    let bytes = hex::decode(t)
        .map_err(|_| KeyError::Invalid("expected a PEM private key or 64 hex digits".into()))?;
    if bytes.len() != 32 {
        return Err(KeyError::Invalid(format!(
            "hex private key has {} bytes, expected 32",
            bytes.len()
        )));
    }
    SecretKey::from_slice(&bytes).map_err(|_| KeyError::Invalid("private key out of range".into()))
}

/// A peer's public key: SPKI PEM (`BEGIN PUBLIC KEY`) or SEC1 point hex (`04…`).
pub fn parse_verifying_key(text: &str, dist_id: &str) -> Result<VerifyingKey, KeyError> {
    let t = text.trim();
    let public = if t.contains("BEGIN PUBLIC KEY") {
        PublicKey::from_public_key_pem(t)
            .map_err(|e| KeyError::Invalid(format!("public key: {e}")))?
    } else {
        let bytes = hex::decode(t)
            .map_err(|_| KeyError::Invalid("expected a PEM public key or sec1 hex".into()))?;
        PublicKey::from_sec1_bytes(&bytes)
            .map_err(|_| KeyError::Invalid("not a point on the sm2 curve".into()))?
    };
    VerifyingKey::new(dist_id, public).map_err(|_| KeyError::Invalid("sm2 key refused".into()))
}

/// Load a peer's public key from a file.
pub fn load_verifying_key(path: &Path, dist_id: &str) -> Result<VerifyingKey, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_verifying_key(&text, dist_id)
}

/// A generated key pair as PEM text.
#[derive(Clone)]
pub struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public_pem", &self.public_pem)
            .finish_non_exhaustive()
    }
}

/// Generate a fresh SM2 key pair (tests, demos, drills).
pub fn generate_key_pair() -> KeyPair {
    let secret = loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(s) = SecretKey::from_slice(&bytes) {
            break s;
        }
    };
    let private_pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .expect("pkcs#8 encoding of a valid key")
        .to_string();
    let public_pem = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("spki encoding of a valid key");
    KeyPair {
        private_pem,
        public_pem,
    }
}

/// Write a fresh pair as `sm2-private.pem` (owner-only) and `sm2-public.pem` into `dir`; refuses
/// to overwrite. Returns the two paths. Keep `dir` outside the repository.
pub fn write_key_pair(dir: &Path) -> Result<(PathBuf, PathBuf), KeyError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| KeyError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let pair = generate_key_pair();
    let private = dir.join("sm2-private.pem");
    let public = dir.join("sm2-public.pem");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&private).map_err(io(&private))?;
    std::io::Write::write_all(&mut f, pair.private_pem.as_bytes()).map_err(io(&private))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&public)
        .map_err(io(&public))?;
    std::io::Write::write_all(&mut f, pair.public_pem.as_bytes()).map_err(io(&public))?;
    Ok((private, public))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm2::dsa::signature::Verifier;

    const ID: &str = "1234567812345678";

    #[test]
    fn generated_pair_signs_and_verifies() {
        let pair = generate_key_pair();
        let signer = KeySigner::from_text(&pair.private_pem, ID).unwrap();
        let vk = parse_verifying_key(&pair.public_pem, ID).unwrap();
        let sig = signer.sign(b"hello").unwrap();
        let sig = Signature::from_bytes(&sig).unwrap();
        vk.verify(b"hello", &sig).unwrap();
        assert!(vk.verify(b"hellp", &sig).is_err());
        // SM3-with-id: another distinguishing id does not verify
        let other = parse_verifying_key(&pair.public_pem, "other").unwrap();
        assert!(other.verify(b"hello", &sig).is_err());
    }

    #[test]
    fn written_pair_loads_and_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let (private, public) = write_key_pair(dir.path()).unwrap();
        let signer = KeySigner::load(&private, ID).unwrap();
        let vk = load_verifying_key(&public, ID).unwrap();
        assert_eq!(vk.to_sec1_bytes(), signer.verifying_key().to_sec1_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&private).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "private key readable by others");
        }
        assert!(matches!(
            write_key_pair(dir.path()),
            Err(KeyError::Io { .. })
        ));
        assert!(matches!(
            KeySigner::load(&dir.path().join("missing.pem"), ID),
            Err(KeyError::Io { .. })
        ));
    }

    #[test]
    fn hex_keys_and_bad_text() {
        let hex_key = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";
        let signer = KeySigner::from_text(hex_key, ID).unwrap();
        let point = hex::encode(signer.verifying_key().to_sec1_bytes());
        assert!(point.starts_with("04"));
        parse_verifying_key(&point, ID).unwrap();
        assert!(KeySigner::from_text("abcd", ID).is_err());
        assert!(KeySigner::from_text("not a key", ID).is_err());
        assert!(parse_verifying_key("04ff", ID).is_err());
    }
}
