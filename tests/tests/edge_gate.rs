//! The edge's rules, through real workerd: JWTs, query and Basic credentials,
//! scopes and publishable keys, public paths and CORS preflights, the
//! origin signature, streaming, fail-closed KV, and no 5xx for any input.

use std::time::Duration;

use keygate_tests::{eventually, Edge, Options, Stack};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use shared::key::{AccessKey, KeyType};
use shared::record::{static_key_kv_name, StaticKeyRecord, RECORD_VERSION};

const SECRET: &str = "origin-signing-secret-for-tests";

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn send(method: Method, url: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Reply {
    let mut request = reqwest::Client::new().request(method, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("edge reachable");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(url: &str, authorization: &str) -> Reply {
    send(Method::GET, url, &[("authorization", authorization)], None).await
}

fn code(reply: &Reply) -> (StatusCode, &str) {
    (
        reply.status,
        reply.body["error"]["code"].as_str().unwrap_or("<none>"),
    )
}

fn key_of(created: &Value) -> (String, String) {
    (
        created["key"].as_str().unwrap().to_owned(),
        created["id"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gate_through_workerd() {
    let options = Options {
        vars: vec![
            ("ALLOW_QUERY_PARAM".into(), "true".into()),
            ("PUBLIC_PATHS".into(), "/public".into()),
            ("CLOCK_SKEW".into(), "0".into()),
        ],
        signing_secret: Some(SECRET.to_owned()),
        ..Options::default()
    };
    let stack = Stack::start_with("gate", &options);
    let edge = stack.edge.clone();
    let client = stack.cli_json(&["client", "create", "--name", "gate"]);
    let client_id = client["id"].as_str().unwrap().to_owned();
    let (secret, secret_id) = key_of(&stack.cli_json(&["key", "create", "--client", &client_id]));
    let (scoped, _) = key_of(&stack.cli_json(&[
        "key",
        "create",
        "--client",
        &client_id,
        "--scope",
        "GET,HEAD:/v1/reports",
        "--scope",
        "POST:/v1/events",
    ]));
    let (publishable, publishable_id) = key_of(&stack.cli_json(&[
        "key",
        "create",
        "--client",
        &client_id,
        "--type",
        "publishable",
    ]));
    let bearer = format!("Bearer {secret}");
    eventually("keys published", async || {
        get(&format!("{edge}/x"), &bearer).await.status == StatusCode::OK
    })
    .await;

    // Static key: identity headers, and a signature the origin (JavaScript) accepts.
    let ok = get(&format!("{edge}/v1/a?b=1"), &bearer).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["headers"]["x-keygate-key-id"], secret_id.as_str());
    assert_eq!(ok.body["signature"], "valid", "{}", ok.body);

    // JWT: minted by the CLI, verified at the edge, identity says jwt; reuse hits the cache.
    let token = stack.cli(&[
        "token", "mint", "--key", &secret, "--aud", &edge, "--client", &client_id, "--ttl", "60",
    ]);
    let jwt_bearer = format!("Bearer {token}");
    for _ in 0..3 {
        let reply = get(&format!("{edge}/v1/jwt"), &jwt_bearer).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["headers"]["x-keygate-auth"], "jwt");
        assert_eq!(
            reply.body["headers"]["x-keygate-key-id"],
            secret_id.as_str()
        );
        assert_eq!(reply.body["signature"], "valid");
    }
    let mut tampered = token.clone();
    tampered.replace_range(tampered.len() - 5.., "AAAAA");
    assert_eq!(
        code(&get(&format!("{edge}/"), &format!("Bearer {tampered}")).await),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    let challenge = get(&format!("{edge}/"), &format!("Bearer {tampered}"))
        .await
        .headers;
    assert!(challenge["www-authenticate"]
        .to_str()
        .unwrap()
        .contains(r#"error="invalid_token""#));
    let wrong_aud = stack.cli(&[
        "token",
        "mint",
        "--key",
        &secret,
        "--aud",
        "https://elsewhere.example",
        "--client",
        &client_id,
    ]);
    assert_eq!(
        code(&get(&format!("{edge}/"), &format!("Bearer {wrong_aud}")).await),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    // The CLI refuses to sign for a client that is not the key's; a holder
    // with any JOSE library can, and the edge refuses that.
    let other_client = shared::jwt::mint(
        &shared::signing::SigningKeyPair::derive(&AccessKey::parse(&secret).unwrap()).unwrap(),
        &shared::jwt::MintClaims {
            client_id: "cl_someoneelse",
            audience: &edge,
            issued_at: keygate_tests::now_secs(),
            ttl: 60,
            jti: "someoneelse",
        },
    );
    assert_eq!(
        code(&get(&format!("{edge}/"), &format!("Bearer {other_client}")).await),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    let short = stack.cli(&[
        "token", "mint", "--key", &secret, "--aud", &edge, "--client", &client_id, "--ttl", "1",
    ]);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        code(&get(&format!("{edge}/"), &format!("Bearer {short}")).await),
        (StatusCode::UNAUTHORIZED, "expired")
    );
    // Publishable keys cannot sign: no JWK is published under their id.
    let pretender = shared::signing::SigningKeyPair::from_seed([9; 32], &publishable_id);
    let now = keygate_tests::now_secs();
    let claims = shared::jwt::MintClaims {
        client_id: &client_id,
        audience: &edge,
        issued_at: now,
        ttl: 60,
        jti: "p",
    };
    let forged = shared::jwt::mint(&pretender, &claims);
    assert_eq!(
        code(&get(&format!("{edge}/"), &format!("Bearer {forged}")).await),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );

    // The client's revoked-before time refuses every earlier token at once;
    // a token issued afterwards works.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    stack.cli_json(&["client", "revoke-tokens", &client_id]);
    eventually("earlier tokens refused", async || {
        code(&get(&format!("{edge}/"), &jwt_bearer).await) == (StatusCode::UNAUTHORIZED, "revoked")
    })
    .await;
    // Tokens of the revocation's second and the next are refused too
    // (README, revocation): mint once that window (skew 0 here) has passed.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let fresh = stack.cli(&[
        "token", "mint", "--key", &secret, "--aud", &edge, "--client", &client_id,
    ]);
    assert_eq!(
        get(&format!("{edge}/"), &format!("Bearer {fresh}"))
            .await
            .status,
        StatusCode::OK
    );
    // The static key itself is untouched.
    assert_eq!(
        get(&format!("{edge}/"), &bearer).await.status,
        StatusCode::OK
    );

    // Query credential (allowed here): works, and is not forwarded.
    let reply = send(
        Method::GET,
        &format!("{edge}/q?apikey={secret}&keep=1"),
        &[],
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["query"], serde_json::json!({ "keep": "1" }));
    // Two different credentials: refused.
    let reply = send(
        Method::GET,
        &format!("{edge}/q?apikey={scoped}"),
        &[("authorization", &bearer)],
        None,
    )
    .await;
    assert_eq!(
        code(&reply),
        (StatusCode::UNAUTHORIZED, "malformed_credential")
    );

    // Scopes.
    let scoped_bearer = format!("Bearer {scoped}");
    assert_eq!(
        get(&format!("{edge}/v1/reports/7"), &scoped_bearer)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        code(&get(&format!("{edge}/v1/users"), &scoped_bearer).await),
        (StatusCode::FORBIDDEN, "insufficient_scope")
    );
    let post = send(
        Method::POST,
        &format!("{edge}/v1/reports"),
        &[("authorization", &scoped_bearer)],
        Some(vec![1]),
    )
    .await;
    assert_eq!(code(&post), (StatusCode::FORBIDDEN, "insufficient_scope"));
    let post = send(
        Method::POST,
        &format!("{edge}/v1/events"),
        &[("authorization", &scoped_bearer)],
        Some(vec![1]),
    )
    .await;
    assert_eq!(post.status, StatusCode::OK);
    assert_eq!(
        code(&get(&format!("{edge}/v1/reports/%2e%2e/admin"), &scoped_bearer).await).0,
        StatusCode::FORBIDDEN
    );

    // Publishable keys read, and nothing else.
    let pk = format!("Bearer {publishable}");
    let reply = get(&format!("{edge}/p"), &pk).await;
    assert_eq!(
        (
            reply.status,
            reply.body["headers"]["x-keygate-key-type"].as_str()
        ),
        (StatusCode::OK, Some("publishable"))
    );
    let write = send(
        Method::DELETE,
        &format!("{edge}/p"),
        &[("authorization", &pk)],
        None,
    )
    .await;
    assert_eq!(
        code(&write),
        (StatusCode::FORBIDDEN, "publishable_read_only")
    );

    // Public paths need no key, and carry no identity even if the caller forges one.
    let reply = send(
        Method::GET,
        &format!("{edge}/public/docs"),
        &[("x-keygate-client-id", "cl_forged")],
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body["headers"].get("x-keygate-client-id").is_none());
    assert_eq!(reply.body["signature"], "missing");
    assert_eq!(
        code(&send(Method::GET, &format!("{edge}/publicity"), &[], None).await).1,
        "missing_credential"
    );

    // CORS preflights pass without a key; other OPTIONS requests need one.
    let preflight = send(
        Method::OPTIONS,
        &format!("{edge}/v1/data"),
        &[
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
        ],
        None,
    )
    .await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert_eq!(preflight.body["method"], "OPTIONS");
    assert_eq!(
        send(Method::OPTIONS, &format!("{edge}/v1/data"), &[], None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // Bodies stream through unchanged, both ways (1 MiB).
    let upload: Vec<u8> = (0..1_048_576u32).map(|i| (i % 253) as u8).collect();
    let reply = send(
        Method::PUT,
        &format!("{edge}/upload"),
        &[("authorization", &bearer)],
        Some(upload.clone()),
    )
    .await;
    assert_eq!(reply.body["body_bytes"], 1_048_576);
    assert_eq!(reply.body["body_sha256"], sha256_hex(&upload));
    let download = reqwest::Client::new()
        .get(format!("{edge}/download"))
        .header("authorization", &bearer)
        .header("x-demo-response-bytes", "1048576")
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    let bytes = download.bytes().await.unwrap();
    assert_eq!(bytes.len(), 1_048_576);
    assert!(bytes.iter().enumerate().all(|(i, b)| *b == (i % 251) as u8));

    // Garbage never panics the worker: every answer is a JSON 4xx.
    let long = "x".repeat(20_000);
    let junk_headers: Vec<String> = vec![
        "Bearer".into(),
        "Bearer a.b.c".into(),
        "Bearer ...".into(),
        "Bearer eyJhbGciOiJub25lIn0.e30.".into(),
        format!("Bearer {long}"),
        "Basic %%%".into(),
        "Basic Og==".into(),
        "Digest x".into(),
        "Bearer kg_sk_live_".into(),
        "Bearer kg_pk_test_AAAAAAAAAAAAAAAAA_".into(),
        format!("Bearer {}", secret.replace("kg_sk", "kg_pk")),
    ];
    for header in &junk_headers {
        let reply = get(&format!("{edge}/"), header).await;
        assert!(
            reply.status.is_client_error(),
            "{header:.40}: {}",
            reply.status
        );
        assert!(reply.body["error"]["code"].is_string(), "{header:.40}");
    }

    // Revoking the key closes both static and signed use.
    stack.cli_json(&["key", "revoke", &secret_id]);
    eventually("revoked key refused", async || {
        code(&get(&format!("{edge}/"), &bearer).await) == (StatusCode::UNAUTHORIZED, "revoked")
    })
    .await;
    assert_eq!(
        code(&get(&format!("{edge}/"), &format!("Bearer {fresh}")).await),
        (StatusCode::UNAUTHORIZED, "revoked")
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    // The KeyHash is exactly lowercase hex SHA-256; reuse it rather than a second implementation.
    shared::key::KeyHash::of_bytes(bytes).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn kv_outage_fails_closed_and_https_is_enforced() {
    let broken = Edge::start(
        "kv-fault",
        &Options {
            kv_fault: true,
            ..Options::default()
        },
    );
    let key = AccessKey::from_entropy(KeyType::Secret, "live", None, [4; 12], &[4; 32]).unwrap();
    let reply = get(
        &format!("{}/", broken.url),
        &format!("Bearer {}", key.expose()),
    )
    .await;
    assert_eq!(
        code(&reply),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    );
    assert!(
        broken.log_eventually_contains("KV read failed"),
        "the log says why"
    );
    // A malformed key is still refused offline, before any KV read.
    let reply = get(&format!("{}/", broken.url), "Bearer kg_sk_live_nope").await;
    assert_eq!(
        code(&reply),
        (StatusCode::UNAUTHORIZED, "malformed_credential")
    );
    drop(broken);

    let strict = Edge::start(
        "https",
        &Options {
            vars: vec![
                ("REQUIRE_HTTPS".into(), "true".into()),
                ("ORIGIN_TEST".into(), String::new()),
            ],
            ..Options::default()
        },
    );
    let reply = get(
        &format!("{}/", strict.url),
        &format!("Bearer {}", key.expose()),
    )
    .await;
    assert_eq!(code(&reply), (StatusCode::FORBIDDEN, "https_required"));
    drop(strict);

    // A bad var: 503 misconfigured for every request, and the log names the var.
    let misconfigured = Edge::start(
        "misconfigured",
        &Options {
            vars: vec![("CACHE_TTL".into(), "-1".into())],
            ..Options::default()
        },
    );
    let reply = get(
        &format!("{}/", misconfigured.url),
        &format!("Bearer {}", key.expose()),
    )
    .await;
    assert_eq!(
        code(&reply),
        (StatusCode::SERVICE_UNAVAILABLE, "misconfigured")
    );
    assert!(
        misconfigured.log_eventually_contains("CACHE_TTL"),
        "the log names the variable"
    );
    drop(misconfigured);

    // A test key at an edge that serves no test origin: 403 wrong_environment.
    let live_only = Edge::start(
        "live-only",
        &Options {
            vars: vec![("ORIGIN_TEST".into(), String::new())],
            ..Options::default()
        },
    );
    let test_key =
        AccessKey::from_entropy(KeyType::Secret, "test", None, [6; 12], &[6; 32]).unwrap();
    let record = StaticKeyRecord {
        v: RECORD_VERSION,
        client_id: "cl_x".into(),
        key_id: test_key.key_id().into(),
        env: "test".into(),
        key_type: KeyType::Secret,
        scopes: vec![],
        expires_at: None,
        revoked_at: None,
        client_disabled: false,
        rev: 1,
    };
    live_only
        .put_kv(&[(static_key_kv_name(&test_key.hash()), record.encode())])
        .await;
    let reply = get(
        &format!("{}/", live_only.url),
        &format!("Bearer {}", test_key.expose()),
    )
    .await;
    assert_eq!(code(&reply), (StatusCode::FORBIDDEN, "wrong_environment"));
    // An expired record: 401 expired.
    let expired_key =
        AccessKey::from_entropy(KeyType::Secret, "live", None, [7; 12], &[7; 32]).unwrap();
    let expired = StaticKeyRecord {
        key_id: expired_key.key_id().into(),
        env: "live".into(),
        expires_at: Some(1),
        ..record
    };
    live_only
        .put_kv(&[(static_key_kv_name(&expired_key.hash()), expired.encode())])
        .await;
    let reply = get(
        &format!("{}/", live_only.url),
        &format!("Bearer {}", expired_key.expose()),
    )
    .await;
    assert_eq!(code(&reply), (StatusCode::UNAUTHORIZED, "expired"));
}
