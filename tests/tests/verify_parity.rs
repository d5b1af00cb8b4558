//! One table of credentials, run through the real edge (workerd, records
//! from KV as the publisher wrote them) and through the control plane's
//! `POST /v1/verify` (records from the database) on the same stack: every
//! case must get the same code and status on both sides, and a valid one the
//! same identity. Static keys, Basic `key:`, JWTs, scopes, publishable keys,
//! revocation (key, client tokens), expiry, disabled clients, legacy keys.
//!
//! Not in the table, because only one side has them:
//! - `https_required`, public paths, CORS preflights, the `apikey` query
//!   parameter, two `Authorization` fields: properties of an HTTP request at
//!   the edge; the verification API is given one credential, not a request
//!   (`edge_gate.rs`, `edge_credentials.rs` test them at the edge);
//! - `wrong_environment`: whether the edge has an origin for the key's
//!   environment is the edge's routing, not the credential's validity (the
//!   API answers `valid` with `env`, the service decides);
//! - `unavailable`, `misconfigured`, `origin_unreachable`: infrastructure
//!   failures (the API answers them as its own 503, never as a verdict);
//! - a key expired more than a day ago: KV drops its record (the edge then
//!   says `invalid_credential`), the database still says `expired`.

use std::time::Duration;

use keygate_tests::{eventually, now_secs, Options, Stack};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shared::jwt::{mint, MintClaims};
use shared::key::{AccessKey, KeyType};
use shared::signing::SigningKeyPair;

/// The edge's `AUDIENCE` and the control plane's `KEYGATE_VERIFY_AUDIENCE`.
const AUDIENCE: &str = "https://parity.edge.example";

/// What one side said: status, code, and for a valid credential the identity
/// (client, key, env, key type, auth).
type Answer = (u16, String, Option<[String; 5]>);

struct Sides {
    edge: String,
    control_plane: String,
    verify_key: String,
    http: reqwest::Client,
}

impl Sides {
    async fn edge(&self, method: &Method, path: &str, authorization: Option<&str>) -> Answer {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.edge));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.expect("edge reachable");
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status == 200 {
            let header = |name: &str| body["headers"][name].as_str().unwrap_or("").to_owned();
            let identity = [
                header("x-keygate-client-id"),
                header("x-keygate-key-id"),
                header("x-keygate-env"),
                header("x-keygate-key-type"),
                header("x-keygate-auth"),
            ];
            return (200, "valid".to_owned(), Some(identity));
        }
        let code = body["error"]["code"]
            .as_str()
            .unwrap_or("<none>")
            .to_owned();
        (status, code, None)
    }

    async fn verify(&self, method: &Method, path: &str, credential: &str) -> Answer {
        let response = self
            .http
            .post(format!("{}/v1/verify", self.control_plane))
            .bearer_auth(&self.verify_key)
            .json(&json!({ "credential": credential, "method": method.as_str(), "path": path }))
            .send()
            .await
            .expect("control plane reachable");
        assert_eq!(response.status(), StatusCode::OK, "verify call failed");
        let body: Value = response.json().await.expect("JSON");
        let field = |name: &str| body[name].as_str().unwrap_or("").to_owned();
        let status = body["status"].as_u64().unwrap_or(0) as u16;
        let identity = (body["valid"] == true).then(|| {
            [
                field("client_id"),
                field("key_id"),
                field("env"),
                field("key_type"),
                field("auth"),
            ]
        });
        (status, field("code"), identity)
    }
}

fn key_of(created: &Value) -> (String, String) {
    let field = |name: &str| created[name].as_str().expect(name).to_owned();
    (field("key"), field("id"))
}

