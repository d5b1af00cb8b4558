//! What the publisher's convergence tests (kill -9, injected faults) share:
//! a load of key creations and revocations through the API, and the oracle.
//! Once the outbox is empty, a dry-run re-sync must find KV equal to the
//! database, key for key.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::Stack;

/// The control plane's HTTP API as the admin, retrying while it is down
/// (a crashed control plane restarts under the test's feet).
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    admin: String,
    http: reqwest::Client,
}

/// What a load run got confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Keys whose creation was answered.
    pub created: usize,
    /// Revocations that were answered.
    pub revoked: usize,
}

impl Api {
    /// The API of a running stack.
    pub fn of(stack: &Stack) -> Self {
        Self {
            base: stack.control_plane.clone(),
            admin: stack.admin_key.clone(),
            http: reqwest::Client::new(),
        }
    }

    /// POSTs until the control plane answers; a refusal fails the test.
    /// `None` when it stayed unreachable (about 5 s).
    pub async fn post(&self, path: &str, body: Value) -> Option<Value> {
        let url = format!("{}{path}", self.base);
        for _ in 0..200 {
            let sent = self.http.post(&url).bearer_auth(&self.admin).json(&body);
            match sent.send().await {
                Ok(response) if response.status().is_success() => {
                    return response.json().await.ok()
                }
                Ok(response) => panic!("{url}: {}", response.status()),
                Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
        None
    }

    /// Creates a client and returns its id.
    pub async fn create_client(&self, name: &str) -> String {
        let client = self
            .post("/v1/clients", json!({ "name": name }))
            .await
            .expect("client created");
        client["id"].as_str().expect("client id").to_owned()
    }

    /// Creates `creations` keys (live and test in turn), then revokes the
    /// first `revocations` of them.
    pub async fn create_and_revoke(
        &self,
        client_id: &str,
        creations: usize,
        revocations: usize,
    ) -> Load {
        let mut created = Vec::new();
        for i in 0..creations {
            let env = if i % 2 == 0 { "live" } else { "test" };
            let path = format!("/v1/clients/{client_id}/keys");
            if let Some(key) = self.post(&path, json!({ "env": env })).await {
                created.push(key["id"].as_str().expect("key id").to_owned());
            }
        }
        let mut revoked = 0;
        for key_id in created.iter().take(revocations) {
            let path = format!("/v1/keys/{key_id}/revoke");
            if self.post(&path, json!({})).await.is_some() {
                revoked += 1;
            }
        }
        Load {
            created: created.len(),
            revoked,
        }
    }

    /// Waits (at most `timeout`) for the outbox to drain; returns the last
    /// publish status.
    pub async fn wait_drained(&self, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        let url = format!("{}/v1/publish/status", self.base);
        loop {
            let sent = self.http.get(&url).bearer_auth(&self.admin).send().await;
            let status: Value = match sent {
                Ok(response) => response.json().await.expect("status is JSON"),
                Err(e) => json!({ "unreachable": e.to_string() }),
            };
            if status["pending"] == 0 {
                return status;
            }
            assert!(Instant::now() < deadline, "outbox not drained: {status}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The oracle: a dry-run re-sync (retried for 30 s, through any KV
    /// faults) finds nothing missing, stale or extra in KV.
    pub async fn assert_kv_equals_database(&self, context: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}/v1/publish/sync?dry_run=true", self.base);
        let report = loop {
            let sent = self.http.post(&url).bearer_auth(&self.admin).send().await;
            let failure = match sent {
                Ok(response) if response.status().is_success() => {
                    break response.json::<Value>().await.expect("report is JSON")
                }
                Ok(response) => response.status().to_string(),
                Err(e) => e.to_string(),
            };
            assert!(Instant::now() < deadline, "sync kept failing: {failure}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        for what in ["missing", "stale", "extra"] {
            assert_eq!(report[what], json!([]), "{what} {context}: {report}");
        }
    }
}
