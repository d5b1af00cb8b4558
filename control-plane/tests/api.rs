//! In-process HTTP tests of the control-plane API: `app(state)` driven with
//! `oneshot`, each test once on SQLite and, when `DATABASE_URL` points at
//! PostgreSQL, once on PostgreSQL (see `support`).

mod support;

use std::collections::{BTreeSet, HashSet};

use axum::http::{HeaderValue, Method, StatusCode};
use control_plane::{clock, mint, store};
use serde_json::{json, Value};
use shared::key::{AccessKey, KeyHash, KeyType};
use shared::scope;
use support::{assert_error, backends, bearer, raw_request, request, store_key, Api};

/// Every outbox entry, whatever its schedule.
async fn outbox_key_ids(db: &control_plane::db::Db) -> Vec<String> {
    support::outbox_names(db).await
}

fn count(ids: &[String], id: &str) -> usize {
    ids.iter().filter(|k| *k == id).count()
}

fn str_field<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string in {value}"))
}

// ---- 1. clients ----

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

// ---- 2. keys ----

/// Checks a created key's plaintext against the view that came with it.
fn check_created_key(created: &Value, env: &str, key_type: KeyType, ctx: &str) -> AccessKey {
    let text = str_field(created, "key");
    let key =
        AccessKey::parse(text).unwrap_or_else(|e| panic!("[{ctx}] {text:?} does not parse: {e}"));
    assert_eq!(key.key_id(), str_field(created, "id"), "[{ctx}] key id");
    assert_eq!(key.environment(), env, "[{ctx}] key env");
    assert_eq!(key.key_type(), key_type, "[{ctx}] key type");
    assert_eq!(created["env"], env, "[{ctx}] {created}");
    assert_eq!(created["type"], key_type.as_str(), "[{ctx}] {created}");
    assert_eq!(created["status"], "active", "[{ctx}] {created}");
    assert_eq!(created["revoked_at"], Value::Null, "[{ctx}] {created}");
    key
}

#[tokio::test]
async fn key_create_list_get_revoke() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "keyholder" })).await;
        let client_id = str_field(&client, "id");
        let keys_path = format!("/v1/clients/{client_id}/keys");

        let reports = api
            .create_key(
                client_id,
                &json!({
                    "env": "test", "type": "secret", "name": "reports",
                    "scopes": ["GET,HEAD:/v1/reports", "*:/v2/"], "expires_in": 3600,
                }),
            )
            .await;
        let reports_key = check_created_key(&reports, "test", KeyType::Secret, ctx);
        assert!(
            str_field(&reports, "key").starts_with("kg_sk_test_"),
            "[{ctx}]"
        );
        assert_eq!(reports["client_id"], client_id, "[{ctx}] {reports}");
        assert_eq!(reports["name"], "reports", "[{ctx}] {reports}");
        assert_eq!(
            reports["scopes"],
            json!(["GET,HEAD:/v1/reports", "*:/v2/"]),
            "[{ctx}]"
        );
        assert_eq!(
            reports["published"], false,
            "[{ctx}] nothing has reached KV yet"
        );
        let created_at = reports["created_at"].as_i64().expect("created_at");
        assert_eq!(
            reports["expires_at"].as_i64(),
            Some(created_at + 3600),
            "[{ctx}] {reports}"
        );

        let monthly = api
            .create_key(client_id, &json!({ "expires_in": "30d" }))
            .await;
        // Defaults: live, secret, no name, no scopes.
        let monthly_key = check_created_key(&monthly, "live", KeyType::Secret, ctx);
        assert_eq!(monthly["name"], Value::Null, "[{ctx}] {monthly}");
        assert_eq!(monthly["scopes"], json!([]), "[{ctx}] {monthly}");
        let created_at = monthly["created_at"].as_i64().expect("created_at");
        assert_eq!(
            monthly["expires_at"].as_i64(),
            Some(created_at + 30 * 86_400),
            "[{ctx}]"
        );

        let forever = api
            .create_key(client_id, &json!({ "env": "live", "expires_in": null }))
            .await;
        let forever_key = check_created_key(&forever, "live", KeyType::Secret, ctx);
        assert_eq!(
            forever["expires_at"],
            Value::Null,
            "[{ctx}] default policy has no lifetime"
        );

        let plaintexts = [&reports_key, &monthly_key, &forever_key];

        let listed = api.get(&keys_path).await;
        assert_eq!(listed.status, StatusCode::OK, "[{ctx}] {}", listed.text);
        let items = listed.json["items"].as_array().expect("items");
        let mut listed_ids: Vec<&str> = items.iter().map(|k| str_field(k, "id")).collect();
        listed_ids.sort_unstable();
        let mut expected_ids: Vec<&str> = plaintexts.iter().map(|k| k.key_id()).collect();
        expected_ids.sort_unstable();
        assert_eq!(listed_ids, expected_ids, "[{ctx}] {}", listed.text);
        assert!(
            items.iter().all(|k| k.get("key").is_none()),
            "[{ctx}] key field listed"
        );
        for key in plaintexts {
            assert!(
                !listed.text.contains(key.expose()),
                "[{ctx}] plaintext in list"
            );
            assert!(
                !listed.text.contains(key.hash().as_str()),
                "[{ctx}] hash in list"
            );
        }

        for (env, mut expected) in [
            ("test", vec![reports_key.key_id()]),
            ("live", vec![monthly_key.key_id(), forever_key.key_id()]),
        ] {
            let filtered = api.get(&format!("{keys_path}?env={env}")).await;
            let mut ids: Vec<&str> = filtered.json["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|k| str_field(k, "id"))
                .collect();
            ids.sort_unstable();
            expected.sort_unstable();
            assert_eq!(ids, expected, "[{ctx}] env={env}: {}", filtered.text);
        }
        let none = api.get(&format!("{keys_path}?env=staging")).await;
        assert_eq!(none.json["items"], json!([]), "[{ctx}] {}", none.text);

        let got = api.get(&format!("/v1/keys/{}", reports_key.key_id())).await;
        assert_eq!(got.status, StatusCode::OK, "[{ctx}] {}", got.text);
        let mut without_plaintext = reports.clone();
        without_plaintext
            .as_object_mut()
            .expect("object")
            .remove("key");
        assert_eq!(
            got.json, without_plaintext,
            "[{ctx}] get must be the created view minus the key"
        );

        let revoke_path = format!("/v1/keys/{}/revoke", reports_key.key_id());
        let revoked = api.post(&revoke_path, &json!({})).await;
        assert_eq!(revoked.status, StatusCode::OK, "[{ctx}] {}", revoked.text);
        assert_eq!(
            revoked.json["status"], "revoked",
            "[{ctx}] {}",
            revoked.text
        );
        let revoked_at = revoked.json["revoked_at"].as_i64().expect("revoked_at set");
        assert!(
            (revoked_at - clock::now_secs()).abs() <= 5,
            "[{ctx}] {}",
            revoked.text
        );
        let rev_after_first = store::get_key(&backend.db.pool, reports_key.key_id())
            .await
            .expect("reading the key")
            .expect("key exists")
            .rev;

        let again = api.post(&revoke_path, &json!({})).await;
        assert_eq!(
            again.status,
            StatusCode::OK,
            "[{ctx}] revoke is idempotent: {}",
            again.text
        );
        assert_eq!(
            again.json, revoked.json,
            "[{ctx}] a second revoke must change nothing"
        );
        let rev_after_second = store::get_key(&backend.db.pool, reports_key.key_id())
            .await
            .expect("reading the key")
            .expect("key exists")
            .rev;
        // Same revoked_at could be a same-second coincidence; an unchanged
        // revision proves the second call wrote nothing.
        assert_eq!(
            rev_after_second, rev_after_first,
            "[{ctx}] second revoke bumped rev"
        );

        let after = api.get(&format!("/v1/keys/{}", reports_key.key_id())).await;
        assert_eq!(after.json, revoked.json, "[{ctx}] get after revoke");
        let other = api.get(&format!("/v1/keys/{}", monthly_key.key_id())).await;
        assert_eq!(
            other.json["status"], "active",
            "[{ctx}] revoke touched another key"
        );

        backend.finish().await;
    }
}

