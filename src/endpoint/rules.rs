//! The registry's rules about credentials and protocols: literal secrets refused, URLs without
//! passwords or tokens, keys and secret files outside the project, and what an `ebd` or
//! `webhook` endpoint needs.

use std::path::PathBuf;

use toml::Spanned;

use super::parse::{Cx, RawEndpoint};
use super::{Protocol, SIM_PLACEHOLDER, SecretRef, Signer, Signing};

impl Cx<'_> {
    pub(super) fn refuse_literal_secrets(&mut self, e: &RawEndpoint) {
        let literal = [
            ("secret", &e.secret),
            ("password", &e.password),
            ("token", &e.token),
            ("api_key", &e.api_key),
            ("private_key", &e.private_key),
            ("key", &e.key),
        ];
        for (name, v) in literal {
            if let Some(v) = v {
                self.err_help(
                    v,
                    crate::t!("endpoint-literal-secret", key = name),
                    crate::t!("endpoint-name-secret"),
                );
            }
        }
    }

    pub(super) fn check_url(&mut self, url: &Spanned<String>) {
        let text = url.get_ref().replace(SIM_PLACEHOLDER, "http://127.0.0.1:1");
        match reqwest::Url::parse(&text) {
            Ok(u) if u.scheme() != "http" && u.scheme() != "https" => {
                let msg = crate::t!("endpoint-url-scheme", url = url.get_ref().as_str());
                self.err(url, msg);
            }
            Ok(u) if u.password().is_some() => self.err_help(
                url,
                crate::t!("endpoint-url-password"),
                crate::t!("endpoint-use-secret"),
            ),
            Ok(u) => {
                let leaky = u.query_pairs().any(|(k, _)| {
                    let k = k.to_ascii_lowercase();
                    ["token", "secret", "password", "key", "sig"]
                        .iter()
                        .any(|s| k.contains(s))
                });
                if leaky {
                    self.err_help(
                        url,
                        crate::t!("endpoint-url-query"),
                        crate::t!("endpoint-use-secret"),
                    );
                }
            }
            Err(err) => {
                let msg = crate::t!(
                    "endpoint-url-invalid",
                    url = url.get_ref().as_str(),
                    reason = err.to_string()
                );
                self.err(url, msg);
            }
        }
    }

    pub(super) fn ebd(&mut self, e: &RawEndpoint) -> Option<Protocol> {
        for (name, v) in [
            ("secret_env", &e.secret_env),
            ("secret_file", &e.secret_file),
        ] {
            if let Some(v) = v {
                self.err(v, crate::t!("endpoint-webhook-only", key = name));
            }
        }
        let Some(ebrid) = &e.ebrid else {
            self.err_help(
                &e.kind,
                crate::t!("endpoint-ebd-needs-ebrid"),
                crate::t!("endpoint-ebrid-example"),
            );
            return None;
        };
        if let Err(e) = check_ebrid(ebrid.get_ref()) {
            self.err(ebrid, e.to_string());
        }
        let signer = match e.signer.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("none") => Signer::None,
            Some("key-file") => match &e.key_file {
                Some(k) => Signer::KeyFile(self.outside_root(k)?),
                None => {
                    self.err(e.signer.as_ref()?, crate::t!("endpoint-signer-needs-key"));
                    return None;
                }
            },
            Some(other) => {
                self.err_help(
                    e.signer.as_ref()?,
                    crate::t!("endpoint-signer-unknown", signer = other),
                    crate::t!("endpoint-signer-expected"),
                );
                return None;
            }
        };
        if let (Signer::None, Some(k)) = (&signer, &e.key_file) {
            self.err(k, crate::t!("endpoint-key-without-signer"));
        }
        let peer_public_key = e
            .peer_public_key
            .as_ref()
            .map(|p| self.root.join(p.get_ref()));
        Some(Protocol::Ebd {
            ebrid: ebrid.get_ref().clone(),
            signing: Signing {
                signer,
                peer_public_key,
            },
        })
    }

    pub(super) fn webhook(&mut self, e: &RawEndpoint) -> Option<Protocol> {
        for (name, v) in [
            ("ebrid", &e.ebrid),
            ("signer", &e.signer),
            ("key_file", &e.key_file),
        ] {
            if let Some(v) = v {
                self.err(v, crate::t!("endpoint-ebd-only", key = name));
            }
        }
        let secret = match (&e.secret_env, &e.secret_file) {
            (Some(v), None) => {
                let name = v.get_ref();
                let ok = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if !ok {
                    self.err_help(
                        v,
                        crate::t!("endpoint-secret-env-name", name = name.as_str()),
                        crate::t!("endpoint-secret-env-letters"),
                    );
                    return None;
                }
                SecretRef::Env(name.clone())
            }
            (None, Some(f)) => SecretRef::File(self.outside_root(f)?),
            (Some(v), Some(_)) => {
                self.err(v, crate::t!("endpoint-secret-both"));
                return None;
            }
            (None, None) => {
                self.err_help(
                    &e.kind,
                    crate::t!("endpoint-webhook-needs-secret"),
                    crate::t!("endpoint-secret-example"),
                );
                return None;
            }
        };
        Some(Protocol::Webhook { secret })
    }

    /// A path to a secret: absolute and outside the project, so it is never committed.
    pub(super) fn outside_root(&mut self, p: &Spanned<String>) -> Option<PathBuf> {
        let path = PathBuf::from(p.get_ref());
        if !path.is_absolute() {
            self.err_help(
                p,
                crate::t!("endpoint-path-relative", path = p.get_ref().as_str()),
                crate::t!("endpoint-secrets-outside"),
            );
            return None;
        }
        let root = self
            .root
            .canonicalize()
            .unwrap_or_else(|_| self.root.to_path_buf());
        if path.starts_with(&root) || path.starts_with(self.root) {
            self.err_help(
                p,
                crate::t!("endpoint-path-inside", path = p.get_ref().as_str()),
                crate::t!("endpoint-move-outside"),
            );
            return None;
        }
        Some(path)
    }
}

/// A resource code that is not one, in the staff's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EbridError {
    /// Not 23 digits (2018) or 18 (2017).
    Length(String),
    /// A first digit (the level) outside 1–6.
    Level(String),
}

impl std::fmt::Display for EbridError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EbridError::Length(code) => f.write_str(&crate::t!("ebrid-length", code = code)),
            EbridError::Level(code) => f.write_str(&crate::t!("ebrid-level", code = code)),
        }
    }
}

impl std::error::Error for EbridError {}

/// A resource code: 23 digits (2018) or 18 (2017), level 1–6 first.
pub(super) fn check_ebrid(value: &str) -> Result<(), EbridError> {
    if !value.bytes().all(|b| b.is_ascii_digit()) || !(value.len() == 23 || value.len() == 18) {
        return Err(EbridError::Length(value.to_string()));
    }
    if !(b'1'..=b'6').contains(&value.as_bytes()[0]) {
        return Err(EbridError::Level(value.to_string()));
    }
    Ok(())
}
