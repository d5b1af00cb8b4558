//! `/metrics` labels come from bounded sets: a client inventing methods (any
//! token is a valid HTTP method) cannot grow the label set or the page.

mod support;

use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use support::{backends, request, Api};

#[tokio::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        for i in 0..300 {
            // Unique and long, as in the attack (which used 256 KiB methods
            // over TCP; the server now refuses heads that long, see serve_limits).
            let method = format!("X{i}{}", "M".repeat(4096));
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            for path in ["/healthz", "/v1/clients", "/no/such/route"] {
                let reply = api
                    .send(
                        Request::builder()
                            .method(method.clone())
                            .uri(path)
                            .body(Body::empty())
                            .unwrap(),
                    )
                    .await;
                assert!(
                    reply.status.is_client_error(),
                    "[{ctx}] {path}: {}",
                    reply.status
                );
            }
        }
        // Known methods keep their names.
        api.send(request(Method::GET, "/healthz", None, None)).await;
        let reply = api.send(request(Method::GET, "/metrics", None, None)).await;
        assert_eq!(reply.status, StatusCode::OK, "[{ctx}]");
        let text = reply.text;
        assert!(
            text.len() < 4096,
            "[{ctx}] /metrics grew to {} bytes: {}",
            text.len(),
            &text[..text.len().min(2000)]
        );
        assert!(
            !text.contains("MMMM"),
            "[{ctx}] a made-up method became a label"
        );
        assert!(
            text.contains(
                r#"keygate_http_requests_total{route="/healthz",method="other",status="405"} 300"#
            ),
            "[{ctx}] {text}"
        );
        assert!(
            text.contains(
                r#"keygate_http_requests_total{route="/healthz",method="GET",status="200"} 1"#
            ),
            "[{ctx}] {text}"
        );
        let series = text
            .lines()
            .filter(|l| l.starts_with("keygate_http_requests_total{"))
            .count();
        assert!(series <= 4, "[{ctx}] {series} series: {text}");
        backend.finish().await;
    }
}
