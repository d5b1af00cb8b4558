//! Operations: `/healthz`, `/metrics` and `/openapi.json`, none of which
//! needs a credential.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json,
};

use super::Routes;
use crate::{state::AppState, store};

pub(super) fn router() -> Routes {
    Routes::default()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async { Json(crate::openapi::document()) }),
        )
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match sqlx::query("select 1").execute(&state.db.pool).await {
        Ok(_) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "database_unavailable" })),
            )
        }
    }
}

/// Prometheus text: this process's counters and the shared outbox's lag
/// (read at scrape time, so every replica reports the same backlog).
async fn metrics(State(state): State<AppState>) -> Response {
    match store::publish_status(&state.db.pool).await {
        Ok(status) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            state.metrics.render(&status, state.clock.now_ms()),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics: cannot read the publish status");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
