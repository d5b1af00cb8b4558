//! Compact JWS tokens signed with Ed25519 (RFC 7515, RFC 8037, RFC 9864),
//! verified in a fixed order that never trusts a byte before it is checked:
//!
//! 1. size cap on the raw token;
//! 2. exactly three segments;
//! 3. strict base64url on every segment (no padding, canonical trailing bits);
//! 4. header: a JSON object with unique members; no `crit`, no embedded or
//!    referenced keys (`jwk`, `jku`, `x5u`, `x5c`, `x5t`, `x5t#S256`), no
//!    nested, unencoded or encrypted forms (`cty`, `b64`, `enc`, `zip`);
//!    `alg` exactly `EdDSA` or `Ed25519`; `typ`, if present, `at+jwt` or `JWT`;
//!    `kid` a keygate key id; the signature exactly 64 bytes.
//!    This is [`Unverified::parse`]; the caller then looks the key up by
//!    [`Unverified::kid`] (in KV, asynchronously), and only then
//! 5. the signature ([`Unverified::verify`], or [`Unverified::verify_with`]
//!    an [`Ed25519Verifier`] of the caller's): canonical S, no weak keys;
//! 6. the claims, only now decoded: `exp` and `iat` required, `nbf` honoured,
//!    all with the allowed skew; the lifetime `exp - iat` capped; `iat` not in
//!    the future; `aud` must contain the expected audience; `iss` and `sub`
//!    must both be the key's client.
//!
//! Time is an argument: this module reads no clock.
//!
//! # What a [`VerifiedToken`] guarantees, and where that ends
//!
//! A [`VerifiedToken`] exists only as the result of steps 1 to 6: its fields
//! are private and no constructor takes a claimed outcome (there is no
//! "signature valid: `true`" argument anywhere). Holding one means the
//! token parsed under the rules above, its claims held at the `now` it was
//! verified at, and its signature checked out under a [`VerificationKey`]
//! (so never a weak key), either by ed25519-compact here or by an
//! [`Ed25519Verifier`] that was handed exactly this token's signing input,
//! signature and key, and nothing else.
//!
//! The limit: the type system cannot prove that an [`Ed25519Verifier`]
//! implementation computes what it claims. Any crate can implement the
//! trait, and an implementation that answers `Some(true)` unconditionally
//! would make forged tokens "verify". The trust therefore sits in the few
//! reviewed implementations (in this workspace one: the edge's WebCrypto
//! module, whose agreement with ed25519-compact on every Wycheproof vector
//! is tested through workerd), and an implementation is a deliberate,
//! greppable `impl Ed25519Verifier`, never a boolean passed at a call site.
//!
//! ```compile_fail
//! // A verified token cannot be built by hand...
//! let forged = shared::jwt::VerifiedToken {
//!     kid: String::new(),
//!     alg: String::new(),
//!     claims: shared::jwt::Claims {
//!         iss: None,
//!         sub: None,
//!         aud: Vec::new(),
//!         exp: 0,
//!         iat: 0,
//!         nbf: None,
//!         jti: None,
//!     },
//! };
//! ```
//!
//! ```compile_fail
//! // ...nor concluded from a verdict the caller makes up.
//! let token = shared::jwt::Unverified::parse("a.b.c").unwrap();
//! let _ = token.verify_with_signature_verdict(true, &Default::default(), 0);
//! ```

use core::future::Future;

use serde_json::Value;

use crate::{
    b64,
    json::{StrictError, StrictObject},
    jwk::VerificationKey,
    key::is_valid_key_id,
    Error,
};

/// Tokens longer than this are refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 4096;

/// What the claims must satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The audience `aud` must contain (the edge's public URL); `None` skips
    /// the check (offline inspection only).
    pub audience: Option<String>,
    /// The client `iss` and `sub` must both equal (the key's client).
    pub client_id: Option<String>,
    /// Largest accepted `exp - iat`, seconds.
    pub max_lifetime: i64,
    /// Allowed clock skew, seconds.
    pub skew: i64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            audience: None,
            client_id: None,
            max_lifetime: 3600,
            skew: 60,
        }
    }
}

/// An Ed25519 signature check done outside this crate: the edge's WebCrypto
/// (about a fifth of the cost of ed25519-compact compiled to WASM).
///
/// [`Unverified::verify_with`] calls it with exactly the token's signing
/// input and signature and the [`VerificationKey`] the caller found by
/// `kid`; an implementation must agree with [`VerificationKey::verify`] on
/// every input (see the module documentation for what that trust means).
pub trait Ed25519Verifier {
    /// Whether `signature` is a valid Ed25519 signature of `message` under
    /// `key`; `None` when this verifier cannot answer (it is unavailable),
    /// in which case ed25519-compact decides instead: an unavailable
    /// verifier never turns into an accept, nor into a spurious refusal.
    fn verify_ed25519(
        &self,
        key: &VerificationKey,
        message: &[u8],
        signature: &[u8; 64],
    ) -> impl Future<Output = Option<bool>>;
}

