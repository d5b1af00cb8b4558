//! `POST /v1/verify`: the verification API, for services not behind the
//! edge. A verify key (or an admin key) asks whether a credential may make a
//! request; the answer is the edge's own decision (`shared::decision::decide`)
//! over the records the edge would read, built from the database (the source
//! of truth) by [`crate::records::edge_records`], with the edge's token rules
//! ([`crate::config::VerifyPolicy`]). So the codes are the edge's codes.
//!
//! The credential is never logged: refusals log their code and key id only.

use axum::{extract::State, routing::post, Json};
use serde::{Deserialize, Serialize};
use shared::{
    credential::{self, Presented, Source},
    decision::{self, Credential, Rejection, TokenPolicy, VerifiedCaller},
    jwt::Unverified,
};

use super::{
    extract::{AppJson, VerifyCaller},
    Routes,
};
use crate::{
    error::{ApiError, ApiResult},
    records,
    state::AppState,
    store,
};

pub(super) fn router() -> Routes {
    Routes::default().route("/v1/verify", post(verify))
}

/// What to verify. Unknown fields are ignored, so newer SDKs can send more.
#[derive(Deserialize)]
struct VerifyRequest {
    /// A static key or a JWT, as the holder would present it; or a whole
    /// `Authorization` value (`Bearer …`, `Basic …`), decoded as the edge does.
    credential: String,
    /// The request method, exactly as sent (default `GET`).
    method: Option<String>,
    /// The request path as received, without the query (default `/`).
    path: Option<String>,
    /// The audience tokens must name, instead of the configured one.
    audience: Option<String>,
}

/// Never shows the credential.
impl std::fmt::Debug for VerifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyRequest")
            .field("credential", &"<redacted>")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("audience", &self.audience)
            .finish()
    }
}

/// The answer: the caller when valid, else the edge's refusal. Always a
/// 200: the call worked; `valid` says whether the credential does.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Verdict {
    /// What the edge would forward as the caller's identity.
    Valid {
        /// `true`.
        valid: bool,
        /// `valid`.
        code: &'static str,
        /// 200: the edge would forward the request.
        status: u16,
        /// The key's client.
        client_id: String,
        /// The key's id (a token's `kid`).
        key_id: String,
        /// The key's environment.
        env: String,
        /// `secret` or `publishable`.
        key_type: &'static str,
        /// `static` or `jwt`.
        auth: &'static str,
        /// The key's scopes (empty: unrestricted within its type).
        scopes: Vec<String>,
        /// When this credential stops being valid, Unix seconds: the key's
        /// expiry, or for a token the earlier of that and its `exp`; `null`
        /// for a key that does not expire. A cache must not outlive it.
        expires_at: Option<i64>,
    },
    /// What the edge would answer instead of forwarding.
    Invalid {
        /// `false`.
        valid: bool,
        /// The edge's stable code (`revoked`, `invalid_token`, …).
        code: &'static str,
        /// The status the edge would answer (401 or 403).
        status: u16,
        /// The edge's fixed message (never the credential).
        message: &'static str,
    },
}

impl Verdict {
    fn valid(caller: VerifiedCaller, expires_at: Option<i64>) -> Self {
        Self::Valid {
            valid: true,
            code: "valid",
            status: 200,
            key_type: caller.key_type.as_str(),
            auth: caller.auth.as_str(),
            client_id: caller.client_id,
            key_id: caller.key_id,
            env: caller.env,
            scopes: caller.scopes,
            expires_at,
        }
    }

    fn invalid(rejection: Rejection) -> Self {
        Self::Invalid {
            valid: false,
            code: rejection.code(),
            status: rejection.status(),
            message: rejection.message(),
        }
    }
}

/// Longest method accepted (the edge's own limit is hyper's head size; no
/// real method comes close).
const MAX_METHOD_LEN: usize = 64;
/// Longest path accepted: the edge's URL limit in workerd is larger, but a
/// path this long is no request an origin serves.
const MAX_PATH_LEN: usize = 8 * 1024;

async fn verify(
    State(state): State<AppState>,
    caller: VerifyCaller,
    body: Result<AppJson<VerifyRequest>, ApiError>,
) -> ApiResult<Json<Verdict>> {
    // Every mistake in the body is the caller's: 400, as the contract says
    // (413 and 415 pass through).
    let AppJson(request) = body.map_err(|e| match e {
        ApiError::Invalid(message) => ApiError::BadJson(message),
        other => other,
    })?;
    let method = request.method.as_deref().unwrap_or("GET");
    if method.is_empty() || method.len() > MAX_METHOD_LEN || !method.bytes().all(is_tchar) {
        return Err(ApiError::BadJson(
            "method: expected an HTTP method token".to_owned(),
        ));
    }
    let path = request.path.as_deref().unwrap_or("/");
    if !path.starts_with('/')
        || path.len() > MAX_PATH_LEN
        || path
            .bytes()
            .any(|b| !b.is_ascii_graphic() || b == b'?' || b == b'#')
    {
        return Err(ApiError::BadJson(
            "path: expected the request path as received (starting with /, no query)".to_owned(),
        ));
    }
    let audience = match &request.audience {
        Some(audience) => crate::config::parse_audience(audience)
            .map_err(|_| ApiError::BadJson("audience: expected an http(s) URL".to_owned()))?,
        None => state.verify.verify_audience.clone(),
    };
    let policy = TokenPolicy {
        audience: &audience,
        max_lifetime: state.verify.verify_max_token_lifetime,
        skew: state.verify.verify_clock_skew,
    };
    let verdict = match decide(&state, &request.credential, method, path, &policy).await? {
        Ok((caller, expires_at)) => Verdict::valid(caller, expires_at),
        Err((rejection, key_id)) => {
            tracing::info!(
                code = rejection.code(),
                key_id,
                verifier = %caller.key_id,
                "verify: refused"
            );
            Verdict::invalid(rejection)
        }
    };
    Ok(Json(verdict))
}