#[tokio::test]
async fn unknown_keys_are_not_found() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let never_stored = mint::new_key(KeyType::Secret, "live").expect("mint");
        for id in [never_stored.key_id(), "nope"] {
            let got = api.get(&format!("/v1/keys/{id}")).await;
            assert_error(
                &got,
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("[{ctx}] get {id}"),
            );
            let revoked = api.post(&format!("/v1/keys/{id}/revoke"), &json!({})).await;
            assert_error(
                &revoked,
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("[{ctx}] revoke {id}"),
            );
        }
        assert!(
            outbox_key_ids(&backend.db).await.is_empty(),
            "[{ctx}] a 404 wrote to the outbox"
        );
        backend.finish().await;
    }
}

#[tokio::test]
async fn publishable_keys_have_their_own_prefix() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "spa" })).await;
        let client_id = str_field(&client, "id");
        for env in ["live", "test"] {
            let created = api
                .create_key(
                    client_id,
                    &json!({ "type": "publishable", "env": env, "scopes": ["GET:/"] }),
                )
                .await;
            check_created_key(&created, env, KeyType::Publishable, ctx);
            let text = str_field(&created, "key");
            assert!(text.starts_with(&format!("kg_pk_{env}_")), "[{ctx}] {text}");
        }
        backend.finish().await;
    }
}

#[tokio::test]
async fn expired_keys_show_as_expired() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "stale" })).await;
        let client_id = str_field(&client, "id");
        let stale = store_key(&backend.db, client_id, &[], Some(clock::now_secs() - 60)).await;
        let got = api.get(&format!("/v1/keys/{}", stale.key_id())).await;
        assert_eq!(got.json["status"], "expired", "[{ctx}] {}", got.text);
        backend.finish().await;
    }
}

// ---- 3. the outbox ----

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

// ---- 4. validation ----

