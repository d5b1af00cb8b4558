//! `/v1/publish/…`: how far KV publishing is behind, and a re-sync of the
//! namespace with the database.

use axum::{
    extract::State,
    routing::{get, post},
    Json,
};
use serde::Deserialize;

use super::{
    extract::{AdminKey, AppQuery},
    Routes,
};
use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
    store,
    sync::{self, SyncReport},
};

pub(super) fn router() -> Routes {
    Routes::default()
        .route("/v1/publish/status", get(publish_status))
        .route("/v1/publish/sync", post(publish_sync))
}

async fn publish_status(
    State(state): State<AppState>,
    _admin: AdminKey,
) -> ApiResult<Json<store::PublishStatus>> {
    Ok(Json(store::publish_status(&state.db.pool).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncQuery {
    #[serde(default)]
    dry_run: bool,
}

/// Re-sync: compare the KV namespace with the database and repair it
/// (`?dry_run=true`: only report the differences).
async fn publish_sync(
    State(state): State<AppState>,
    admin: AdminKey,
    AppQuery(query): AppQuery<SyncQuery>,
) -> ApiResult<Json<SyncReport>> {
    let kv = state
        .kv
        .as_ref()
        .ok_or(ApiError::Unavailable("no KV namespace is configured"))?;
    let report = sync::resync(
        &state.db,
        kv.as_ref(),
        query.dry_run,
        state.clock.now_secs(),
    )
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "re-sync failed");
        ApiError::Unavailable("the KV namespace could not be synchronised; see the logs")
    })?;
    tracing::info!(by = %admin.key_id, dry_run = query.dry_run, "re-sync run");
    Ok(Json(report))
}
