//! The accept/reject decision, free of any `worker` type so it runs (and is
//! tested) natively. The worker shell in `lib.rs` only does the I/O around it.

use shared::key::{AccessKey, KeyType};
use shared::record::StaticKeyRecord;

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
            | Self::Revoked => 401,
            Self::HttpsRequired | Self::WrongEnvironment => 403,
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
            Self::HttpsRequired => "https_required",
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
            Self::HttpsRequired => "HTTPS is required.",
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
}

impl AuthMethod {
    /// The `X-Keygate-Auth` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Static => "static",
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

/// Whether an incoming header must be dropped before forwarding: callers
/// must never be able to assert an identity themselves.
pub fn is_reserved_header(name: &str) -> bool {
    name.len() >= 10 && name.as_bytes()[..10].eq_ignore_ascii_case(b"x-keygate-")
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
    Ok(VerifiedCaller {
        client_id: record.client_id,
        key_id: record.key_id,
        env: record.env,
        key_type: record.key_type,
        auth: AuthMethod::Static,
    })
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

    #[test]
    fn reserved_headers() {
        assert!(is_reserved_header("X-Keygate-Client-Id"));
        assert!(is_reserved_header("x-keygate-anything"));
        assert!(!is_reserved_header("x-keygat"));
        assert!(!is_reserved_header("authorization"));
    }
}
