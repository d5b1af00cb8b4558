//! The SDK's operations as plain Rust over `shared`, so they are unit-tested
//! natively (and against the golden vectors) before wasm-bindgen wraps them.
//! Nothing here re-implements a format: parsing, derivation, minting and the
//! origin MAC are `shared`'s.

use core::fmt;

use shared::{
    jwt::{self, MintClaims},
    key::{client_segment, AccessKey},
    origin::{self, Identity, SignatureError},
    signing::SigningKeyPair,
    Error,
};

/// A refusal with a stable code (what the JS `KeyError.code` carries) and a
/// message that never contains the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkError {
    /// Stable, machine-readable.
    pub code: &'static str,
    /// For people.
    pub message: String,
}

impl SdkError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    fn key(error: Error) -> Self {
        let code = match error {
            Error::KeyChecksum => "checksum_mismatch",
            Error::KeyNotSignable => "not_signable",
            _ => "malformed_key",
        };
        Self::new(code, error.to_string())
    }
}

impl fmt::Display for SdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// What anyone can read off a key without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The public key id (a token's `kid`).
    pub key_id: String,
    /// `cl_…`, or `None` for a key issued before keys carried it.
    pub client_id: Option<String>,
    /// `live`, `test`, …
    pub env: String,
    /// `secret` or `publishable`.
    pub key_type: &'static str,
}

impl KeyInfo {
    /// JSON with the JS API's member names.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "keyId": self.key_id,
            "clientId": self.client_id,
            "env": self.env,
            "keyType": self.key_type,
        })
        .to_string()
    }
}

/// Checks a key offline (format, alphabet, checksum).
pub fn parse_key(text: &str) -> Result<KeyInfo, SdkError> {
    let key = AccessKey::parse(text).map_err(SdkError::key)?;
    Ok(KeyInfo {
        key_id: key.key_id().to_owned(),
        client_id: key.client_id(),
        env: key.environment().to_owned(),
        key_type: key.key_type().as_str(),
    })
}

/// A secret key's derived Ed25519 pair and the client its tokens name.
/// Built once per provider, so the secret is decoded and derived once and the
/// JS side need not keep the key text. `Debug` shows no secret.
#[derive(Debug)]
pub struct Signer {
    pair: SigningKeyPair,
    client_id: String,
}

impl Signer {
    /// `client_id` is required for a legacy key and, for a key that carries
    /// one, must be that one (a token naming another client would only be
    /// refused at the edge, later and less clearly).
    pub fn new(text: &str, client_id: Option<&str>) -> Result<Self, SdkError> {
        let key = AccessKey::parse(text).map_err(SdkError::key)?;
        if let Some(given) = client_id {
            if client_segment(given).is_none() {
                return Err(SdkError::new(
                    "invalid_client_id",
                    "clientId must be cl_ followed by 1 to 24 base62 characters",
                ));
            }
        }
        let client_id = match (client_id, key.client_id()) {
            (Some(given), Some(carried)) if given != carried => {
                return Err(SdkError::new(
                    "client_id_mismatch",
                    format!("clientId {given} is not the key's client ({carried})"),
                ));
            }
            (_, Some(carried)) => carried,
            (Some(given), None) => given.to_owned(),
            (None, None) => {
                return Err(SdkError::new(
                    "legacy_key_needs_client_id",
                    "this key predates embedded client ids: pass the key's client id (clientId)",
                ));
            }
        };
        let pair = SigningKeyPair::derive(&key).map_err(SdkError::key)?;
        Ok(Self { pair, client_id })
    }

    /// A signed `at+jwt`: `iss` = `sub` = the client, `exp` = `iat + ttl`.
    pub fn mint(
        &self,
        audience: &str,
        issued_at: i64,
        ttl: i64,
        jti: &str,
    ) -> Result<String, SdkError> {
        if audience.is_empty() || jti.is_empty() || issued_at < 0 || ttl <= 0 {
            return Err(SdkError::new(
                "invalid_argument",
                "audience and jti must be non-empty, issued_at >= 0 and ttl > 0",
            ));
        }
        Ok(jwt::mint(
            &self.pair,
            &MintClaims {
                client_id: &self.client_id,
                audience,
                issued_at,
                ttl,
                jti,
            },
        ))
    }

    /// The key id (`kid`).
    pub fn key_id(&self) -> &str {
        self.pair.key_id()
    }

    /// The client the tokens name.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}

/// Checks an `X-Keygate-Signature` value against the identity headers:
/// `Err("invalid")` (malformed or wrong MAC) or `Err("stale")`.
pub fn verify_origin(
    secret: &[u8],
    header: &str,
    identity: &Identity<'_>,
    now: i64,
    max_age: i64,
) -> Result<(), &'static str> {
    origin::verify(secret, header, identity, now, max_age).map_err(|e| match e {
        SignatureError::Stale => "stale",
        SignatureError::Malformed | SignatureError::Mismatch => "invalid",
    })
}

/// A JS number as whole seconds: finite, integral, within ±2^53.
pub fn whole_seconds(value: f64, what: &str) -> Result<i64, SdkError> {
    const LIMIT: f64 = 9_007_199_254_740_991.0;
    if value.is_finite() && value.fract() == 0.0 && value.abs() <= LIMIT {
        Ok(value as i64)
    } else {
        Err(SdkError::new(
            "invalid_argument",
            format!("{what} must be a whole number of seconds"),
        ))
    }
}
