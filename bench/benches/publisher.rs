//! The publisher's own throughput and lag, against the in-memory KV namespace
//! (`control_plane::kv::MemoryKv`), which accepts every write at once (the
//! local Miniflare-backed KV API writes only ~400 records/s, so it would
//! measure Miniflare, not the publisher; the REST client's own cost is not
//! measured here):
//! - records published per second draining a 20,000-key backlog (bulk writes
//!   of up to 10,000 pairs);
//! - publish lag p50/p99 (commit to KV receiving the record) under a steady
//!   200 key creations per second for 10 s.
//!
//! Run: `cargo bench -p keygate-bench --bench publisher` (or `make bench`).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use control_plane::{
    clock, db,
    kv::MemoryKv,
    mint::{self, KeySpec},
    publisher::Publisher,
    store,
};
use shared::record::static_key_kv_name;

fn spec(i: usize) -> KeySpec {
    KeySpec {
        name: Some(format!("k{i}")),
        ..KeySpec::secret("cl_bench", "live")
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("keygate-publish-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = db::connect(&format!("sqlite://{}/p.db", dir.display()))
        .await
        .unwrap();
    store::insert_client(
        &db.pool,
        "cl_bench",
        "bench",
        None,
        "{}",
        "bench",
        clock::now_ms(),
    )
    .await
    .unwrap();
    let kv = MemoryKv::new();

    // 1. Drain a backlog.
    const BACKLOG: usize = 20_000;
    for i in 0..BACKLOG {
        let (_, row) = mint::key_for(spec(i)).unwrap();
        store::insert_key(&db.pool, &row, "bench", clock::now_ms())
            .await
            .unwrap();
    }
    let publisher = Publisher::new(db.clone(), kv.clone(), Arc::default());
    let started = Instant::now();
    while publisher.publish_due().await.unwrap() > 0 {}
    let drained = started.elapsed();
    let records = kv.writes().len();
    println!(
        "backlog: {BACKLOG} keys -> {records} records in {:.2} s = {:.0} records/s",
        drained.as_secs_f64(),
        records as f64 / drained.as_secs_f64()
    );

    // 2. Lag under a steady 200 creations/s for 10 s.
    let wake: Arc<tokio::sync::Notify> = Arc::default();
    let running = Publisher::new(db.clone(), kv.clone(), wake.clone());
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let runner = tokio::spawn(running.run(async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    }));
    let mut committed: Vec<(String, Instant)> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    for i in 0..2_000 {
        tick.tick().await;
        let (key, row) = mint::key_for(spec(BACKLOG + i)).unwrap();
        store::insert_key(&db.pool, &row, "bench", clock::now_ms())
            .await
            .unwrap();
        committed.push((static_key_kv_name(&key.hash()), Instant::now()));
        wake.notify_one();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop_tx.send(true);
    let _ = runner.await;
    // The first arrival of each record.
    let mut seen: HashMap<String, Instant> = HashMap::new();
    for written in kv.writes() {
        seen.entry(written.key).or_insert(written.at);
    }
    let mut lags: Vec<Duration> = committed
        .iter()
        .filter_map(|(name, at)| {
            seen.get(name)
                .map(|arrived| arrived.saturating_duration_since(*at))
        })
        .collect();
    let delivered = lags.len();
    println!(
        "steady 200 creations/s for 10 s: {delivered}/{} delivered, publish lag p50 {:.1} ms, p99 {:.1} ms",
        committed.len(),
        percentile(&mut lags, 0.5),
        percentile(&mut lags, 0.99)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
