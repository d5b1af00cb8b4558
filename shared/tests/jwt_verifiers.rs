//! Defect 3: a `VerifiedToken` comes only out of verification. The fields
//! are private and the old `verify_with_signature_verdict(bool, …)` is gone
//! (the `compile_fail` examples in `shared::jwt`'s documentation pin both);
//! what remains are two ways to verify, and on each of them a wrong
//! signature is refused and the claims are checked. An external verifier
//! (the edge's WebCrypto) sees exactly the token's signing input, signature
//! and key, and an unavailable one falls back to ed25519-compact.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use ed25519_compact::{KeyPair, Seed};
use shared::{
    b64,
    jwk::VerificationKey,
    jwt::{Ed25519Verifier, Unverified, VerifiedToken, VerifyOptions},
    Error,
};

const NOW: i64 = 1_800_000_000;
const KID: &str = "0123456789ABCDEFG";
const CLIENT: &str = "cl_client";
const AUD: &str = "https://api.example.com";

fn pair(seed: u8) -> KeyPair {
    KeyPair::from_seed(Seed::new([seed; 32]))
}

fn key() -> VerificationKey {
    VerificationKey::from_bytes(*pair(42).pk).unwrap()
}

fn options() -> VerifyOptions {
    VerifyOptions {
        audience: Some(AUD.to_owned()),
        client_id: Some(CLIENT.to_owned()),
        ..VerifyOptions::default()
    }
}

/// A token signed by `pair(seed)` (42 is the right key).
fn token(seed: u8, iat: i64, exp: i64) -> String {
    let header = format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{KID}"}}"#);
    let claims =
        format!(r#"{{"iss":"{CLIENT}","sub":"{CLIENT}","aud":"{AUD}","iat":{iat},"exp":{exp}}}"#);
    let input = format!(
        "{}.{}",
        b64::encode_url(header.as_bytes()),
        b64::encode_url(claims.as_bytes())
    );
    let signature = pair(seed).sk.sign(input.as_bytes(), None);
    format!("{input}.{}", b64::encode_url(signature.as_ref()))
}

fn valid() -> String {
    token(42, NOW - 10, NOW + 290)
}

/// Runs a future that never waits (our test verifiers answer at once).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

/// What a verifier was asked: key, message, signature.
type Asked = ([u8; 32], Vec<u8>, [u8; 64]);

/// Checks with ed25519-compact directly (as WebCrypto would, outside
/// `VerificationKey::verify`) and records what it was asked.
#[derive(Default)]
struct Honest {
    seen: RefCell<Vec<Asked>>,
}

impl Ed25519Verifier for Honest {
    async fn verify_ed25519(
        &self,
        key: &VerificationKey,
        message: &[u8],
        signature: &[u8; 64],
    ) -> Option<bool> {
        self.seen
            .borrow_mut()
            .push((key.to_bytes(), message.to_vec(), *signature));
        let public = ed25519_compact::PublicKey::new(key.to_bytes());
        let signature = ed25519_compact::Signature::new(*signature);
        Some(public.verify(message, &signature).is_ok())
    }
}

/// A verifier that is down (WebCrypto missing in the runtime).
struct Unavailable;

impl Ed25519Verifier for Unavailable {
    async fn verify_ed25519(&self, _: &VerificationKey, _: &[u8], _: &[u8; 64]) -> Option<bool> {
        None
    }
}

/// A verifier that refuses everything.
struct Refusing;

impl Ed25519Verifier for Refusing {
    async fn verify_ed25519(&self, _: &VerificationKey, _: &[u8], _: &[u8; 64]) -> Option<bool> {
        Some(false)
    }
}

/// Every way the public API has to turn a token into a `VerifiedToken`.
fn every_path(text: &str, now: i64) -> Vec<(&'static str, Result<VerifiedToken, Error>)> {
    let parse = || Unverified::parse(text);
    let with = |verifier: &dyn Fn(Unverified<'_>) -> Result<VerifiedToken, Error>| {
        parse().and_then(verifier)
    };
    vec![
        (
            "ed25519-compact",
            with(&|u| u.verify(&key(), &options(), now)),
        ),
        (
            "external verifier",
            with(&|u| block_on(u.verify_with(&Honest::default(), &key(), &options(), now))),
        ),
        (
            "unavailable verifier, fallback",
            with(&|u| block_on(u.verify_with(&Unavailable, &key(), &options(), now))),
        ),
    ]
}

#[test]
fn a_wrong_signature_is_refused_on_every_path() {
    let mut tampered = valid();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'Q' } else { 'A' });
    let mut flipped = valid().into_bytes();
    // A bit of the payload: the signature no longer covers it.
    let dot = flipped.iter().position(|&b| b == b'.').unwrap();
    flipped[dot + 3] = if flipped[dot + 3] == b'a' { b'b' } else { b'a' };
    let flipped = String::from_utf8(flipped).unwrap();
    let cases = [
        ("signed by another key", token(7, NOW - 10, NOW + 290)),
        ("signature edited", tampered),
        ("payload edited", flipped),
    ];
    for (what, text) in &cases {
        for (path, result) in every_path(text, NOW) {
            // An edited payload may stop being JSON, but it is refused at
            // the signature, before the claims are ever decoded.
            assert_eq!(
                result.map(|_| ()),
                Err(Error::TokenSignature),
                "{what} via {path}"
            );
        }
    }
}

#[test]
fn every_path_accepts_a_valid_token_alike_and_checks_the_claims() {
    let results = every_path(&valid(), NOW);
    let first = results[0].1.clone().unwrap();
    assert_eq!(first.kid(), KID);
    assert_eq!(first.claims().iss.as_deref(), Some(CLIENT));
    for (path, result) in results {
        assert_eq!(result.as_ref(), Ok(&first), "{path}");
    }
    // The claims are checked after an external verdict too.
    for (path, result) in every_path(&token(42, NOW - 400, NOW - 100), NOW) {
        assert_eq!(result.map(|_| ()), Err(Error::TokenExpired), "{path}");
    }
}

#[test]
fn the_external_verifier_sees_exactly_this_tokens_input_and_key() {
    let text = valid();
    let verifier = Honest::default();
    let verified = block_on(Unverified::parse(&text).unwrap().verify_with(
        &verifier,
        &key(),
        &options(),
        NOW,
    ));
    assert!(verified.is_ok());
    let seen = verifier.seen.borrow();
    assert_eq!(seen.len(), 1, "asked once");
    let (public, message, signature) = &seen[0];
    let (input, encoded_signature) = text.rsplit_once('.').unwrap();
    assert_eq!(public, &key().to_bytes());
    assert_eq!(message.as_slice(), input.as_bytes());
    assert_eq!(
        signature.as_slice(),
        b64::decode_url(encoded_signature).unwrap().as_slice()
    );
}

#[test]
fn an_external_refusal_is_final() {
    // No fallback overrides a verifier's "no": only "cannot answer" falls back.
    let result = block_on(Unverified::parse(&valid()).unwrap().verify_with(
        &Refusing,
        &key(),
        &options(),
        NOW,
    ));
    assert_eq!(result.map(|_| ()), Err(Error::TokenSignature));
}

#[test]
fn an_unverified_token_debug_prints_its_kid_only() {
    let text = valid();
    let printed = format!("{:?}", Unverified::parse(&text).unwrap());
    assert!(printed.contains(KID), "{printed}");
    let (input, signature) = text.rsplit_once('.').unwrap();
    let (_, payload) = input.split_once('.').unwrap();
    for part in [payload, signature] {
        assert!(!printed.contains(part), "{printed}");
    }
    assert!(!printed.contains("signature"), "{printed}");
}
