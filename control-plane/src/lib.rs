//! keygate's control plane, as a library so the `keygate` binary, the tests
//! and the benchmarks share one code path.
//!
//! A tour, in the order a request meets the code:
//! - [`config`]: every setting, from flags or the environment;
//! - [`serve`]: `keygate serve`: tracing, the database, the publisher task,
//!   the HTTP server with its limits (head size, header and request
//!   timeouts), graceful shutdown;
//! - [`state`]: `AppState`, and the parts extractors take from it;
//! - [`http`]: `app(state) -> Router`, one module per resource (`clients`,
//!   `keys`, `self_service`, `publish`, `audit`, `ops`, `verify`), the extractors
//!   (`http::extract`) and paging (`http::page`);
//! - [`auth`]: who is calling: an admin key, a verify key (for
//!   `POST /v1/verify`, remembered briefly by [`verify_cache`]), or any key
//!   (or a JWT it signed) for the self-service endpoints, checked with
//!   `shared`'s code;
//! - [`error`]: `ApiError`, every failure with one status and stable code;
//! - [`metrics`]: request and minting counters with bounded labels;
//! - [`clock`]: the one clock, injectable through the state;
//! - [`mint`]: new ids and keys from the OS's randomness;
//! - [`store`]: all SQL, one module per table, one set of queries for SQLite
//!   and PostgreSQL, each change committed with its outbox entry and audit row;
//! - [`db`]: connecting (the SQLite file private to its owner) and migrating;
//! - [`records`]: the KV records of a key or client, built from rows (pure);
//! - [`kv`]: the `Kv` trait, the Cloudflare REST client and an in-memory
//!   namespace for tests and benchmarks;
//! - [`publisher`]: the outbox drained into KV, with backoff;
//! - [`sync`]: the re-sync of KV with the database (a pure diff and a shell);
//! - [`backfill`]: keys for clients that have none in an environment;
//! - [`openapi`]: `/openapi.json`, checked against the router by the tests;
//! - [`cli`]: the `keygate` command line.

pub mod auth;
pub mod backfill;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod kv;
pub mod metrics;
pub mod mint;
pub mod openapi;
pub mod publisher;
pub mod records;
pub mod serve;
pub mod state;
pub mod store;
pub mod sync;
pub mod verify_cache;

pub use http::app;
pub use state::AppState;
