//! Backfill: issue keys to every client that has none, per configured
//! environment and type, as ServiceStack's API key provider does at start-up.
//! Idempotent: a client that has any key (even revoked) in an environment is
//! left alone there.

use shared::key::{AccessKey, KeyType};

use crate::{
    clock::Clock,
    config::KeyPolicy,
    db::Db,
    mint::{self, KeySpec},
    store,
};

/// One key issued by a backfill run (the plaintext: show it once).
#[derive(Debug)]
pub struct Issued {
    /// The client.
    pub client_id: String,
    /// The environment.
    pub env: String,
    /// The new key.
    pub key: AccessKey,
}

/// Runs the backfill; each key is committed (with its outbox entry) on its own.
pub async fn run(
    db: &Db,
    policy: &KeyPolicy,
    actor: &str,
    clock: Clock,
) -> anyhow::Result<Vec<Issued>> {
    let mut issued = Vec::new();
    for env in &policy.environments {
        for client in store::clients_without_keys(&db.pool, env).await? {
            for key_type in policy
                .key_types
                .iter()
                .filter_map(|t| KeyType::from_name(t))
            {
                let now_ms = clock.now_ms();
                let (key, row) = mint::key_for(KeySpec {
                    client_id: client.client_id.clone(),
                    env: env.clone(),
                    key_type,
                    name: Some("backfill".to_owned()),
                    scopes: Vec::new(),
                    expires_at: policy.default_key_lifetime.map(|secs| now_ms / 1000 + secs),
                    secret_bytes: policy.key_bytes(key_type),
                })?;
                // None: the client was deleted meanwhile; nothing to issue.
                if store::insert_key(&db.pool, &row, actor, now_ms)
                    .await?
                    .is_some()
                {
                    issued.push(Issued {
                        client_id: client.client_id.clone(),
                        env: env.clone(),
                        key,
                    });
                }
            }
        }
    }
    Ok(issued)
}
