//! What the tests of this crate share: keys made the way the control plane
//! makes them, and the shared verifier's check of a token.

#![allow(dead_code)] // each test file uses part of it

use shared::jwk::PublicJwk;
use shared::jwt::{Unverified, VerifiedToken, VerifyOptions};
use shared::key::{AccessKey, KeyType};
use shared::signing::SigningKeyPair;

pub const CLIENT: &str = "cl_0123456789abcdefG";
pub const AUDIENCE: &str = "https://api.example.com";

/// A current secret key of `CLIENT` (seeded by `seed`).
pub fn secret_key(seed: u8) -> String {
    AccessKey::from_entropy(
        KeyType::Secret,
        "live",
        Some(CLIENT),
        [seed; 12],
        &[seed; 32],
    )
    .unwrap()
    .expose()
    .to_owned()
}

/// A secret key issued before keys carried their client id.
pub fn legacy_key(seed: u8) -> String {
    AccessKey::from_entropy(KeyType::Secret, "live", None, [seed; 12], &[seed; 32])
        .unwrap()
        .expose()
        .to_owned()
}

/// The public JWK the control plane would publish for `key`.
pub fn public_jwk(key: &str) -> PublicJwk {
    SigningKeyPair::derive(&AccessKey::parse(key).unwrap())
        .unwrap()
        .public_jwk()
}

/// Verifies `token` as the edge does (signature, audience, iss/sub, time).
pub fn verify(
    token: &str,
    jwk: &PublicJwk,
    client_id: &str,
    audience: &str,
    now: i64,
) -> Result<VerifiedToken, shared::Error> {
    let options = VerifyOptions {
        audience: Some(audience.to_owned()),
        client_id: Some(client_id.to_owned()),
        ..VerifyOptions::default()
    };
    Unverified::parse(token)?.verify(&jwk.verification_key()?, &options, now)
}

/// A claim of `token`, read without verifying it.
pub fn claim(token: &str, name: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).unwrap();
    let payload: serde_json::Value =
        serde_json::from_slice(&shared::b64::decode_url(payload).unwrap()).unwrap();
    payload[name].clone()
}
