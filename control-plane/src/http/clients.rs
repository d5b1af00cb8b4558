//! `/v1/clients`: the holders of keys. Create, list, read, change (name,
//! owner, metadata, disabled), delete, and revoke every token they signed.

use axum::{extract::State, http::StatusCode, routing::post, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    extract::{AdminKey, AppJson, AppPath, AppQuery},
    page::{self, Page},
    Routes,
};
use crate::{
    error::{ApiError, ApiResult},
    mint,
    state::AppState,
    store::{self, Client},
};

pub(super) fn router() -> Routes {
    Routes::default()
        .route("/v1/clients", post(create_client).get(list_clients))
        .route(
            "/v1/clients/{client_id}",
            axum::routing::get(get_client)
                .patch(update_client)
                .delete(delete_client),
        )
        .route(
            "/v1/clients/{client_id}/revoke-tokens",
            post(revoke_client_tokens),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClientBody {
    name: String,
    owner_id: Option<String>,
    #[serde(default)]
    metadata: Option<Value>,
}

#[derive(Debug, Serialize)]
pub(super) struct ClientView {
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

/// A name (of a client or a key): trimmed, 1 to 200 characters.
pub(super) fn check_name(name: &str) -> ApiResult<&str> {
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

/// Refuses changes to the reserved admin client.
pub(super) fn not_admin_client(client_id: &str, refusal: &'static str) -> ApiResult<()> {
    if client_id == store::ADMIN_CLIENT_ID {
        return Err(ApiError::Conflict(refusal));
    }
    Ok(())
}

/// The live client `client_id`, or 404.
pub(super) async fn live_client(state: &AppState, client_id: &str) -> ApiResult<Client> {
    store::get_client(&state.db.pool, client_id)
        .await?
        .ok_or(ApiError::NotFound("client"))
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
        state.clock.now_ms(),
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
    not_admin_client(&client_id, "the admin client cannot be changed")?;
    let name = body.name.as_deref().map(check_name).transpose()?;
    if let Some(Some(owner)) = &body.owner_id {
        check_owner(owner)?;
    }
    let metadata = check_metadata(body.metadata)?;
    let owner = body.owner_id.as_ref().map(|o| o.as_deref());
    // Only a change is written (and audited): `{"disabled": …}` alone does not
    // touch name, owner or metadata.
    let client = if name.is_none() && owner.is_none() && metadata.is_none() {
        live_client(&state, &client_id).await?
    } else {
        store::update_client(
            &state.db.pool,
            &client_id,
            name,
            owner,
            metadata.as_deref(),
            &admin.key_id,
            state.clock.now_ms(),
        )
        .await?
        .ok_or(ApiError::NotFound("client"))?
    };
    let client = match body.disabled {
        Some(disabled) if disabled != client.disabled_at.is_some() => {
            let changed = store::set_client_disabled(
                &state.db.pool,
                &client_id,
                disabled,
                &admin.key_id,
                state.clock.now_ms(),
            )
            .await?
            .ok_or(ApiError::NotFound("client"))?;
            state.changed();
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

async fn list_clients(
    State(state): State<AppState>,
    _admin: AdminKey,
    AppQuery(query): AppQuery<ListClientsQuery>,
) -> ApiResult<Json<Page<ClientView>>> {
    let limit = page::limit(query.limit, 50, 500)?;
    let clients = store::list_clients(
        &state.db.pool,
        query.cursor.as_deref(),
        query.owner_id.as_deref(),
        query.name.as_deref(),
        limit + 1,
    )
    .await?;
    Ok(Json(page::page(
        clients,
        limit,
        |c| c.client_id.clone(),
        ClientView::from,
    )))
}

async fn get_client(
    State(state): State<AppState>,
    _admin: AdminKey,
    AppPath(client_id): AppPath<String>,
) -> ApiResult<Json<ClientView>> {
    Ok(Json(live_client(&state, &client_id).await?.into()))
}

async fn delete_client(
    State(state): State<AppState>,
    admin: AdminKey,
    AppPath(client_id): AppPath<String>,
) -> ApiResult<StatusCode> {
    not_admin_client(&client_id, "the admin client cannot be deleted")?;
    let now_ms = state.clock.now_ms();
    if !store::delete_client(&state.db.pool, &client_id, &admin.key_id, now_ms).await? {
        return Err(ApiError::NotFound("client"));
    }
    state.changed();
    tracing::info!(%client_id, by = %admin.key_id, "client deleted, its keys revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses every JWT the client's keys signed until now, without revoking
/// the keys themselves (e.g. after a token leaked).
async fn revoke_client_tokens(
    State(state): State<AppState>,
    admin: AdminKey,
    AppPath(client_id): AppPath<String>,
) -> ApiResult<Json<ClientView>> {
    let now_ms = state.clock.now_ms();
    let client = store::revoke_client_tokens(&state.db.pool, &client_id, &admin.key_id, now_ms)
        .await?
        .ok_or(ApiError::NotFound("client"))?;
    state.changed();
    tracing::info!(%client_id, by = %admin.key_id, "client tokens revoked");
    Ok(Json(client.into()))
}
