//! Keys: create, list (paging), read, revoke, types and sizes, expiry, waiting for KV, backfill.
//!
//! In-process HTTP tests of the control-plane API: `app(state)` driven with
//! `oneshot`, each test once on SQLite and, when `DATABASE_URL` points at
//! PostgreSQL, once on PostgreSQL (see `support`).

mod support;

use axum::http::{Method, StatusCode};
use control_plane::{clock, mint, store};
use serde_json::{json, Value};
use shared::key::{AccessKey, KeyType};

use support::{assert_error, backends, bearer, outbox_key_ids, request, store_key, str_field, Api};

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
        let never_stored = mint::new_key(KeyType::Secret, "live", "cl_nobody").expect("mint");
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
                Some(&client_id),
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
