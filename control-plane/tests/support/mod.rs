//! Helpers for the control plane's in-process HTTP tests: a fresh database per
//! backend, admin keys bootstrapped the way `keygate admin-key create` does it,
//! and a request helper that returns the status, JSON body and headers.
//!
//! Every test runs its body once per backend:
//!
//! ```ignore
//! for backend in support::backends().await {
//!     let api = support::Api::new(&backend).await;
//!     // ... assertions mention `backend.label` ...
//!     backend.finish().await;
//! }
//! ```
//!
//! SQLite always runs. PostgreSQL runs when `DATABASE_URL` starts with
//! `postgres`; an unreachable server then fails the test instead of skipping
//! it, because CI sets the variable precisely to get PostgreSQL coverage and a
//! silent skip would report green without it.

// Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::{
    path::PathBuf,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode},
    Router,
};
use control_plane::{
    clock,
    config::KeyPolicy,
    db::{self, Db},
    mint, store, AppState,
};
use http_body_util::BodyExt as _;
use serde_json::Value;
use shared::key::{AccessKey, KeyType};
use sqlx::{Connection as _, Executor as _, PgConnection};
use tower::ServiceExt as _;

/// Tells apart the databases of the tests running in parallel in one process.
static NEXT_DATABASE: AtomicUsize = AtomicUsize::new(0);

fn unique_suffix() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
    )
}

/// One test database, migrated and empty.
#[derive(Debug)]
pub struct TestDb {
    /// `sqlite` or `postgres`, for assertion messages.
    pub label: &'static str,
    /// The connected pool.
    pub db: Db,
    /// Where it lives, so `finish` can remove it.
    place: Place,
}

#[derive(Debug)]
enum Place {
    Sqlite {
        dir: PathBuf,
    },
    Postgres {
        server_url: String,
        database: String,
    },
}

/// The databases every test runs against: SQLite always, PostgreSQL when
/// `DATABASE_URL` names one.
pub async fn backends() -> Vec<TestDb> {
    let mut backends = Vec::new();
    for empty in empty_databases().await {
        backends.push(empty.migrate().await);
    }
    backends
}

/// A database that exists but has no tables yet (for migration tests).
#[derive(Debug)]
pub struct EmptyDb {
    /// `sqlite` or `postgres`.
    pub label: &'static str,
    /// Its URL.
    pub url: String,
    place: Place,
}

impl EmptyDb {
    /// Connects the way the control plane does (every migration applied).
    pub async fn migrate(self) -> TestDb {
        let db = db::connect(&self.url).await.unwrap_or_else(|e| {
            panic!(
                "cannot open the test {} database {}: {e:#}",
                self.label, self.url
            )
        });
        TestDb {
            label: self.label,
            db,
            place: self.place,
        }
    }
}

/// One empty database per backend, as [`backends`] names them.
pub async fn empty_databases() -> Vec<EmptyDb> {
    // PostgreSQL first: if it is unreachable the test panics before a SQLite
    // directory exists that nothing would remove.
    let postgres = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => Some(postgres(&url).await),
        _ => None,
    };
    let mut databases = vec![sqlite()];
    databases.extend(postgres);
    databases
}

fn sqlite() -> EmptyDb {
    let dir = std::env::temp_dir().join(format!("keygate-test-{}", unique_suffix()));
    // A directory left by a crashed run with a recycled pid must not leak rows.
    let _ = std::fs::remove_dir_all(&dir);
    EmptyDb {
        label: "sqlite",
        url: format!("sqlite://{}/keygate.db", dir.display()),
        place: Place::Sqlite { dir },
    }
}

async fn postgres(server_url: &str) -> EmptyDb {
    let database = format!("kgtest_{}", unique_suffix());
    let mut server = server_connection(server_url).await;
    for statement in [
        format!("drop database if exists {database}"),
        format!("create database {database}"),
    ] {
        server
            .execute(statement.as_str())
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let _ = server.close().await;
    EmptyDb {
        label: "postgres",
        url: with_database(server_url, &database),
        place: Place::Postgres {
            server_url: server_url.to_owned(),
            database,
        },
    }
}

async fn server_connection(url: &str) -> PgConnection {
    // A blackholed host would otherwise hang for the OS's TCP timeout.
    match tokio::time::timeout(Duration::from_secs(30), PgConnection::connect(url)).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(e)) => panic!("DATABASE_URL is set but PostgreSQL is unreachable: {e}"),
        Err(_) => panic!("DATABASE_URL is set but PostgreSQL did not answer within 30 s"),
    }
}

/// `url` with its database name replaced, query string kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    format!("{base}/{database}{query}")
}

impl TestDb {
    /// Removes the database. Called only when the test body got this far, so
    /// a failing test leaves its database behind for inspection.
    pub async fn finish(self) {
        self.db.pool.close().await;
        match self.place {
            Place::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Place::Postgres {
                server_url,
                database,
            } => {
                let mut server = server_connection(&server_url).await;
                let statement = format!("drop database if exists {database} with (force)");
                server
                    .execute(statement.as_str())
                    .await
                    .unwrap_or_else(|e| panic!("{statement}: {e}"));
                let _ = server.close().await;
            }
        }
    }

    /// The SQLite directory (database file, WAL and shared memory), if any.
    pub fn sqlite_dir(&self) -> Option<&std::path::Path> {
        match &self.place {
            Place::Sqlite { dir } => Some(dir),
            Place::Postgres { .. } => None,
        }
    }
}

