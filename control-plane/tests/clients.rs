//! Clients: create, read, list (paging, filters), delete, the reserved admin client, disable and enable.
//!
//! In-process HTTP tests of the control-plane API: `app(state)` driven with
//! `oneshot`, each test once on SQLite and, when `DATABASE_URL` points at
//! PostgreSQL, once on PostgreSQL (see `support`).

mod support;

use std::collections::{BTreeSet, HashSet};

use axum::http::{Method, StatusCode};
use control_plane::{clock, store};
use serde_json::{json, Value};

use support::{assert_error, backends, bearer, outbox_key_ids, request, str_field, Api};

#[tokio::test]
async fn client_create_get_delete() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;

        let created = api
            .create_client(&json!({
                "name": "  Acme reports  ",
                "owner_id": "org_42",
                "metadata": { "plan": "gold", "seats": 3 },
            }))
            .await;
        let id = str_field(&created, "id").to_owned();
        assert!(id.starts_with("cl_") && id.len() > 3, "[{ctx}] {created}");
        // Surrounding blanks are a copy-paste accident, not part of the name.
        assert_eq!(created["name"], "Acme reports", "[{ctx}] {created}");
        assert_eq!(created["owner_id"], "org_42", "[{ctx}] {created}");
        assert_eq!(
            created["metadata"],
            json!({ "plan": "gold", "seats": 3 }),
            "[{ctx}]"
        );
        let created_at = created["created_at"].as_i64().expect("created_at");
        assert!(
            (created_at - clock::now_secs()).abs() <= 5,
            "[{ctx}] {created}"
        );

        // Without owner or metadata: null owner, empty metadata object.
        let bare = api.create_client(&json!({ "name": "bare" })).await;
        assert_eq!(bare["owner_id"], Value::Null, "[{ctx}] {bare}");
        assert_eq!(bare["metadata"], json!({}), "[{ctx}] {bare}");
        assert_ne!(bare["id"], created["id"], "[{ctx}] ids must be fresh");

        let got = api.get(&format!("/v1/clients/{id}")).await;
        assert_eq!(got.status, StatusCode::OK, "[{ctx}] {}", got.text);
        assert_eq!(
            got.json, created,
            "[{ctx}] get must return what create returned"
        );

        let deleted = api.delete(&format!("/v1/clients/{id}")).await;
        assert_eq!(
            deleted.status,
            StatusCode::NO_CONTENT,
            "[{ctx}] {}",
            deleted.text
        );
        assert!(
            deleted.text.is_empty(),
            "[{ctx}] 204 with a body: {}",
            deleted.text
        );

        let gone = api.get(&format!("/v1/clients/{id}")).await;
        assert_error(
            &gone,
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("[{ctx}] get deleted"),
        );
        let again = api.delete(&format!("/v1/clients/{id}")).await;
        assert_error(
            &again,
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("[{ctx}] delete twice"),
        );
        // A deleted client is gone for its keys too.
        let keys = api.get(&format!("/v1/clients/{id}/keys")).await;
        assert_error(
            &keys,
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("[{ctx}] keys of deleted"),
        );
        let new_key = api
            .post(&format!("/v1/clients/{id}/keys"), &json!({}))
            .await;
        assert_error(
            &new_key,
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("[{ctx}] key for deleted"),
        );

        let listed = api.get("/v1/clients?limit=500").await;
        let ids: Vec<&str> = listed.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| str_field(c, "id"))
            .collect();
        assert!(
            !ids.contains(&id.as_str()),
            "[{ctx}] deleted client listed: {ids:?}"
        );
        assert!(
            ids.contains(&str_field(&bare, "id")),
            "[{ctx}] live client missing: {ids:?}"
        );

        let unknown = api.get("/v1/clients/cl_doesnotexist").await;
        assert_error(
            &unknown,
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("[{ctx}] unknown"),
        );

        backend.finish().await;
    }
}

#[tokio::test]
async fn admin_client_cannot_be_deleted() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let path = format!("/v1/clients/{}", store::ADMIN_CLIENT_ID);
        let reply = api.delete(&path).await;
        assert_error(
            &reply,
            StatusCode::CONFLICT,
            "conflict",
            &format!("[{ctx}] delete admin client"),
        );
        // The refusal must leave the admin key working.
        let still = api.get(&path).await;
        assert_eq!(still.status, StatusCode::OK, "[{ctx}] {}", still.text);
        backend.finish().await;
    }
}

/// Follows `next_cursor` from `first` to the end; returns every page's ids.
async fn all_pages(api: &Api, first: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut path = first.to_owned();
    loop {
        let reply = api.get(&path).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "[{}] {path}: {}",
            api.label,
            reply.text
        );
        let items = reply.json["items"].as_array().expect("items");
        pages.push(
            items
                .iter()
                .map(|c| str_field(c, "id").to_owned())
                .collect(),
        );
        match reply.json["next_cursor"].as_str() {
            Some(cursor) => path = format!("{first}&cursor={cursor}"),
            None => break,
        }
        assert!(pages.len() <= 20, "[{}] pagination does not end", api.label);
    }
    pages
}

