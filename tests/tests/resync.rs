//! Re-sync through the real stack: damage the KV namespace behind the
//! control plane's back (a lost record, a stale one, a stray one), then
//! `keygate publish sync --dry-run` reports exactly that and `sync` repairs it.

use keygate_tests::{eventually, Stack};
use shared::key::{AccessKey, KeyHash};
use shared::record::static_key_kv_name;

async fn edge_status(edge: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{edge}/x"))
        .bearer_auth(key)
        .send()
        .await
        .expect("edge reachable")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_reports_and_repairs_a_damaged_namespace() {
    let stack = Stack::start("resync");
    let edge = stack.edge.clone();
    let client = stack.cli_json(&["client", "create", "--name", "resync"]);
    let client_id = client["id"].as_str().unwrap().to_owned();
    let lost = stack.cli_json(&["key", "create", "--client", &client_id])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let stale = stack.cli_json(&["key", "create", "--client", &client_id])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("keys published", async || {
        edge_status(&edge, &lost).await == 200 && edge_status(&edge, &stale).await == 200
    })
    .await;

    // Damage: delete one record, rewrite another without its revision, add a stray one.
    let kv = &stack.edge_stack;
    let lost_name = static_key_kv_name(&AccessKey::parse(&lost).unwrap().hash());
    let stale_name = static_key_kv_name(&AccessKey::parse(&stale).unwrap().hash());
    let stray_name = static_key_kv_name(&KeyHash::of("never issued"));
    let namespace = format!(
        "{}/accounts/local-account/storage/kv/namespaces/local-namespace",
        kv.kv_api
    );
    let http = reqwest::Client::new();
    let deleted = http
        .post(format!("{namespace}/bulk/delete"))
        .bearer_auth("local-dev-token")
        .json(&[&lost_name])
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    let stale_value = http
        .get(format!(
            "{namespace}/values/{}",
            stale_name.replace(':', "%3A")
        ))
        .bearer_auth("local-dev-token")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    kv.put_kv(&[
        (stale_name.clone(), stale_value),
        (stray_name.clone(), "{}".to_owned()),
    ])
    .await;
    eventually("the lost key to be refused", async || {
        edge_status(&edge, &lost).await == 401
    })
    .await;

    let report = stack.cli_json(&["publish", "sync", "--dry-run"]);
    assert_eq!(
        report["missing"],
        serde_json::json!([lost_name]),
        "{report}"
    );
    assert_eq!(report["stale"], serde_json::json!([stale_name]), "{report}");
    assert_eq!(report["extra"], serde_json::json!([stray_name]), "{report}");
    assert_eq!(report["applied"], false);
    // A dry run changes nothing.
    assert_eq!(edge_status(&edge, &lost).await, 401);

    let report = stack.cli_json(&["publish", "sync"]);
    assert_eq!(report["applied"], true, "{report}");
    eventually("the lost key to work again", async || {
        edge_status(&edge, &lost).await == 200
    })
    .await;
    let stray = http
        .get(format!(
            "{namespace}/values/{}",
            stray_name.replace(':', "%3A")
        ))
        .bearer_auth("local-dev-token")
        .send()
        .await
        .unwrap();
    assert_eq!(stray.status().as_u16(), 404, "the stray record is gone");
    // Now in step: a second sync finds nothing.
    let report = stack.cli_json(&["publish", "sync", "--dry-run"]);
    for what in ["missing", "stale", "extra"] {
        assert_eq!(report[what], serde_json::json!([]), "{what}: {report}");
    }
}
