//! `POST /v1/verify`: who may call it (verify keys and admin keys, nobody
//! else; verify keys nothing else), the answers for every kind of credential,
//! and the refusals of bad bodies. In-process (`oneshot`), on every backend.

mod support;

use axum::{
    body::Body,
    http::{header, HeaderValue, Method, Request, StatusCode},
};
use control_plane::{
    clock, config::KeyPolicy, openapi::Auth, openapi::OPERATIONS, store, AppState,
};
use serde_json::{json, Value};
use shared::scope;

use support::{assert_error, backends, bearer, request, store_key, str_field, Api, Reply};

/// A verify key, made as `keygate admin-key create --scope verify` makes it.
async fn verify_key(db: &control_plane::db::Db, expires_at: Option<i64>) -> String {
    store::ensure_admin_client(&db.pool, clock::now_secs())
        .await
        .expect("admin client");
    store_key(db, store::ADMIN_CLIENT_ID, &[scope::VERIFY], expires_at)
        .await
        .expose()
        .to_owned()
}

async fn verify_with(api: &Api, caller: &str, body: &Value) -> Reply {
    api.send(request(
        Method::POST,
        "/v1/verify",
        Some(bearer(caller)),
        Some(body),
    ))
    .await
}

fn assert_verdict(reply: &Reply, valid: bool, code: &str, status: u16, context: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{context}: {}", reply.text);
    assert_eq!(reply.json["valid"], valid, "{context}: {}", reply.text);
    assert_eq!(reply.json["code"], code, "{context}: {}", reply.text);
    assert_eq!(reply.json["status"], status, "{context}: {}", reply.text);
    if !valid {
        let fields = reply.json.as_object().map(|o| o.len());
        assert_eq!(fields, Some(4), "{context}: {}", reply.text);
        assert!(reply.json["message"].is_string(), "{context}");
    }
}

#[tokio::test]
async fn verify_keys_open_the_verification_api_and_nothing_else() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let verifier = verify_key(&backend.db, None).await;
        let client = api.create_client(&json!({ "name": "verify matrix" })).await;
        let client_id = str_field(&client, "id").to_owned();
        let key = api.create_key(&client_id, &json!({})).await;
        let key_text = str_field(&key, "key").to_owned();
        let key_id = str_field(&key, "id").to_owned();

        // Every other authenticated operation refuses the verify key.
        for operation in OPERATIONS {
            if operation.auth == Auth::None || operation.path == "/v1/verify" {
                continue;
            }
            let path = operation
                .path
                .replace("{client_id}", &client_id)
                .replace("{key_id}", &key_id)
                .replace("{env}", "live");
            let method = Method::from_bytes(operation.method.as_bytes()).expect("method");
            let body = json!({ "name": "x" });
            let body = (method == Method::POST || method == Method::PATCH).then_some(&body);
            let reply = api
                .send(request(method, &path, Some(bearer(&verifier)), body))
                .await;
            let context = format!("[{ctx}] verify key on {} {path}", operation.method);
            assert_error(
                &reply,
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                &context,
            );
        }

        let body = json!({ "credential": key_text });
        // Verify keys and admin keys may verify; the answer is the same.
        for (what, caller) in [("verify key", &verifier), ("admin key", &api.admin)] {
            let reply = verify_with(&api, caller, &body).await;
            assert_verdict(&reply, true, "valid", 200, &format!("[{ctx}] {what}"));
        }
        // Anyone else may not.
        let expired_verifier = verify_key(&backend.db, Some(clock::now_secs() - 60)).await;
        let verify_scope_elsewhere = store_key(&backend.db, &client_id, &[scope::VERIFY], None)
            .await
            .expose()
            .to_owned();
        for (what, authorization, status, code) in [
            (
                "no key",
                None,
                StatusCode::UNAUTHORIZED,
                "missing_credential",
            ),
            (
                "expired verify key",
                Some(bearer(&expired_verifier)),
                StatusCode::UNAUTHORIZED,
                "expired",
            ),
            (
                "a client's key",
                Some(bearer(&key_text)),
                StatusCode::FORBIDDEN,
                "insufficient_scope",
            ),
            (
                "verify scope outside the admin client",
                Some(bearer(&verify_scope_elsewhere)),
                StatusCode::FORBIDDEN,
                "insufficient_scope",
            ),
        ] {
            let reply = api
                .send(request(
                    Method::POST,
                    "/v1/verify",
                    authorization,
                    Some(&body),
                ))
                .await;
            assert_error(&reply, status, code, &format!("[{ctx}] {what}"));
            assert!(
                !reply.text.contains("kg_"),
                "[{ctx}] {what}: {}",
                reply.text
            );
        }
        backend.finish().await;
    }
}

