//! The one path rule through real workerd (issue 9, defects 1 and 5): a path
//! an origin could read as another path is neither public nor inside a
//! scope, and such a request never reaches the origin; plain paths under a
//! public prefix or a scope reach it exactly as sent.

mod raw_http;

use keygate_tests::{Edge, Options};
use raw_http::{key, received, send};
use shared::key::KeyType;

/// Tails that walk out of a prefix at some origin (see `shared::path`).
const ESCAPES: &[&str] = &[
    "/..;/admin",
    "/..%2Fadmin",
    "/..%2fadmin",
    "/%2e%2e/admin",
    "/%2E%2E%2Fadmin",
    "/.%2e/admin",
    "/..%5Cadmin",
    "/..%5cadmin",
    "/%252e%252e/admin",
    "/..%252Fadmin",
    "/..%255Cadmin",
    "/..;x=1/admin",
    "/.;/..;/admin",
    "/..%3B/admin",
    "//..;/admin",
    "//admin",
    "/.../admin",
    "/..%20/admin",
    "/%00/..;/admin",
    "/x%00",
    "/x%3F/..;/admin",
    "/%C0%AE%C0%AE/admin",
    "/%C0%AE%C0%AE%C0%AFadmin",
    "/%EF%BC%8E%EF%BC%8E%EF%BC%8Fadmin",
    "/..%EF%BC%8Fadmin",
    "/%",
    "/%zz",
];

/// Targets workerd itself normalises or refuses before the worker: they
/// must still never reach the origin without a key.
const NORMALISED: &[&str] = &["/../admin", "/./../admin", "\\..\\admin", "/..\\admin"];

async fn start(name: &str) -> (Edge, String, String) {
    let edge = Edge::start(
        name,
        &Options {
            vars: vec![("PUBLIC_PATHS".into(), "/health,/docs/".into())],
            ..Options::default()
        },
    );
    let scoped = key(&edge, 11, KeyType::Secret, &["GET:/v1/reports"]).await;
    let unscoped = key(&edge, 12, KeyType::Secret, &[]).await;
    (
        edge,
        format!("Bearer {scoped}"),
        format!("Bearer {unscoped}"),
    )
}

/// Defect 1: with `PUBLIC_PATHS=/health`, nothing that could leave the prefix is public.
#[tokio::test(flavor = "multi_thread")]
async fn public_paths_follow_the_one_path_rule() {
    let (edge, _, _) = start("public-paths").await;
    let url = edge.url.clone();
    let before = received(&edge).len();
    for prefix in ["/health", "/docs"] {
        for tail in ESCAPES.iter().chain(NORMALISED) {
            let target = format!("{prefix}{tail}");
            let reply = send(&url, "GET", &target, &[], b"");
            let status = reply.as_ref().map(|r| r.status);
            assert!(
                reply.as_ref().is_none_or(|r| !r.origin_answered()),
                "{target} reached the origin without a key: {status:?}"
            );
            if ESCAPES.contains(tail) {
                let reply = reply.expect("an answer");
                assert_eq!(
                    (reply.status, reply.code().as_str()),
                    (401, "missing_credential"),
                    "{target}"
                );
            }
        }
    }
    // Case is not folded: a path differing in case is not public.
    for target in ["/Health", "/HEALTH/live", "/Docs/x"] {
        let reply = send(&url, "GET", target, &[], b"").unwrap();
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (401, "missing_credential"),
            "{target}"
        );
    }
    assert_eq!(
        received(&edge).len(),
        before,
        "no refused request reached the origin: {:?}",
        &received(&edge)[before..]
    );
    // Plain paths under a public prefix: forwarded byte for byte.
    let public_ok = [
        "/health",
        "/health/",
        "/health/live",
        "/health/a;v=1",
        "/docs/",
        "/docs/guide/x%20y.html",
        "/docs/.well-known/z",
    ];
    for target in public_ok {
        let reply = send(&url, "GET", target, &[], b"").unwrap();
        assert_eq!(reply.status, 200, "{target}: {:?}", reply.json());
        assert_eq!(reply.json()["path"], target, "{target}");
    }
    assert_eq!(received(&edge).len(), before + public_ok.len());
}

/// Defects 1 and 5: a key scoped `GET:/v1/reports` gets 403 for every path
/// that could leave `/v1/reports` at the origin (`/v1/reports/..;/admin`, …).
#[tokio::test(flavor = "multi_thread")]
async fn scopes_follow_the_one_path_rule() {
    let (edge, scoped_auth, unscoped_auth) = start("scope-paths").await;
    let url = edge.url.clone();
    let before = received(&edge).len();
    for tail in ESCAPES {
        let target = format!("/v1/reports{tail}");
        let reply = send(
            &url,
            "GET",
            &target,
            &[("authorization", &scoped_auth)],
            b"",
        )
        .expect("an answer");
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (403, "insufficient_scope"),
            "{target}"
        );
    }
    for tail in NORMALISED {
        let target = format!("/v1/reports{tail}");
        let reply = send(
            &url,
            "GET",
            &target,
            &[("authorization", &scoped_auth)],
            b"",
        );
        assert!(
            reply.as_ref().is_none_or(|r| !r.origin_answered()),
            "{target} reached the origin"
        );
    }
    assert_eq!(
        received(&edge).len(),
        before,
        "no refused request reached the origin: {:?}",
        &received(&edge)[before..]
    );
    // Plain paths in scope: forwarded byte for byte.
    let scoped_ok = [
        "/v1/reports",
        "/v1/reports/7",
        "/v1/reports/7;v=2/csv",
        "/v1/reports/a%41b",
    ];
    for target in scoped_ok {
        let reply = send(&url, "GET", target, &[("authorization", &scoped_auth)], b"").unwrap();
        assert_eq!(reply.status, 200, "{target}: {:?}", reply.json());
        assert_eq!(reply.json()["path"], target, "{target}");
    }
    // Without scopes the path is not restricted, and reaches the origin as sent.
    let reply = send(
        &url,
        "GET",
        "/v1/reports/..;/admin",
        &[("authorization", &unscoped_auth)],
        b"",
    )
    .unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["path"], "/v1/reports/..;/admin");
    assert_eq!(received(&edge).len(), before + scoped_ok.len() + 1);
}
