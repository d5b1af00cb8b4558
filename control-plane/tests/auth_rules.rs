//! The control plane's authentication is the edge's decision
//! (`shared::decision`): one credential per request (defect 6), one JWT
//! rule, refusals with the decision's own status, code, message and
//! challenge, and `revoke-tokens` refusing tokens of the revocation's own
//! second and of the allowed clock skew (defect 11). Each test runs on
//! SQLite and, with `DATABASE_URL` set to PostgreSQL, on PostgreSQL.

mod support;

use axum::{
    body::Body,
    http::{header, HeaderValue, Method, Request, StatusCode},
};
use control_plane::clock;
use serde_json::json;
use shared::decision::Rejection;
use shared::key::AccessKey;
use support::{api_token, assert_error, backends, bearer, request, str_field, Api};

/// `GET path` with every given `Authorization` value, as separate fields.
fn with_authorizations(path: &str, values: &[&str]) -> Request<Body> {
    let mut builder = Request::builder().method(Method::GET).uri(path);
    for value in values {
        builder = builder.header(header::AUTHORIZATION, *value);
    }
    builder.body(Body::empty()).expect("a valid request")
}

/// A JWT for this API signed with `key`, issued at `iat`.
/// A client with one secret key: (client id, key text).
async fn client_with_key(api: &Api, name: &str) -> (String, String) {
    let client = api.create_client(&json!({ "name": name })).await;
    let client_id = str_field(&client, "id").to_owned();
    let key = api.create_key(&client_id, &json!({})).await;
    (client_id, str_field(&key, "key").to_owned())
}

#[tokio::test]
async fn two_authorization_fields_are_refused() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let admin = format!("Bearer {}", api.admin);
        let admin = admin.as_str();
        let (_, other) = client_with_key(&api, "second header").await;
        let other = format!("Bearer {other}");
        let other = other.as_str();
        let basic_admin = format!(
            "Basic {}",
            shared::b64::encode_standard(format!("{}:", api.admin).as_bytes())
        );
        let joined = format!("{admin}, {other}");

        // The admin key alone works...
        let alone = api
            .send(with_authorizations("/v1/publish/status", &[admin]))
            .await;
        assert_eq!(alone.status, StatusCode::OK, "[{ctx}] {}", alone.text);
        // ...and with a second field, whatever it holds, it does not.
        #[rustfmt::skip]
        let cases: [(&str, Vec<&str>); 6] = [
            ("a different key second", vec![admin, other]),
            ("a different key first", vec![other, admin]),
            ("the same key twice", vec![admin, admin]),
            ("Bearer and Basic of the same key", vec![admin, basic_admin.as_str()]),
            ("an empty second field", vec![admin, ""]),
            ("two fields joined into one value", vec![joined.as_str()]),
        ];
        for (what, values) in cases {
            let reply = api
                .send(with_authorizations("/v1/publish/status", &values))
                .await;
            assert_error(
                &reply,
                StatusCode::UNAUTHORIZED,
                "malformed_credential",
                &format!("[{ctx}] {what}"),
            );
        }
        backend.finish().await;
    }
}

#[tokio::test]
async fn a_jwt_counts_only_as_a_bearer_credential() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let (client_id, key) = client_with_key(&api, "jwt forms").await;
        let token = api_token(&key, &client_id, clock::now_secs());
        let as_bearer = api
            .send(request(
                Method::GET,
                "/v1/apikeys/self",
                Some(bearer(&token)),
                None,
            ))
            .await;
        assert_eq!(
            as_bearer.status,
            StatusCode::OK,
            "[{ctx}] {}",
            as_bearer.text
        );
        // As a Basic user name it is not a token (the edge's rule): the
        // control plane used to verify it anyway.
        let basic = format!(
            "Basic {}",
            shared::b64::encode_standard(format!("{token}:").as_bytes())
        );
        let as_basic = api
            .send(request(
                Method::GET,
                "/v1/apikeys/self",
                Some(HeaderValue::from_str(&basic).expect("header-safe")),
                None,
            ))
            .await;
        assert_error(
            &as_basic,
            StatusCode::UNAUTHORIZED,
            "malformed_credential",
            &format!("[{ctx}] a JWT as the Basic user name"),
        );
        backend.finish().await;
    }
}

