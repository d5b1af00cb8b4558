//! A stored column whose corruption would widen access (scopes, key type,
//! environment, client state) makes its row fail to decode: the key is
//! refused by the API and never published, instead of reading as "no
//! restriction". Each case corrupts one column with raw SQL, on SQLite and
//! on PostgreSQL.

mod support;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use control_plane::{kv::MemoryKv, publisher::Publisher};
use serde_json::json;
use shared::key::KeyHash;
use support::{backends, bearer, request, Api};

/// (column, value) pairs we never write, each of which read leniently would
/// widen access: an empty or unreadable scope list means "unrestricted".
const CORRUPTIONS: [(&str, &str); 9] = [
    ("scopes", "not json"),
    ("scopes", ""),
    ("scopes", "null"),
    ("scopes", r#"{"GET:/v1/reports": true}"#),
    ("scopes", "[1, 2]"),
    ("scopes", r#"["anything goes"]"#),
    ("key_type", "root"),
    ("key_type", ""),
    ("env", ""),
];

/// Asserts that `key` opens nothing (its own key's view, here).
async fn assert_refused(api: &Api, key: &str, case: &str) -> support::Reply {
    let reply = api
        .send(request(
            Method::GET,
            "/v1/apikeys/self",
            Some(bearer(key)),
            None,
        ))
        .await;
    assert!(
        !reply.status.is_success(),
        "{case}: a key whose row does not decode is refused: {}",
        reply.text
    );
    reply
}

#[tokio::test]
async fn corrupted_key_columns_refuse_and_never_publish() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "integrity" })).await;
        let client_id = client["id"].as_str().unwrap().to_owned();
        let kv = MemoryKv::new();
        let publisher = Publisher::new(backend.db.clone(), kv.clone(), Arc::default());

        // A healthy key published alongside shows the publisher did run.
        let healthy = api
            .create_key(&client_id, &json!({ "scopes": ["GET:/v1/reports"] }))
            .await;
        for (column, value) in CORRUPTIONS {
            let case = format!("[{ctx}] {column} = {value:?}");
            let created = api
                .create_key(&client_id, &json!({ "scopes": ["GET:/v1/reports"] }))
                .await;
            let key = created["key"].as_str().unwrap();
            let key_id = created["id"].as_str().unwrap();
            sqlx::query(&format!(
                "update api_key set {column} = $1 where key_id = $2"
            ))
            .bind(value)
            .bind(key_id)
            .execute(&backend.db.pool)
            .await
            .unwrap_or_else(|e| panic!("{case}: corrupting: {e}"));

            let reply = assert_refused(&api, key, &case).await;
            assert_ne!(reply.status, StatusCode::NOT_FOUND, "{case}");
            let reply = api.get(&format!("/v1/keys/{key_id}")).await;
            assert_eq!(
                reply.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{case}: {}",
                reply.text
            );

            kv.clear_writes();
            publisher.publish_due().await.expect("publishing");
            let log: Vec<String> = kv.writes().into_iter().map(|w| w.key).collect();
            let hash = KeyHash::of(key);
            assert!(
                !log.iter()
                    .any(|name| name.contains(hash.as_str()) || name.contains(key_id)),
                "{case}: the corrupted key's record was published: {log:?}"
            );
            if column == "scopes" && value == "not json" {
                let healthy_hash = KeyHash::of(healthy["key"].as_str().unwrap());
                assert!(
                    log.iter().any(|name| name.contains(healthy_hash.as_str())),
                    "{case}: the healthy key is published despite the bad row: {log:?}"
                );
            }
            // The bad row's entry waits for a repair; the status says why.
            let status = api.get("/v1/publish/status").await;
            assert!(
                status.json["pending"].as_i64().unwrap_or(0) >= 1,
                "{case}: {}",
                status.text
            );
        }
        backend.finish().await;
    }
}

/// SQLite stores whatever it is given (PostgreSQL's types refuse these
/// values): a client state column holding text must not read as "enabled".
#[tokio::test]
async fn corrupted_client_state_refuses() {
    for backend in backends().await {
        if backend.label != "sqlite" {
            backend.finish().await;
            continue;
        }
        let api = Api::new(&backend).await;
        let client = api.create_client(&json!({ "name": "state" })).await;
        let client_id = client["id"].as_str().unwrap().to_owned();
        let created = api.create_key(&client_id, &json!({})).await;
        let key = created["key"].as_str().unwrap();
        for value in ["yes", "", "1.5e999"] {
            sqlx::query("update client set disabled_at = $1 where client_id = $2")
                .bind(value)
                .bind(&client_id)
                .execute(&backend.db.pool)
                .await
                .unwrap();
            assert_refused(&api, key, &format!("disabled_at = {value:?}")).await;
        }
        backend.finish().await;
    }
}
