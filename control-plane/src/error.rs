//! `ApiError`: every way an API call can fail, each with one status and one
//! stable code. Internal failures are logged here with their cause and reach
//! the client as a bare `internal_error`.

use axum::{
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No usable admin credential.
    #[error("{message}")]
    Unauthorized {
        /// Stable code.
        code: &'static str,
        /// Fixed message.
        message: &'static str,
    },
    /// A dependency (KV) is not configured or not answering.
    #[error("{0}")]
    Unavailable(&'static str),
    /// The caller's client is disabled.
    #[error("this credential's client is disabled")]
    ClientDisabled,
    /// A valid credential without the right to do this.
    #[error("this credential may not use this endpoint")]
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
    /// A 401 with the code the edge would use for the same failure.
    pub fn unauthorized(code: &'static str) -> Self {
        let message = match code {
            "missing_credential" => "An admin key is required.",
            "malformed_credential" => "The credential is malformed.",
            "revoked" => "The credential has been revoked.",
            "expired" => "The credential has expired.",
            "invalid_token" => "The token is not valid.",
            _ => "The credential is not valid.",
        };
        Self::Unauthorized { code, message }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthorized { code, .. } => (StatusCode::UNAUTHORIZED, code),
            Self::Forbidden => (StatusCode::FORBIDDEN, "insufficient_scope"),
            Self::ClientDisabled => (StatusCode::FORBIDDEN, "client_disabled"),
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
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static(r#"Bearer realm="keygate""#),
            );
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
