//! The publisher under a failing KV API: 30% of requests answered 500 or 429
//! (with Retry-After) plus latency. Every committed change still reaches KV:
//! when the outbox is empty, a re-sync finds KV equal to the database, key
//! for key.

use std::time::Duration;

use keygate_tests::{soak_scale, Api, Load, Options, Stack};

#[tokio::test(flavor = "multi_thread")]
async fn kv_converges_through_injected_faults() {
    let options = Options {
        edge_args: vec![
            "--api-fault-rate".into(),
            "0.3".into(),
            "--api-fault-first".into(),
            "1".into(),
            "--api-latency-ms".into(),
            "50".into(),
        ],
        ..Options::default()
    };
    let stack = Stack::start_with("faults", &options);
    let api = Api::of(&stack);
    let client_id = api.create_client("faults").await;
    let (creations, revocations) = (200 * soak_scale(), 50 * soak_scale());
    let load = api
        .create_and_revoke(&client_id, creations, revocations)
        .await;
    // The control plane never goes down here: every request is answered.
    assert_eq!(
        load,
        Load {
            created: creations,
            revoked: revocations
        }
    );

    // Wait (bounded) for the outbox to drain through the faults. A batch that
    // keeps failing backs off exponentially (0.5 s, 1 s, 2 s, ...): 180 s
    // covers eight failures in a row, a chance of about 1 in 15,000 at 30%.
    let status = api
        .wait_drained(Duration::from_secs(180 * soak_scale() as u64))
        .await;
    assert!(
        status["last_error"].is_string(),
        "faults were injected and seen: {status}"
    );

    // The oracle: a dry-run re-sync (itself retried through the faults) finds nothing to do.
    api.assert_kv_equals_database("under faults").await;
}
