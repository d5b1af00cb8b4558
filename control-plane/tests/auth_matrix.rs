//! The auth matrix: every route refuses every kind of bad credential with the right status and code.
//!
//! In-process HTTP tests of the control-plane API: `app(state)` driven with
//! `oneshot`, each test once on SQLite and, when `DATABASE_URL` points at
//! PostgreSQL, once on PostgreSQL (see `support`).

mod support;

use axum::http::{HeaderValue, Method, StatusCode};
use control_plane::{clock, mint, store};
use serde_json::{json, Value};
use shared::key::{AccessKey, KeyType};
use shared::scope;

use support::{assert_error, backends, bearer, outbox_key_ids, request, store_key, str_field, Api};

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
        let unknown = mint::new_key(KeyType::Secret, "live", "cl_nobody")
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
