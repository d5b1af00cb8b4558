//! The Rust SDK's `Verifier` against the real control plane's
//! `POST /v1/verify`: static keys and the `TokenProvider`'s tokens verify
//! with the caller's identity; refusals carry the edge's own code for the
//! same credential; a revoked key stays valid in the cache for its TTL (the
//! revocation window it adds) and not a second longer without it; a bad
//! verify key is a typed error.

use std::time::Duration;

use keygate_client::origin::Auth;
use keygate_client::{TokenProvider, Verifier, VerifyError};
use keygate_tests::{eventually, Stack};
use serde_json::Value;

/// What the edge answers for `credential` on GET `path`: 200, or the refusal's code.
async fn edge_code(stack: &Stack, credential: &str, path: &str) -> String {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", stack.edge))
        .bearer_auth(credential)
        .send()
        .await
        .expect("edge reachable");
    if response.status().is_success() {
        return "valid".to_owned();
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    body["error"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_verifier_against_the_real_api() {
    let stack = Stack::start("sdk-rust-verify");
    let client = stack.cli_json(&["client", "create", "--name", "verified"]);
    let client_id = client["id"].as_str().unwrap().to_owned();
    let created = stack.cli_json(&["key", "create", "--client", &client_id]);
    let (key, key_id) = (
        created["key"].as_str().unwrap().to_owned(),
        created["id"].as_str().unwrap().to_owned(),
    );
    let verifier = Verifier::new(&stack.control_plane, &stack.verify_key()).audience(&stack.edge);

    // A static key.
    let answer = verifier.verify(&key, "GET", "/v1/orders").await.unwrap();
    assert!(answer.valid, "{answer:?}");
    assert_eq!((answer.code.as_str(), answer.status), ("valid", 200));
    assert_eq!(answer.client_id.as_deref(), Some(client_id.as_str()));
    assert_eq!(answer.key_id.as_deref(), Some(key_id.as_str()));
    assert_eq!(answer.auth, Some(Auth::Static));
    assert_eq!(answer.env.as_deref(), Some("live"));

    // A token from the provider (audience: the edge).
    let token = TokenProvider::new(&key, &stack.edge)
        .unwrap()
        .token()
        .unwrap();
    let answer = verifier.verify(&token, "POST", "/v1/orders").await.unwrap();
    assert!(answer.valid, "{answer:?}");
    assert_eq!(answer.auth, Some(Auth::Jwt));
    assert!(
        answer.expires_at.is_some(),
        "a token's expiry bounds the cache"
    );

    // Refusals: the same codes as the edge, once the edge has the key.
    eventually("the key is published", async || {
        edge_code(&stack, &key, "/").await == "valid"
    })
    .await;
    let other_audience = TokenProvider::new(&key, "https://elsewhere.example")
        .unwrap()
        .token()
        .unwrap();
    for credential in [
        &key[..key.len() - 1],
        "kg_sk_live_nonsense",
        other_audience.as_str(),
    ] {
        let answer = verifier.verify(credential, "GET", "/").await.unwrap();
        assert!(!answer.valid);
        assert_eq!(
            answer.code,
            edge_code(&stack, credential, "/").await,
            "{answer:?}"
        );
        assert!(answer.message.is_some());
    }

    // Revoked: the cached answer stands for the TTL; uncached, refused at once.
    let cached = verifier.clone();
    assert!(
        cached
            .verify(&key, "GET", "/v1/orders")
            .await
            .unwrap()
            .valid
    );
    stack.cli_json(&["key", "revoke", &key_id]);
    assert!(
        cached
            .verify(&key, "GET", "/v1/orders")
            .await
            .unwrap()
            .valid,
        "within the 30 s revocation window of the cache"
    );
    let uncached = Verifier::new(&stack.control_plane, &stack.verify_key())
        .audience(&stack.edge)
        .cache_ttl(Duration::ZERO);
    let answer = uncached.verify(&key, "GET", "/v1/orders").await.unwrap();
    assert!(!answer.valid, "{answer:?}");
    let edge = eventually("the revocation reaches the edge", async || {
        let code = edge_code(&stack, &key, "/v1/orders").await;
        (code != "valid").then_some(code)
    })
    .await;
    assert_eq!(answer.code, edge, "{answer:?}");

    // A verify key the API does not know: typed, never an answer.
    let stranger = Verifier::new(&stack.control_plane, &key);
    let error = stranger.verify(&token, "GET", "/").await.unwrap_err();
    assert!(
        matches!(
            error,
            VerifyError::Unauthorized { .. } | VerifyError::Forbidden { .. }
        ),
        "{error:?}"
    );
}
