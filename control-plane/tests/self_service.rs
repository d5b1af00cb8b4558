//! Self-service: what a key holder (a key, or a JWT it signed) may see and do; JWKS, regeneration and the audit log.
//!
//! In-process HTTP tests of the control-plane API: `app(state)` driven with
//! `oneshot`, each test once on SQLite and, when `DATABASE_URL` points at
//! PostgreSQL, once on PostgreSQL (see `support`).

mod support;

use axum::http::{Method, StatusCode};
use control_plane::{clock, store};
use serde_json::json;
use shared::key::AccessKey;

use support::{api_token, assert_error, backends, bearer, outbox_key_ids, request, str_field, Api};

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
