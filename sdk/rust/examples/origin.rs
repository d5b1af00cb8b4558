//! An origin behind the edge: every request must carry the edge's identity
//! signature; the answer echoes the caller's identity as JSON.
//!
//! ```sh
//! KEYGATE_ORIGIN_SIGNING_SECRET=… KEYGATE_ORIGIN_PORT=7073 \
//!   cargo run -p keygate-client --example origin
//! ```
//!
//! Point the edge's `ORIGIN_LIVE` (or `ORIGIN_TEST`) at it and give the edge
//! the same `ORIGIN_SIGNING_SECRET`. Port 0 picks a free port. Once
//! listening it prints one line: `READY origin=http://127.0.0.1:<port>`.
//! Requests that did not come through the edge get `401` with
//! `edge_signature_missing`, `_invalid` or `_stale`.

use std::process::ExitCode;

use axum::http::{Method, Uri};
use axum::routing::any;
use axum::{Json, Router};
use keygate_client::origin::{EdgeIdentity, EdgeIdentityLayer};
use serde_json::{json, Value};

async fn echo(identity: EdgeIdentity, method: Method, uri: Uri) -> Json<Value> {
    Json(json!({ "identity": identity, "method": method.as_str(), "path": uri.path() }))
}

async fn run() -> Result<(), String> {
    let secret = std::env::var("KEYGATE_ORIGIN_SIGNING_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or("KEYGATE_ORIGIN_SIGNING_SECRET is not set (the edge's ORIGIN_SIGNING_SECRET)")?;
    let port: u16 = match std::env::var("KEYGATE_ORIGIN_PORT") {
        Ok(port) => port
            .parse()
            .map_err(|_| format!("KEYGATE_ORIGIN_PORT: not a port: {port}"))?,
        Err(_) => 7073,
    };
    let app = Router::new()
        .route("/", any(echo))
        .route("/{*path}", any(echo))
        .layer(EdgeIdentityLayer::new(secret));
    // Loopback only: an example, never a public server.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    println!("READY origin=http://{address}");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("origin: {error}");
            ExitCode::FAILURE
        }
    }
}
