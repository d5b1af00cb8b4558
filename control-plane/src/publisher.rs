//! The publisher: drains the outbox into Workers KV until every committed
//! change is acknowledged.
//!
//! An outbox entry only names a key; the publisher sends that key's state as
//! it is *now* in the database, tagged with its revision. Retries,
//! duplicates and crashes therefore all converge on the newest state, and an
//! entry is deleted only after KV acknowledged a write that covers it.
//! Failures back off exponentially with jitter (honouring `Retry-After`),
//! per entry, across restarts (the schedule is in the database).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use shared::{
    jwk::PublicJwk,
    key::KeyHash,
    record::{
        client_kv_name, jwk_kv_name, static_key_kv_name, ClientRecord, JwkRecord, StaticKeyRecord,
        RECORD_VERSION,
    },
};
use tokio::sync::Notify;

use crate::{
    clock,
    db::Db,
    kv::{CloudflareKv, KvPair, RecordMeta},
    store::{self, Client, KeyRow},
};

/// How many outbox entries one round takes.
const BATCH: i64 = 5_000;
/// Even without a wake-up, look for due retries this often.
const POLL: Duration = Duration::from_millis(500);
const MAX_BACKOFF_MS: i64 = 5 * 60 * 1000;
const CLAIM_MS: i64 = 60_000;

/// Drains the outbox of `db` into `kv`.
#[derive(Debug, Clone)]
pub struct Publisher {
    db: Db,
    kv: CloudflareKv,
    wake: Arc<Notify>,
}

impl Publisher {
    /// A publisher that wakes up on `wake` (and polls for due retries).
    pub fn new(db: Db, kv: CloudflareKv, wake: Arc<Notify>) -> Self {
        Self { db, kv, wake }
    }

    /// Runs until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let idle = match self.publish_due().await {
                Ok(sent) => sent == 0,
                Err(e) => {
                    tracing::warn!(error = %e, "publisher round failed");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = &mut shutdown => return,
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                }
            }
        }
    }

    /// One round: sends every due entry's key state; returns how many
    /// entries were acknowledged.
    pub async fn publish_due(&self) -> anyhow::Result<usize> {
        let now_ms = clock::now_ms();
        // Claimed for longer than a KV request may take (30 s time-out), so a
        // claim outlives its publish; a crashed publisher's claims lapse.
        let due = store::claim_outbox(&self.db, now_ms, CLAIM_MS, BATCH).await?;
        if due.is_empty() {
            return Ok(0);
        }
        // An entry names a key, or (`cl_…`) a client's own record.
        let mut names: Vec<String> = due.iter().map(|e| e.key_id.clone()).collect();
        names.sort_unstable();
        names.dedup();
        let (client_ids, key_ids): (Vec<&str>, Vec<&str>) = names
            .iter()
            .map(String::as_str)
            .partition(|n| n.starts_with("cl_"));
        let (rows, undecodable) = store::keys_by_id(&self.db.pool, &key_ids).await?;
        let rows: BTreeMap<String, KeyRow> = rows
            .into_iter()
            .map(|row| (row.key_id.clone(), row))
            .collect();
        // Entries of rows that do not decode wait (with backoff) for a repair,
        // and say so in the publish status; the rest of the batch goes on.
        let (due, unreadable): (Vec<_>, Vec<_>) = due
            .into_iter()
            .partition(|e| !undecodable.contains(&e.key_id));
        if !unreadable.is_empty() {
            let schedule = retry_schedule(&unreadable, now_ms, None);
            let error = "a key row does not decode (corrupted column); see the logs";
            store::fail_outbox(&self.db.pool, &schedule, error, now_ms).await?;
            if due.is_empty() {
                return Ok(0);
            }
        }
        let clients = store::clients_by_id(&self.db.pool, &client_ids).await?;
        // Key records carry their client's disabled state, so the edge needs
        // no second read for a static key. A client that cannot be read counts
        // as disabled: its absence must not enable its keys.
        let mut owners: Vec<&str> = rows.values().map(|r| r.client_id.as_str()).collect();
        owners.sort_unstable();
        owners.dedup();
        let enabled: Vec<String> = store::clients_by_id(&self.db.pool, &owners)
            .await?
            .into_iter()
            .filter(|c| c.disabled_at.is_none())
            .map(|c| c.client_id)
            .collect();
        let now_secs = now_ms / 1000;
        let pairs: Vec<KvPair> = rows
            .values()
            .flat_map(|row| kv_pairs(row, !enabled.contains(&row.client_id), now_secs))
            .chain(clients.iter().map(client_pair))
            .collect();

        match self.kv.bulk_put(&pairs).await {
            Ok(()) => {
                let ids: Vec<i64> = due.iter().map(|e| e.outbox_id).collect();
                let published: Vec<(String, i64)> =
                    rows.values().map(|r| (r.key_id.clone(), r.rev)).collect();
                store::complete_outbox(&self.db.pool, &ids, &published, clock::now_ms()).await?;
                tracing::debug!(
                    entries = ids.len(),
                    records = pairs.len(),
                    "published to KV"
                );
                Ok(ids.len())
            }
            Err(e) => {
                let retry_after_ms = e.retry_after().map(|d| d.as_millis() as i64);
                let schedule = retry_schedule(&due, now_ms, retry_after_ms);
                store::fail_outbox(&self.db.pool, &schedule, &e.to_string(), now_ms).await?;
                Err(e.into())
            }
        }
    }
}

