//! KV values decoded once, when they arrive, and kept decoded: a cache hit
//! costs a map lookup, never a JSON parse or an Ed25519 key check.
//!
//! A value that does not decode is kept as [`Decoded::Undecodable`] (the
//! edge answers 503 for it: fail closed rather than guess) for the short
//! negative TTL, so a fixed record is picked up soon.

use shared::decision::{self, Rejection};
use shared::jwk::VerificationKey;
use shared::record::{ClientRecord, JwkRecord, StaticKeyRecord};

use crate::cache::TtlCache;

/// Bound of the record cache (entries).
pub const CAPACITY: usize = 10_000;

/// What one KV name holds, decoded for the check that reads it.
#[derive(Debug, Clone)]
pub enum Decoded {
    /// `sk:<hash>`: a static key's record (`None`: no such key).
    StaticKey(Option<StaticKeyRecord>),
    /// `jwk:<kid>`: the signing key, already refused if absent, for
    /// another kid, or weak (`shared::decision::token_key`).
    SigningKey(Result<(JwkRecord, VerificationKey), Rejection>),
    /// `client:<id>`: a client's record (`None`: none published).
    Client(Option<ClientRecord>),
    /// A value that is not a record this edge understands.
    Undecodable,
}

impl Decoded {
    /// Decodes the value KV holds under `name` (`None`: nothing).
    pub fn decode(name: &str, value: Option<&str>) -> Self {
        // The prefixes of `shared::record`'s names (a test pins them).
        let decoded = if name.starts_with("sk:") {
            value
                .map(StaticKeyRecord::decode)
                .transpose()
                .map(Decoded::StaticKey)
        } else if let Some(kid) = name.strip_prefix("jwk:") {
            value
                .map(JwkRecord::decode)
                .transpose()
                .map(|record| Decoded::SigningKey(decision::token_key(kid, record)))
        } else if name.starts_with("client:") {
            value
                .map(ClientRecord::decode)
                .transpose()
                .map(Decoded::Client)
        } else {
            return Decoded::Undecodable;
        };
        decoded.unwrap_or(Decoded::Undecodable)
    }

    /// Whether KV held a record (for the cache's TTL).
    fn is_present(&self) -> bool {
        match self {
            Decoded::StaticKey(r) => r.is_some(),
            Decoded::SigningKey(r) => r.is_ok(),
            Decoded::Client(r) => r.is_some(),
            Decoded::Undecodable => false,
        }
    }
}

/// Decoded records by KV name, each trusted for a TTL.
#[derive(Debug)]
pub struct Records {
    cache: TtlCache<Decoded>,
}

impl Records {
    /// An empty cache.
    pub fn new() -> Self {
        Self {
            cache: TtlCache::new(CAPACITY),
        }
    }

    /// What `name` holds, if known at `now_ms`.
    pub fn get(&self, name: &str, now_ms: f64) -> Option<&Decoded> {
        self.cache.get(name, now_ms)
    }

    /// Decodes and keeps what KV answered for `name`: a record for
    /// `ttl_s` seconds, an absence or a bad value for `negative_ttl_s`.
    pub fn supply(
        &mut self,
        name: &str,
        value: Option<&str>,
        now_ms: f64,
        ttl_s: i64,
        negative_ttl_s: i64,
    ) {
        let decoded = Decoded::decode(name, value);
        let ttl = if decoded.is_present() {
            ttl_s
        } else {
            negative_ttl_s
        };
        self.cache
            .insert(name.to_owned(), decoded, now_ms + (ttl as f64) * 1000.0);
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

impl Default for Records {
    fn default() -> Self {
        Self::new()
    }
}
