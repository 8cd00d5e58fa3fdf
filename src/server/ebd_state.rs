//! `POST /v1/ebd/state`: platforms' unsolicited `EBMStateResponse` packages, sent as the EBD
//! profile sends everything (multipart, the first file part ending in `.tar`). Each package is
//! checked by [`crate::ebd::validate_package`] (tar layout, signature when a peer key is
//! configured, XML), fed to the ledger, and answered with an `EBDResponse` package.
//!
//! Off (503) unless the host configures [`EbdInbound`] and writable records: a read-only mirror
//! (`serve --no-schedule`) records nothing.

use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::error::AppError;
use super::state::AppState;
use crate::ebd::assemble::reply_package;
use crate::ebd::{
    Body, Ebd, EbdId, EbdProfile, EbdResponse, InboundConfig, PackageBytes, ResultCode,
    SequenceStore, Signer, validate_package,
};

/// How inbound packages are checked and answered.
#[derive(Clone)]
pub struct EbdInbound {
    /// Checks, including the peer's public key when signatures are verified.
    pub config: InboundConfig,
    /// Our side of the reply: sender EBRID, signature shape, id format.
    pub profile: EbdProfile,
    pub signer: Option<Arc<dyn Signer>>,
    /// Counters for reply EBDIDs.
    pub seq: Arc<dyn SequenceStore>,
}

impl std::fmt::Debug for EbdInbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EbdInbound")
            .field("sender", &self.profile.sender_ebrid)
            .field(
                "verifies_signatures",
                &(self.config.peer_key.is_some() || !self.config.senders.is_empty()),
            )
            .field("signs", &self.signer.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a multipart body carried no package.
#[derive(Debug, thiserror::Error)]
pub enum TarPartError {
    #[error("{}", crate::t!("http-multipart", reason = .0.body_text()))]
    Body(#[from] axum::extract::multipart::MultipartError),
    #[error("{}", crate::t!("http-no-tar-part"))]
    Missing,
}

/// The first `.tar` file part of a multipart body, as the EBD profile sends packages.
/// Kept in the pieces it arrived in: a package of a megabyte is read in place, not gathered
/// into one buffer first.
pub async fn tar_part(mut multipart: Multipart) -> Result<PackageBytes, TarPartError> {
    while let Some(mut field) = multipart.next_field().await? {
        if field
            .file_name()
            .is_some_and(|n| n.to_ascii_lowercase().ends_with(".tar"))
        {
            let mut pieces = Vec::new();
            while let Some(piece) = field.chunk().await? {
                pieces.push(piece);
            }
            return Ok(PackageBytes::received(pieces));
        }
    }
    Err(TarPartError::Missing)
}

/// An `EBDResponse` package answering `request` (when it could be parsed).
fn reply(
    inbound: &EbdInbound,
    code: ResultCode,
    desc: &str,
    request: Option<&Ebd>,
    request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Response, AppError> {
    let related = request_id.and_then(|r| EbdId::parse(r, inbound.profile.id_format).ok());
    let body = Body::EbdResponse(EbdResponse {
        result_code: code.code(),
        result_desc: desc.to_string(),
    });
    let dest = request.map(|e| e.src.ebrid.clone());
    let built = reply_package(
        &inbound.profile,
        &*inbound.seq,
        inbound.signer.as_deref(),
        (dest, related),
        now,
        body,
    )
    .map_err(AppError::internal)?;
    let disposition = format!("attachment; filename=\"{}\"", built.name);
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        built.bytes.to_vec(),
    )
        .into_response())
}

pub async fn receive(
    State(state): State<AppState>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (Some(inbound), Some(records)) = (state.ebd_inbound(), state.records()) else {
        return Err(AppError::Unavailable(crate::t!("http-no-state-reports")));
    };
    let bytes = tar_part(multipart).await.map_err(AppError::bad_request)?;
    let verdict = validate_package(bytes.reader(), &inbound.config);
    let Some(package) = verdict.package.filter(|_| verdict.code == ResultCode::Ok) else {
        return reply(
            &inbound,
            verdict.code,
            &verdict.desc,
            None,
            verdict.ebdid.as_deref(),
            state.now(),
        );
    };
    let ebd = package.ebd;
    let request_id = ebd.id.as_str().to_string();
    let (code, desc) = match &ebd.body {
        Body::EbmStateResponse(s) => {
            let raw = String::from_utf8_lossy(&package.raw.ebdb).into_owned();
            let report = crate::push::state::report_of(s, raw);
            let ebm = report.ebm_id.clone();
            let found = tokio::task::spawn_blocking(move || records.record_state_report(&report))
                .await
                .map_err(AppError::internal)?
                .map_err(AppError::internal)?;
            tracing::info!(ebmid = %ebm, delivery = ?found, state = s.brd_state_code, "state report recorded");
            (ResultCode::Ok, ResultCode::Ok.desc_zh().to_string())
        }
        Body::ConnectionCheck(_) => (ResultCode::Ok, ResultCode::Ok.desc_zh().to_string()),
        other => (
            ResultCode::Other,
            format!(
                "`{}` is not taken here; send EBMStateResponse",
                other.kind()
            ),
        ),
    };
    reply(
        &inbound,
        code,
        &desc,
        Some(&ebd),
        Some(&request_id),
        state.now(),
    )
}
