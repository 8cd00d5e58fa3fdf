//! Platform replies read with a size cap: a reply body is read chunk by chunk and never beyond
//! [`MAX_REPLY_BYTES`], however large (or endless) the platform's answer, so a broken or hostile
//! endpoint cannot make the pusher hold more than that per attempt.

/// The most of a reply body ever read: 1 MiB. A platform's reply package (an `EBDResponse` and
/// its signature) is a few kilobytes; a webhook reply is only quoted in the ledger.
pub const MAX_REPLY_BYTES: usize = 1 << 20;

/// Why a platform's reply could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BadReply {
    #[error("the reply is larger than {max} bytes; not read further")]
    TooLarge { max: usize },
    #[error("{0}")]
    Package(#[source] crate::ebd::package::PackageError),
    #[error("EBDB is not UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
    #[error("{0}")]
    Xml(#[source] crate::ebd::XmlError),
    #[error("state request answered with ResultCode {code}: {desc}")]
    Refused { code: u8, desc: String },
    #[error("unexpected `{0}` reply")]
    Unexpected(&'static str),
    #[error("heartbeat refused: {0:?}")]
    Heartbeat(crate::dispatch::AttemptOutcome),
}

/// Why a reply's signature did not verify against the platform's key.
#[derive(Debug, thiserror::Error)]
pub enum Unverified {
    #[error("signature file is not UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
    #[error("{0}")]
    Signature(#[source] crate::ebd::sign::SignError),
}

/// A reply body, read up to a cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capped {
    /// At most the cap's bytes.
    pub bytes: Vec<u8>,
    /// Whether the reply went on beyond them (the rest was not read).
    pub truncated: bool,
}

/// Read at most `cap` bytes of `resp`'s body; a declared `Content-Length` over the cap is
/// known to be truncated before anything is read.
pub async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> Result<Capped, reqwest::Error> {
    let declared = resp.content_length().unwrap_or(0);
    let mut bytes = Vec::with_capacity(declared.min(cap as u64) as usize);
    while let Some(chunk) = resp.chunk().await? {
        let room = cap - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok(Capped {
                bytes,
                truncated: true,
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Capped {
        truncated: declared > cap as u64,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, Bytes};
    use axum::routing::any;

    /// A loopback server answering `/endless` with a body that never ends and `/small` with 5
    /// bytes.
    async fn server() -> std::net::SocketAddr {
        let app = axum::Router::new()
            .route(
                "/endless",
                any(|| async {
                    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
                    Body::from_stream(futures_util::stream::repeat_with(move || {
                        Ok::<_, std::io::Error>(chunk.clone())
                    }))
                }),
            )
            .route("/small", any(|| async { "hello" }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    #[tokio::test]
    async fn an_endless_reply_is_read_only_up_to_the_cap() {
        let addr = server().await;
        let client = crate::transport::http_client().unwrap();
        let resp = client
            .get(format!("http://{addr}/endless"))
            .send()
            .await
            .unwrap();
        let got = read_capped(resp, MAX_REPLY_BYTES).await.unwrap();
        assert!(got.truncated);
        assert_eq!(got.bytes.len(), MAX_REPLY_BYTES);
        let resp = client
            .get(format!("http://{addr}/small"))
            .send()
            .await
            .unwrap();
        let got = read_capped(resp, 4).await.unwrap();
        assert_eq!((got.bytes.as_slice(), got.truncated), (&b"hell"[..], true));
        let resp = client
            .get(format!("http://{addr}/small"))
            .send()
            .await
            .unwrap();
        let got = read_capped(resp, MAX_REPLY_BYTES).await.unwrap();
        assert_eq!(
            (got.bytes.as_slice(), got.truncated),
            (&b"hello"[..], false)
        );
    }

    #[tokio::test]
    async fn a_webhook_with_an_endless_reply_is_still_delivered() {
        let addr = server().await;
        let hook = crate::transport::webhook::Webhook {
            client: crate::transport::http_client().unwrap(),
            url: format!("http://{addr}/endless"),
            secret: b"k".to_vec(),
            timeout: std::time::Duration::from_secs(30),
        };
        let outcome = hook.send("key", b"{}".to_vec()).await;
        assert_eq!(outcome, crate::dispatch::AttemptOutcome::Delivered);
    }

    /// A platform client for `url` with the default profile, no keys.
    fn platform(url: String) -> crate::transport::ebd::EbdClient {
        let profile = crate::ebd::EbdProfile::default();
        crate::transport::ebd::EbdClient {
            client: crate::transport::http_client().unwrap(),
            url,
            dest: crate::ebd::Ebrid::parse("45134310000000103010101", profile.id_format).unwrap(),
            timeout: std::time::Duration::from_secs(30),
            profile: std::sync::Arc::new(profile),
            signer: None,
            peer_key: None,
        }
    }

    #[tokio::test]
    async fn exchange_errors_keep_their_sources() {
        use crate::transport::ebd::ExchangeError;
        use std::error::Error as _;
        let addr = server().await;
        let pkg = crate::ebd::PackageBytes::default();
        let c = platform(format!("http://{addr}/small"));
        let err = c.exchange("p.tar", &pkg).await.unwrap_err();
        let ExchangeError::Reply(BadReply::Package(inner)) = &err else {
            panic!("{err:?}");
        };
        assert!(
            err.source()
                .is_some_and(|s| s.to_string() == inner.to_string())
        );
        let err = platform(format!("http://{addr}/endless"))
            .exchange("p.tar", &pkg)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ExchangeError::Reply(BadReply::TooLarge {
                    max: MAX_REPLY_BYTES
                })
            ),
            "{err:?}"
        );
        // A port nobody listens on: the reqwest error is kept, its causes in the detail.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", closed.local_addr().unwrap());
        drop(closed);
        let err = platform(url).exchange("p.tar", &pkg).await.unwrap_err();
        let ExchangeError::Connect(source) = &err else {
            panic!("{err:?}");
        };
        assert!(source.is_connect());
        let crate::dispatch::AttemptOutcome::Retryable { detail, .. } = err.to_outcome() else {
            panic!("{err:?}");
        };
        assert!(detail.starts_with("could not connect: "), "{detail}");
        assert!(detail.to_lowercase().contains("refused"), "{detail}");
    }
}
