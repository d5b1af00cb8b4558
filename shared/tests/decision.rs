//! The one decision (`shared::decision`), natively: the static-key path and
//! its refusals in order, the refusal table, credential forms and
//! authorization (tokens: `decision_tokens.rs`). Moved here from the edge's
//! `gate.rs` with their assertions; the edge and the control plane both
//! call this code.

use shared::credential::extract;
use shared::decision::{
    authorize, check_static_key, decide, Credential, Records, Rejection, TokenPolicy,
    VerifiedCaller,
};
use shared::key::{AccessKey, KeyType};
use shared::record::{StaticKeyRecord, RECORD_VERSION};

fn key_of(key_type: KeyType, env: &str) -> AccessKey {
    AccessKey::from_entropy(key_type, env, None, [3; 12], &[4; 32]).unwrap()
}

fn key(env: &str) -> AccessKey {
    key_of(KeyType::Secret, env)
}

fn record_for(key: &AccessKey) -> StaticKeyRecord {
    StaticKeyRecord {
        v: RECORD_VERSION,
        client_id: "cl_1".to_owned(),
        key_id: key.key_id().to_owned(),
        env: key.environment().to_owned(),
        key_type: key.key_type(),
        scopes: vec![],
        expires_at: None,
        revoked_at: None,
        client_disabled: false,
        rev: 1,
    }
}

#[test]
fn accepts_a_live_record() {
    let key = key("live");
    let caller = check_static_key(&key, Some(record_for(&key)), 100).unwrap();
    assert_eq!(caller.client_id, "cl_1");
    assert_eq!(caller.env, "live");
    assert_eq!(caller.headers()[1], ("x-keygate-key-id", key.key_id()));
    assert_eq!(caller.headers()[4], ("x-keygate-auth", "static"));
}

#[test]
fn refusals_in_order() {
    let key = key("live");
    assert_eq!(
        check_static_key(&key, None, 0),
        Err(Rejection::InvalidCredential)
    );

    let mut revoked = record_for(&key);
    revoked.revoked_at = Some(5);
    revoked.expires_at = Some(1);
    assert_eq!(
        check_static_key(&key, Some(revoked), 10),
        Err(Rejection::Revoked)
    );

    let mut expiring = record_for(&key);
    expiring.expires_at = Some(10);
    assert!(check_static_key(&key, Some(expiring.clone()), 9).is_ok());
    assert_eq!(
        check_static_key(&key, Some(expiring), 10),
        Err(Rejection::Expired)
    );

    let mut disabled = record_for(&key);
    disabled.client_disabled = true;
    assert_eq!(
        check_static_key(&key, Some(disabled), 0),
        Err(Rejection::ClientDisabled)
    );
    assert_eq!(Rejection::ClientDisabled.status(), 403);

    let mut other_env = record_for(&key);
    other_env.env = "test".to_owned();
    assert_eq!(
        check_static_key(&key, Some(other_env), 0),
        Err(Rejection::InvalidCredential)
    );
}

#[test]
fn statuses_bodies_and_challenges() {
    assert_eq!(Rejection::MissingCredential.status(), 401);
    assert_eq!(Rejection::HttpsRequired.status(), 403);
    assert_eq!(Rejection::Unavailable.status(), 503);
    let body: serde_json::Value = serde_json::from_str(&Rejection::Revoked.body()).unwrap();
    assert_eq!(body["error"]["code"], "revoked");
    assert_eq!(body["error"]["message"], Rejection::Revoked.message());
    assert_eq!(
        Rejection::MissingCredential.www_authenticate().as_deref(),
        Some(r#"Bearer realm="keygate""#)
    );
    assert!(Rejection::Expired
        .www_authenticate()
        .unwrap()
        .contains(r#"error="invalid_token""#));
    assert_eq!(Rejection::WrongEnvironment.www_authenticate(), None);
}

/// A caller as the decision makes one: through `check_static_key`.
fn caller(key_type: KeyType, scopes: &[&str]) -> VerifiedCaller {
    let key = key_of(key_type, "live");
    let mut record = record_for(&key);
    record.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    check_static_key(&key, Some(record), 0).unwrap()
}

#[test]
fn authorization_by_scope_and_key_type() {
    assert_eq!(
        authorize(&caller(KeyType::Secret, &[]), "DELETE", "/x"),
        Ok(())
    );
    let scoped = caller(KeyType::Secret, &["GET:/v1/reports"]);
    assert_eq!(authorize(&scoped, "GET", "/v1/reports/1"), Ok(()));
    assert_eq!(
        authorize(&scoped, "POST", "/v1/reports"),
        Err(Rejection::InsufficientScope)
    );
    assert_eq!(
        authorize(&scoped, "GET", "/v1/admin"),
        Err(Rejection::InsufficientScope)
    );
    let publishable = caller(KeyType::Publishable, &[]);
    assert_eq!(authorize(&publishable, "GET", "/x"), Ok(()));
    assert_eq!(
        authorize(&publishable, "POST", "/x"),
        Err(Rejection::PublishableReadOnly)
    );
    let writer = caller(KeyType::Publishable, &["POST:/v1/events"]);
    assert_eq!(authorize(&writer, "POST", "/v1/events"), Ok(()));
    assert_eq!(
        authorize(&writer, "GET", "/v1/other"),
        Err(Rejection::InsufficientScope)
    );
    assert_eq!(Rejection::InsufficientScope.status(), 403);
    assert_eq!(Rejection::PublishableReadOnly.status(), 403);
}

#[test]
fn decide_authenticates_then_authorizes() {
    let key = key_of(KeyType::Publishable, "live");
    let presented = extract(&[&format!("Bearer {}", key.expose())], None)
        .unwrap()
        .unwrap();
    let policy = TokenPolicy {
        audience: "https://edge.example",
        max_lifetime: 3600,
        skew: 60,
    };
    let records = |record: Option<StaticKeyRecord>| Records {
        static_key: record,
        ..Records::default()
    };
    let run = |method: &str, record| {
        let credential = Credential::parse(&presented).unwrap();
        decide(credential, method, "/x", 0, records(record), &policy)
    };
    let caller = run("GET", Some(record_for(&key))).unwrap();
    assert_eq!(caller.key_id, key.key_id());
    assert_eq!(
        run("POST", Some(record_for(&key))),
        Err(Rejection::PublishableReadOnly)
    );
    assert_eq!(run("GET", None), Err(Rejection::InvalidCredential));
}

#[test]
fn credentials_are_sorted_by_the_one_rule() {
    let key = key("live");
    let presented = extract(&[&format!("Bearer {}", key.expose())], None)
        .unwrap()
        .unwrap();
    assert!(matches!(
        Credential::parse(&presented),
        Ok(Credential::AccessKey(k)) if k.key_id() == key.key_id()
    ));
    let garbage = extract(&["Bearer garbage"], None).unwrap().unwrap();
    assert!(matches!(
        Credential::parse(&garbage),
        Err(Rejection::MalformedCredential(_))
    ));
    let token = extract(&["Bearer a.b.c"], None).unwrap().unwrap();
    assert!(matches!(
        Credential::parse(&token),
        Err(Rejection::InvalidToken(_))
    ));
    // A dotted credential in the query is a (malformed) key, never a token.
    let query = extract(&[], Some("a.b.c")).unwrap().unwrap();
    assert!(matches!(
        Credential::parse(&query),
        Err(Rejection::MalformedCredential(_))
    ));
}
