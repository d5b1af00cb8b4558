//! The accept/reject decision, in one place, as pure functions over decoded
//! KV records: the edge (records from KV) and the control plane (database
//! rows turned into the very records it publishes) both call these, and so
//! will the verification API and the SDKs. They give the same answer because
//! they run the same code, not because two copies were kept in step.
//!
//! No I/O and no clock: the caller fetches the records each step names and
//! passes `now` (Unix seconds). The decision, in order:
//!
//! 1. [`Credential::parse`]: the presented text is an access key or a JWT
//!    ([`crate::credential::Presented::form`]), checked offline (format and
//!    checksum; or the token's form and header).
//! 2. An access key: the caller reads the [`StaticKeyRecord`] under the
//!    key's hash, then [`check_static_key`] (record matches the key, not
//!    revoked, not expired, client not disabled).
//!
//!    A JWT: the caller reads the [`JwkRecord`] under its `kid`, then
//!    [`token_key`] (the record's key, never a weak one); the token is
//!    verified against it ([`crate::jwt::Unverified::verify`] with
//!    [`token_options`]); the caller reads the [`ClientRecord`] of the
//!    record's client, then [`check_token`] (key state, claims at `now`,
//!    client disabled, client-wide token revocation: [`revoked_by_client`]).
//! 3. [`authorize`]: the key's scopes, or for a publishable key without
//!    scopes the safe methods, allow this method on this path.
//!
//! Every refusal is a [`Rejection`]: one HTTP status, one stable code, one
//! fixed message and, for a 401, its `WWW-Authenticate` challenge.
//!
//! A caller that fetches the records before deciding (the control plane;
//! the verification API, `POST /v1/verify` with a credential, a method and
//! a path) runs steps 2 and 3 in one call: [`decide`] (or [`authenticate`]
//! alone when there is no method and path to authorize) with the
//! [`Records`] the credential names. The edge runs the same steps one by
//! one, because it reads KV (asynchronously) between them and keeps a
//! verified-token cache.

mod rejection;

pub use rejection::Rejection;

use crate::credential::{Form, Presented};
use crate::jwk::VerificationKey;
use crate::jwt::{Unverified, VerifiedToken, VerifyOptions};
use crate::key::{AccessKey, KeyType};
use crate::record::{ClientRecord, JwkRecord, StaticKeyRecord};

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// A static key, looked up by hash.
    Static,
    /// A JWT signed with the key's Ed25519 key, checked against its JWK.
    Jwt,
}

impl AuthMethod {
    /// The `X-Keygate-Auth` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Static => "static",
            Self::Jwt => "jwt",
        }
    }
}

/// A caller whose credential passed [`check_static_key`] or [`check_token`]
/// at some `now`: a known, unrevoked, unexpired key of an enabled client.
/// Not yet [`authorize`]d for a method and path.
///
/// `#[non_exhaustive]`: other crates read the fields but cannot build one,
/// so outside this crate a `VerifiedCaller` only comes out of the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedCaller {
    /// The key's client.
    pub client_id: String,
    /// The key's id.
    pub key_id: String,
    /// The key's environment; selects the origin.
    pub env: String,
    /// Secret or publishable.
    pub key_type: KeyType,
    /// How the caller authenticated.
    pub auth: AuthMethod,
    /// The key's scopes (empty: unrestricted, within its type's defaults).
    pub scopes: Vec<String>,
}

