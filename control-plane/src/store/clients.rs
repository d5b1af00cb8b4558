//! The `client` table: the holders of keys, with the state the edge checks
//! (disabled, tokens revoked before a time).

use serde::Serialize;
use sqlx::{AnyPool, FromRow};

use super::{bind_in, commit_change, in_list, Change, Target};

/// The reserved client that owns admin keys.
pub const ADMIN_CLIENT_ID: &str = "cl_admin";

/// A client: a service, user or organisation that holds keys.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Client {
    /// `cl_…`.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// The caller's own id for the owner.
    pub owner_id: Option<String>,
    /// Opaque JSON object, as text.
    pub metadata: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; set once deleted.
    pub deleted_at: Option<i64>,
    /// Tokens issued before this Unix time are refused.
    pub revoked_before: Option<i64>,
    /// Revision of the client's published state.
    pub rev: i64,
    /// Unix seconds; set while the client is disabled.
    pub disabled_at: Option<i64>,
}

const CLIENT_COLUMNS: &str =
    "client_id, name, owner_id, metadata, created_at, deleted_at, revoked_before, rev, disabled_at";

/// Inserts a client (and its audit row).
pub async fn insert_client(
    pool: &AnyPool,
    client_id: &str,
    name: &str,
    owner_id: Option<&str>,
    metadata: &str,
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<Client> {
    let mut tx = pool.begin().await?;
    let client: Client = sqlx::query_as(&format!(
        "insert into client (client_id, name, owner_id, metadata, created_at) values ($1, $2, $3, $4, $5) \
         returning {CLIENT_COLUMNS}"
    ))
    .bind(client_id)
    .bind(name)
    .bind(owner_id)
    .bind(metadata)
    .bind(now_ms / 1000)
    .fetch_one(&mut *tx)
    .await?;
    // The client's own KV record (token revocation time, disabled flag)
    // exists from the start, so a re-sync can hold KV to the database.
    let change = Change::new(actor, "client.create", client_id, now_ms)
        .with(serde_json::json!({ "name": name }));
    commit_change(tx, &[Target::Client(client_id)], change).await?;
    Ok(client)
}

/// Changes a live client's name, owner or metadata (`None`: unchanged).
/// `None` if there is no such live client.
pub async fn update_client(
    pool: &AnyPool,
    client_id: &str,
    name: Option<&str>,
    owner_id: Option<Option<&str>>,
    metadata: Option<&str>,
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<Option<Client>> {
    let mut tx = pool.begin().await?;
    let client: Option<Client> = sqlx::query_as(&format!(
        "update client set name = coalesce($1, name), \
         owner_id = case when $2 = 1 then $3 else owner_id end, \
         metadata = coalesce($4, metadata) \
         where client_id = $5 and deleted_at is null returning {CLIENT_COLUMNS}"
    ))
    .bind(name)
    .bind(i64::from(owner_id.is_some()))
    .bind(owner_id.flatten())
    .bind(metadata)
    .bind(client_id)
    .fetch_optional(&mut *tx)
    .await?;
    if client.is_some() {
        // Nothing the edge reads changed: nothing to publish.
        let detail = serde_json::json!({ "name": name, "owner_id": owner_id, "metadata_changed": metadata.is_some() });
        let change = Change::new(actor, "client.update", client_id, now_ms).with(detail);
        commit_change(tx, &[], change).await?;
    }
    Ok(client)
}

/// Creates the reserved admin client if it does not exist yet.
pub async fn ensure_admin_client(pool: &AnyPool, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "insert into client (client_id, name, created_at) values ($1, 'keygate administrators', $2) \
         on conflict (client_id) do nothing",
    )
    .bind(ADMIN_CLIENT_ID)
    .bind(now)
    .execute(pool)
    .await
    .map(drop)
}

/// A live (not deleted) client.
pub async fn get_client(pool: &AnyPool, client_id: &str) -> sqlx::Result<Option<Client>> {
    sqlx::query_as(&format!(
        "select {CLIENT_COLUMNS} from client where client_id = $1 and deleted_at is null"
    ))
    .bind(client_id)
    .fetch_optional(pool)
    .await
}

/// Live clients ordered by id, after the `after` cursor, optionally of one owner.
pub async fn list_clients(
    pool: &AnyPool,
    after: Option<&str>,
    owner_id: Option<&str>,
    name: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<Client>> {
    sqlx::query_as(&format!(
        "select {CLIENT_COLUMNS} from client where deleted_at is null \
         and ($1 is null or client_id > $1) and ($2 is null or owner_id = $2) \
         and ($3 is null or name = $3) order by client_id limit $4"
    ))
    .bind(after)
    .bind(owner_id)
    .bind(name)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Soft-deletes a client and revokes all its keys, in one transaction.
/// Returns false if there was no such live client.
pub async fn delete_client(
    pool: &AnyPool,
    client_id: &str,
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let deleted = sqlx::query(
        "update client set deleted_at = $1, rev = rev + 1 where client_id = $2 and deleted_at is null",
    )
    .bind(now_ms / 1000)
    .bind(client_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if deleted == 0 {
        return Ok(false);
    }
    let revoked: Vec<(String,)> = sqlx::query_as(
        "update api_key set revoked_at = $1, rev = rev + 1 where client_id = $2 and revoked_at is null returning key_id",
    )
    .bind(now_ms / 1000)
    .bind(client_id)
    .fetch_all(&mut *tx)
    .await?;
    // The client record too: the edge refuses a disabled client's tokens.
    let mut publish: Vec<Target<'_>> = revoked.iter().map(|(id,)| Target::Key(id)).collect();
    publish.push(Target::Client(client_id));
    let revoked_ids: Vec<&str> = revoked.iter().map(|(id,)| id.as_str()).collect();
    let change = Change::new(actor, "client.delete", client_id, now_ms)
        .with(serde_json::json!({ "revoked_keys": revoked_ids }));
    commit_change(tx, &publish, change).await?;
    Ok(true)
}

/// Disables or enables a live client. Its own record and every key's record
/// are republished (the edge refuses a disabled client's keys and tokens).
/// `None` if there is no such live client.
pub async fn set_client_disabled(
    pool: &AnyPool,
    client_id: &str,
    disabled: bool,
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<Option<Client>> {
    let mut tx = pool.begin().await?;
    let client: Option<Client> = sqlx::query_as(&format!(
        "update client set disabled_at = case when $1 = 1 then coalesce(disabled_at, $2) end, rev = rev + 1 \
         where client_id = $3 and deleted_at is null returning {CLIENT_COLUMNS}"
    ))
    .bind(i64::from(disabled))
    .bind(now_ms / 1000)
    .bind(client_id)
    .fetch_optional(&mut *tx)
    .await?;
    if client.is_some() {
        let keys: Vec<(String,)> = sqlx::query_as(
            "update api_key set rev = rev + 1 where client_id = $1 and revoked_at is null returning key_id",
        )
        .bind(client_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut publish: Vec<Target<'_>> = keys.iter().map(|(id,)| Target::Key(id)).collect();
        publish.push(Target::Client(client_id));
        let action = if disabled {
            "client.disable"
        } else {
            "client.enable"
        };
        let change = Change::new(actor, action, client_id, now_ms);
        commit_change(tx, &publish, change).await?;
    }
    Ok(client)
}

/// Refuses, from now on, every token the client's keys signed before now
/// (the client's `revoked_before`), in one transaction with its outbox entry.
/// `None` if there is no such live client.
pub async fn revoke_client_tokens(
    pool: &AnyPool,
    client_id: &str,
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<Option<Client>> {
    let mut tx = pool.begin().await?;
    let client: Option<Client> = sqlx::query_as(&format!(
        "update client set revoked_before = $1, rev = rev + 1 where client_id = $2 and deleted_at is null \
         returning {CLIENT_COLUMNS}"
    ))
    .bind(now_ms / 1000)
    .bind(client_id)
    .fetch_optional(&mut *tx)
    .await?;
    if client.is_some() {
        let change = Change::new(actor, "client.revoke_tokens", client_id, now_ms);
        commit_change(tx, &[Target::Client(client_id)], change).await?;
    }
    Ok(client)
}

/// The current rows of the given clients (deleted ones included).
pub async fn clients_by_id(pool: &AnyPool, client_ids: &[&str]) -> sqlx::Result<Vec<Client>> {
    if client_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = in_list(
        &format!("select {CLIENT_COLUMNS} from client where client_id in ({{in}})"),
        1,
        client_ids.len(),
    );
    let rows = bind_in(sqlx::query(&sql), client_ids)
        .fetch_all(pool)
        .await?;
    rows.iter().map(Client::from_row).collect()
}

/// Live clients that have no key at all (active or not) in `env`, for backfill.
pub async fn clients_without_keys(pool: &AnyPool, env: &str) -> sqlx::Result<Vec<Client>> {
    sqlx::query_as(&format!(
        "select {CLIENT_COLUMNS} from client c where deleted_at is null and client_id <> $1 \
         and not exists (select 1 from api_key k where k.client_id = c.client_id and k.env = $2) \
         order by client_id"
    ))
    .bind(ADMIN_CLIENT_ID)
    .bind(env)
    .fetch_all(pool)
    .await
}

/// Every client but the admin client (deleted ones too: their record says disabled).
pub async fn all_clients(pool: &AnyPool) -> sqlx::Result<Vec<Client>> {
    sqlx::query_as(&format!(
        "select {CLIENT_COLUMNS} from client where client_id <> $1"
    ))
    .bind(ADMIN_CLIENT_ID)
    .fetch_all(pool)
    .await
}
