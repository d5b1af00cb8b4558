//! All SQL of the control plane: one backend-neutral set of queries that runs
//! unchanged on SQLite and PostgreSQL (`$n` placeholders, `returning`,
//! `on conflict`, integers and text only).
//!
//! Every change that affects verification at the edge writes its outbox
//! entry in the same transaction as the change itself: what the publisher
//! sends is exactly what the database committed.

use serde::Serialize;
use shared::key::KeyType;
use sqlx::{any::AnyRow, Any, AnyPool, FromRow, Row as _, Transaction};

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

/// A key as stored: never the key itself, only its hash.
///
/// Decoding a row checks every column whose corruption would widen access
/// (scopes, key type, environment): a row that does not decode is an error
/// (the caller refuses or fails), never a key without restrictions.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Public key id.
    pub key_id: String,
    /// Owner.
    pub client_id: String,
    /// Environment.
    pub env: String,
    /// Secret or publishable.
    pub key_type: KeyType,
    /// Optional label.
    pub name: Option<String>,
    /// The scopes (stored as a JSON array); empty means unrestricted, so a
    /// column that does not decode fails the row instead of reading as empty.
    pub scopes: Vec<String>,
    /// Hex SHA-256 of the key.
    pub key_hash: String,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub revoked_at: Option<i64>,
    /// State revision, bumped on every verification-relevant change.
    pub rev: i64,
    /// Newest revision acknowledged by KV.
    pub published_rev: i64,
    /// The public JWK (JSON) of a secret key's Ed25519 pair.
    pub public_jwk: Option<String>,
}

impl KeyRow {
    /// The scopes as a list.
    pub fn scope_list(&self) -> Vec<String> {
        self.scopes.clone()
    }

    /// Whether this is an admin key of the control plane.
    pub fn is_admin(&self) -> bool {
        self.client_id == ADMIN_CLIENT_ID && self.scopes.iter().any(|s| s == shared::scope::ADMIN)
    }
}

impl<'r> FromRow<'r, AnyRow> for KeyRow {
    fn from_row(row: &'r AnyRow) -> sqlx::Result<Self> {
        let key_type: String = row.try_get("key_type")?;
        let key_type =
            KeyType::from_name(&key_type).ok_or_else(|| corrupt("key_type", "unknown key type"))?;
        let env: String = row.try_get("env")?;
        if !shared::key::is_valid_environment(&env) {
            return Err(corrupt("env", "not an environment name"));
        }
        let scopes: String = row.try_get("scopes")?;
        let scopes = decode_scopes(&scopes)
            .ok_or_else(|| corrupt("scopes", "not a JSON array of valid scopes"))?;
        Ok(Self {
            key_id: row.try_get("key_id")?,
            client_id: row.try_get("client_id")?,
            env,
            key_type,
            name: row.try_get("name")?,
            scopes,
            key_hash: row.try_get("key_hash")?,
            expires_at: row.try_get("expires_at")?,
            created_at: row.try_get("created_at")?,
            revoked_at: row.try_get("revoked_at")?,
            rev: row.try_get("rev")?,
            published_rev: row.try_get("published_rev")?,
            public_jwk: row.try_get("public_jwk")?,
        })
    }
}

/// A stored scope list: a JSON array of scopes that each parse (or the
/// reserved admin scope). Anything else is `None`, never an empty list.
fn decode_scopes(text: &str) -> Option<Vec<String>> {
    let scopes: Vec<String> = serde_json::from_str(text).ok()?;
    scopes
        .iter()
        .all(|s| s == shared::scope::ADMIN || shared::scope::Scope::parse(s).is_ok())
        .then_some(scopes)
}

/// The error for a column that holds what we never write.
fn corrupt(column: &str, reason: &'static str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: reason.into(),
    }
}

/// What a new key row needs.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Public key id.
    pub key_id: String,
    /// Owner.
    pub client_id: String,
    /// Environment.
    pub env: String,
    /// `secret` or `publishable`.
    pub key_type: String,
    /// Optional label.
    pub name: Option<String>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Hex SHA-256 of the key.
    pub key_hash: String,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    /// The public JWK (JSON), for secret keys.
    pub public_jwk: Option<String>,
}

/// One pending outbox entry.
#[derive(Debug, Clone, FromRow)]
pub struct OutboxEntry {
    /// Sequence number.
    pub outbox_id: i64,
    /// The key whose current state must reach KV.
    pub key_id: String,
    /// Failed attempts so far.
    pub attempts: i64,
}

