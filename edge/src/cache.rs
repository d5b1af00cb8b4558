//! A small bounded cache with per-entry expiry, for one isolate.
//!
//! Workers isolates are single-threaded and short-lived; a plain map with a
//! size bound and lazy expiry is all that is needed. When full, the oldest
//! insertion goes (FIFO, O(1)): for entries that all expire within seconds
//! to an hour, close enough to LRU, and never a scan on the request path.

use std::collections::{HashMap, VecDeque};

/// Entries keyed by string, each valid until its own deadline (ms).
#[derive(Debug)]
pub struct TtlCache<V> {
    entries: HashMap<String, (V, f64)>,
    order: VecDeque<String>,
    capacity: usize,
}

impl<V: Clone> TtlCache<V> {
    /// A cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// The value for `key` if present and not expired at `now_ms`.
    pub fn get(&self, key: &str, now_ms: f64) -> Option<V> {
        // Expired entries stay until evicted or overwritten, so `order`
        // always names each stored key exactly once.
        match self.entries.get(key) {
            Some((value, until)) if *until > now_ms => Some(value.clone()),
            _ => None,
        }
    }

    /// Stores `value` until `until_ms`. When full, the oldest insertion
    /// goes (O(1): no scan, so a flood of distinct keys, such as freshly
    /// minted tokens, costs each request the same).
    pub fn insert(&mut self, key: String, value: V, until_ms: f64) {
        if self.capacity == 0 {
            return;
        }
        if !self.entries.contains_key(&key) {
            while self.entries.len() >= self.capacity {
                match self.order.pop_front() {
                    Some(oldest) => {
                        self.entries.remove(&oldest);
                    }
                    None => break,
                }
            }
            self.order.push_back(key.clone());
        }
        self.entries.insert(key, (value, until_ms));
    }

    /// Number of entries (expired ones included until evicted).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::TtlCache;

    #[test]
    fn expires_and_stays_bounded() {
        let mut cache = TtlCache::new(3);
        cache.insert("a".into(), 1, 100.0);
        assert_eq!(cache.get("a", 99.0), Some(1));
        assert_eq!(cache.get("a", 100.0), None);
        for (i, key) in ["b", "c", "d", "e"].iter().enumerate() {
            cache.insert((*key).into(), i, 1_000.0);
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get("b", 1.0), None, "the oldest went first");
        assert_eq!(cache.get("e", 1.0), Some(3));
        // Re-inserting a key updates it in place.
        let mut cache = TtlCache::new(2);
        cache.insert("live".into(), 1, 1_000.0);
        cache.insert("new".into(), 2, 1_000.0);
        cache.insert("new".into(), 5, 2_000.0);
        assert_eq!(cache.get("new", 1_500.0), Some(5));
        assert_eq!(cache.get("live", 1_500.0), None);
        assert!(TtlCache::<u8>::new(0).is_empty());
        // A flood far past capacity stays bounded, in entries and bookkeeping.
        let mut flood = TtlCache::new(100);
        for i in 0..10_000 {
            flood.insert(format!("t{i}"), i, 1e12);
        }
        assert_eq!((flood.len(), flood.order.len()), (100, 100));
        assert_eq!(flood.get("t9999", 1.0), Some(9_999));
        assert_eq!(flood.get("t0", 1.0), None);
        // Keys that expire and come back do not grow the bookkeeping.
        let mut cache = TtlCache::new(2);
        for round in 0..100 {
            let now = f64::from(round) * 10.0;
            cache.insert("k".into(), round, now + 5.0);
            assert_eq!(cache.order.len(), 1);
        }
    }
}
