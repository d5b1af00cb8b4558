//! The accept/reject decision, free of any `worker` type so it runs (and is
//! tested) natively. The worker shell in `lib.rs` only does the I/O around it.

use shared::jwk::VerificationKey;
use shared::jwt::{VerifiedToken, VerifyOptions};
use shared::key::{AccessKey, KeyType};
use shared::record::{ClientRecord, JwkRecord, StaticKeyRecord};

/// Why a request is refused. Each maps to one status and one stable code;
/// the message is fixed text that never echoes the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No credential in the request.
    MissingCredential,
    /// The credential is not a well-formed key (bad format or checksum).
    MalformedCredential(shared::Error),
    /// Well-formed, but no such key.
    InvalidCredential,
    /// The key's expiry has passed.
    Expired,
    /// The key has been revoked.
    Revoked,
    /// A JWT that fails verification (format, signature or claims).
    InvalidToken(shared::Error),
    /// The key's scopes do not allow this method on this path.
    InsufficientScope,
    /// A publishable key without scopes tried a method other than GET, HEAD, OPTIONS.
    PublishableReadOnly,
    /// The key's client is disabled.
    ClientDisabled,
    /// Plain HTTP while `REQUIRE_HTTPS` is on.
    HttpsRequired,
    /// The key's environment has no origin behind this edge.
    WrongEnvironment,
    /// KV could not be read (or held a record we cannot decode): fail closed.
    Unavailable,
    /// The worker's own configuration is invalid.
    Misconfigured,
    /// The origin could not be reached.
    OriginUnreachable,
}

impl Rejection {
    /// HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Self::MissingCredential
            | Self::MalformedCredential(_)
            | Self::InvalidCredential
            | Self::Expired
            | Self::Revoked
            | Self::InvalidToken(_) => 401,
            Self::HttpsRequired
            | Self::WrongEnvironment
            | Self::InsufficientScope
            | Self::PublishableReadOnly
            | Self::ClientDisabled => 403,
            Self::OriginUnreachable => 502,
            Self::Unavailable | Self::Misconfigured => 503,
        }
    }

    /// Stable error code (PRODUCT.md, Edge).
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingCredential => "missing_credential",
            Self::MalformedCredential(_) => "malformed_credential",
            Self::InvalidCredential => "invalid_credential",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::InvalidToken(e) => e.code(),
            Self::InsufficientScope => "insufficient_scope",
            Self::PublishableReadOnly => "publishable_read_only",
            Self::HttpsRequired => "https_required",
            Self::ClientDisabled => "client_disabled",
            Self::WrongEnvironment => "wrong_environment",
            Self::Unavailable => "unavailable",
            Self::Misconfigured => "misconfigured",
            Self::OriginUnreachable => "origin_unreachable",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::MissingCredential => "An API key is required.",
            Self::MalformedCredential(_) => "The credential is malformed.",
            Self::InvalidCredential => "The credential is not valid.",
            Self::Expired => "The credential has expired.",
            Self::Revoked => "The credential has been revoked.",
            Self::InvalidToken(shared::Error::TokenExpired) => "The token has expired.",
            Self::InvalidToken(_) => "The token is not valid.",
            Self::InsufficientScope => "This credential may not use this method on this path.",
            Self::PublishableReadOnly => {
                "Publishable keys may only read (GET, HEAD, OPTIONS) unless scoped otherwise."
            }
            Self::HttpsRequired => "HTTPS is required.",
            Self::ClientDisabled => "This credential's client is disabled.",
            Self::WrongEnvironment => "This key's environment is not served here.",
            Self::Unavailable => "Credential verification is temporarily unavailable.",
            Self::Misconfigured => "The gateway is misconfigured.",
            Self::OriginUnreachable => "The origin could not be reached.",
        }
    }

    /// The JSON body: `{"error":{"code":…,"message":…}}`.
    pub fn body(self) -> String {
        serde_json::json!({ "error": { "code": self.code(), "message": self.message() } })
            .to_string()
    }

    /// The `WWW-Authenticate` challenge for 401s (RFC 6750 §3).
    pub fn www_authenticate(self) -> Option<String> {
        match self.status() {
            401 if self == Self::MissingCredential => Some(r#"Bearer realm="keygate""#.to_owned()),
            401 => Some(format!(
                r#"Bearer realm="keygate", error="invalid_token", error_description="{}""#,
                self.code()
            )),
            _ => None,
        }
    }
}

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

