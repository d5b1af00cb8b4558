//! [`EdgeIdentity`] as an axum extractor.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{header, HeaderValue, StatusCode};

use super::EdgeIdentity;

/// The extractor's refusal when no [`EdgeIdentityLayer`](super::EdgeIdentityLayer)
/// ran before the handler: `401 edge_signature_missing`, never a handler
/// running without a checked identity, and never a 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingEdgeIdentity;

impl IntoResponse for MissingEdgeIdentity {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": {
            "code": "edge_signature_missing",
            "message": "no checked edge identity: EdgeIdentityLayer is not installed on this route",
        }});
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body.to_string(),
        )
            .into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for EdgeIdentity {
    type Rejection = MissingEdgeIdentity;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(MissingEdgeIdentity)
    }
}

/// `Option<EdgeIdentity>`: `None` when the layer did not run (it refuses
/// unsigned requests itself wherever it is installed).
impl<S: Send + Sync> OptionalFromRequestParts<S> for EdgeIdentity {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned())
    }
}
