//! The Rust SDK (`sdk/rust`, crate `keygate-client`) as its users run it,
//! against the real stack (control plane, edge in workerd): the `call`
//! example's tokens pass the edge, the `origin` example behind the edge
//! accepts what the edge signs and refuses what it did not (sent around the
//! edge, or replayed with a header changed), and a key issued before keys
//! carried their client id works through the provider given that id.
//!
//! The examples are binaries `make build` builds
//! (`cargo build -p keygate-client --examples`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use keygate_tests::{eventually, free_port, repo_root, Options, Proc, Stack};
use serde_json::Value;
use shared::key::{AccessKey, KeyType};
use shared::record::{jwk_kv_name, static_key_kv_name, JwkRecord, StaticKeyRecord, RECORD_VERSION};
use shared::signing::SigningKeyPair;

const SECRET: &str = "origin-signing-secret-of-the-rust-sdk-test";

/// An example binary of `keygate-client`.
fn example(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    let path = target.join("debug/examples").join(name);
    assert!(
        path.exists(),
        "{} not found: run `cargo build -p keygate-client --examples` (make build does)",
        path.display()
    );
    path
}

/// Runs `call URL` with a key (and a client id for a legacy key).
fn call(url: &str, key: &str, audience: &str, client_id: Option<&str>) -> Output {
    let mut command = Command::new(example("call"));
    command
        .arg(url)
        .env("KEYGATE_ACCESS_KEY", key)
        .env("KEYGATE_AUDIENCE", audience)
        .env_remove("KEYGATE_CLIENT_ID");
    if let Some(client_id) = client_id {
        command.env("KEYGATE_CLIENT_ID", client_id);
    }
    command.output().expect("run the call example")
}

/// The identity the origin example echoed, once `call` succeeds.
async fn echoed_identity(url: &str, key: &str, audience: &str, client_id: Option<&str>) -> Value {
    eventually("the call example gets through the edge", async || {
        let output = call(url, key, audience, client_id);
        output
            .status
            .success()
            .then(|| serde_json::from_slice::<Value>(&output.stdout).expect("the echo is JSON"))
    })
    .await
}

/// The origin example on a free port, with the test's secret.
fn start_origin(dir: &Path) -> (Proc, String) {
    let mut command = Command::new(example("origin"));
    command
        .env("KEYGATE_ORIGIN_SIGNING_SECRET", SECRET)
        .env("KEYGATE_ORIGIN_PORT", free_port().to_string());
    let mut origin = Proc::spawn("rust-origin", command, dir);
    let ready = origin.wait_ready(Duration::from_secs(30));
    let url = ready
        .strip_prefix("READY origin=")
        .unwrap_or_else(|| panic!("unexpected READY line {ready:?}"))
        .to_owned();
    (origin, url)
}

