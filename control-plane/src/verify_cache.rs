//! The verification API's two memos, each bounded in time and in space
//! (at most [`CAPACITY`] entries: when full, the expired ones go, and if
//! none has, all of them; a miss only costs the work again), each keyed on
//! SHA-256 of the secret it remembers, never the secret itself:
//!
//! - [`CallerCache`]: verify-key authentications. A service that verifies
//!   thousands of credentials a second presents the same verify key each
//!   time, and checking it costs a database query. An entry lives `ttl` (and
//!   never past the key's own expiry), so a revoked verify key keeps working
//!   for at most `ttl`: the revocation window this adds
//!   (`KEYGATE_VERIFY_CALLER_CACHE_TTL`, 0 turns it off). Only successes
//!   are kept: a refusal is always decided afresh.
//! - [`TtlCache`] of verified tokens (the edge keeps the same): a token's
//!   signature checked once, until the token expires. It adds no window:
//!   the key's and client's state is read and the claims re-checked at every
//!   use, and an entry counts only for the public key it was checked with.

use std::{collections::HashMap, sync::Mutex};

use shared::key::KeyHash;

/// The most entries a cache holds.
pub const CAPACITY: usize = 10_000;

/// Values remembered until a time each, at most [`CAPACITY`] of them.
#[derive(Debug)]
pub struct TtlCache<V> {
    entries: Mutex<HashMap<KeyHash, (V, i64)>>,
}

impl<V> Default for TtlCache<V> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
        }
    }
}

impl<V: Clone> TtlCache<V> {
    /// The value remembered under SHA-256 of `secret`, if still valid at `now_ms`.
    pub fn get(&self, secret: &[u8], now_ms: i64) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(&digest(secret))
            .filter(|(_, until_ms)| now_ms < *until_ms)
            .map(|(value, _)| value.clone())
    }

    /// Remembers `value` under SHA-256 of `secret` until `until_ms`.
    pub fn insert(&self, secret: &[u8], value: V, until_ms: i64, now_ms: i64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY {
            entries.retain(|_, (_, until)| now_ms < *until);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(digest(secret), (value, until_ms));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }
}

/// Verify-key authentications (the key id) remembered for a bounded time.
#[derive(Debug)]
pub struct CallerCache {
    ttl_ms: i64,
    entries: TtlCache<String>,
}

impl CallerCache {
    /// A cache whose entries live `ttl_ms` (0: remember nothing).
    pub fn new(ttl_ms: i64) -> Self {
        Self {
            ttl_ms: ttl_ms.max(0),
            entries: TtlCache::default(),
        }
    }

    /// The key id authenticated by `authorization`, if remembered at `now_ms`.
    pub fn get(&self, authorization: &[u8], now_ms: i64) -> Option<String> {
        if self.ttl_ms == 0 {
            return None;
        }
        self.entries.get(authorization, now_ms)
    }

    /// Remembers that `authorization` authenticated `key_id` at `now_ms`,
    /// until `ttl` has passed or the key expires (`expires_at`, Unix seconds).
    pub fn insert(&self, authorization: &[u8], key_id: &str, expires_at: Option<i64>, now_ms: i64) {
        if self.ttl_ms == 0 {
            return;
        }
        let mut until_ms = now_ms.saturating_add(self.ttl_ms);
        if let Some(at) = expires_at {
            until_ms = until_ms.min(at.saturating_mul(1000));
        }
        self.entries
            .insert(authorization, key_id.to_owned(), until_ms, now_ms);
    }
}

/// SHA-256 (the key hash is exactly that).
fn digest(value: &[u8]) -> KeyHash {
    KeyHash::of_bytes(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_the_ttl_or_the_key() {
        let cache = CallerCache::new(5_000);
        cache.insert(b"Bearer a", "k1", None, 1_000);
        assert_eq!(cache.get(b"Bearer a", 5_999).as_deref(), Some("k1"));
        assert_eq!(cache.get(b"Bearer a", 6_000), None);
        assert_eq!(cache.get(b"Bearer b", 1_000), None);
        // A key expiring at 3 s is not remembered past it.
        cache.insert(b"Bearer c", "k2", Some(3), 1_000);
        assert_eq!(cache.get(b"Bearer c", 2_999).as_deref(), Some("k2"));
        assert_eq!(cache.get(b"Bearer c", 3_000), None);
        let off = CallerCache::new(0);
        off.insert(b"Bearer a", "k1", None, 0);
        assert_eq!(off.get(b"Bearer a", 0), None);
    }

    #[test]
    fn it_stays_bounded() {
        let cache = CallerCache::new(60_000);
        for i in 0..(3 * CAPACITY) {
            cache.insert(format!("Bearer {i}").as_bytes(), "k", None, 0);
            assert!(cache.entries.len() <= CAPACITY);
        }
        let last = format!("Bearer {}", 3 * CAPACITY - 1);
        assert_eq!(cache.get(last.as_bytes(), 1).as_deref(), Some("k"));
    }
}
