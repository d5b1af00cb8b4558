//! The API reads the time from its state's clock, so a test can fix it:
//! creation times, expiry times and the "expired" status all follow it.

mod support;

use control_plane::{clock::Clock, config::KeyPolicy, AppState};
use serde_json::json;
use support::{backends, str_field, Api};

#[tokio::test]
async fn the_api_follows_a_fixed_clock() {
    // 2001-09-09T01:46:40Z, far from the real time.
    const T_MS: i64 = 1_000_000_000_000;
    for backend in backends().await {
        let ctx = backend.label;
        let at = |ms| {
            let mut state = AppState::new(backend.db.clone(), KeyPolicy::default());
            state.clock = Clock::fixed(ms);
            state
        };
        let then = Api::with_state(&backend, at(T_MS)).await;
        let client = then.create_client(&json!({ "name": "clock" })).await;
        assert_eq!(client["created_at"], T_MS / 1000, "[{ctx}] {client}");
        let key = then
            .create_key(str_field(&client, "id"), &json!({ "expires_in": "1h" }))
            .await;
        assert_eq!(key["created_at"], T_MS / 1000, "[{ctx}] {key}");
        assert_eq!(key["expires_at"], T_MS / 1000 + 3_600, "[{ctx}] {key}");
        assert_eq!(key["status"], "active", "[{ctx}] {key}");

        // Two hours later, the same key reads as expired.
        let later = Api::with_state(&backend, at(T_MS + 7_200_000)).await;
        let got = later
            .get(&format!("/v1/keys/{}", str_field(&key, "id")))
            .await;
        assert_eq!(got.json["status"], "expired", "[{ctx}] {}", got.text);
        backend.finish().await;
    }
}
