//! `/v1/audit`: who changed what, newest first.

use axum::{extract::State, routing::get, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    extract::{AdminKey, AppQuery},
    page::{self, Page},
    Routes,
};
use crate::{error::ApiResult, state::AppState, store};

pub(super) fn router() -> Routes {
    Routes::default().route("/v1/audit", get(list_audit))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<i64>,
    cursor: Option<i64>,
    target: Option<String>,
}

#[derive(Debug, Serialize)]
struct AuditView {
    id: i64,
    at_ms: i64,
    actor: String,
    action: String,
    target: String,
    detail: Value,
}

impl From<store::AuditEntry> for AuditView {
    fn from(e: store::AuditEntry) -> Self {
        Self {
            id: e.audit_id,
            at_ms: e.at_ms,
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: serde_json::from_str(&e.detail).unwrap_or(Value::Null),
        }
    }
}

/// The cursor is a number in the query and in `next_cursor`.
#[derive(Debug, Serialize)]
struct AuditPage {
    items: Vec<AuditView>,
    next_cursor: Option<i64>,
}

async fn list_audit(
    State(state): State<AppState>,
    _admin: AdminKey,
    AppQuery(query): AppQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let limit = page::limit(query.limit, 100, 1000)?;
    let entries = store::list_audit(
        &state.db.pool,
        query.cursor,
        query.target.as_deref(),
        limit + 1,
    )
    .await?;
    let Page { items, next_cursor } =
        page::page(entries, limit, |e| e.audit_id.to_string(), AuditView::from);
    Ok(Json(AuditPage {
        items,
        next_cursor: next_cursor.and_then(|c| c.parse().ok()),
    }))
}
