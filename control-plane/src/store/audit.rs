//! The audit log: who changed what, written in the change's transaction.

use serde::Serialize;
use sqlx::{Any, AnyPool, FromRow, Transaction};

use super::Change;

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

pub(super) async fn insert(tx: &mut Transaction<'_, Any>, change: &Change<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into audit_log (at_ms, actor, action, target, detail) values ($1, $2, $3, $4, $5)",
    )
    .bind(change.now_ms)
    .bind(change.actor)
    .bind(change.action)
    .bind(change.target)
    .bind(change.detail.to_string())
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