/// A refusal and the key id it concerns, if known (for the log).
type Refusal = (Rejection, Option<String>);

/// The edge's decision on `text` for `method` on `path`. The outer error is
/// the call's own failure (database); the inner one the edge's refusal.
async fn decide(
    state: &AppState,
    text: &str,
    method: &str,
    path: &str,
    policy: &TokenPolicy<'_>,
) -> ApiResult<Result<(VerifiedCaller, Option<i64>), Refusal>> {
    let presented = match presented(text) {
        Ok(presented) => presented,
        Err(rejection) => return Ok(Err((rejection, None))),
    };
    let credential = match Credential::parse(&presented) {
        Ok(credential) => credential,
        Err(rejection) => return Ok(Err((rejection, None))),
    };
    // The key's row and its client's, in one query.
    let (found, key_id) = store::key_and_client_for(&state.db, &credential).await?;
    let now = state.clock.now_secs();
    let records = match &found {
        // A row that does not make a record fails closed, as at the edge;
        // but as the call's failure (503), never a cacheable answer.
        Some((row, client)) => records::edge_records(row, client.as_ref(), now)
            .map_err(|_| ApiError::Unavailable("a key record could not be built"))?,
        None => decision::Records::default(),
    };
    let key_expiry = found.as_ref().and_then(|(row, _)| row.expires_at);
    let decided = match credential {
        Credential::AccessKey(_) => {
            decision::decide(credential, method, path, now, records, policy)
                .map(|c| (c, key_expiry))
        }
        Credential::Token(unverified) => decide_token(
            state,
            &presented.text,
            unverified,
            method,
            path,
            now,
            records,
            policy,
        )
        .map(|(caller, exp)| (caller, Some(key_expiry.map_or(exp, |at| at.min(exp))))),
    };
    match decided {
        Ok(answer) => Ok(Ok(answer)),
        Err(Rejection::Unavailable | Rejection::Misconfigured) => {
            Err(ApiError::Unavailable("the records could not be read"))
        }
        Err(rejection) => Ok(Err((rejection, Some(key_id)))),
    }
}

/// A token, step by step as the edge decides it (`shared::decision`'s
/// `token_key`, `check_token`, `authorize`: what [`decision::decide`] runs),
/// with the edge's memo of checked signatures: a signature is checked once
/// per token and public key, while the key's state and the claims are
/// checked at every call. The caller and the token's `exp`.
#[allow(clippy::too_many_arguments)]
fn decide_token(
    state: &AppState,
    text: &str,
    unverified: Unverified<'_>,
    method: &str,
    path: &str,
    now: i64,
    records: decision::Records,
    policy: &TokenPolicy<'_>,
) -> Result<(VerifiedCaller, i64), Rejection> {
    let (record, key) = decision::token_key(unverified.kid(), records.signing_key)?;
    let options =
        decision::token_options(&record, policy.audience, policy.max_lifetime, policy.skew);
    let public_key = key.to_bytes();
    let now_ms = now.saturating_mul(1000);
    let verified = match state.tokens.get(text.as_bytes(), now_ms) {
        Some((checked_with, verified)) if checked_with == public_key => verified,
        _ => {
            let verified = unverified
                .verify(&key, &options, now)
                .map_err(Rejection::InvalidToken)?;
            // Kept until the token expires (plus skew): no use after that.
            let until_ms = verified
                .claims()
                .exp
                .saturating_add(policy.skew)
                .saturating_mul(1000);
            state.tokens.insert(
                text.as_bytes(),
                (public_key, verified.clone()),
                until_ms,
                now_ms,
            );
            verified
        }
    };
    let caller = decision::check_token(&verified, record, records.client.as_ref(), &options, now)?;
    decision::authorize(&caller, method, path)?;
    Ok((caller, verified.claims().exp))
}

/// The credential as the edge would have found it in a request: a bare key
/// or JWT is what `Authorization: Bearer` carries; a value with a scheme
/// (`Bearer …`, `Basic …`) is decoded as the edge decodes that header.
fn presented(text: &str) -> Result<Presented, Rejection> {
    if text.is_empty() {
        return Err(Rejection::MissingCredential);
    }
    if text.len() > credential::MAX_HEADER_LEN {
        return Err(Rejection::MalformedCredential(shared::Error::HeaderTooLong));
    }
    if text.contains(' ') {
        return credential::extract(&[text], None)
            .map_err(Rejection::MalformedCredential)?
            .ok_or(Rejection::MissingCredential);
    }
    Ok(Presented {
        text: text.to_owned(),
        source: Source::Bearer,
    })
}

/// RFC 9110 `tchar`: the characters of a method token.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}
