//! A small bounded cache with per-entry expiry, for one isolate.
//!
//! Workers isolates are single-threaded: a plain map is all that is needed.
//! When full, an entry goes by second chance ("clock"): the oldest insertion
//! goes unless it was read again since it was queued (a second read: the
//! request that fetched a record reads it once), in which case it is queued
//! again with its count cleared. So an entry in use (the key a client sends
//! at every request) survives a flood of entries read once (garbage keys,
//! freshly minted tokens), and eviction stays amortised O(1): each
//! re-queue spends reads that requests made. Never a scan on the request
//! path.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};

/// Reads that earn an entry another pass through the queue.
const SECOND_CHANCE_READS: u8 = 2;

#[derive(Debug)]
struct Entry<V> {
    value: V,
    until_ms: f64,
    /// Reads since it was (re)queued (saturating).
    reads: Cell<u8>,
}

/// Entries keyed by string, each valid until its own deadline (ms).
#[derive(Debug)]
pub struct TtlCache<V> {
    entries: HashMap<String, Entry<V>>,
    order: VecDeque<String>,
    capacity: usize,
}

impl<V> TtlCache<V> {
    /// A cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// The value for `key` if present and not expired at `now_ms`.
    pub fn get(&self, key: &str, now_ms: f64) -> Option<&V> {
        // Expired entries stay until evicted or overwritten, so `order`
        // always names each stored key exactly once.
        let entry = self.entries.get(key)?;
        if entry.until_ms > now_ms {
            entry.reads.set(entry.reads.get().saturating_add(1));
            Some(&entry.value)
        } else {
            None
        }
    }

    /// Stores `value` until `until_ms`, evicting by second chance when full.
    pub fn insert(&mut self, key: String, value: V, until_ms: f64) {
        if self.capacity == 0 {
            return;
        }
        if let Some(entry) = self.entries.get_mut(&key) {
            entry.value = value;
            entry.until_ms = until_ms;
            return;
        }
        while self.entries.len() >= self.capacity {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            match self.entries.get(&oldest) {
                Some(entry) if entry.reads.get() >= SECOND_CHANCE_READS => {
                    entry.reads.set(0);
                    self.order.push_back(oldest);
                }
                _ => {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.order.push_back(key.clone());
        self.entries.insert(
            key,
            Entry {
                value,
                until_ms,
                reads: Cell::new(0),
            },
        );
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
        assert_eq!(cache.get("a", 99.0), Some(&1));
        assert_eq!(cache.get("a", 100.0), None);
        let mut cache = TtlCache::new(3);
        for (i, key) in ["b", "c", "d", "e"].iter().enumerate() {
            cache.insert((*key).into(), i, 1_000.0);
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get("b", 1.0), None, "the oldest unread went first");
        assert_eq!(cache.get("e", 1.0), Some(&3));
        // Re-inserting a key updates it in place.
        let mut cache = TtlCache::new(2);
        cache.insert("live".into(), 1, 2_000.0);
        cache.insert("new".into(), 2, 1_000.0);
        cache.insert("new".into(), 5, 2_000.0);
        assert_eq!(cache.get("new", 1_500.0), Some(&5));
        assert_eq!(cache.get("live", 1_500.0), Some(&1));
        assert!(TtlCache::<u8>::new(0).is_empty());
        // Keys that expire and come back do not grow the bookkeeping.
        let mut cache = TtlCache::new(2);
        for round in 0..100 {
            let now = f64::from(round) * 10.0;
            cache.insert("k".into(), round, now + 5.0);
            assert_eq!(cache.order.len(), 1);
        }
    }

    #[test]
    fn an_entry_in_use_survives_a_flood_of_entries_read_once() {
        let mut flood = TtlCache::new(100);
        flood.insert("good".into(), usize::MAX, 1e12);
        for i in 0..10_000 {
            // The good key is used between the garbage, as a live client would.
            assert_eq!(flood.get("good", 1.0), Some(&usize::MAX), "after {i}");
            // Each garbage entry is read once, by the request that fetched it.
            flood.insert(format!("t{i}"), i, 1e12);
            assert_eq!(flood.get(&format!("t{i}"), 1.0), Some(&i));
        }
        assert_eq!((flood.len(), flood.order.len()), (100, 100));
        assert_eq!(flood.get("t9999", 1.0), Some(&9_999));
        assert_eq!(flood.get("t0", 1.0), None);
        // Without reads, it is plain FIFO: the flood pushes it out.
        let mut fifo = TtlCache::new(100);
        fifo.insert("idle".into(), 0, 1e12);
        for i in 0..100 {
            fifo.insert(format!("t{i}"), i, 1e12);
        }
        assert_eq!(fifo.get("idle", 1.0), None);
    }
}
