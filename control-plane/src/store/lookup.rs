//! The lookups of a credential check: a key's row and its live client's row
//! in one query (one round trip instead of two: the verification API's hot
//! path). Read-only, so on PostgreSQL they run on the database's reader
//! connections ([`Db::fetch_optional`]).

use sqlx::{any::AnyRow, FromRow as _, Row as _};

use super::{Client, KeyRow};
use crate::db::Db;

/// A key's row, and its client's row unless the client is deleted (or
/// missing): what [`crate::records::edge_records`] needs.
pub type KeyAndClient = (KeyRow, Option<Client>);

/// The joined query with the condition `$where` (a literal: the SQL is
/// one constant, not built per request).
macro_rules! joined {
    ($where:literal) => {
        concat!(
            "select k.key_id, k.client_id, k.env, k.key_type, k.name, k.scopes, k.key_hash, \
     k.expires_at, k.created_at, k.revoked_at, k.rev, k.published_rev, k.public_jwk, \
     c.client_id as c_client_id, c.name as c_name, c.owner_id as c_owner_id, \
     c.metadata as c_metadata, c.created_at as c_created_at, c.deleted_at as c_deleted_at, \
     c.revoked_before as c_revoked_before, c.rev as c_rev, c.disabled_at as c_disabled_at \
     from api_key k left join client c on c.client_id = k.client_id and c.deleted_at is null \
     where ",
            $where
        )
    };
}

/// The key whose hash is `key_hash` (how presented keys are found), with its client.
pub async fn key_and_client_by_hash(db: &Db, key_hash: &str) -> sqlx::Result<Option<KeyAndClient>> {
    let row = db
        .fetch_optional(|| sqlx::query(joined!("k.key_hash = $1")).bind(key_hash))
        .await?;
    row.as_ref().map(decode).transpose()
}

/// The key `key_id` (a token's `kid`), with its client.
pub async fn key_and_client_by_id(db: &Db, key_id: &str) -> sqlx::Result<Option<KeyAndClient>> {
    let row = db
        .fetch_optional(|| sqlx::query(joined!("k.key_id = $1")).bind(key_id))
        .await?;
    row.as_ref().map(decode).transpose()
}

/// The row a presented credential names (by hash for a key, by `kid` for a
/// token) with its client, and that key id (for logs, found or not).
pub async fn key_and_client_for(
    db: &Db,
    credential: &shared::decision::Credential<'_>,
) -> sqlx::Result<(Option<KeyAndClient>, String)> {
    use shared::decision::Credential;
    Ok(match credential {
        Credential::AccessKey(key) => (
            key_and_client_by_hash(db, key.hash().as_str()).await?,
            key.key_id().to_owned(),
        ),
        Credential::Token(token) => (
            key_and_client_by_id(db, token.kid()).await?,
            token.kid().to_owned(),
        ),
    })
}

fn decode(row: &AnyRow) -> sqlx::Result<KeyAndClient> {
    let key = KeyRow::from_row(row)?;
    let client = match row.try_get::<Option<String>, _>("c_client_id")? {
        None => None,
        Some(client_id) => Some(Client {
            client_id,
            name: row.try_get("c_name")?,
            owner_id: row.try_get("c_owner_id")?,
            metadata: row.try_get("c_metadata")?,
            created_at: row.try_get("c_created_at")?,
            deleted_at: row.try_get("c_deleted_at")?,
            revoked_before: row.try_get("c_revoked_before")?,
            rev: row.try_get("c_rev")?,
            disabled_at: row.try_get("c_disabled_at")?,
        }),
    };
    Ok((key, client))
}
