//! The EBD transport: one signed tar package per delivery — one EBM: one airing of one clip in
//! one language with its own play window, naming the other half of its pair in `RelatedInfo` —
//! POSTed as `multipart/form-data` (part `file`, filename the tar's name,
//! `application/octet-stream`); the reply tar is read as untrusted input, its signature checked
//! when the platform's key is known, and `ResultCode` mapped. Also `EBMStateRequest` after the
//! play window and the `ConnectionCheck` heartbeat.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sm2::dsa::VerifyingKey;

use super::media::media_files;
use super::multipart::PackageForm;
use super::reply::{BadReply, Unverified};
use super::{Content, excerpt};
use crate::dispatch::{AttemptOutcome, RetryKind};
use crate::ebd::assemble::{
    BuildError, BuiltPackage, EbmSpec, MediaFile, broadcast_ebm, cancel_ebm, envelope,
};
use crate::ebd::package::{Limits, read_package};
use crate::ebd::sign::{parse_signature, verify};
use crate::ebd::{Body, ConnectionCheck, Ebd, EbdId, EbdProfile, EbmId, EbmStateRequest};
use crate::ebd::{EbmStateResponse, Ebrid, PackageBytes, Signer, build_package, parse_ebd};

/// The ids of one delivery, as stored in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    pub ebd_id: String,
    pub ebm_id: String,
    pub related_ebm_id: Option<String>,
}

