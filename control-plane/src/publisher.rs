//! The publisher: drains the outbox into Workers KV until every committed
//! change is acknowledged.
//!
//! An outbox entry only names a key or a client; the publisher sends its
//! state as it is *now* in the database, tagged with its revision. Retries,
//! duplicates and crashes therefore all converge on the newest state, and an
//! entry is deleted only after KV acknowledged a write that covers it.
//! Failures back off exponentially with jitter (honouring `Retry-After`),
//! per entry, across restarts (the schedule is in the database).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use tokio::sync::Notify;

use crate::{
    clock::Clock,
    db::Db,
    kv::{Kv, KvPair},
    records::{client_pair, key_pairs},
    store::{self, KeyRow, OutboxEntry, Target},
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
    kv: Arc<dyn Kv>,
    wake: Arc<Notify>,
    clock: Clock,
}

impl Publisher {
    /// A publisher that wakes up on `wake` (and polls for due retries).
    pub fn new(db: Db, kv: impl Kv + 'static, wake: Arc<Notify>) -> Self {
        Self::shared(db, Arc::new(kv), wake)
    }

    /// A publisher over a namespace shared with others (the API's re-sync).
    pub fn shared(db: Db, kv: Arc<dyn Kv>, wake: Arc<Notify>) -> Self {
        Self {
            db,
            kv,
            wake,
            clock: Clock::system(),
        }
    }

    /// The same publisher reading `clock` (the server passes its own, tests a fixed one).
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
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

    /// One round: sends every due entry's current state; returns how many
    /// entries were acknowledged.
    pub async fn publish_due(&self) -> anyhow::Result<usize> {
        let now_ms = self.clock.now_ms();
        // Claimed for longer than a KV request may take (30 s time-out), so a
        // claim outlives its publish; a crashed publisher's claims lapse.
        let due = store::claim_outbox(&self.db, now_ms, CLAIM_MS, BATCH).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let (mut key_ids, mut client_ids): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        for entry in &due {
            match entry.target() {
                Target::Key(id) => key_ids.push(id.to_owned()),
                Target::Client(id) => client_ids.push(id.to_owned()),
            }
        }
        let key_ids = distinct(&mut key_ids);
        let client_ids = distinct(&mut client_ids);
        let (rows, undecodable) = store::keys_by_id(&self.db.pool, &key_ids).await?;
        let rows: BTreeMap<String, KeyRow> = rows
            .into_iter()
            .map(|row| (row.key_id.clone(), row))
            .collect();
        // Entries of rows that do not decode wait (with backoff) for a repair,
        // and say so in the publish status; the rest of the batch goes on.
        let (due, unreadable): (Vec<OutboxEntry>, Vec<OutboxEntry>) = due
            .into_iter()
            .partition(|e| e.is_client || !undecodable.contains(&e.name));
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
        let mut owners: Vec<String> = rows.values().map(|r| r.client_id.clone()).collect();
        let owners = distinct(&mut owners);
        let enabled: Vec<String> = store::clients_by_id(&self.db.pool, &owners)
            .await?
            .into_iter()
            .filter(|c| c.disabled_at.is_none())
            .map(|c| c.client_id)
            .collect();
        let now_secs = now_ms / 1000;
        let pairs: Vec<KvPair> = rows
            .values()
            .flat_map(|row| key_pairs(row, !enabled.contains(&row.client_id), now_secs))
            .chain(clients.iter().map(client_pair))
            .collect();

        match self.kv.bulk_put(&pairs).await {
            Ok(()) => {
                let ids: Vec<i64> = due.iter().map(|e| e.outbox_id).collect();
                let published: Vec<(String, i64)> =
                    rows.values().map(|r| (r.key_id.clone(), r.rev)).collect();
                store::complete_outbox(&self.db.pool, &ids, &published, self.clock.now_ms())
                    .await?;
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

/// The distinct names of `names`, sorted.
fn distinct(names: &mut Vec<String>) -> Vec<&str> {
    names.sort_unstable();
    names.dedup();
    names.iter().map(String::as_str).collect()
}

/// When each failed entry is tried again.
fn retry_schedule(
    entries: &[OutboxEntry],
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
}