#[tokio::test]
async fn client_list_paginates_without_gaps_or_duplicates() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let mut created = BTreeSet::new();
        for i in 0..5 {
            let client = api
                .create_client(&json!({ "name": format!("paged {i}"), "owner_id": "org_paged" }))
                .await;
            created.insert(str_field(&client, "id").to_owned());
        }
        let other = api
            .create_client(&json!({ "name": "elsewhere", "owner_id": "org_other" }))
            .await;
        let other_id = str_field(&other, "id").to_owned();

        // Everything, in one page, is the reference the paged walk must match.
        let whole = api.get("/v1/clients?limit=500").await;
        let everything: Vec<String> = whole.json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| str_field(c, "id").to_owned())
            .collect();
        assert_eq!(
            whole.json["next_cursor"],
            Value::Null,
            "[{ctx}] {}",
            whole.text
        );
        assert!(
            created.iter().all(|id| everything.contains(id)),
            "[{ctx}] {everything:?}"
        );
        assert!(everything.contains(&other_id), "[{ctx}]");

        let pages = all_pages(&api, "/v1/clients?limit=2").await;
        assert!(
            pages.iter().all(|p| p.len() <= 2),
            "[{ctx}] page over limit: {pages:?}"
        );
        assert!(
            pages[..pages.len() - 1].iter().all(|p| p.len() == 2),
            "[{ctx}] short page before the end: {pages:?}"
        );
        assert_eq!(
            pages.len(),
            everything.len().div_ceil(2),
            "[{ctx}] {pages:?}"
        );
        let walked: Vec<String> = pages.concat();
        let unique: HashSet<&String> = walked.iter().collect();
        assert_eq!(
            unique.len(),
            walked.len(),
            "[{ctx}] duplicates across pages: {pages:?}"
        );
        assert_eq!(
            walked, everything,
            "[{ctx}] paged walk differs from one big page"
        );

        // Filtered by owner, paged: exactly the five, nothing from other owners.
        let owned = all_pages(&api, "/v1/clients?limit=2&owner_id=org_paged").await;
        assert_eq!(owned.len(), 3, "[{ctx}] 5 clients in pages of 2: {owned:?}");
        let owned: BTreeSet<String> = owned.concat().into_iter().collect();
        assert_eq!(owned, created, "[{ctx}] owner filter");

        let single = api.get("/v1/clients?owner_id=org_other").await;
        let items = single.json["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "[{ctx}] {}", single.text);
        assert_eq!(items[0], other, "[{ctx}] list items must look like get");

        let nobody = api.get("/v1/clients?owner_id=org_nobody").await;
        assert_eq!(
            nobody.json,
            json!({ "items": [], "next_cursor": null }),
            "[{ctx}]"
        );

        backend.finish().await;
    }
}

#[tokio::test]
async fn disabling_a_client_refuses_its_keys_until_enabled() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "pausable" })).await;
        let client_id = str_field(&client, "id").to_owned();
        let key = api.create_key(&client_id, &json!({})).await;
        let key_text = str_field(&key, "key").to_owned();
        let key_id = str_field(&key, "id").to_owned();
        let patch = |disabled: bool| {
            request(
                Method::PATCH,
                &format!("/v1/clients/{client_id}"),
                Some(bearer(&api.admin)),
                Some(&json!({ "disabled": disabled })),
            )
        };
        let before = outbox_key_ids(&backend.db).await.len();
        let disabled = api.send(patch(true)).await;
        assert_eq!(disabled.status, StatusCode::OK, "[{ctx}] {}", disabled.text);
        assert_eq!(disabled.json["disabled"], true, "[{ctx}]");
        // The client record and every active key are republished.
        let queued = outbox_key_ids(&backend.db).await;
        assert_eq!(queued.len(), before + 2, "[{ctx}] {queued:?}");
        assert!(
            queued.contains(&client_id) && queued.contains(&key_id),
            "[{ctx}]"
        );
        let refused = api
            .send(request(
                Method::GET,
                "/v1/apikeys/self",
                Some(bearer(&key_text)),
                None,
            ))
            .await;
        assert_error(
            &refused,
            StatusCode::FORBIDDEN,
            "client_disabled",
            &format!("[{ctx}] disabled client's key"),
        );
        // Disabling twice changes nothing; enabling restores the key.
        assert_eq!(
            api.send(patch(true)).await.status,
            StatusCode::OK,
            "[{ctx}]"
        );
        assert_eq!(
            outbox_key_ids(&backend.db).await.len(),
            before + 2,
            "[{ctx}] a no-op wrote the outbox"
        );
        let enabled = api.send(patch(false)).await;
        assert_eq!(enabled.json["disabled"], false, "[{ctx}]");
        let own = api
            .send(request(
                Method::GET,
                "/v1/apikeys/self",
                Some(bearer(&key_text)),
                None,
            ))
            .await;
        assert_eq!(own.status, StatusCode::OK, "[{ctx}] {}", own.text);
        let actions = api.get(&format!("/v1/audit?target={client_id}")).await;
        assert_eq!(
            actions.json["items"][0]["action"], "client.enable",
            "[{ctx}]"
        );
        assert_eq!(
            actions.json["items"][1]["action"], "client.disable",
            "[{ctx}]"
        );
        backend.finish().await;
    }
}