/// The KV pairs for a key's current state: its static record, and for a
/// secret key its JWK record. None for keys that are never published (admin
/// keys, rows we cannot read).
pub(crate) fn kv_pairs(row: &KeyRow, client_disabled: bool, now_secs: i64) -> Vec<KvPair> {
    if row.is_admin() {
        return Vec::new();
    }
    let Some(hash) = KeyHash::from_hex(&row.key_hash) else {
        tracing::error!(key_id = %row.key_id, "unpublishable key row");
        return Vec::new();
    };
    // Expired keys may leave KV a day after expiry (the record itself already
    // makes the edge refuse them); KV wants expirations at least 60 s ahead.
    let expiration = row.expires_at.map(|at| (at + 86_400).max(now_secs + 120));
    let mut pairs = vec![KvPair {
        key: static_key_kv_name(&hash),
        value: StaticKeyRecord {
            v: RECORD_VERSION,
            client_id: row.client_id.clone(),
            key_id: row.key_id.clone(),
            env: row.env.clone(),
            key_type: row.key_type,
            scopes: row.scopes.clone(),
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            client_disabled,
            rev: row.rev,
        }
        .encode(),
        expiration,
        metadata: RecordMeta { rev: row.rev },
    }];
    if let Some(jwk) = row
        .public_jwk
        .as_deref()
        .and_then(|j| serde_json::from_str::<PublicJwk>(j).ok())
    {
        pairs.push(KvPair {
            key: jwk_kv_name(&row.key_id),
            value: JwkRecord {
                v: RECORD_VERSION,
                client_id: row.client_id.clone(),
                env: row.env.clone(),
                jwk,
                scopes: row.scopes.clone(),
                expires_at: row.expires_at,
                revoked_at: row.revoked_at,
                client_disabled,
                rev: row.rev,
            }
            .encode(),
            expiration,
            metadata: RecordMeta { rev: row.rev },
        });
    }
    pairs
}

/// The client-wide record: token revocation time, and whether it is disabled (deleted).
pub(crate) fn client_pair(client: &Client) -> KvPair {
    KvPair {
        key: client_kv_name(&client.client_id),
        value: ClientRecord {
            v: RECORD_VERSION,
            client_id: client.client_id.clone(),
            revoked_before: client.revoked_before,
            disabled: client.deleted_at.is_some() || client.disabled_at.is_some(),
            rev: client.rev,
        }
        .encode(),
        expiration: None,
        metadata: RecordMeta { rev: client.rev },
    }
}