/// Stores a key directly, bypassing the API's validation: the only way to
/// get admin keys and keys in states the API never produces (already expired,
/// admin scope outside the admin client).
pub async fn store_key(
    db: &Db,
    client_id: &str,
    scopes: &[&str],
    expires_at: Option<i64>,
) -> AccessKey {
    let key = mint::new_key(KeyType::Secret, "live", client_id).expect("minting a key");
    store::insert_key(
        &db.pool,
        &store::NewKey {
            key_id: key.key_id().to_owned(),
            client_id: client_id.to_owned(),
            env: "live".to_owned(),
            key_type: KeyType::Secret.as_str().to_owned(),
            name: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            key_hash: key.hash().to_string(),
            expires_at,
            public_jwk: None,
        },
        "test",
        clock::now_ms(),
    )
    .await
    .expect("inserting a key");
    key
}

/// Bootstraps an admin key as `keygate admin-key create` does; returns its plaintext.
pub async fn admin_key(db: &Db, expires_at: Option<i64>) -> String {
    store::ensure_admin_client(&db.pool, clock::now_secs())
        .await
        .expect("creating the admin client");
    store_key(db, store::ADMIN_CLIENT_ID, &["admin"], expires_at)
        .await
        .expose()
        .to_owned()
}

/// What came back from one request.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    /// The body as JSON; `Null` when empty, a JSON string when not JSON.
    pub json: Value,
    pub headers: HeaderMap,
    /// The raw body, for "never contains" checks.
    pub text: String,
}

/// The router over one test database, with a bootstrapped admin key.
#[derive(Debug, Clone)]
pub struct Api {
    pub label: &'static str,
    pub app: Router,
    pub admin: String,
}

impl Api {
    /// `app(state)` with the default key policy (environments live and test).
    pub async fn new(backend: &TestDb) -> Self {
        Self::with_policy(backend, KeyPolicy::default()).await
    }

    /// `app(state)` with a given key policy.
    pub async fn with_policy(backend: &TestDb, policy: KeyPolicy) -> Self {
        Self::with_state(backend, AppState::new(backend.db.clone(), policy)).await
    }

    /// `app(state)` over the given state (a fixed clock, say).
    pub async fn with_state(backend: &TestDb, state: AppState) -> Self {
        let admin = admin_key(&backend.db, None).await;
        Self {
            label: backend.label,
            app: control_plane::app(state),
            admin,
        }
    }

    /// Sends any request through the router.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .app
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("reading the response body")
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()))
        };
        Reply {
            status,
            json,
            headers,
            text,
        }
    }

    /// A request with the admin key.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.send(request(method, path, Some(bearer(&self.admin)), body))
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a client and returns its JSON, asserting the 201.
    pub async fn create_client(&self, body: &Value) -> Value {
        let reply = self.post("/v1/clients", body).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "[{}] create client {body}: {}",
            self.label,
            reply.text
        );
        reply.json
    }

    /// Creates a key and returns its JSON (with the plaintext `key`), asserting the 201.
    pub async fn create_key(&self, client_id: &str, body: &Value) -> Value {
        let reply = self
            .post(&format!("/v1/clients/{client_id}/keys"), body)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "[{}] create key {body}: {}",
            self.label,
            reply.text
        );
        reply.json
    }
}

/// A request with an optional `Authorization` value and optional JSON body.
pub fn request(
    method: Method,
    path: &str,
    authorization: Option<HeaderValue>,
    body: Option<&Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(value) = authorization {
        builder = builder.header(header::AUTHORIZATION, value);
    }
    match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    }
    .expect("a valid request")
}

/// A request with a raw body sent as `application/json`.
pub fn raw_request(
    method: Method,
    path: &str,
    admin: &str,
    body: impl Into<Body>,
) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, bearer(admin))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("a valid request")
}

pub fn bearer(key: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {key}")).expect("keys are header-safe")
}

/// Asserts the API's error format: exactly `{"error":{"code","message"}}`.
#[track_caller]
pub fn assert_error(reply: &Reply, status: StatusCode, code: &str, context: &str) {
    assert_eq!(reply.status, status, "{context}: {}", reply.text);
    let top = reply
        .json
        .as_object()
        .unwrap_or_else(|| panic!("{context}: body is not a JSON object: {}", reply.text));
    assert_eq!(
        top.len(),
        1,
        "{context}: extra top-level fields: {}",
        reply.text
    );
    let error = top["error"]
        .as_object()
        .unwrap_or_else(|| panic!("{context}: no error object: {}", reply.text));
    assert_eq!(
        error.len(),
        2,
        "{context}: error has extra fields: {}",
        reply.text
    );
    assert_eq!(error["code"], code, "{context}: {}", reply.text);
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        !message.is_empty(),
        "{context}: empty message: {}",
        reply.text
    );
}

/// Every outbox entry's target id, oldest first, whatever its schedule.
pub async fn outbox_key_ids(db: &Db) -> Vec<String> {
    sqlx::query_scalar("select key_id from outbox order by outbox_id")
        .fetch_all(&db.pool)
        .await
        .expect("reading the outbox")
}

/// How many times `id` is in `ids`.
pub fn count(ids: &[String], id: &str) -> usize {
    ids.iter().filter(|k| *k == id).count()
}

/// A string member of a JSON object, or a panic naming it.
pub fn str_field<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string in {value}"))
}

/// A JWT for the control plane's default audience, signed with `key`'s
/// derived pair, as a key holder's SDK would mint it.
pub fn api_token(key: &str, client_id: &str, issued_at: i64) -> String {
    let key = AccessKey::parse(key).expect("parses");
    let pair = shared::signing::SigningKeyPair::derive(&key).expect("secret key");
    let claims = shared::jwt::MintClaims {
        client_id,
        audience: "http://127.0.0.1:7070",
        issued_at,
        ttl: 300,
        jti: "api-test",
    };
    shared::jwt::mint(&pair, &claims)
}
