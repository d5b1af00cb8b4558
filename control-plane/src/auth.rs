//! API authentication. Admin keys are ordinary keygate keys with the `admin`
//! scope, checked with the same `shared` code the edge uses: format and
//! checksum offline, then a lookup by hash. Detailed reasons go to the log;
//! the client gets only a stable code.

use axum::{extract::FromRequestParts, http::request::Parts};
use shared::{
    credential,
    jwk::PublicJwk,
    jwt::{Unverified, VerifyOptions},
    key::AccessKey,
};

use crate::{clock, error::ApiError, state::AppState, store};

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

/// Proof that the request carries a valid, unrevoked, unexpired key of any
/// client: the caller of the self-service endpoints.
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
        let client = store::get_client(&state.db.pool, &key.client_id).await?;
        if client.is_none_or(|c| c.disabled_at.is_some()) {
            tracing::info!(key_id = %key.key_id, "refused: client disabled or deleted");
            return Err(ApiError::ClientDisabled);
        }
        Ok(Self { key })
    }
}

/// Finds the presented key; it must be neither revoked nor expired.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<store::KeyRow, ApiError> {
    let authorization = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::unauthorized("malformed_credential"))
        })
        .transpose()?;
    let presented = credential::extract(authorization, None)
        .map_err(|e| refuse("malformed_credential", &e.to_string(), None))?
        .ok_or_else(|| ApiError::unauthorized("missing_credential"))?;
    if presented.text.contains('.') {
        return authenticate_token(&presented.text, state).await;
    }
    let key = AccessKey::parse(&presented.text)
        .map_err(|e| refuse("malformed_credential", &e.to_string(), None))?;
    let row = store::find_key_by_hash(&state.db.pool, key.hash().as_str())
        .await?
        .ok_or_else(|| refuse("invalid_credential", "unknown key", Some(key.key_id())))?;
    if row.revoked_at.is_some() {
        return Err(refuse("revoked", "revoked key", Some(&row.key_id)));
    }
    if row.expires_at.is_some_and(|at| at <= clock::now_secs()) {
        return Err(refuse("expired", "expired key", Some(&row.key_id)));
    }
    Ok(row)
}

/// A JWT signed with a key's Ed25519 key: the same `shared` verifier as the
/// edge, with this API's URL as the audience and the key's client as issuer.
async fn authenticate_token(token: &str, state: &AppState) -> Result<store::KeyRow, ApiError> {
    let unverified =
        Unverified::parse(token).map_err(|e| refuse("invalid_token", &e.to_string(), None))?;
    let row = store::get_key(&state.db.pool, unverified.kid())
        .await?
        .ok_or_else(|| refuse("invalid_token", "unknown kid", Some(unverified.kid())))?;
    let jwk: PublicJwk = row
        .public_jwk
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .ok_or_else(|| refuse("invalid_token", "key has no signing key", Some(&row.key_id)))?;
    let key = jwk
        .verification_key()
        .map_err(|e| refuse("invalid_token", &e.to_string(), Some(&row.key_id)))?;
    let options = VerifyOptions {
        audience: Some(state.policy.token_audience.clone()),
        client_id: Some(row.client_id.clone()),
        ..VerifyOptions::default()
    };
    let verified = unverified
        .verify(&key, &options, clock::now_secs())
        .map_err(|e| {
            let code = if e == shared::Error::TokenExpired {
                "expired"
            } else {
                "invalid_token"
            };
            refuse(code, &e.to_string(), Some(&row.key_id))
        })?;
    if row.revoked_at.is_some() {
        return Err(refuse("revoked", "revoked key", Some(&row.key_id)));
    }
    if row.expires_at.is_some_and(|at| at <= clock::now_secs()) {
        return Err(refuse("expired", "expired key", Some(&row.key_id)));
    }
    let client = store::get_client(&state.db.pool, &row.client_id).await?;
    if client
        .and_then(|c| c.revoked_before)
        .is_some_and(|before| verified.claims.iat < before)
    {
        return Err(refuse(
            "revoked",
            "token issued before the client's revoked-before time",
            Some(&row.key_id),
        ));
    }
    Ok(row)
}

/// Logs the detailed reason; the client gets only the code.
fn refuse(code: &'static str, reason: &str, key_id: Option<&str>) -> ApiError {
    tracing::info!(code, reason, key_id, "refused credential");
    ApiError::unauthorized(code)
}
