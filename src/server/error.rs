//! [`AppError`]: the one error every handler returns. Client mistakes are 4xx with a helpful
//! message (JSON `{"error": CODE, "message": …, "did_you_mean": …}`: `error` a stable English
//! code, `message` in the request's language); internal failures are logged in the request
//! span and answered 500 without details.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::directory::LookupError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed input: a code that is not a code, a date that is not a date.
    #[error("{0}")]
    BadRequest(String),
    /// No token, or one we do not know.
    #[error("{0}")]
    Unauthorized(String),
    /// A known token asking for something outside its scope.
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    NotFound {
        message: String,
        suggestion: Option<String>,
    },
    /// Something that is only possible once a part is configured (e.g. no ledger).
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[derive(Serialize)]
struct Body<'a> {
    /// A stable code for programs: `bad_request`, `not_found`, ….
    error: &'a str,
    /// For people, in the request's language.
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    did_you_mean: Option<&'a str>,
}

impl AppError {
    /// A client's mistake, answered 400 with the error's own message.
    pub fn bad_request(err: impl std::fmt::Display) -> AppError {
        AppError::BadRequest(err.to_string())
    }

    /// A failure of ours, logged with its sources and answered 500 without details.
    pub fn internal(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> AppError {
        AppError::Internal(err.into())
    }

    /// The stable English code of the body's `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound { .. } => "not_found",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An unknown county or township, with the directory's suggestion.
    pub fn lookup(err: LookupError) -> AppError {
        let suggestion = err.suggestion().map(str::to_string);
        let message = match err.help() {
            Some(help) => crate::t!("http-lookup", reason = err.to_string(), help = help),
            None => err.to_string(),
        };
        AppError::NotFound {
            message,
            suggestion,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (message, suggestion) = match &self {
            AppError::Internal(detail) => {
                // Logged here, inside the request span; the client learns nothing internal.
                let detail = crate::transport::error_chain(&**detail);
                tracing::error!(error = %detail, "request failed");
                (crate::t!("http-internal"), None)
            }
            AppError::NotFound {
                message,
                suggestion,
            } => (message.clone(), suggestion.as_deref()),
            AppError::BadRequest(m)
            | AppError::Unauthorized(m)
            | AppError::Forbidden(m)
            | AppError::Unavailable(m) => (m.clone(), None),
        };
        let body = Json(Body {
            error: self.code(),
            message: &message,
            did_you_mean: suggestion,
        });
        let mut resp = (status, body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"shengbo\""),
            );
        }
        resp
    }
}

/// A 9-digit township code, or 400.
pub fn township_code(code: &str) -> Result<&str, AppError> {
    digits(code, 9, crate::t!("http-level-township"))
}

/// A 12-digit village code, or 400.
pub fn village_code(code: &str) -> Result<&str, AppError> {
    digits(code, 12, crate::t!("http-level-village"))
}

/// A 6-digit county code, or 400.
pub fn county_code(code: &str) -> Result<&str, AppError> {
    digits(code, 6, crate::t!("http-level-county"))
}

fn digits(code: &str, n: usize, what: String) -> Result<&str, AppError> {
    if code.len() == n && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(AppError::BadRequest(crate::t!(
            "http-malformed-code",
            what = what,
            code = code.escape_debug().to_string(),
            digits = n
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_before_lookup() {
        assert!(township_code("513431100").is_ok());
        for bad in [
            "51343110",
            "5134311000",
            "51343110x",
            "../../etc",
            "５１３４３１１００",
        ] {
            let err = crate::locale::scoped(crate::locale::Locale::En, || {
                township_code(bad).unwrap_err()
            });
            assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{bad}");
            assert!(err.to_string().contains("expected 9 digits"));
        }
        assert!(county_code("513431").is_ok());
        assert!(county_code("51343").is_err());
    }

    #[test]
    fn lookup_errors_carry_the_suggestion() {
        let dir = crate::directory::Directory::liangshan();
        let err = crate::locale::scoped(crate::locale::Locale::En, || {
            AppError::lookup(dir.township("513431199").unwrap_err())
        });
        assert_eq!(err.status(), StatusCode::NOT_FOUND);
        let AppError::NotFound { suggestion, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(suggestion.is_some(), "{err}");
        assert!(err.to_string().contains("did you mean"));
    }
}
