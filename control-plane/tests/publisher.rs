//! Several publishers draining one outbox (control-plane replicas on
//! PostgreSQL; one publisher on SQLite): every change reaches KV, and no key's
//! record is ever overwritten by an older revision.

mod support;

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use control_plane::{
    clock,
    db::Backend,
    kv::MemoryKv,
    mint::{self, KeySpec},
    publisher::Publisher,
    store,
};
use support::{backends, outbox_key_ids};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_drain_one_outbox_in_order() {
    for backend in backends().await {
        let ctx = backend.label;
        let db = &backend.db;
        // Slow enough that two publishers overlap.
        let kv = MemoryKv::with_delay(Duration::from_millis(5));

        let now_ms = clock::now_ms();
        store::insert_client(
            &db.pool,
            "cl_pub",
            "publisher test",
            None,
            "{}",
            "test",
            now_ms,
        )
        .await
        .unwrap();
        let mut key_ids = Vec::new();
        for i in 0..60 {
            let (_, row) = mint::key_for(KeySpec {
                name: Some(format!("k{i}")),
                ..KeySpec::secret("cl_pub", "live")
            })
            .unwrap();
            key_ids.push(
                store::insert_key(&db.pool, &row, "test", now_ms)
                    .await
                    .unwrap()
                    .unwrap()
                    .key_id,
            );
        }
        // Every key changes twice more while the publishers run.
        let replicas = if db.backend == Backend::Postgres {
            2
        } else {
            1
        };
        let publishers: Vec<Publisher> = (0..replicas)
            .map(|_| Publisher::new(db.clone(), kv.clone(), Arc::default()))
            .collect();
        let mut workers = Vec::new();
        for publisher in publishers {
            workers.push(tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(30);
                let mut idle_rounds = 0;
                while Instant::now() < deadline && idle_rounds < 20 {
                    match publisher.publish_due().await {
                        Ok(0) => idle_rounds += 1,
                        Ok(_) => idle_rounds = 0,
                        Err(e) => panic!("publisher failed: {e}"),
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }));
        }
        for key_id in &key_ids {
            store::revoke_key(&db.pool, key_id, "test", clock::now_ms())
                .await
                .unwrap();
        }
        store::revoke_client_tokens(&db.pool, "cl_pub", "test", clock::now_ms())
            .await
            .unwrap();
        for worker in workers {
            worker.await.unwrap();
        }

        assert!(
            outbox_key_ids(db).await.is_empty(),
            "[{ctx}] outbox drained"
        );
        let log: Vec<(String, i64)> = kv.writes().into_iter().map(|w| (w.key, w.rev)).collect();
        let mut last: BTreeMap<String, i64> = BTreeMap::new();
        for (name, rev) in &log {
            let previous = last.insert(name.clone(), *rev).unwrap_or(0);
            assert!(
                *rev >= previous,
                "[{ctx}] {name}: rev {rev} written after rev {previous}"
            );
        }
        // Each key: static and JWK records at rev 2 (revoked); the client at its newest rev.
        let newest: Vec<i64> = last
            .iter()
            .filter(|(n, _)| n.starts_with("sk:"))
            .map(|(_, r)| *r)
            .collect();
        assert_eq!(newest.len(), key_ids.len(), "[{ctx}] every key reached KV");
        assert!(
            newest.iter().all(|r| *r == 2),
            "[{ctx}] every key's newest state is its revocation"
        );
        assert_eq!(
            last.get("client:cl_pub"),
            Some(&2),
            "[{ctx}] the client's revoke-tokens reached KV"
        );
        for row in store::keys_by_id(
            &db.pool,
            &key_ids.iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .await
        .unwrap()
        .0
        {
            assert_eq!(
                row.published_rev, row.rev,
                "[{ctx}] {} published_rev",
                row.key_id
            );
        }
        backend.finish().await;
    }
}

/// The publisher reads the clock it is given: an outbox entry written now is
/// not yet due for a publisher whose clock is an hour behind, and is for one
/// whose clock is now.
#[tokio::test]
async fn the_publisher_reads_its_injected_clock() {
    for backend in backends().await {
        let ctx = backend.label;
        let db = &backend.db;
        let kv = MemoryKv::new();
        let now_ms = clock::now_ms();
        store::insert_client(&db.pool, "cl_clock", "clock", None, "{}", "test", now_ms)
            .await
            .unwrap();
        let behind = Publisher::new(db.clone(), kv.clone(), Arc::default())
            .with_clock(clock::Clock::fixed(now_ms - 3_600_000));
        assert_eq!(behind.publish_due().await.unwrap(), 0, "[{ctx}]");
        assert!(kv.value("client:cl_clock").is_none(), "[{ctx}]");
        let present = Publisher::new(db.clone(), kv.clone(), Arc::default())
            .with_clock(clock::Clock::fixed(now_ms + 1));
        assert!(present.publish_due().await.unwrap() > 0, "[{ctx}]");
        assert!(kv.value("client:cl_clock").is_some(), "[{ctx}]");
        backend.finish().await;
    }
}
