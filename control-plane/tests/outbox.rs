//! The outbox: every change that the edge must see is enqueued in its transaction; the publish status counts it.
//!
//! In-process HTTP tests of the control-plane API: `app(state)` driven with
//! `oneshot`, each test once on SQLite and, when `DATABASE_URL` points at
//! PostgreSQL, once on PostgreSQL (see `support`).

mod support;

use axum::http::StatusCode;
use control_plane::{clock, store};
use serde_json::{json, Value};
use shared::key::AccessKey;

use support::{backends, count, outbox_key_ids, str_field, Api};

#[tokio::test]
async fn key_changes_write_the_outbox() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        assert!(
            outbox_key_ids(&backend.db).await.is_empty(),
            "[{ctx}] admin key was enqueued"
        );

        let client = api.create_client(&json!({ "name": "outboxed" })).await;
        let client_id = str_field(&client, "id");
        // A client's own record (revoked-before time, disabled flag) is
        // queued from the start, so a re-sync can hold KV to the database.
        assert_eq!(
            outbox_key_ids(&backend.db).await,
            vec![client_id.to_owned()],
            "[{ctx}] a new client queues its own record only"
        );

        let created = api.create_key(client_id, &json!({})).await;
        let key_id = str_field(&created, "id");
        let outbox = outbox_key_ids(&backend.db).await;
        assert_eq!(
            outbox,
            vec![client_id.to_owned(), key_id.to_owned()],
            "[{ctx}] after create"
        );

        api.post(&format!("/v1/keys/{key_id}/revoke"), &json!({}))
            .await;
        let outbox = outbox_key_ids(&backend.db).await;
        assert_eq!(
            count(&outbox, key_id),
            2,
            "[{ctx}] after revoke: {outbox:?}"
        );

        // Nothing changed, so there is nothing more to publish.
        api.post(&format!("/v1/keys/{key_id}/revoke"), &json!({}))
            .await;
        let outbox = outbox_key_ids(&backend.db).await;
        assert_eq!(
            count(&outbox, key_id),
            2,
            "[{ctx}] after a repeated revoke: {outbox:?}"
        );

        backend.finish().await;
    }
}

#[tokio::test]
async fn deleting_a_client_revokes_and_enqueues_its_keys() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "leaving" })).await;
        let client_id = str_field(&client, "id");
        let bystander = api.create_client(&json!({ "name": "staying" })).await;
        let bystander_key = api
            .create_key(str_field(&bystander, "id"), &json!({}))
            .await;
        let bystander_key_id = str_field(&bystander_key, "id");

        let mut ids = Vec::new();
        for body in [
            json!({}),
            json!({ "env": "test" }),
            json!({ "type": "publishable" }),
        ] {
            ids.push(str_field(&api.create_key(client_id, &body).await, "id").to_owned());
        }
        let already_revoked = ids[0].clone();
        api.post(&format!("/v1/keys/{already_revoked}/revoke"), &json!({}))
            .await;
        let before = outbox_key_ids(&backend.db).await;

        let deleted = api.delete(&format!("/v1/clients/{client_id}")).await;
        assert_eq!(
            deleted.status,
            StatusCode::NO_CONTENT,
            "[{ctx}] {}",
            deleted.text
        );

        let after = outbox_key_ids(&backend.db).await;
        for id in &ids[1..] {
            assert_eq!(
                count(&after, id),
                count(&before, id) + 1,
                "[{ctx}] {id} not enqueued on delete: {after:?}"
            );
        }
        // Already revoked: its KV record does not change, so no new entry.
        assert_eq!(
            count(&after, &already_revoked),
            count(&before, &already_revoked),
            "[{ctx}] {after:?}"
        );
        assert_eq!(
            count(&after, bystander_key_id),
            1,
            "[{ctx}] another client's key enqueued"
        );

        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let (rows, _) = store::keys_by_id(&backend.db.pool, &id_refs)
            .await
            .expect("reading keys");
        assert_eq!(rows.len(), 3, "[{ctx}]");
        for row in &rows {
            assert!(
                row.revoked_at.is_some(),
                "[{ctx}] {} still active after its client was deleted",
                row.key_id
            );
        }
        let bystander_row = store::get_key(&backend.db.pool, bystander_key_id)
            .await
            .expect("reading key")
            .expect("key exists");
        assert_eq!(
            bystander_row.revoked_at, None,
            "[{ctx}] another client's key was revoked"
        );

        backend.finish().await;
    }
}

#[tokio::test]
async fn admin_keys_are_never_published() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        // They open the control plane, not the edge: KV must never learn of them.
        let second = support::admin_key(&backend.db, None).await;
        let second_id = AccessKey::parse(&second)
            .expect("admin key parses")
            .key_id()
            .to_owned();
        let revoked = api
            .post(&format!("/v1/keys/{second_id}/revoke"), &json!({}))
            .await;
        assert_eq!(
            revoked.json["status"], "revoked",
            "[{ctx}] {}",
            revoked.text
        );
        assert!(
            outbox_key_ids(&backend.db).await.is_empty(),
            "[{ctx}] admin key in the outbox"
        );
        let status = api.get("/v1/publish/status").await;
        assert_eq!(status.json["pending"], 0, "[{ctx}] {}", status.text);
        backend.finish().await;
    }
}

#[tokio::test]
async fn publish_status_counts_the_outbox() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let empty = api.get("/v1/publish/status").await;
        assert_eq!(empty.status, StatusCode::OK, "[{ctx}] {}", empty.text);
        assert_eq!(empty.json["pending"], 0, "[{ctx}] {}", empty.text);
        assert_eq!(
            empty.json["oldest_pending_ms"],
            Value::Null,
            "[{ctx}] {}",
            empty.text
        );

        let client = api.create_client(&json!({ "name": "counted" })).await;
        let client_id = str_field(&client, "id");
        let first = api.create_key(client_id, &json!({})).await;
        api.create_key(client_id, &json!({ "env": "test" })).await;
        api.create_key(client_id, &json!({ "type": "publishable" }))
            .await;
        api.post(
            &format!("/v1/keys/{}/revoke", str_field(&first, "id")),
            &json!({}),
        )
        .await;

        let entries = outbox_key_ids(&backend.db).await.len();
        assert_eq!(
            entries, 5,
            "[{ctx}] the client, three key creations and one revocation"
        );
        let status = api.get("/v1/publish/status").await;
        assert_eq!(
            status.json["pending"].as_u64(),
            Some(entries as u64),
            "[{ctx}] {}",
            status.text
        );
        let oldest = status.json["oldest_pending_ms"]
            .as_i64()
            .expect("oldest_pending_ms set");
        assert!(
            (oldest - clock::now_ms()).abs() < 60_000,
            "[{ctx}] {}",
            status.text
        );
        backend.finish().await;
    }
}
