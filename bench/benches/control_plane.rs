//! Control-plane throughput and list latency through the real HTTP API
//! (axum on 127.0.0.1, reqwest client), on SQLite and, when DATABASE_URL is
//! a PostgreSQL URL, on PostgreSQL:
//! - keys minted per second at concurrency 1 and 16 (`POST /v1/clients/{id}/keys`);
//! - p50/p99 of `GET /v1/clients/{id}/keys?limit=100` (first page and a cursor
//!   page) with the table nearly empty, then with 1,000,000 keys in it: the
//!   ratio shows whether listing depends on table size.
//!
//! Run: `cargo bench -p keygate-bench --bench control_plane` (or `make bench`).

use std::time::{Duration, Instant};

use control_plane::{app, config::KeyPolicy, db, mint, store, AppState};
use shared::key::KeyType;

const MINTS: usize = 2_000;
const LIST_SAMPLES: usize = 300;
const BULK_KEYS: i64 = 1_000_000;

struct Api {
    base: String,
    admin: String,
    http: reqwest::Client,
}

impl Api {
    async fn post(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "POST {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn get_timed(&self, path: &str) -> (Duration, serde_json::Value) {
        let started = Instant::now();
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        let body = response.json().await.unwrap();
        (started.elapsed(), body)
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index].as_secs_f64() * 1000.0
}

async fn start(url: &str) -> (Api, db::Db) {
    let db = db::connect(url).await.expect("database");
    let now_ms = control_plane::clock::now_ms();
    store::ensure_admin_client(&db.pool, now_ms / 1000)
        .await
        .unwrap();
    let (admin, mut row) = mint::key_for(mint::KeySpec {
        client_id: store::ADMIN_CLIENT_ID.to_owned(),
        env: "live".to_owned(),
        key_type: KeyType::Secret,
        name: Some("bench".to_owned()),
        scopes: vec![shared::scope::ADMIN.to_owned()],
        expires_at: None,
        secret_bytes: 32,
    })
    .unwrap();
    row.public_jwk = None;
    store::insert_key(&db.pool, &row, "bench", now_ms)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.clone(), KeyPolicy::default());
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(32)
        .build()
        .unwrap();
    (
        Api {
            base,
            admin: admin.expose().to_owned(),
            http,
        },
        db,
    )
}

async fn mint_rate(api: &Api, client_id: &str, concurrency: usize) -> f64 {
    let per_worker = MINTS / concurrency;
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (base, admin, http) = (api.base.clone(), api.admin.clone(), api.http.clone());
        let path = format!("{base}/v1/clients/{client_id}/keys");
        workers.push(tokio::spawn(async move {
            for _ in 0..per_worker {
                let response = http
                    .post(&path)
                    .bearer_auth(&admin)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 201);
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    (per_worker * concurrency) as f64 / started.elapsed().as_secs_f64()
}

/// p50/p99 (ms) of the first page and of a cursor page.
async fn list_latency(api: &Api, client_id: &str) -> (f64, f64, f64, f64) {
    let first = format!("/v1/clients/{client_id}/keys?limit=100");
    let (_, page) = api.get_timed(&first).await;
    let cursor = page["next_cursor"]
        .as_str()
        .expect("more than one page")
        .to_owned();
    let second = format!("{first}&cursor={cursor}");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..LIST_SAMPLES {
        a.push(api.get_timed(&first).await.0);
        b.push(api.get_timed(&second).await.0);
    }
    (
        percentile(&mut a, 0.5),
        percentile(&mut a, 0.99),
        percentile(&mut b, 0.5),
        percentile(&mut b, 0.99),
    )
}

/// 1,000,000 keys over 1,000 other clients, written by SQL in one statement.
async fn bulk_fill(db: &db::Db) {
    let started = Instant::now();
    let (clients, keys) = match db.backend {
        db::Backend::Sqlite => (
            "with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000) \
             insert into client (client_id, name, created_at) select 'cl_bulk' || i, 'bulk', 0 from n",
            format!(
                "with recursive n(i) as (select 1 union all select i + 1 from n where i < {BULK_KEYS}) \
                 insert into api_key (key_id, client_id, env, key_type, scopes, key_hash, created_at) \
                 select printf('bulk%013d', i), 'cl_bulk' || (i % 1000 + 1), 'live', 'secret', '[]', \
                 printf('%064d', i), 1700000000 + i from n"
            ),
        ),
        db::Backend::Postgres => (
            "insert into client (client_id, name, created_at) \
             select 'cl_bulk' || i, 'bulk', 0 from generate_series(1, 1000) i",
            format!(
                "insert into api_key (key_id, client_id, env, key_type, scopes, key_hash, created_at) \
                 select 'bulk' || lpad(i::text, 13, '0'), 'cl_bulk' || (i % 1000 + 1), 'live', 'secret', '[]', \
                 lpad(i::text, 64, '0'), 1700000000 + i from generate_series(1, {BULK_KEYS}) i"
            ),
        ),
    };
    sqlx::query(clients).execute(&db.pool).await.unwrap();
    sqlx::query(&keys).execute(&db.pool).await.unwrap();
    eprintln!(
        "  (bulk insert of {BULK_KEYS} keys took {:.1} s)",
        started.elapsed().as_secs_f64()
    );
}

async fn run(label: &str, url: &str) {
    let (api, db) = start(url).await;
    let client = api
        .post("/v1/clients", serde_json::json!({ "name": "bench" }))
        .await;
    let client_id = client["id"].as_str().unwrap().to_owned();
    let c1 = mint_rate(&api, &client_id, 1).await;
    let c16 = mint_rate(&api, &client_id, 16).await;
    // The bench client now holds ~4,000 keys: 40 pages of 100.
    let small = list_latency(&api, &client_id).await;
    bulk_fill(&db).await;
    let large = list_latency(&api, &client_id).await;
    println!(
        "{label:<10} {c1:>10.0} {c16:>10.0}   {:>6.2} {:>6.2} {:>6.2} {:>6.2}   {:>6.2} {:>6.2} {:>6.2} {:>6.2}   {:>5.2}",
        small.0, small.1, small.2, small.3, large.0, large.1, large.2, large.3, large.0 / small.0
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes harness flags such as --bench; nothing to parse.
    let dir = std::env::temp_dir().join(format!("keygate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!("keys minted per second through the API; list latency in ms (first page p50 p99, cursor page p50 p99)");
    println!(
        "{:<10} {:>10} {:>10}   {:^27}   {:^27}   {:>5}",
        "backend",
        "mint c=1",
        "mint c=16",
        "list, ~4k keys in table",
        "list, +1M keys in table",
        "ratio"
    );
    run(
        "sqlite",
        &format!("sqlite://{}", dir.join("bench.db").display()),
    )
    .await;
    if let Ok(url) = std::env::var("DATABASE_URL") {
        if url.starts_with("postgres") {
            let admin = sqlx::any::AnyPoolOptions::new()
                .connect(&url)
                .await
                .expect("DATABASE_URL reachable");
            let name = format!("kgbench_{}", std::process::id());
            sqlx::query(&format!("drop database if exists {name}"))
                .execute(&admin)
                .await
                .unwrap();
            sqlx::query(&format!("create database {name}"))
                .execute(&admin)
                .await
                .unwrap();
            let (base, _) = url.rsplit_once('/').unwrap();
            run("postgres", &format!("{base}/{name}")).await;
            sqlx::query(&format!("drop database {name} with (force)"))
                .execute(&admin)
                .await
                .unwrap();
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
