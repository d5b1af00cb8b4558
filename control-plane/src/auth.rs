//! API authentication: the edge's decision (`shared::decision`), over the
//! records the edge would read. A key's row and its client's row become,
//! through the publisher's record builders, exactly the KV records the
//! publisher sends, so a credential is accepted here exactly when the edge
//! would accept it (given published state). Admin keys are the one
//! addition: never published, they get the same static record built from
//! their row, and must then carry the `admin` scope in the admin client.
//! Verify keys (scope `verify` in the admin client) are built the same way
//! and open `POST /v1/verify` only.
//!
//! Detailed reasons go to the log; the client gets the refusal's stable code
//! and fixed message.

use axum::{
    extract::FromRequestParts,
    http::{header::AUTHORIZATION, request::Parts},
};
use shared::{
    credential,
    decision::{self, Credential, Records, Rejection, TokenPolicy},
    jwt::VerifyOptions,
};

use crate::{error::ApiError, records, state::AppState, store};

/// Proof that the request carries a valid, unrevoked, unexpired admin key.
#[derive(Debug, Clone)]
pub struct AdminKey {
    /// The admin key's id, for the audit trail.
    pub key_id: String,
}

impl FromRequestParts<AppState> for AdminKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let row = authenticate(parts, state).await?;
        if !row.is_admin() {
            tracing::info!(key_id = %row.key_id, "refused: not an admin key");
            return Err(ApiError::Forbidden);
        }
        Ok(Self { key_id: row.key_id })
    }
}

/// Proof that the request carries a valid, unrevoked, unexpired verify key
/// or admin key: the caller of the verification API.
#[derive(Debug, Clone)]
pub struct VerifyCaller {
    /// The calling key's id, for the log.
    pub key_id: String,
}

impl FromRequestParts<AppState> for VerifyCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // One Authorization field (more are refused by `authenticate`).
        let mut values = parts.headers.get_all(AUTHORIZATION).iter();
        let single = match (values.next(), values.next()) {
            (Some(value), None) => Some(value.as_bytes()),
            _ => None,
        };
        let now_ms = state.clock.now_ms();
        if let Some(key_id) = single.and_then(|v| state.callers.get(v, now_ms)) {
            return Ok(Self { key_id });
        }
        let row = authenticate(parts, state).await?;
        if !row.is_control_plane_key() {
            tracing::info!(key_id = %row.key_id, "refused: not a verify or admin key");
            return Err(ApiError::Forbidden);
        }
        if let Some(value) = single {
            state
                .callers
                .insert(value, &row.key_id, row.expires_at, now_ms);
        }
        Ok(Self { key_id: row.key_id })
    }
}

/// Proof that the request carries a valid, unrevoked, unexpired key of an
/// enabled client: the caller of the self-service endpoints.
#[derive(Debug, Clone)]
pub struct KeyHolder {
    /// The caller's key.
    pub key: store::KeyRow,
}

impl FromRequestParts<AppState> for KeyHolder {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = authenticate(parts, state).await?;
        // A verify key may verify and nothing else.
        if key.is_verifier() && !key.is_admin() {
            tracing::info!(key_id = %key.key_id, "refused: a verify key");
            return Err(ApiError::Forbidden);
        }
        Ok(Self { key })
    }
}

/// Runs the decision on the request's credential; the key's row if accepted.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<store::KeyRow, ApiError> {
    let now = state.clock.now_secs();
    // Every Authorization field: more than one is refused (`credential::extract`).
    let values = parts
        .headers
        .get_all(AUTHORIZATION)
        .iter()
        .map(|v| v.to_str())
        .collect::<Result<Vec<&str>, _>>()
        .map_err(|_| {
            let malformed = Rejection::MalformedCredential(shared::Error::AuthorizationScheme);
            refuse(malformed, "non-ASCII Authorization", None)
        })?;
    let presented = credential::extract(&values, None)
        .map_err(|e| refuse(Rejection::MalformedCredential(e), "extraction", None))?
        .ok_or_else(|| refuse(Rejection::MissingCredential, "no credential", None))?;
    let credential = Credential::parse(&presented).map_err(|r| refuse(r, "format", None))?;
    // The row the credential names (by hash for a key, by `kid` for a
    // token) and its client's, in one query.
    let (found, key_id) = store::key_and_client_for(&state.db, &credential).await?;
    let (row, records) = match found {
        Some((row, client)) => {
            let records = records_of(&row, client.as_ref(), now)?;
            (Some(row), records)
        }
        None => (None, Records::default()),
    };
    let limits = VerifyOptions::default();
    let policy = TokenPolicy {
        audience: &state.policy.token_audience,
        max_lifetime: limits.max_lifetime,
        skew: limits.skew,
    };
    decision::authenticate(credential, records, &policy, now)
        .map_err(|r| refuse(r, "decision", Some(&key_id)))?;
    // Accepted means a record was found, so a row: this only fails closed.
    row.ok_or_else(|| refuse(Rejection::InvalidCredential, "no row", Some(&key_id)))
}

/// The records the edge would read for a key (`records::edge_records`), so
/// both sides decide on the same bytes; plus, for the never-published admin
/// and verify keys, the static record the publisher would send if they were.
fn records_of(
    row: &store::KeyRow,
    client: Option<&store::Client>,
    now: i64,
) -> Result<Records, ApiError> {
    let mut records = records::edge_records(row, client, now)
        .map_err(|_| refuse(Rejection::Unavailable, "record", Some(&row.key_id)))?;
    if row.is_control_plane_key() {
        // A missing client row (which the schema rules out) counts as disabled: fail closed.
        let client_disabled = client.is_none_or(|c| c.disabled_at.is_some());
        records.static_key = Some(records::static_record(row, client_disabled));
    }
    Ok(records)
}

/// Logs the detailed reason; the client gets only the refusal's code and message.
fn refuse(rejection: Rejection, context: &str, key_id: Option<&str>) -> ApiError {
    let detail = match rejection {
        Rejection::MalformedCredential(e) | Rejection::InvalidToken(e) => e.to_string(),
        _ => String::new(),
    };
    tracing::info!(
        code = rejection.code(),
        context,
        detail,
        key_id,
        "refused credential"
    );
    ApiError::Refused(rejection)
}
