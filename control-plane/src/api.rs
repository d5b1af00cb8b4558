//! The HTTP API: `app(state) -> Router`. Handlers are thin: validate, call
//! `store`, shape the JSON. Tests drive the router with `oneshot`.

use std::sync::Arc;

use axum::{
    extract::{DefaultBodyLimit, FromRequest, FromRequestParts, State},
    http::StatusCode,
    response::IntoResponse,
    routing::{get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::key::KeyType;
use tokio::sync::Notify;
use tower_http::trace::TraceLayer;

use crate::{
    auth::{AdminKey, KeyHolder},
    clock,
    config::{parse_duration_secs, KeyPolicy},
    db::Db,
    error::{ApiError, ApiResult},
    mint::{self, KeySpec},
    store::{self, Client, KeyRow},
};

/// Everything a handler may need.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// What keys may be issued.
    pub policy: Arc<KeyPolicy>,
    /// Woken after every committed change, so the publisher sends it at once.
    pub publish_wake: Arc<Notify>,
    /// Request and minting counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The KV namespace, when configured (for `POST /v1/publish/sync`).
    pub kv: Option<crate::kv::CloudflareKv>,
}

impl AppState {
    /// State over a connected database with the given policy.
    pub fn new(db: Db, policy: KeyPolicy) -> Self {
        Self {
            db,
            policy: Arc::new(policy),
            publish_wake: Arc::new(Notify::new()),
            metrics: Arc::default(),
            kv: None,
        }
    }
}

/// Request bodies are small JSON documents; anything larger is refused.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The API router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::render))
        .route(
            "/openapi.json",
            get(|| async { Json(crate::openapi::document()) }),
        )
        .route("/v1/clients", post(create_client).get(list_clients))
        .route(
            "/v1/clients/{client_id}",
            get(get_client).patch(update_client).delete(delete_client),
        )
        .route(
            "/v1/clients/{client_id}/keys",
            post(create_key).get(list_keys),
        )
        .route(
            "/v1/clients/{client_id}/revoke-tokens",
            post(revoke_client_tokens),
        )
        .route("/v1/keys/{key_id}", get(get_key))
        .route("/v1/keys/{key_id}/revoke", post(revoke_key))
        .route("/v1/publish/status", get(publish_status))
        .route("/v1/publish/sync", post(publish_sync))
        .route("/v1/apikeys/self", get(key_self))
        .route("/v1/apikeys/{env}", get(self_list_keys))
        .route("/v1/apikeys/regenerate/{env}", post(self_regenerate))
        .route(
            "/v1/clients/{client_id}/keys/regenerate",
            post(regenerate_keys),
        )
        .route("/v1/clients/{client_id}/jwks", get(client_jwks))
        .route("/v1/audit", get(list_audit))
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Refuses a body whose declared `Content-Length` exceeds the limit before
/// any of it is read (and before authentication): otherwise the caller keeps
/// the connection busy until the limit's worth of bytes has arrived.
async fn refuse_declared_oversize(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return ApiError::TooLarge.into_response();
    }
    next.run(request).await
}

/// `Json` whose rejections use our error format.
#[derive(Debug, FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
struct AppJson<T>(T);

/// `Query` whose rejections use our error format.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
struct AppQuery<T>(T);

/// `Path` whose rejections use our error format.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
struct AppPath<T>(T);

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

// ---- clients ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClientBody {
    name: String,
    owner_id: Option<String>,
    #[serde(default)]
    metadata: Option<Value>,
}

#[derive(Debug, Serialize)]
struct ClientView {
    id: String,
    name: String,
    owner_id: Option<String>,
    metadata: Value,
    created_at: i64,
    /// Tokens issued before this Unix time are refused at the edge.
    revoked_before: Option<i64>,
    /// Disabled clients' keys and tokens are refused.
    disabled: bool,
}

impl From<Client> for ClientView {
    fn from(c: Client) -> Self {
        Self {
            id: c.client_id,
            name: c.name,
            owner_id: c.owner_id,
            metadata: serde_json::from_str(&c.metadata).unwrap_or(Value::Null),
            created_at: c.created_at,
            revoked_before: c.revoked_before,
            disabled: c.disabled_at.is_some(),
        }
    }
}