async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("reachable");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_examples_through_the_real_edge() {
    let dir = std::env::temp_dir().join(format!("keygate-sdk-rust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_origin, origin_url) = start_origin(&dir);
    // Live keys reach the origin example; test keys the demo origin, whose
    // echo shows the headers the edge sends (to replay them below).
    let stack = Stack::start_with(
        "sdk-rust",
        &Options {
            signing_secret: Some(SECRET.to_owned()),
            vars: vec![("ORIGIN_LIVE".to_owned(), origin_url.clone())],
            ..Options::default()
        },
    );
    let edge = stack.edge.clone();
    let client = stack.cli_json(&["client", "create", "--name", "rust sdk"]);
    let client_id = client["id"].as_str().unwrap().to_owned();
    let created = stack.cli_json(&["key", "create", "--client", &client_id]);
    let (key, key_id) = (
        created["key"].as_str().unwrap(),
        created["id"].as_str().unwrap(),
    );

    // `call`: a token from the key alone, accepted by the edge; the origin
    // example checked the edge's signature and echoes who called.
    let echo = echoed_identity(&format!("{edge}/v1/orders?page=2"), key, &edge, None).await;
    assert_eq!(echo["path"], "/v1/orders", "{echo}");
    let identity = &echo["identity"];
    assert_eq!(identity["auth"], "jwt", "{echo}");
    assert_eq!(identity["client_id"], client_id.as_str());
    assert_eq!(identity["key_id"], key_id);
    assert_eq!(
        (identity["env"].as_str(), identity["key_type"].as_str()),
        (Some("live"), Some("secret"))
    );

    // The same origin, static key: the layer accepts that identity too.
    let (status, echo) = get(
        &format!("{edge}/v1/x"),
        &[("authorization", &format!("Bearer {key}"))],
    )
    .await;
    assert_eq!(
        (status, &echo["identity"]["auth"]),
        (200, &Value::from("static")),
        "{echo}"
    );

    // `call` fails loudly: a malformed key, a refused token.
    let output = call(&format!("{edge}/v1/x"), &key[..key.len() - 1], &edge, None);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a keygate access key"));
    let output = call(
        &format!("{edge}/v1/x"),
        key,
        "https://elsewhere.example",
        None,
    );
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("401"),
        "{output:?}"
    );

    refuses_what_the_edge_did_not_sign(&stack, &client_id, &origin_url).await;
    legacy_key_with_its_client_id(&stack, &client_id).await;
}

/// Around the edge, or replayed with a header changed: 401 from the layer.
async fn refuses_what_the_edge_did_not_sign(stack: &Stack, client_id: &str, origin: &str) {
    let forged = [
        ("x-keygate-client-id", client_id),
        ("x-keygate-key-id", "forged"),
        ("x-keygate-env", "live"),
        ("x-keygate-key-type", "secret"),
        ("x-keygate-auth", "static"),
    ];
    let (status, body) = get(&format!("{origin}/v1/orders"), &forged).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (401, &Value::from("edge_signature_missing")),
        "{body}"
    );

    // A genuine signature: what the edge sent the demo (test) origin.
    let created = stack.cli_json(&["key", "create", "--client", client_id, "--env", "test"]);
    let bearer = format!("Bearer {}", created["key"].as_str().unwrap());
    let edge_url = format!("{}/v1/orders", stack.edge);
    let echo = eventually("the test key is published", async || {
        let (status, echo) = get(&edge_url, &[("authorization", &bearer)]).await;
        (status == 200).then_some(echo)
    })
    .await;
    assert_eq!(echo["signature"], "valid", "the demo origin agrees: {echo}");
    let signed: Vec<(String, String)> = echo["headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| name.starts_with("x-keygate-"))
        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(signed.len(), 6, "{signed:?}");
    let replay = |changed: Option<(&str, &str)>| {
        signed
            .iter()
            .map(|(name, value)| match changed {
                Some((n, v)) if n == name => (name.clone(), v.to_owned()),
                _ => (name.clone(), value.clone()),
            })
            .collect::<Vec<_>>()
    };
    for (what, path, changed, code) in [
        ("as signed", "/v1/orders", None, None),
        (
            "other client",
            "/v1/orders",
            Some(("x-keygate-client-id", "cl_someone_else")),
            Some("edge_signature_invalid"),
        ),
        (
            "publishable",
            "/v1/orders",
            Some(("x-keygate-key-type", "publishable")),
            Some("edge_signature_invalid"),
        ),
        (
            "other path",
            "/v1/admin",
            None,
            Some("edge_signature_invalid"),
        ),
        (
            "old",
            "/v1/orders",
            Some((
                "x-keygate-signature",
                "t=1000000000,v1=0000000000000000000000000000000000000000000000000000000000000000",
            )),
            Some("edge_signature_stale"),
        ),
    ] {
        let headers = replay(changed);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let (status, body) = get(&format!("{origin}{path}"), &headers).await;
        match code {
            None => assert_eq!(status, 200, "{what}: {body}"),
            Some(code) => assert_eq!(
                (status, body["error"]["code"].as_str()),
                (401, Some(code)),
                "{what}: {body}"
            ),
        }
    }
}

/// A key of the old layout (no client segment), its records written to KV
/// as the control plane wrote them before: the provider needs the client id,
/// and with it the edge accepts its tokens.
async fn legacy_key_with_its_client_id(stack: &Stack, client_id: &str) {
    let legacy =
        AccessKey::from_entropy(KeyType::Secret, "live", None, [0x5a; 12], &[0xa5; 32]).unwrap();
    assert!(legacy.is_legacy());
    let record = StaticKeyRecord {
        v: RECORD_VERSION,
        client_id: client_id.to_owned(),
        key_id: legacy.key_id().to_owned(),
        env: "live".to_owned(),
        key_type: KeyType::Secret,
        scopes: Vec::new(),
        expires_at: None,
        revoked_at: None,
        client_disabled: false,
        rev: 1,
    };
    let jwk = SigningKeyPair::derive(&legacy).unwrap().public_jwk();
    stack
        .edge_stack
        .put_kv(&[
            (static_key_kv_name(&legacy.hash()), record.encode()),
            (
                jwk_kv_name(legacy.key_id()),
                JwkRecord::of_key(record, jwk).encode(),
            ),
        ])
        .await;
    let edge = &stack.edge;
    let url = format!("{edge}/v1/legacy");
    let output = call(&url, legacy.expose(), edge, None);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("predates"),
        "{output:?}"
    );
    let echo = echoed_identity(&url, legacy.expose(), edge, Some(client_id)).await;
    assert_eq!(echo["identity"]["auth"], "jwt", "{echo}");
    assert_eq!(echo["identity"]["key_id"], legacy.key_id());
    assert_eq!(echo["identity"]["client_id"], client_id);
}
