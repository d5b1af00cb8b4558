//! Tokens minted by `shared` verify with independent implementations, and
//! tokens an independent implementation signs with the key's *private JWK*
//! verify with `shared`: the promise that any standard JOSE library works.

use std::process::Command;

use keygate_tests::{now_secs as now, repo_root};
use shared::{
    jwt::{self, MintClaims, Unverified, VerifyOptions},
    key::{AccessKey, KeyType},
    signing::SigningKeyPair,
};

const CLIENT: &str = "cl_interop";
const AUD: &str = "https://api.example.com";

fn pair() -> SigningKeyPair {
    let key = AccessKey::from_entropy(KeyType::Secret, "live", None, [5; 12], &[6; 32]).unwrap();
    SigningKeyPair::derive(&key).unwrap()
}

fn minted(pair: &SigningKeyPair) -> String {
    jwt::mint(
        pair,
        &MintClaims {
            client_id: CLIENT,
            audience: AUD,
            issued_at: now(),
            ttl: 300,
            jti: "interop-1",
        },
    )
}

fn jose(args: &[&str]) -> (bool, String) {
    let output = Command::new("node")
        .current_dir(repo_root())
        .arg("tests/js/jose-interop.mjs")
        .args(args)
        .output()
        .expect("run node");
    let text = if output.status.success() {
        output.stdout
    } else {
        output.stderr
    };
    (
        output.status.success(),
        String::from_utf8_lossy(&text).trim().to_owned(),
    )
}

#[test]
fn jsonwebtoken_verifies_shared_tokens() {
    let pair = pair();
    let token = minted(&pair);
    let key = jsonwebtoken::DecodingKey::from_ed_components(&pair.public_jwk().x).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&[AUD]);
    validation.set_issuer(&[CLIENT]);
    let data = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation)
        .expect("jsonwebtoken accepts");
    assert_eq!(data.claims["sub"], CLIENT);
    assert_eq!(data.header.kid.as_deref(), Some(pair.key_id()));

    // And refuses it under another key: the check is real.
    let other = SigningKeyPair::from_seed([1; 32], "x");
    let wrong = jsonwebtoken::DecodingKey::from_ed_components(&other.public_jwk().x).unwrap();
    assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &wrong, &validation).is_err());
}

#[test]
fn jose_verifies_shared_tokens() {
    let pair = pair();
    let token = minted(&pair);
    let jwk = serde_json::to_string(&pair.public_jwk()).unwrap();
    let (ok, out) = jose(&["verify", &jwk, &token, AUD, CLIENT]);
    assert!(ok, "{out}");
    let verified: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(verified["payload"]["jti"], "interop-1");
    assert_eq!(verified["header"]["typ"], "at+jwt");
    let (ok, _) = jose(&["verify", &jwk, &token, "https://other.example", CLIENT]);
    assert!(!ok, "jose must refuse a wrong audience");
}

#[test]
fn shared_verifies_tokens_jose_signs_with_the_private_jwk() {
    let pair = pair();
    let (ok, token) = jose(&["sign", &pair.private_jwk_json(), AUD, CLIENT, "120"]);
    assert!(ok, "{token}");
    let unverified = Unverified::parse(&token).expect("jose's token passes the header checks");
    assert_eq!(unverified.kid(), pair.key_id());
    let key = pair.public_jwk().verification_key().unwrap();
    let options = VerifyOptions {
        audience: Some(AUD.to_owned()),
        client_id: Some(CLIENT.to_owned()),
        ..VerifyOptions::default()
    };
    let verified = unverified
        .verify(&key, &options, now())
        .expect("shared accepts jose's token");
    assert_eq!(verified.claims().iss.as_deref(), Some(CLIENT));
    // The same token under another client's expectations is refused.
    let other = VerifyOptions {
        client_id: Some("cl_other".to_owned()),
        ..options
    };
    assert!(Unverified::parse(&token)
        .unwrap()
        .verify(&key, &other, now())
        .is_err());
}
