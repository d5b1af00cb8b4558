//! kill -9 the control plane at random moments while 2,000 keys are created
//! and 500 revoked, restarting it each time. Once the outbox is empty, KV
//! equals the database key for key (a dry-run re-sync finds nothing).

use std::time::Duration;

use keygate_tests::{soak_scale, Api, Stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn kv_converges_through_kill_9() {
    let mut stack = Stack::start("crash");
    let api = Api::of(&stack);
    let client_id = api.create_client("crash").await;

    let (creations, revocations) = (2000 * soak_scale(), 500 * soak_scale());
    let load = tokio::spawn({
        let api = api.clone();
        async move {
            api.create_and_revoke(&client_id, creations, revocations)
                .await
        }
    });
    // Crash it at pseudo-random moments (fixed sequence: reproducible runs).
    let mut crashes = 0;
    let mut delay = 137u64;
    while !load.is_finished() {
        delay = (delay * 7919 + 13) % 700 + 150;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if load.is_finished() {
            break;
        }
        crashes += 1;
        stack.crash_and_restart(crashes);
    }
    let created = load.await.unwrap().created;
    assert!(
        created >= creations * 95 / 100,
        "only {created} of {creations} creations confirmed"
    );
    assert!(crashes >= 2, "the load finished before {crashes} crashes");

    // A killed publisher's claims lapse after 60 s; then the restarted one takes over.
    api.wait_drained(Duration::from_secs(150 * soak_scale() as u64))
        .await;
    api.assert_kv_equals_database(&format!("after {crashes} crashes"))
        .await;
    println!("{created} keys confirmed, {crashes} kill -9 restarts, KV equals the database");
}
