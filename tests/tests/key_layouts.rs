//! Both key layouts through the real edge (workerd), statically and signed:
//! keys that carry their client id, and legacy keys issued before they did.
//! And the security argument of the README ("nothing trusts the client
//! segment"): a key whose segment names another client gets that client
//! nothing; tokens are bound to the client the `kid` record names.

use keygate_tests::{eventually, now_secs, Edge, Options};
use reqwest::StatusCode;
use serde_json::Value;
use shared::{
    jwt::{mint, MintClaims},
    key::{AccessKey, KeyType},
    signing::SigningKeyPair,
};

const CLIENT: &str = "cl_layouts";

async fn get(edge: &Edge, credential: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}/v1/layouts", edge.url))
        .bearer_auth(credential)
        .send()
        .await
        .expect("edge reachable");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn token(edge: &Edge, key: &AccessKey, client_id: &str) -> String {
    let pair = SigningKeyPair::derive(key).unwrap();
    mint(
        &pair,
        &MintClaims {
            client_id,
            audience: &edge.url,
            issued_at: now_secs(),
            ttl: 120,
            jti: key.key_id(),
        },
    )
}

fn client_header(body: &Value) -> Option<&str> {
    body["headers"]["x-keygate-client-id"].as_str()
}

#[tokio::test(flavor = "multi_thread")]
async fn both_layouts_work_and_the_client_segment_is_not_trusted() {
    let edge = Edge::start("key-layouts", &Options::default());
    let current =
        AccessKey::from_entropy(KeyType::Secret, "live", Some(CLIENT), [1; 12], &[1; 32]).unwrap();
    let legacy = AccessKey::from_entropy(KeyType::Secret, "live", None, [2; 12], &[2; 32]).unwrap();
    let lying =
        AccessKey::from_entropy(KeyType::Secret, "live", Some("cl_other"), [3; 12], &[3; 32])
            .unwrap();
    assert_eq!(current.client_id().as_deref(), Some(CLIENT));
    assert!(legacy.is_legacy());
    for key in [&current, &legacy, &lying] {
        edge.publish_secret_key(key, CLIENT).await;
    }
    eventually("the records are readable", async || {
        get(&edge, current.expose()).await.0 == StatusCode::OK
    })
    .await;

    // Static use, both layouts: the identity comes from the record.
    for key in [&current, &legacy, &lying] {
        let (status, body) = get(&edge, key.expose()).await;
        assert_eq!(status, StatusCode::OK, "{key:?}");
        assert_eq!(client_header(&body), Some(CLIENT), "{key:?}");
    }

    // Signed use: a current key signs with the client id it carries; a
    // legacy key with the client id its holder supplies.
    let carried = current.client_id().unwrap();
    for (key, client) in [(&current, carried.as_str()), (&legacy, CLIENT)] {
        let (status, body) = get(&edge, &token(&edge, key, client)).await;
        assert_eq!(status, StatusCode::OK, "{key:?}");
        assert_eq!(client_header(&body), Some(CLIENT));
        assert_eq!(body["headers"]["x-keygate-auth"].as_str(), Some("jwt"));
    }

    // A key whose segment names another client: tokens claiming that client
    // are refused (the kid record binds the key to CLIENT), and a legacy key
    // signing for a client that is not its own is refused too.
    let claimed = lying.client_id().unwrap();
    assert_eq!(claimed, "cl_other");
    for (key, client) in [(&lying, claimed.as_str()), (&legacy, "cl_other")] {
        let (status, body) = get(&edge, &token(&edge, key, client)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(body["error"]["code"].as_str(), Some("invalid_token"));
    }

    // A segment edited in transit is a different string: the CRC-32 refuses
    // it offline.
    let edited = current.expose().replacen("_layouts_", "_other_", 1);
    let (status, body) = get(&edge, &edited).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"].as_str(), Some("malformed_credential"));
}
