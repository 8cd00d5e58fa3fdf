//! Parsing `schedules/endpoints.toml` in two stages: plain serde structs mirroring the file
//! (spans kept on what validation may reject), then the validated [`Registry`]. Every problem of
//! the file is reported at once, at `file:line:col`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{
    Endpoint, Protocol, PushSettings, Registry, SIM_PLACEHOLDER, SecretRef, Signer, Signing,
};
use crate::diag::{Diagnostic, display_path};
use crate::directory::Directory;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    push: Option<RawPush>,
    #[serde(default)]
    endpoint: Vec<RawEndpoint>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPush {
    air_by_s: Option<Spanned<f64>>,
    lead_time_s: Option<Spanned<f64>>,
    backoff_base_ms: Option<Spanned<f64>>,
    backoff_cap_s: Option<Spanned<f64>>,
    concurrency: Option<Spanned<i64>>,
    breaker_threshold: Option<Spanned<i64>>,
    breaker_cooldown_s: Option<Spanned<f64>>,
    connection_check_s: Option<Spanned<f64>>,
    state_wait_s: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    id: Spanned<String>,
    kind: Spanned<String>,
    url: Spanned<String>,
    ebrid: Option<Spanned<String>>,
    #[serde(default)]
    townships: Vec<Spanned<String>>,
    #[serde(default)]
    counties: Vec<Spanned<String>>,
    timeout_s: Option<Spanned<f64>>,
    concurrency: Option<Spanned<i64>>,
    enabled: Option<bool>,
    signer: Option<Spanned<String>>,
    key_file: Option<Spanned<String>>,
    peer_public_key: Option<Spanned<String>>,
    secret_env: Option<Spanned<String>>,
    secret_file: Option<Spanned<String>>,
    // Literal credentials: accepted by the parser only to be refused with a clear message.
    secret: Option<Spanned<toml::Value>>,
    password: Option<Spanned<toml::Value>>,
    token: Option<Spanned<toml::Value>>,
    api_key: Option<Spanned<toml::Value>>,
    private_key: Option<Spanned<toml::Value>>,
    key: Option<Spanned<toml::Value>>,
}

/// Load and validate the registry at `path` (shown relative to `root`).
pub fn load(
    root: &Path,
    path: &Path,
    directory: &Directory,
) -> Result<(Registry, Vec<Diagnostic>), Vec<Diagnostic>> {
    let shown = display_path(root, path);
    match std::fs::read_to_string(path) {
        Ok(src) => parse_str(&shown, &src, root, directory),
        Err(e) => Err(vec![Diagnostic::error(
            shown,
            format!("cannot read the endpoint registry: {e}"),
        )]),
    }
}

/// Parse registry text. `root` is the project root (key files must lie outside it).
pub fn parse_str(
    file: &Path,
    src: &str,
    root: &Path,
    directory: &Directory,
) -> Result<(Registry, Vec<Diagnostic>), Vec<Diagnostic>> {
    let raw: RawFile = toml::from_str(src).map_err(|e| {
        let d = Diagnostic::error(file, e.message().to_string());
        vec![match e.span() {
            Some(span) => d.at(src, span),
            None => d,
        }]
    })?;
    let mut cx = Cx {
        file,
        src,
        root,
        diags: Vec::new(),
    };
    let push = raw.push.map(|p| cx.push(p)).unwrap_or_default();
    let mut seen = BTreeSet::new();
    let mut endpoints = Vec::new();
    for e in raw.endpoint {
        if !seen.insert(e.id.get_ref().clone()) {
            cx.err(
                &e.id,
                format!("endpoint id `{}` is used twice", e.id.get_ref()),
            );
            continue;
        }
        if let Some(ep) = cx.endpoint(e, directory) {
            endpoints.push(ep);
        }
    }
    let registry = Registry { push, endpoints };
    cx.warn_unserved(&registry, directory);
    if cx.diags.iter().any(Diagnostic::is_error) {
        return Err(cx.diags);
    }
    Ok((registry, cx.diags))
}

struct Cx<'a> {
    file: &'a Path,
    src: &'a str,
    root: &'a Path,
    diags: Vec<Diagnostic>,
}

