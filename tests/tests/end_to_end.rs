//! The skeleton path through real processes: the `keygate` CLI mints a key
//! through the control plane, the publisher pushes its hash through the KV
//! REST API into workerd's KV, the worker verifies `curl`-style requests and
//! forwards them to the demo origin, and a revocation closes the door again.

use std::time::Instant;

use keygate_tests::{eventually, Stack};
use reqwest::StatusCode;
use serde_json::Value;
use shared::key::KeyType;

async fn get(
    http: &reqwest::Client,
    url: &str,
    authorization: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = http.get(url);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.expect("edge reachable");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn key_created_with_the_cli_opens_the_edge_until_revoked() {
    let stack = Stack::start("skeleton");
    let http = reqwest::Client::new();
    let edge = &stack.edge;

    let client = stack.cli_json(&["client", "create", "--name", "e2e", "--owner", "org_e2e"]);
    let client_id = client["id"].as_str().expect("client id");
    let live = stack.cli_json(&["key", "create", "--client", client_id, "--env", "live"]);
    let test = stack.cli_json(&["key", "create", "--client", client_id, "--env", "test"]);
    let live_key = live["key"].as_str().expect("key text").to_owned();
    let live_id = live["id"].as_str().expect("key id").to_owned();
    let test_key = test["key"].as_str().expect("key text").to_owned();
    assert!(live_key.starts_with("kg_sk_live_") && live_key.contains(&live_id));
    let bearer = format!("Bearer {live_key}");

    // Published: the edge lets the live key through to the live origin.
    let echo = eventually("the live key to work at the edge", || async {
        let (status, _, body) = get(&http, &format!("{edge}/anything?x=1"), Some(&bearer)).await;
        (status == StatusCode::OK).then_some(body)
    })
    .await;
    assert_eq!(echo["origin"], "live");
    assert_eq!(echo["path"], "/anything");
    assert_eq!(echo["query"]["x"], "1");
    assert_eq!(echo["headers"]["x-keygate-client-id"], client_id);
    assert_eq!(echo["headers"]["x-keygate-key-id"], live_id.as_str());
    assert_eq!(echo["headers"]["x-keygate-env"], "live");
    assert_eq!(echo["headers"]["x-keygate-key-type"], "secret");
    assert_eq!(echo["headers"]["x-keygate-auth"], "static");
    assert!(
        echo["headers"].get("authorization").is_none(),
        "the credential must not reach the origin"
    );

    // `wait`: the create call returns once KV acknowledged the key, so its
    // very first request at the edge succeeds (no retry loop here).
    let waited: Value = reqwest::Client::new()
        .post(format!(
            "{}/v1/clients/{client_id}/keys?wait=10",
            stack.control_plane
        ))
        .bearer_auth(&stack.admin_key)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(waited["published"], true, "{waited}");
    let (status, _, _) = get(
        &http,
        &format!("{edge}/first"),
        Some(&format!("Bearer {}", waited["key"].as_str().unwrap())),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a waited-for key works at its first request"
    );

    // A key holder mints a JWT without knowing its client id: the CLI asks
    // the control plane (authenticating with the key itself).
    let token = stack.cli(&["token", "mint", "--key", &live_key, "--aud", edge]);
    let jwk_file = stack.dir.join("live.jwk");
    std::fs::write(&jwk_file, stack.cli(&["key", "jwk", &live_key])).unwrap();
    let claims: Value = serde_json::from_str(&stack.cli(&[
        "token",
        "verify",
        "--jwk",
        jwk_file.to_str().unwrap(),
        "--aud",
        edge,
        "--iss",
        client_id,
        &token,
    ]))
    .unwrap();
    assert_eq!(claims["sub"], client_id);

    // The control plane reports the key as published.
    let shown = stack.cli_json(&["key", "get", &live_id]);
    assert_eq!(shown["published"], true, "{shown}");

    // A caller cannot assert an identity of its own.
    let spoofed = http
        .get(format!("{edge}/spoof"))
        .header("authorization", &bearer)
        .header("x-keygate-client-id", "cl_attacker")
        .header("X-Keygate-Admin", "yes")
        .send()
        .await
        .expect("edge reachable");
    let spoofed: Value = spoofed.json().await.expect("echo json");
    assert_eq!(spoofed["headers"]["x-keygate-client-id"], client_id);
    assert!(spoofed["headers"].get("x-keygate-admin").is_none());

    // Test keys reach the test origin; Basic auth with the key as user name works.
    let basic = format!(
        "Basic {}",
        shared::b64::encode_standard(format!("{test_key}:").as_bytes())
    );
    let echo = eventually("the test key to work at the edge", || async {
        let (status, _, body) = get(&http, &format!("{edge}/t"), Some(&basic)).await;
        (status == StatusCode::OK).then_some(body)
    })
    .await;
    assert_eq!(echo["origin"], "test");
    assert_eq!(echo["headers"]["x-keygate-env"], "test");

    // No key, a malformed key, a well-formed unknown key: 401 with the JSON codes.
    let (status, headers, body) = get(&http, &format!("{edge}/anything"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "missing_credential");
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let (status, _, body) = get(
        &http,
        &format!("{edge}/anything"),
        Some(&format!("{bearer}x")),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("malformed_credential"))
    );
    let mut typo = live_key.clone().into_bytes();
    let i = typo.len() - 20;
    typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let (status, _, body) = get(
        &http,
        &format!("{edge}/anything"),
        Some(&format!("Bearer {typo}")),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("malformed_credential"))
    );
    // Well-formed, checksum valid, never issued: found nowhere in KV.
    let never_issued =
        shared::key::AccessKey::from_entropy(KeyType::Secret, "live", None, [7; 12], &[7; 32])
            .unwrap();
    let (status, _, body) = get(
        &http,
        &format!("{edge}/anything"),
        Some(&format!("Bearer {}", never_issued.expose())),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_credential"))
    );

    // The admin key is not an edge key.
    let (status, _, body) = get(
        &http,
        &format!("{edge}/anything"),
        Some(&format!("Bearer {}", stack.admin_key)),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_credential"))
    );

    // Revocation: from the CLI returning to the edge refusing the key.
    let started = Instant::now();
    let revoked = stack.cli_json(&["key", "revoke", &live_id]);
    assert_eq!(revoked["status"], "revoked");
    let body = eventually("the revoked key to be refused", || async {
        let (status, _, body) = get(&http, &format!("{edge}/anything"), Some(&bearer)).await;
        (status == StatusCode::UNAUTHORIZED).then_some(body)
    })
    .await;
    assert_eq!(body["error"]["code"], "revoked");
    println!(
        "revocation propagation (local, CLI return to edge refusal): {:?}",
        started.elapsed()
    );

    // The test key is untouched by revoking the live one.
    let (status, _, _) = get(&http, &format!("{edge}/t"), Some(&basic)).await;
    assert_eq!(status, StatusCode::OK);

    // Regenerate the test environment: the old test key is refused at the
    // edge, the new secret key works there.
    let regenerated =
        stack.cli_json(&["key", "regenerate", "--client", client_id, "--env", "test"]);
    let new_test_key = regenerated["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["type"] == "secret"))
        .and_then(|k| k["key"].as_str())
        .expect("a new secret key")
        .to_owned();
    let old_basic = basic.clone();
    let body = eventually("the regenerated-away key to be refused", || async {
        let (status, _, body) = get(&http, &format!("{edge}/t"), Some(&old_basic)).await;
        (status == StatusCode::UNAUTHORIZED).then_some(body)
    })
    .await;
    assert_eq!(body["error"]["code"], "revoked");
    let new_bearer = format!("Bearer {new_test_key}");
    let echo = eventually("the new test key to work", || async {
        let (status, _, body) = get(&http, &format!("{edge}/t"), Some(&new_bearer)).await;
        (status == StatusCode::OK).then_some(body)
    })
    .await;
    assert_eq!(echo["origin"], "test");

    // Disabling the client refuses its keys at the edge (403); enabling it
    // lets them through again.
    stack.cli_json(&["client", "disable", client_id]);
    let body = eventually("the disabled client's key to be refused", || async {
        let (status, _, body) = get(&http, &format!("{edge}/t"), Some(&new_bearer)).await;
        (status == StatusCode::FORBIDDEN).then_some(body)
    })
    .await;
    assert_eq!(body["error"]["code"], "client_disabled");
    stack.cli_json(&["client", "enable", client_id]);
    eventually("the enabled client's key to work again", || async {
        let (status, _, _) = get(&http, &format!("{edge}/t"), Some(&new_bearer)).await;
        (status == StatusCode::OK).then_some(())
    })
    .await;

    // Nothing secret was logged by the control plane.
    let log = stack.control_plane_log();
    for secret in [&live_key, &test_key, &new_test_key, &stack.admin_key] {
        assert!(
            !log.contains(secret.as_str()),
            "a key appears in the control-plane log"
        );
    }
    assert!(
        log.contains(&live_id),
        "the log should name keys by id (checks the log was captured)"
    );
}
