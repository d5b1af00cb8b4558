//! The origin layer and extractor, through `tower::ServiceExt::oneshot`:
//! every signature of `shared/tests/vectors/origin.json` is accepted with
//! the identity it signs, and a missing, tampered, stale or duplicated one
//! is refused with its code.

use std::path::PathBuf;
use std::time::Duration;

use axum::body::Body;
use axum::routing::{any, get};
use axum::{Json, Router};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use keygate_client::origin::{EdgeIdentity, EdgeIdentityLayer};
use serde_json::{json, Value};
use tower::ServiceExt;

fn vectors() -> Vec<Value> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/tests/vectors/origin.json");
    let parsed: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    parsed["vectors"].as_array().unwrap().clone()
}

async fn echo(identity: EdgeIdentity) -> Json<EdgeIdentity> {
    Json(identity)
}

fn app(layer: EdgeIdentityLayer) -> Router {
    Router::new()
        .route("/", any(echo))
        .route("/{*path}", any(echo))
        .layer(layer)
}

/// The request the edge would forward for `vector`, plus `extra` headers.
fn request(vector: &Value, path_and_query: &str, extra: &[(&str, &str)]) -> Request<Body> {
    let identity = &vector["identity"];
    let mut builder = Request::builder()
        .method(identity["method"].as_str().unwrap())
        .uri(path_and_query);
    for field in ["client_id", "key_id", "env", "key_type", "auth"] {
        let name = format!("x-keygate-{}", field.replace('_', "-"));
        if !extra.iter().any(|(n, _)| *n == name) {
            builder = builder.header(name, identity[field].as_str().unwrap());
        }
    }
    if !extra.iter().any(|(n, _)| *n == "x-keygate-signature") {
        builder = builder.header("x-keygate-signature", vector["header"].as_str().unwrap());
    }
    for (name, value) in extra {
        if !value.is_empty() {
            builder = builder.header(*name, *value);
        }
    }
    builder.body(Body::empty()).unwrap()
}

async fn send(app: Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn layer_at(vector: &Value, now: i64) -> EdgeIdentityLayer {
    EdgeIdentityLayer::new(vector["secret"].as_str().unwrap()).clock(move || now)
}

fn path(vector: &Value) -> &str {
    vector["identity"]["path"].as_str().unwrap()
}

#[tokio::test]
async fn every_vector_passes_with_its_identity() {
    let vectors = vectors();
    assert!(vectors.len() >= 3);
    for vector in &vectors {
        let t = vector["timestamp"].as_i64().unwrap();
        // The query is not signed: it does not matter.
        let target = format!("{}?page=2", path(vector));
        let (status, body) =
            send(app(layer_at(vector, t + 10)), request(vector, &target, &[])).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", vector["note"]);
        let identity = &vector["identity"];
        let expected = json!({
            "client_id": identity["client_id"], "key_id": identity["key_id"], "env": identity["env"],
            "key_type": identity["key_type"], "auth": identity["auth"],
        });
        assert_eq!(body, expected, "{}", vector["note"]);
    }
}

async fn refused(layer: EdgeIdentityLayer, request: Request<Body>) -> String {
    let (status, body) = send(app(layer), request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    body["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn missing_tampered_duplicated_or_foreign_signatures_are_refused() {
    let vector = &vectors()[0];
    let t = vector["timestamp"].as_i64().unwrap();
    let p = path(vector);
    let cases: Vec<(&str, Request<Body>, &str)> = vec![
        (
            "no signature",
            request(vector, p, &[("x-keygate-signature", "")]),
            "edge_signature_missing",
        ),
        (
            "other client",
            request(vector, p, &[("x-keygate-client-id", "cl_forged")]),
            "edge_signature_invalid",
        ),
        (
            "auth changed",
            request(vector, p, &[("x-keygate-auth", "jwt")]),
            "edge_signature_invalid",
        ),
        (
            "identity header gone",
            request(vector, p, &[("x-keygate-env", "")]),
            "edge_signature_invalid",
        ),
        (
            "other path",
            request(vector, "/v1/admin", &[]),
            "edge_signature_invalid",
        ),
        (
            "garbage",
            request(vector, p, &[("x-keygate-signature", "t=1,v1=zz")]),
            "edge_signature_invalid",
        ),
    ];
    for (case, request, code) in cases {
        assert_eq!(refused(layer_at(vector, t), request).await, code, "{case}");
    }
    // A second client id next to the signed one.
    let mut doubled = request(vector, p, &[]);
    doubled
        .headers_mut()
        .append("x-keygate-client-id", "cl_forged".parse().unwrap());
    assert_eq!(
        refused(layer_at(vector, t), doubled).await,
        "edge_signature_invalid"
    );
    // Another method than the one signed.
    let mut posted = request(vector, p, &[]);
    *posted.method_mut() = http::Method::DELETE;
    assert_eq!(
        refused(layer_at(vector, t), posted).await,
        "edge_signature_invalid"
    );
    // Another secret, or none at all.
    let other = EdgeIdentityLayer::new("another-secret").clock(move || t);
    assert_eq!(
        refused(other, request(vector, p, &[])).await,
        "edge_signature_invalid"
    );
    let empty = EdgeIdentityLayer::new("").clock(move || t);
    assert_eq!(
        refused(empty, request(vector, p, &[])).await,
        "edge_signature_invalid"
    );
}

#[tokio::test]
async fn old_signatures_are_stale_unless_max_age_allows_them() {
    let vector = &vectors()[0];
    let t = vector["timestamp"].as_i64().unwrap();
    let p = path(vector);
    // Default max age: 300 s, either side.
    for now in [t + 301, t - 301] {
        assert_eq!(
            refused(layer_at(vector, now), request(vector, p, &[])).await,
            "edge_signature_stale"
        );
    }
    let (status, _) = send(app(layer_at(vector, t + 300)), request(vector, p, &[])).await;
    assert_eq!(status, StatusCode::OK);
    let tight = layer_at(vector, t + 31).max_age(Duration::from_secs(30));
    assert_eq!(
        refused(tight, request(vector, p, &[])).await,
        "edge_signature_stale"
    );
    let loose = layer_at(vector, t + 3_000).max_age(Duration::from_secs(3_600));
    let (status, _) = send(app(loose), request(vector, p, &[])).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_nested_router_checks_the_path_as_it_arrived() {
    let vector = &vectors()[0];
    assert_eq!(path(vector), "/v1/orders");
    let t = vector["timestamp"].as_i64().unwrap();
    let app = Router::new().nest(
        "/v1",
        Router::new()
            .route("/orders", get(echo))
            .layer(layer_at(vector, t)),
    );
    let (status, body) = send(app, request(vector, "/v1/orders", &[])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn the_extractor_without_the_layer_refuses_and_never_fails_open() {
    let vector = &vectors()[0];
    let app = Router::new().route("/v1/orders", get(echo));
    let (status, body) = send(app, request(vector, "/v1/orders", &[])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "edge_signature_missing");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("EdgeIdentityLayer"));
    // Optional: None without the layer.
    let optional = Router::new().route(
        "/",
        get(|identity: Option<EdgeIdentity>| async move { identity.is_none().to_string() }),
    );
    let response = optional
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&bytes[..], b"true");
}

#[test]
fn debug_never_prints_the_secret() {
    let layer = EdgeIdentityLayer::new("super-secret-value");
    assert!(!format!("{layer:?}").contains("super-secret-value"));
}
