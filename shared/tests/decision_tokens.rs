//! The one decision (`shared::decision`) on JWTs: the key record by `kid`,
//! verification, the key's and the client's state, the one-call form over
//! records at hand, and client-wide revocation at second granularity
//! (defect 11). Moved here from the edge's `gate.rs` with their assertions.

use shared::credential::extract;
use shared::decision::{
    authenticate, check_token, revoked_by_client, token_key, token_options, AuthMethod, Credential,
    Records, Rejection, TokenPolicy, VerifiedCaller,
};
use shared::jwk::PublicJwk;
use shared::jwt::Unverified;
use shared::record::{ClientRecord, JwkRecord, RECORD_VERSION};

const KID: &str = "0123456789ABCDEFG";
const AUD: &str = "https://edge.example";
const SKEW: i64 = 60;

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
    let claims = format!(r#"{{"iss":"cl_1","sub":"cl_1","aud":"{AUD}","iat":{iat},"exp":{exp}}}"#);
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let signature = pair().sk.sign(input.as_bytes(), None);
    format!("{input}.{}", b64(signature.as_ref()))
}

fn client(json: &str) -> ClientRecord {
    ClientRecord::decode(json).unwrap()
}

fn decide_with_skew(
    record: &JwkRecord,
    client: Option<&ClientRecord>,
    token_text: &str,
    now: i64,
    skew: i64,
) -> Result<VerifiedCaller, Rejection> {
    let unverified = Unverified::parse(token_text).map_err(Rejection::InvalidToken)?;
    let (record, key) = token_key(unverified.kid(), Some(record.clone()))?;
    let options = token_options(&record, AUD, 3600, skew);
    let verified = unverified
        .verify(&key, &options, now)
        .map_err(Rejection::InvalidToken)?;
    check_token(&verified, record, client, &options, now)
}

fn decide(
    record: &JwkRecord,
    client: Option<&ClientRecord>,
    token_text: &str,
    now: i64,
) -> Result<VerifiedCaller, Rejection> {
    decide_with_skew(record, client, token_text, now, SKEW)
}