fn token(pair: &SigningKeyPair, client_id: &str, audience: &str, iat: i64, ttl: i64) -> String {
    let claims = MintClaims {
        client_id,
        audience,
        issued_at: iat,
        ttl,
        jti: "parity",
    };
    mint(pair, &claims)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_edge_and_the_verification_api_give_the_same_answers() {
    // The control plane inherits the environment: its verify audience is the edge's.
    std::env::set_var("KEYGATE_VERIFY_AUDIENCE", AUDIENCE);
    let options = Options {
        vars: vec![("AUDIENCE".into(), AUDIENCE.into())],
        ..Options::default()
    };
    let stack = Stack::start_with("verify-parity", &options);
    let database_url = format!("sqlite://{}", stack.dir.join("keygate.db").display());
    let sides = Sides {
        edge: stack.edge.clone(),
        control_plane: stack.control_plane.clone(),
        verify_key: stack.verify_key(),
        http: reqwest::Client::new(),
    };

    let client_id = stack.cli_json(&["client", "create", "--name", "parity"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = |args: &[&str]| {
        let mut full = vec!["key", "create", "--client", &client_id];
        full.extend_from_slice(args);
        key_of(&stack.cli_json(&full))
    };
    let (secret, secret_id) = create(&[]);
    let (scoped, _) = create(&[
        "--scope",
        "GET,HEAD:/v1/reports",
        "--scope",
        "POST:/v1/events",
    ]);
    let (publishable, publishable_id) = create(&["--type", "publishable"]);
    let (test_env, _) = create(&["--env", "test"]);
    let (revoked, revoked_id) = create(&[]);
    let (expiring, _) = create(&["--expires-in", "1"]);
    let disabled_client = stack.cli_json(&["client", "create", "--name", "parity-off"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (disabled, _) = key_of(&stack.cli_json(&["key", "create", "--client", &disabled_client]));
    let revoked_tokens_client = stack.cli_json(&["client", "create", "--name", "parity-rt"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (rt_key, _) =
        key_of(&stack.cli_json(&["key", "create", "--client", &revoked_tokens_client]));
    let legacy = insert_legacy_key(&database_url, &client_id).await;

    let pair = |key: &str| SigningKeyPair::derive(&AccessKey::parse(key).unwrap()).unwrap();
    let now = now_secs();
    let rt_token = token(
        &pair(&rt_key),
        &revoked_tokens_client,
        AUDIENCE,
        now - 5,
        300,
    );
    let disabled_token = token(&pair(&disabled), &disabled_client, AUDIENCE, now, 300);
    let revoked_token = token(&pair(&revoked), &client_id, AUDIENCE, now, 300);

    // Everything published (the legacy key too, through the outbox).
    for key in [&secret, &publishable, &legacy, &disabled, &revoked, &rt_key] {
        eventually("keys published", async || {
            sides
                .edge(&Method::GET, "/x", Some(&format!("Bearer {key}")))
                .await
                .0
                == 200
        })
        .await;
    }
    // The state changes, then wait until the edge shows each of them.
    stack.cli_json(&["key", "revoke", &revoked_id]);
    stack.cli_json(&["client", "disable", &disabled_client]);
    stack.cli_json(&["client", "revoke-tokens", &revoked_tokens_client]);
    tokio::time::sleep(Duration::from_millis(2_100)).await; // `expiring` expires
    for (what, credential, code) in [
        ("revoked key", revoked.as_str(), "revoked"),
        ("disabled client", disabled.as_str(), "client_disabled"),
        ("revoke-tokens", rt_token.as_str(), "revoked"),
    ] {
        eventually(what, async || {
            sides
                .edge(&Method::GET, "/x", Some(&format!("Bearer {credential}")))
                .await
                .1
                == code
        })
        .await;
    }

    let secret_pair = pair(&secret);
    let now = now_secs();
    let valid_jwt = token(&secret_pair, &client_id, AUDIENCE, now, 300);
    let mut tampered = valid_jwt.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'Q' } else { 'A' });
    let mut typo = secret.clone().into_bytes();
    let end = typo.len() - 1;
    typo[end] = if typo[end] == b'A' { b'B' } else { b'A' };
    let typo = String::from_utf8(typo).unwrap();
    let unknown =
        AccessKey::from_entropy(KeyType::Secret, "live", Some(&client_id), [9; 12], &[9; 32])
            .unwrap()
            .expose()
            .to_owned();
    let unknown_kid = SigningKeyPair::from_seed([7; 32], "0123456789ABCDEFG");
    let publishable_signer = SigningKeyPair::from_seed([8; 32], &publishable_id);
    let basic = |userinfo: &str| {
        format!(
            "Basic {}",
            shared::b64::encode_standard(userinfo.as_bytes())
        )
    };
    let bearer = |text: &str| format!("Bearer {text}");
    let (get, post, delete) = (Method::GET, Method::POST, Method::DELETE);

    // (what, Authorization value, method, path)
    #[rustfmt::skip]
    let cases: Vec<(&str, String, &Method, &str)> = vec![
        ("static Bearer", bearer(&secret), &get, "/v1/x"),
        ("lowercase bearer", format!("bearer {secret}"), &get, "/v1/x"),
        ("Basic key:", basic(&format!("{secret}:")), &get, "/v1/x"),
        ("Basic with a password", basic(&format!("{secret}:pw")), &get, "/"),
        ("Basic without colon", basic(&secret), &get, "/"),
        ("Basic not base64", "Basic %%%".to_owned(), &get, "/"),
        ("Basic empty user", "Basic Og==".to_owned(), &get, "/"),
        ("Digest scheme", "Digest x".to_owned(), &get, "/"),
        ("Bearer garbage", bearer("garbage"), &get, "/"),
        ("truncated key", bearer("kg_sk_live_"), &get, "/"),
        ("checksum typo", bearer(&typo), &get, "/"),
        ("secret key retyped publishable", bearer(&secret.replace("kg_sk", "kg_pk")), &get, "/"),
        ("unknown well-formed key", bearer(&unknown), &get, "/"),
        ("long credential", bearer(&"x".repeat(9_000)), &get, "/"),
        ("revoked key", bearer(&revoked), &get, "/"),
        ("expired key", bearer(&expiring), &get, "/"),
        ("disabled client", bearer(&disabled), &get, "/"),
        ("test key", bearer(&test_env), &get, "/v1/x"),
        ("scope allows GET", bearer(&scoped), &get, "/v1/reports/7"),
        ("scope allows HEAD", bearer(&scoped), &Method::HEAD, "/v1/reports"),
        ("scope allows POST events", bearer(&scoped), &post, "/v1/events"),
        ("scope denies path", bearer(&scoped), &get, "/v1/users"),
        ("scope denies method", bearer(&scoped), &post, "/v1/reports"),
        ("scope denies traversal", bearer(&scoped), &get, "/v1/reports/%2e%2e/admin"),
        ("scope denies lookalike", bearer(&scoped), &get, "/v1/reportsX"),
        ("publishable GET", bearer(&publishable), &get, "/p"),
        ("publishable POST", bearer(&publishable), &post, "/p"),
        ("publishable DELETE", bearer(&publishable), &delete, "/p"),
        ("legacy key", bearer(&legacy), &get, "/v1/x"),
        ("legacy key JWT", bearer(&token(&pair(&legacy), &client_id, AUDIENCE, now, 300)), &get, "/v1/x"),
        ("JWT", bearer(&valid_jwt), &get, "/v1/x"),
        ("JWT POST", bearer(&valid_jwt), &post, "/v1/x"),
        ("JWT expired", bearer(&token(&secret_pair, &client_id, AUDIENCE, now - 1_000, 300)), &get, "/"),
        ("JWT wrong aud", bearer(&token(&secret_pair, &client_id, "https://elsewhere.example", now, 300)), &get, "/"),
        ("JWT wrong iss/sub", bearer(&token(&secret_pair, "cl_someoneelse", AUDIENCE, now, 300)), &get, "/"),
        ("JWT iat in the future", bearer(&token(&secret_pair, &client_id, AUDIENCE, now + 600, 300)), &get, "/"),
        ("JWT lifetime too long", bearer(&token(&secret_pair, &client_id, AUDIENCE, now, 7_200)), &get, "/"),
        ("JWT bad signature", bearer(&tampered), &get, "/"),
        ("JWT unknown kid", bearer(&token(&unknown_kid, &client_id, AUDIENCE, now, 300)), &get, "/"),
        ("JWT under a publishable key's kid", bearer(&token(&publishable_signer, &client_id, AUDIENCE, now, 300)), &get, "/"),
        ("JWT of a revoked key", bearer(&revoked_token), &get, "/"),
        ("JWT of a disabled client", bearer(&disabled_token), &get, "/"),
        ("JWT before revoke-tokens", bearer(&rt_token), &get, "/"),
        ("JWT three empty segments", bearer(".."), &get, "/"),
        ("JWT alg none", bearer("eyJhbGciOiJub25lIn0.e30."), &get, "/"),
        ("JWT a.b.c", bearer("a.b.c"), &get, "/"),
        ("JWT sent as Basic", basic(&format!("{valid_jwt}:")), &get, "/"),
    ];

    let mut mismatches = Vec::new();
    let mut codes = std::collections::BTreeSet::new();
    for (what, authorization, method, path) in &cases {
        let mut at_edge = sides.edge(method, path, Some(authorization)).await;
        let mut at_api = sides.verify(method, path, authorization).await;
        if **method == Method::HEAD {
            // No body to read the origin's echo of the identity from.
            (at_edge.2, at_api.2) = (None, None);
        }
        codes.insert(at_edge.1.clone());
        if at_edge != at_api {
            mismatches.push(format!("{what}: edge {at_edge:?}, verify {at_api:?}"));
        }
        // A bare Bearer credential is the same question.
        if let Some(bare) = authorization.strip_prefix("Bearer ") {
            let mut bare_answer = sides.verify(method, path, bare).await;
            if **method == Method::HEAD {
                bare_answer.2 = None;
            }
            if bare_answer != at_api {
                mismatches.push(format!("{what} (bare): {bare_answer:?} vs {at_api:?}"));
            }
        }
    }
    // No credential at all: the edge's missing_credential, the API's empty one.
    let at_edge = sides.edge(&get, "/", None).await;
    let at_api = sides.verify(&get, "/", "").await;
    if at_edge != at_api {
        mismatches.push(format!(
            "no credential: edge {at_edge:?}, verify {at_api:?}"
        ));
    }
    assert!(
        mismatches.is_empty(),
        "edge and /v1/verify disagree:\n{}",
        mismatches.join("\n")
    );
    // The table reaches every credential code the two sides share.
    for code in [
        "valid",
        "malformed_credential",
        "invalid_credential",
        "revoked",
        "expired",
        "client_disabled",
        "insufficient_scope",
        "publishable_read_only",
        "invalid_token",
    ] {
        assert!(codes.contains(code), "no case answered {code}: {codes:?}");
    }
    // The verify key itself is no credential at the edge, nor at the API.
    let key = sides.verify_key.clone();
    assert_eq!(
        sides.edge(&get, "/", Some(&bearer(&key))).await.1,
        "invalid_credential"
    );
    assert_eq!(sides.verify(&get, "/", &key).await.1, "invalid_credential");
    assert!(
        !stack.control_plane_log().contains(&secret),
        "the control plane logged a credential"
    );
    let _ = secret_id;
}

/// A key in the layout from before keys carried their client id, stored as
/// such keys were (a row through the store, published by the running
/// publisher from the outbox).
async fn insert_legacy_key(database_url: &str, client_id: &str) -> String {
    let db = control_plane::db::connect(database_url)
        .await
        .expect("database");
    let key = AccessKey::from_entropy(KeyType::Secret, "live", None, [5; 12], &[5; 32]).unwrap();
    assert_eq!(key.client_id(), None, "a legacy key");
    let public_jwk = SigningKeyPair::derive(&key).unwrap().public_jwk();
    control_plane::store::insert_key(
        &db.pool,
        &control_plane::store::NewKey {
            key_id: key.key_id().to_owned(),
            client_id: client_id.to_owned(),
            env: "live".to_owned(),
            key_type: "secret".to_owned(),
            name: Some("legacy".to_owned()),
            scopes: Vec::new(),
            key_hash: key.hash().to_string(),
            expires_at: None,
            public_jwk: Some(serde_json::to_string(&public_jwk).unwrap()),
        },
        "test:legacy",
        now_secs() * 1000,
    )
    .await
    .expect("insert")
    .expect("live client");
    db.pool.close().await;
    key.expose().to_owned()
}
