//! A KV record missing (or mistyping) a member that governs access is refused
//! at the edge, through real workerd, instead of read as its permissive
//! default (issue 9, defect 2, decoder part): without `scopes` a scoped key
//! became unrestricted, without `client_disabled` a disabled client's key
//! worked, without `revoked_at` a revoked key worked.

use keygate_tests::{Edge, Options};
use reqwest::StatusCode;
use serde_json::{Map, Value};
use shared::key::{AccessKey, KeyType};
use shared::record::{static_key_kv_name, StaticKeyRecord, RECORD_VERSION};

async fn call(edge: &Edge, method: reqwest::Method, path: &str, key: &AccessKey) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", edge.url))
        .bearer_auth(key.expose())
        .send()
        .await
        .expect("edge reachable");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The record the publisher would write for `key`: scoped to reads of
/// `/v1/reports`, its client enabled, not revoked.
fn record_for(key: &AccessKey) -> Map<String, Value> {
    let record = StaticKeyRecord {
        v: RECORD_VERSION,
        client_id: "cl_records".into(),
        key_id: key.key_id().into(),
        env: "live".into(),
        key_type: KeyType::Secret,
        scopes: vec!["GET:/v1/reports".into()],
        expires_at: None,
        revoked_at: None,
        client_disabled: false,
        rev: 1,
    };
    serde_json::from_str(&record.encode()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn records_missing_access_members_are_refused_at_the_edge() {
    let edge = Edge::start("records", &Options::default());
    let key = |seed: u8| {
        AccessKey::from_entropy(KeyType::Secret, "live", None, [seed; 12], &[seed; 32]).unwrap()
    };

    // The record as published: reads of /v1/reports only.
    let good = key(1);
    edge.put_kv(&[(
        static_key_kv_name(&good.hash()),
        Value::Object(record_for(&good)).to_string(),
    )])
    .await;
    assert_eq!(
        call(&edge, reqwest::Method::GET, "/v1/reports", &good)
            .await
            .0,
        200
    );
    let (status, body) = call(&edge, reqwest::Method::POST, "/v1/admin", &good).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("insufficient_scope"))
    );

    // The same record with one member removed or mistyped: never let through.
    let mut damaged: Vec<(String, AccessKey, Map<String, Value>)> = Vec::new();
    for (seed, member, replacement) in [
        (2, "scopes", None),
        (3, "scopes", Some(Value::Null)),
        (4, "client_disabled", None),
        (5, "revoked_at", None),
        (6, "expires_at", None),
        (7, "key_type", None),
        (8, "env", Some(Value::from(""))),
    ] {
        let key = key(seed);
        let mut record = record_for(&key);
        match replacement {
            None => record.remove(member),
            Some(value) => record.insert(member.to_owned(), value),
        };
        damaged.push((member.to_owned(), key, record));
    }
    let pairs: Vec<(String, String)> = damaged
        .iter()
        .map(|(_, key, record)| {
            (
                static_key_kv_name(&key.hash()),
                Value::Object(record.clone()).to_string(),
            )
        })
        .collect();
    edge.put_kv(&pairs).await;
    for (member, key, record) in &damaged {
        for (method, path) in [
            (reqwest::Method::POST, "/v1/admin"),
            (reqwest::Method::GET, "/v1/reports"),
        ] {
            // Refused, whatever the refusal (today 503 `unavailable`: a
            // record the edge cannot trust is like a KV failure).
            let (status, body) = call(&edge, method.clone(), path, key).await;
            assert!(
                StatusCode::from_u16(status)
                    .is_ok_and(|s| s.is_client_error() || s.is_server_error())
                    && body["error"]["code"].is_string(),
                "{member}: {method} {path} answered {status} {body} with {}",
                Value::Object(record.clone())
            );
        }
    }
}
