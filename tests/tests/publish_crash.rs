//! kill -9 the control plane at random moments while 2,000 keys are created
//! and 500 revoked, restarting it each time. Once the outbox is empty, KV
//! equals the database key for key (a dry-run re-sync finds nothing).

use std::time::{Duration, Instant};

use keygate_tests::{soak_scale, Stack};
use serde_json::{json, Value};

/// Sends until the control plane answers (it may be down mid-restart).
async fn send(http: &reqwest::Client, url: &str, admin: &str, body: Value) -> Option<Value> {
    for _ in 0..200 {
        match http.post(url).bearer_auth(admin).json(&body).send().await {
            Ok(response) if response.status().is_success() => return response.json().await.ok(),
            Ok(response) => panic!("{url}: {}", response.status()),
            Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn kv_converges_through_kill_9() {
    let mut stack = Stack::start("crash");
    let base = stack.control_plane.clone();
    let admin = stack.admin_key.clone();
    let http = reqwest::Client::new();
    let client = send(
        &http,
        &format!("{base}/v1/clients"),
        &admin,
        json!({ "name": "crash" }),
    )
    .await
    .unwrap();
    let client_id = client["id"].as_str().unwrap().to_owned();

    let (creations, revocations) = (2000 * soak_scale(), 500 * soak_scale());
    let load = tokio::spawn({
        let (base, admin, http) = (base.clone(), admin.clone(), http.clone());
        async move {
            let mut created = Vec::new();
            for i in 0..creations {
                let env = if i % 2 == 0 { "live" } else { "test" };
                let url = format!("{base}/v1/clients/{client_id}/keys");
                if let Some(key) = send(&http, &url, &admin, json!({ "env": env })).await {
                    created.push(key["id"].as_str().unwrap().to_owned());
                }
            }
            for key_id in created.iter().take(revocations) {
                send(
                    &http,
                    &format!("{base}/v1/keys/{key_id}/revoke"),
                    &admin,
                    json!({}),
                )
                .await;
            }
            created.len()
        }
    });
    // Crash it at pseudo-random moments (fixed sequence: reproducible runs).
    let mut crashes = 0;
    let mut delay = 137u64;
    while !load.is_finished() {
        delay = (delay * 7919 + 13) % 700 + 150;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if load.is_finished() {
            break;
        }
        crashes += 1;
        stack.crash_and_restart(crashes);
    }
    let created = load.await.unwrap();
    assert!(
        created >= creations * 95 / 100,
        "only {created} of {creations} creations confirmed"
    );
    assert!(crashes >= 2, "the load finished before {crashes} crashes");

    // A killed publisher's claims lapse after 60 s; then the restarted one takes over.
    let deadline = Instant::now() + Duration::from_secs(150 * soak_scale() as u64);
    loop {
        let status: Value = http
            .get(format!("{base}/v1/publish/status"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status["pending"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "outbox not drained: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let report = send(
        &http,
        &format!("{base}/v1/publish/sync?dry_run=true"),
        &admin,
        json!({}),
    )
    .await
    .unwrap();
    for what in ["missing", "stale", "extra"] {
        assert_eq!(
            report[what],
            json!([]),
            "{what} after {crashes} crashes: {report}"
        );
    }
    println!("{created} keys confirmed, {crashes} kill -9 restarts, KV equals the database");
}