/// A caller the edge has verified; what the origin is told.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Decides on a static key given what KV holds under its hash (`None`: no
/// record). `now` is Unix seconds.
pub fn check_static_key(
    key: &AccessKey,
    record: Option<&str>,
    now: i64,
) -> Result<VerifiedCaller, Rejection> {
    let record = record.ok_or(Rejection::InvalidCredential)?;
    let record = StaticKeyRecord::decode(record).map_err(|_| Rejection::Unavailable)?;
    // The hash already binds record and key; these checks catch a record
    // written under the wrong name, which would be our bug, not the caller's.
    if record.key_id != key.key_id()
        || record.env != key.environment()
        || record.key_type != key.key_type()
    {
        return Err(Rejection::InvalidCredential);
    }
    if record.revoked_at.is_some() {
        return Err(Rejection::Revoked);
    }
    if record
        .expires_at
        .is_some_and(|expires_at| expires_at <= now)
    {
        return Err(Rejection::Expired);
    }
    if record.client_disabled {
        return Err(Rejection::ClientDisabled);
    }
    Ok(VerifiedCaller {
        client_id: record.client_id,
        key_id: record.key_id,
        env: record.env,
        key_type: record.key_type,
        auth: AuthMethod::Static,
        scopes: record.scopes,
    })
}

/// The signing key a token's `kid` names, from its KV record (`None`: no
/// record). Refuses records for another kid and unusable (weak) keys.
pub fn token_key(
    kid: &str,
    record: Option<&str>,
) -> Result<(JwkRecord, VerificationKey), Rejection> {
    let record = record.ok_or(Rejection::InvalidToken(shared::Error::TokenKeyId))?;
    let record = JwkRecord::decode(record).map_err(|_| Rejection::Unavailable)?;
    if record.jwk.kid.as_deref() != Some(kid) {
        return Err(Rejection::InvalidToken(shared::Error::TokenKeyId));
    }
    let key = record
        .jwk
        .verification_key()
        .map_err(Rejection::InvalidToken)?;
    Ok((record, key))
}

/// The claim checks for tokens of `record`'s key at this edge.
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

/// Decides on a token whose signature and claims verified (now, or earlier
/// in this isolate: the claims are re-checked either way), given the key's
/// record and its client's record (`None`: none published).
pub fn check_token_state(
    token: &VerifiedToken,
    record: &JwkRecord,
    client: Option<&str>,
    options: &VerifyOptions,
    now: i64,
) -> Result<VerifiedCaller, Rejection> {
    if record.revoked_at.is_some() {
        return Err(Rejection::Revoked);
    }
    if record.expires_at.is_some_and(|at| at <= now) {
        return Err(Rejection::Expired);
    }
    if record.client_disabled {
        return Err(Rejection::ClientDisabled);
    }
    token
        .recheck(options, now)
        .map_err(Rejection::InvalidToken)?;
    if let Some(client) = client {
        let client = ClientRecord::decode(client).map_err(|_| Rejection::Unavailable)?;
        if client.disabled
            || client
                .revoked_before
                .is_some_and(|before| token.claims.iat < before)
        {
            return Err(Rejection::Revoked);
        }
    }
    Ok(VerifiedCaller {
        client_id: record.client_id.clone(),
        key_id: token.kid.clone(),
        env: record.env.clone(),
        key_type: KeyType::Secret,
        auth: AuthMethod::Jwt,
        scopes: record.scopes.clone(),
    })
}

