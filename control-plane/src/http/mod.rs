//! The HTTP API: `app(state) -> Router`. Each resource module owns its
//! routes (`router()`) and private handlers; this module merges them and adds
//! the layers every route shares. Handlers are thin: validate, call `store`,
//! shape the JSON. Tests drive the router with `oneshot`.

mod audit;
mod clients;
pub mod extract;
mod keys;
mod ops;
pub mod page;
mod publish;
mod self_service;
mod verify;

use axum::{
    extract::{DefaultBodyLimit, Request},
    http::header,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::MethodRouter,
    Router,
};
use tower_http::trace::TraceLayer;

use crate::{error::ApiError, state::AppState};

/// Request bodies are small JSON documents; anything larger is refused.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A router that remembers the path templates it routes, so the OpenAPI
/// check can compare the document with what is actually routed.
#[derive(Debug, Default)]
pub struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    /// Routes `path` to `methods`.
    #[must_use]
    pub fn route(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, methods);
        self.paths.push(path);
        self
    }

    /// Adds another resource's routes.
    #[must_use]
    pub fn merge(mut self, other: Self) -> Self {
        self.router = self.router.merge(other.router);
        self.paths.extend(other.paths);
        self
    }
}

fn routes() -> Routes {
    Routes::default()
        .merge(ops::router())
        .merge(clients::router())
        .merge(keys::router())
        .merge(self_service::router())
        .merge(publish::router())
        .merge(audit::router())
        .merge(verify::router())
}

/// Every path template the API routes.
pub fn routed_paths() -> Vec<&'static str> {
    routes().paths
}

/// The API router.
pub fn app(state: AppState) -> Router {
    routes()
        .router
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .route_layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            crate::metrics::track,
        ))
        .layer(middleware::from_fn(refuse_declared_oversize))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Refuses a body whose declared `Content-Length` exceeds the limit before
/// any of it is read (and before authentication): otherwise the caller keeps
/// the connection busy until the limit's worth of bytes has arrived.
async fn refuse_declared_oversize(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return ApiError::TooLarge.into_response();
    }
    next.run(request).await
}