#[test]
fn a_valid_token_names_its_key_and_client() {
    let caller = decide(&record(), None, &token(1_000, 1_300), 1_100).unwrap();
    assert_eq!(
        (caller.client_id.as_str(), caller.env.as_str()),
        ("cl_1", "test")
    );
    assert_eq!(caller.key_id, KID);
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
    // The client revoked every token issued before 1_050 (and, by the
    // same-second and skew rule, up to 1_050 + 1 + SKEW).
    let revoking = client(r#"{"v":1,"client_id":"cl_1","revoked_before":1050,"disabled":false}"#);
    assert_eq!(
        decide(&record(), Some(&revoking), &token(1_000, 1_300), 1_100).err(),
        Some(Rejection::Revoked)
    );
    // (The edge's test used to accept iat 1_060 here: inside the skew,
    // that is defect 11.)
    assert_eq!(
        decide(&record(), Some(&revoking), &token(1_060, 1_300), 1_100).err(),
        Some(Rejection::Revoked)
    );
    assert!(decide(&record(), Some(&revoking), &token(1_120, 1_300), 1_130).is_ok());
    let disabled = client(r#"{"v":1,"client_id":"cl_1","revoked_before":null,"disabled":true}"#);
    assert_eq!(
        decide(&record(), Some(&disabled), &token(1_060, 1_300), 1_100).err(),
        Some(Rejection::Revoked)
    );
    // A weak key in a record is refused, never used.
    let mut weak = record();
    weak.jwk.x = shared::b64::encode_url(&[0; 32]);
    assert_eq!(
        token_key(KID, Some(weak)).err(),
        Some(Rejection::InvalidToken(shared::Error::JwkWeakKey))
    );
    // A record for another kid is refused at both steps.
    let mut other = record();
    other.jwk.kid = Some("ZZZZZZZZZZZZZZZZZ".to_owned());
    assert_eq!(
        token_key(KID, Some(other.clone())).err(),
        Some(Rejection::InvalidToken(shared::Error::TokenKeyId))
    );
    let text = token(1_000, 1_300);
    let unverified = Unverified::parse(&text).unwrap();
    let (good, key) = token_key(KID, Some(record())).unwrap();
    let options = token_options(&good, AUD, 3600, SKEW);
    let verified = unverified.verify(&key, &options, 1_100).unwrap();
    assert_eq!(
        check_token(&verified, other, None, &options, 1_100).err(),
        Some(Rejection::InvalidToken(shared::Error::TokenKeyId))
    );
}

/// The one-call form (records fetched first, as the control plane and
/// the verification API do) answers exactly as the steps do.
#[test]
fn decide_with_records_at_hand_agrees_with_the_steps() {
    let policy = TokenPolicy {
        audience: AUD,
        max_lifetime: 3600,
        skew: SKEW,
    };
    let revoking = client(r#"{"v":1,"client_id":"cl_1","revoked_before":1050,"disabled":false}"#);
    let mut revoked = record();
    revoked.revoked_at = Some(1);
    let cases = [
        (record(), None, token(1_000, 1_300), 1_100),
        (record(), Some(revoking.clone()), token(1_000, 1_300), 1_100),
        (record(), Some(revoking), token(1_120, 1_300), 1_130),
        (revoked, None, token(1_000, 1_300), 1_100),
        (record(), None, token(1_000, 1_300), 1_400),
    ];
    for (signing_key, client, text, now) in cases {
        let steps = decide(&signing_key, client.as_ref(), &text, now);
        let presented = extract(&[&format!("Bearer {text}")], None)
            .unwrap()
            .unwrap();
        let records = Records {
            static_key: None,
            signing_key: Some(signing_key),
            client,
        };
        let credential = Credential::parse(&presented).unwrap();
        let at_once = shared::decision::decide(credential, "GET", "/x", now, records, &policy);
        assert_eq!(at_once, steps, "{text} at {now}");
    }
    // A client record of another client is never taken for the key's.
    let presented = extract(&[&format!("Bearer {}", token(1_000, 1_300))], None)
        .unwrap()
        .unwrap();
    let records = Records {
        static_key: None,
        signing_key: Some(record()),
        client: Some(client(
            r#"{"v":1,"client_id":"cl_other","revoked_before":null,"disabled":false}"#,
        )),
    };
    let credential = Credential::parse(&presented).unwrap();
    assert_eq!(
        authenticate(credential, records, &policy, 1_100),
        Err(Rejection::Unavailable)
    );
}

/// Defect 11: `revoked_before` is the revocation's second rounded down,
/// and a token minted earlier in that second used to survive.
#[test]
fn revoke_tokens_refuses_tokens_from_the_same_second_and_within_the_skew() {
    // Revocation at 1_050.4 s: stored as 1_050.
    let revoking = client(r#"{"v":1,"client_id":"cl_1","revoked_before":1050,"disabled":false}"#);
    for skew in [0, 1, SKEW] {
        // Minted at 1_050.1 by an exact clock: same second as the revocation.
        let same_second = token(1_050, 1_300);
        assert_eq!(
            decide_with_skew(&record(), Some(&revoking), &same_second, 1_060, skew).err(),
            Some(Rejection::Revoked),
            "skew {skew}: same second"
        );
        // Minted at 1_050.9, before the call returned at 1_051.0x.
        let next_second = token(1_051, 1_300);
        assert_eq!(
            decide_with_skew(&record(), Some(&revoking), &next_second, 1_060, skew).err(),
            Some(Rejection::Revoked),
            "skew {skew}: before the call returned"
        );
        // Minted before the revocation by a clock `skew` seconds ahead.
        let ahead = token(1_051 + skew, 1_300);
        assert_eq!(
            decide_with_skew(&record(), Some(&revoking), &ahead, 1_060 + skew, skew).err(),
            Some(Rejection::Revoked),
            "skew {skew}: clock ahead"
        );
        // The first token a holder can mint afterwards goes through.
        let after = token(1_052 + skew, 1_300);
        assert!(
            decide_with_skew(&record(), Some(&revoking), &after, 1_052 + skew, skew).is_ok(),
            "skew {skew}: fresh token"
        );
    }
    assert!(revoked_by_client(1_050, 1_050, 0));
    assert!(revoked_by_client(1_051, 1_050, 0));
    assert!(!revoked_by_client(1_052, 1_050, 0));
    assert!(revoked_by_client(1_111, 1_050, 60));
    assert!(!revoked_by_client(1_112, 1_050, 60));
    // No overflow at the edges of i64.
    assert!(revoked_by_client(i64::MAX, i64::MAX, i64::MAX));
    assert!(revoked_by_client(i64::MIN, i64::MIN, 0));
}
