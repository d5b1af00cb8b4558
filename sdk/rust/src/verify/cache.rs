//! A bounded map of results with a time to live: the verifier's memory of
//! answers it already has. Time is an argument, so the tests need no clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

struct Entry<V> {
    value: V,
    expires_at: i64,
    seq: u64,
}

struct State<V> {
    entries: HashMap<String, Entry<V>>,
    /// Insertion order: with one TTL for all, the oldest entry is also the
    /// one that expires first, so it goes first when the cache is full.
    order: BTreeMap<u64, String>,
    next: u64,
}

/// At most `capacity` entries, each kept at most `ttl` seconds. The lock is
/// held for a map operation only, never across I/O.
pub(crate) struct Cache<V> {
    ttl: i64,
    capacity: usize,
    state: Mutex<State<V>>,
}

impl<V: Clone> Cache<V> {
    pub(crate) fn new(ttl: i64, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            state: Mutex::new(State {
                entries: HashMap::new(),
                order: BTreeMap::new(),
                next: 0,
            }),
        }
    }

    pub(crate) fn ttl(&self) -> i64 {
        self.ttl
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<V>> {
        // Nothing panics while holding the lock; if something did, the map
        // is still consistent enough to serve from.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value stored under `key`, if it has not expired at `now`.
    pub(crate) fn get(&self, key: &str, now: i64) -> Option<V> {
        let mut state = self.state();
        let entry = state.entries.get(key)?;
        if now < entry.expires_at {
            return Some(entry.value.clone());
        }
        let seq = entry.seq;
        state.entries.remove(key);
        state.order.remove(&seq);
        None
    }

    /// Stores `value` at `now` for the TTL, or until `not_after` if that is
    /// sooner (a result must not outlive the credential it describes).
    pub(crate) fn insert(&self, key: String, value: V, now: i64, not_after: Option<i64>) {
        let expires_at = not_after.map_or(now.saturating_add(self.ttl), |limit| {
            limit.min(now.saturating_add(self.ttl))
        });
        if self.capacity == 0 || expires_at <= now {
            return;
        }
        let mut state = self.state();
        if let Some(old) = state.entries.remove(&key) {
            state.order.remove(&old.seq);
        }
        while state.entries.len() >= self.capacity {
            let Some((_, oldest)) = state.order.pop_first() else {
                break;
            };
            state.entries.remove(&oldest);
        }
        let seq = state.next;
        state.next += 1;
        state.order.insert(seq, key.clone());
        state.entries.insert(
            key,
            Entry {
                value,
                expires_at,
                seq,
            },
        );
    }

    /// How many entries are stored (expired ones included until read).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.state().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = Cache::new(30, 10);
        cache.insert("a".into(), 1, 1_000, None);
        assert_eq!(cache.get("a", 1_000), Some(1));
        assert_eq!(cache.get("a", 1_029), Some(1));
        assert_eq!(cache.get("a", 1_030), None);
        assert_eq!(cache.len(), 0, "an expired entry is dropped when read");
        assert_eq!(cache.get("b", 1_000), None);
    }

    #[test]
    fn an_entry_never_outlives_its_credential() {
        let cache = Cache::new(30, 10);
        cache.insert("a".into(), 1, 1_000, Some(1_010));
        assert_eq!(cache.get("a", 1_009), Some(1));
        assert_eq!(cache.get("a", 1_010), None);
        // Already expired: not stored at all.
        cache.insert("b".into(), 2, 1_000, Some(1_000));
        assert_eq!(cache.len(), 0);
        // A later limit than the TTL changes nothing.
        cache.insert("c".into(), 3, 1_000, Some(5_000));
        assert_eq!(cache.get("c", 1_030), None);
    }

    #[test]
    fn the_bound_holds_and_the_oldest_goes_first() {
        let cache = Cache::new(30, 3);
        for (i, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
            cache.insert(key.into(), i, 1_000, None);
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get("a", 1_000), None);
        assert_eq!(cache.get("d", 1_000), Some(3));
        // Replacing a key does not grow the cache nor evict another.
        cache.insert("b".into(), 9, 1_001, None);
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get("b", 1_001), Some(9));
        assert_eq!(cache.get("c", 1_001), Some(2));
        // "c" is now the oldest.
        cache.insert("e".into(), 4, 1_002, None);
        assert_eq!(cache.get("c", 1_002), None);
        for _ in 0..1_000 {
            cache.insert(format!("k{}", cache.len()), 0, 1_002, None);
            assert!(cache.len() <= 3);
        }
    }

    #[test]
    fn zero_ttl_or_capacity_disables_it() {
        let no_ttl = Cache::new(0, 10);
        no_ttl.insert("a".into(), 1, 1_000, None);
        assert_eq!(no_ttl.get("a", 1_000), None);
        let no_room = Cache::new(30, 0);
        no_room.insert("a".into(), 1, 1_000, None);
        assert_eq!(no_room.get("a", 1_000), None);
    }
}
