//! What a client may hold, tested over real TCP against the served app: a
//! stalled head is cut off, a slow request gets 408, a body declared too
//! large gets 413 before any of it is sent, and an absurd request line is
//! refused before it is parsed.

mod support;

use std::time::{Duration, Instant};

use control_plane::{
    app,
    config::{KeyPolicy, ServeLimits},
    serve, AppState,
};
use support::{admin_key, backends};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
};

const LIMITS: ServeLimits = ServeLimits {
    header_timeout: Duration::from_secs(1),
    request_timeout: Duration::from_secs(2),
};

/// Serves the app on 127.0.0.1:0; returns its address and the admin key.
async fn served(db: &control_plane::db::Db) -> (std::net::SocketAddr, String) {
    let admin = admin_key(db, None).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(db.clone(), KeyPolicy::default());
    tokio::spawn(serve::serve(
        listener,
        app(state),
        LIMITS,
        std::future::pending(),
    ));
    (addr, admin)
}

/// A client creation with the admin key, declaring `length` body bytes and
/// sending only `body_start` of them.
fn create_client_head(admin: &str, length: u64, body_start: &str) -> String {
    format!(
        "POST /v1/clients HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{body_start}"
    )
}

/// Reads until the server closes the connection or `within` passes; returns
/// what arrived and whether the connection was closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), false),
            Ok(Ok(0) | Err(_)) => return (String::from_utf8_lossy(&received).into_owned(), true),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_stalled_head_is_closed_within_the_header_timeout() {
    for backend in backends().await {
        let ctx = backend.label;
        let (addr, _) = served(&backend.db).await;
        // Half a request line, then nothing; and a connection that sends nothing.
        let mut half = TcpStream::connect(addr).await.unwrap();
        half.write_all(b"GET /heal").await.unwrap();
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        for stream in [&mut half, &mut silent] {
            let (_, closed) = read_until_closed(stream, Duration::from_secs(5)).await;
            assert!(closed, "[{ctx}] still open after {:?}", started.elapsed());
        }
        assert!(started.elapsed() < Duration::from_secs(4), "[{ctx}]");
        backend.finish().await;
    }
}

#[tokio::test]
async fn a_trickled_body_gets_408_within_the_request_timeout() {
    for backend in backends().await {
        let ctx = backend.label;
        let (addr, admin) = served(&backend.db).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let head = create_client_head(&admin, 100, "{\"name\"");
        stream.write_all(head.as_bytes()).await.unwrap();
        let (reply, _) = read_until_closed(&mut stream, Duration::from_secs(6)).await;
        assert!(reply.starts_with("HTTP/1.1 408"), "[{ctx}] {reply:?}");
        assert!(reply.contains("request_timeout"), "[{ctx}] {reply:?}");
        backend.finish().await;
    }
}

#[tokio::test]
async fn a_terabyte_declared_gets_413_before_the_body() {
    for backend in backends().await {
        let ctx = backend.label;
        let (addr, admin) = served(&backend.db).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // With a valid admin key, so authentication does not answer first.
        let head = create_client_head(&admin, 1_000_000_000_000, "");
        stream.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("[{ctx}] no answer within 1 s"))
            .unwrap();
        let reply = String::from_utf8_lossy(&buf[..n]);
        assert!(reply.starts_with("HTTP/1.1 413"), "[{ctx}] {reply:?}");
        assert!(reply.contains("payload_too_large"), "[{ctx}] {reply:?}");
        assert!(started.elapsed() < Duration::from_secs(1), "[{ctx}]");
        backend.finish().await;
    }
}

#[tokio::test]
async fn an_absurd_request_line_is_refused_and_not_counted() {
    for backend in backends().await {
        let ctx = backend.label;
        let (addr, _) = served(&backend.db).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let method = "M".repeat(256 * 1024);
        let line = format!("{method} /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        // The server may close before it has read everything.
        let _ = stream.write_all(line.as_bytes()).await;
        let (reply, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(closed, "[{ctx}] connection left open");
        assert!(
            reply.is_empty() || reply.starts_with("HTTP/1.1 431"),
            "[{ctx}] {reply:?}"
        );

        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let (metrics, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
        assert!(metrics.starts_with("HTTP/1.1 200"), "[{ctx}] {metrics:?}");
        assert!(
            !metrics.contains("MMMM"),
            "[{ctx}] the method reached the metrics"
        );
        backend.finish().await;
    }
}
