//! Operations: /healthz, /metrics and /openapi.json (checked against the router both ways).
//!
//! In-process HTTP tests of the control-plane API: `app(state)` driven with
//! `oneshot`, each test once on SQLite and, when `DATABASE_URL` points at
//! PostgreSQL, once on PostgreSQL (see `support`).

mod support;

use axum::http::{Method, StatusCode};
use serde_json::json;

use support::{backends, bearer, request, str_field, Api};

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
            control_plane::openapi::Auth::Admin | control_plane::openapi::Auth::Verifier => {
                Some(bearer(&api.admin))
            }
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