#[tokio::test]
async fn invalid_requests_get_4xx_with_the_error_format() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "target" })).await;
        let client_id = str_field(&client, "id").to_owned();
        let keys = format!("/v1/clients/{client_id}/keys");
        let long_name = "n".repeat(201);
        let big_metadata =
            json!({ "name": "x", "metadata": { "pad": "m".repeat(17 * 1024) } }).to_string();
        let oversized =
            json!({ "name": "x", "metadata": { "pad": "p".repeat(65 * 1024) } }).to_string();
        let many_scopes =
            serde_json::to_string(&json!({ "scopes": vec!["GET:/"; 51] })).expect("json");
        let keys_bogus = format!("{keys}?bogus=1");
        let keys_deep = format!("{keys}/extra");

        let (bad, invalid) = (StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY);
        let (not_found, too_large) = (StatusCode::NOT_FOUND, StatusCode::PAYLOAD_TOO_LARGE);
        let (get, post) = (&Method::GET, &Method::POST);
        // (what, method, path, raw JSON body, status, code): one line per
        // case, so the table reads as a table.
        #[rustfmt::skip]
        let cases: Vec<(&str, &Method, &str, String, StatusCode, &str)> = vec![
            ("truncated JSON", post, "/v1/clients", r#"{"name":"#.to_owned(), bad, "bad_request"),
            ("not JSON", post, "/v1/clients", "name=x".to_owned(), bad, "bad_request"),
            ("empty body", post, "/v1/clients", String::new(), bad, "bad_request"),
            ("array body", post, "/v1/clients", "[]".to_owned(), invalid, "invalid_request"),
            ("name is a number", post, "/v1/clients", r#"{"name":5}"#.to_owned(), invalid, "invalid_request"),
            ("name is null", post, "/v1/clients", r#"{"name":null}"#.to_owned(), invalid, "invalid_request"),
            ("missing name", post, "/v1/clients", "{}".to_owned(), invalid, "invalid_request"),
            ("blank name", post, "/v1/clients", r#"{"name":"   "}"#.to_owned(), invalid, "invalid_request"),
            ("unknown field", post, "/v1/clients", r#"{"name":"x","admin":true}"#.to_owned(), invalid, "invalid_request"),
            ("name over 200", post, "/v1/clients", json!({ "name": long_name }).to_string(), invalid, "invalid_request"),
            ("empty owner", post, "/v1/clients", r#"{"name":"x","owner_id":""}"#.to_owned(), invalid, "invalid_request"),
            ("metadata not object", post, "/v1/clients", r#"{"name":"x","metadata":[1]}"#.to_owned(), invalid, "invalid_request"),
            ("metadata over 16 KiB", post, "/v1/clients", big_metadata, invalid, "invalid_request"),
            ("body over 64 KiB", post, "/v1/clients", oversized.clone(), too_large, "payload_too_large"),
            ("key: body over 64 KiB", post, &keys, oversized, too_large, "payload_too_large"),
            ("key: bad JSON", post, &keys, "{".to_owned(), bad, "bad_request"),
            ("key: env not configured", post, &keys, r#"{"env":"staging"}"#.to_owned(), invalid, "invalid_request"),
            ("key: env is a number", post, &keys, r#"{"env":1}"#.to_owned(), invalid, "invalid_request"),
            ("key: bad type", post, &keys, r#"{"type":"private"}"#.to_owned(), invalid, "invalid_request"),
            ("key: lowercase method scope", post, &keys, r#"{"scopes":["get:/x"]}"#.to_owned(), invalid, "invalid_request"),
            ("key: admin scope", post, &keys, r#"{"scopes":["admin"]}"#.to_owned(), invalid, "invalid_request"),
            ("key: scope without path", post, &keys, r#"{"scopes":["GET"]}"#.to_owned(), invalid, "invalid_request"),
            ("key: scopes not a list", post, &keys, r#"{"scopes":"GET:/"}"#.to_owned(), invalid, "invalid_request"),
            ("key: 51 scopes", post, &keys, many_scopes, invalid, "invalid_request"),
            ("key: expires_in 5y", post, &keys, r#"{"expires_in":"5y"}"#.to_owned(), invalid, "invalid_request"),
            ("key: expires_in -3", post, &keys, r#"{"expires_in":-3}"#.to_owned(), invalid, "invalid_request"),
            ("key: expires_in 0", post, &keys, r#"{"expires_in":0}"#.to_owned(), invalid, "invalid_request"),
            ("key: expires_in 1.5", post, &keys, r#"{"expires_in":1.5}"#.to_owned(), invalid, "invalid_request"),
            ("key: expires_in abc", post, &keys, r#"{"expires_in":"abc"}"#.to_owned(), invalid, "invalid_request"),
            ("key: expires_in true", post, &keys, r#"{"expires_in":true}"#.to_owned(), invalid, "invalid_request"),
            ("key: expires_in list", post, &keys, r#"{"expires_in":[60]}"#.to_owned(), invalid, "invalid_request"),
            ("key: name over 200", post, &keys, json!({ "name": "k".repeat(201) }).to_string(), invalid, "invalid_request"),
            ("key: unknown field", post, &keys, r#"{"secret":"mine"}"#.to_owned(), invalid, "invalid_request"),
            ("key: unknown client", post, "/v1/clients/cl_nobody/keys", "{}".to_owned(), not_found, "not_found"),
            ("key: admin client", post, "/v1/clients/cl_admin/keys", "{}".to_owned(), StatusCode::CONFLICT, "conflict"),
            ("list: limit=0", get, "/v1/clients?limit=0", String::new(), invalid, "invalid_request"),
            ("list: limit=-1", get, "/v1/clients?limit=-1", String::new(), invalid, "invalid_request"),
            ("list: limit=501", get, "/v1/clients?limit=501", String::new(), invalid, "invalid_request"),
            ("list: limit=abc", get, "/v1/clients?limit=abc", String::new(), bad, "bad_request"),
            ("list: unknown parameter", get, "/v1/clients?bogus=1", String::new(), bad, "bad_request"),
            ("keys: unknown parameter", get, &keys_bogus, String::new(), bad, "bad_request"),
            ("keys: unknown client", get, "/v1/clients/cl_nobody/keys", String::new(), not_found, "not_found"),
            ("bad path encoding", get, "/v1/clients/%FF", String::new(), bad, "bad_request"),
            ("unknown route", get, "/v1/nothing-here", String::new(), not_found, "not_found"),
            ("root", get, "/", String::new(), not_found, "not_found"),
            ("too deep", get, &keys_deep, String::new(), not_found, "not_found"),
        ];
        for (what, method, path, body, status, code) in cases {
            let reply = api
                .send(raw_request(method.clone(), path, &api.admin, body))
                .await;
            let context = format!("[{ctx}] {what} ({method} {path})");
            assert_ne!(
                reply.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{context}: {}",
                reply.text
            );
            assert_error(&reply, status, code, &context);
        }

        // Unknown routes answer 404 before any credential check.
        let anonymous = api
            .send(request(Method::GET, "/v1/nothing-here", None, None))
            .await;
        assert_error(
            &anonymous,
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("[{ctx}] anonymous unknown route"),
        );

        // No refused request may have left anything behind.
        let clients = api.get("/v1/clients?limit=500").await;
        assert_eq!(
            clients.json["items"].as_array().map(Vec::len),
            Some(2),
            "[{ctx}] {}",
            clients.text
        );
        let listed = api.get(&keys).await;
        assert_eq!(listed.json["items"], json!([]), "[{ctx}] {}", listed.text);

        // The limits are inclusive: exactly 200 is fine.
        api.create_client(&json!({ "name": "n".repeat(200) })).await;
        api.create_key(
            &client_id,
            &json!({ "name": "k".repeat(200), "scopes": vec!["GET:/"; 50] }),
        )
        .await;

        backend.finish().await;
    }
}

/// Found while writing these tests: a numeric `expires_in` has no upper
/// bound, unlike the string form (100 years), and `now + expires_in`
/// overflows an i64: a panic in debug builds, a key that expired before the
/// epoch in release builds.
#[tokio::test]
async fn huge_numeric_expires_in_is_refused() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "forever" })).await;
        let path = format!("/v1/clients/{}/keys", str_field(&client, "id"));
        for seconds in [i64::MAX, 200 * 365 * 86_400] {
            let reply = api.post(&path, &json!({ "expires_in": seconds })).await;
            assert_error(
                &reply,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                &format!("[{ctx}] {seconds}"),
            );
        }
        backend.finish().await;
    }
}

/// Found while writing these tests: axum's default 405 has an empty body, so
/// a wrong method is the one client error without the API's error format.
#[tokio::test]
async fn wrong_method_gets_the_error_format() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        for (method, path) in [
            (Method::PUT, "/v1/clients"),
            (Method::GET, "/v1/keys/x/revoke"),
        ] {
            let reply = api.call(method.clone(), path, None).await;
            let context = format!("[{ctx}] {method} {path}");
            assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{context}");
            assert!(
                reply.json["error"]["code"].is_string(),
                "{context}: {:?}",
                reply.text
            );
        }
        backend.finish().await;
    }
}

/// Found while writing these tests: the limit says "200 characters" but
/// counts UTF-8 bytes, so 101 accented letters are refused.
#[tokio::test]
async fn name_limits_count_characters() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let name = "é".repeat(200);
        let client = api.create_client(&json!({ "name": name })).await;
        api.create_key(str_field(&client, "id"), &json!({ "name": name }))
            .await;
        backend.finish().await;
    }
}

// ---- 5. the auth matrix ----

#[tokio::test]
async fn every_route_refuses_bad_credentials() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let db = &backend.db;
        let secret_name = "Matrix Confidential Client";
        let client = api
            .create_client(&json!({ "name": secret_name, "owner_id": "org_matrix" }))
            .await;
        let client_id = str_field(&client, "id").to_owned();
        let own_key = api.create_key(&client_id, &json!({})).await;
        let own_key_text = str_field(&own_key, "key").to_owned();
        let key_id = str_field(&own_key, "id").to_owned();
        let publishable = api
            .create_key(&client_id, &json!({ "type": "publishable" }))
            .await;
        let publishable_text = str_field(&publishable, "key").to_owned();

        let revoked_admin = support::admin_key(db, None).await;
        let revoked_admin_id = AccessKey::parse(&revoked_admin)
            .expect("parses")
            .key_id()
            .to_owned();
        let reply = api
            .post(&format!("/v1/keys/{revoked_admin_id}/revoke"), &json!({}))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "[{ctx}] revoking an admin key: {}",
            reply.text
        );
        let expired_admin = support::admin_key(db, Some(clock::now_secs() - 60)).await;
        let unknown = mint::new_key(KeyType::Secret, "live")
            .expect("mint")
            .expose()
            .to_owned();
        // The admin scope means nothing outside the admin client, and the
        // admin client means nothing without the admin scope.
        let admin_scope_elsewhere = store_key(db, &client_id, &[scope::ADMIN], None)
            .await
            .expose()
            .to_owned();
        let admin_client_no_scope = store_key(db, store::ADMIN_CLIENT_ID, &["GET:/"], None)
            .await
            .expose()
            .to_owned();
        let mut typo = api.admin.clone().into_bytes();
        let last = typo.len() - 1;
        typo[last] = if typo[last] == b'A' { b'B' } else { b'A' };
        let typo = String::from_utf8(typo).expect("ascii");
        let basic = |userinfo: &str| {
            format!(
                "Basic {}",
                shared::b64::encode_standard(userinfo.as_bytes())
            )
        };

        let unauthorized = StatusCode::UNAUTHORIZED;
        let forbidden = StatusCode::FORBIDDEN;
        // (what, Authorization value, status, code)
        #[rustfmt::skip]
        let credentials: Vec<(&str, Option<HeaderValue>, StatusCode, &str)> = vec![
            ("no Authorization", None, unauthorized, "missing_credential"),
            ("Bearer garbage", Some(HeaderValue::from_static("Bearer garbage")), unauthorized, "malformed_credential"),
            ("Bearer with nothing", Some(HeaderValue::from_static("Bearer ")), unauthorized, "malformed_credential"),
            ("admin key with a typo", Some(bearer(&typo)), unauthorized, "malformed_credential"),
            ("unknown well-formed key", Some(bearer(&unknown)), unauthorized, "invalid_credential"),
            ("revoked admin key", Some(bearer(&revoked_admin)), unauthorized, "revoked"),
            ("expired admin key", Some(bearer(&expired_admin)), unauthorized, "expired"),
            ("client's own key", Some(bearer(&own_key_text)), forbidden, "insufficient_scope"),
            ("publishable key", Some(bearer(&publishable_text)), forbidden, "insufficient_scope"),
            ("admin scope outside the admin client", Some(bearer(&admin_scope_elsewhere)), forbidden, "insufficient_scope"),
            ("admin client without admin scope", Some(bearer(&admin_client_no_scope)), forbidden, "insufficient_scope"),
            ("Basic not base64", Some(HeaderValue::from_static("Basic !!!!")), unauthorized, "malformed_credential"),
            ("Basic with a password", Some(header(&basic(&format!("{}:pw", api.admin)))), unauthorized, "malformed_credential"),
            ("Basic without colon", Some(header(&basic(&api.admin))), unauthorized, "malformed_credential"),
            ("Token scheme", Some(HeaderValue::from_static("Token x")), unauthorized, "malformed_credential"),
            ("Token scheme with admin key", Some(header(&format!("Token {}", api.admin))), unauthorized, "malformed_credential"),
            ("non-UTF-8 header", Some(HeaderValue::from_bytes(b"Bearer \xff\xfe").expect("opaque")), unauthorized, "malformed_credential"),
        ];

        // Every route but /healthz, with real ids; destructive ones last so
        // the admin pass below can run them in order.
        let client_path = format!("/v1/clients/{client_id}");
        let keys_path = format!("{client_path}/keys");
        let key_path = format!("/v1/keys/{key_id}");
        let revoke_path = format!("{key_path}/revoke");
        let revoke_tokens_path = format!("{client_path}/revoke-tokens");
        let jwks_path = format!("{client_path}/jwks");
        let rename = json!({ "name": "Matrix Confidential Client" });
        let new_client = json!({ "name": "should not exist" });
        let new_key = json!({});
        #[rustfmt::skip]
        let routes: Vec<(Method, &str, Option<&Value>, StatusCode)> = vec![
            (Method::GET, "/v1/clients", None, StatusCode::OK),
            (Method::GET, &client_path, None, StatusCode::OK),
            (Method::GET, &keys_path, None, StatusCode::OK),
            (Method::GET, &key_path, None, StatusCode::OK),
            (Method::GET, "/v1/publish/status", None, StatusCode::OK),
            (Method::GET, &jwks_path, None, StatusCode::OK),
            (Method::GET, "/v1/audit", None, StatusCode::OK),
            // No KV namespace in these tests: the admin gets 503, everyone else nothing.
            (Method::POST, "/v1/publish/sync", None, StatusCode::SERVICE_UNAVAILABLE),
            (Method::PATCH, &client_path, Some(&rename), StatusCode::OK),
            (Method::POST, "/v1/clients", Some(&new_client), StatusCode::CREATED),
            (Method::POST, &keys_path, Some(&new_key), StatusCode::CREATED),
            (Method::POST, &revoke_path, None, StatusCode::OK),
            (Method::POST, &revoke_tokens_path, None, StatusCode::OK),
            (Method::DELETE, &client_path, None, StatusCode::NO_CONTENT),
        ];

        let outbox_before = outbox_key_ids(db).await.len();
        for (method, path, body, _) in &routes {
            for (what, authorization, status, code) in &credentials {
                let reply = api
                    .send(request(method.clone(), path, authorization.clone(), *body))
                    .await;
                let context = format!("[{ctx}] {what} on {method} {path}");
                assert_error(&reply, *status, code, &context);
                if *status == StatusCode::UNAUTHORIZED {
                    let challenge = reply
                        .headers
                        .get("www-authenticate")
                        .unwrap_or_else(|| panic!("{context}: no WWW-Authenticate"));
                    assert!(
                        challenge.to_str().unwrap_or_default().starts_with("Bearer"),
                        "{context}: {challenge:?}"
                    );
                }
                for leak in [
                    "items",
                    secret_name,
                    "org_matrix",
                    client_id.as_str(),
                    key_id.as_str(),
                    "kg_",
                ] {
                    assert!(
                        !reply.text.contains(leak),
                        "{context}: body leaks {leak:?}: {}",
                        reply.text
                    );
                }
            }
        }

        // None of the refused requests may have changed anything.
        assert_eq!(
            outbox_key_ids(db).await.len(),
            outbox_before,
            "[{ctx}] a refused request wrote the outbox"
        );
        let clients = api.get("/v1/clients?limit=500").await;
        assert_eq!(
            clients.json["items"].as_array().map(Vec::len),
            Some(2),
            "[{ctx}] {}",
            clients.text
        );
        // Its own key, the publishable one and the admin-scoped one: no more.
        let listed = api.get(&keys_path).await;
        assert_eq!(
            listed.json["items"].as_array().map(Vec::len),
            Some(3),
            "[{ctx}] {}",
            listed.text
        );
        let key = api.get(&key_path).await;
        assert_eq!(key.json["status"], "active", "[{ctx}] {}", key.text);

        // The same routes with the admin key, proving each path above is real
        // and guarded rather than a 404 or an open route.
        for (method, path, body, status) in &routes {
            let reply = api.call(method.clone(), path, *body).await;
            assert_eq!(
                reply.status, *status,
                "[{ctx}] admin on {method} {path}: {}",
                reply.text
            );
        }
        // Basic with an empty password and a lowercase scheme are valid forms.
        let status = api
            .send(request(
                Method::GET,
                "/v1/publish/status",
                Some(header(&basic(&format!("{}:", api.admin)))),
                None,
            ))
            .await;
        assert_eq!(
            status.status,
            StatusCode::OK,
            "[{ctx}] Basic key: {}",
            status.text
        );
        let status = api
            .send(request(
                Method::GET,
                "/v1/publish/status",
                Some(header(&format!("bearer {}", api.admin))),
                None,
            ))
            .await;
        assert_eq!(
            status.status,
            StatusCode::OK,
            "[{ctx}] lowercase bearer: {}",
            status.text
        );

        backend.finish().await;
    }
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).expect("header-safe")
}

// ---- 6. health and publish status ----

#[tokio::test]
async fn healthz_needs_no_key() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let reply = api.send(request(Method::GET, "/healthz", None, None)).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "[{}] {}",
            backend.label,
            reply.text
        );
        assert_eq!(reply.json, json!({ "status": "ok" }), "[{}]", backend.label);
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

// ---- 7. secrets at rest ----

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

#[tokio::test]
async fn key_holders_see_their_own_key_and_jwks_are_kept_public_only() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "holder" })).await;
        let client_id = str_field(&client, "id").to_owned();
        let secret = api.create_key(&client_id, &json!({ "env": "test" })).await;
        let secret_text = str_field(&secret, "key").to_owned();
        let publishable = api
            .create_key(&client_id, &json!({ "type": "publishable" }))
            .await;

        // GET /v1/apikeys/self with the key itself: its own view, never a secret.
        let own = api
            .send(request(
                Method::GET,
                "/v1/apikeys/self",
                Some(bearer(&secret_text)),
                None,
            ))
            .await;
        assert_eq!(own.status, StatusCode::OK, "[{ctx}] {}", own.text);
        assert_eq!(own.json["client_id"], client_id.as_str(), "[{ctx}]");
        assert_eq!(own.json["id"], secret["id"], "[{ctx}]");
        assert!(
            !own.text.contains(&secret_text),
            "[{ctx}] the secret came back"
        );
        let none = api
            .send(request(Method::GET, "/v1/apikeys/self", None, None))
            .await;
        assert_error(
            &none,
            StatusCode::UNAUTHORIZED,
            "missing_credential",
            &format!("[{ctx}] no key"),
        );

        // Secret keys keep the public JWK of their Ed25519 pair; it matches
        // the key's own derivation. Publishable keys have none.
        let key = AccessKey::parse(&secret_text).expect("parses");
        let expected = shared::signing::SigningKeyPair::derive(&key)
            .expect("secret key")
            .public_jwk();
        let row = store::get_key(&backend.db.pool, key.key_id())
            .await
            .unwrap()
            .unwrap();
        let stored: shared::jwk::PublicJwk =
            serde_json::from_str(row.public_jwk.as_deref().unwrap()).unwrap();
        assert_eq!(stored, expected, "[{ctx}]");
        let publishable_row = store::get_key(&backend.db.pool, str_field(&publishable, "id"))
            .await
            .unwrap()
            .unwrap();
        assert!(publishable_row.public_jwk.is_none(), "[{ctx}]");

        // revoke-tokens stamps the client and queues its record.
        let revoked = api
            .post(
                &format!("/v1/clients/{client_id}/revoke-tokens"),
                &json!({}),
            )
            .await;
        assert_eq!(revoked.status, StatusCode::OK, "[{ctx}] {}", revoked.text);
        assert!(
            revoked.json["revoked_before"].as_i64().unwrap() >= clock::now_secs() - 5,
            "[{ctx}]"
        );
        assert!(
            outbox_key_ids(&backend.db).await.contains(&client_id),
            "[{ctx}] no outbox entry for the client record"
        );
        let missing = api
            .post("/v1/clients/cl_nobody/revoke-tokens", &json!({}))
            .await;
        assert_error(
            &missing,
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("[{ctx}] unknown client"),
        );
        backend.finish().await;
    }
}

/// A JWT for this API (audience = the default token audience), signed with `key`.
fn api_token(key: &str, client_id: &str, issued_at: i64) -> String {
    let key = AccessKey::parse(key).expect("parses");
    let pair = shared::signing::SigningKeyPair::derive(&key).expect("secret key");
    let claims = shared::jwt::MintClaims {
        client_id,
        audience: "http://127.0.0.1:7070",
        issued_at,
        ttl: 300,
        jti: "api-test",
    };
    shared::jwt::mint(&pair, &claims)
}

#[tokio::test]
async fn regenerate_jwks_self_service_update_and_audit() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api
            .create_client(&json!({ "name": "regen", "owner_id": "org_r" }))
            .await;
        let client_id = str_field(&client, "id").to_owned();
        let first = api.create_key(&client_id, &json!({ "env": "live" })).await;
        let first_text = str_field(&first, "key").to_owned();
        let test_key = api.create_key(&client_id, &json!({ "env": "test" })).await;

        // JWKS: the public JWKs of active secret keys, nothing private.
        let jwks = api.get(&format!("/v1/clients/{client_id}/jwks")).await;
        assert_eq!(jwks.status, StatusCode::OK, "[{ctx}] {}", jwks.text);
        assert_eq!(
            jwks.json["keys"].as_array().map(Vec::len),
            Some(2),
            "[{ctx}]"
        );
        assert!(
            !jwks.text.contains("\"d\""),
            "[{ctx}] a private member leaked"
        );

        // Self-service with the key itself (static) and with a JWT it signed.
        let own = api
            .send(request(
                Method::GET,
                "/v1/apikeys/live",
                Some(bearer(&first_text)),
                None,
            ))
            .await;
        assert_eq!(own.status, StatusCode::OK, "[{ctx}] {}", own.text);
        assert_eq!(
            own.json["items"].as_array().map(Vec::len),
            Some(1),
            "[{ctx}] live keys only"
        );
        assert!(
            !own.text.contains(&first_text),
            "[{ctx}] a secret came back"
        );
        let token = api_token(&first_text, &client_id, clock::now_secs());
        let via_jwt = api
            .send(request(
                Method::GET,
                "/v1/apikeys/test",
                Some(bearer(&token)),
                None,
            ))
            .await;
        assert_eq!(via_jwt.status, StatusCode::OK, "[{ctx}] {}", via_jwt.text);
        assert_eq!(via_jwt.json["items"][0]["id"], test_key["id"], "[{ctx}]");
        let wrong_client = api_token(&first_text, "cl_other", clock::now_secs());
        let refused = api
            .send(request(
                Method::GET,
                "/v1/apikeys/live",
                Some(bearer(&wrong_client)),
                None,
            ))
            .await;
        assert_error(
            &refused,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            &format!("[{ctx}] iss of another client"),
        );

        // Self-service regenerate: the old live key is revoked, one new key per type.
        let regenerated = api
            .send(request(
                Method::POST,
                "/v1/apikeys/regenerate/live",
                Some(bearer(&first_text)),
                None,
            ))
            .await;
        assert_eq!(
            regenerated.status,
            StatusCode::CREATED,
            "[{ctx}] {}",
            regenerated.text
        );
        let new_keys = regenerated.json["keys"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let types: Vec<&str> = new_keys.iter().filter_map(|k| k["type"].as_str()).collect();
        assert_eq!(types, ["secret", "publishable"], "[{ctx}]");
        assert_eq!(regenerated.json["revoked"], json!([first["id"]]), "[{ctx}]");
        let again = api
            .send(request(
                Method::GET,
                "/v1/apikeys/live",
                Some(bearer(&first_text)),
                None,
            ))
            .await;
        assert_error(
            &again,
            StatusCode::UNAUTHORIZED,
            "revoked",
            &format!("[{ctx}] the old key after regenerate"),
        );
        let new_secret = new_keys[0]["key"].as_str().unwrap().to_owned();
        let publishable = new_keys[1]["key"].as_str().unwrap().to_owned();
        let denied = api
            .send(request(
                Method::POST,
                "/v1/apikeys/regenerate/live",
                Some(bearer(&publishable)),
                None,
            ))
            .await;
        assert_error(
            &denied,
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            &format!("[{ctx}] publishable regenerate"),
        );
        // The test key was untouched.
        let test_view = api
            .get(&format!("/v1/keys/{}", str_field(&test_key, "id")))
            .await;
        assert_eq!(test_view.json["status"], "active", "[{ctx}]");

        // Admin regenerate of the test environment.
        let admin_regen = api
            .post(
                &format!("/v1/clients/{client_id}/keys/regenerate"),
                &json!({ "env": "test" }),
            )
            .await;
        assert_eq!(
            admin_regen.status,
            StatusCode::CREATED,
            "[{ctx}] {}",
            admin_regen.text
        );
        assert_eq!(
            admin_regen.json["revoked"],
            json!([test_key["id"]]),
            "[{ctx}]"
        );
        let bad_env = api
            .post(
                &format!("/v1/clients/{client_id}/keys/regenerate"),
                &json!({ "env": "prod" }),
            )
            .await;
        assert_error(
            &bad_env,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            &format!("[{ctx}] unknown env"),
        );

        // Update: rename, clear the owner, replace metadata; then filter by name.
        let patched = api
            .send(request(
                Method::PATCH,
                &format!("/v1/clients/{client_id}"),
                None,
                Some(
                    &json!({ "name": "renamed", "owner_id": null, "metadata": { "tier": "gold" } }),
                ),
            ))
            .await;
        assert_error(
            &patched,
            StatusCode::UNAUTHORIZED,
            "missing_credential",
            &format!("[{ctx}] PATCH without a key"),
        );
        let patched = api
            .send(request(
                Method::PATCH,
                &format!("/v1/clients/{client_id}"),
                Some(bearer(&api.admin)),
                Some(
                    &json!({ "name": "renamed", "owner_id": null, "metadata": { "tier": "gold" } }),
                ),
            ))
            .await;
        assert_eq!(patched.status, StatusCode::OK, "[{ctx}] {}", patched.text);
        assert_eq!(
            (
                patched.json["name"].as_str(),
                patched.json["owner_id"].as_str()
            ),
            (Some("renamed"), None),
            "[{ctx}]"
        );
        assert_eq!(patched.json["metadata"]["tier"], "gold", "[{ctx}]");
        let by_name = api.get("/v1/clients?name=renamed").await;
        assert_eq!(
            by_name.json["items"].as_array().map(Vec::len),
            Some(1),
            "[{ctx}]"
        );

        // The audit log saw all of it, with the acting key, and no secret.
        let audit = api.get(&format!("/v1/audit?target={client_id}")).await;
        assert_eq!(audit.status, StatusCode::OK, "[{ctx}] {}", audit.text);
        let actions: Vec<&str> = audit.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert_eq!(
            actions,
            [
                "client.update",
                "keys.regenerate",
                "keys.regenerate",
                "client.create"
            ],
            "[{ctx}]"
        );
        let self_service = &audit.json["items"][2];
        assert_eq!(
            self_service["actor"], first["id"],
            "[{ctx}] self-service acts as the caller's key"
        );
        let everything = api.get("/v1/audit?limit=1000").await.text;
        for secret in [&first_text, &new_secret, &publishable, &api.admin] {
            assert!(
                !everything.contains(secret.as_str()),
                "[{ctx}] a key in the audit log"
            );
        }
        backend.finish().await;
    }
}

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
        let issued = control_plane::backfill::run(&backend.db, &policy, "test")
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
        // Idempotent.
        let again = control_plane::backfill::run(&backend.db, &policy, "test")
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

