//! `/v1/apikeys/…`: what a key holder (a static key or a JWT it signed) may
//! do for itself: read its own key, list its client's keys in an
//! environment, and (secret keys only) regenerate them.

use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, post},
    Json,
};
use shared::key::KeyType;

use super::{
    extract::{AppPath, KeyHolder},
    keys::{regenerate, KeyView, Regenerated},
    page::Page,
    Routes,
};
use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
    store,
};

pub(super) fn router() -> Routes {
    Routes::default()
        .route("/v1/apikeys/self", get(key_self))
        .route("/v1/apikeys/{env}", get(self_list_keys))
        .route("/v1/apikeys/regenerate/{env}", post(self_regenerate))
}

/// The caller's own key (never its secret). Lets a key holder's tooling
/// learn its client id, e.g. for `keygate token mint`.
async fn key_self(State(state): State<AppState>, holder: KeyHolder) -> Json<KeyView> {
    Json(KeyView::new(holder.key, state.clock.now_secs()))
}

/// The caller's client's keys in `env` (never secrets).
async fn self_list_keys(
    State(state): State<AppState>,
    holder: KeyHolder,
    AppPath(env): AppPath<String>,
) -> ApiResult<Json<Page<KeyView>>> {
    let keys = store::list_keys(&state.db.pool, &holder.key.client_id, Some(&env)).await?;
    let now = state.clock.now_secs();
    Ok(Json(Page::all(
        keys.into_iter().map(|k| KeyView::new(k, now)).collect(),
    )))
}

/// Revokes the caller's client's keys in `env` and returns new ones.
/// Publishable keys may not do this (they live in client-side code).
async fn self_regenerate(
    State(state): State<AppState>,
    holder: KeyHolder,
    AppPath(env): AppPath<String>,
) -> ApiResult<(StatusCode, Json<Regenerated>)> {
    if holder.key.key_type != KeyType::Secret || holder.key.is_admin() {
        return Err(ApiError::Forbidden);
    }
    regenerate(&state, &holder.key.client_id, &env, &holder.key.key_id).await
}
