//! Secrets at rest: no plaintext key ever reaches the database.
//!
//! In-process HTTP tests of the control-plane API: `app(state)` driven with
//! `oneshot`, each test once on SQLite and, when `DATABASE_URL` points at
//! PostgreSQL, once on PostgreSQL (see `support`).

mod support;

use serde_json::json;
use shared::key::{AccessKey, KeyHash};

use support::{backends, str_field, Api};

/// Everything the database holds, as text, where a leaked key would show.
async fn stored_text(backend: &support::TestDb) -> String {
    if let Some(dir) = backend.sqlite_dir() {
        // The WAL holds recent writes that the main file may not have yet.
        let mut text = String::new();
        for entry in std::fs::read_dir(dir).expect("reading the SQLite directory") {
            let bytes =
                std::fs::read(entry.expect("dir entry").path()).expect("reading a SQLite file");
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
        return text;
    }
    let mut text = String::new();
    for table in ["api_key", "client", "outbox", "publish_state"] {
        let rows: Vec<String> = sqlx::query_scalar(&format!("select t::text from {table} t"))
            .fetch_all(&backend.db.pool)
            .await
            .unwrap_or_else(|e| panic!("reading {table}: {e}"));
        text.push_str(&rows.join("\n"));
    }
    text
}

#[tokio::test]
async fn plaintext_keys_never_reach_the_database() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "vault" })).await;
        let client_id = str_field(&client, "id");
        let mut plaintexts = vec![api.admin.clone()];
        for body in [
            json!({}),
            json!({ "env": "test", "scopes": ["GET:/"] }),
            json!({ "type": "publishable" }),
            json!({ "type": "publishable", "env": "test", "expires_in": "1h" }),
        ] {
            plaintexts.push(str_field(&api.create_key(client_id, &body).await, "key").to_owned());
        }
        let stored = stored_text(&backend).await;
        for text in &plaintexts {
            let key = AccessKey::parse(text).expect("parses");
            // The key id is public; what must never be stored is what follows it.
            let secret =
                &text[text.find(key.key_id()).expect("id inside key") + key.key_id().len()..];
            assert!(
                !stored.contains(text.as_str()),
                "[{ctx}] plaintext key {} stored",
                key.key_id()
            );
            assert!(
                !stored.contains(secret),
                "[{ctx}] secret of {} stored",
                key.key_id()
            );
            // Proves the search above looked where the keys live.
            let hash = KeyHash::of(text);
            assert!(
                stored.contains(hash.as_str()),
                "[{ctx}] hash of {} not found: wrong place searched",
                key.key_id()
            );
            assert!(
                stored.contains(key.key_id()),
                "[{ctx}] id of {} not found",
                key.key_id()
            );
        }
        backend.finish().await;
    }
}
