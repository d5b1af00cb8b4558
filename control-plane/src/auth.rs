//! API authentication: the edge's decision (`shared::decision`), over the
//! records the edge would read. A key's row and its client's row become,
//! through the publisher's record builders, exactly the KV records the
//! publisher sends, so a credential is accepted here exactly when the edge
//! would accept it (given published state). Admin keys are the one
//! addition: never published, they get the same static record built from
//! their row, and must then carry the `admin` scope in the admin client.
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
    key::KeyHash,
    record::{jwk_kv_name, static_key_kv_name, ClientRecord, JwkRecord, StaticKeyRecord},
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
    // The row the credential names: by hash for a key, by `kid` for a token.
    let (row, key_id) = match &credential {
        Credential::AccessKey(key) => (
            store::find_key_by_hash(&state.db.pool, key.hash().as_str()).await?,
            key.key_id().to_owned(),
        ),
        Credential::Token(token) => (
            store::get_key(&state.db.pool, token.kid()).await?,
            token.kid().to_owned(),
        ),
    };
    let records = match &row {
        Some(row) => records_of(row, state, now).await?,
        None => Records::default(),
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

/// The records the edge would read for a key: decoded from what the
/// publisher sends for it, so both sides decide on the same bytes.
async fn records_of(row: &store::KeyRow, state: &AppState, now: i64) -> Result<Records, ApiError> {
    let client = store::get_client(&state.db.pool, &row.client_id).await?;
    // As the publisher computes it; a missing client row (which the schema
    // rules out) counts as disabled: fail closed.
    let client_disabled = client.as_ref().is_none_or(|c| c.disabled_at.is_some());
    let unavailable = |_| refuse(Rejection::Unavailable, "record", Some(&row.key_id));
    let mut records = Records {
        client: client
            .as_ref()
            .map(|c| ClientRecord::decode(&records::client_pair(c).value))
            .transpose()
            .map_err(unavailable)?,
        ..Records::default()
    };
    if row.is_admin() {
        // Never published (admin keys open this API, not the edge), so built
        // here: what the publisher would send if they were.
        records.static_key = Some(records::static_record(row, client_disabled));
        return Ok(records);
    }
    let static_name = KeyHash::from_hex(&row.key_hash).map(|h| static_key_kv_name(&h));
    let jwk_name = jwk_kv_name(&row.key_id);
    for pair in records::key_pairs(row, client_disabled, now) {
        if Some(&pair.key) == static_name.as_ref() {
            records.static_key = Some(StaticKeyRecord::decode(&pair.value).map_err(unavailable)?);
        } else if pair.key == jwk_name {
            records.signing_key = Some(JwkRecord::decode(&pair.value).map_err(unavailable)?);
        }
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
