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
    key::{KeyHash, KeyType},
    record::{static_key_kv_name, StaticKeyRecord, RECORD_VERSION},
};
use tokio::sync::Notify;

use crate::{
    clock,
    db::Db,
    kv::{CloudflareKv, KvPair},
    store::{self, KeyRow},
};

/// How many outbox entries one round takes.
const BATCH: i64 = 5_000;
/// Even without a wake-up, look for due retries this often.
const POLL: Duration = Duration::from_millis(500);
const MAX_BACKOFF_MS: i64 = 5 * 60 * 1000;

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
        let due = store::due_outbox(&self.db.pool, now_ms, BATCH).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let key_ids: Vec<&str> = {
            let mut ids: Vec<&str> = due.iter().map(|e| e.key_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let rows: BTreeMap<String, KeyRow> = store::keys_by_id(&self.db.pool, &key_ids)
            .await?
            .into_iter()
            .map(|row| (row.key_id.clone(), row))
            .collect();
        let pairs: Vec<KvPair> = rows
            .values()
            .filter_map(|row| kv_pair(row, now_ms / 1000))
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
                let schedule: Vec<(i64, i64)> = due
                    .iter()
                    .map(|entry| {
                        (
                            entry.outbox_id,
                            now_ms + backoff_ms(entry.attempts, retry_after_ms),
                        )
                    })
                    .collect();
                store::fail_outbox(&self.db.pool, &schedule, &e.to_string(), now_ms).await?;
                Err(e.into())
            }
        }
    }
}

/// The KV pair for a key's current state, or `None` for keys that are never
/// published (admin keys, rows with a hash we cannot read).
fn kv_pair(row: &KeyRow, now_secs: i64) -> Option<KvPair> {
    if row.is_admin() {
        return None;
    }
    let hash = KeyHash::from_hex(&row.key_hash)?;
    let record = StaticKeyRecord {
        v: RECORD_VERSION,
        client_id: row.client_id.clone(),
        key_id: row.key_id.clone(),
        env: row.env.clone(),
        key_type: KeyType::from_name(&row.key_type)?,
        scopes: row.scope_list(),
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        rev: row.rev,
    };
    // Expired keys may leave KV a day after expiry (the record itself already
    // makes the edge refuse them); KV wants expirations at least 60 s ahead.
    let expiration = row.expires_at.map(|at| (at + 86_400).max(now_secs + 120));
    Some(KvPair {
        key: static_key_kv_name(&hash),
        value: record.encode(),
        expiration,
    })
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
            key_type: "secret".to_owned(),
            name: None,
            scopes: scopes.to_owned(),
            key_hash: KeyHash::of("x").to_string(),
            expires_at: Some(1_000),
            created_at: 0,
            revoked_at: None,
            rev: 2,
            published_rev: 0,
        }
    }

    #[test]
    fn records_carry_state_and_admin_keys_stay_private() {
        // Expires at 1_000: KV may drop the record a day later...
        let pair = kv_pair(&row("cl_1", "[]"), 5_000).unwrap();
        assert_eq!(pair.key, static_key_kv_name(&KeyHash::of("x")));
        let record = StaticKeyRecord::decode(&pair.value).unwrap();
        assert_eq!((record.rev, record.expires_at), (2, Some(1_000)));
        assert_eq!(pair.expiration, Some(87_400));
        // ...but never sooner than KV accepts, even when published long after.
        let late = kv_pair(&row("cl_1", "[]"), 200_000).unwrap();
        assert_eq!(late.expiration, Some(200_120));
        assert!(kv_pair(&row(store::ADMIN_CLIENT_ID, r#"["admin"]"#), 0).is_none());
    }
}
