//! JWT verification against the RFC 8725 attack catalogue, one named test
//! per attack, plus the happy paths. Tokens are crafted by hand (any header,
//! any claims) and signed with a fixed Ed25519 seed.

use ed25519_compact::{KeyPair, Seed};
use shared::{
    b64,
    jwk::{PublicJwk, VerificationKey},
    jwt::{Unverified, VerifyOptions, MAX_TOKEN_LEN},
    Error,
};

const NOW: i64 = 1_800_000_000;
const KID: &str = "0123456789ABCDEFG";
const CLIENT: &str = "cl_client";
const AUD: &str = "https://api.example.com";

fn pair() -> KeyPair {
    KeyPair::from_seed(Seed::new([42; 32]))
}

fn key() -> VerificationKey {
    VerificationKey::from_bytes(*pair().pk).unwrap()
}

fn options() -> VerifyOptions {
    VerifyOptions {
        audience: Some(AUD.to_owned()),
        client_id: Some(CLIENT.to_owned()),
        ..VerifyOptions::default()
    }
}

fn header() -> String {
    format!(r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{KID}"}}"#)
}

fn claims() -> String {
    format!(
        r#"{{"iss":"{CLIENT}","sub":"{CLIENT}","aud":"{AUD}","iat":{},"exp":{},"jti":"t1"}}"#,
        NOW - 10,
        NOW + 290
    )
}

/// `header.payload.signature` with raw JSON texts, signed by `pair()`.
fn sign(header: &str, claims: &str) -> String {
    let input = format!(
        "{}.{}",
        b64::encode_url(header.as_bytes()),
        b64::encode_url(claims.as_bytes())
    );
    let signature = pair().sk.sign(input.as_bytes(), None);
    format!("{input}.{}", b64::encode_url(signature.as_ref()))
}

fn verify(token: &str) -> Result<shared::jwt::VerifiedToken, Error> {
    Unverified::parse(token)?.verify(&key(), &options(), NOW)
}

fn refused(token: &str, expected: Error) {
    assert_eq!(verify(token).map(|_| ()), Err(expected), "{token}");
}

fn with_times(iat: i64, exp: i64) -> String {
    format!(r#"{{"iss":"{CLIENT}","sub":"{CLIENT}","aud":"{AUD}","iat":{iat},"exp":{exp}}}"#)
}

#[test]
fn valid_token_verifies_with_both_alg_names_and_typs() {
    let verified = verify(&sign(&header(), &claims())).unwrap();
    assert_eq!(verified.kid(), KID);
    assert_eq!(verified.claims().sub.as_deref(), Some(CLIENT));
    for h in [
        format!(r#"{{"alg":"Ed25519","kid":"{KID}"}}"#),
        format!(r#"{{"alg":"EdDSA","typ":"JWT","kid":"{KID}"}}"#),
    ] {
        assert!(verify(&sign(&h, &claims())).is_ok(), "{h}");
    }
    // aud as an array containing ours.
    let claims = claims().replace(
        &format!(r#""aud":"{AUD}""#),
        &format!(r#""aud":["other","{AUD}"]"#),
    );
    assert!(verify(&sign(&header(), &claims)).is_ok());
}

#[test]
fn alg_none_in_every_casing() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = format!(r#"{{"alg":"{alg}","kid":"{KID}"}}"#);
        let unsigned = format!(
            "{}.{}.",
            b64::encode_url(h.as_bytes()),
            b64::encode_url(claims().as_bytes())
        );
        assert_eq!(
            Unverified::parse(&unsigned).err(),
            Some(Error::TokenAlgorithm),
            "{alg}"
        );
        refused(&sign(&h, &claims()), Error::TokenAlgorithm);
    }
}

#[test]
fn hs256_signed_with_the_public_key() {
    let h = format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{KID}"}}"#);
    let input = format!(
        "{}.{}",
        b64::encode_url(h.as_bytes()),
        b64::encode_url(claims().as_bytes())
    );
    let mac = shared::mac::hmac_sha256(pair().pk.as_ref(), input.as_bytes());
    refused(
        &format!("{input}.{}", b64::encode_url(&mac)),
        Error::TokenAlgorithm,
    );
}

#[test]
fn other_algorithms_and_missing_alg() {
    for h in [
        format!(r#"{{"alg":"ES256","kid":"{KID}"}}"#),
        format!(r#"{{"alg":"eddsa","kid":"{KID}"}}"#),
        format!(r#"{{"alg":["EdDSA"],"kid":"{KID}"}}"#),
        format!(r#"{{"kid":"{KID}"}}"#),
    ] {
        refused(&sign(&h, &claims()), Error::TokenAlgorithm);
    }
}

#[test]
fn empty_truncated_and_extended_signatures() {
    let token = sign(&header(), &claims());
    let (input, signature) = token.rsplit_once('.').unwrap();
    let bytes = b64::decode_url(signature).unwrap();
    refused(&format!("{input}."), Error::TokenSignatureLength);
    refused(
        &format!("{input}.{}", b64::encode_url(&bytes[..63])),
        Error::TokenSignatureLength,
    );
    let mut extended = bytes.clone();
    extended.push(0);
    refused(
        &format!("{input}.{}", b64::encode_url(&extended)),
        Error::TokenSignatureLength,
    );
    let mut flipped = bytes;
    flipped[10] ^= 1;
    refused(
        &format!("{input}.{}", b64::encode_url(&flipped)),
        Error::TokenSignature,
    );
}

#[test]
fn non_canonical_signature_s() {
    // S + L (L = the group order) verifies in lax implementations; RFC 8032 requires S < L.
    let token = sign(&header(), &claims());
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut sig = b64::decode_url(signature).unwrap();
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
        sig[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    refused(
        &format!("{input}.{}", b64::encode_url(&sig)),
        Error::TokenSignature,
    );
}

#[test]
fn embedded_jwk() {
    let jwk = serde_json::to_string(&PublicJwk::from_public_key(&pair().pk, KID)).unwrap();
    let h = format!(r#"{{"alg":"EdDSA","kid":"{KID}","jwk":{jwk}}}"#);
    refused(&sign(&h, &claims()), Error::TokenEmbeddedKey);
}

#[test]
fn jku_x5u_x5c_x5t_references() {
    for member in [
        r#""jku":"https://evil.example/jwks""#,
        r#""x5u":"https://evil.example/cert""#,
        r#""x5c":["MIIB"]"#,
        r#""x5t":"abc""#,
        r#""x5t#S256":"abc""#,
    ] {
        let h = format!(r#"{{"alg":"EdDSA","kid":"{KID}",{member}}}"#);
        refused(&sign(&h, &claims()), Error::TokenEmbeddedKey);
    }
}

#[test]
fn kid_injection() {
    for kid in [
        "../../etc/passwd",
        "0123456789ABCDEFG' OR '1'='1",
        "",
        "0123456789ABCDEF",
        "0123456789ABCDEFGH",
        "sk:0123456789ABCDEFG",
    ] {
        let h = format!(
            r#"{{"alg":"EdDSA","kid":{}}}"#,
            serde_json::to_string(kid).unwrap()
        );
        refused(&sign(&h, &claims()), Error::TokenKeyId);
    }
    refused(
        &sign(r#"{"alg":"EdDSA","kid":17}"#, &claims()),
        Error::TokenKeyId,
    );
    refused(&sign(r#"{"alg":"EdDSA"}"#, &claims()), Error::TokenKeyId);
}

#[test]
fn crit_header() {
    let h = format!(r#"{{"alg":"EdDSA","kid":"{KID}","crit":["exp"],"exp":1}}"#);
    refused(&sign(&h, &claims()), Error::TokenCritical);
}

#[test]
fn nested_unencoded_and_encrypted_forms() {
    for member in [
        r#""cty":"JWT""#,
        r#""b64":false"#,
        r#""enc":"A256GCM""#,
        r#""zip":"DEF""#,
    ] {
        let h = format!(r#"{{"alg":"EdDSA","kid":"{KID}",{member}}}"#);
        refused(&sign(&h, &claims()), Error::TokenUnsupportedForm);
    }
    // A JWE compact serialisation has five segments.
    refused("a.b.c.d.e", Error::TokenSegments);
}

#[test]
fn wrong_typ() {
    for typ in [r#""JOSE""#, r#""at+JWT2""#, "1"] {
        let h = format!(r#"{{"alg":"EdDSA","kid":"{KID}","typ":{typ}}}"#);
        refused(&sign(&h, &claims()), Error::TokenType);
    }
}

#[test]
fn expired() {
    refused(
        &sign(&header(), &with_times(NOW - 600, NOW - 61)),
        Error::TokenExpired,
    );
    // Within the skew it is still accepted.
    assert!(verify(&sign(&header(), &with_times(NOW - 600, NOW - 59))).is_ok());
}

#[test]
fn not_yet_valid() {
    let c = claims().replace(
        r#""jti":"t1""#,
        &format!(r#""jti":"t1","nbf":{}"#, NOW + 61),
    );
    refused(&sign(&header(), &c), Error::TokenNotYetValid);
}

#[test]
fn iat_in_the_future() {
    refused(
        &sign(&header(), &with_times(NOW + 120, NOW + 300)),
        Error::TokenIssuedInFuture,
    );
}

#[test]
fn over_long_lifetime() {
    refused(
        &sign(&header(), &with_times(NOW, NOW + 3601)),
        Error::TokenLifetime,
    );
    refused(
        &sign(&header(), &with_times(NOW, NOW)),
        Error::TokenLifetime,
    );
}

#[test]
fn lifetime_arithmetic_cannot_overflow() {
    // exp - iat overflows i64; unchecked, it wrapped to a negative "lifetime"
    // and a validly signed token never expired.
    refused(
        &sign(
            &header(),
            &with_times(-9_000_000_000_000_000_000, 9_000_000_000_000_000_000),
        ),
        Error::TokenLifetime,
    );
    refused(
        &sign(&header(), &with_times(i64::MIN, i64::MAX)),
        Error::TokenLifetime,
    );
    refused(
        &sign(&header(), &with_times(i64::MAX, i64::MIN)),
        Error::TokenLifetime,
    );
}

#[test]
fn missing_exp_or_iat() {
    let c = format!(r#"{{"iss":"{CLIENT}","sub":"{CLIENT}","aud":"{AUD}","iat":{NOW}}}"#);
    refused(&sign(&header(), &c), Error::TokenMissingExpiry);
    let c = format!(r#"{{"iss":"{CLIENT}","sub":"{CLIENT}","aud":"{AUD}","exp":{NOW}}}"#);
    refused(&sign(&header(), &c), Error::TokenMissingIssuedAt);
    let c =
        format!(r#"{{"iss":"{CLIENT}","sub":"{CLIENT}","aud":"{AUD}","iat":{NOW},"exp":"{NOW}"}}"#);
    refused(&sign(&header(), &c), Error::TokenClaims);
}

#[test]
fn wrong_audience() {
    for aud in [r#""https://other.example""#, "[]", r#"["a","b"]"#] {
        let c = claims().replace(&format!(r#""{AUD}""#), aud);
        refused(&sign(&header(), &c), Error::TokenAudience);
    }
    let c = format!(
        r#"{{"iss":"{CLIENT}","sub":"{CLIENT}","iat":{NOW},"exp":{}}}"#,
        NOW + 60
    );
    refused(&sign(&header(), &c), Error::TokenAudience);
}

#[test]
fn iss_or_sub_of_another_client() {
    let c = claims().replacen(&format!(r#""iss":"{CLIENT}""#), r#""iss":"cl_other""#, 1);
    refused(&sign(&header(), &c), Error::TokenIssuer);
    let c = claims().replacen(&format!(r#""sub":"{CLIENT}""#), r#""sub":"cl_other""#, 1);
    refused(&sign(&header(), &c), Error::TokenSubject);
    let c = claims().replacen(&format!(r#""sub":"{CLIENT}","#), "", 1);
    refused(&sign(&header(), &c), Error::TokenSubject);
}

#[test]
fn padding_and_non_canonical_base64() {
    let token = sign(&header(), &claims());
    let (h, rest) = token.split_once('.').unwrap();
    refused(&format!("{h}=.{rest}"), Error::TokenBase64);
    refused(&format!("{h}.{rest}="), Error::TokenBase64);
    refused(&format!(" {token}"), Error::TokenBase64);
    // The header text "{}" (2 bytes) encodes as "e30"; "e31" has a non-zero
    // unused bit and decodes to the same bytes in lax decoders.
    let lax = format!("e31.{rest}");
    refused(&lax, Error::TokenBase64);
    // The standard alphabet's "+" and "/" are not base64url.
    let input = format!("{}.{}", "eyJ+", b64::encode_url(claims().as_bytes()));
    refused(
        &format!("{input}.{}", rest.rsplit_once('.').unwrap().1),
        Error::TokenBase64,
    );
}

#[test]
fn duplicate_json_members() {
    let h = format!(r#"{{"alg":"EdDSA","kid":"{KID}","alg":"none"}}"#);
    refused(&sign(&h, &claims()), Error::TokenDuplicateMember);
    let c = claims().replace(
        r#""jti":"t1""#,
        &format!(r#""jti":"t1","exp":{}"#, NOW + 10_000),
    );
    refused(&sign(&header(), &c), Error::TokenDuplicateMember);
}

#[test]
fn oversized_token() {
    let big = claims().replace(
        r#""jti":"t1""#,
        &format!(r#""jti":"{}""#, "x".repeat(MAX_TOKEN_LEN)),
    );
    refused(&sign(&header(), &big), Error::TokenTooLong);
}

#[test]
fn wrong_segment_counts_and_garbage() {
    for (token, expected) in [
        ("", Error::TokenSegments),
        ("a", Error::TokenSegments),
        ("a.b", Error::TokenSegments),
        ("a.b.c.d", Error::TokenSegments),
        ("kg_sk_live_x", Error::TokenSegments),
        ("..", Error::TokenHeader),
    ] {
        assert_eq!(Unverified::parse(token).err(), Some(expected), "{token:?}");
    }
}

#[test]
fn wrong_key() {
    let other = VerificationKey::from_bytes(*KeyPair::from_seed(Seed::new([7; 32])).pk).unwrap();
    let token = sign(&header(), &claims());
    assert_eq!(
        Unverified::parse(&token)
            .unwrap()
            .verify(&other, &options(), NOW)
            .err(),
        Some(Error::TokenSignature)
    );
}

proptest::proptest! {
    /// Every single-byte change to a valid token is refused, wherever it lands.
    #[test]
    fn every_single_byte_mutation_is_refused(position in 0usize..1000, replacement in proptest::prelude::any::<u8>()) {
        let token = sign(&header(), &claims());
        let position = position % token.len();
        let mut bytes = token.into_bytes();
        proptest::prop_assume!(bytes[position] != replacement);
        bytes[position] = replacement;
        let mutated = String::from_utf8_lossy(&bytes).into_owned();
        proptest::prop_assert!(verify(&mutated).is_err());
    }
}