impl VerifiedCaller {
    /// The identity headers added to the forwarded request.
    pub fn headers(&self) -> [(&'static str, &str); 5] {
        [
            ("x-keygate-client-id", &self.client_id),
            ("x-keygate-key-id", &self.key_id),
            ("x-keygate-env", &self.env),
            ("x-keygate-key-type", self.key_type.as_str()),
            ("x-keygate-auth", self.auth.as_str()),
        ]
    }
}

/// A presented credential, checked offline and sorted by form.
#[derive(Debug)]
pub enum Credential<'a> {
    /// An access key with a valid format and checksum: look its record up
    /// by [`AccessKey::hash`].
    AccessKey(AccessKey),
    /// A JWT whose form and header passed: look its key record up by
    /// [`Unverified::kid`].
    Token(Unverified<'a>),
}

impl<'a> Credential<'a> {
    /// Step 1 (no record needed).
    pub fn parse(presented: &'a Presented) -> Result<Self, Rejection> {
        match presented.form() {
            Form::Token => Unverified::parse(&presented.text)
                .map(Self::Token)
                .map_err(Rejection::InvalidToken),
            Form::AccessKey => AccessKey::parse(&presented.text)
                .map(Self::AccessKey)
                .map_err(Rejection::MalformedCredential),
        }
    }
}

/// The records a decision on one credential reads, as the caller fetched
/// them (`None`: there is no such record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Records {
    /// An access key's record, stored under its hash (`sk:<hash>`).
    pub static_key: Option<StaticKeyRecord>,
    /// A token's signing-key record, stored under its `kid` (`jwk:<kid>`).
    pub signing_key: Option<JwkRecord>,
    /// That signing key's client's record (`client:<client id>`).
    pub client: Option<ClientRecord>,
}

/// What a verifier expects of tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy<'a> {
    /// The verifier's public URL: `aud` must contain it.
    pub audience: &'a str,
    /// Largest accepted `exp - iat`, seconds.
    pub max_lifetime: i64,
    /// Allowed clock skew, seconds.
    pub skew: i64,
}

/// Step 2 with the records at hand (the signature checked by
/// ed25519-compact): who the credential proves the caller is.
pub fn authenticate(
    credential: Credential<'_>,
    records: Records,
    policy: &TokenPolicy<'_>,
    now: i64,
) -> Result<VerifiedCaller, Rejection> {
    match credential {
        Credential::AccessKey(key) => check_static_key(&key, records.static_key, now),
        Credential::Token(unverified) => {
            let (record, key) = token_key(unverified.kid(), records.signing_key)?;
            let options = token_options(&record, policy.audience, policy.max_lifetime, policy.skew);
            let verified = unverified
                .verify(&key, &options, now)
                .map_err(Rejection::InvalidToken)?;
            check_token(&verified, record, records.client.as_ref(), &options, now)
        }
    }
}

/// Steps 2 and 3 with the records at hand: whether this credential may make
/// this request (`method` exactly as sent, `path` as received), and as whom.
pub fn decide(
    credential: Credential<'_>,
    method: &str,
    path: &str,
    now: i64,
    records: Records,
    policy: &TokenPolicy<'_>,
) -> Result<VerifiedCaller, Rejection> {
    let caller = authenticate(credential, records, policy, now)?;
    authorize(&caller, method, path)?;
    Ok(caller)
}

/// Decides on an access key given the record stored under its hash (`None`:
/// no record).
pub fn check_static_key(
    key: &AccessKey,
    record: Option<StaticKeyRecord>,
    now: i64,
) -> Result<VerifiedCaller, Rejection> {
    let record = record.ok_or(Rejection::InvalidCredential)?;
    // The hash already binds record and key; these checks catch a record
    // written under the wrong name, which would be our bug, not the caller's.
    if record.key_id != key.key_id()
        || record.env != key.environment()
        || record.key_type != key.key_type()
    {
        return Err(Rejection::InvalidCredential);
    }
    check_key_state(
        record.revoked_at,
        record.expires_at,
        record.client_disabled,
        now,
    )?;
    Ok(VerifiedCaller {
        client_id: record.client_id,
        key_id: record.key_id,
        env: record.env,
        key_type: record.key_type,
        auth: AuthMethod::Static,
        scopes: record.scopes,
    })
}

/// What every key's record must say, whichever way it is used. The order is
/// part of the contract: a revoked key says so even once it has expired.
fn check_key_state(
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
    client_disabled: bool,
    now: i64,
) -> Result<(), Rejection> {
    if revoked_at.is_some() {
        return Err(Rejection::Revoked);
    }
    if expires_at.is_some_and(|at| at <= now) {
        return Err(Rejection::Expired);
    }
    if client_disabled {
        return Err(Rejection::ClientDisabled);
    }
    Ok(())
}