impl Cx<'_> {
    fn err<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        let d = Diagnostic::error(self.file, message).at(self.src, at.span());
        self.diags.push(d);
    }

    fn err_help<T>(
        &mut self,
        at: &Spanned<T>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = Diagnostic::error(self.file, message)
            .at(self.src, at.span())
            .with_help(help);
        self.diags.push(d);
    }

    fn secs(
        &mut self,
        v: Option<Spanned<f64>>,
        name: &str,
        max: f64,
        default: Duration,
    ) -> Duration {
        let Some(v) = v else { return default };
        let x = *v.get_ref();
        if !(x > 0.0 && x <= max) {
            self.err(
                &v,
                format!("`{name}` must be above 0 and at most {max}, not `{x}`"),
            );
            return default;
        }
        Duration::from_secs_f64(x)
    }

    fn count(&mut self, v: Option<Spanned<i64>>, name: &str, max: i64, default: u64) -> u64 {
        let Some(v) = v else { return default };
        let x = *v.get_ref();
        if !(1..=max).contains(&x) {
            self.err(
                &v,
                format!("`{name}` must be between 1 and {max}, not `{x}`"),
            );
            return default;
        }
        x as u64
    }

    fn push(&mut self, p: RawPush) -> PushSettings {
        let d = PushSettings::default();
        let ms = |v: Option<Spanned<f64>>| {
            v.map(|s| {
                let span = s.span();
                Spanned::new(span, *s.get_ref() / 1000.0)
            })
        };
        PushSettings {
            air_by: self.secs(p.air_by_s, "air_by_s", 86_400.0, d.air_by),
            lead_time: self.secs(p.lead_time_s, "lead_time_s", 86_400.0, d.lead_time),
            backoff_base: self.secs(
                ms(p.backoff_base_ms),
                "backoff_base_ms",
                3600.0,
                d.backoff_base,
            ),
            backoff_cap: self.secs(p.backoff_cap_s, "backoff_cap_s", 86_400.0, d.backoff_cap),
            concurrency: self.count(p.concurrency, "concurrency", 100_000, d.concurrency as u64)
                as usize,
            breaker_threshold: self.count(
                p.breaker_threshold,
                "breaker_threshold",
                1000,
                d.breaker_threshold.into(),
            ) as u32,
            breaker_cooldown: self.secs(
                p.breaker_cooldown_s,
                "breaker_cooldown_s",
                86_400.0,
                d.breaker_cooldown,
            ),
            connection_check: self.secs(
                p.connection_check_s,
                "connection_check_s",
                86_400.0,
                d.connection_check,
            ),
            state_wait: self.secs(p.state_wait_s, "state_wait_s", 86_400.0, d.state_wait),
        }
    }

    fn endpoint(&mut self, e: RawEndpoint, directory: &Directory) -> Option<Endpoint> {
        let before = self.diags.len();
        self.refuse_literal_secrets(&e);
        let id = e.id.get_ref().clone();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.err(
                &e.id,
                format!("endpoint id `{id}` must be letters, digits, `-` or `_`"),
            );
        }
        self.check_url(&e.url);
        let townships = self.serves(&e, directory);
        let timeout = self.secs(
            e.timeout_s.clone(),
            "timeout_s",
            600.0,
            Duration::from_secs(10),
        );
        let concurrency = self.count(e.concurrency.clone(), "concurrency", 10_000, 4) as usize;
        let protocol = match e.kind.get_ref().as_str() {
            "ebd" => self.ebd(&e),
            "webhook" => self.webhook(&e),
            other => {
                let help = crate::diag::did_you_mean(other, ["ebd", "webhook"])
                    .map_or("expected `ebd` or `webhook`".to_string(), |s| {
                        format!("did you mean `{s}`?")
                    });
                self.err_help(&e.kind, format!("unknown endpoint kind `{other}`"), help);
                None
            }
        };
        if self.diags[before..].iter().any(Diagnostic::is_error) {
            return None;
        }
        Some(Endpoint {
            id,
            url: e.url.into_inner(),
            protocol: protocol?,
            townships,
            timeout,
            concurrency,
            enabled: e.enabled.unwrap_or(true),
        })
    }

    fn refuse_literal_secrets(&mut self, e: &RawEndpoint) {
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

    fn check_url(&mut self, url: &Spanned<String>) {
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

    fn serves(&mut self, e: &RawEndpoint, directory: &Directory) -> Vec<String> {
        let mut codes = BTreeSet::new();
        for c in &e.counties {
            match directory.county(c.get_ref()) {
                Ok(county) => {
                    codes.extend(directory.townships_of(&county.code).map(|t| t.code.clone()))
                }
                Err(err) => self.lookup_err(c, &err),
            }
        }
        for t in &e.townships {
            match directory.township(t.get_ref()) {
                Ok(t) => {
                    codes.insert(t.code.clone());
                }
                Err(err) => self.lookup_err(t, &err),
            }
        }
        if codes.is_empty() && e.counties.is_empty() && e.townships.is_empty() {
            self.err_help(
                &e.id,
                format!("endpoint `{}` serves no township", e.id.get_ref()),
                "add `counties = [\"昭觉县\"]` or `townships = [\"513431100\"]`",
            );
        }
        codes.into_iter().collect()
    }

    fn lookup_err(&mut self, at: &Spanned<String>, err: &crate::directory::LookupError) {
        match err.suggestion() {
            Some(s) => self.err_help(at, err.to_string(), format!("did you mean `{s}`?")),
            None => self.err(at, err.to_string()),
        }
    }

    fn ebd(&mut self, e: &RawEndpoint) -> Option<Protocol> {
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

    fn webhook(&mut self, e: &RawEndpoint) -> Option<Protocol> {
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
    fn outside_root(&mut self, p: &Spanned<String>) -> Option<PathBuf> {
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

    fn warn_unserved(&mut self, registry: &Registry, directory: &Directory) {
        let unserved = registry.unserved(directory);
        if unserved.is_empty() || registry.endpoints.is_empty() {
            return;
        }
        let first: Vec<&str> = unserved.iter().take(5).copied().collect();
        let more = if unserved.len() > 5 { ", …" } else { "" };
        self.diags.push(Diagnostic::warning(
            self.file,
            format!("{} townships have no enabled endpoint ({}{more}); their broadcasts cannot be pushed", unserved.len(), first.join(", ")),
        ));
    }
}

/// A resource code: 23 digits (2018) or 18 (2017), level 1–6 first.
fn check_ebrid(value: &str) -> Result<(), String> {
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
