//! The one credential rule and the one revocation rule, through real
//! workerd and a real control plane: two `Authorization` fields are refused
//! at the edge as in the control plane (defect 6), and after the control
//! plane's `revoke-tokens` both refuse a token minted earlier in the
//! revocation's own second or by a clock ahead within the skew (defect 11);
//! and a wrong signature is refused by either of the edge's verifiers
//! (defect 3).

use std::time::Duration;

use keygate_tests::{eventually, now_secs as now, Options, Stack};
use reqwest::StatusCode;
use serde_json::Value;
use shared::jwt::{mint, MintClaims};
use shared::key::AccessKey;
use shared::signing::SigningKeyPair;

/// The edge's allowed clock skew in this test.
const EDGE_SKEW: i64 = 30;
/// The control plane's (the verifier default) and its default token audience.
const API_SKEW: i64 = 60;
const API_AUDIENCE: &str = "http://127.0.0.1:7070";

/// `GET url` with each value as its own `Authorization` field: (status, code).
async fn get(url: &str, authorizations: &[&str]) -> (StatusCode, String) {
    let mut request = reqwest::Client::new().get(url);
    for value in authorizations {
        request = request.header("authorization", *value);
    }
    let response = request.send().await.expect("reachable");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned();
    (status, code)
}

fn refused(code: &str) -> (StatusCode, String) {
    (StatusCode::UNAUTHORIZED, code.to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn one_credential_per_request_and_same_second_revocation() {
    let options = Options {
        vars: vec![("CLOCK_SKEW".into(), EDGE_SKEW.to_string())],
        ..Options::default()
    };
    let stack = Stack::start_with("credentials", &options);
    let edge = stack.edge.clone();
    let client = stack.cli_json(&["client", "create", "--name", "credentials"]);
    let client_id = client["id"].as_str().unwrap().to_owned();
    let key_of = |created: Value| created["key"].as_str().unwrap().to_owned();
    let key = key_of(stack.cli_json(&["key", "create", "--client", &client_id]));
    let other = key_of(stack.cli_json(&["key", "create", "--client", &client_id]));
    let bearer = format!("Bearer {key}");
    let other_bearer = format!("Bearer {other}");
    let url = format!("{edge}/v1/x");
    eventually("keys published", async || {
        get(&url, &[&bearer]).await.0 == StatusCode::OK
            && get(&url, &[&other_bearer]).await.0 == StatusCode::OK
    })
    .await;

    // Defect 6: a second Authorization field, whatever it holds, is refused
    // (workerd joins the fields into one value; the rule sees through it).
    #[rustfmt::skip]
    let cases: [(&str, Vec<&str>); 4] = [
        ("another valid key", vec![bearer.as_str(), other_bearer.as_str()]),
        ("the same key twice", vec![bearer.as_str(), bearer.as_str()]),
        ("an empty second field", vec![bearer.as_str(), ""]),
        ("garbage second", vec![bearer.as_str(), "Bearer x"]),
    ];
    for (what, values) in &cases {
        assert_eq!(
            get(&url, values).await,
            refused("malformed_credential"),
            "edge: {what}"
        );
    }

    // Defect 11: revoke the client's tokens through the control plane's route.
    let pair = SigningKeyPair::derive(&AccessKey::parse(&key).unwrap()).unwrap();
    let token = |audience: &str, iat: i64| {
        let claims = MintClaims {
            client_id: &client_id,
            audience,
            issued_at: iat,
            ttl: 300,
            jti: "same-second",
        };
        format!("Bearer {}", mint(&pair, &claims))
    };
    let fresh = token(&edge, now());
    assert_eq!(get(&url, &[&fresh]).await.0, StatusCode::OK);
    let revoked: Value = reqwest::Client::new()
        .post(format!(
            "{}/v1/clients/{client_id}/revoke-tokens",
            stack.control_plane
        ))
        .bearer_auth(&stack.admin_key)
        .send()
        .await
        .expect("control plane reachable")
        .json()
        .await
        .expect("JSON");
    let cutoff = revoked["revoked_before"]
        .as_i64()
        .unwrap_or_else(|| panic!("no revoked_before: {revoked}"));
    let earlier = token(&edge, cutoff - 1);
    eventually("the revocation reached the edge", async || {
        get(&url, &[&earlier]).await == refused("revoked")
    })
    .await;
    // A token minted earlier in the revocation's own second carries exactly
    // `iat = cutoff`: the verifier cannot tell it from one minted after.
    for (what, iat) in [
        ("earlier in the same second", cutoff),
        ("before the call returned", cutoff + 1),
        ("by a clock ahead within the skew", cutoff + EDGE_SKEW),
    ] {
        assert_eq!(
            get(&url, &[&token(&edge, iat)]).await,
            refused("revoked"),
            "edge: minted {what} (iat {iat}, cutoff {cutoff})"
        );
    }
    // The control plane, with its own skew, by the same rule.
    let api = format!("{}/v1/apikeys/self", stack.control_plane);
    for (what, iat) in [
        ("earlier in the same second", cutoff),
        ("before the call returned", cutoff + 1),
        ("by a clock ahead within the skew", cutoff + API_SKEW),
    ] {
        assert_eq!(
            get(&api, &[&token(API_AUDIENCE, iat)]).await,
            refused("revoked"),
            "control plane: minted {what} (iat {iat}, cutoff {cutoff})"
        );
    }
    // And the control plane refuses two fields too.
    assert_eq!(
        get(&api, &[&bearer, &other_bearer]).await,
        refused("malformed_credential"),
        "control plane: two fields"
    );

    // No more than that: once `cutoff + 2` has passed, a token issued after
    // the window (here by a clock ahead by the full skew) goes through.
    while now() < cutoff + 2 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = token(&edge, cutoff + 2 + EDGE_SKEW);
    assert_eq!(get(&url, &[&after]).await.0, StatusCode::OK);
    assert_eq!(
        get(&url, &[&bearer]).await.0,
        StatusCode::OK,
        "the key stays"
    );
}

/// Defect 3, through workerd: whichever verifier the edge uses (WebCrypto,
/// the default, or ed25519-compact in WASM), a token whose signature does
/// not match is refused, and a valid one passes.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_signature_is_refused_by_either_verifier() {
    use shared::b64;
    use shared::record::{jwk_kv_name, JwkRecord, RECORD_VERSION};

    const CLIENT: &str = "cl_signatures";
    let signer = SigningKeyPair::from_seed([5; 32], "0123456789ABCDEFG");
    let stranger = SigningKeyPair::from_seed([6; 32], "0123456789ABCDEFG");
    let record = JwkRecord {
        v: RECORD_VERSION,
        client_id: CLIENT.to_owned(),
        env: "live".to_owned(),
        jwk: signer.public_jwk(),
        scopes: vec![],
        expires_at: None,
        revoked_at: None,
        client_disabled: false,
        rev: 1,
    };
    for verifier in ["webcrypto", "wasm"] {
        let options = Options {
            vars: vec![("SIGNATURE_VERIFIER".into(), verifier.into())],
            ..Options::default()
        };
        let edge = keygate_tests::Edge::start(&format!("signatures-{verifier}"), &options);
        edge.put_kv(&[(jwk_kv_name(signer.key_id()), record.encode())])
            .await;
        let claims = MintClaims {
            client_id: CLIENT,
            audience: &edge.url,
            issued_at: now(),
            ttl: 120,
            jti: "signatures",
        };
        let valid = mint(&signer, &claims);
        let url = format!("{}/v1/x", edge.url);
        let bearer = |token: &str| format!("Bearer {token}");
        eventually("the key record is readable", async || {
            get(&url, &[&bearer(&valid)]).await.0 == StatusCode::OK
        })
        .await;

        let (input, _) = valid.rsplit_once('.').unwrap();
        let by_stranger = format!(
            "{input}.{}",
            b64::encode_url(&stranger.sign(input.as_bytes()))
        );
        let mut edited_signature = valid.clone();
        let last = edited_signature.pop().unwrap();
        edited_signature.push(if last == 'A' { 'Q' } else { 'A' });
        let other_claims = MintClaims {
            jti: "signaturez",
            ..claims
        };
        let other = mint(&signer, &other_claims);
        let (other_input, _) = other.rsplit_once('.').unwrap();
        let (_, signature) = valid.rsplit_once('.').unwrap();
        let payload_swapped = format!("{other_input}.{signature}");
        for (what, token) in [
            ("signed by another key", &by_stranger),
            ("signature edited", &edited_signature),
            ("payload of another token", &payload_swapped),
        ] {
            assert_eq!(
                get(&url, &[&bearer(token)]).await,
                refused("invalid_token"),
                "{verifier}: {what}"
            );
        }
        assert_eq!(
            get(&url, &[&bearer(&valid)]).await.0,
            StatusCode::OK,
            "{verifier}"
        );
    }
}