/// When each failed entry is tried again.
fn retry_schedule(
    entries: &[store::OutboxEntry],
    now_ms: i64,
    retry_after_ms: Option<i64>,
) -> Vec<(i64, i64)> {
    entries
        .iter()
        .map(|entry| {
            (
                entry.outbox_id,
                now_ms + backoff_ms(entry.attempts, retry_after_ms),
            )
        })
        .collect()
}

/// Exponential backoff from 500 ms to 5 minutes, with ±25% jitter so that
/// many replicas do not retry in lockstep; never sooner than `Retry-After`.
fn backoff_ms(attempts: i64, retry_after_ms: Option<i64>) -> i64 {
    let base = 500i64
        .saturating_mul(1 << attempts.clamp(0, 20))
        .min(MAX_BACKOFF_MS);
    let mut jitter = [0u8; 2];
    let _ = getrandom::getrandom(&mut jitter);
    let spread = i64::from(u16::from_le_bytes(jitter)) * base / 2 / 65_535; // 0..=50%
    (base * 3 / 4 + spread).max(retry_after_ms.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use shared::key::KeyType;

    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        for attempts in 0..30 {
            let base = (500i64 << attempts.min(20)).min(MAX_BACKOFF_MS);
            let delay = backoff_ms(attempts, None);
            assert!(
                delay >= base * 3 / 4 && delay <= base * 5 / 4,
                "{attempts}: {delay}"
            );
        }
        assert!(backoff_ms(0, Some(30_000)) >= 30_000);
    }

    fn row(client_id: &str, scopes: &str) -> KeyRow {
        KeyRow {
            key_id: "k".to_owned(),
            client_id: client_id.to_owned(),
            env: "live".to_owned(),
            key_type: KeyType::Secret,
            name: None,
            scopes: serde_json::from_str(scopes).unwrap(),
            key_hash: KeyHash::of("x").to_string(),
            expires_at: Some(1_000),
            created_at: 0,
            revoked_at: None,
            rev: 2,
            published_rev: 0,
            public_jwk: Some(
                serde_json::to_string(&PublicJwk::from_public_key(&[9; 32], "k")).unwrap(),
            ),
        }
    }

    #[test]
    fn records_carry_state_and_admin_keys_stay_private() {
        // Expires at 1_000: KV may drop the record a day later...
        let pairs = kv_pairs(&row("cl_1", "[]"), false, 5_000);
        assert_eq!(pairs.len(), 2, "static record and JWK record");
        let jwk = JwkRecord::decode(&pairs[1].value).unwrap();
        assert_eq!(
            (pairs[1].key.as_str(), jwk.client_id.as_str(), jwk.rev),
            ("jwk:k", "cl_1", 2)
        );
        let pair = &pairs[0];
        assert_eq!(pair.key, static_key_kv_name(&KeyHash::of("x")));
        let record = StaticKeyRecord::decode(&pair.value).unwrap();
        assert_eq!((record.rev, record.expires_at), (2, Some(1_000)));
        assert_eq!(pair.expiration, Some(87_400));
        // ...but never sooner than KV accepts, even when published long after.
        let late = &kv_pairs(&row("cl_1", "[]"), false, 200_000)[0];
        assert_eq!(late.expiration, Some(200_120));
        let disabled = kv_pairs(&row("cl_1", "[]"), true, 5_000);
        assert!(
            StaticKeyRecord::decode(&disabled[0].value)
                .unwrap()
                .client_disabled
        );
        assert!(
            JwkRecord::decode(&disabled[1].value)
                .unwrap()
                .client_disabled
        );
        assert!(kv_pairs(&row(store::ADMIN_CLIENT_ID, r#"["admin"]"#), false, 0).is_empty());
        let mut publishable = row("cl_1", "[]");
        publishable.public_jwk = None;
        assert_eq!(kv_pairs(&publishable, false, 0).len(), 1);
    }
}
