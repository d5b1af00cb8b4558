//! A short memo of verify-key authentications, for the verification API's
//! hot path: a service that verifies thousands of credentials a second
//! presents the same verify key each time, and checking it costs a database
//! query per call.
//!
//! Bounded twice: in time, an entry lives `ttl` (and never past the key's
//! own expiry), so a revoked verify key keeps working for at most `ttl`
//! (the revocation window this adds, `KEYGATE_VERIFY_CALLER_CACHE_TTL`,
//! 0 turns it off); in space, at most [`CAPACITY`] entries (when full, the
//! expired ones go, and if none has, all of them: a miss only costs the
//! query). Keyed on SHA-256 of the `Authorization` value, never the value
//! itself. Only successes are kept: a refusal is always decided afresh.

use std::{collections::HashMap, sync::Mutex};

use shared::key::KeyHash;

/// The most verify keys remembered at once.
pub const CAPACITY: usize = 1024;

/// Verify-key authentications remembered for a bounded time.
#[derive(Debug)]
pub struct CallerCache {
    ttl_ms: i64,
    entries: Mutex<HashMap<KeyHash, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    key_id: String,
    until_ms: i64,
}

impl CallerCache {
    /// A cache whose entries live `ttl_ms` (0: remember nothing).
    pub fn new(ttl_ms: i64) -> Self {
        Self {
            ttl_ms: ttl_ms.max(0),
            entries: Mutex::default(),
        }
    }

    /// The key id authenticated by `authorization`, if remembered at `now_ms`.
    pub fn get(&self, authorization: &[u8], now_ms: i64) -> Option<String> {
        if self.ttl_ms == 0 {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        entries
            .get(&digest(authorization))
            .filter(|entry| now_ms < entry.until_ms)
            .map(|entry| entry.key_id.clone())
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
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY {
            entries.retain(|_, entry| now_ms < entry.until_ms);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        let entry = Entry {
            key_id: key_id.to_owned(),
            until_ms,
        };
        entries.insert(digest(authorization), entry);
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
            assert!(cache.entries.lock().unwrap().len() <= CAPACITY);
        }
        let last = format!("Bearer {}", 3 * CAPACITY - 1);
        assert_eq!(cache.get(last.as_bytes(), 1).as_deref(), Some("k"));
    }
}
