//! Rendered playlist answers, cached per snapshot: the body, its strong ETag and its
//! `Last-Modified`, so a repeated pull neither renders nor hashes, and a revalidation (304)
//! only compares tags.
//!
//! The cache lives in the [`Snapshot`](super::state::Snapshot) it was rendered from; a new plan
//! or catalog replaces the snapshot, and with it every cached answer. Bounded: at most
//! [`MAX_ENTRIES`] answers and [`MAX_BYTES`] of bodies; when either would be exceeded the
//! oldest answers (first rendered) are dropped first. A prefecture needs about 304 townships ×
//! 5 files × 2 broadcasts plus 17 counties × a few days, ~3,100 answers of 1–100 KB, per base
//! URL and per query-token variant.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use super::conditional::{Precondition, precondition};

/// At most this many cached answers per snapshot.
pub const MAX_ENTRIES: usize = 8192;
/// At most this many bytes of cached bodies per snapshot.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// Which broadcasts an answer covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selection {
    /// One broadcast, by its index in the snapshot (what `?at=` resolved to).
    Broadcast(usize),
    /// A local day (`day.*`, a county's `playlists.json`).
    Day(NaiveDate),
}

/// What identifies an answer within one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Township or county code.
    pub code: String,
    /// The file asked for, e.g. `playlist.m3u8`.
    pub file: String,
    pub selection: Selection,
    /// The audio links' base URL.
    pub base: String,
    /// The audio links' suffix (`?token=…` for callers that authenticate by query).
    pub suffix: String,
}

/// One rendered answer.
#[derive(Debug)]
pub struct Rendered {
    pub body: Bytes,
    /// Strong ETag: the first 128 bits of the body's sha256, quoted.
    pub etag: HeaderValue,
    pub content_type: &'static str,
    pub last_modified: Option<HeaderValue>,
}

impl Rendered {
    pub fn new(body: String, content_type: &'static str, modified: DateTime<Utc>) -> Rendered {
        let etag = etag_of(body.as_bytes());
        Rendered {
            etag: HeaderValue::from_str(&etag).expect("hex etag"),
            body: Bytes::from(body),
            content_type,
            last_modified: HeaderValue::from_str(&http_date(modified)).ok(),
        }
    }

    /// 200 with the body, 304 when `If-None-Match` names this ETag, 412 when `If-Match` names
    /// none ([`precondition`]); the same cache headers either way. `Range` is ignored (no
    /// `Accept-Ranges`): a playlist is always sent whole.
    pub fn respond(&self, headers: &HeaderMap) -> Response {
        let status = match precondition(headers, self.etag.as_bytes()) {
            Precondition::Failed => Some(StatusCode::PRECONDITION_FAILED),
            Precondition::NotModified => Some(StatusCode::NOT_MODIFIED),
            Precondition::Proceed => None,
        };
        let mut resp = if let Some(status) = status {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = status;
            r
        } else {
            let mut r = Response::new(Body::from(self.body.clone()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            );
            r
        };
        let h = resp.headers_mut();
        h.insert(header::ETAG, self.etag.clone());
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=60"),
        );
        if let Some(v) = &self.last_modified {
            h.insert(header::LAST_MODIFIED, v.clone());
        }
        h.insert(header::VARY, HeaderValue::from_static("authorization"));
        resp
    }
}

/// A strong ETag of a body: the first 128 bits of its sha256.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", &hex::encode(Sha256::digest(body))[..32])
}

/// Whether `If-None-Match` names this ETag (weak comparison, as RFC 9110 asks for GET).
pub fn not_modified(headers: &HeaderMap, etag: &[u8]) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&c| c == b','))
        .map(|t| t.trim_ascii())
        .any(|t| t == b"*" || t.strip_prefix(b"W/").unwrap_or(t) == etag)
}

pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<Key, Arc<Rendered>>,
    /// Keys in the order they were rendered: the eviction order.
    order: VecDeque<Key>,
    bytes: usize,
}

/// The rendered answers of one snapshot.
#[derive(Debug, Default)]
pub struct RenderCache {
    inner: RwLock<Inner>,
}

impl RenderCache {
    /// The cached answer for `key`, else `render` it, cache it and return it. Errors are not
    /// cached.
    pub fn get_or_render<E>(
        &self,
        key: Key,
        render: impl FnOnce(&Key) -> Result<Rendered, E>,
    ) -> Result<Arc<Rendered>, E> {
        if let Some(hit) = self.get(&key) {
            return Ok(hit);
        }
        let rendered = Arc::new(render(&key)?);
        self.insert(key, rendered.clone());
        Ok(rendered)
    }

    pub fn get(&self, key: &Key) -> Option<Arc<Rendered>> {
        let inner = self.inner.read().unwrap_or_else(|e| e.into_inner());
        inner.map.get(key).cloned()
    }

    fn insert(&self, key: Key, rendered: Arc<Rendered>) {
        let size = rendered.body.len();
        if size > MAX_BYTES {
            return;
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if inner.map.contains_key(&key) {
            return; // rendered concurrently; the same bytes
        }
        while inner.map.len() >= MAX_ENTRIES || inner.bytes + size > MAX_BYTES {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(gone) = inner.map.remove(&old) {
                inner.bytes -= gone.body.len();
            }
        }
        inner.bytes += size;
        inner.order.push_back(key.clone());
        inner.map.insert(key, rendered);
    }

    /// How many answers are cached.
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> Key {
        Key {
            code: "513431100".into(),
            file: "playlist.m3u8".into(),
            selection: Selection::Broadcast(i),
            base: "http://h".into(),
            suffix: String::new(),
        }
    }

    #[test]
    fn renders_once_and_evicts_oldest_first() {
        let cache = RenderCache::default();
        let mut renders = 0;
        for _ in 0..3 {
            let r = cache
                .get_or_render(key(0), |_| {
                    renders += 1;
                    Ok::<_, ()>(Rendered::new(
                        "a".into(),
                        "text/plain",
                        DateTime::UNIX_EPOCH,
                    ))
                })
                .unwrap();
            assert_eq!(r.etag.as_bytes(), etag_of(b"a").as_bytes());
        }
        assert_eq!(renders, 1);
        for i in 1..=MAX_ENTRIES {
            let body = i.to_string();
            cache
                .get_or_render(key(i), |_| {
                    Ok::<_, ()>(Rendered::new(body, "text/plain", DateTime::UNIX_EPOCH))
                })
                .unwrap();
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        assert!(cache.get(&key(0)).is_none(), "the oldest went first");
        assert!(cache.get(&key(1)).is_some() && cache.get(&key(MAX_ENTRIES)).is_some());
        assert!(cache.get_or_render(key(0), |_| Err("bad")).is_err());
        assert!(cache.get(&key(0)).is_none(), "errors are not cached");
    }

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let tag = etag_of(b"hello");
        let mut h = HeaderMap::new();
        assert!(!not_modified(&h, tag.as_bytes()));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"x\", W/{tag}")).unwrap(),
        );
        assert!(not_modified(&h, tag.as_bytes()));
        assert!(!not_modified(&h, etag_of(b"other").as_bytes()));
    }
}