/// How far behind KV is.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PublishStatus {
    /// Outbox entries not yet acknowledged.
    pub pending: i64,
    /// Creation time of the oldest pending entry, Unix milliseconds.
    pub oldest_pending_ms: Option<i64>,
    /// Last successful publish, Unix milliseconds.
    pub last_success_ms: Option<i64>,
    /// Last publish error (no secrets: KV API messages only).
    pub last_error: Option<String>,
    /// When it happened, Unix milliseconds.
    pub last_error_ms: Option<i64>,
}

const CLIENT_COLUMNS: &str =
    "client_id, name, owner_id, metadata, created_at, deleted_at, revoked_before, rev, disabled_at";
const KEY_COLUMNS: &str =
    "key_id, client_id, env, key_type, name, scopes, key_hash, expires_at, created_at, \
     revoked_at, rev, published_rev, public_jwk";

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
    enqueue(&mut tx, client_id, now_ms).await?;
    audit(
        &mut tx,
        actor,
        "client.create",
        client_id,
        &serde_json::json!({ "name": name }),
        now_ms,
    )
    .await?;
    tx.commit().await?;
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
        let detail = serde_json::json!({ "name": name, "owner_id": owner_id, "metadata_changed": metadata.is_some() });
        audit(&mut tx, actor, "client.update", client_id, &detail, now_ms).await?;
    }
    tx.commit().await?;
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
    for (key_id,) in &revoked {
        enqueue(&mut tx, key_id, now_ms).await?;
    }
    // The client record too: the edge refuses a disabled client's tokens.
    enqueue(&mut tx, client_id, now_ms).await?;
    let revoked_ids: Vec<&str> = revoked.iter().map(|(id,)| id.as_str()).collect();
    audit(
        &mut tx,
        actor,
        "client.delete",
        client_id,
        &serde_json::json!({ "revoked_keys": revoked_ids }),
        now_ms,
    )
    .await?;
    tx.commit().await?;
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
            "select key_id from api_key where client_id = $1 and revoked_at is null",
        )
        .bind(client_id)
        .fetch_all(&mut *tx)
        .await?;
        for (key_id,) in &keys {
            sqlx::query("update api_key set rev = rev + 1 where key_id = $1")
                .bind(key_id)
                .execute(&mut *tx)
                .await?;
            enqueue(&mut tx, key_id, now_ms).await?;
        }
        enqueue(&mut tx, client_id, now_ms).await?;
        let action = if disabled {
            "client.disable"
        } else {
            "client.enable"
        };
        audit(
            &mut tx,
            actor,
            action,
            client_id,
            &serde_json::json!({}),
            now_ms,
        )
        .await?;
    }
    tx.commit().await?;
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
        enqueue(&mut tx, client_id, now_ms).await?;
        audit(
            &mut tx,
            actor,
            "client.revoke_tokens",
            client_id,
            &serde_json::json!({}),
            now_ms,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(client)
}

/// The current rows of the given clients (deleted ones included).
pub async fn clients_by_id(pool: &AnyPool, client_ids: &[&str]) -> sqlx::Result<Vec<Client>> {
    if client_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "select {CLIENT_COLUMNS} from client where client_id in ({})",
        placeholders(1, client_ids.len())
    );
    let mut query = sqlx::query_as::<_, Client>(&sql);
    for id in client_ids {
        query = query.bind(*id);
    }
    query.fetch_all(pool).await
}