#[tokio::test]
async fn metrics_count_requests_minting_and_publish_lag() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "metrics" })).await;
        let client_id = str_field(&client, "id").to_owned();
        api.create_key(&client_id, &json!({})).await;
        api.create_key(&client_id, &json!({})).await;
        let _ = api.get("/v1/clients/cl_missing").await;

        let reply = api.send(request(Method::GET, "/metrics", None, None)).await;
        assert_eq!(reply.status, StatusCode::OK, "[{ctx}]");
        let text = reply.text;
        // Route templates, never raw ids, as labels.
        assert!(
            text.contains(r#"keygate_http_requests_total{route="/v1/clients/{client_id}/keys",method="POST",status="201"} 2"#),
            "[{ctx}] {text}"
        );
        assert!(
            text.contains(r#"keygate_http_requests_total{route="/v1/clients/{client_id}",method="GET",status="404"} 1"#),
            "[{ctx}] {text}"
        );
        assert!(
            !text.contains("cl_missing") && !text.contains(&client_id),
            "[{ctx}] ids in labels"
        );
        assert!(
            text.contains("keygate_keys_minted_total 2\n"),
            "[{ctx}] {text}"
        );
        // Nothing publishes in these tests: the client and two keys pending, and a lag.
        assert!(
            text.contains("keygate_publish_pending 3\n"),
            "[{ctx}] {text}"
        );
        assert!(
            text.contains("keygate_publish_lag_seconds "),
            "[{ctx}] {text}"
        );
        backend.finish().await;
    }
}

