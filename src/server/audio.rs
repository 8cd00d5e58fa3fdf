//! `GET /v1/audio/{sha256}.{ext}`: content-addressed clips — what airs, the loudness-adjusted
//! WAVs of the catalog's airable recordings ([`super::airing`]). The id is looked up in the
//! snapshot's in-memory index; request input is never joined into a
//! path, so nothing else on disk can be reached. Conditional and range requests follow RFC 9110
//! ([`super::conditional`]); a strong ETag (the sha256 itself), and `private, immutable` caching:
//! the bytes of an id never change, but only token holders may see them.

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::auth::{Principal, Scope};
use super::conditional::{Part, Precondition, part, precondition, unsatisfiable};
use super::error::AppError;
use super::signed::SignedUrlError;
use super::state::{AppState, AudioFile, Snapshot};

/// Token-gated, so never for shared caches; the bytes of an id never change.
const IMMUTABLE: &str = "private, max-age=31536000, immutable";

/// Split `{sha256}.{ext}`, refusing anything that is not 64 lowercase hex digits and a short
/// alphanumeric extension.
fn parse_name(file: &str) -> Result<(&str, &str), AppError> {
    let bad = || {
        AppError::BadRequest(crate::t!(
            "http-malformed-audio",
            file = file.escape_debug().to_string()
        ))
    };
    let (sha, ext) = file.split_once('.').ok_or_else(bad)?;
    let hex_ok = sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let ext_ok =
        !ext.is_empty() && ext.len() <= 5 && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    if hex_ok && ext_ok {
        Ok((sha, ext))
    } else {
        Err(bad())
    }
}

/// Whether a station's county airs this recording in any of its townships.
fn station_may_hear(snapshot: &Snapshot, county: &str, sha: &str) -> bool {
    snapshot
        .broadcasts()
        .iter()
        .filter(|b| b.county_code == county)
        .any(|b| b.items.iter().any(|i| i.sha256 == sha))
}

/// A signed link's query (`?exp=&sig=`); `token` may sit beside them.
#[derive(Debug, Deserialize)]
pub struct SignedQuery {
    exp: Option<String>,
    sig: Option<String>,
    #[allow(dead_code)]
    token: Option<String>,
}

/// Who may fetch: a signed link for this very clip, else a token.
fn caller(
    state: &AppState,
    file: &str,
    query: &SignedQuery,
    principal: Result<Principal, AppError>,
) -> Result<Principal, AppError> {
    let (exp, sig) = match (&query.exp, &query.sig) {
        (None, None) => return principal,
        (Some(exp), Some(sig)) => (exp, sig),
        _ => {
            return Err(AppError::BadRequest(crate::t!("http-signed-link-half")));
        }
    };
    let signer = state
        .url_signer()
        .ok_or_else(|| AppError::Forbidden(crate::t!("http-no-signed-links")))?;
    signer
        .verify(file, exp, sig, chrono::Utc::now())
        .map_err(|e| match e {
            SignedUrlError::BadExp(_) => AppError::BadRequest(e.to_string()),
            _ => AppError::Forbidden(e.to_string()),
        })?;
    Ok(Principal {
        name: "signed link".to_string(),
        scope: Scope::Coordinator,
    })
}

pub async fn serve(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<SignedQuery>,
    principal: Result<Principal, AppError>,
    req: Request,
) -> Result<Response, AppError> {
    let (sha, ext) = parse_name(&file)?;
    let principal = caller(&state, &file, &query, principal)?;
    let snapshot = state.snapshot();
    let not_found = || AppError::NotFound {
        message: crate::t!("http-no-recording", file = file.as_str()),
        suggestion: None,
    };
    let audio = snapshot
        .audio(sha)
        .filter(|a| a.ext == ext)
        .ok_or_else(not_found)?;
    if let Scope::Station { county } = &principal.scope
        && !station_may_hear(&snapshot, county, sha)
    {
        return Err(AppError::Forbidden(crate::t!(
            "http-recording-elsewhere",
            file = file.as_str(),
            county = county.as_str()
        )));
    }
    send(audio, req).await
}

/// Answer from the file, with the conditional and range rules of [`super::conditional`]: 412,
/// 304, 416, 206 or 200, with our validators in place of the file service's own.
async fn send(audio: &AudioFile, req: Request) -> Result<Response, AppError> {
    let etag = format!("\"{}\"", audio.sha256);
    let early = match precondition(req.headers(), etag.as_bytes()) {
        Precondition::Failed => Some(StatusCode::PRECONDITION_FAILED.into_response()),
        Precondition::NotModified => Some(StatusCode::NOT_MODIFIED.into_response()),
        Precondition::Proceed => match part(req.headers(), etag.as_bytes(), audio.size) {
            Part::Unsatisfiable => Some(unsatisfiable(audio.size).into_response()),
            Part::Whole | Part::Range(..) => None,
        },
    };
    if let Some(mut resp) = early {
        finish(&mut resp, audio, &etag);
        return Ok(resp);
    }
    let wanted = part(req.headers(), etag.as_bytes(), audio.size);
    let (mut parts, _) = req.into_parts();
    for h in [
        header::RANGE,
        header::IF_RANGE,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
        header::IF_MATCH,
        header::IF_UNMODIFIED_SINCE,
    ] {
        parts.headers.remove(h);
    }
    if let Part::Range(first, last) = wanted {
        let range = HeaderValue::from_str(&format!("bytes={first}-{last}")).expect("digits");
        parts.headers.insert(header::RANGE, range);
    }
    let req = Request::from_parts(parts, Body::empty());
    let resp = ServeFile::new(&audio.path)
        .oneshot(req)
        .await
        .map_err(AppError::internal)?;
    if resp.status() == StatusCode::NOT_FOUND {
        return Err(AppError::internal(format!(
            "catalogued recording `{}` is missing on disk",
            audio.path.display()
        )));
    }
    let mut resp = resp.map(Body::new);
    finish(&mut resp, audio, &etag);
    Ok(resp)
}

fn finish(resp: &mut Response, audio: &AudioFile, etag: &str) {
    let h = resp.headers_mut();
    h.insert(header::ETAG, HeaderValue::from_str(etag).expect("hex etag"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(audio.content_type),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.remove(header::LAST_MODIFIED);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sha_and_short_extension_pass() {
        let sha = "a".repeat(64);
        assert_eq!(
            parse_name(&format!("{sha}.mp3")).unwrap(),
            (sha.as_str(), "mp3")
        );
        for bad in [
            "../../etc/passwd".to_string(),
            format!("{sha}.mp3/.."),
            format!("{}.mp3", "A".repeat(64)),
            sha.clone(),
            format!("{sha}.m p3"),
            format!("{sha}..mp3"),
            "%2e%2e%2fetc.mp3".to_string(),
        ] {
            assert_eq!(
                parse_name(&bad).unwrap_err().status(),
                StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
    }
}
