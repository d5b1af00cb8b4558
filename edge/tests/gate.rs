//! The gate's state machine, natively: what it asks for, what it does with
//! the answers, and that an answer never stands for inputs it was not
//! given. (Every accept/reject rule is `shared::decision`'s and tested
//! there; the edge's behaviour end to end runs in workerd: tests/tests/edge_*.rs.)

use edge::config::EdgeConfig;
use edge::gate::{Gate, Request};
use edge::signature::CheckedSignature;
use edge::verdict::Verdict;
use shared::decision::Rejection;
use shared::jwk::PublicJwk;
use shared::key::{AccessKey, KeyType};
use shared::record::{
    client_kv_name, jwk_kv_name, static_key_kv_name, ClientRecord, JwkRecord, StaticKeyRecord,
    RECORD_VERSION,
};

const KID: &str = "0123456789ABCDEFG";
const NOW_MS: f64 = 1_100_000.0;
const AUDIENCE: &str = "https://edge.example";

fn gate(extra: &[(&str, &str)]) -> Gate {
    let mut vars = vec![
        ("ORIGIN_LIVE", "https://origin.example"),
        ("AUDIENCE", AUDIENCE),
        ("ORIGIN_SIGNING_SECRET", "s3cret"),
    ];
    vars.extend_from_slice(extra);
    Gate::new(EdgeConfig::parse(|name| {
        vars.iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }))
}

fn request<'a>(authorization: Option<&'a str>) -> Request<'a> {
    Request {
        method: "GET",
        url: "https://edge.example/v1/things?apikey=x&a=1",
        authorization,
        preflight: false,
    }
}

fn key() -> AccessKey {
    AccessKey::from_entropy(KeyType::Secret, "live", Some("cl_1"), [3; 12], &[4; 32]).unwrap()
}

/// A live secret key's record for `key_id`, no scopes, no expiry.
fn record_of(key_id: &str) -> StaticKeyRecord {
    StaticKeyRecord {
        v: RECORD_VERSION,
        client_id: "cl_1".to_owned(),
        key_id: key_id.to_owned(),
        env: "live".to_owned(),
        key_type: KeyType::Secret,
        scopes: vec![],
        expires_at: None,
        revoked_at: None,
        client_disabled: false,
        rev: 1,
    }
}

fn static_record(key: &AccessKey) -> String {
    record_of(key.key_id()).encode()
}

fn pair(seed: u8) -> ed25519_compact::KeyPair {
    ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([seed; 32]))
}

fn jwk_record(pair: &ed25519_compact::KeyPair) -> String {
    JwkRecord::of_key(record_of(KID), PublicJwk::from_public_key(&pair.pk, KID)).encode()
}

