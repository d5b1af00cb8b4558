//! Keys of a client: create (optionally waiting for KV), list, read,
//! revoke, regenerate, and the client's JWKS.

use std::time::Duration;

use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, post},
    Json,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::{jwk::Jwks, key::KeyType};

use super::{
    clients::{check_name, live_client, not_admin_client},
    extract::{AdminKey, AppJson, AppPath, AppQuery},
    page::{self, Page},
    Routes,
};
use crate::{
    config::parse_duration_secs,
    error::{ApiError, ApiResult},
    mint::{self, KeySpec},
    state::AppState,
    store::{self, KeyRow},
};

pub(super) fn router() -> Routes {
    Routes::default()
        .route(
            "/v1/clients/{client_id}/keys",
            post(create_key).get(list_keys),
        )
        .route(
            "/v1/clients/{client_id}/keys/regenerate",
            post(regenerate_keys),
        )
        .route("/v1/clients/{client_id}/jwks", get(client_jwks))
        .route("/v1/keys/{key_id}", get(get_key))
        .route("/v1/keys/{key_id}/revoke", post(revoke_key))
}

const ADMIN_KEYS_ELSEWHERE: &str = "admin keys are created with `keygate admin-key create`";

/// A key as the API shows it: never the secret (except once, at creation).
#[derive(Debug, Serialize)]
pub(super) struct KeyView {
    id: String,
    client_id: String,
    env: String,
    #[serde(rename = "type")]
    key_type: String,
    name: Option<String>,
    scopes: Vec<String>,
    status: &'static str,
    expires_at: Option<i64>,
    created_at: i64,
    revoked_at: Option<i64>,
    /// Whether KV has acknowledged the key's current state.
    published: bool,
}

