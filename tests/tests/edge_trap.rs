//! A panic in the gate aborts (panic=abort under a JavaScript entry: the
//! WASM instance traps, and its memory may be half-updated). It must never
//! leave the isolate serving errors: the entry answers that request 503,
//! starts a new instance, and the next request is served. Runs the test
//! build (`make build-edge-test-panic`), whose gate panics for the path
//! /keygate-test-panic.

use keygate_tests::{repo_root, Edge, Options};
use reqwest::StatusCode;
use serde_json::Value;
use shared::key::{AccessKey, KeyType};

async fn call(edge: &Edge, path: &str, key: &AccessKey) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", edge.url))
        .bearer_auth(key.expose())
        .send()
        .await
        .expect("edge reachable");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trap_is_answered_503_and_the_isolate_keeps_serving() {
    let script = repo_root().join("edge/build-test-panic/index.js");
    assert!(
        script.exists(),
        "{} missing: run `make build-edge-test-panic` (make test does)",
        script.display()
    );
    let edge = Edge::start(
        "trap",
        &Options {
            edge_args: vec!["--script".to_owned(), script.display().to_string()],
            ..Options::default()
        },
    );
    let key = AccessKey::from_entropy(KeyType::Secret, "live", Some("cl_trap"), [5; 12], &[6; 32])
        .unwrap();
    edge.publish_secret_key(&key, "cl_trap").await;
    assert_eq!(call(&edge, "/x", &key).await.0, StatusCode::OK);
    for round in 0..3 {
        let (status, body) = call(&edge, "/keygate-test-panic", &key).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "round {round}: {body}"
        );
        assert_eq!(body["error"]["code"], "unavailable", "round {round}");
        // The new instance has empty caches and reads KV again: still served.
        for _ in 0..3 {
            let (status, body) = call(&edge, "/x", &key).await;
            assert_eq!(status, StatusCode::OK, "round {round}: {body}");
        }
    }
    assert!(edge.log_eventually_contains("the WASM module trapped"));
}
