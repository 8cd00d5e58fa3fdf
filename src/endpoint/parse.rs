//! Parsing `schedules/endpoints.toml` in two stages: plain serde structs mirroring the file
//! (spans kept on what validation may reject), then the validated [`Registry`]. Every problem of
//! the file is reported at once, at `file:line:col`.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{Endpoint, PushSettings, Registry};
use crate::diag::{Diagnostic, display_path};
use crate::directory::Directory;

/// The shortest lease, in seconds (`lease_s`): see `Cx::lease_secs`.
const MIN_LEASE_S: f64 = 1.0;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    push: Option<RawPush>,
    #[serde(default)]
    endpoint: Vec<RawEndpoint>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPush {
    air_by_s: Option<Spanned<f64>>,
    lead_time_s: Option<Spanned<f64>>,
    backoff_base_ms: Option<Spanned<f64>>,
    backoff_cap_s: Option<Spanned<f64>>,
    concurrency: Option<Spanned<i64>>,
    breaker_threshold: Option<Spanned<i64>>,
    breaker_cooldown_s: Option<Spanned<f64>>,
    connection_check_s: Option<Spanned<f64>>,
    state_wait_s: Option<Spanned<f64>>,
    lease_s: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEndpoint {
    pub(super) id: Spanned<String>,
    pub(super) kind: Spanned<String>,
    pub(super) url: Spanned<String>,
    pub(super) ebrid: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) townships: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) counties: Vec<Spanned<String>>,
    pub(super) timeout_s: Option<Spanned<f64>>,
    pub(super) concurrency: Option<Spanned<i64>>,
    pub(super) enabled: Option<bool>,
    pub(super) signer: Option<Spanned<String>>,
    pub(super) key_file: Option<Spanned<String>>,
    pub(super) peer_public_key: Option<Spanned<String>>,
    pub(super) secret_env: Option<Spanned<String>>,
    pub(super) secret_file: Option<Spanned<String>>,
    // Literal credentials: accepted by the parser only to be refused with a clear message.
    pub(super) secret: Option<Spanned<toml::Value>>,
    pub(super) password: Option<Spanned<toml::Value>>,
    pub(super) token: Option<Spanned<toml::Value>>,
    pub(super) api_key: Option<Spanned<toml::Value>>,
    pub(super) private_key: Option<Spanned<toml::Value>>,
    pub(super) key: Option<Spanned<toml::Value>>,
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
            crate::t!("endpoint-unreadable", reason = e.to_string()),
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
            let msg = crate::t!("endpoint-id-twice", id = e.id.get_ref().as_str());
            cx.err(&e.id, msg);
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

pub(super) struct Cx<'a> {
    pub(super) file: &'a Path,
    pub(super) src: &'a str,
    pub(super) root: &'a Path,
    pub(super) diags: Vec<Diagnostic>,
}

impl Cx<'_> {
    pub(super) fn err<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        let d = Diagnostic::error(self.file, message).at(self.src, at.span());
        self.diags.push(d);
    }

    pub(super) fn err_help<T>(
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
            let msg = crate::t!("endpoint-secs-range", key = name, max = max, value = x);
            self.err(&v, msg);
            return default;
        }
        Duration::from_secs_f64(x)
    }

    /// `lease_s`: at least [`MIN_LEASE_S`], since a lease is renewed every third of its time
    /// and no more often than every 100 ms; a shorter one would run out between renewals and
    /// another instance would take deliveries still being sent.
    fn lease_secs(&mut self, v: Option<Spanned<f64>>, default: Duration) -> Duration {
        if let Some(v) = &v {
            let x = *v.get_ref();
            if x > 0.0 && x < MIN_LEASE_S {
                let msg = crate::t!("endpoint-lease-min", min = MIN_LEASE_S, value = x);
                self.err(v, msg);
                return default;
            }
        }
        self.secs(v, "lease_s", 3_600.0, default)
    }

    fn count(&mut self, v: Option<Spanned<i64>>, name: &str, max: i64, default: u64) -> u64 {
        let Some(v) = v else { return default };
        let x = *v.get_ref();
        if !(1..=max).contains(&x) {
            let msg = crate::t!("endpoint-count-range", key = name, max = max, value = x);
            self.err(&v, msg);
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
            lease: self.lease_secs(p.lease_s, d.lease),
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
            let msg = crate::t!("endpoint-id-invalid", id = id.as_str());
            self.err(&e.id, msg);
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
                    .map_or(crate::t!("endpoint-kind-expected"), |s| {
                        crate::t!("did-you-mean", name = s)
                    });
                let msg = crate::t!("endpoint-kind-unknown", kind = other);
                self.err_help(&e.kind, msg, help);
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
                crate::t!("endpoint-serves-nothing", id = e.id.get_ref().as_str()),
                crate::t!("endpoint-add-targets"),
            );
        }
        codes.into_iter().collect()
    }

    fn lookup_err(&mut self, at: &Spanned<String>, err: &crate::directory::LookupError) {
        match err.suggestion() {
            Some(s) => self.err_help(at, err.to_string(), crate::t!("did-you-mean", name = s)),
            None => self.err(at, err.to_string()),
        }
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
            crate::t!(
                "endpoint-unserved",
                count = unserved.len(),
                list = format!("{}{more}", first.join(", "))
            ),
        ));
    }
}
