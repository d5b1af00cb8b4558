//! `ApiError`: every way an API call can fail, each with one status and one
//! stable code. Internal failures are logged here with their cause and reach
//! the client as a bare `internal_error`. Credential refusals are the
//! decision's own [`Rejection`]s: status, code, message and challenge come
//! from `shared`, exactly as the edge sends them.

use axum::{
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use shared::decision::Rejection;

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The credential was refused by the decision (`shared::decision`).
    #[error("{}", .0.message())]
    Refused(Rejection),
    /// A dependency (KV) is not configured or not answering.
    #[error("{0}")]
    Unavailable(&'static str),
    /// A valid credential without the right to do this (the decision's
    /// `insufficient_scope`).
    #[error("{}", Rejection::InsufficientScope.message())]
    Forbidden,
    /// No such resource.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is well-formed JSON but says something invalid.
    #[error("{0}")]
    Invalid(String),
    /// The body is not the JSON we expect.
    #[error("{0}")]
    BadJson(String),
    /// The change conflicts with existing state.
    #[error("{0}")]
    Conflict(&'static str),
    /// The route exists, but not with this method.
    #[error("this method is not allowed on this route")]
    MethodNotAllowed,
    /// The body is not declared as JSON.
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// The body is larger than the API accepts.
    #[error("the request body is too large")]
    TooLarge,
    /// The request (its body included) took longer than the request timeout.
    #[error("the request took too long")]
    Timeout,
    /// Our own failure (database, JSON, …): logged with its cause, shown
    /// only as `internal_error`.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(anyhow::Error::new(error).context("database"))
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(error: serde_json::Error) -> Self {
        Self::Internal(anyhow::Error::new(error).context("JSON"))
    }
}

impl ApiError {
    /// The decision's refusal this error is, if it is one.
    fn rejection(&self) -> Option<Rejection> {
        match self {
            Self::Refused(rejection) => Some(*rejection),
            Self::Forbidden => Some(Rejection::InsufficientScope),
            _ => None,
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        let refused = |r: Rejection| {
            let status =
                StatusCode::from_u16(r.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, r.code())
        };
        match self {
            Self::Refused(rejection) => refused(*rejection),
            Self::Forbidden => refused(Rejection::InsufficientScope),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            Self::BadJson(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::Timeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let body =
            Json(serde_json::json!({ "error": { "code": code, "message": self.to_string() } }));
        let mut response = (status, body).into_response();
        let challenge = self
            .rejection()
            .and_then(Rejection::www_authenticate)
            .and_then(|c| header::HeaderValue::from_str(&c).ok());
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            r if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::TooLarge,
            JsonRejection::JsonDataError(e) => Self::Invalid(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            other => Self::BadJson(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadJson(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadJson(rejection.body_text())
    }
}

/// The API's result type.
pub type ApiResult<T> = Result<T, ApiError>;
