//! Backfill: keys for every client that has none in an environment, issued
//! once (running it again issues nothing).
//!
//! Each test once on SQLite and, when `DATABASE_URL` points at PostgreSQL,
//! once on PostgreSQL (see `support`).

mod support;

use axum::http::Method;
use control_plane::clock::Clock;
use serde_json::json;
use shared::key::KeyType;
use support::{backends, bearer, request, str_field, Api};

/// The backfill runs at this instant (2023-11-14), whatever the system clock says.
const BACKFILL_CLOCK: Clock = Clock::fixed(1_700_000_000_000);

#[tokio::test]
async fn backfill_issues_missing_keys_once() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let bare = api.create_client(&json!({ "name": "no keys yet" })).await;
        let bare_id = str_field(&bare, "id").to_owned();
        let half = api.create_client(&json!({ "name": "live only" })).await;
        let half_id = str_field(&half, "id").to_owned();
        api.create_key(&half_id, &json!({ "env": "live" })).await;

        let policy = control_plane::config::KeyPolicy::default();
        let issued = control_plane::backfill::run(&backend.db, &policy, "test", BACKFILL_CLOCK)
            .await
            .expect("backfill");
        let mut got: Vec<(String, String, &str)> = issued
            .iter()
            .map(|i| {
                (
                    i.client_id.clone(),
                    i.env.clone(),
                    i.key.key_type().as_str(),
                )
            })
            .collect();
        got.sort();
        let mut expected = vec![
            (bare_id.clone(), "live".to_owned(), "publishable"),
            (bare_id.clone(), "live".to_owned(), "secret"),
            (bare_id.clone(), "test".to_owned(), "publishable"),
            (bare_id.clone(), "test".to_owned(), "secret"),
            (half_id.clone(), "test".to_owned(), "publishable"),
            (half_id.clone(), "test".to_owned(), "secret"),
        ];
        expected.sort();
        assert_eq!(
            got, expected,
            "[{ctx}] the admin client gets nothing; live-only gets test keys"
        );
        // The issued keys are real: they authenticate as their client.
        let live_secret = issued
            .iter()
            .find(|i| {
                i.client_id == bare_id && i.env == "live" && i.key.key_type() == KeyType::Secret
            })
            .unwrap();
        let own = api
            .send(request(
                Method::GET,
                "/v1/apikeys/self",
                Some(bearer(live_secret.key.expose())),
                None,
            ))
            .await;
        assert_eq!(own.json["client_id"], bare_id.as_str(), "[{ctx}]");
        // Minted at the clock it was given, not the system's.
        assert_eq!(
            own.json["created_at"],
            BACKFILL_CLOCK.now_secs(),
            "[{ctx}] {}",
            own.json
        );
        // Idempotent.
        let again = control_plane::backfill::run(&backend.db, &policy, "test", BACKFILL_CLOCK)
            .await
            .expect("backfill");
        assert!(
            again.is_empty(),
            "[{ctx}] second run issued {} keys",
            again.len()
        );
        backend.finish().await;
    }
}
