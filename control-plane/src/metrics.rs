//! `/metrics`: Prometheus text exposition (version 0.0.4) of requests by
//! route and status, keys minted, and how far KV publishing is behind.
//!
//! Counters live in memory (per process); publish figures are read from the
//! database at scrape time, so every replica reports the shared outbox.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{api::AppState, clock, store};

/// In-process counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Keyed by labels from bounded sets only (route template, known method
    /// or `other`, status), so no request can add an unbounded label value.
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
}

/// The method as a metric label: the standard methods by name, anything
/// else (extension methods are any token, of any length) as `other`, so a
/// client cannot grow the label set (a label per made-up method once let
/// anyone add megabytes to `/metrics` without a credential).
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
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    state
        .metrics
        .request(route, method, response.status().as_u16());
    response
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    out.push_str("# HELP keygate_http_requests_total HTTP requests by route, method and status.\n");
    out.push_str("# TYPE keygate_http_requests_total counter\n");
    if let Ok(requests) = state.metrics.requests.lock() {
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
        state.metrics.keys_minted.load(Ordering::Relaxed)
    );
    match store::publish_status(&state.db.pool).await {
        Ok(status) => {
            let lag = status.oldest_pending_ms.map_or(0.0, |oldest| {
                (clock::now_ms() - oldest).max(0) as f64 / 1000.0
            });
            out.push_str(
                "# HELP keygate_publish_pending Outbox entries not yet acknowledged by KV.\n",
            );
            out.push_str("# TYPE keygate_publish_pending gauge\n");
            let _ = writeln!(out, "keygate_publish_pending {}", status.pending);
            out.push_str(
                "# HELP keygate_publish_lag_seconds Age of the oldest unpublished change.\n",
            );
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
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics: cannot read the publish status");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
