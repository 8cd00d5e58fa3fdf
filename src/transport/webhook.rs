//! The webhook transport: one JSON POST of a delivery's playlist (clip URLs, sha256, sizes,
//! durations, order, play window) with an `Idempotency-Key` header and
//! `X-Shengbo-Signature: sha256=<hex HMAC-SHA256 of the body>`.
//!
//! Like an EBM, one body is one segment of the programme (one airing of one clip, its window,
//! and the other half of its pair in `related_message_id`), so a station airs the segments in
//! window order and a pair is confirmed half by half, as on the EBD side.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::{Content, excerpt};
use crate::dispatch::{AttemptOutcome, RetryKind};

/// The header carrying the body's HMAC.
pub const SIGNATURE_HEADER: &str = "X-Shengbo-Signature";
/// The header carrying the delivery's stable id.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

#[derive(Debug, Serialize)]
struct Body<'a> {
    /// The delivery's package id: the same on every retry.
    id: &'a str,
    message_id: &'a str,
    related_message_id: Option<&'a str>,
    campaign: &'a str,
    lang: &'a str,
    title: &'a str,
    townships: Vec<&'a str>,
    /// The 12-digit codes of the villages, when townships are targeted in part.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    villages: Vec<&'a str>,
    area_codes: Vec<String>,
    window: Window,
    items: Vec<Item<'a>>,
}

#[derive(Debug, Serialize)]
struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
struct Item<'a> {
    order: usize,
    message: &'a str,
    url: String,
    sha256: &'a str,
    size_bytes: u64,
    duration_s: f64,
    gap_after_s: f64,
}

/// Where the clips named in webhook bodies are fetched: `<base>/<sha256>.wav`, with a signed
/// `?exp=&sig=` (good until a day after the broadcast window) when a signer is set, so a
/// gateway needs no token.
#[derive(Debug, Clone)]
pub struct ClipLinks {
    pub base: String,
    pub signer: Option<crate::server::signed::UrlSigner>,
}

impl From<&str> for ClipLinks {
    fn from(base: &str) -> ClipLinks {
        ClipLinks {
            base: base.to_string(),
            signer: None,
        }
    }
}

impl ClipLinks {
    fn url(&self, sha256: &str, window_end: chrono::DateTime<chrono::Utc>) -> String {
        let file = format!("{sha256}.wav");
        let query = self.signer.as_ref().map_or(String::new(), |s| {
            s.query(&file, window_end + chrono::Duration::days(1))
        });
        format!("{}/{file}{query}", self.base.trim_end_matches('/'))
    }
}

/// The JSON body for a delivery; `clips` says where the loudness-adjusted clips are fetched
/// (content-addressed). Same inputs, same bytes.
pub fn body(ids: &super::ebd::Ids, content: &Content, clips: &ClipLinks) -> Vec<u8> {
    let items = content
        .media
        .iter()
        .enumerate()
        .map(|(i, m)| Item {
            order: i + 1,
            message: &m.message,
            url: clips.url(&m.sha256, content.window_end),
            sha256: &m.sha256,
            size_bytes: m.size_bytes,
            duration_s: m.duration_s,
            gap_after_s: m.gap_after_s,
        })
        .collect();
    let body = Body {
        id: &ids.ebd_id,
        message_id: &ids.ebm_id,
        related_message_id: ids.related_ebm_id.as_deref(),
        campaign: &content.campaign,
        lang: content.lang.code(),
        title: &content.title,
        townships: content.township_codes(),
        villages: content.villages(),
        area_codes: content.area_codes(),
        window: Window {
            start: content.window_start,
            end: content.window_end,
        },
        items,
    };
    serde_json::to_vec(&body).expect("plain values serialise")
}

#[derive(Debug, Serialize)]
struct CancelBody<'a> {
    /// The cancel's own id (its `Idempotency-Key`): the same on every retry.
    id: &'a str,
    /// Always `"cancel"`: stop the delivery `message_id` and do not play it.
    action: &'static str,
    message_id: &'a str,
    reason: &'a str,
}

/// The JSON body cancelling delivery `message_id` (its earlier body's `message_id`), sent like
/// any delivery (same signature header, `Idempotency-Key` = `id`). Same inputs, same bytes.
pub fn cancel_body(id: &str, message_id: &str, reason: &str) -> Vec<u8> {
    let body = CancelBody {
        id,
        action: "cancel",
        message_id,
        reason,
    };
    serde_json::to_vec(&body).expect("plain values serialise")
}

/// `sha256=<hex HMAC-SHA256 of body>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is the right signature of `body` (constant-time).
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac takes any key length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// Map a webhook's HTTP status: 2xx delivered (202 accepted), client errors other than
/// 408/429 are final refusals, everything else is retried.
pub fn classify(status: u16, body: String) -> AttemptOutcome {
    match status {
        202 => AttemptOutcome::Accepted,
        200..=299 => AttemptOutcome::Delivered,
        408 | 429 => AttemptOutcome::Retryable {
            kind: RetryKind::Http(status),
            detail: body,
        },
        400..=499 => AttemptOutcome::Rejected {
            // ResultCode 5, "other error": the receiver refused this body for good.
            code: 5,
            reason: format!("http {status}: {body}"),
        },
        _ => AttemptOutcome::Retryable {
            kind: RetryKind::Http(status),
            detail: body,
        },
    }
}

/// The webhook transport for one endpoint.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub client: reqwest::Client,
    pub url: String,
    pub secret: Vec<u8>,
    pub timeout: Duration,
}

impl Webhook {
    /// One attempt: POST the prepared body with its idempotency key and signature.
    #[tracing::instrument(skip_all, fields(key = %idempotency_key, url = %self.url))]
    pub async fn send(&self, idempotency_key: &str, body: Vec<u8>) -> AttemptOutcome {
        let sig = signature(&self.secret, &body);
        let sent = self
            .client
            .post(&self.url)
            .timeout(self.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, idempotency_key)
            .header(SIGNATURE_HEADER, sig)
            .body(body)
            .send()
            .await;
        let err = |e: reqwest::Error| super::ebd::ExchangeError::from_reqwest(e).to_outcome();
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return err(e),
        };
        let status = resp.status().as_u16();
        // Only an excerpt is kept: read no more than it needs.
        match super::reply::read_capped(resp, 4096).await {
            Ok(b) => classify(status, excerpt(&b.bytes)),
            Err(e) => err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_verifies_and_detects_tampering() {
        let sig = signature(b"k", b"{\"a\":1}");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert!(verify(b"k", b"{\"a\":1}", &sig));
        assert!(!verify(b"k", b"{\"a\":2}", &sig));
        assert!(!verify(b"other", b"{\"a\":1}", &sig));
        assert!(!verify(b"k", b"{\"a\":1}", "md5=00"));
    }

    #[test]
    fn known_hmac_vector() {
        // RFC 4231 test case 2.
        let sig = signature(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn statuses_map_to_retry_or_final() {
        assert_eq!(classify(200, String::new()), AttemptOutcome::Delivered);
        assert_eq!(classify(202, String::new()), AttemptOutcome::Accepted);
        assert!(
            matches!(classify(422, "bad".into()), AttemptOutcome::Rejected { code: 5, reason } if reason.contains("422"))
        );
        let retry = |s| matches!(classify(s, String::new()), AttemptOutcome::Retryable { kind: RetryKind::Http(x), .. } if x == s);
        assert!(retry(429) && retry(503) && retry(500));
    }
}