impl KeyView {
    /// The view of `k` at `now_secs` (which decides "expired").
    pub(super) fn new(k: KeyRow, now_secs: i64) -> Self {
        let status = if k.revoked_at.is_some() {
            "revoked"
        } else if k.expires_at.is_some_and(|at| at <= now_secs) {
            "expired"
        } else {
            "active"
        };
        Self {
            published: k.published_rev >= k.rev,
            status,
            id: k.key_id,
            client_id: k.client_id,
            env: k.env,
            key_type: k.key_type.as_str().to_owned(),
            name: k.name,
            scopes: k.scopes,
            expires_at: k.expires_at,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub(super) struct CreatedKey {
    /// The plaintext key: shown this once, stored nowhere.
    key: String,
    #[serde(flatten)]
    view: KeyView,
}

/// Refuses an environment the policy does not list.
fn check_env(state: &AppState, env: &str) -> ApiResult<()> {
    if state.policy.environments.iter().any(|e| e == env) {
        return Ok(());
    }
    Err(ApiError::Invalid(format!(
        "env must be one of: {}",
        state.policy.environments.join(", ")
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKeyBody {
    env: Option<String>,
    #[serde(rename = "type")]
    key_type: Option<String>,
    name: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    /// Seconds, or a duration such as `30d`.
    expires_in: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKeyQuery {
    /// Seconds to wait (at most 30) for KV to acknowledge the new key, so the
    /// caller gets a key that works at its first request; `published` says
    /// whether it did.
    #[serde(default)]
    wait: u32,
}

const MAX_WAIT_SECS: u32 = 30;

/// `expires_in`: seconds or a duration, with the same bounds (1 s to 100 years).
fn lifetime(expires_in: Option<Value>, default: Option<i64>) -> ApiResult<Option<i64>> {
    Ok(match expires_in {
        None | Some(Value::Null) => default,
        Some(Value::Number(n)) => Some(
            n.as_i64()
                .filter(|secs| *secs > 0)
                .map(|secs| parse_duration_secs(&secs.to_string()))
                .unwrap_or_else(
                    || Err("expires_in must be a positive number of seconds".to_owned()),
                )
                .map_err(ApiError::Invalid)?,
        ),
        Some(Value::String(s)) => Some(parse_duration_secs(&s).map_err(ApiError::Invalid)?),
        Some(_) => {
            return Err(ApiError::Invalid(
                "expires_in must be seconds or a duration like 30d".to_owned(),
            ))
        }
    })
}

async fn create_key(
    State(state): State<AppState>,
    admin: AdminKey,
    AppPath(client_id): AppPath<String>,
    AppQuery(query): AppQuery<CreateKeyQuery>,
    AppJson(body): AppJson<NewKeyBody>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    if query.wait > MAX_WAIT_SECS {
        return Err(ApiError::Invalid(format!(
            "wait must be at most {MAX_WAIT_SECS} seconds"
        )));
    }
    not_admin_client(&client_id, ADMIN_KEYS_ELSEWHERE)?;
    // The client is checked by the insert itself (404 below).
    let env = body.env.unwrap_or_else(|| "live".to_owned());
    check_env(&state, &env)?;
    let key_type = match body.key_type.as_deref() {
        None => KeyType::Secret,
        Some(name) => KeyType::from_name(name)
            .ok_or_else(|| ApiError::Invalid("type must be secret or publishable".to_owned()))?,
    };
    let name = body.name.as_deref().map(check_name).transpose()?;
    if body.scopes.len() > 50 {
        return Err(ApiError::Invalid("at most 50 scopes".to_owned()));
    }
    for s in &body.scopes {
        shared::scope::Scope::parse(s).map_err(ApiError::Invalid)?;
    }
    let lifetime = lifetime(body.expires_in, state.policy.default_key_lifetime)?;
    let now_ms = state.clock.now_ms();
    let (key, new_key) = mint::key_for(KeySpec {
        client_id,
        env,
        key_type,
        name: name.map(str::to_owned),
        scopes: body.scopes,
        expires_at: lifetime.map(|secs| now_ms / 1000 + secs),
        secret_bytes: state.policy.key_bytes(key_type),
    })
    .map_err(|e| ApiError::Invalid(e.to_string()))?;
    let row = store::insert_key(&state.db.pool, &new_key, &admin.key_id, now_ms)
        .await?
        .ok_or(ApiError::NotFound("client"))?;
    state.metrics.keys_minted(1);
    state.changed();
    let row = wait_until_published(&state, row, query.wait).await?;
    tracing::info!(key_id = %row.key_id, client_id = %row.client_id, by = %admin.key_id, "key created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: key.expose().to_owned(),
            view: KeyView::new(row, state.clock.now_secs()),
        }),
    ))
}

/// Polls until KV has acknowledged `row`'s current revision or `wait_secs` pass.
async fn wait_until_published(state: &AppState, row: KeyRow, wait_secs: u32) -> ApiResult<KeyRow> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(wait_secs));
    let mut row = row;
    while row.published_rev < row.rev && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
        row = store::get_key(&state.db.pool, &row.key_id)
            .await?
            .unwrap_or(row);
    }
    Ok(row)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListKeysQuery {
    env: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list_keys(
    State(state): State<AppState>,
    _admin: AdminKey,
    AppPath(client_id): AppPath<String>,
    AppQuery(query): AppQuery<ListKeysQuery>,
) -> ApiResult<Json<Page<KeyView>>> {
    live_client(&state, &client_id).await?;
    let limit = page::limit(query.limit, 100, 1000)?;
    // The cursor is `<created_at>.<key id>` of the last key of the previous page.
    let after = match query.cursor.as_deref() {
        None => None,
        Some(cursor) => Some(
            cursor
                .split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id)))
                .ok_or_else(|| {
                    ApiError::Invalid("cursor is not one this API returned".to_owned())
                })?,
        ),
    };
    let keys = store::list_keys_page(
        &state.db.pool,
        &client_id,
        query.env.as_deref(),
        after,
        limit + 1,
    )
    .await?;
    let now = state.clock.now_secs();
    Ok(Json(page::page(
        keys,
        limit,
        |k| format!("{}.{}", k.created_at, k.key_id),
        |k| KeyView::new(k, now),
    )))
}

async fn get_key(
    State(state): State<AppState>,
    _admin: AdminKey,
    AppPath(key_id): AppPath<String>,
) -> ApiResult<Json<KeyView>> {
    let key = store::get_key(&state.db.pool, &key_id)
        .await?
        .ok_or(ApiError::NotFound("key"))?;
    Ok(Json(KeyView::new(key, state.clock.now_secs())))
}

async fn revoke_key(
    State(state): State<AppState>,
    admin: AdminKey,
    AppPath(key_id): AppPath<String>,
) -> ApiResult<Json<KeyView>> {
    let key = store::revoke_key(&state.db.pool, &key_id, &admin.key_id, state.clock.now_ms())
        .await?
        .ok_or(ApiError::NotFound("key"))?;
    state.changed();
    tracing::info!(%key_id, by = %admin.key_id, "key revoked");
    Ok(Json(KeyView::new(key, state.clock.now_secs())))
}

/// The answer of a regeneration: the new keys (plaintext shown this once)
/// and the revoked ids.
#[derive(Debug, Serialize)]
pub(super) struct Regenerated {
    keys: Vec<CreatedKey>,
    revoked: Vec<String>,
}

/// Revokes every active key of `client_id` in `env` and issues one new key
/// per configured type, in one transaction.
pub(super) async fn regenerate(
    state: &AppState,
    client_id: &str,
    env: &str,
    actor: &str,
) -> ApiResult<(StatusCode, Json<Regenerated>)> {
    check_env(state, env)?;
    let now_ms = state.clock.now_ms();
    let expires_at = state
        .policy
        .default_key_lifetime
        .map(|secs| now_ms / 1000 + secs);
    let mut plaintexts = Vec::new();
    let mut rows = Vec::new();
    for key_type in state
        .policy
        .key_types
        .iter()
        .filter_map(|t| KeyType::from_name(t))
    {
        let (key, row) = mint::key_for(KeySpec {
            client_id: client_id.to_owned(),
            env: env.to_owned(),
            key_type,
            name: None,
            scopes: Vec::new(),
            expires_at,
            secret_bytes: state.policy.key_bytes(key_type),
        })
        .map_err(|e| ApiError::Invalid(e.to_string()))?;
        plaintexts.push(key.expose().to_owned());
        rows.push(row);
    }
    let (revoked, created) =
        store::regenerate_keys(&state.db.pool, client_id, env, &rows, actor, now_ms)
            .await?
            .ok_or(ApiError::NotFound("client"))?;
    state.metrics.keys_minted(created.len() as u64);
    state.changed();
    tracing::info!(%client_id, %env, by = %actor, revoked = revoked.len(), "keys regenerated");
    let keys = created
        .into_iter()
        .zip(plaintexts)
        .map(|(row, key)| CreatedKey {
            key,
            view: KeyView::new(row, now_ms / 1000),
        })
        .collect();
    Ok((StatusCode::CREATED, Json(Regenerated { keys, revoked })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegenerateBody {
    env: String,
}

async fn regenerate_keys(
    State(state): State<AppState>,
    admin: AdminKey,
    AppPath(client_id): AppPath<String>,
    AppJson(body): AppJson<RegenerateBody>,
) -> ApiResult<(StatusCode, Json<Regenerated>)> {
    not_admin_client(&client_id, ADMIN_KEYS_ELSEWHERE)?;
    live_client(&state, &client_id).await?;
    regenerate(&state, &client_id, &body.env, &admin.key_id).await
}

/// The client's active signing keys as a JWKS (public keys only), for
/// verifying its tokens anywhere (`keygate token verify --jwk`).
async fn client_jwks(
    State(state): State<AppState>,
    _admin: AdminKey,
    AppPath(client_id): AppPath<String>,
) -> ApiResult<Json<Jwks>> {
    live_client(&state, &client_id).await?;
    let now = state.clock.now_secs();
    let keys = store::list_keys(&state.db.pool, &client_id, None)
        .await?
        .into_iter()
        .filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|at| at > now))
        .filter_map(|k| k.public_jwk.and_then(|j| serde_json::from_str(&j).ok()))
        .collect();
    Ok(Json(Jwks { keys }))
}
