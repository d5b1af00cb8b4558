//! keygate's control plane, as a library so the `keygate` binary, the tests
//! and the benchmarks share one code path.
//!
//! A guided tour, in the order a request meets the code:
//! - [`config`]: every setting, from flags or the environment;
//! - [`api`]: `app(state) -> Router`, the HTTP API under `/v1`;
//! - [`auth`]: admin-key authentication, verified with `shared`'s key code;
//! - [`store`]: all SQL, one backend-neutral set of queries for SQLite and PostgreSQL;
//! - [`db`]: connecting and migrating either backend;
//! - [`publisher`] and [`kv`]: the outbox drained into Workers KV through the
//!   Cloudflare REST API;
//! - [`cli`]: the `keygate` command line, which talks to the API over HTTP.

pub mod api;
pub mod auth;
pub mod backfill;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod kv;
pub mod metrics;
pub mod mint;
pub mod openapi;
pub mod publisher;
pub mod serve;
pub mod store;
pub mod sync;

pub use api::{app, AppState};
