//! The `api_key` table: keys as stored (a hash, never the key), their
//! scopes and state, and their revisions for publishing.

use shared::key::KeyType;
use sqlx::{any::AnyRow, Any, AnyPool, FromRow, Row as _, Transaction};

use super::{
    bind_in, commit_change, corrupt, in_list, record_change, Change, Target, ADMIN_CLIENT_ID,
};

/// A key as stored: never the key itself, only its hash.
///
/// Decoding a row checks every column whose corruption would widen access
/// (scopes, key type, environment): a row that does not decode is an error
/// (the caller refuses or fails), never a key without restrictions.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Public key id.
    pub key_id: String,
    /// The client that holds the key.
    pub client_id: String,
    /// The environment the key was issued for (`live`, `test`, …).
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

    /// Whether this is a verify key of the control plane (it may call
    /// `POST /v1/verify`, nothing else).
    pub fn is_verifier(&self) -> bool {
        self.client_id == ADMIN_CLIENT_ID && self.scopes.iter().any(|s| s == shared::scope::VERIFY)
    }

    /// Whether this key opens the control plane (admin or verify key): such
    /// keys are never published, so the edge never accepts them.
    pub fn is_control_plane_key(&self) -> bool {
        self.is_admin() || self.is_verifier()
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
        .all(|s| {
            s == shared::scope::ADMIN
                || s == shared::scope::VERIFY
                || shared::scope::Scope::parse(s).is_ok()
        })
        .then_some(scopes)
}

/// What a new key row needs.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Public key id.
    pub key_id: String,
    /// The client that holds the key.
    pub client_id: String,
    /// The environment the key is issued for.
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

const KEY_COLUMNS: &str =
    "key_id, client_id, env, key_type, name, scopes, key_hash, expires_at, created_at, \
     revoked_at, rev, published_rev, public_jwk";

/// Inserts a key, its outbox entry and its audit row in one transaction
/// (admin keys are not published: they open the control plane, not the
/// edge). `None` if there is no such live client.
pub async fn insert_key(
    pool: &AnyPool,
    key: &NewKey,
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<Option<KeyRow>> {
    let mut tx = pool.begin().await?;
    let row = insert_key_in(&mut tx, key, actor, now_ms).await?;
    if row.is_some() {
        tx.commit().await?;
    }
    Ok(row)
}

async fn insert_key_in(
    tx: &mut Transaction<'_, Any>,
    key: &NewKey,
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<Option<KeyRow>> {
    let scopes = serde_json::Value::from(key.scopes.clone()).to_string();
    let row: Option<KeyRow> = sqlx::query_as(&format!(
        // Inserted only for a live client, in the same statement: one round
        // trip fewer than checking first, and no race with a delete.
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
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let publish = if row.is_control_plane_key() {
        Vec::new()
    } else {
        vec![Target::Key(&row.key_id)]
    };
    let change = Change::new(actor, "key.create", &row.key_id, now_ms).with(
        serde_json::json!({ "client_id": key.client_id, "env": key.env, "type": key.key_type }),
    );
    record_change(tx, &publish, change).await?;
    Ok(Some(row))
}

/// Revokes every active key of a client in one environment and inserts the
/// replacements, all in one transaction. Returns the revoked key ids and the
/// new rows; `None` (nothing changed) if there is no such live client.
pub async fn regenerate_keys(
    pool: &AnyPool,
    client_id: &str,
    env: &str,
    replacements: &[NewKey],
    actor: &str,
    now_ms: i64,
) -> sqlx::Result<Option<(Vec<String>, Vec<KeyRow>)>> {
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
    let revoked: Vec<String> = revoked.into_iter().map(|(id,)| id).collect();
    let mut rows = Vec::with_capacity(replacements.len());
    for key in replacements {
        // No live client: dropping the transaction rolls the revocations back.
        let Some(row) = insert_key_in(&mut tx, key, actor, now_ms).await? else {
            return Ok(None);
        };
        rows.push(row);
    }
    let publish: Vec<Target<'_>> = revoked.iter().map(|id| Target::Key(id)).collect();
    let issued: Vec<&str> = rows.iter().map(|r| r.key_id.as_str()).collect();
    let change = Change::new(actor, "keys.regenerate", client_id, now_ms)
        .with(serde_json::json!({ "env": env, "revoked": revoked, "issued": issued }));
    commit_change(tx, &publish, change).await?;
    Ok(Some((revoked, rows)))
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
    let Some(row) = revoked else {
        drop(tx);
        return get_key(pool, key_id).await;
    };
    let publish = if row.is_control_plane_key() {
        Vec::new()
    } else {
        vec![Target::Key(key_id)]
    };
    let change = Change::new(actor, "key.revoke", key_id, now_ms)
        .with(serde_json::json!({ "client_id": row.client_id }));
    commit_change(tx, &publish, change).await?;
    Ok(Some(row))
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
    let sql = in_list(
        &format!("select {KEY_COLUMNS} from api_key where key_id in ({{in}})"),
        1,
        key_ids.len(),
    );
    let (mut rows, mut undecodable) = (Vec::new(), Vec::new());
    for row in bind_in(sqlx::query(&sql), key_ids).fetch_all(pool).await? {
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
