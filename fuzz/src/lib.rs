//! Fixed keys, options and tokens for the fuzz targets and the seed generator
//! (`cargo run --example seeds`): one definition, so every seed token verifies
//! under exactly the key, options and clock the targets use.

use std::sync::OnceLock;

use shared::{
    jwk::VerificationKey,
    jwt::{mint, MintClaims, VerifyOptions},
    key::{AccessKey, KeyType},
    signing::SigningKeyPair,
};

/// The clock every target verifies at (no target reads a real clock).
pub const NOW: i64 = 1_700_000_000;
/// The audience the fixed options require.
pub const AUDIENCE: &str = "https://edge.keygate.test";
/// The client `iss` and `sub` must name.
pub const CLIENT_ID: &str = "cl_fuzz";
/// The RFC 8032 seed of the fixed signing key.
pub const SEED: [u8; 32] = [7; 32];

/// Everything a target needs, built once per process.
pub struct Fixture {
    /// The signing half, to mint the reference token and sign fuzzed payloads.
    pub pair: SigningKeyPair,
    /// The public half, as the edge would hold it.
    pub key: VerificationKey,
    /// Audience and client fixed, library defaults for lifetime and skew.
    pub options: VerifyOptions,
    /// A token that verifies at [`NOW`]; the mutation half starts from it.
    pub token: String,
}

/// A fixed, valid secret access key (its id is the fixed key's `kid`).
pub fn secret_key() -> AccessKey {
    AccessKey::from_entropy(KeyType::Secret, "live", None, [1; 12], &[2; 32]).expect("valid entropy")
}

/// A fixed, valid publishable access key.
pub fn publishable_key() -> AccessKey {
    AccessKey::from_entropy(KeyType::Publishable, "test", None, [3; 12], &[4; 24]).expect("valid entropy")
}

/// The claims of the reference token, ready to sign as a payload.
pub fn reference_claims_json() -> String {
    format!(
        r#"{{"iss":"{CLIENT_ID}","sub":"{CLIENT_ID}","aud":"{AUDIENCE}","iat":{},"exp":{},"jti":"seed"}}"#,
        NOW - 10,
        NOW + 590
    )
}

/// The process-wide fixture. Built lazily: key generation per input would
/// dominate the fuzzer's time.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let pair = SigningKeyPair::from_seed(SEED, secret_key().key_id());
        let key = pair
            .public_jwk()
            .verification_key()
            .expect("a generated key is not weak");
        let options = VerifyOptions {
            audience: Some(AUDIENCE.to_owned()),
            client_id: Some(CLIENT_ID.to_owned()),
            ..VerifyOptions::default()
        };
        let token = mint(
            &pair,
            &MintClaims {
                client_id: CLIENT_ID,
                audience: AUDIENCE,
                issued_at: NOW - 10,
                ttl: 600,
                jti: "seed",
            },
        );
        Fixture {
            pair,
            key,
            options,
            token,
        }
    })
}

/// A compact JWS over `payload` (any bytes), signed with the fixed key under
/// a valid header: how a key holder, who can sign anything, reaches the
/// claim checks that sit behind the signature.
pub fn sign_payload(payload: &[u8]) -> String {
    let fixture = fixture();
    let header = format!(
        r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}"}}"#,
        fixture.pair.key_id()
    );
    let input = format!(
        "{}.{}",
        shared::b64::encode_url(header.as_bytes()),
        shared::b64::encode_url(payload)
    );
    let signature = fixture.pair.sign(input.as_bytes());
    format!("{input}.{}", shared::b64::encode_url(&signature))
}
