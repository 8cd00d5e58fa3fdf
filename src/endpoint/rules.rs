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
                    format!("`{name}` holds a literal secret; secrets are never written in this file"),
                    "name it instead: `secret_env = \"VAR\"` or `secret_file = \"/path/outside/the/project\"` (webhooks), `key_file = \"/path\"` (EBD signing)",
                );
            }
        }
    }

    pub(super) fn check_url(&mut self, url: &Spanned<String>) {
        let text = url.get_ref().replace(SIM_PLACEHOLDER, "http://127.0.0.1:1");
        match reqwest::Url::parse(&text) {
            Ok(u) if u.scheme() != "http" && u.scheme() != "https" => {
                self.err(
                    url,
                    format!("url `{}` must be http or https", url.get_ref()),
                );
            }
            Ok(u) if u.password().is_some() => self.err_help(
                url,
                "url holds a password; secrets are never written in this file",
                "use `secret_env` or `secret_file`",
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
                        "url query holds a credential; secrets are never written in this file",
                        "use `secret_env` or `secret_file`",
                    );
                }
            }
            Err(err) => self.err(url, format!("url `{}` is not valid: {err}", url.get_ref())),
        }
    }

    pub(super) fn ebd(&mut self, e: &RawEndpoint) -> Option<Protocol> {
        for (name, v) in [
            ("secret_env", &e.secret_env),
            ("secret_file", &e.secret_file),
        ] {
            if let Some(v) = v {
                self.err(
                    v,
                    format!("`{name}` is for webhooks; EBD endpoints sign with `signer`"),
                );
            }
        }
        let Some(ebrid) = &e.ebrid else {
            self.err_help(
                &e.kind,
                "an `ebd` endpoint needs `ebrid`, the platform's resource code",
                "23 digits, e.g. `45134310000000314010101`",
            );
            return None;
        };
        if let Err(msg) = check_ebrid(ebrid.get_ref()) {
            self.err(ebrid, msg);
        }
        let signer = match e.signer.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("none") => Signer::None,
            Some("key-file") => match &e.key_file {
                Some(k) => Signer::KeyFile(self.outside_root(k)?),
                None => {
                    self.err(
                        e.signer.as_ref()?,
                        "signer `key-file` needs `key_file`, a path outside the project",
                    );
                    return None;
                }
            },
            Some(other) => {
                self.err_help(
                    e.signer.as_ref()?,
                    format!("unknown signer `{other}`"),
                    "expected `none` or `key-file`",
                );
                return None;
            }
        };
        if let (Signer::None, Some(k)) = (&signer, &e.key_file) {
            self.err(k, "`key_file` is set but `signer` is not `key-file`");
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
                self.err(v, format!("`{name}` is for `ebd` endpoints"));
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
                    self.err_help(v, format!("`secret_env` must name an environment variable, not `{name}`"), "upper-case letters, digits and `_`; the secret itself is never written here");
                    return None;
                }
                SecretRef::Env(name.clone())
            }
            (None, Some(f)) => SecretRef::File(self.outside_root(f)?),
            (Some(v), Some(_)) => {
                self.err(v, "give `secret_env` or `secret_file`, not both");
                return None;
            }
            (None, None) => {
                self.err_help(
                    &e.kind,
                    "a `webhook` endpoint needs `secret_env` or `secret_file` for its signature",
                    "e.g. `secret_env = \"SHENGBO_WEBHOOK_SECRET\"`",
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
                format!(
                    "`{}` must be an absolute path outside the project",
                    p.get_ref()
                ),
                "keys and secrets live outside the repository, e.g. `/etc/shengbo/`",
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
                format!(
                    "`{}` lies inside the project; keys and secrets must not",
                    p.get_ref()
                ),
                "move it outside the repository, e.g. `/etc/shengbo/`",
            );
            return None;
        }
        Some(path)
    }
}

/// A resource code: 23 digits (2018) or 18 (2017), level 1–6 first.
pub(super) fn check_ebrid(value: &str) -> Result<(), String> {
    if !value.bytes().all(|b| b.is_ascii_digit()) || !(value.len() == 23 || value.len() == 18) {
        return Err(format!(
            "resource code `{value}` must be 23 digits (or 18 in the 2017 format)"
        ));
    }
    if !(b'1'..=b'6').contains(&value.as_bytes()[0]) {
        return Err(format!(
            "resource code `{value}` must start with a level 1–6"
        ));
    }
    Ok(())
}