fn check_name(name: &str) -> ApiResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::Invalid(
            "name must be 1 to 200 characters".to_owned(),
        ));
    }
    Ok(name)
}

fn check_owner(owner_id: &str) -> ApiResult<()> {
    if owner_id.is_empty() || owner_id.chars().count() > 200 {
        return Err(ApiError::Invalid(
            "owner_id must be 1 to 200 characters".to_owned(),
        ));
    }
    Ok(())
}

fn check_metadata(metadata: Option<Value>) -> ApiResult<Option<String>> {
    let metadata = match metadata {
        None | Some(Value::Null) => return Ok(None),
        Some(m @ Value::Object(_)) => m.to_string(),
        Some(_) => {
            return Err(ApiError::Invalid(
                "metadata must be a JSON object".to_owned(),
            ))
        }
    };
    if metadata.len() > 16 * 1024 {
        return Err(ApiError::Invalid(
            "metadata must be at most 16 KiB".to_owned(),
        ));
    }
    Ok(Some(metadata))
}

async fn create_client(
    State(state): State<AppState>,
    admin: AdminKey,
    AppJson(body): AppJson<NewClientBody>,
) -> ApiResult<(StatusCode, Json<ClientView>)> {
    let name = check_name(&body.name)?;
    if let Some(owner) = &body.owner_id {
        check_owner(owner)?;
    }
    let metadata = check_metadata(body.metadata)?.unwrap_or_else(|| "{}".to_owned());
    let client = store::insert_client(
        &state.db.pool,
        &mint::new_client_id(),
        name,
        body.owner_id.as_deref(),
        &metadata,
        &admin.key_id,
        clock::now_ms(),
    )
    .await?;
    tracing::info!(client_id = %client.client_id, by = %admin.key_id, "client created");
    Ok((StatusCode::CREATED, Json(client.into())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateClientBody {
    name: Option<String>,
    /// `null` clears the owner; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    owner_id: Option<Option<String>>,
    metadata: Option<Value>,
    /// `true` disables the client (its keys and tokens are refused), `false` enables it.
    disabled: Option<bool>,
}

/// Tells an absent member (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

async fn update_client(
    State(state): State<AppState>,
    admin: AdminKey,
    AppPath(client_id): AppPath<String>,
    AppJson(body): AppJson<UpdateClientBody>,
) -> ApiResult<Json<ClientView>> {
    if client_id == store::ADMIN_CLIENT_ID {
        return Err(ApiError::Conflict("the admin client cannot be changed"));
    }
    let name = body.name.as_deref().map(check_name).transpose()?;
    if let Some(Some(owner)) = &body.owner_id {
        check_owner(owner)?;
    }
    let metadata = check_metadata(body.metadata)?;
    let owner = body.owner_id.as_ref().map(|o| o.as_deref());
    // Only a change is written (and audited): `{"disabled": …}` alone does not
    // touch name, owner or metadata.
    let client = if name.is_none() && owner.is_none() && metadata.is_none() {
        store::get_client(&state.db.pool, &client_id).await?
    } else {
        store::update_client(
            &state.db.pool,
            &client_id,
            name,
            owner,
            metadata.as_deref(),
            &admin.key_id,
            clock::now_ms(),
        )
        .await?
    }
    .ok_or(ApiError::NotFound("client"))?;
    let client = match body.disabled {
        Some(disabled) if disabled != client.disabled_at.is_some() => {
            let changed = store::set_client_disabled(
                &state.db.pool,
                &client_id,
                disabled,
                &admin.key_id,
                clock::now_ms(),
            )
            .await?
            .ok_or(ApiError::NotFound("client"))?;
            state.publish_wake.notify_one();
            changed
        }
        _ => client,
    };
    Ok(Json(client.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListClientsQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    owner_id: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Serialize)]
struct Page<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

/// A page from `limit + 1` fetched rows: the extra row only says that another
/// page exists, and the cursor is the last shown row's.
fn page<R, V: From<R>>(mut rows: Vec<R>, limit: i64, cursor_of: impl Fn(&R) -> String) -> Page<V> {
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(cursor_of)
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }
}

async fn list_clients(
    State(state): State<AppState>,
    _admin: AdminKey,
    AppQuery(query): AppQuery<ListClientsQuery>,
) -> ApiResult<Json<Page<ClientView>>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::Invalid(
            "limit must be between 1 and 500".to_owned(),
        ));
    }
    // One extra row tells whether another page exists.
    let clients = store::list_clients(
        &state.db.pool,
        query.cursor.as_deref(),
        query.owner_id.as_deref(),
        query.name.as_deref(),
        limit + 1,
    )
    .await?;
    Ok(Json(page(clients, limit, |c| c.client_id.clone())))
}