#[tokio::test]
async fn refusals_are_the_decisions_own() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let (client_id, key) = client_with_key(&api, "refusals").await;
        let key_id = AccessKey::parse(&key).expect("parses").key_id().to_owned();
        let revoked = api
            .post(&format!("/v1/keys/{key_id}/revoke"), &json!({}))
            .await;
        assert_eq!(revoked.status, StatusCode::OK, "[{ctx}] {}", revoked.text);
        let token = api_token(&key, &client_id, clock::now_secs());
        let cases = [
            (None, Rejection::MissingCredential),
            (Some(bearer(&key)), Rejection::Revoked),
            (Some(bearer(&token)), Rejection::Revoked),
        ];
        for (authorization, expected) in cases {
            let reply = api
                .send(request(
                    Method::GET,
                    "/v1/apikeys/self",
                    authorization,
                    None,
                ))
                .await;
            let what = format!("[{ctx}] {}", expected.code());
            assert_error(
                &reply,
                StatusCode::from_u16(expected.status()).unwrap(),
                expected.code(),
                &what,
            );
            assert_eq!(reply.json["error"]["message"], expected.message(), "{what}");
            assert_eq!(
                reply
                    .headers
                    .get(header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok()),
                expected.www_authenticate().as_deref(),
                "{what}"
            );
        }
        backend.finish().await;
    }
}

#[tokio::test]
async fn revoke_tokens_refuses_tokens_of_its_own_second_and_of_the_skew() {
    for backend in backends().await {
        let api = Api::new(&backend).await;
        let ctx = backend.label;
        let (client_id, key) = client_with_key(&api, "revoke same second").await;
        let before = api_token(&key, &client_id, clock::now_secs());
        let works =
            |token: &str| request(Method::GET, "/v1/apikeys/self", Some(bearer(token)), None);
        assert_eq!(
            api.send(works(&before)).await.status,
            StatusCode::OK,
            "[{ctx}]"
        );

        let revoked = api
            .post(
                &format!("/v1/clients/{client_id}/revoke-tokens"),
                &json!({}),
            )
            .await;
        assert_eq!(revoked.status, StatusCode::OK, "[{ctx}] {}", revoked.text);
        let cutoff = revoked.json["revoked_before"]
            .as_i64()
            .expect("revoked_before");
        // A token minted earlier in the revocation's second carries exactly
        // `iat = cutoff` (a verifier cannot tell it from one minted after);
        // one from a holder whose clock runs up to the skew (60 s here) ahead
        // carries up to `cutoff + 1 + 60`, yet passes the claims' own checks.
        let skew = shared::jwt::VerifyOptions::default().skew;
        for (what, iat) in [
            ("minted before the revocation", cutoff - 1),
            ("minted earlier in the same second", cutoff),
            ("minted before the call returned", cutoff + 1),
            ("minted by a clock ahead within the skew", cutoff + skew),
        ] {
            let reply = api.send(works(&api_token(&key, &client_id, iat))).await;
            assert_error(
                &reply,
                StatusCode::UNAUTHORIZED,
                "revoked",
                &format!("[{ctx}] {what} (iat {iat}, cutoff {cutoff})"),
            );
        }
        assert_error(
            &api.send(works(&before)).await,
            StatusCode::UNAUTHORIZED,
            "revoked",
            &format!("[{ctx}] the token from before"),
        );
        // The key itself is untouched.
        let static_key = api.send(works(&key)).await;
        assert_eq!(
            static_key.status,
            StatusCode::OK,
            "[{ctx}] {}",
            static_key.text
        );
        backend.finish().await;
    }
}