fn token(pair: &ed25519_compact::KeyPair, iat: i64) -> String {
    let b64 = shared::b64::encode_url;
    let header = format!(r#"{{"alg":"EdDSA","kid":"{KID}","typ":"at+jwt"}}"#);
    let claims = format!(
        r#"{{"iss":"cl_1","sub":"cl_1","aud":"{AUDIENCE}","iat":{iat},"exp":{}}}"#,
        iat + 300
    );
    let input = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    format!(
        "{input}.{}",
        b64(pair.sk.sign(input.as_bytes(), None).as_ref())
    )
}

fn refused(verdict: &Verdict) -> Option<Rejection> {
    match verdict {
        Verdict::Refuse { rejection, .. } => Some(*rejection),
        _ => None,
    }
}

#[test]
fn a_static_key_is_fetched_once_then_decided_in_one_call() {
    let key = key();
    let bearer = format!("Bearer {}", key.expose());
    let mut gate = gate(&[]);
    let name = static_key_kv_name(&key.hash());
    assert_eq!(
        gate.decide(&request(Some(&bearer)), NOW_MS, None),
        Verdict::FetchRecord(name.clone())
    );
    gate.supply(&name, Some(&static_record(&key)), NOW_MS);
    let Verdict::Forward(forward) = gate.decide(&request(Some(&bearer)), NOW_MS, None) else {
        panic!("not forwarded");
    };
    // apikey never reaches the origin; the identity is signed.
    assert_eq!(forward.target, "https://origin.example/v1/things?a=1");
    assert!(!forward.keep_credential);
    let names: Vec<_> = forward.headers.iter().map(|(n, _)| *n).collect();
    assert!(names.contains(&"x-keygate-client-id") && names.contains(&"x-keygate-signature"));
    let encoded = Verdict::Forward(forward).encode();
    assert!(
        encoded.starts_with("F0https://origin.example/v1/things?a=1\nx-keygate-client-id\ncl_1\n")
    );
    // The record stays decoded: the next request needs no KV read.
    assert!(matches!(
        gate.decide(&request(Some(&bearer)), NOW_MS + 1.0, None),
        Verdict::Forward(_)
    ));
    // Until its TTL (30 s by default) runs out.
    assert_eq!(
        gate.decide(&request(Some(&bearer)), NOW_MS + 30_000.0, None),
        Verdict::FetchRecord(name)
    );
}

#[test]
fn absent_and_undecodable_records_fail_as_the_edge_must() {
    let key = key();
    let bearer = format!("Bearer {}", key.expose());
    let name = static_key_kv_name(&key.hash());
    let mut gate = gate(&[]);
    gate.supply(&name, None, NOW_MS);
    let verdict = gate.decide(&request(Some(&bearer)), NOW_MS, None);
    assert_eq!(refused(&verdict), Some(Rejection::InvalidCredential));
    assert!(verdict
        .encode()
        .starts_with("R401\nBearer realm=\"keygate\""));
    let mut gate = gate_holding(&name, "{");
    assert_eq!(
        refused(&gate.decide(&request(Some(&bearer)), NOW_MS, None)),
        Some(Rejection::Unavailable)
    );
    let future = static_record(&key).replace("\"v\":1", "\"v\":2");
    let mut gate = gate_holding(&name, &future);
    assert_eq!(
        refused(&gate.decide(&request(Some(&bearer)), NOW_MS, None)),
        Some(Rejection::Unavailable)
    );
    // A record of the wrong kind under a name is no record of this kind.
    let mut gate = gate_holding(&name, &jwk_record(&pair(1)));
    assert_eq!(
        refused(&gate.decide(&request(Some(&bearer)), NOW_MS, None)),
        Some(Rejection::Unavailable)
    );
}

fn gate_holding(name: &str, value: &str) -> Gate {
    let mut gate = gate(&[]);
    gate.supply(name, Some(value), NOW_MS);
    gate
}

#[test]
fn a_token_asks_for_its_key_the_signature_check_and_its_client() {
    let pair = pair(7);
    let token = token(&pair, 1_000);
    let bearer = format!("Bearer {token}");
    let mut gate = gate(&[]);
    let req = request(Some(&bearer));
    assert_eq!(
        gate.decide(&req, NOW_MS, None),
        Verdict::FetchRecord(jwk_kv_name(KID))
    );
    gate.supply(&jwk_kv_name(KID), Some(&jwk_record(&pair)), NOW_MS);
    let Verdict::CheckSignature(check) = gate.decide(&req, NOW_MS, None) else {
        panic!("no signature check asked for");
    };
    assert_eq!(check.public_key, *pair.pk);
    assert_eq!(check.message, token[..token.rfind('.').unwrap()]);
    let bytes = check.to_bytes();
    let valid = CheckedSignature::new(&bytes, Some(true));
    assert_eq!(
        gate.decide(&req, NOW_MS, Some(&valid)),
        Verdict::FetchRecord(client_kv_name("cl_1"))
    );
    let client = ClientRecord {
        v: RECORD_VERSION,
        client_id: "cl_1".to_owned(),
        revoked_before: None,
        disabled: false,
        rev: 1,
    };
    gate.supply(&client_kv_name("cl_1"), Some(&client.encode()), NOW_MS);
    // The signature is remembered for this token: one call from now on.
    assert!(matches!(
        gate.decide(&req, NOW_MS, None),
        Verdict::Forward(_)
    ));
    // The client's revocation is read at every use.
    let revoked = ClientRecord {
        revoked_before: Some(1_050),
        ..client
    };
    gate.supply(&client_kv_name("cl_1"), Some(&revoked.encode()), NOW_MS);
    assert_eq!(
        refused(&gate.decide(&req, NOW_MS, None)),
        Some(Rejection::Revoked)
    );
}

#[test]
fn a_token_seen_before_is_checked_again_when_its_key_changes() {
    let (old, new) = (pair(7), pair(8));
    let token = token(&old, 1_000);
    let bearer = format!("Bearer {token}");
    let req = request(Some(&bearer));
    let mut gate = gate(&[("SIGNATURE_VERIFIER", "wasm")]);
    gate.supply(&jwk_kv_name(KID), Some(&jwk_record(&old)), NOW_MS);
    gate.supply(&client_kv_name("cl_1"), None, NOW_MS);
    assert!(matches!(
        gate.decide(&req, NOW_MS, None),
        Verdict::Forward(_)
    ));
    // The kid's record now holds another key: the remembered signature no
    // longer counts, the token is parsed and checked again, and fails.
    gate.supply(&jwk_kv_name(KID), Some(&jwk_record(&new)), NOW_MS);
    assert_eq!(
        refused(&gate.decide(&req, NOW_MS, None)),
        Some(Rejection::InvalidToken(shared::Error::TokenSignature))
    );
    // With WebCrypto, the check asked for is under the new key.
    let mut gate = self::gate(&[]);
    gate.supply(&jwk_kv_name(KID), Some(&jwk_record(&old)), NOW_MS);
    gate.supply(&client_kv_name("cl_1"), None, NOW_MS);
    let Verdict::CheckSignature(check) = gate.decide(&req, NOW_MS, None) else {
        panic!("no check asked for");
    };
    let bytes = check.to_bytes();
    let valid = CheckedSignature::new(&bytes, Some(true));
    assert!(matches!(
        gate.decide(&req, NOW_MS, Some(&valid)),
        Verdict::Forward(_)
    ));
    gate.supply(&jwk_kv_name(KID), Some(&jwk_record(&new)), NOW_MS);
    let Verdict::CheckSignature(again) = gate.decide(&req, NOW_MS, None) else {
        panic!("the changed key must be checked");
    };
    assert_eq!(again.public_key, *new.pk);
}

#[test]
fn a_webcrypto_answer_stands_only_for_the_bytes_it_checked() {
    let pair = pair(7);
    let good = token(&pair, 1_000);
    // Same header and claims, signature of other bytes: a forgery.
    let forged = {
        let (input, _) = good.rsplit_once('.').unwrap();
        let other = pair.sk.sign(b"something else", None);
        format!("{input}.{}", shared::b64::encode_url(other.as_ref()))
    };
    let mut gate = gate(&[]);
    gate.supply(&jwk_kv_name(KID), Some(&jwk_record(&pair)), NOW_MS);
    gate.supply(&client_kv_name("cl_1"), None, NOW_MS);
    let good_bearer = format!("Bearer {good}");
    let Verdict::CheckSignature(good_check) =
        gate.decide(&request(Some(&good_bearer)), NOW_MS, None)
    else {
        panic!("no check asked for");
    };
    // A "valid" answer for the good token's bytes, replayed for the forgery:
    // it does not match, so ed25519-compact decides, and refuses.
    let bytes = good_check.to_bytes();
    let replayed = CheckedSignature::new(&bytes, Some(true));
    let forged_bearer = format!("Bearer {forged}");
    assert_eq!(
        refused(&gate.decide(&request(Some(&forged_bearer)), NOW_MS, Some(&replayed))),
        Some(Rejection::InvalidToken(shared::Error::TokenSignature))
    );
    // "Invalid" for the good token's own bytes refuses it...
    let invalid = CheckedSignature::new(&bytes, Some(false));
    assert_eq!(
        refused(&gate.decide(&request(Some(&good_bearer)), NOW_MS, Some(&invalid))),
        Some(Rejection::InvalidToken(shared::Error::TokenSignature))
    );
    // ...and no answer (WebCrypto failed) lets ed25519-compact decide.
    let unanswered = CheckedSignature::new(&bytes, None);
    assert!(matches!(
        gate.decide(&request(Some(&good_bearer)), NOW_MS, Some(&unanswered)),
        Verdict::Forward(_)
    ));
}

#[test]
fn without_webcrypto_the_gate_verifies_in_wasm() {
    let pair = pair(9);
    let token = token(&pair, 1_000);
    let bearer = format!("Bearer {token}");
    let mut gate = gate(&[("SIGNATURE_VERIFIER", "wasm")]);
    gate.supply(&jwk_kv_name(KID), Some(&jwk_record(&pair)), NOW_MS);
    gate.supply(&client_kv_name("cl_1"), None, NOW_MS);
    assert!(matches!(
        gate.decide(&request(Some(&bearer)), NOW_MS, None),
        Verdict::Forward(_)
    ));
}

#[test]
fn public_paths_preflights_and_configuration_errors() {
    let mut gate = gate(&[("PUBLIC_PATHS", "/v1")]);
    let Verdict::Forward(forward) = gate.decide(&request(None), NOW_MS, None) else {
        panic!("a public path is forwarded");
    };
    assert!(forward.headers.is_empty());
    let mut gate = self::gate(&[]);
    assert_eq!(
        refused(&gate.decide(&request(None), NOW_MS, None)),
        Some(Rejection::MissingCredential)
    );
    let preflight = Request {
        method: "OPTIONS",
        preflight: true,
        ..request(None)
    };
    assert!(matches!(
        gate.decide(&preflight, NOW_MS, None),
        Verdict::Forward(_)
    ));
    let mut broken = Gate::new(EdgeConfig::parse(|_| None));
    let verdict = broken.decide(&request(None), NOW_MS, None);
    assert_eq!(refused(&verdict), Some(Rejection::Misconfigured));
    let Verdict::Refuse { log, .. } = verdict else {
        unreachable!()
    };
    assert!(log.contains("no origin configured"), "{log}");
    let plain = Request {
        url: "http://edge.example/",
        ..request(None)
    };
    assert_eq!(
        refused(&self::gate(&[]).decide(&plain, NOW_MS, None)),
        Some(Rejection::HttpsRequired)
    );
}

#[test]
fn record_names_match_shared() {
    // records.rs decodes by these prefixes.
    let key = key();
    assert!(static_key_kv_name(&key.hash()).starts_with("sk:"));
    assert!(jwk_kv_name(KID).starts_with("jwk:"));
    assert!(client_kv_name("cl_1").starts_with("client:"));
}
