//! Methods through real workerd (issue 9, defect 4): the method is compared
//! exactly as the client sent it. A publishable key without scopes gets
//! exactly GET, HEAD and OPTIONS; a key scoped `GET:/v1/reports` gets GET;
//! every other registered method, and made-up ones, are refused and never
//! reach the origin (body included).

mod raw_http;

use keygate_tests::{Edge, Options};
use raw_http::{key, received, send};
use shared::key::KeyType;

/// The IANA HTTP Method Registry (the file shared's own scope test reads).
fn iana() -> impl Iterator<Item = &'static str> {
    include_str!("../../shared/tests/vectors/http-methods.txt").lines()
}
const MADE_UP: [&str; 6] = ["PURGE", "FOO", "GETS", "get", "Get", "post"];

/// Methods workerd's HTTP parser answers itself (501; 400 for CONNECT,
/// whose target must be an authority) before the worker runs: the edge never
/// sees them, and the test asserts they never reach the origin. Every other
/// method reaches the worker and must be refused by the edge itself.
const REFUSED_BY_WORKERD: [&str; 23] = [
    "BASELINE-CONTROL",
    "BIND",
    "CHECKIN",
    "CONNECT",
    "LABEL",
    "LINK",
    "MKCALENDAR",
    "MKREDIRECTREF",
    "MKWORKSPACE",
    "ORDERPATCH",
    "PRI",
    "REBIND",
    "UNBIND",
    "UNCHECKOUT",
    "UNLINK",
    "UPDATE",
    "UPDATEREDIRECTREF",
    "VERSION-CONTROL",
    "FOO",
    "GETS",
    "get",
    "Get",
    "post",
];

/// What happened to one request.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Forwarded: the origin answered.
    Forwarded,
    /// Refused by the edge with this status and code (`None` for HEAD: no body).
    Refused(u16, Option<String>),
    /// Refused before the worker ran (workerd's HTTP parser), or no answer.
    NotServed(Option<u16>),
}

fn outcome(base: &str, method: &str, authorization: &str) -> Outcome {
    let body: &[u8] = if method == "HEAD" || method == "GET" {
        b""
    } else {
        b"payload"
    };
    let reply = send(
        base,
        method,
        "/v1/reports/7",
        &[("authorization", authorization)],
        body,
    );
    match reply {
        // HEAD answers carry no body: a 200 is the origin's (the edge never
        // answers 200 itself), a 403 the edge's.
        Some(r) if method == "HEAD" => match r.status {
            200 => Outcome::Forwarded,
            403 => Outcome::Refused(403, None),
            status => Outcome::NotServed(Some(status)),
        },
        Some(r) if r.origin_answered() => Outcome::Forwarded,
        Some(r) if r.code() != "<none>" => Outcome::Refused(r.status, Some(r.code())),
        other => Outcome::NotServed(other.map(|r| r.status)),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_allowed_methods_pass_exactly_as_sent() {
    let edge = Edge::start(
        "methods",
        &Options {
            // Preflights are authenticated here, so OPTIONS is a method like any other.
            vars: vec![("CORS_PREFLIGHT".into(), "authenticate".into())],
            ..Options::default()
        },
    );
    let url = edge.url.clone();
    let publishable = format!("Bearer {}", key(&edge, 21, KeyType::Publishable, &[]).await);
    let scoped = format!(
        "Bearer {}",
        key(&edge, 22, KeyType::Secret, &["GET:/v1/reports"]).await
    );
    let scoped_publishable = format!(
        "Bearer {}",
        key(&edge, 23, KeyType::Publishable, &["GET:/v1/reports"]).await
    );
    let before = received(&edge).len();
    let mut not_served = Vec::new();
    let mut forwarded = Vec::new();

    for method in &iana().chain(MADE_UP).collect::<Vec<_>>() {
        for (who, authorization, allowed, refusal) in [
            (
                "publishable",
                &publishable,
                ["GET", "HEAD", "OPTIONS"].as_slice(),
                "publishable_read_only",
            ),
            (
                "GET-scoped",
                &scoped,
                ["GET"].as_slice(),
                "insufficient_scope",
            ),
            (
                "GET-scoped publishable",
                &scoped_publishable,
                ["GET"].as_slice(),
                "insufficient_scope",
            ),
        ] {
            let got = outcome(&url, method, authorization);
            if allowed.contains(method) {
                assert_eq!(got, Outcome::Forwarded, "{who} {method}");
                forwarded.push(*method);
                continue;
            }
            match got {
                Outcome::Refused(status, code) => {
                    assert_eq!(status, 403, "{who} {method}");
                    assert!(code.is_none_or(|c| c == refusal), "{who} {method}");
                }
                Outcome::NotServed(status) => {
                    assert!(
                        REFUSED_BY_WORKERD.contains(method),
                        "{who} {method}: the edge must refuse it, got {status:?}"
                    );
                    assert!(
                        status.is_none_or(|s| s >= 400),
                        "{who} {method}: {status:?}"
                    );
                    not_served.push(format!("{method} ({status:?})"));
                }
                Outcome::Forwarded => panic!("{who} {method} reached the origin"),
            }
        }
    }
    // Only the allowed requests reached the origin, with their method intact.
    let log = received(&edge);
    let methods: Vec<&str> = log[before..]
        .iter()
        .map(|r| r["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, forwarded, "what the origin received");
    println!("refused by workerd before the worker ran: {not_served:?}");
}
