//! The edge's side of the decision: KV values decoded into records, then the
//! one decision of `shared::decision` (the same code the control plane and
//! the verification API call). A value that does not decode is
//! `Unavailable` (503): the edge fails closed rather than guess. Free of any
//! `worker` type, so it runs (and is tested) natively.

use shared::decision;
use shared::jwk::VerificationKey;
use shared::jwt::{VerifiedToken, VerifyOptions};
use shared::key::AccessKey;
use shared::record::{ClientRecord, JwkRecord, StaticKeyRecord};

pub use shared::decision::{authorize, token_options, AuthMethod, Rejection, VerifiedCaller};

/// Decodes a KV value (`None`: no such record).
fn decoded<T>(
    value: Option<&str>,
    decode: fn(&str) -> Result<T, shared::Error>,
) -> Result<Option<T>, Rejection> {
    value
        .map(decode)
        .transpose()
        .map_err(|_| Rejection::Unavailable)
}

/// Decides on a static key given what KV holds under its hash (`None`: no
/// record). `now` is Unix seconds.
pub fn check_static_key(
    key: &AccessKey,
    record: Option<&str>,
    now: i64,
) -> Result<VerifiedCaller, Rejection> {
    decision::check_static_key(key, decoded(record, StaticKeyRecord::decode)?, now)
}

/// The signing key a token's `kid` names, from its KV value (`None`: no
/// record).
pub fn token_key(
    kid: &str,
    record: Option<&str>,
) -> Result<(JwkRecord, VerificationKey), Rejection> {
    decision::token_key(kid, decoded(record, JwkRecord::decode)?)
}

/// Decides on a verified token given its key's record and the KV value of
/// its client's record (`None`: none published).
pub fn check_token_state(
    token: &VerifiedToken,
    record: JwkRecord,
    client: Option<&str>,
    options: &VerifyOptions,
    now: i64,
) -> Result<VerifiedCaller, Rejection> {
    let client = decoded(client, ClientRecord::decode)?;
    decision::check_token(token, record, client.as_ref(), options, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::jwt::Unverified;
    use shared::key::KeyType;
    use shared::record::RECORD_VERSION;

    // The decision's own tests live with it (shared/tests/decision.rs);
    // these cover what the edge adds: KV values in, fail closed on garbage.

    fn key() -> AccessKey {
        AccessKey::from_entropy(KeyType::Secret, "live", None, [3; 12], &[4; 32]).unwrap()
    }

    #[test]
    fn records_are_decoded_and_garbage_fails_closed() {
        let key = key();
        let record = StaticKeyRecord {
            v: RECORD_VERSION,
            client_id: "cl_1".to_owned(),
            key_id: key.key_id().to_owned(),
            env: "live".to_owned(),
            key_type: KeyType::Secret,
            scopes: vec![],
            expires_at: None,
            revoked_at: None,
            client_disabled: false,
            rev: 1,
        };
        let caller = check_static_key(&key, Some(&record.encode()), 100).unwrap();
        assert_eq!(caller.client_id, "cl_1");
        assert_eq!(
            check_static_key(&key, None, 0),
            Err(Rejection::InvalidCredential)
        );
        assert_eq!(
            check_static_key(&key, Some("{"), 0),
            Err(Rejection::Unavailable)
        );
        assert_eq!(
            token_key("0123456789ABCDEFG", Some("{")).err(),
            Some(Rejection::Unavailable)
        );
        let future = record.encode().replace("\"v\":1", "\"v\":2");
        assert_eq!(
            check_static_key(&key, Some(&future), 0),
            Err(Rejection::Unavailable)
        );
    }

    #[test]
    fn an_undecodable_client_record_fails_closed() {
        const KID: &str = "0123456789ABCDEFG";
        let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([3; 32]));
        let record = JwkRecord {
            v: RECORD_VERSION,
            client_id: "cl_1".to_owned(),
            env: "test".to_owned(),
            jwk: shared::jwk::PublicJwk::from_public_key(&pair.pk, KID),
            scopes: vec![],
            expires_at: None,
            revoked_at: None,
            client_disabled: false,
            rev: 1,
        };
        let b64 = shared::b64::encode_url;
        let header = format!(r#"{{"alg":"EdDSA","kid":"{KID}"}}"#);
        let claims = r#"{"iss":"cl_1","sub":"cl_1","aud":"a","iat":1000,"exp":1300}"#;
        let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let token = format!(
            "{input}.{}",
            b64(pair.sk.sign(input.as_bytes(), None).as_ref())
        );
        let (record, key) = token_key(KID, Some(&record.encode())).unwrap();
        let options = token_options(&record, "a", 3600, 0);
        let verified = Unverified::parse(&token)
            .unwrap()
            .verify(&key, &options, 1_100)
            .unwrap();
        assert_eq!(
            check_token_state(&verified, record.clone(), Some("{"), &options, 1_100),
            Err(Rejection::Unavailable)
        );
        let caller = check_token_state(&verified, record, None, &options, 1_100).unwrap();
        assert_eq!(caller.auth, AuthMethod::Jwt);
    }
}