/// A token whose form and header have been checked, but not its signature.
/// It exposes only what is needed to find the key, and the two ways to
/// verify it ([`Unverified::verify`], [`Unverified::verify_with`]).
#[derive(Clone)]
pub struct Unverified<'a> {
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: [u8; 64],
    kid: String,
}

/// The `kid` only: the rest is a bearer credential, never for a log line.
impl core::fmt::Debug for Unverified<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Unverified")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl<'a> Unverified<'a> {
    /// Steps 1 to 4.
    pub fn parse(token: &'a str) -> Result<Self, Error> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Error::TokenTooLong);
        }
        let mut segments = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(Error::TokenSegments);
        };
        let header = b64::decode_url(header).ok_or(Error::TokenBase64)?;
        let payload = b64::decode_url(payload).ok_or(Error::TokenBase64)?;
        let signature = b64::decode_url(signature).ok_or(Error::TokenBase64)?;

        let header = StrictObject::parse(&header).map_err(|e| match e {
            StrictError::Duplicate => Error::TokenDuplicateMember,
            StrictError::Malformed => Error::TokenHeader,
        })?;
        for name in header.names() {
            match name {
                "crit" => return Err(Error::TokenCritical),
                "jwk" | "jku" | "x5u" | "x5c" | "x5t" | "x5t#S256" => {
                    return Err(Error::TokenEmbeddedKey)
                }
                "cty" | "b64" | "enc" | "zip" => return Err(Error::TokenUnsupportedForm),
                _ => {}
            }
        }
        match header.get("alg") {
            Some(Value::String(alg)) if alg == "EdDSA" || alg == "Ed25519" => {}
            _ => return Err(Error::TokenAlgorithm),
        }
        match header.get("typ") {
            None => {}
            Some(Value::String(typ)) if typ == "at+jwt" || typ == "JWT" => {}
            Some(_) => return Err(Error::TokenType),
        }
        let kid = match header.get("kid") {
            Some(Value::String(kid)) if is_valid_key_id(kid) => kid.clone(),
            _ => return Err(Error::TokenKeyId),
        };
        let signature: [u8; 64] = signature
            .try_into()
            .map_err(|_| Error::TokenSignatureLength)?;
        let signing_input = &token[..token.rfind('.').unwrap_or(0)];
        Ok(Self {
            signing_input,
            payload,
            signature,
            kid,
        })
    }

    /// The key id to look the verification key up by.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// What the signature covers (`header.payload`): for an
    /// [`Ed25519Verifier`] that must be handed its inputs before
    /// [`Unverified::verify_with`] asks it (the edge's WebCrypto, across an
    /// `await` in JavaScript).
    pub fn signing_input(&self) -> &str {
        self.signing_input
    }

    /// The signature, decoded.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// Steps 5 and 6, at time `now` (Unix seconds), the signature checked
    /// by ed25519-compact.
    pub fn verify(
        self,
        key: &VerificationKey,
        options: &VerifyOptions,
        now: i64,
    ) -> Result<VerifiedToken, Error> {
        let signature_valid = key
            .verify(self.signing_input.as_bytes(), &self.signature)
            .is_ok();
        self.conclude(signature_valid, options, now)
    }

    /// Steps 5 and 6 with the signature checked by `verifier` (falling back
    /// to ed25519-compact when it cannot answer); the claims are checked
    /// exactly as in [`Unverified::verify`].
    pub async fn verify_with<V: Ed25519Verifier>(
        self,
        verifier: &V,
        key: &VerificationKey,
        options: &VerifyOptions,
        now: i64,
    ) -> Result<VerifiedToken, Error> {
        let message = self.signing_input.as_bytes();
        let signature_valid = match verifier.verify_ed25519(key, message, &self.signature).await {
            Some(valid) => valid,
            None => key.verify(message, &self.signature).is_ok(),
        };
        self.conclude(signature_valid, options, now)
    }

    /// The end of both paths. Private: the verdict always comes from one of
    /// the checks above, never from a caller.
    fn conclude(
        self,
        signature_valid: bool,
        options: &VerifyOptions,
        now: i64,
    ) -> Result<VerifiedToken, Error> {
        if !signature_valid {
            return Err(Error::TokenSignature);
        }
        let claims = Claims::parse(&self.payload)?;
        claims.check(options, now)?;
        Ok(VerifiedToken {
            kid: self.kid,
            claims,
        })
    }
}

