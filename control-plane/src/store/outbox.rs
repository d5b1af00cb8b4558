//! The outbox: what must reach KV, written in the same transaction as the
//! change it publishes, claimed and drained by the publisher, and the
//! outcome of the last publish.

use serde::Serialize;
use sqlx::{any::AnyRow, Any, AnyPool, FromRow, Row as _, Transaction};

use super::{bind_in, corrupt, in_list};
use crate::db::{Backend, Db};

/// A record to republish: a key's (static and JWK records) or a client's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// The key with this id.
    Key(&'a str),
    /// The client with this id.
    Client(&'a str),
}

impl<'a> Target<'a> {
    /// The stored kind and name.
    fn parts(self) -> (&'static str, &'a str) {
        match self {
            Self::Key(id) => ("key", id),
            Self::Client(id) => ("client", id),
        }
    }
}

/// One pending outbox entry.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    /// Sequence number.
    pub outbox_id: i64,
    /// Whether `name` is a key id or a client id.
    pub is_client: bool,
    /// The key or client whose current state must reach KV.
    pub name: String,
    /// Failed attempts so far.
    pub attempts: i64,
}

impl OutboxEntry {
    /// What the entry names.
    pub fn target(&self) -> Target<'_> {
        if self.is_client {
            Target::Client(&self.name)
        } else {
            Target::Key(&self.name)
        }
    }
}

impl<'r> FromRow<'r, AnyRow> for OutboxEntry {
    fn from_row(row: &'r AnyRow) -> sqlx::Result<Self> {
        let kind: String = row.try_get("target_kind")?;
        let is_client = match kind.as_str() {
            "key" => false,
            "client" => true,
            _ => return Err(corrupt("target_kind", "neither key nor client")),
        };
        Ok(Self {
            outbox_id: row.try_get("outbox_id")?,
            is_client,
            name: row.try_get("key_id")?,
            attempts: row.try_get("attempts")?,
        })
    }
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

pub(super) async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    target: Target<'_>,
    now_ms: i64,
) -> sqlx::Result<()> {
    let (kind, name) = target.parts();
    sqlx::query(
        "insert into outbox (target_kind, key_id, created_at_ms, next_attempt_ms) values ($1, $2, $3, $3)",
    )
    .bind(kind)
    .bind(name)
    .bind(now_ms)
    .execute(&mut **tx)
    .await
    .map(drop)
}

/// Claims up to `limit` due entries for `lease_ms` and returns them, oldest
/// first. Entries of a key (or client) that another publisher has claimed
/// are left alone, so one name is never published by two publishers at once.
/// On PostgreSQL, concurrent claimers skip each other's rows (`skip locked`)
/// and serialise on each name (a transaction advisory lock), so no entry is
/// claimed twice while its claim holds.
pub async fn claim_outbox(
    db: &Db,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
) -> sqlx::Result<Vec<OutboxEntry>> {
    let postgres = db.backend == Backend::Postgres;
    let sql = format!(
        "update outbox set claimed_until_ms = $1 where outbox_id in ( \
           select outbox_id from outbox o where next_attempt_ms <= $2 \
           and (claimed_until_ms is null or claimed_until_ms <= $2) \
           and not exists (select 1 from outbox c where c.key_id = o.key_id and c.claimed_until_ms > $2) \
           {} order by outbox_id limit $3 {}) \
         returning outbox_id, target_kind, key_id, attempts",
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

/// Marks entries delivered: removes them and records the published revisions.
pub async fn complete_outbox(
    pool: &AnyPool,
    outbox_ids: &[i64],
    published: &[(String, i64)],
    now_ms: i64,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    for chunk in outbox_ids.chunks(500) {
        let sql = in_list(
            "delete from outbox where outbox_id in ({in})",
            1,
            chunk.len(),
        );
        bind_in(sqlx::query(&sql), chunk).execute(&mut *tx).await?;
    }
    // One statement per revision value and 500 keys, not one per key: a
    // batch is mostly keys at the same revision.
    let mut by_rev: std::collections::BTreeMap<i64, Vec<&str>> = std::collections::BTreeMap::new();
    for (key_id, rev) in published {
        by_rev.entry(*rev).or_default().push(key_id);
    }
    for (rev, key_ids) in by_rev {
        for chunk in key_ids.chunks(500) {
            let sql = in_list(
                "update api_key set published_rev = $1 where published_rev < $1 and key_id in ({in})",
                2,
                chunk.len(),
            );
            bind_in(sqlx::query(&sql).bind(rev), chunk)
                .execute(&mut *tx)
                .await?;
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
    let query = match error {
        None => sqlx::query(
            "insert into publish_state (name, last_success_ms) values ('kv', $1) \
             on conflict (name) do update set last_success_ms = $1",
        )
        .bind(now_ms),
        Some(error) => sqlx::query(
            "insert into publish_state (name, last_error, last_error_ms) values ('kv', $2, $1) \
             on conflict (name) do update set last_error = $2, last_error_ms = $1",
        )
        .bind(now_ms)
        .bind(error),
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
