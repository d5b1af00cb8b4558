//! A closed-loop HTTP/1.1 load generator: `concurrency` workers, each on its
//! own keep-alive connection, each sending the next request as soon as the
//! previous answer is read (so the figure is the server's throughput at that
//! many requests in flight, not an arrival rate). Latency is measured per
//! request, from sending the request to having read the whole answer.
//!
//! Built on hyper's connection API directly: the generator shares the
//! machine with the server, so it should spend as little CPU as it can.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Method, Request, StatusCode};
use tokio::net::TcpStream;

/// One request, sent again and again.
#[derive(Debug, Clone)]
pub struct Workload {
    /// A label for the report.
    pub name: &'static str,
    /// Method.
    pub method: Method,
    /// Path (and query).
    pub path: String,
    /// `Authorization` value, if any.
    pub authorization: Option<String>,
    /// JSON body, if any.
    pub body: Option<Bytes>,
    /// Checks each answer (status and body); a failed check aborts the run.
    pub check: fn(StatusCode, &[u8]) -> bool,
}

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Requests answered in the measured window.
    pub requests: usize,
    /// Requests answered in all, warm-up included (what the CPU spent
    /// during the whole run is divided by).
    pub answered: usize,
    /// Requests per second over the measured window.
    pub per_second: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
}

/// Runs `workload` against `addr` (`host:port`) with `concurrency`
/// connections: `warmup` unmeasured, then `duration` measured.
pub async fn run(
    addr: &str,
    workload: &Workload,
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> Result<Stats, String> {
    let start = Instant::now() + warmup;
    let end = start + duration;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (addr, workload) = (addr.to_owned(), workload.clone());
        workers.push(tokio::spawn(async move {
            worker(&addr, &workload, start, end).await
        }));
    }
    let (mut latencies, mut answered) = (Vec::new(), 0);
    for worker in workers {
        let (measured, count) = worker.await.map_err(|e| e.to_string())??;
        latencies.extend(measured);
        answered += count;
    }
    if latencies.is_empty() {
        return Err(format!("{}: no request completed", workload.name));
    }
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index].as_secs_f64() * 1000.0
    };
    Ok(Stats {
        requests: latencies.len(),
        answered,
        per_second: latencies.len() as f64 / duration.as_secs_f64(),
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
    })
}

/// One connection's loop; the latencies of requests started in the window,
/// and how many requests it sent in all.
async fn worker(
    addr: &str,
    workload: &Workload,
    start: Instant,
    end: Instant,
) -> Result<(Vec<Duration>, usize), String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    let mut latencies = Vec::with_capacity(16 * 1024);
    let mut answered = 0;
    loop {
        let sent = Instant::now();
        if sent >= end {
            return Ok((latencies, answered));
        }
        let mut request = Request::builder()
            .method(workload.method.clone())
            .uri(&workload.path)
            .header(hyper::header::HOST, addr);
        if let Some(value) = &workload.authorization {
            request = request.header(hyper::header::AUTHORIZATION, value);
        }
        if workload.body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(workload.body.clone().unwrap_or_default()))
            .map_err(|e| e.to_string())?;
        sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        if !(workload.check)(status, &body) {
            return Err(format!(
                "{}: unexpected answer {status}: {}",
                workload.name,
                String::from_utf8_lossy(&body)
            ));
        }
        answered += 1;
        if sent >= start {
            latencies.push(sent.elapsed());
        }
    }
}
