//! The HTTP app: playlist and audio pulls for county stations, coverage (JSON, CSV, HTML) for
//! coordinators, state reports from platforms, health and metrics — one axum router with a
//! timeout on every request, a body size limit per route (413) and bounded concurrency.
//!
//! # Files
//! - [`state`] — what the app serves from: the plan snapshot, the audio index, the records.
//! - [`error`] — [`AppError`]: 4xx with a helpful message, 500 logged in the request span.
//! - [`auth`] — station and coordinator tokens (hashed at rest, compared in constant time).
//! - `token_store` — [`TokenStore`]: the server's view of `tokens.json`, rechecked once a second.
//! - `playlists` — `/v1/townships/{code}/playlist.*`, `day.*`, `/v1/counties/{code}/playlists.json`.
//! - `audio` — `/v1/audio/{sha256}.{ext}`: content-addressed, Range, private immutable caching.
//! - [`conditional`] — `If-Match`, `If-None-Match`, `If-Range` and `Range` per RFC 9110.
//! - `coverage` — `/v1/coverage` (JSON, CSV).
//! - [`rendered`] — rendered playlist answers and their ETags, cached per snapshot.
//! - [`page`] — `/coverage`, the server-rendered HTML page.
//! - [`ebd_state`] — `POST /v1/ebd/state`: platforms' unsolicited state reports.
//! - [`ops`] — `/healthz`, `/readyz`, `/metrics` and the [`Metrics`] counters.
//! - [`signed`] — audio links a webhook gateway may fetch without a token, until they expire.
//! - `listen` — [`serve_http`]: the accept loop, with a connection cap and a header timeout.
//!
//! Who may see what: a station token reads its county's townships and their audio; a
//! coordinator token reads everything. Tokens come as `Authorization: Bearer <token>` or, for
//! players and browsers that cannot set headers, `?token=<token>` (the query string is never
//! logged). Health, readiness and metrics need no token.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub mod airing;
pub mod auth;
pub mod error;
pub mod ops;
pub mod records;
pub mod state;
mod token_store;

mod audio;
pub mod conditional;
mod coverage;
pub mod ebd_state;
mod listen;
pub mod page;
mod playlists;
pub mod rendered;
pub mod signed;

pub use auth::{Principal, Scope, TokenStore};
pub use ebd_state::EbdInbound;
pub use error::AppError;
pub use listen::{EVICTIONS_PER_S, EdgeArgs, bind, fit_connections, serve_http};
pub use ops::Metrics;
pub use state::{
    AppState, AudioFile, BaseUrlError, DEFAULT_BASE_URL, Limits, Records, RecordsError, Snapshot,
    parse_base_url,
};

/// The router, with every layer. Health and metrics routes sit outside the concurrency bound so
/// a saturated server still answers its probes.
pub fn app(state: AppState) -> Router {
    let limits = state.limits().clone();
    let api = Router::new()
        .route("/v1/townships/{code}/{file}", get(playlists::township))
        .route("/v1/villages/{code}/{file}", get(playlists::village))
        .route("/v1/counties/{code}/{file}", get(playlists::county))
        .route("/v1/audio/{file}", get(audio::serve))
        .route("/v1/coverage", get(coverage::json_or_csv))
        .route("/coverage", get(page::coverage))
        .route("/fonts/{file}", get(page::font::serve))
        .layer(RequestBodyLimitLayer::new(state::GET_BODY_BYTES))
        .route(
            "/v1/ebd/state",
            post(ebd_state::receive).layer(RequestBodyLimitLayer::new(limits.max_body_bytes)),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::count_pulls,
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            limits.concurrency,
        ));
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route_layer(RequestBodyLimitLayer::new(state::GET_BODY_BYTES))
        .merge(api)
        .fallback(fallback)
        .layer(DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(axum::middleware::from_fn(in_request_language))
        .with_state(state)
}

/// Messages of a request's answer (error bodies) in the language its `Accept-Language` names
/// first that has a catalogue, else Chinese.
async fn in_request_language(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let locale = page::locale(None, req.headers()).unwrap_or_default();
    crate::locale::in_request(locale, next.run(req)).await
}

/// The request span: method and path only, never the query string (it may carry a token).
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
}

async fn fallback(uri: axum::http::Uri) -> AppError {
    AppError::NotFound {
        message: crate::t!("http-no-route", path = uri.path()),
        suggestion: None,
    }
}
