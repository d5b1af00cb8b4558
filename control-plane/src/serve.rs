//! `keygate serve`: tracing, the database, the publisher task, the HTTP
//! server and a graceful shutdown.
//!
//! The server is hyper's HTTP/1 connection builder rather than `axum::serve`,
//! because only the builder bounds what a client may hold: a request head
//! larger than [`MAX_HEAD_BYTES`] is refused with 431 before it is parsed
//! further, a connection that has not sent a complete head within the header
//! timeout is closed (idle keep-alive connections included), and a request
//! that takes longer than the request timeout (a body trickled in, say) gets
//! 408. Without these a stranger could hold connections open forever.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::{
    extract::Request,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Router,
};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::net::TcpListener;

use crate::{
    config::{ServeConfig, ServeLimits},
    db,
    error::ApiError,
    http::app,
    kv::{CloudflareKv, Kv},
    publisher::Publisher,
    state::AppState,
};

/// The largest request head (request line and headers) a client may send.
/// Real heads are a few hundred bytes (a JWT bearer token is under 1 KiB);
/// hyper's own default (about 400 KiB) let one request carry a 256 KiB method.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Runs the API (and the publisher, when KV is configured) until SIGINT or SIGTERM.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    init_tracing();
    let db = db::connect(&config.db.database_url).await?;
    let mut state =
        AppState::new(db.clone(), config.keys.clone()).with_verify_policy(config.verify.clone());
    let kv = CloudflareKv::from_args(&config.kv).map(|kv| Arc::new(kv) as Arc<dyn Kv>);
    state.kv.clone_from(&kv);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let publisher = match kv {
        Some(kv) => {
            tracing::info!(base_url = %config.kv.cf_api_base_url, "publishing to Workers KV");
            let publisher =
                Publisher::shared(db, kv, state.publish_wake.clone()).with_clock(state.clock);
            let mut stop = stop_rx.clone();
            Some(tokio::spawn(publisher.run(async move {
                let _ = stop.wait_for(|stop| *stop).await;
            })))
        }
        None => {
            tracing::warn!(
                "CF_ACCOUNT_ID, CF_KV_NAMESPACE_ID or CF_API_TOKEN not set: changes stay in the outbox until a publisher runs"
            );
            None
        }
    };
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    tracing::info!(addr = %listener.local_addr()?, "control plane listening");
    serve(listener, app(state), config.limits, shutdown_signal()).await;
    let _ = stop_tx.send(true);
    if let Some(publisher) = publisher {
        let _ = publisher.await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Serves `app` on `listener` with `limits` until `shutdown` resolves, then
/// lets the requests in flight finish (for at most the request timeout).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) {
    let request_timeout = limits.request_timeout;
    let app = app.layer(middleware::from_fn(move |request: Request, next: Next| {
        within(request_timeout, request, next)
    }));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // Out of file descriptors, typically: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .max_buf_size(MAX_HEAD_BYTES)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(request_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running at shutdown were cut off");
    }
}

/// Answers 408 when the handler (reading the body included) takes too long.
async fn within(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// Structured logs on stderr: human-readable by default, one JSON object per
/// line with `KEYGATE_LOG_FORMAT=json` (for log shippers). Levels and targets
/// come from `RUST_LOG`.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "control_plane=info,tower_http=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("KEYGATE_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
