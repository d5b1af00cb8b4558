//! All SQL of the control plane: one backend-neutral set of queries that runs
//! unchanged on SQLite and PostgreSQL (`$n` placeholders, `returning`,
//! `on conflict`, integers and text only), one module per table.
//!
//! Every change that affects verification at the edge writes its outbox
//! entry in the same transaction as the change itself ([`commit_change`]):
//! what the publisher sends is exactly what the database committed.

mod audit;
mod clients;
mod keys;
mod lookup;
mod outbox;

pub use audit::{list_audit, AuditEntry};
pub use clients::{
    all_clients, clients_by_id, clients_without_keys, delete_client, ensure_admin_client,
    get_client, insert_client, list_clients, revoke_client_tokens, set_client_disabled,
    update_client, Client, ADMIN_CLIENT_ID,
};
pub use keys::{
    all_published_keys, find_key_by_hash, get_key, insert_key, keys_by_id, list_keys,
    list_keys_page, regenerate_keys, revoke_key, KeyRow, NewKey,
};
pub use lookup::{key_and_client_by_hash, key_and_client_by_id, key_and_client_for, KeyAndClient};
pub use outbox::{
    claim_outbox, complete_outbox, fail_outbox, publish_status, OutboxEntry, PublishStatus, Target,
};

use sqlx::{any::AnyArguments, query::Query, Any, Transaction};

/// `template` with `{in}` replaced by `count` placeholders from `$first`.
fn in_list(template: &str, first: usize, count: usize) -> String {
    let placeholders: Vec<String> = (first..first + count).map(|i| format!("${i}")).collect();
    template.replace("{in}", &placeholders.join(", "))
}

/// Binds `values`, in order, to the placeholders [`in_list`] wrote.
fn bind_in<'q, V>(
    query: Query<'q, Any, AnyArguments<'q>>,
    values: &'q [V],
) -> Query<'q, Any, AnyArguments<'q>>
where
    V: Copy + Send + sqlx::Encode<'q, Any> + sqlx::Type<Any> + 'q,
{
    values.iter().fold(query, |query, value| query.bind(*value))
}

/// One audited change, as the audit log records it.
#[derive(Debug)]
struct Change<'a> {
    actor: &'a str,
    action: &'static str,
    target: &'a str,
    detail: serde_json::Value,
    now_ms: i64,
}

impl<'a> Change<'a> {
    /// `actor` did `action` to `target` at `now_ms` (no details).
    fn new(actor: &'a str, action: &'static str, target: &'a str, now_ms: i64) -> Self {
        Self {
            actor,
            action,
            target,
            detail: serde_json::json!({}),
            now_ms,
        }
    }

    /// With details (never a secret).
    fn with(self, detail: serde_json::Value) -> Self {
        Self { detail, ..self }
    }
}

/// The end of every change: its outbox entries (the records to republish)
/// and its audit row, written in the change's transaction, then committed.
async fn commit_change(
    mut tx: Transaction<'_, Any>,
    publish: &[Target<'_>],
    change: Change<'_>,
) -> sqlx::Result<()> {
    record_change(&mut tx, publish, change).await?;
    tx.commit().await
}

/// [`commit_change`] without the commit, for a change inside a larger one.
async fn record_change(
    tx: &mut Transaction<'_, Any>,
    publish: &[Target<'_>],
    change: Change<'_>,
) -> sqlx::Result<()> {
    for target in publish {
        outbox::enqueue(tx, *target, change.now_ms).await?;
    }
    audit::insert(tx, &change).await
}

/// The error for a column that holds what we never write.
fn corrupt(column: &str, reason: &'static str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: reason.into(),
    }
}