#[tokio::test]
async fn key_list_pages_without_gaps_or_duplicates() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "many keys" })).await;
        let client_id = str_field(&client, "id").to_owned();
        let mut created = Vec::new();
        for _ in 0..7 {
            created.push(str_field(&api.create_key(&client_id, &json!({})).await, "id").to_owned());
        }
        let mut seen = Vec::new();
        let mut path = format!("/v1/clients/{client_id}/keys?limit=3");
        loop {
            let page = api.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "[{ctx}] {}", page.text);
            for item in page.json["items"].as_array().unwrap() {
                seen.push(item["id"].as_str().unwrap().to_owned());
            }
            match page.json["next_cursor"].as_str() {
                Some(cursor) => {
                    path = format!("/v1/clients/{client_id}/keys?limit=3&cursor={cursor}")
                }
                None => break,
            }
        }
        let mut sorted_seen = seen.clone();
        sorted_seen.sort();
        sorted_seen.dedup();
        created.sort();
        assert_eq!(sorted_seen, created, "[{ctx}] every key exactly once");
        assert_eq!(seen.len(), 7, "[{ctx}]");
        let bad = api
            .get(&format!("/v1/clients/{client_id}/keys?cursor=garbage"))
            .await;
        assert_error(
            &bad,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            &format!("[{ctx}] bad cursor"),
        );
        backend.finish().await;
    }
}