async fn get_client(
    State(state): State<AppState>,
    _admin: AdminKey,
    AppPath(client_id): AppPath<String>,
) -> ApiResult<Json<ClientView>> {
    let client = store::get_client(&state.db.pool, &client_id)
        .await?
        .ok_or(ApiError::NotFound("client"))?;
    Ok(Json(client.into()))
}

async fn delete_client(
    State(state): State<AppState>,
    admin: AdminKey,
    AppPath(client_id): AppPath<String>,
) -> ApiResult<StatusCode> {
    if client_id == store::ADMIN_CLIENT_ID {
        return Err(ApiError::Conflict("the admin client cannot be deleted"));
    }
    if !store::delete_client(&state.db.pool, &client_id, &admin.key_id, clock::now_ms()).await? {
        return Err(ApiError::NotFound("client"));
    }
    state.publish_wake.notify_one();
    tracing::info!(%client_id, by = %admin.key_id, "client deleted, its keys revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// Polls until KV has acknowledged `row`'s current revision or `wait_secs` pass.
async fn wait_until_published(state: &AppState, row: KeyRow, wait_secs: u32) -> ApiResult<KeyRow> {
    let deadline =
        tokio::time::Instant::now() + std::time::Duration::from_secs(u64::from(wait_secs));
    let mut row = row;
    while row.published_rev < row.rev && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        row = store::get_key(&state.db.pool, &row.key_id)
            .await?
            .unwrap_or(row);
    }
    Ok(row)
}

/// Refuses every JWT the client's keys signed until now, without revoking
/// the keys themselves (e.g. after a token leaked).
async fn revoke_client_tokens(
    State(state): State<AppState>,
    admin: AdminKey,
    AppPath(client_id): AppPath<String>,
) -> ApiResult<Json<ClientView>> {
    let client =
        store::revoke_client_tokens(&state.db.pool, &client_id, &admin.key_id, clock::now_ms())
            .await?
            .ok_or(ApiError::NotFound("client"))?;
    state.publish_wake.notify_one();
    tracing::info!(%client_id, by = %admin.key_id, "client tokens revoked");
    Ok(Json(client.into()))
}

// ---- keys ----

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

/// A key as the API shows it: never the secret (except once, at creation).
#[derive(Debug, Serialize)]
struct KeyView {
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

impl From<KeyRow> for KeyView {
    fn from(k: KeyRow) -> Self {
        let status = if k.revoked_at.is_some() {
            "revoked"
        } else if k.expires_at.is_some_and(|at| at <= clock::now_secs()) {
            "expired"
        } else {
            "active"
        };
        Self {
            scopes: k.scope_list(),
            published: k.published_rev >= k.rev,
            status,
            id: k.key_id,
            client_id: k.client_id,
            env: k.env,
            key_type: k.key_type.as_str().to_owned(),
            name: k.name,
            expires_at: k.expires_at,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

#[derive(Debug, Serialize)]
struct CreatedKey {
    /// The plaintext key: shown this once, stored nowhere.
    key: String,
    #[serde(flatten)]
    view: KeyView,
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
    if client_id == store::ADMIN_CLIENT_ID {
        return Err(ApiError::Conflict(
            "admin keys are created with `keygate admin-key create`",
        ));
    }
    // The client is checked by the insert itself (404 below).
    let env = body.env.unwrap_or_else(|| "live".to_owned());
    if !state.policy.environments.contains(&env) {
        return Err(ApiError::Invalid(format!(
            "env must be one of: {}",
            state.policy.environments.join(", ")
        )));
    }
    let key_type = match body.key_type.as_deref() {
        None => KeyType::Secret,
        Some(name) => KeyType::from_name(name)
            .ok_or_else(|| ApiError::Invalid("type must be secret or publishable".to_owned()))?,
    };
    let name = body.name.as_deref().map(str::trim);
    if name.is_some_and(|n| n.is_empty() || n.chars().count() > 200) {
        return Err(ApiError::Invalid(
            "name must be 1 to 200 characters".to_owned(),
        ));
    }
    if body.scopes.len() > 50 {
        return Err(ApiError::Invalid("at most 50 scopes".to_owned()));
    }
    for s in &body.scopes {
        shared::scope::Scope::parse(s).map_err(ApiError::Invalid)?;
    }
    let lifetime = match body.expires_in {
        None | Some(Value::Null) => state.policy.default_key_lifetime,
        // The same bounds as the duration form (1 s to 100 years).
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
    };
    let now_ms = clock::now_ms();
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
    let row = match store::insert_key(&state.db.pool, &new_key, &admin.key_id, now_ms).await {
        Err(sqlx::Error::RowNotFound) => return Err(ApiError::NotFound("client")),
        other => other?,
    };
    state.metrics.keys_minted(1);
    state.publish_wake.notify_one();
    let row = wait_until_published(&state, row, query.wait).await?;
    tracing::info!(key_id = %row.key_id, client_id = %row.client_id, by = %admin.key_id, "key created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: key.expose().to_owned(),
            view: row.into(),
        }),
    ))
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
    store::get_client(&state.db.pool, &client_id)
        .await?
        .ok_or(ApiError::NotFound("client"))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::Invalid(
            "limit must be between 1 and 1000".to_owned(),
        ));
    }
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
    Ok(Json(page(keys, limit, |k| {
        format!("{}.{}", k.created_at, k.key_id)
    })))
}

