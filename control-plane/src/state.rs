//! `AppState`: everything a handler may need, and the pieces extractors and
//! middleware take from it through `FromRef` (so `metrics` and the
//! extractors need not know the whole state, and no module imports back the
//! HTTP layer).

use std::sync::Arc;

use axum::extract::FromRef;
use shared::jwt::VerifiedToken;
use tokio::sync::Notify;

use crate::{
    clock::Clock,
    config::{KeyPolicy, VerifyPolicy},
    db::Db,
    kv::Kv,
    metrics::Metrics,
    verify_cache::{CallerCache, TtlCache},
};

/// Everything a handler may need.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// What keys may be issued.
    pub policy: Arc<KeyPolicy>,
    /// What the verification API expects of tokens.
    pub verify: Arc<VerifyPolicy>,
    /// Verify keys recently authenticated (`verify.verify_caller_cache_ttl`).
    pub callers: Arc<CallerCache>,
    /// Tokens whose signature the verification API checked, with the public
    /// key it checked them with (as the edge keeps them).
    pub tokens: Arc<TtlCache<([u8; 32], VerifiedToken)>>,
    /// Woken after every committed change, so the publisher sends it at once.
    pub publish_wake: Arc<Notify>,
    /// Request and minting counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The KV namespace, when configured (for `POST /v1/publish/sync`).
    pub kv: Option<Arc<dyn Kv>>,
    /// The time (fixed in tests).
    pub clock: Clock,
}

impl AppState {
    /// State over a connected database with the given policy and the system clock.
    pub fn new(db: Db, policy: KeyPolicy) -> Self {
        Self {
            db,
            policy: Arc::new(policy),
            verify: Arc::default(),
            callers: Arc::new(CallerCache::new(
                crate::config::DEFAULT_CALLER_CACHE_TTL_SECS * 1000,
            )),
            tokens: Arc::default(),
            publish_wake: Arc::new(Notify::new()),
            metrics: Arc::default(),
            kv: None,
            clock: Clock::system(),
        }
    }

    /// The state with this verification policy (and a caller cache of its TTL).
    #[must_use]
    pub fn with_verify_policy(mut self, policy: VerifyPolicy) -> Self {
        self.callers = Arc::new(CallerCache::new(
            policy.verify_caller_cache_ttl.saturating_mul(1000),
        ));
        self.verify = Arc::new(policy);
        self
    }

    /// Tells the publisher a change was committed.
    pub fn changed(&self) {
        self.publish_wake.notify_one();
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}

impl FromRef<AppState> for Clock {
    fn from_ref(state: &AppState) -> Self {
        state.clock
    }
}