/// Why an exchange with a platform did not produce a usable reply.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("http {status}: {body}")]
    Status { status: u16, body: String },
    #[error("{}", super::error_chain(.0))]
    Http(#[source] reqwest::Error),
    #[error("timed out")]
    Timeout(#[source] reqwest::Error),
    #[error("could not connect: {}", super::error_chain(.0))]
    Connect(#[source] reqwest::Error),
    #[error("reply: {0}")]
    Reply(#[from] BadReply),
    /// A reply whose signature did not verify against the platform's key.
    #[error("reply signature: {0}")]
    Unverified(#[from] Unverified),
    #[error("building the request: {0}")]
    Build(#[from] BuildError),
    #[error("media {0}")]
    Media(#[source] std::io::Error),
    #[error("no payload or recipe for delivery `{0}`")]
    NoRecipe(crate::ledger::DeliveryId),
    #[error("package `{ebd_id}` rebuilt as {rebuilt}, recorded {recorded}")]
    Rebuilt {
        ebd_id: String,
        rebuilt: String,
        recorded: String,
    },
    #[error("rebuilding the package: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// An endpoint that could not be set up (it is left out; its deliveries say why).
    #[error("url `{0}` still holds `{{sim}}`: run `shengbo demo`, or pass `--sim URL`")]
    SimPlaceholder(String),
    #[error(transparent)]
    Id(#[from] crate::ebd::IdError),
    #[error(transparent)]
    Key(#[from] crate::ebd::keys::KeyError),
    #[error(transparent)]
    Secret(#[from] crate::endpoint::SecretError),
}

impl ExchangeError {
    pub fn from_reqwest(e: reqwest::Error) -> ExchangeError {
        if e.is_timeout() {
            ExchangeError::Timeout(e)
        } else if e.is_connect() {
            ExchangeError::Connect(e)
        } else {
            ExchangeError::Http(e)
        }
    }

    /// The dispatcher's view: everything here is worth another try.
    pub fn to_outcome(&self) -> AttemptOutcome {
        if let ExchangeError::Unverified(_) = self {
            return AttemptOutcome::Unverified {
                detail: self.to_string(),
            };
        }
        let kind = match self {
            ExchangeError::Status { status, .. } => RetryKind::Http(*status),
            ExchangeError::Timeout(_) => RetryKind::Timeout,
            ExchangeError::Connect(_) => RetryKind::Connect,
            _ => RetryKind::Other,
        };
        AttemptOutcome::Retryable {
            kind,
            detail: self.to_string(),
        }
    }
}

/// One EBD platform, as configured.
#[derive(Debug, Clone)]
pub struct EbdClient {
    pub client: reqwest::Client,
    pub url: String,
    /// The platform's resource code (`DEST/EBRID`).
    pub dest: Ebrid,
    pub timeout: Duration,
    pub profile: Arc<EbdProfile>,
    pub signer: Option<Arc<dyn Signer>>,
    /// The platform's public key; replies are verified when it is known.
    pub peer_key: Option<VerifyingKey>,
}

impl EbdClient {
    fn signer(&self) -> Option<&dyn Signer> {
        self.signer.as_deref()
    }

    /// Whether its packages are signed (an SM2 signature each: building one is then more than
    /// the tens of microseconds an unsigned one takes).
    pub fn signs(&self) -> bool {
        self.signer.is_some()
    }

    /// The broadcast package of one delivery: the same bytes for the same ids and content.
    pub fn build_broadcast(
        &self,
        ids: &Ids,
        content: &Content,
        media: &[MediaFile],
    ) -> Result<BuiltPackage, BuildError> {
        let p = &self.profile;
        let fmt = p.id_format;
        let bad = |e: crate::ebd::IdError| {
            BuildError::Profile(crate::ebd::profile::ProfileError::SenderEbrid(e))
        };
        let ebd_id = EbdId::parse(&ids.ebd_id, fmt).map_err(bad)?;
        let spec = EbmSpec {
            id: EbmId::parse(&ids.ebm_id, fmt).map_err(bad)?,
            related: match &ids.related_ebm_id {
                Some(r) => Some(EbmId::parse(r, fmt).map_err(bad)?),
                None => None,
            },
            lang: content.lang,
            title: content.title.clone(),
            desc: content.description.clone(),
            area_codes: content.area_codes(),
            send_time: content.send_time,
            start_time: content.window_start,
            end_time: content.window_end,
        };
        let ebm = broadcast_ebm(p, &spec, media)?;
        let ebd = envelope(
            p,
            ebd_id,
            Some(self.dest.clone()),
            None,
            content.send_time,
            Body::Ebm(ebm),
        )?;
        build_package(&ebd, media, p, self.signer())
    }

    /// The cancel (MsgType 2, the same `EBMID`) of a delivered message, as package `ebd_id`,
    /// stamped `now` (the real clock).
    pub fn build_cancel(
        &self,
        ebd_id: &str,
        cancelled: &crate::ledger::Delivery,
        now: DateTime<Utc>,
    ) -> Result<BuiltPackage, BuildError> {
        let p = &self.profile;
        let bad = |e: crate::ebd::IdError| {
            BuildError::Profile(crate::ebd::profile::ProfileError::SenderEbrid(e))
        };
        let spec = EbmSpec {
            id: EbmId::parse(&cancelled.plan.ebm_id, p.id_format).map_err(bad)?,
            related: None,
            lang: cancelled.plan.lang,
            title: format!("取消 {}", cancelled.plan.message),
            desc: None,
            area_codes: cancelled
                .plan
                .townships
                .iter()
                .map(|t| super::area_code(t))
                .collect(),
            send_time: now,
            start_time: cancelled.plan.window_start,
            end_time: cancelled.plan.window_end,
        };
        let ebm = cancel_ebm(p, &broadcast_ebm(p, &spec, &[])?, now);
        let id = EbdId::parse(ebd_id, p.id_format).map_err(bad)?;
        let ebd = envelope(p, id, Some(self.dest.clone()), None, now, Body::Ebm(ebm))?;
        build_package(&ebd, &[], p, self.signer())
    }

    /// POST a package and read the reply's EBD.
    #[tracing::instrument(skip_all, fields(url = %self.url, package = name))]
    pub async fn exchange(
        &self,
        name: &str,
        package: &PackageBytes,
    ) -> Result<(Ebd, String), ExchangeError> {
        let form = PackageForm::new(name, package);
        let resp = self
            .client
            .post(&self.url)
            .timeout(self.timeout)
            .header(reqwest::header::CONTENT_TYPE, form.content_type)
            .body(reqwest::Body::wrap(form.body))
            .send()
            .await
            .map_err(ExchangeError::from_reqwest)?;
        let status = resp.status().as_u16();
        let body = super::reply::read_capped(resp, super::reply::MAX_REPLY_BYTES)
            .await
            .map_err(ExchangeError::from_reqwest)?;
        if status != 200 {
            return Err(ExchangeError::Status {
                status,
                body: excerpt(&body.bytes),
            });
        }
        if body.truncated {
            return Err(BadReply::TooLarge {
                max: super::reply::MAX_REPLY_BYTES,
            }
            .into());
        }
        self.read_reply(&body.bytes)
    }

    /// Read a reply tar: safe unpacking, the EBD, and its signature when the key is known.
    pub fn read_reply(&self, body: &[u8]) -> Result<(Ebd, String), ExchangeError> {
        let raw = read_package(body, &Limits::default()).map_err(BadReply::Package)?;
        if let Some(key) = &self.peer_key {
            let text = std::str::from_utf8(&raw.ebds).map_err(Unverified::NotUtf8)?;
            let sig = parse_signature(text).map_err(Unverified::Signature)?;
            verify(&raw.ebdb, &sig, key, self.profile.sign_time_in_data)
                .map_err(Unverified::Signature)?;
        }
        let xml = std::str::from_utf8(&raw.ebdb).map_err(BadReply::NotUtf8)?;
        let ebd = parse_ebd(xml, self.profile.id_format).map_err(BadReply::Xml)?;
        Ok((ebd, xml.to_string()))
    }

    /// Send a broadcast package (one attempt) and map its `EBDResponse`.
    pub async fn send_broadcast(&self, ebd_id: &str, package: &PackageBytes) -> AttemptOutcome {
        let name = crate::ebd::package::package_name(ebd_id);
        match self.exchange(&name, package).await {
            Ok((reply, _)) => outcome_of(&reply),
            Err(e) => e.to_outcome(),
        }
    }

    /// A package from us with a fresh id around `body`.
    fn control_package(
        &self,
        ebd_id: EbdId,
        now: DateTime<Utc>,
        body: Body,
    ) -> Result<BuiltPackage, BuildError> {
        let ebd = envelope(
            &self.profile,
            ebd_id,
            Some(self.dest.clone()),
            None,
            now,
            body,
        )?;
        build_package(&ebd, &[], &self.profile, self.signer())
    }

    /// Ask the play state of one message; `ebd_id` is a fresh package id.
    pub async fn state_request(
        &self,
        ebd_id: EbdId,
        ebm_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(EbmStateResponse, String), ExchangeError> {
        let ebm_id = EbmId::parse(ebm_id, self.profile.id_format)?;
        let pkg = self.control_package(
            ebd_id,
            now,
            Body::EbmStateRequest(EbmStateRequest { ebm_id }),
        )?;
        let (reply, raw) = self.exchange(&pkg.name, &pkg.bytes).await?;
        match reply.body {
            Body::EbmStateResponse(r) => Ok((r, raw)),
            Body::EbdResponse(r) => Err(BadReply::Refused {
                code: r.result_code,
                desc: r.result_desc,
            }
            .into()),
            other => Err(BadReply::Unexpected(other.kind()).into()),
        }
    }

    /// The heartbeat: `ConnectionCheck`, expecting `EBDResponse` 1.
    pub async fn connection_check(&self, now: DateTime<Utc>) -> Result<(), ExchangeError> {
        let sender = self.profile.sender().map_err(BuildError::from)?;
        let id = EbdId::heartbeat(&sender);
        let pkg = self.control_package(
            id,
            now,
            Body::ConnectionCheck(ConnectionCheck { rpt_time: now }),
        )?;
        let (reply, _) = self.exchange(&pkg.name, &pkg.bytes).await?;
        match outcome_of(&reply) {
            AttemptOutcome::Delivered | AttemptOutcome::Accepted => Ok(()),
            other => Err(BadReply::Heartbeat(other).into()),
        }
    }
}

/// What a package is built from: its recorded ids and its content. Kept instead of the bytes
/// (about 1 MB each with the audio) and built again, identically, for every attempt.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub ids: Ids,
    pub content: Arc<Content>,
}

impl EbdClient {
    /// Build a package from its recipe (blocking: may read the clips) and check it is the one
    /// whose digest the ledger recorded.
    pub fn rebuild(&self, recipe: &Recipe, digest: &str) -> Result<PackageBytes, ExchangeError> {
        let media = media_files(&recipe.content).map_err(ExchangeError::Media)?;
        self.rebuild_with(recipe, digest, &media)
    }

    /// [`EbdClient::rebuild`] with its clips at hand (CPU only, unless it signs: see
    /// [`EbdClient::signs`]).
    pub fn rebuild_with(
        &self,
        recipe: &Recipe,
        digest: &str,
        media: &[MediaFile],
    ) -> Result<PackageBytes, ExchangeError> {
        let built = self.build_broadcast(&recipe.ids, &recipe.content, media)?;
        if !built.bytes.matches(digest) {
            return Err(ExchangeError::Rebuilt {
                ebd_id: recipe.ids.ebd_id.clone(),
                rebuilt: built.bytes.fingerprint(),
                recorded: digest.to_string(),
            });
        }
        Ok(built.bytes)
    }
}

/// Map a reply EBD to the dispatcher's outcome: ResultCode 1 delivered, 0 accepted, 2–5
/// rejected; anything else is an unreadable reply, worth a retry.
pub fn outcome_of(reply: &Ebd) -> AttemptOutcome {
    match &reply.body {
        Body::EbdResponse(r) => {
            match crate::ebd::outcome::delivery_of(r.result_code, &r.result_desc) {
                crate::ebd::outcome::Delivery::Delivered => AttemptOutcome::Delivered,
                crate::ebd::outcome::Delivery::Accepted => AttemptOutcome::Accepted,
                crate::ebd::outcome::Delivery::Rejected { code, desc } => {
                    AttemptOutcome::Rejected {
                        code,
                        // The code is said once, by whoever records it.
                        reason: desc,
                    }
                }
            }
        }
        other => AttemptOutcome::Retryable {
            kind: RetryKind::Other,
            detail: format!("reply is `{}`, expected `EBDResponse`", other.kind()),
        },
    }
}
