//! Conditional and range requests as RFC 9110 orders them (§13.2.2): `If-Match` (412 when no
//! tag matches strongly), then `If-None-Match` (304 on a weak match), then `If-Range` (a stale
//! validator means the whole representation), then `Range` — only the `bytes` unit, one range;
//! anything else is ignored (200). A suffix longer than the representation means all of it.

use axum::http::{HeaderMap, StatusCode, header};

use super::rendered::not_modified;

/// What the preconditions decide before any body is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// `If-Match` named no current tag: 412.
    Failed,
    /// `If-None-Match` named the current tag: 304.
    NotModified,
    /// Answer normally.
    Proceed,
}

/// Evaluate `If-Match` and `If-None-Match` against the representation's strong `etag` (quoted).
pub fn precondition(headers: &HeaderMap, etag: &[u8]) -> Precondition {
    let mut if_match = headers.get_all(header::IF_MATCH).iter().peekable();
    if if_match.peek().is_some() {
        let matched = if_match
            .flat_map(|v| v.as_bytes().split(|&c| c == b','))
            .map(|t| t.trim_ascii())
            .any(|t| t == b"*" || t == etag);
        if !matched {
            return Precondition::Failed;
        }
    }
    if not_modified(headers, etag) {
        return Precondition::NotModified;
    }
    Precondition::Proceed
}

/// The part of a representation of `size` bytes a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// No (usable) `Range`, or a stale `If-Range`: the whole representation, 200.
    Whole,
    /// One satisfiable byte range, first and last byte inclusive: 206.
    Range(u64, u64),
    /// A `bytes` range that starts past the end: 416.
    Unsatisfiable,
}

/// Which part to send, from `Range` and `If-Range` (compared strongly with `etag`; a date or
/// another tag means the client's copy is stale).
pub fn part(headers: &HeaderMap, etag: &[u8], size: u64) -> Part {
    let Some(range) = headers.get(header::RANGE) else {
        return Part::Whole;
    };
    if let Some(v) = headers.get(header::IF_RANGE)
        && v.as_bytes().trim_ascii() != etag
    {
        return Part::Whole;
    }
    let Some(spec) = range
        .to_str()
        .ok()
        .and_then(|r| r.trim().split_once('='))
        .filter(|(unit, _)| unit.trim().eq_ignore_ascii_case("bytes"))
        .map(|(_, spec)| spec.trim())
    else {
        return Part::Whole; // another unit: ignored
    };
    if spec.contains(',') {
        return Part::Whole; // several ranges: we may send the whole instead
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Part::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() {
        if !digits(last) {
            return Part::Whole;
        }
        // A suffix: the last `n` bytes, all of them when `n` is at least the size.
        return match last.parse::<u64>() {
            Ok(0) => Part::Unsatisfiable,
            _ if size == 0 => Part::Unsatisfiable,
            Ok(n) if n < size => Part::Range(size - n, size - 1),
            _ => Part::Range(0, size - 1),
        };
    }
    if !digits(first) || !(last.is_empty() || digits(last)) {
        return Part::Whole;
    }
    let Ok(start) = first.parse::<u64>() else {
        return Part::Unsatisfiable; // more digits than any file has bytes
    };
    let end = if last.is_empty() {
        u64::MAX
    } else {
        last.parse::<u64>().unwrap_or(u64::MAX)
    };
    if end < start {
        return Part::Whole; // invalid: ignored
    }
    if start >= size {
        return Part::Unsatisfiable;
    }
    Part::Range(start, end.min(size - 1))
}

/// The 416 answer's status and `Content-Range`.
pub fn unsatisfiable(size: u64) -> (StatusCode, [(header::HeaderName, String); 1]) {
    (
        StatusCode::RANGE_NOT_SATISFIABLE,
        [(header::CONTENT_RANGE, format!("bytes */{size}"))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        let tag = b"\"abc\"";
        let p = |r: &str| part(&headers(&[("range", r)]), tag, 1000);
        assert_eq!(p("bytes=0-99"), Part::Range(0, 99));
        assert_eq!(p("bytes=990-"), Part::Range(990, 999));
        assert_eq!(p("bytes=990-5000"), Part::Range(990, 999));
        assert_eq!(p("BYTES = 1-1"), Part::Range(1, 1));
        assert_eq!(p("bytes=-10"), Part::Range(990, 999));
        assert_eq!(p("bytes=-99999999999"), Part::Range(0, 999));
        assert_eq!(p("bytes=-999999999999999999999999"), Part::Range(0, 999));
        assert_eq!(p("bytes=0-99999999999999999999999"), Part::Range(0, 999));
        assert_eq!(p("bytes=1000-"), Part::Unsatisfiable);
        assert_eq!(p("bytes=99999999999999999999999-"), Part::Unsatisfiable);
        assert_eq!(p("bytes=-0"), Part::Unsatisfiable);
        for ignored in [
            "items=0-10",
            "bytes=5-1",
            "bytes=0-1,5-9",
            "bytes=a-b",
            "bytes=",
            "bytes=1",
            "bytes=--1",
        ] {
            assert_eq!(p(ignored), Part::Whole, "{ignored}");
        }
        let stale = headers(&[("range", "bytes=0-9"), ("if-range", "\"old\"")]);
        assert_eq!(part(&stale, tag, 1000), Part::Whole);
        let dated = headers(&[
            ("range", "bytes=0-9"),
            ("if-range", "Thu, 01 Jan 1970 00:00:00 GMT"),
        ]);
        assert_eq!(part(&dated, tag, 1000), Part::Whole);
        let fresh = headers(&[("range", "bytes=0-9"), ("if-range", "\"abc\"")]);
        assert_eq!(part(&fresh, tag, 1000), Part::Range(0, 9));
    }

    #[test]
    fn if_match_is_strong_and_comes_before_if_none_match() {
        let tag = b"\"abc\"";
        let pre = |pairs: &[(&'static str, &str)]| precondition(&headers(pairs), tag);
        assert_eq!(pre(&[]), Precondition::Proceed);
        assert_eq!(pre(&[("if-match", "\"nope\"")]), Precondition::Failed);
        assert_eq!(pre(&[("if-match", "W/\"abc\"")]), Precondition::Failed);
        assert_eq!(
            pre(&[("if-match", "\"x\", \"abc\"")]),
            Precondition::Proceed
        );
        assert_eq!(pre(&[("if-match", "*")]), Precondition::Proceed);
        assert_eq!(
            pre(&[("if-match", "\"nope\""), ("if-none-match", "\"abc\"")]),
            Precondition::Failed
        );
        assert_eq!(
            pre(&[("if-none-match", "W/\"abc\"")]),
            Precondition::NotModified
        );
    }
}