/// The registered claims keygate reads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claims {
    /// Issuer: the client id.
    pub iss: Option<String>,
    /// Subject: the client id.
    pub sub: Option<String>,
    /// Audiences (`aud` as a string or an array).
    pub aud: Vec<String>,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Not before, Unix seconds.
    pub nbf: Option<i64>,
    /// Token id.
    pub jti: Option<String>,
}

impl Claims {
    fn parse(payload: &[u8]) -> Result<Self, Error> {
        let object = StrictObject::parse(payload).map_err(|e| match e {
            StrictError::Duplicate => Error::TokenDuplicateMember,
            StrictError::Malformed => Error::TokenClaims,
        })?;
        let string = |name: &str| match object.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::TokenClaims),
        };
        // NumericDate may be fractional (RFC 7519 §2); whole seconds only here,
        // which every library we know of emits.
        let time = |name: &str| match object.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or(Error::TokenClaims),
            Some(_) => Err(Error::TokenClaims),
        };
        let aud = match object.get("aud") {
            None => Vec::new(),
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or(Error::TokenClaims))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(Error::TokenClaims),
        };
        Ok(Self {
            iss: string("iss")?,
            sub: string("sub")?,
            aud,
            exp: time("exp")?.ok_or(Error::TokenMissingExpiry)?,
            iat: time("iat")?.ok_or(Error::TokenMissingIssuedAt)?,
            nbf: time("nbf")?,
            jti: string("jti")?,
        })
    }

    fn check(&self, options: &VerifyOptions, now: i64) -> Result<(), Error> {
        let skew = options.skew;
        // Checked: a signed `iat` of -9e18 and `exp` of 9e18 must not wrap
        // into a "short" lifetime (found by the token_verify fuzz target).
        match self.exp.checked_sub(self.iat) {
            Some(lifetime) if lifetime > 0 && lifetime <= options.max_lifetime => {}
            _ => return Err(Error::TokenLifetime),
        }
        if self.iat > now.saturating_add(skew) {
            return Err(Error::TokenIssuedInFuture);
        }
        if self.nbf.is_some_and(|nbf| nbf > now.saturating_add(skew)) {
            return Err(Error::TokenNotYetValid);
        }
        if now >= self.exp.saturating_add(skew) {
            return Err(Error::TokenExpired);
        }
        if let Some(audience) = &options.audience {
            if !self.aud.iter().any(|a| a == audience) {
                return Err(Error::TokenAudience);
            }
        }
        if let Some(client_id) = &options.client_id {
            if self.iss.as_deref() != Some(client_id.as_str()) {
                return Err(Error::TokenIssuer);
            }
            if self.sub.as_deref() != Some(client_id.as_str()) {
                return Err(Error::TokenSubject);
            }
        }
        Ok(())
    }
}

/// A token whose signature verified and whose claims passed every check
/// (at the `now` it was verified at). Only verification makes one: the
/// fields are private (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    kid: String,
    claims: Claims,
}

impl VerifiedToken {
    /// The key that signed it.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Its claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Re-checks the claims at a later `now` (a cached token is verified
    /// once, but its time window and audience apply at every use).
    pub fn recheck(&self, options: &VerifyOptions, now: i64) -> Result<(), Error> {
        self.claims.check(options, now)
    }
}

/// What a freshly minted token says.
#[cfg(feature = "mint")]
#[derive(Debug, Clone)]
pub struct MintClaims<'a> {
    /// `iss` and `sub`.
    pub client_id: &'a str,
    /// `aud`.
    pub audience: &'a str,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// `exp - iat`, seconds.
    pub ttl: i64,
    /// `jti`, unique per token (the caller draws it).
    pub jti: &'a str,
}

/// Signs an `at+jwt` access token with an access key's pair.
#[cfg(feature = "mint")]
pub fn mint(pair: &crate::signing::SigningKeyPair, claims: &MintClaims<'_>) -> String {
    let header = serde_json::json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": pair.key_id() });
    let payload = serde_json::json!({
        "iss": claims.client_id, "sub": claims.client_id, "aud": claims.audience,
        "iat": claims.issued_at, "exp": claims.issued_at + claims.ttl, "jti": claims.jti,
    });
    let signing_input = format!(
        "{}.{}",
        b64::encode_url(header.to_string().as_bytes()),
        b64::encode_url(payload.to_string().as_bytes())
    );
    let signature = pair.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64::encode_url(&signature))
}
