//! An in-memory KV namespace, for tests and benchmarks: it keeps what was
//! written (with its metadata) and a log of every write in arrival order.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use super::{Kv, KvFuture, KvPair, ListedKey, RecordMeta};

/// One pair as it arrived.
#[derive(Debug, Clone)]
pub struct Written {
    /// KV key.
    pub key: String,
    /// The record's revision (its metadata).
    pub rev: i64,
    /// The record.
    pub value: String,
    /// When it arrived.
    pub at: Instant,
}

#[derive(Debug, Default)]
struct Namespace {
    values: BTreeMap<String, (String, RecordMeta)>,
    log: Vec<Written>,
}

/// A namespace in memory; clones share it.
#[derive(Debug, Clone, Default)]
pub struct MemoryKv {
    namespace: Arc<Mutex<Namespace>>,
    delay: Duration,
}

impl MemoryKv {
    /// An empty namespace that answers at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty namespace whose writes take `delay` (so concurrent
    /// publishers overlap, as against the real API).
    pub fn with_delay(delay: Duration) -> Self {
        Self {
            delay,
            ..Self::default()
        }
    }

    /// Every pair written so far, in arrival order.
    pub fn writes(&self) -> Vec<Written> {
        self.lock().log.clone()
    }

    /// Forgets the write log (the values stay).
    pub fn clear_writes(&self) {
        self.lock().log.clear();
    }

    /// The current value of `key`.
    pub fn value(&self, key: &str) -> Option<String> {
        self.lock().values.get(key).map(|(value, _)| value.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Namespace> {
        // A test that panicked while holding the lock left the data intact.
        self.namespace
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Kv for MemoryKv {
    fn bulk_put<'a>(&'a self, pairs: &'a [KvPair]) -> KvFuture<'a, ()> {
        Box::pin(async move {
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            let at = Instant::now();
            let mut namespace = self.lock();
            for pair in pairs {
                namespace
                    .values
                    .insert(pair.key.clone(), (pair.value.clone(), pair.metadata));
                namespace.log.push(Written {
                    key: pair.key.clone(),
                    rev: pair.metadata.rev,
                    value: pair.value.clone(),
                    at,
                });
            }
            Ok(())
        })
    }

    fn bulk_delete<'a>(&'a self, keys: &'a [String]) -> KvFuture<'a, ()> {
        Box::pin(async move {
            let mut namespace = self.lock();
            for key in keys {
                namespace.values.remove(key);
            }
            Ok(())
        })
    }

    fn list_all(&self) -> KvFuture<'_, Vec<ListedKey>> {
        Box::pin(async move {
            Ok(self
                .lock()
                .values
                .iter()
                .map(|(name, (_, metadata))| ListedKey {
                    name: name.clone(),
                    metadata: Some(*metadata),
                })
                .collect())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> KvFuture<'a, Option<String>> {
        Box::pin(async move { Ok(self.value(key)) })
    }
}
