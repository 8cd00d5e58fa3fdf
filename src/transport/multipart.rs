//! The `multipart/form-data` body a package is POSTed in — one part `file`, filename the tar's
//! name, `application/octet-stream` — sent as the package's chunks between the part's head and
//! the closing boundary, with an exact length (so `Content-Length`, never chunked), and no copy
//! of the audio.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::ebd::PackageBytes;

/// A package wrapped as the one file part of a form.
#[derive(Debug)]
pub struct PackageForm {
    pub content_type: String,
    pub body: ChunkBody,
}

impl PackageForm {
    pub fn new(file_name: &str, package: &PackageBytes) -> PackageForm {
        let boundary = boundary(package);
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
            file_name.replace(['"', '\r', '\n'], "_")
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        let mut chunks = VecDeque::with_capacity(8);
        chunks.push_back(Bytes::from(head));
        chunks.extend(package.chunks().cloned());
        chunks.push_back(Bytes::from(tail));
        let remaining = chunks.iter().map(|c| c.len() as u64).sum();
        PackageForm {
            content_type: format!("multipart/form-data; boundary={boundary}"),
            body: ChunkBody { chunks, remaining },
        }
    }
}

/// A boundary that cannot be guessed from outside and (with 96 random bits) appears in no
/// package by chance.
fn boundary(package: &PackageBytes) -> String {
    let r: u128 = rand::random();
    format!("shengbo-{:024x}-{:x}", r >> 32, package.len())
}

/// An HTTP body of ready chunks with an exact size.
#[derive(Debug)]
pub struct ChunkBody {
    chunks: VecDeque<Bytes>,
    remaining: u64,
}

impl ChunkBody {
    /// All the bytes, in order (tests and captures).
    pub fn to_vec(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|c| c.iter().copied()).collect()
    }
}

impl http_body::Body for ChunkBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let next = self.chunks.pop_front();
        if let Some(c) = &next {
            self.remaining -= c.len() as u64;
        }
        Poll::Ready(next.map(|c| Ok(Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ebd::MediaFile;
    use crate::ebd::chunks::write_chunks;

    #[tokio::test]
    async fn the_form_parses_back_to_the_same_package() {
        let media = [MediaFile::new("a.wav", vec![3u8; 10_000])];
        let id = "10451343100000001020101012025112700000001";
        let package = write_chunks(id, b"<EBD/>", b"<S/>", &media, 0).unwrap();
        let form = PackageForm::new("EBDT_x.tar", &package);
        assert_eq!(
            http_body::Body::size_hint(&form.body).exact(),
            Some(form.body.to_vec().len() as u64)
        );
        let boundary = form.content_type.split("boundary=").nth(1).unwrap();
        let body = form.body.to_vec();
        let stream = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(body)]);
        let mut parts = multer::Multipart::new(stream, boundary);
        let field = parts.next_field().await.unwrap().unwrap();
        assert_eq!(field.name(), Some("file"));
        assert_eq!(field.file_name(), Some("EBDT_x.tar"));
        assert_eq!(
            field.content_type().map(|m| m.essence_str().to_owned()),
            Some("application/octet-stream".to_owned())
        );
        assert_eq!(field.bytes().await.unwrap().to_vec(), package.to_vec());
        assert!(parts.next_field().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn it_goes_out_with_a_content_length_not_chunked() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let media = [MediaFile::new("a.wav", vec![5u8; 300_000])];
        let id = "10451343100000001020101012025112700000001";
        let package = write_chunks(id, b"<EBD/>", b"<S/>", &media, 0).unwrap();
        let form = PackageForm::new("EBDT_x.tar", &package);
        let want = form.body.to_vec();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/ebd", listener.local_addr().unwrap());
        let len = want.len();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = vec![0u8; 65536];
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let head_end = got.windows(4).position(|w| w == b"\r\n\r\n");
                if n == 0 || head_end.is_some_and(|h| got.len() >= h + 4 + len) {
                    break;
                }
            }
            sock.write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
                .await
                .unwrap();
            got
        });
        crate::transport::install_crypto_provider();
        let resp = reqwest::Client::new()
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, form.content_type.clone())
            .body(reqwest::Body::wrap(form.body))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 204);
        let got = server.await.unwrap();
        let h = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&got[..h]).to_lowercase();
        assert!(
            head.contains(&format!("content-length: {}", want.len())),
            "{head}"
        );
        assert!(!head.contains("transfer-encoding"), "{head}");
        assert_eq!(&got[h + 4..], want.as_slice());
    }
}