/// Inserts a key, its outbox entry and its audit row in one transaction
/// (admin keys are not published: they open the control plane, not the edge).
pub async fn insert_key(
    pool: &AnyPool,
    key: &NewKey,
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<KeyRow> {
    let mut tx = pool.begin().await?;
    let row = insert_key_in(&mut tx, key, actor, now_ms).await?;
    tx.commit().await?;
    Ok(row)
}

async fn insert_key_in(
    tx: &mut Transaction<'_, Any>,
    key: &NewKey,
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<KeyRow> {
    let scopes = serde_json::to_string(&key.scopes).unwrap_or_else(|_| "[]".to_owned());
    let row: KeyRow = sqlx::query_as(&format!(
        // Inserted only for a live client, in the same statement: one round
        // trip fewer than checking first, and no race with a delete. No row
        // back (sqlx: RowNotFound) means no such live client.
        "insert into api_key (key_id, client_id, env, key_type, name, scopes, key_hash, expires_at, created_at, \
         public_jwk) select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 \
         where exists (select 1 from client where client_id = $2 and deleted_at is null) returning {KEY_COLUMNS}"
    ))
    .bind(&key.key_id)
    .bind(&key.client_id)
    .bind(&key.env)
    .bind(&key.key_type)
    .bind(&key.name)
    .bind(&scopes)
    .bind(&key.key_hash)
    .bind(key.expires_at)
    .bind(now_ms / 1000)
    .bind(&key.public_jwk)
    .fetch_one(&mut **tx)
    .await?;
    if !row.is_admin() {
        enqueue(tx, &row.key_id, now_ms).await?;
    }
    let detail =
        serde_json::json!({ "client_id": key.client_id, "env": key.env, "type": key.key_type });
    audit(tx, actor, "key.create", &row.key_id, &detail, now_ms).await?;
    Ok(row)
}

/// Revokes every active key of a client in one environment and inserts the
/// replacements, all in one transaction. Returns the revoked key ids and the
/// new rows.
pub async fn regenerate_keys(
    pool: &AnyPool,
    client_id: &str,
    env: &str,
    replacements: &[NewKey],
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<(Vec<String>, Vec<KeyRow>)> {
    let mut tx = pool.begin().await?;
    let revoked: Vec<(String,)> = sqlx::query_as(
        "update api_key set revoked_at = $1, rev = rev + 1 \
         where client_id = $2 and env = $3 and revoked_at is null returning key_id",
    )
    .bind(now_ms / 1000)
    .bind(client_id)
    .bind(env)
    .fetch_all(&mut *tx)
    .await?;
    for (key_id,) in &revoked {
        enqueue(&mut tx, key_id, now_ms).await?;
    }
    let mut rows = Vec::with_capacity(replacements.len());
    for key in replacements {
        rows.push(insert_key_in(&mut tx, key, actor, now_ms).await?);
    }
    let revoked: Vec<String> = revoked.into_iter().map(|(id,)| id).collect();
    let detail = serde_json::json!({ "env": env, "revoked": revoked, "issued": rows.iter().map(|r| &r.key_id).collect::<Vec<_>>() });
    audit(
        &mut tx,
        actor,
        "keys.regenerate",
        client_id,
        &detail,
        now_ms,
    )
    .await?;
    tx.commit().await?;
    Ok((revoked, rows))
}

/// One key by id.
pub async fn get_key(pool: &AnyPool, key_id: &str) -> sqlx::Result<Option<KeyRow>> {
    sqlx::query_as(&format!(
        "select {KEY_COLUMNS} from api_key where key_id = $1"
    ))
    .bind(key_id)
    .fetch_optional(pool)
    .await
}

/// One key by the hash of its text (how presented keys are found).
pub async fn find_key_by_hash(pool: &AnyPool, key_hash: &str) -> sqlx::Result<Option<KeyRow>> {
    sqlx::query_as(&format!(
        "select {KEY_COLUMNS} from api_key where key_hash = $1"
    ))
    .bind(key_hash)
    .fetch_optional(pool)
    .await
}

/// A client's keys, optionally of one environment, newest first.
pub async fn list_keys(
    pool: &AnyPool,
    client_id: &str,
    env: Option<&str>,
) -> sqlx::Result<Vec<KeyRow>> {
    sqlx::query_as(&format!(
        "select {KEY_COLUMNS} from api_key where client_id = $1 and ($2 is null or env = $2) \
         order by created_at desc, key_id"
    ))
    .bind(client_id)
    .bind(env)
    .fetch_all(pool)
    .await
}

/// One page of a client's keys, newest first, after the keyset cursor
/// `(created_at, key_id)` of the previous page's last row: the cost of a page
/// does not grow with the table (index `api_key_client_created`).
pub async fn list_keys_page(
    pool: &AnyPool,
    client_id: &str,
    env: Option<&str>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> sqlx::Result<Vec<KeyRow>> {
    sqlx::query_as(&format!(
        "select {KEY_COLUMNS} from api_key where client_id = $1 and ($2 is null or env = $2) \
         and ($3 is null or created_at < $3 or (created_at = $3 and key_id > $4)) \
         order by created_at desc, key_id limit $5"
    ))
    .bind(client_id)
    .bind(env)
    .bind(after.map(|(created_at, _)| created_at))
    .bind(after.map(|(_, key_id)| key_id))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Revokes a key (idempotent: revoking a revoked key changes nothing).
/// `None` if there is no such key.
pub async fn revoke_key(
    pool: &AnyPool,
    key_id: &str,
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<Option<KeyRow>> {
    let mut tx = pool.begin().await?;
    let revoked: Option<KeyRow> = sqlx::query_as(&format!(
        "update api_key set revoked_at = $1, rev = rev + 1 where key_id = $2 and revoked_at is null \
         returning {KEY_COLUMNS}"
    ))
    .bind(now_ms / 1000)
    .bind(key_id)
    .fetch_optional(&mut *tx)
    .await?;
    let row = match revoked {
        Some(row) => {
            if !row.is_admin() {
                enqueue(&mut tx, key_id, now_ms).await?;
            }
            audit(
                &mut tx,
                actor,
                "key.revoke",
                key_id,
                &serde_json::json!({ "client_id": row.client_id }),
                now_ms,
            )
            .await?;
            Some(row)
        }
        None => {
            sqlx::query_as(&format!(
                "select {KEY_COLUMNS} from api_key where key_id = $1"
            ))
            .bind(key_id)
            .fetch_optional(&mut *tx)
            .await?
        }
    };
    tx.commit().await?;
    Ok(row)
}

/// One row of the audit log.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AuditEntry {
    /// Sequence number (the list cursor).
    pub audit_id: i64,
    /// When, Unix milliseconds.
    pub at_ms: i64,
    /// The key id that made the change (`cli` for the command line's direct writes).
    pub actor: String,
    /// What was done, e.g. `key.revoke`.
    pub action: String,
    /// The client or key acted on.
    pub target: String,
    /// JSON details (never a secret).
    pub detail: String,
}

async fn audit(
    tx: &mut Transaction<'_, Any>,
    actor: &str,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
    now_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into audit_log (at_ms, actor, action, target, detail) values ($1, $2, $3, $4, $5)",
    )
    .bind(now_ms)
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// Audit entries, newest first, before the `before` cursor, optionally for one target.
pub async fn list_audit(
    pool: &AnyPool,
    before: Option<i64>,
    target: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    sqlx::query_as(
        "select audit_id, at_ms, actor, action, target, detail from audit_log \
         where ($1 is null or audit_id < $1) and ($2 is null or target = $2) order by audit_id desc limit $3",
    )
    .bind(before)
    .bind(target)
    .bind(limit)
    .fetch_all(pool)
    .await
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

async fn enqueue(tx: &mut Transaction<'_, Any>, key_id: &str, now_ms: i64) -> sqlx::Result<()> {
    sqlx::query("insert into outbox (key_id, created_at_ms, next_attempt_ms) values ($1, $2, $2)")
        .bind(key_id)
        .bind(now_ms)
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// Outbox entries due at `now_ms`, oldest first.
pub async fn due_outbox(pool: &AnyPool, now_ms: i64, limit: i64) -> sqlx::Result<Vec<OutboxEntry>> {
    sqlx::query_as(
        "select outbox_id, key_id, attempts from outbox where next_attempt_ms <= $1 order by outbox_id limit $2",
    )
    .bind(now_ms)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Claims up to `limit` due entries for `lease_ms` and returns them, oldest
/// first. Entries of a key (or client) that another publisher has claimed
/// are left alone, so one name is never published by two publishers at once.
/// On PostgreSQL, concurrent claimers skip each other's rows (`skip locked`)
/// and serialise on each name (a transaction advisory lock), so no entry is
/// claimed twice while its claim holds.
pub async fn claim_outbox(
    db: &crate::db::Db,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
) -> sqlx::Result<Vec<OutboxEntry>> {
    let postgres = db.backend == crate::db::Backend::Postgres;
    let sql = format!(
        "update outbox set claimed_until_ms = $1 where outbox_id in ( \
           select outbox_id from outbox o where next_attempt_ms <= $2 \
           and (claimed_until_ms is null or claimed_until_ms <= $2) \
           and not exists (select 1 from outbox c where c.key_id = o.key_id and c.claimed_until_ms > $2) \
           {} order by outbox_id limit $3 {}) \
         returning outbox_id, key_id, attempts",
        if postgres { "and pg_try_advisory_xact_lock(hashtext(o.key_id))" } else { "" },
        if postgres { "for update skip locked" } else { "" },
    );
    let mut tx = db.pool.begin().await?;
    let mut entries: Vec<OutboxEntry> = sqlx::query_as(&sql)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    entries.sort_by_key(|e| e.outbox_id);
    Ok(entries)
}

/// The current rows of the given keys, and the ids of the rows that do not
/// decode (a corrupted column): those must not be published, and one of them
/// must not hold back the others.
pub async fn keys_by_id(
    pool: &AnyPool,
    key_ids: &[&str],
) -> sqlx::Result<(Vec<KeyRow>, Vec<String>)> {
    if key_ids.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let sql = format!(
        "select {KEY_COLUMNS} from api_key where key_id in ({})",
        placeholders(1, key_ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in key_ids {
        query = query.bind(*id);
    }
    let (mut rows, mut undecodable) = (Vec::new(), Vec::new());
    for row in query.fetch_all(pool).await? {
        match KeyRow::from_row(&row) {
            Ok(key) => rows.push(key),
            Err(e) => {
                let key_id: String = row.try_get("key_id")?;
                tracing::error!(%key_id, error = %e, "key row does not decode: not published");
                undecodable.push(key_id);
            }
        }
    }
    Ok((rows, undecodable))
}

/// Every key that belongs in KV (all but admin keys), for a re-sync.
pub async fn all_published_keys(pool: &AnyPool) -> sqlx::Result<Vec<KeyRow>> {
    sqlx::query_as(&format!(
        "select {KEY_COLUMNS} from api_key where client_id <> $1"
    ))
    .bind(ADMIN_CLIENT_ID)
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

/// Marks entries delivered: removes them and records the published revisions.
pub async fn complete_outbox(
    pool: &AnyPool,
    outbox_ids: &[i64],
    published: &[(String, i64)],
    now_ms: i64,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    for chunk in outbox_ids.chunks(500) {
        let sql = format!(
            "delete from outbox where outbox_id in ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut *tx).await?;
    }
    // One statement per revision value and 500 keys, not one per key: a
    // batch is mostly keys at the same revision.
    let mut by_rev: std::collections::BTreeMap<i64, Vec<&str>> = std::collections::BTreeMap::new();
    for (key_id, rev) in published {
        by_rev.entry(*rev).or_default().push(key_id);
    }
    for (rev, key_ids) in by_rev {
        for chunk in key_ids.chunks(500) {
            let sql = format!(
                "update api_key set published_rev = $1 where published_rev < $1 and key_id in ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(rev);
            for key_id in chunk {
                query = query.bind(*key_id);
            }
            query.execute(&mut *tx).await?;
        }
    }
    record_publish_result(&mut tx, now_ms, None).await?;
    tx.commit().await
}

/// Schedules failed entries for a retry and records the error.
pub async fn fail_outbox(
    pool: &AnyPool,
    entries: &[(i64, i64)],
    error: &str,
    now_ms: i64,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    for (outbox_id, next_attempt_ms) in entries {
        sqlx::query(
            "update outbox set attempts = attempts + 1, next_attempt_ms = $1, last_error = $2, \
             claimed_until_ms = null where outbox_id = $3",
        )
        .bind(*next_attempt_ms)
        .bind(error)
        .bind(*outbox_id)
        .execute(&mut *tx)
        .await?;
    }
    record_publish_result(&mut tx, now_ms, Some(error)).await?;
    tx.commit().await
}

async fn record_publish_result(
    tx: &mut Transaction<'_, Any>,
    now_ms: i64,
    error: Option<&str>,
) -> sqlx::Result<()> {
    let sql = if error.is_none() {
        "insert into publish_state (name, last_success_ms) values ('kv', $1) \
         on conflict (name) do update set last_success_ms = $1"
    } else {
        "insert into publish_state (name, last_error, last_error_ms) values ('kv', $2, $1) \
         on conflict (name) do update set last_error = $2, last_error_ms = $1"
    };
    let query = sqlx::query(sql).bind(now_ms);
    let query = if error.is_some() {
        query.bind(error)
    } else {
        query
    };
    query.execute(&mut **tx).await.map(drop)
}

/// Pending entries and the last publish outcome.
pub async fn publish_status(pool: &AnyPool) -> sqlx::Result<PublishStatus> {
    let (pending, oldest): (i64, Option<i64>) =
        sqlx::query_as("select count(*), min(created_at_ms) from outbox")
            .fetch_one(pool)
            .await?;
    let state: Option<AnyRow> = sqlx::query(
        "select last_success_ms, last_error, last_error_ms from publish_state where name = 'kv'",
    )
    .fetch_optional(pool)
    .await?;
    let mut status = PublishStatus {
        pending,
        oldest_pending_ms: oldest,
        ..PublishStatus::default()
    };
    if let Some(row) = state {
        status.last_success_ms = row.try_get(0)?;
        status.last_error = row.try_get(1)?;
        status.last_error_ms = row.try_get(2)?;
    }
    Ok(status)
}

fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an error is a unique-constraint violation (a client-visible conflict).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}
