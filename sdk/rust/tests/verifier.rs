//! The verifier against a stand-in of `POST /v1/verify` (the real API is
//! tested from tests/tests/sdk_rust_verify.rs): what it sends, what it
//! caches and for how long (an injected clock), and what it never caches.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use keygate_client::{ManualClock, Verifier, VerifyError};
use serde_json::{json, Value};

const NOW: i64 = 1_767_225_600;

/// One call: its `Authorization` header and its body.
type Call = (Option<String>, Value);

/// The calls the stand-in received.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<Call>>>);

impl Calls {
    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn last(&self) -> Call {
        self.0.lock().unwrap().last().cloned().unwrap()
    }
}

/// Answers by credential: `good` is valid, `expiring` expires at NOW + 5,
/// `kv-down` is a 200 saying the edge would answer 503, `crash` is a 500.
async fn verify(
    State(calls): State<Calls>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    calls
        .0
        .lock()
        .unwrap()
        .push((authorization.clone(), body.clone()));
    if authorization.as_deref() != Some("Bearer vk_test") {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": "unauthorized", "message": "no"}})),
        );
    }
    let valid = |expires_at: Value| {
        json!({"valid": true, "code": "valid", "status": 200, "client_id": "cl_1", "key_id": "k",
               "env": "live", "key_type": "secret", "auth": "static", "scopes": [],
               "expires_at": expires_at})
    };
    match body["credential"].as_str().unwrap_or("") {
        "good" => (StatusCode::OK, Json(valid(Value::Null))),
        "expiring" => (StatusCode::OK, Json(valid(json!(NOW + 5)))),
        "kv-down" => (
            StatusCode::OK,
            Json(json!({"valid": false, "code": "unavailable", "status": 503, "message": "m"})),
        ),
        "crash" => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": {"code": "internal", "message": "m"}})),
        ),
        "huge" => (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({"error": {"code": "too_large", "message": "big"}})),
        ),
        _ => (
            StatusCode::OK,
            Json(
                json!({"valid": false, "code": "invalid_key", "status": 401, "message": "unknown key"}),
            ),
        ),
    }
}

async fn stand_in() -> (String, Calls) {
    let calls = Calls::default();
    let app = Router::new()
        .route("/v1/verify", post(verify))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

#[tokio::test]
async fn answers_are_cached_per_credential_method_and_path_for_the_ttl() {
    let (url, calls) = stand_in().await;
    let clock = ManualClock::new(NOW);
    let verifier = Verifier::new(&format!("{url}/"), "vk_test").clock(clock.clone());
    let first = verifier.verify("good", "GET", "/v1/a").await.unwrap();
    assert!(first.valid);
    assert_eq!(
        (first.client_id.as_deref(), first.status),
        (Some("cl_1"), 200)
    );
    assert_eq!(first.auth, Some(keygate_client::origin::Auth::Static));
    assert_eq!(calls.count(), 1);
    // Within 30 s: from the cache, from clones too.
    clock.advance(29);
    assert_eq!(
        verifier
            .clone()
            .verify("good", "GET", "/v1/a")
            .await
            .unwrap(),
        first
    );
    assert_eq!(calls.count(), 1);
    // Another method or path is another question.
    verifier.verify("good", "POST", "/v1/a").await.unwrap();
    verifier.verify("good", "GET", "/v1/b").await.unwrap();
    assert_eq!(calls.count(), 3);
    // Refusals are answers too, and cached.
    let refused = verifier.verify("unknown", "GET", "/").await.unwrap();
    assert!(!refused.valid);
    assert_eq!(
        (refused.code.as_str(), refused.status),
        ("invalid_key", 401)
    );
    verifier.verify("unknown", "GET", "/").await.unwrap();
    assert_eq!(calls.count(), 4);
    // At 30 s the first entry has expired: asked again.
    clock.advance(1);
    verifier.verify("good", "GET", "/v1/a").await.unwrap();
    assert_eq!(calls.count(), 5);
}

#[tokio::test]
async fn the_request_carries_what_the_contract_says() {
    let (url, calls) = stand_in().await;
    let verifier = Verifier::new(&url, "vk_test");
    assert!(
        verifier
            .verify("good", "DELETE", "/v1/x")
            .await
            .unwrap()
            .valid
    );
    assert_eq!(
        calls.last(),
        (
            Some("Bearer vk_test".to_owned()),
            json!({"credential": "good", "method": "DELETE", "path": "/v1/x"})
        )
    );
    let verifier = verifier.audience("https://edge.example");
    verifier.verify("good", "GET", "/").await.unwrap();
    assert_eq!(calls.last().1["audience"], "https://edge.example");
}

#[tokio::test]
async fn failures_and_5xx_are_never_cached() {
    let (url, calls) = stand_in().await;
    let verifier = Verifier::new(&url, "vk_test").clock(ManualClock::new(NOW));
    for _ in 0..2 {
        assert_eq!(
            verifier.verify("crash", "GET", "/").await.unwrap_err(),
            VerifyError::Server { status: 500 }
        );
    }
    assert_eq!(calls.count(), 2);
    for _ in 0..2 {
        let answer = verifier.verify("kv-down", "GET", "/").await.unwrap();
        assert_eq!((answer.valid, answer.status), (false, 503));
    }
    assert_eq!(calls.count(), 4);
    let error = verifier.verify("huge", "GET", "/").await.unwrap_err();
    assert!(
        matches!(&error, VerifyError::Rejected { status: 413, code, .. } if code == "too_large"),
        "{error:?}"
    );
    // A wrong verify key: typed, and not cached either.
    let wrong = Verifier::new(&url, "vk_wrong");
    for _ in 0..2 {
        assert!(matches!(
            wrong.verify("good", "GET", "/").await,
            Err(VerifyError::Unauthorized { .. })
        ));
    }
    assert_eq!(calls.count(), 7);
    // Nobody listening: a transport error, quickly.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dead = Verifier::new(&dead_url, "vk_test").timeout(Duration::from_secs(2));
    let error = dead.verify("good", "GET", "/").await.unwrap_err();
    assert!(matches!(error, VerifyError::Transport(_)), "{error:?}");
}

#[tokio::test]
async fn a_result_never_outlives_the_credential_and_ttl_zero_disables_the_cache() {
    let (url, calls) = stand_in().await;
    let clock = ManualClock::new(NOW);
    let verifier = Verifier::new(&url, "vk_test").clock(clock.clone());
    verifier.verify("expiring", "GET", "/").await.unwrap();
    clock.advance(4);
    verifier.verify("expiring", "GET", "/").await.unwrap();
    assert_eq!(calls.count(), 1);
    clock.advance(1);
    verifier.verify("expiring", "GET", "/").await.unwrap();
    assert_eq!(
        calls.count(),
        2,
        "expired with the credential, not after 30 s"
    );
    let uncached = Verifier::new(&url, "vk_test").cache_ttl(Duration::ZERO);
    uncached.verify("good", "GET", "/").await.unwrap();
    uncached.verify("good", "GET", "/").await.unwrap();
    assert_eq!(calls.count(), 4);
}

#[test]
fn debug_never_prints_the_verify_key() {
    let verifier = Verifier::new("http://127.0.0.1:1", "vk_very_secret").cache_size(5);
    let debug = format!("{verifier:?}");
    assert!(
        !debug.contains("vk_very_secret") && debug.contains("cache_size: 5"),
        "{debug}"
    );
}