/// The signing key a token's `kid` names, from its record (`None`: no
/// record). Refuses a record for another kid and an unusable (weak) key.
pub fn token_key(
    kid: &str,
    record: Option<JwkRecord>,
) -> Result<(JwkRecord, VerificationKey), Rejection> {
    let record = record.ok_or(Rejection::InvalidToken(crate::Error::TokenKeyId))?;
    if record.jwk.kid.as_deref() != Some(kid) {
        return Err(Rejection::InvalidToken(crate::Error::TokenKeyId));
    }
    let key = record
        .jwk
        .verification_key()
        .map_err(Rejection::InvalidToken)?;
    Ok((record, key))
}

/// The claim checks for tokens of `record`'s key at a verifier whose public
/// URL is `audience`.
pub fn token_options(
    record: &JwkRecord,
    audience: &str,
    max_lifetime: i64,
    skew: i64,
) -> VerifyOptions {
    VerifyOptions {
        audience: Some(audience.to_owned()),
        client_id: Some(record.client_id.clone()),
        max_lifetime,
        skew,
    }
}

/// Decides on a token whose signature and claims verified (now, or earlier:
/// the claims are re-checked against `options` at `now` either way), given
/// its key's record and its client's record (`None`: none published).
pub fn check_token(
    token: &VerifiedToken,
    record: JwkRecord,
    client: Option<&ClientRecord>,
    options: &VerifyOptions,
    now: i64,
) -> Result<VerifiedCaller, Rejection> {
    let JwkRecord {
        client_id,
        env,
        jwk,
        scopes,
        expires_at,
        revoked_at,
        client_disabled,
        ..
    } = record;
    // The record must be the one the token names (`token_key` made sure;
    // this keeps a mix-up of records from ever naming the wrong key).
    let key_id = jwk
        .kid
        .filter(|kid| kid == token.kid())
        .ok_or(Rejection::InvalidToken(crate::Error::TokenKeyId))?;
    check_key_state(revoked_at, expires_at, client_disabled, now)?;
    token
        .recheck(options, now)
        .map_err(Rejection::InvalidToken)?;
    if let Some(client) = client {
        // The caller read the wrong record: our bug, never a pass.
        if client.client_id != client_id {
            return Err(Rejection::Unavailable);
        }
        if client.disabled
            || client
                .revoked_before
                .is_some_and(|before| revoked_by_client(token.claims().iat, before, options.skew))
        {
            return Err(Rejection::Revoked);
        }
    }
    Ok(VerifiedCaller {
        client_id,
        key_id,
        env,
        key_type: KeyType::Secret,
        auth: AuthMethod::Jwt,
        scopes,
    })
}

/// Whether a client's `revoke-tokens` refuses a token issued at `iat`.
///
/// `revoked_before` is the Unix second, rounded down, at which the
/// revocation was made (as the control plane stores it). The rule refuses
/// every token signed before the revocation call returned (a call that
/// takes under a second), including by a holder whose clock runs ahead by
/// up to `skew` seconds (the verifier accepts an `iat` up to `skew` in the
/// future, so such a holder's tokens carry one):
///
/// - a token signed at true time `t` has `iat <= floor(t) + skew`;
/// - the call started at `T >= revoked_before` and returned before
///   `T + 1 < revoked_before + 2`, so `floor(t) <= revoked_before + 1`;
/// - hence: refused when `iat <= revoked_before + 1 + skew`.
///
/// The cost: a token minted right after the revocation is refused too,
/// until its `iat` passes that bound: for up to `skew + 2` seconds (62 s
/// with the default skew) after a `revoke-tokens` call, fresh tokens are
/// refused as well. A token pre-dated further into the future than `skew`
/// was not usable before the revocation and is not covered: only the key
/// holder can make one, and revoking the key is the remedy for that.
pub fn revoked_by_client(iat: i64, revoked_before: i64, skew: i64) -> bool {
    iat <= revoked_before.saturating_add(1).saturating_add(skew.max(0))
}

/// Step 3: whether the caller may make this request: its scopes, or for a
/// publishable key without scopes, the safe methods only.
pub fn authorize(caller: &VerifiedCaller, method: &str, path: &str) -> Result<(), Rejection> {
    let publishable = caller.key_type == KeyType::Publishable;
    // The one call into the scope rules (method and path matching live there).
    if crate::scope::allows(&caller.scopes, publishable, method, path) {
        Ok(())
    } else if publishable && caller.scopes.is_empty() {
        Err(Rejection::PublishableReadOnly)
    } else {
        Err(Rejection::InsufficientScope)
    }
}
