//! The publisher under a failing KV API: 30% of requests answered 500 or 429
//! (with Retry-After) plus latency. Every committed change still reaches KV:
//! when the outbox is empty, a re-sync finds KV equal to the database, key
//! for key.

use std::time::{Duration, Instant};

use keygate_tests::{soak_scale, Options, Stack};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread")]
async fn kv_converges_through_injected_faults() {
    let options = Options {
        edge_args: vec![
            "--api-fault-rate".into(),
            "0.3".into(),
            "--api-fault-first".into(),
            "1".into(),
            "--api-latency-ms".into(),
            "50".into(),
        ],
        ..Options::default()
    };
    let stack = Stack::start_with("faults", &options);
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{}{path}", stack.control_plane);
    let post = |path: String, body: Value| {
        http.post(path)
            .bearer_auth(&stack.admin_key)
            .json(&body)
            .send()
    };
    let client: Value = post(api("/v1/clients"), json!({ "name": "faults" }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = client["id"].as_str().unwrap().to_owned();
    let mut key_ids = Vec::new();
    for i in 0..200 * soak_scale() {
        let env = if i % 2 == 0 { "live" } else { "test" };
        let created: Value = post(
            api(&format!("/v1/clients/{client_id}/keys")),
            json!({ "env": env }),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        key_ids.push(created["id"].as_str().unwrap().to_owned());
    }
    for key_id in key_ids.iter().take(50 * soak_scale()) {
        let response = post(api(&format!("/v1/keys/{key_id}/revoke")), json!({}))
            .await
            .unwrap();
        assert!(response.status().is_success());
    }

    // Wait (bounded) for the outbox to drain through the faults. A batch that
    // keeps failing backs off exponentially (0.5 s, 1 s, 2 s, ...): 180 s
    // covers eight failures in a row, a chance of about 1 in 15,000 at 30%.
    let deadline = Instant::now() + Duration::from_secs(180 * soak_scale() as u64);
    let status = loop {
        let status: Value = http
            .get(api("/v1/publish/status"))
            .bearer_auth(&stack.admin_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["pending"] == 0 {
            break status;
        }
        assert!(Instant::now() < deadline, "outbox not drained: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        status["last_error"].is_string(),
        "faults were injected and seen: {status}"
    );

    // The oracle: a dry-run re-sync (itself retried through the faults) finds nothing to do.
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = loop {
        let response = http
            .post(api("/v1/publish/sync?dry_run=true"))
            .bearer_auth(&stack.admin_key)
            .send()
            .await
            .unwrap();
        if response.status().is_success() {
            break response.json::<Value>().await.unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "sync kept failing: {}",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for what in ["missing", "stale", "extra"] {
        assert_eq!(report[what], json!([]), "{what}: {report}");
    }
}