async fn get_key(
    State(state): State<AppState>,
    _admin: AdminKey,
    AppPath(key_id): AppPath<String>,
) -> ApiResult<Json<KeyView>> {
    let key = store::get_key(&state.db.pool, &key_id)
        .await?
        .ok_or(ApiError::NotFound("key"))?;
    Ok(Json(key.into()))
}

async fn revoke_key(
    State(state): State<AppState>,
    admin: AdminKey,
    AppPath(key_id): AppPath<String>,
) -> ApiResult<Json<KeyView>> {
    let key = store::revoke_key(&state.db.pool, &key_id, &admin.key_id, clock::now_ms())
        .await?
        .ok_or(ApiError::NotFound("key"))?;
    state.publish_wake.notify_one();
    tracing::info!(%key_id, by = %admin.key_id, "key revoked");
    Ok(Json(key.into()))
}

/// Self-service: the caller's own key (never its secret). Lets a key holder's
/// tooling learn its client id, e.g. for `keygate token mint`.
async fn key_self(holder: KeyHolder) -> Json<KeyView> {
    Json(holder.key.into())
}

async fn publish_status(
    State(state): State<AppState>,
    _admin: AdminKey,
) -> ApiResult<Json<store::PublishStatus>> {
    Ok(Json(store::publish_status(&state.db.pool).await?))
}

// ---- regenerate, JWKS, self-service, audit ----

