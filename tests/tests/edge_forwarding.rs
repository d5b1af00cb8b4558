//! What the origin receives, through real workerd (issue 9, defects 7 and
//! 8): no `apikey` query parameter however it is spelt and whatever the route
//! (keyed, public path, CORS preflight), the other parameters byte for byte
//! and in order; and no incoming header that an origin could read as an
//! `X-Keygate-*` identity header (`X_Keygate_Client_Id`, …).

mod raw_http;

use keygate_tests::{Edge, Options};
use raw_http::{key, send, Raw};
use shared::key::KeyType;

/// The query around the credential; it must arrive exactly like this.
const KEEP: &str = "a=1&b=%2F+c%20d&a=2&&z=%E2%82%AC&api_key=not-the-credential";

fn b64(text: &str) -> String {
    shared::b64::encode_standard(text.as_bytes())
}

fn raw_query(reply: &Raw) -> Option<String> {
    assert!(
        reply.origin_answered(),
        "not forwarded: {} {}",
        reply.status,
        reply.code()
    );
    reply.json()["raw_query"].as_str().map(str::to_owned)
}

fn forged_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("X_Keygate_Client_Id", "cl_forged"),
        ("X-Keygate_Client-Id", "cl_forged"),
        ("x_keygate_key_id", "forged"),
        ("X-KEYGATE-ENV", "forged"),
        ("X-Keygate-Key-Type", "forged"),
        ("x.keygate.auth", "forged"),
        ("X_KEYGATE_SIGNATURE", "forged"),
        ("x-keygate-", "forged"),
    ]
}

/// No header at the origin is reserved unless it is one the edge set itself.
fn assert_no_forged_header(reply: &Raw, keyed: bool) {
    let headers = reply.json()["headers"].clone();
    let headers = headers.as_object().expect("echoed headers");
    for (name, value) in headers {
        if shared::headers::is_reserved(name) {
            assert!(keyed, "{name} reached the origin on a public path");
            assert!(
                [
                    "x-keygate-client-id",
                    "x-keygate-key-id",
                    "x-keygate-env",
                    "x-keygate-key-type",
                    "x-keygate-auth"
                ]
                .contains(&name.as_str()),
                "{name} reached the origin"
            );
            assert!(
                !value.as_str().unwrap_or("").contains("forged"),
                "{name}: {value}"
            );
        }
    }
}

/// Defect 8: on keyed and public paths (and preflights), no spelling of an
/// `X-Keygate-*` header the caller sends reaches the origin.
#[tokio::test(flavor = "multi_thread")]
async fn forged_identity_headers_never_reach_the_origin() {
    let edge = Edge::start(
        "forged-headers",
        &Options {
            vars: vec![("PUBLIC_PATHS".into(), "/public".into())],
            ..Options::default()
        },
    );
    let bearer = format!("Bearer {}", key(&edge, 34, KeyType::Secret, &[]).await);
    let mut keyed = forged_headers();
    keyed.push(("authorization", &bearer));
    let reply = send(&edge.url, "GET", "/v1/x", &keyed, b"").unwrap();
    assert_eq!(reply.status, 200);
    assert_no_forged_header(&reply, true);
    assert_eq!(reply.json()["headers"]["x-keygate-client-id"], "cl_34");
    let reply = send(&edge.url, "POST", "/public/x", &forged_headers(), b"x").unwrap();
    assert_eq!(reply.status, 200);
    assert_no_forged_header(&reply, false);
    let mut preflight = forged_headers();
    preflight.push(("origin", "https://app.example"));
    preflight.push(("access-control-request-method", "POST"));
    let reply = send(&edge.url, "OPTIONS", "/v1/x", &preflight, b"").unwrap();
    assert_eq!(reply.json()["method"], "OPTIONS");
    assert_no_forged_header(&reply, false);
}

