//! Request and minting counters, and their Prometheus text exposition
//! (version 0.0.4) with the publish figures (served at `/metrics`).
//!
//! Counters live in memory (per process). Every label comes from a bounded
//! set (route template, known method or `other`, status), so no request can
//! grow the label set: a label per made-up method once let anyone add
//! megabytes to `/metrics` without a credential.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};

use crate::store::PublishStatus;

/// In-process counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, &'static str, u16), u64>>,
    keys_minted: AtomicU64,
}

impl Metrics {
    /// Counts keys issued (create, regenerate).
    pub fn keys_minted(&self, count: u64) {
        self.keys_minted.fetch_add(count, Ordering::Relaxed);
    }

    fn request(&self, route: String, method: &'static str, status: u16) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry((route, method, status)).or_default() += 1;
        }
    }

    /// The exposition: counters, and `status` read at `now_ms`.
    pub fn render(&self, status: &PublishStatus, now_ms: i64) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP keygate_http_requests_total HTTP requests by route, method and status.\n",
        );
        out.push_str("# TYPE keygate_http_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            for ((route, method, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "keygate_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {count}"
                );
            }
        }
        out.push_str("# HELP keygate_keys_minted_total Keys issued by this process.\n");
        out.push_str("# TYPE keygate_keys_minted_total counter\n");
        let _ = writeln!(
            out,
            "keygate_keys_minted_total {}",
            self.keys_minted.load(Ordering::Relaxed)
        );
        let lag = status
            .oldest_pending_ms
            .map_or(0.0, |oldest| (now_ms - oldest).max(0) as f64 / 1000.0);
        out.push_str("# HELP keygate_publish_pending Outbox entries not yet acknowledged by KV.\n");
        out.push_str("# TYPE keygate_publish_pending gauge\n");
        let _ = writeln!(out, "keygate_publish_pending {}", status.pending);
        out.push_str("# HELP keygate_publish_lag_seconds Age of the oldest unpublished change.\n");
        out.push_str("# TYPE keygate_publish_lag_seconds gauge\n");
        let _ = writeln!(out, "keygate_publish_lag_seconds {lag}");
        if let Some(at) = status.last_success_ms {
            out.push_str("# TYPE keygate_publish_last_success_timestamp_seconds gauge\n");
            let _ = writeln!(
                out,
                "keygate_publish_last_success_timestamp_seconds {}",
                at as f64 / 1000.0
            );
        }
        out
    }
}

/// The method as a label: the standard methods by name, anything else
/// (extension methods are any token, of any length) as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// Middleware: counts every request by matched route (the template, never
/// the raw path: ids would explode the label set), method and status.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    metrics.request(route, method, response.status().as_u16());
    response
}
