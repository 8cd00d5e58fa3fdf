//! Platform replies read with a size cap: a reply body is read chunk by chunk and never beyond
//! [`MAX_REPLY_BYTES`], however large (or endless) the platform's answer, so a broken or hostile
//! endpoint cannot make the pusher hold more than that per attempt.

/// The most of a reply body ever read: 1 MiB. A platform's reply package (an `EBDResponse` and
/// its signature) is a few kilobytes; a webhook reply is only quoted in the ledger.
pub const MAX_REPLY_BYTES: usize = 1 << 20;

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
    use axum::routing::{any, get};

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
            .route("/small", get(|| async { "hello" }));
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
}