#[tokio::test]
async fn openapi_matches_the_router_both_ways() {
    let backend = backends().await.into_iter().next().expect("sqlite");
    let api = Api::new(&backend).await;
    let doc = api
        .send(request(Method::GET, "/openapi.json", None, None))
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.json["openapi"], "3.1.0");

    // Every documented operation is routed: with real ids and the right
    // credential it never meets the unknown-route fallback or a 405.
    let client = api.create_client(&json!({ "name": "openapi" })).await;
    let client_id = str_field(&client, "id").to_owned();
    let key = api.create_key(&client_id, &json!({})).await;
    let key_text = str_field(&key, "key").to_owned();
    let key_id = str_field(&key, "id").to_owned();
    for operation in control_plane::openapi::OPERATIONS {
        assert!(
            doc.json["paths"][operation.path][operation.method.to_ascii_lowercase()].is_object(),
            "{}",
            operation.path
        );
        let path = operation
            .path
            .replace("{client_id}", &client_id)
            .replace("{key_id}", &key_id)
            .replace("{env}", "live");
        let credential = match operation.auth {
            control_plane::openapi::Auth::None => None,
            control_plane::openapi::Auth::Admin => Some(bearer(&api.admin)),
            control_plane::openapi::Auth::KeyHolder => Some(bearer(&key_text)),
        };
        let method = Method::from_bytes(operation.method.as_bytes()).unwrap();
        let body = json!({ "name": "x", "env": "live" });
        let body = (method == Method::POST || method == Method::PATCH).then_some(&body);
        let reply = api.send(request(method, &path, credential, body)).await;
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} {path}",
            operation.method
        );
        assert!(
            !reply.text.contains("route not found"),
            "{} {path}: {}",
            operation.method,
            reply.text
        );
    }

    // Every route the router serves is documented.
    let routed = control_plane::http::routed_paths();
    assert!(
        routed.len() >= 15,
        "found {} routes in the router",
        routed.len()
    );
    for path in routed.iter().copied() {
        assert!(
            control_plane::openapi::OPERATIONS
                .iter()
                .any(|op| op.path == path),
            "{path} is routed but not in openapi::OPERATIONS"
        );
        // And on a documented path, a method the document does not list is
        // not routed either.
        for method in [
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ] {
            let documented = control_plane::openapi::OPERATIONS
                .iter()
                .any(|op| op.path == path && op.method == method.as_str());
            if documented {
                continue;
            }
            let concrete = path
                .replace("{client_id}", &client_id)
                .replace("{key_id}", &key_id)
                .replace("{env}", "live");
            let reply = api
                .send(request(
                    method.clone(),
                    &concrete,
                    Some(bearer(&api.admin)),
                    None,
                ))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is routed but not documented"
            );
        }
    }
    backend.finish().await;
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

