//! `make bench-verify`: the verification API (`POST /v1/verify`) under load,
//! against a real `keygate serve` process, on SQLite and on PostgreSQL, at
//! concurrency 1 and 16: verifications per second and p50/p99 latency, with
//! `GET /healthz` (one `select 1`) measured in the same run as the baseline,
//! so the figures can be read as ratios on whatever machine runs them.
//!
//! ```text
//! bench-verify [--keygate target/release/keygate] [--postgres URL]
//!              [--seconds 5] [--quick] [--no-sqlite] [--concurrency N]
//!              [--out bench/verify/RESULTS.md]
//! ```
//!
//! Each row also gives the CPU time one request cost, in microseconds, for
//! each party on the machine: `keygate serve`, its PostgreSQL backends, and
//! the generator itself ([`keygate_bench::cpu`]). Those figures hardly move
//! with the machine's other load, so they show where the time goes.
//!
//! `--quick` (the `make test` smoke run) measures for a fraction of a second:
//! it checks the harness and the answers, its numbers mean nothing.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use bytes::Bytes;
use hyper::{Method, StatusCode};
use keygate_bench::{
    cpu::CpuTicks,
    load::{self, Stats, Workload},
};
use serde_json::{json, Value};
use sqlx::{Connection as _, Executor as _, PgConnection};

/// The audience `keygate serve` checks tokens against by default.
const AUDIENCE: &str = control_plane::config::DEFAULT_VERIFY_AUDIENCE;
const CONCURRENCY: [usize; 2] = [1, 16];