/// Whether the caller may make this request: its scopes, or for a
/// publishable key without scopes, the safe methods only.
pub fn authorize(caller: &VerifiedCaller, method: &str, path: &str) -> Result<(), Rejection> {
    let publishable = caller.key_type == KeyType::Publishable;
    if shared::scope::allows(&caller.scopes, publishable, method, path) {
        Ok(())
    } else if publishable && caller.scopes.is_empty() {
        Err(Rejection::PublishableReadOnly)
    } else {
        Err(Rejection::InsufficientScope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::record::RECORD_VERSION;

    fn key(env: &str) -> AccessKey {
        AccessKey::from_entropy(KeyType::Secret, env, [3; 12], &[4; 32]).unwrap()
    }

    fn record_for(key: &AccessKey) -> StaticKeyRecord {
        StaticKeyRecord {
            v: RECORD_VERSION,
            client_id: "cl_1".to_owned(),
            key_id: key.key_id().to_owned(),
            env: key.environment().to_owned(),
            key_type: key.key_type(),
            scopes: vec![],
            expires_at: None,
            revoked_at: None,
            client_disabled: false,
            rev: 1,
        }
    }

    #[test]
    fn accepts_a_live_record() {
        let key = key("live");
        let caller = check_static_key(&key, Some(&record_for(&key).encode()), 100).unwrap();
        assert_eq!(caller.client_id, "cl_1");
        assert_eq!(caller.env, "live");
        assert_eq!(caller.headers()[1], ("x-keygate-key-id", key.key_id()));
        assert_eq!(caller.headers()[4], ("x-keygate-auth", "static"));
    }

    #[test]
    fn refusals_in_order() {
        let key = key("live");
        assert_eq!(
            check_static_key(&key, None, 0),
            Err(Rejection::InvalidCredential)
        );
        assert_eq!(
            check_static_key(&key, Some("{"), 0),
            Err(Rejection::Unavailable)
        );

        let mut revoked = record_for(&key);
        revoked.revoked_at = Some(5);
        revoked.expires_at = Some(1);
        assert_eq!(
            check_static_key(&key, Some(&revoked.encode()), 10),
            Err(Rejection::Revoked)
        );

        let mut expiring = record_for(&key);
        expiring.expires_at = Some(10);
        assert!(check_static_key(&key, Some(&expiring.encode()), 9).is_ok());
        assert_eq!(
            check_static_key(&key, Some(&expiring.encode()), 10),
            Err(Rejection::Expired)
        );

        let mut disabled = record_for(&key);
        disabled.client_disabled = true;
        assert_eq!(
            check_static_key(&key, Some(&disabled.encode()), 0),
            Err(Rejection::ClientDisabled)
        );
        assert_eq!(Rejection::ClientDisabled.status(), 403);

        let mut other_env = record_for(&key);
        other_env.env = "test".to_owned();
        assert_eq!(
            check_static_key(&key, Some(&other_env.encode()), 0),
            Err(Rejection::InvalidCredential)
        );
    }

    #[test]
    fn statuses_bodies_and_challenges() {
        assert_eq!(Rejection::MissingCredential.status(), 401);
        assert_eq!(Rejection::HttpsRequired.status(), 403);
        assert_eq!(Rejection::Unavailable.status(), 503);
        let body: serde_json::Value = serde_json::from_str(&Rejection::Revoked.body()).unwrap();
        assert_eq!(body["error"]["code"], "revoked");
        assert_eq!(
            Rejection::MissingCredential.www_authenticate().as_deref(),
            Some(r#"Bearer realm="keygate""#)
        );
        assert!(Rejection::Expired
            .www_authenticate()
            .unwrap()
            .contains(r#"error="invalid_token""#));
        assert_eq!(Rejection::WrongEnvironment.www_authenticate(), None);
    }

    fn caller(key_type: KeyType, scopes: &[&str]) -> VerifiedCaller {
        VerifiedCaller {
            client_id: "cl_1".to_owned(),
            key_id: "k".to_owned(),
            env: "live".to_owned(),
            key_type,
            auth: AuthMethod::Static,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn authorization_by_scope_and_key_type() {
        assert_eq!(
            authorize(&caller(KeyType::Secret, &[]), "DELETE", "/x"),
            Ok(())
        );
        let scoped = caller(KeyType::Secret, &["GET:/v1/reports"]);
        assert_eq!(authorize(&scoped, "GET", "/v1/reports/1"), Ok(()));
        assert_eq!(
            authorize(&scoped, "POST", "/v1/reports"),
            Err(Rejection::InsufficientScope)
        );
        assert_eq!(
            authorize(&scoped, "GET", "/v1/admin"),
            Err(Rejection::InsufficientScope)
        );
        let publishable = caller(KeyType::Publishable, &[]);
        assert_eq!(authorize(&publishable, "GET", "/x"), Ok(()));
        assert_eq!(
            authorize(&publishable, "POST", "/x"),
            Err(Rejection::PublishableReadOnly)
        );
        let writer = caller(KeyType::Publishable, &["POST:/v1/events"]);
        assert_eq!(authorize(&writer, "POST", "/v1/events"), Ok(()));
        assert_eq!(
            authorize(&writer, "GET", "/v1/other"),
            Err(Rejection::InsufficientScope)
        );
        assert_eq!(Rejection::InsufficientScope.status(), 403);
        assert_eq!(Rejection::PublishableReadOnly.status(), 403);
    }

    mod tokens {
        use super::*;
        use shared::jwk::PublicJwk;
        use shared::jwt::Unverified;

        const KID: &str = "0123456789ABCDEFG";
        const AUD: &str = "https://edge.example";

        fn pair() -> ed25519_compact::KeyPair {
            ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([3; 32]))
        }

        fn record() -> JwkRecord {
            JwkRecord {
                v: RECORD_VERSION,
                client_id: "cl_1".to_owned(),
                env: "test".to_owned(),
                jwk: PublicJwk::from_public_key(&pair().pk, KID),
                scopes: vec![],
                expires_at: None,
                revoked_at: None,
                client_disabled: false,
                rev: 1,
            }
        }

        fn token(iat: i64, exp: i64) -> String {
            let b64 = shared::b64::encode_url;
            let header = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{KID}"}}"#);
            let claims =
                format!(r#"{{"iss":"cl_1","sub":"cl_1","aud":"{AUD}","iat":{iat},"exp":{exp}}}"#);
            let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
            let signature = pair().sk.sign(input.as_bytes(), None);
            format!("{input}.{}", b64(signature.as_ref()))
        }

        fn decide(
            record: &JwkRecord,
            client: Option<&str>,
            token_text: &str,
            now: i64,
        ) -> Result<VerifiedCaller, Rejection> {
            let unverified = Unverified::parse(token_text).map_err(Rejection::InvalidToken)?;
            let (record, key) = token_key(unverified.kid(), Some(&record.encode()))?;
            let options = token_options(&record, AUD, 3600, 60);
            let verified = unverified
                .verify(&key, &options, now)
                .map_err(Rejection::InvalidToken)?;
            check_token_state(&verified, &record, client, &options, now)
        }

        #[test]
        fn a_valid_token_names_its_key_and_client() {
            let caller = decide(&record(), None, &token(1_000, 1_300), 1_100).unwrap();
            assert_eq!(
                (caller.client_id.as_str(), caller.env.as_str()),
                ("cl_1", "test")
            );
            assert_eq!(caller.auth, AuthMethod::Jwt);
            assert_eq!(caller.headers()[4], ("x-keygate-auth", "jwt"));
        }

        #[test]
        fn refusals() {
            assert_eq!(
                token_key(KID, None).err(),
                Some(Rejection::InvalidToken(shared::Error::TokenKeyId))
            );
            let mut revoked = record();
            revoked.revoked_at = Some(1);
            assert_eq!(
                decide(&revoked, None, &token(1_000, 1_300), 1_100).err(),
                Some(Rejection::Revoked)
            );
            assert_eq!(
                decide(&record(), None, &token(1_000, 1_300), 1_400).err(),
                Some(Rejection::InvalidToken(shared::Error::TokenExpired))
            );
            assert_eq!(
                Rejection::InvalidToken(shared::Error::TokenExpired).code(),
                "expired"
            );
            // The client revoked every token issued before 1_050.
            let client = r#"{"v":1,"client_id":"cl_1","revoked_before":1050}"#;
            assert_eq!(
                decide(&record(), Some(client), &token(1_000, 1_300), 1_100).err(),
                Some(Rejection::Revoked)
            );
            assert!(decide(&record(), Some(client), &token(1_060, 1_300), 1_100).is_ok());
            let disabled = r#"{"v":1,"client_id":"cl_1","disabled":true}"#;
            assert_eq!(
                decide(&record(), Some(disabled), &token(1_060, 1_300), 1_100).err(),
                Some(Rejection::Revoked)
            );
            // A weak key in a record is refused, never used.
            let mut weak = record();
            weak.jwk.x = shared::b64::encode_url(&[0; 32]);
            assert_eq!(
                token_key(KID, Some(&weak.encode())).err(),
                Some(Rejection::InvalidToken(shared::Error::JwkWeakKey))
            );
        }
    }
}