/// Revokes every active key of `client_id` in `env` and issues one new key
/// per configured type, in one transaction. Returns the new keys (plaintext
/// shown this once) and the revoked ids.
async fn regenerate(
    state: &AppState,
    client_id: &str,
    env: &str,
    actor: &str,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if !state.policy.environments.iter().any(|e| e == env) {
        return Err(ApiError::Invalid(format!(
            "env must be one of: {}",
            state.policy.environments.join(", ")
        )));
    }
    let now_ms = clock::now_ms();
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
        store::regenerate_keys(&state.db.pool, client_id, env, &rows, actor, now_ms).await?;
    state.metrics.keys_minted(created.len() as u64);
    state.publish_wake.notify_one();
    tracing::info!(%client_id, %env, by = %actor, revoked = revoked.len(), "keys regenerated");
    let keys: Vec<Value> = created
        .into_iter()
        .zip(plaintexts)
        .map(|(row, key)| {
            serde_json::to_value(CreatedKey {
                key,
                view: row.into(),
            })
            .unwrap_or(Value::Null)
        })
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "keys": keys, "revoked": revoked })),
    ))
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
) -> ApiResult<(StatusCode, Json<Value>)> {
    if client_id == store::ADMIN_CLIENT_ID {
        return Err(ApiError::Conflict(
            "admin keys are created with `keygate admin-key create`",
        ));
    }
    store::get_client(&state.db.pool, &client_id)
        .await?
        .ok_or(ApiError::NotFound("client"))?;
    regenerate(&state, &client_id, &body.env, &admin.key_id).await
}

/// The client's active signing keys as a JWKS (public keys only), for
/// verifying its tokens anywhere (`keygate token verify --jwk`).
async fn client_jwks(
    State(state): State<AppState>,
    _admin: AdminKey,
    AppPath(client_id): AppPath<String>,
) -> ApiResult<Json<Value>> {
    store::get_client(&state.db.pool, &client_id)
        .await?
        .ok_or(ApiError::NotFound("client"))?;
    let now = clock::now_secs();
    let keys: Vec<Value> = store::list_keys(&state.db.pool, &client_id, None)
        .await?
        .into_iter()
        .filter(|k| k.revoked_at.is_none() && k.expires_at.is_none_or(|at| at > now))
        .filter_map(|k| k.public_jwk.and_then(|j| serde_json::from_str(&j).ok()))
        .collect();
    Ok(Json(serde_json::json!({ "keys": keys })))
}

/// Self-service: the caller's client's keys in `env` (never secrets).
async fn self_list_keys(
    State(state): State<AppState>,
    holder: KeyHolder,
    AppPath(env): AppPath<String>,
) -> ApiResult<Json<Page<KeyView>>> {
    let keys = store::list_keys(&state.db.pool, &holder.key.client_id, Some(&env)).await?;
    Ok(Json(Page {
        items: keys.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }))
}

/// Self-service: revokes the caller's client's keys in `env` and returns new
/// ones. Publishable keys may not do this (they live in client-side code).
async fn self_regenerate(
    State(state): State<AppState>,
    holder: KeyHolder,
    AppPath(env): AppPath<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if holder.key.key_type != KeyType::Secret || holder.key.is_admin() {
        return Err(ApiError::Forbidden);
    }
    let client_id = holder.key.client_id.clone();
    regenerate(&state, &client_id, &env, &holder.key.key_id).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<i64>,
    cursor: Option<i64>,
    target: Option<String>,
}

async fn list_audit(
    State(state): State<AppState>,
    _admin: AdminKey,
    AppQuery(query): AppQuery<AuditQuery>,
) -> ApiResult<Json<Value>> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::Invalid(
            "limit must be between 1 and 1000".to_owned(),
        ));
    }
    let entries =
        store::list_audit(&state.db.pool, query.cursor, query.target.as_deref(), limit).await?;
    let next_cursor = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.audit_id))
        .flatten();
    let items: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            serde_json::json!({
                "id": e.audit_id, "at_ms": e.at_ms, "actor": e.actor, "action": e.action, "target": e.target,
                "detail": serde_json::from_str::<Value>(&e.detail).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(Json(
        serde_json::json!({ "items": items, "next_cursor": next_cursor }),
    ))
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
) -> ApiResult<Json<crate::sync::SyncReport>> {
    let kv = state
        .kv
        .as_ref()
        .ok_or(ApiError::Unavailable("no KV namespace is configured"))?;
    let report = crate::sync::resync(&state.db, kv, query.dry_run)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "re-sync failed");
            ApiError::Unavailable("the KV namespace could not be synchronised; see the logs")
        })?;
    tracing::info!(by = %admin.key_id, dry_run = query.dry_run, "re-sync run");
    Ok(Json(report))
}