#[tokio::test]
async fn key_sizes_follow_the_policy() {
    for backend in backends().await {
        let policy = control_plane::config::KeyPolicy {
            secret_key_bytes: 64,
            publishable_key_bytes: 48,
            ..Default::default()
        };
        let api = Api::with_policy(&backend, policy).await;
        let ctx = backend.label;
        let client = api.create_client(&json!({ "name": "big keys" })).await;
        let client_id = str_field(&client, "id").to_owned();
        for (key_type, bytes) in [("secret", 64), ("publishable", 48)] {
            let created = api
                .create_key(&client_id, &json!({ "type": key_type }))
                .await;
            let text = str_field(&created, "key").to_owned();
            let default_len = AccessKey::from_entropy(
                KeyType::from_name(key_type).unwrap(),
                "live",
                [0; 12],
                &vec![0; KeyType::from_name(key_type).unwrap().secret_bytes()],
            )
            .unwrap()
            .expose()
            .len();
            let extra_chars = shared::base62::encoded_len(bytes)
                - shared::base62::encoded_len(KeyType::from_name(key_type).unwrap().secret_bytes());
            assert_eq!(
                text.len(),
                default_len + extra_chars,
                "[{ctx}] {key_type}: {bytes}-byte secret"
            );
            let own = api
                .send(request(
                    Method::GET,
                    "/v1/apikeys/self",
                    Some(bearer(&text)),
                    None,
                ))
                .await;
            assert_eq!(
                own.status,
                StatusCode::OK,
                "[{ctx}] a {bytes}-byte {key_type} key authenticates"
            );
        }
        backend.finish().await;
    }
}

#[tokio::test]
async fn create_key_wait_is_bounded_and_reports_publication() {
    let backend = backends().await.into_iter().next().expect("sqlite");
    let api = Api::new(&backend).await;
    let client = api.create_client(&json!({ "name": "waiter" })).await;
    let client_id = str_field(&client, "id").to_owned();
    let too_long = api
        .post(&format!("/v1/clients/{client_id}/keys?wait=31"), &json!({}))
        .await;
    assert_error(
        &too_long,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
        "wait over 30 s",
    );
    // No publisher runs here: after the wait the key is created but not yet live.
    let started = std::time::Instant::now();
    let created = api
        .post(&format!("/v1/clients/{client_id}/keys?wait=1"), &json!({}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["published"], false);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "it waited"
    );
    backend.finish().await;
}