/// Defect 7: `apikey` never reaches the origin, however it is spelt and
/// whatever the route; the rest of the query arrives byte for byte.
#[tokio::test(flavor = "multi_thread")]
async fn apikey_never_reaches_the_origin() {
    // Query credentials allowed: the key may come as ?apikey=, in any spelling.
    let edge = Edge::start(
        "forwarding",
        &Options {
            vars: vec![
                ("ALLOW_QUERY_PARAM".into(), "true".into()),
                ("PUBLIC_PATHS".into(), "/public".into()),
            ],
            ..Options::default()
        },
    );
    let url = edge.url.clone();
    let secret = key(&edge, 31, KeyType::Secret, &[]).await;
    let bearer = format!("Bearer {secret}");
    let basic = format!("Basic {}", b64(&format!("{secret}:")));
    let spellings = [
        "apikey",
        "APIKEY",
        "ApiKey",
        "api%6Bey",
        "api%6bey",
        "apikey%20",
        "apikey[]",
    ];

    for name in spellings {
        for authorization in [Some(bearer.as_str()), Some(basic.as_str()), None] {
            // The key in the header and the query, or in the query alone.
            let target = format!(
                "/v1/x?a=1&{name}={secret}&b=%2F+c%20d&a=2&&z=%E2%82%AC&api_key=not-the-credential"
            );
            let mut headers = forged_headers();
            if let Some(authorization) = authorization {
                headers.push(("authorization", authorization));
            }
            let reply = send(&url, "GET", &target, &headers, b"").unwrap();
            assert_eq!(
                reply.status,
                200,
                "{target} {authorization:?}: {}",
                reply.code()
            );
            assert_eq!(
                raw_query(&reply).as_deref(),
                Some(KEEP),
                "{target} {authorization:?}"
            );
            assert!(!String::from_utf8_lossy(&reply.body).contains(&secret));
            assert_no_forged_header(&reply, true);
            assert_eq!(reply.json()["headers"]["x-keygate-client-id"], "cl_31");
        }
    }
    // Repeated, the same key: one credential, none of it forwarded.
    let reply = send(
        &url,
        "GET",
        &format!("/q?apikey={secret}&k=v&APIKEY={secret}"),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(raw_query(&reply).as_deref(), Some("k=v"));
    let reply = send(&url, "GET", &format!("/q?apikey={secret}"), &[], b"").unwrap();
    assert_eq!(raw_query(&reply), None, "nothing left: no `?` at all");
    // Two different values: ambiguous, refused.
    let other = key(&edge, 32, KeyType::Secret, &[]).await;
    for target in [
        format!("/q?apikey={secret}&APIKEY={other}"),
        format!("/q?apikey={secret}&apikey"),
        format!("/q?apikey=&api%6Bey={secret}"),
    ] {
        let reply = send(&url, "GET", &target, &[], b"").unwrap();
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (401, "malformed_credential"),
            "{target}"
        );
    }

    // Public paths and preflights: no key needed, and any apikey is dropped.
    let anything = [
        "apikey=kg_sk_live_whatever",
        "APIKEY=x",
        "api%6Bey=x",
        "apikey",
        "apikey=",
        "apikey+=x",
        "apikey=x&apikey=y",
    ];
    for query in anything {
        let target = format!("/public/doc?{query}&{KEEP}");
        let reply = send(&url, "GET", &target, &forged_headers(), b"").unwrap();
        assert_eq!(raw_query(&reply).as_deref(), Some(KEEP), "{target}");
        assert_no_forged_header(&reply, false);
        assert!(reply.json()["headers"].get("x-keygate-client-id").is_none());

        let target = format!("/v1/data?{KEEP}&{query}");
        let mut headers = forged_headers();
        headers.push(("origin", "https://app.example"));
        headers.push(("access-control-request-method", "POST"));
        let reply = send(&url, "OPTIONS", &target, &headers, b"").unwrap();
        assert_eq!(reply.json()["method"], "OPTIONS");
        assert_eq!(
            raw_query(&reply).as_deref(),
            Some(KEEP),
            "preflight {target}"
        );
        assert_no_forged_header(&reply, false);
    }
    drop(edge);

    // Query credentials not allowed: an apikey in the query is not a
    // credential, and still never forwarded next to the real one.
    let edge = Edge::start("forwarding-no-query", &Options::default());
    let secret = key(&edge, 33, KeyType::Secret, &[]).await;
    let bearer = format!("Bearer {secret}");
    for query in [
        format!("apikey={secret}"),
        format!("ApiKey={secret}"),
        "apikey".to_owned(),
        "apikey=".to_owned(),
        "apikey=x&APIKEY=y".to_owned(),
    ] {
        let target = format!("/v1/x?{KEEP}&{query}");
        let reply = send(
            &edge.url,
            "PUT",
            &target,
            &[("authorization", &bearer)],
            b"body",
        )
        .unwrap();
        assert_eq!(raw_query(&reply).as_deref(), Some(KEEP), "{target}");
        assert_eq!(reply.json()["body_bytes"], 4);
        let reply = send(&edge.url, "GET", &target, &[], b"").unwrap();
        assert_eq!(
            (reply.status, reply.code().as_str()),
            (401, "missing_credential")
        );
    }
}