#[tokio::test]
async fn answers_as_the_edge_decides() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let verifier = verify_key(&backend.db, None).await;
        let client = api
            .create_client(&json!({ "name": "verify answers" }))
            .await;
        let client_id = str_field(&client, "id").to_owned();
        let key = api
            .create_key(
                &client_id,
                &json!({ "scopes": ["GET:/v1/reports"], "expires_in": 3_600 }),
            )
            .await;
        let expires_at = key["expires_at"].as_i64().expect("expires_at");
        let key_text = str_field(&key, "key").to_owned();
        let key_id = str_field(&key, "id").to_owned();
        let publishable = api
            .create_key(&client_id, &json!({ "type": "publishable" }))
            .await;
        let publishable_text = str_field(&publishable, "key").to_owned();
        let revoked = api.create_key(&client_id, &json!({})).await;
        let revoked_text = str_field(&revoked, "key").to_owned();
        let reply = api
            .post(
                &format!("/v1/keys/{}/revoke", str_field(&revoked, "id")),
                &json!({}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "[{ctx}] {}", reply.text);
        let now = clock::now_secs();
        let token = |aud: &str, iat: i64| {
            let key = shared::key::AccessKey::parse(&key_text).expect("parses");
            let pair = shared::signing::SigningKeyPair::derive(&key).expect("secret");
            shared::jwt::mint(
                &pair,
                &shared::jwt::MintClaims {
                    client_id: &client_id,
                    audience: aud,
                    issued_at: iat,
                    ttl: 300,
                    jti: "verify-test",
                },
            )
        };
        let edge = control_plane::config::DEFAULT_VERIFY_AUDIENCE;
        let basic = format!(
            "Basic {}",
            shared::b64::encode_standard(format!("{key_text}:").as_bytes())
        );
        let reports = "/v1/reports/7";
        #[rustfmt::skip]
        let cases: Vec<(&str, Value, bool, &str, u16)> = vec![
            ("static key", json!({ "credential": key_text, "path": reports }), true, "valid", 200),
            ("Authorization value", json!({ "credential": format!("Bearer {key_text}"), "path": reports }), true, "valid", 200),
            ("Basic key:", json!({ "credential": basic, "path": reports }), true, "valid", 200),
            ("outside its scopes", json!({ "credential": key_text, "path": "/v1/admin" }), false, "insufficient_scope", 403),
            ("default method and path", json!({ "credential": key_text }), false, "insufficient_scope", 403),
            ("method exactly as sent", json!({ "credential": key_text, "method": "get", "path": reports }), false, "insufficient_scope", 403),
            ("JWT", json!({ "credential": token(edge, now), "path": reports }), true, "valid", 200),
            ("JWT for another audience", json!({ "credential": token("https://other.example", now), "path": reports }), false, "invalid_token", 401),
            ("JWT, audience given", json!({ "credential": token("https://other.example", now), "path": reports, "audience": "https://other.example/" }), true, "valid", 200),
            ("expired JWT", json!({ "credential": token(edge, now - 1_000), "path": reports }), false, "expired", 401),
            ("publishable GET", json!({ "credential": publishable_text }), true, "valid", 200),
            ("publishable POST", json!({ "credential": publishable_text, "method": "POST" }), false, "publishable_read_only", 403),
            ("revoked key", json!({ "credential": revoked_text }), false, "revoked", 401),
            ("garbage", json!({ "credential": "garbage" }), false, "malformed_credential", 401),
            ("empty", json!({ "credential": "" }), false, "missing_credential", 401),
            ("Basic with a password", json!({ "credential": format!("Basic {}", shared::b64::encode_standard(format!("{key_text}:pw").as_bytes())) }), false, "malformed_credential", 401),
            ("admin key (never at the edge)", json!({ "credential": api.admin }), false, "invalid_credential", 401),
            ("verify key (never at the edge)", json!({ "credential": verifier }), false, "invalid_credential", 401),
        ];
        for (what, body, valid, code, status) in &cases {
            let reply = verify_with(&api, &verifier, body).await;
            let context = format!("[{ctx}] {what}");
            assert_verdict(&reply, *valid, code, *status, &context);
            if *valid && *code == "valid" && reply.json["key_id"] == key_id.as_str() {
                let auth = if what.contains("JWT") {
                    "jwt"
                } else {
                    "static"
                };
                let expected = json!({
                    "valid": true, "code": "valid", "status": 200, "client_id": client_id,
                    "key_id": key_id, "env": "live", "key_type": "secret", "auth": auth,
                    "scopes": ["GET:/v1/reports"],
                    "expires_at": if auth == "jwt" { now + 300 } else { expires_at },
                });
                assert_eq!(reply.json, expected, "{context}");
            }
            assert!(!reply.text.contains("kg_"), "{context}: echoes a key");
        }
        backend.finish().await;
    }
}

