//! A small bounded cache with per-entry expiry, for one isolate.
//!
//! Workers isolates are single-threaded and short-lived; a plain map with a
//! size bound and lazy expiry is all that is needed. When full, expired
//! entries go first, then the oldest insertions (FIFO): simple, and for a
//! cache whose entries all expire within seconds, as good as LRU.

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

    /// Stores `value` until `until_ms`.
    pub fn insert(&mut self, key: String, value: V, until_ms: f64, now_ms: f64) {
        if self.capacity == 0 {
            return;
        }
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            self.entries.retain(|_, (_, until)| *until > now_ms);
            self.order.retain(|k| self.entries.contains_key(k));
            while self.entries.len() >= self.capacity {
                match self.order.pop_front() {
                    Some(oldest) => {
                        self.entries.remove(&oldest);
                    }
                    None => break,
                }
            }
        }
        if self
            .entries
            .insert(key.clone(), (value, until_ms))
            .is_none()
        {
            self.order.push_back(key);
        }
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
        cache.insert("a".into(), 1, 100.0, 0.0);
        assert_eq!(cache.get("a", 99.0), Some(1));
        assert_eq!(cache.get("a", 100.0), None);
        for (i, key) in ["b", "c", "d", "e"].iter().enumerate() {
            cache.insert((*key).into(), i, 1_000.0, 0.0);
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get("b", 1.0), None, "the oldest went first");
        assert_eq!(cache.get("e", 1.0), Some(3));
        // Expired entries are evicted before live ones.
        let mut cache = TtlCache::new(2);
        cache.insert("old".into(), 0, 10.0, 0.0);
        cache.insert("live".into(), 1, 1_000.0, 0.0);
        cache.insert("new".into(), 2, 1_000.0, 20.0);
        assert_eq!(cache.get("live", 21.0), Some(1));
        assert_eq!(cache.get("new", 21.0), Some(2));
        // Re-inserting a key updates it in place.
        cache.insert("new".into(), 5, 2_000.0, 21.0);
        assert_eq!(cache.get("new", 1_500.0), Some(5));
        assert!(TtlCache::<u8>::new(0).is_empty());
        // Keys that expire and come back do not grow the bookkeeping.
        let mut cache = TtlCache::new(2);
        for round in 0..100 {
            let now = f64::from(round) * 10.0;
            cache.insert("k".into(), round, now + 5.0, now);
            assert_eq!(cache.order.len(), 1);
        }
    }
}
