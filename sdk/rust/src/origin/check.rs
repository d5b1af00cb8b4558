//! The check itself, independent of tower: headers in, identity or refusal out.

use core::fmt;
use std::time::Duration;

use http::HeaderMap;
use shared::key::KeyType;
use shared::origin::{Identity, SignatureError, SIGNATURE_HEADER};

use super::{Auth, EdgeIdentity};

/// Five minutes: the edge signs each request as it forwards it, so a
/// genuine signature is seconds old; the slack covers clock differences
/// between edge and origin. Older signatures are refused as replays.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

/// Why a request is refused as not coming from the edge. Each maps to a
/// stable `code` in the `401` body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EdgeSignatureError {
    /// No `X-Keygate-Signature`: the request did not come through an edge
    /// with a signing secret (`edge_signature_missing`).
    Missing,
    /// The signature, or an identity header it covers, is malformed or does
    /// not match: forged, tampered with, or signed with another secret
    /// (`edge_signature_invalid`).
    Invalid,
    /// Well-formed and matching, but older (or further ahead) than the
    /// allowed age: a replay, or clocks far apart (`edge_signature_stale`).
    Stale,
}

impl EdgeSignatureError {
    /// The `code` of the refusal.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Missing => "edge_signature_missing",
            Self::Invalid => "edge_signature_invalid",
            Self::Stale => "edge_signature_stale",
        }
    }

    /// The `message` of the refusal: says what is wrong, never what was sent.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Missing => "this origin only answers requests forwarded by the keygate edge",
            Self::Invalid => "the edge identity signature does not match this request",
            Self::Stale => "the edge identity signature is too old",
        }
    }

    /// `{"error":{"code":…,"message":…}}`, the edge's error shape.
    pub fn body(self) -> String {
        serde_json::json!({ "error": { "code": self.code(), "message": self.message() } })
            .to_string()
    }
}

impl fmt::Display for EdgeSignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.code())
    }
}

impl std::error::Error for EdgeSignatureError {}

/// One header's value: exactly one, UTF-8. Two values could mean the
/// origin reads another one than was signed, so that is refused too.
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, EdgeSignatureError> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().map_err(|_| EdgeSignatureError::Invalid),
        _ => Err(EdgeSignatureError::Invalid),
    }
}

/// Checks the edge's signature over `method`, `path` (as received, without
/// the query) and the identity headers, at `now` (Unix seconds), allowing
/// `max_age`. An empty `secret` refuses everything: a missing secret must
/// never mean "anyone may sign".
pub fn verify(
    secret: &[u8],
    method: &str,
    path: &str,
    headers: &HeaderMap,
    now: i64,
    max_age: Duration,
) -> Result<EdgeIdentity, EdgeSignatureError> {
    if !headers.contains_key(SIGNATURE_HEADER) {
        return Err(EdgeSignatureError::Missing);
    }
    if secret.is_empty() {
        return Err(EdgeSignatureError::Invalid);
    }
    let signature = single(headers, SIGNATURE_HEADER)?;
    let identity = Identity {
        method,
        path,
        client_id: single(headers, "x-keygate-client-id")?,
        key_id: single(headers, "x-keygate-key-id")?,
        env: single(headers, "x-keygate-env")?,
        key_type: single(headers, "x-keygate-key-type")?,
        auth: single(headers, "x-keygate-auth")?,
    };
    let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    shared::origin::verify(secret, signature, &identity, now, max_age).map_err(|e| match e {
        SignatureError::Stale => EdgeSignatureError::Stale,
        _ => EdgeSignatureError::Invalid,
    })?;
    // Signed by the edge, so these parse; if a newer edge sends a value this
    // version does not know, refuse rather than guess.
    Ok(EdgeIdentity {
        client_id: identity.client_id.to_owned(),
        key_id: identity.key_id.to_owned(),
        env: identity.env.to_owned(),
        key_type: KeyType::from_name(identity.key_type).ok_or(EdgeSignatureError::Invalid)?,
        auth: Auth::from_name(identity.auth).ok_or(EdgeSignatureError::Invalid)?,
    })
}