/// (what, Content-Type, body, status, code)
type BodyCase = (
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    StatusCode,
    &'static str,
);

#[tokio::test]
async fn bad_bodies_are_the_callers_mistake() {
    for backend in backends().await {
        let api = Api::with_state(
            &backend,
            AppState::new(backend.db.clone(), KeyPolicy::default()),
        )
        .await;
        let ctx = backend.label;
        let verifier = verify_key(&backend.db, None).await;
        let send = |content_type: Option<&'static str>, body: Vec<u8>| {
            let mut builder = Request::builder()
                .method(Method::POST)
                .uri("/v1/verify")
                .header(header::AUTHORIZATION, bearer(&verifier));
            if let Some(content_type) = content_type {
                builder =
                    builder.header(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            }
            api.send(builder.body(Body::from(body)).expect("request"))
        };
        let json_type = Some("application/json");
        #[rustfmt::skip]
        let cases: Vec<BodyCase> = vec![
            ("not JSON", json_type, b"{".to_vec(), StatusCode::BAD_REQUEST, "bad_request"),
            ("no credential", json_type, b"{}".to_vec(), StatusCode::BAD_REQUEST, "bad_request"),
            ("credential not a string", json_type, br#"{"credential":7}"#.to_vec(), StatusCode::BAD_REQUEST, "bad_request"),
            ("an array", json_type, b"[]".to_vec(), StatusCode::BAD_REQUEST, "bad_request"),
            ("bad method", json_type, br#"{"credential":"x","method":"G T"}"#.to_vec(), StatusCode::BAD_REQUEST, "bad_request"),
            ("empty method", json_type, br#"{"credential":"x","method":""}"#.to_vec(), StatusCode::BAD_REQUEST, "bad_request"),
            ("relative path", json_type, br#"{"credential":"x","path":"v1"}"#.to_vec(), StatusCode::BAD_REQUEST, "bad_request"),
            ("path with a query", json_type, br#"{"credential":"x","path":"/a?b"}"#.to_vec(), StatusCode::BAD_REQUEST, "bad_request"),
            ("bad audience", json_type, br#"{"credential":"x","audience":"edge"}"#.to_vec(), StatusCode::BAD_REQUEST, "bad_request"),
            ("no content type", None, br#"{"credential":"x"}"#.to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ("text/plain", Some("text/plain"), br#"{"credential":"x"}"#.to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ("too large", json_type, format!(r#"{{"credential":"{}"}}"#, "a".repeat(70_000)).into_bytes(), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        ];
        for (what, content_type, body, status, code) in cases {
            let reply = send(content_type, body).await;
            assert_error(&reply, status, code, &format!("[{ctx}] {what}"));
        }
        // A long credential is the edge's refusal, not a failed call.
        let long = json!({ "credential": "a".repeat(9_000) });
        let reply = verify_with(&api, &verifier, &long).await;
        assert_verdict(
            &reply,
            false,
            "malformed_credential",
            401,
            &format!("[{ctx}] long"),
        );
        backend.finish().await;
    }
}

#[tokio::test]
async fn a_token_of_a_revoked_client_and_a_disabled_client() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let verifier = verify_key(&backend.db, None).await;
        let client = api.create_client(&json!({ "name": "verify state" })).await;
        let client_id = str_field(&client, "id").to_owned();
        let key = api.create_key(&client_id, &json!({})).await;
        let key_text = str_field(&key, "key").to_owned();
        let now = clock::now_secs();
        let token = {
            let key = shared::key::AccessKey::parse(&key_text).expect("parses");
            let pair = shared::signing::SigningKeyPair::derive(&key).expect("secret");
            shared::jwt::mint(
                &pair,
                &shared::jwt::MintClaims {
                    client_id: &client_id,
                    audience: "https://edge.example",
                    issued_at: now,
                    ttl: 300,
                    jti: "verify-test",
                },
            )
        };
        let body = json!({ "credential": token, "audience": "https://edge.example" });
        assert_verdict(
            &verify_with(&api, &verifier, &body).await,
            true,
            "valid",
            200,
            ctx,
        );
        let reply = api
            .post(
                &format!("/v1/clients/{client_id}/revoke-tokens"),
                &json!({}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "[{ctx}] {}", reply.text);
        let reply = verify_with(&api, &verifier, &body).await;
        assert_verdict(
            &reply,
            false,
            "revoked",
            401,
            &format!("[{ctx}] revoke-tokens"),
        );
        // The static key still works, until its client is disabled.
        let static_body = json!({ "credential": key_text });
        assert_verdict(
            &verify_with(&api, &verifier, &static_body).await,
            true,
            "valid",
            200,
            ctx,
        );
        let reply = api
            .call(
                Method::PATCH,
                &format!("/v1/clients/{client_id}"),
                Some(&json!({ "disabled": true })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "[{ctx}] {}", reply.text);
        let reply = verify_with(&api, &verifier, &static_body).await;
        assert_verdict(
            &reply,
            false,
            "client_disabled",
            403,
            &format!("[{ctx}] disabled"),
        );
        backend.finish().await;
    }
}

#[tokio::test]
async fn a_revoked_verify_key_stops_within_the_cache_window() {
    for backend in backends().await {
        let ctx = backend.label;
        for ttl in [0, 5] {
            let policy = control_plane::config::VerifyPolicy {
                verify_caller_cache_ttl: ttl,
                ..Default::default()
            };
            let state =
                AppState::new(backend.db.clone(), KeyPolicy::default()).with_verify_policy(policy);
            let api = Api::with_state(&backend, state).await;
            let verifier = verify_key(&backend.db, None).await;
            let verifier_id = shared::key::AccessKey::parse(&verifier)
                .expect("parses")
                .key_id()
                .to_owned();
            let body = json!({ "credential": "garbage" });
            let reply = verify_with(&api, &verifier, &body).await;
            assert_verdict(&reply, false, "malformed_credential", 401, ctx);
            let reply = api
                .post(&format!("/v1/keys/{verifier_id}/revoke"), &json!({}))
                .await;
            assert_eq!(reply.status, StatusCode::OK, "[{ctx}] {}", reply.text);
            let reply = verify_with(&api, &verifier, &body).await;
            if ttl == 0 {
                assert_error(&reply, StatusCode::UNAUTHORIZED, "revoked", ctx);
            } else {
                // Remembered for up to `ttl` seconds: the documented window.
                assert_eq!(reply.status, StatusCode::OK, "[{ctx}] {}", reply.text);
            }
        }
        backend.finish().await;
    }
}
