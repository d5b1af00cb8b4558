//! Validation: client mistakes get 4xx in the API's error format, never 500.
//!
//! In-process HTTP tests of the control-plane API: `app(state)` driven with
//! `oneshot`, each test once on SQLite and, when `DATABASE_URL` points at
//! PostgreSQL, once on PostgreSQL (see `support`).

mod support;

use axum::http::{Method, StatusCode};
use serde_json::json;

use support::{assert_error, backends, raw_request, request, str_field, Api};

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