#[derive(Debug)]
struct Args {
    keygate: PathBuf,
    postgres: Option<String>,
    seconds: f64,
    quick: bool,
    out: Option<PathBuf>,
    /// Skip SQLite (`--no-sqlite`: profiling PostgreSQL alone).
    sqlite: bool,
    /// Only this concurrency (`--concurrency N`), instead of 1 and 16.
    concurrency: Option<usize>,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        keygate: PathBuf::from("target/release/keygate"),
        postgres: None,
        seconds: 5.0,
        quick: false,
        out: None,
        sqlite: true,
        concurrency: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--keygate" => args.keygate = value()?.into(),
            "--postgres" => args.postgres = Some(value()?).filter(|u| u.starts_with("postgres")),
            "--seconds" => args.seconds = value()?.parse().map_err(|_| "--seconds: a number")?,
            "--out" => args.out = Some(value()?.into()),
            "--quick" => args.quick = true,
            "--no-sqlite" => args.sqlite = false,
            "--concurrency" => {
                args.concurrency = Some(value()?.parse().map_err(|_| "--concurrency: a number")?);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// A `keygate serve` process, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygate(args: &Args, database_url: &str, cli: &[&str]) -> Result<String, String> {
    let output = Command::new(&args.keygate)
        .args(cli)
        .env("DATABASE_URL", database_url)
        .output()
        .map_err(|e| format!("{}: {e}", args.keygate.display()))?;
    if !output.status.success() {
        return Err(format!(
            "keygate {cli:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

async fn serve(args: &Args, database_url: &str, dir: &Path) -> Result<Server, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let addr = format!("127.0.0.1:{port}");
    let log = std::fs::File::create(dir.join("serve.log")).map_err(|e| e.to_string())?;
    let child = Command::new(&args.keygate)
        .args(["serve", "--bind", &addr])
        .env("DATABASE_URL", database_url)
        .env_remove("CF_API_TOKEN")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("{}: {e}", args.keygate.display()))?;
    let server = Server { child, addr };
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("http://{}/healthz", server.addr))
        .await
        .is_err()
    {
        if Instant::now() > deadline {
            return Err("keygate serve did not come up in 30 s".to_owned());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(server)
}

/// A client with a secret key; the key and a token signed with it.
async fn fixtures(addr: &str, admin: &str) -> Result<(String, String), String> {
    let http = reqwest::Client::new();
    let post = async |path: String, body: Value| -> Result<Value, String> {
        let response = http
            .post(format!("http://{addr}{path}"))
            .bearer_auth(admin)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        response.json::<Value>().await.map_err(|e| e.to_string())
    };
    let client = post("/v1/clients".to_owned(), json!({ "name": "bench" })).await?;
    let client_id = client["id"].as_str().ok_or("no client id")?.to_owned();
    let key = post(format!("/v1/clients/{client_id}/keys"), json!({})).await?;
    let key = key["key"].as_str().ok_or("no key")?.to_owned();
    let parsed = shared::key::AccessKey::parse(&key).map_err(|e| e.to_string())?;
    let pair = shared::signing::SigningKeyPair::derive(&parsed).map_err(|e| e.to_string())?;
    #[allow(clippy::disallowed_methods)] // the token must carry the real time
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs() as i64;
    let claims = shared::jwt::MintClaims {
        client_id: &client_id,
        audience: AUDIENCE,
        issued_at: now,
        ttl: 3_600,
        jti: "bench",
    };
    Ok((key, shared::jwt::mint(&pair, &claims)))
}

fn ok_status(status: StatusCode, _: &[u8]) -> bool {
    status == StatusCode::OK
}

fn valid_verdict(status: StatusCode, body: &[u8]) -> bool {
    status == StatusCode::OK && body.starts_with(br#"{"valid":true,"#)
}

fn invalid_verdict(status: StatusCode, body: &[u8]) -> bool {
    status == StatusCode::OK && body.starts_with(br#"{"valid":false,"#)
}

fn workloads(verifier: &str, key: &str, token: &str) -> Vec<Workload> {
    let verify = |name, credential: &str, check| Workload {
        name,
        method: Method::POST,
        path: "/v1/verify".to_owned(),
        authorization: Some(format!("Bearer {verifier}")),
        body: Some(Bytes::from(
            json!({ "credential": credential, "method": "GET", "path": "/v1/orders" }).to_string(),
        )),
        check,
    };
    let unknown = shared::key::AccessKey::from_entropy(
        shared::key::KeyType::Secret,
        "live",
        Some("cl_bench"),
        [1; 12],
        &[1; 32],
    )
    .map(|k| k.expose().to_owned())
    .unwrap_or_default();
    vec![
        Workload {
            name: "baseline: GET /healthz",
            method: Method::GET,
            path: "/healthz".to_owned(),
            authorization: None,
            body: None,
            check: ok_status,
        },
        verify("verify: static key", key, valid_verdict),
        verify("verify: JWT", token, valid_verdict),
        verify("verify: unknown key", &unknown, invalid_verdict),
    ]
}

/// Runs every workload at every concurrency on one backend; table rows.
/// `database`: the PostgreSQL database's name, whose backends' CPU is counted.
async fn bench_backend(
    args: &Args,
    label: &str,
    database_url: &str,
    database: Option<&str>,
) -> Result<Vec<String>, String> {
    let dir = std::env::temp_dir().join(format!(
        "keygate-bench-verify-{}-{label}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let admin = keygate(args, database_url, &["admin-key", "create", "--out", "-"])?;
    let verifier = keygate(
        args,
        database_url,
        &["admin-key", "create", "--scope", "verify", "--out", "-"],
    )?;
    let server = serve(args, database_url, &dir).await?;
    let (key, token) = fixtures(&server.addr, &admin).await?;
    let (warmup, duration) = if args.quick {
        (Duration::ZERO, Duration::from_millis(300))
    } else {
        (
            Duration::from_millis(500),
            Duration::from_secs_f64(args.seconds),
        )
    };
    let mut rows = Vec::new();
    let pid = server.child.id();
    let concurrencies = CONCURRENCY
        .into_iter()
        .filter(|c| args.concurrency.is_none_or(|only| only == *c));
    for concurrency in concurrencies {
        let mut baseline: Option<Stats> = None;
        for workload in workloads(&verifier, &key, &token) {
            let before = CpuTicks::read(pid, database);
            let stats = load::run(&server.addr, &workload, concurrency, warmup, duration).await?;
            let cpu = (CpuTicks::read(pid, database) - before).micros_per_request(stats.answered);
            let base = *baseline.get_or_insert(stats);
            let postgres = if database.is_some() {
                format!("{:.0}", cpu.postgres)
            } else {
                "–".to_owned()
            };
            let row = format!(
                "| {label} | {} | {concurrency} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} | {postgres} | {:.0} |",
                workload.name,
                stats.per_second,
                stats.p50_ms,
                stats.p99_ms,
                stats.per_second / base.per_second,
                cpu.server,
                cpu.generator,
            );
            if !args.quick {
                eprintln!("{row}");
            }
            rows.push(row);
        }
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rows)
}

/// A fresh PostgreSQL database next to the one `server_url` names; dropped after.
async fn with_postgres_database(server_url: &str) -> Result<(String, String), String> {
    let name = format!("kgbench_verify_{}", std::process::id());
    let mut server = PgConnection::connect(server_url)
        .await
        .map_err(|e| e.to_string())?;
    for statement in [
        format!("drop database if exists {name}"),
        format!("create database {name}"),
    ] {
        server
            .execute(statement.as_str())
            .await
            .map_err(|e| e.to_string())?;
    }
    let _ = server.close().await;
    let (base, query) = server_url.split_once('?').unwrap_or((server_url, ""));
    let base = base.rsplit_once('/').map_or(base, |(head, _)| head);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    Ok((format!("{base}/{name}{query}"), name))
}

async fn drop_postgres_database(server_url: &str, name: &str) {
    if let Ok(mut server) = PgConnection::connect(server_url).await {
        let _ = server
            .execute(format!("drop database if exists {name} with (force)").as_str())
            .await;
        let _ = server.close().await;
    }
}

async fn main_result() -> Result<(), String> {
    let args = args()?;
    let mut rows = Vec::new();
    let sqlite_dir =
        std::env::temp_dir().join(format!("keygate-bench-verify-db-{}", std::process::id()));
    let sqlite_url = format!("sqlite://{}/keygate.db", sqlite_dir.display());
    if args.sqlite {
        let sqlite = bench_backend(&args, "SQLite", &sqlite_url, None).await;
        let _ = std::fs::remove_dir_all(&sqlite_dir);
        rows.extend(sqlite?);
    }
    if let Some(server_url) = &args.postgres {
        let (url, name) = with_postgres_database(server_url).await?;
        let postgres = bench_backend(&args, "PostgreSQL", &url, Some(&name)).await;
        drop_postgres_database(server_url, &name).await;
        rows.extend(postgres?);
    }
    let table = format!(
        "| backend | workload | concurrency | requests/s | p50 ms | p99 ms | × baseline \
         | CPU µs/req: keygate | postgres | generator |\n\
         |---|---|---|---|---|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    );
    println!("{table}");
    if let Some(out) = &args.out {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let caller_cache = std::env::var("KEYGATE_VERIFY_CALLER_CACHE_TTL")
            .unwrap_or_else(|_| "5s (default)".to_owned());
        let text = format!(
            "# POST /v1/verify under load\n\n\
             Written by `bench-verify` (`make bench-verify`; this run: `{}`).\n\
             {cores} cores, shared by the load generator and `keygate serve` (release build, \
             no KV configured); {} s per figure after 0.5 s of warm-up{}. Verify-key cache \
             (`KEYGATE_VERIFY_CALLER_CACHE_TTL`): {caller_cache}.\n\n\
             Each worker keeps one HTTP/1.1 connection and sends its next request when the \
             answer is in (closed loop). The baseline, `GET /healthz`, is one `select 1` \
             through the same server: `× baseline` is the throughput relative to it, at the \
             same backend and concurrency. The CPU columns: CPU time (user and system, from \
             `/proc`) per request answered, of `keygate serve`, of the PostgreSQL backends \
             serving the benchmark's database, and of the load generator. Workloads: a valid static key, a valid JWT \
             (signature checked once per token and public key, as at the edge; the key's \
             and client's rows read at every call), a well-formed unknown key.\n\n{table}\n\
             See bench/verify/README.md for what each optimisation did and what it costs.\n",
            std::env::args().collect::<Vec<_>>().join(" "),
            if args.quick { 0.3 } else { args.seconds },
            if args.quick {
                " (--quick: not meaningful)"
            } else {
                ""
            },
        );
        std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    // Two worker threads: the generator must not take more of the machine
    // than it needs (the server has the same two cores).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(main_result()),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-verify: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
