//! Workers KV as the publisher and the re-sync see it: the [`Kv`] trait
//! (bulk write, bulk delete, list, read one value), the Cloudflare REST
//! client ([`CloudflareKv`]) and an in-memory namespace ([`MemoryKv`]) for
//! tests and benchmarks.

mod cloudflare;
mod memory;

use std::{future::Future, pin::Pin, time::Duration};

use serde::{Deserialize, Serialize};

pub(crate) use cloudflare::encode_path_segment;
pub use cloudflare::CloudflareKv;
pub use memory::{MemoryKv, Written};

/// Documented limit: at most 10,000 pairs per bulk request.
pub const MAX_BULK_PAIRS: usize = 10_000;

/// One key-value pair of a bulk write.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KvPair {
    /// KV key.
    pub key: String,
    /// KV value (a JSON record, sent as a string).
    pub value: String,
    /// Absolute expiry, Unix seconds (KV requires it at least 60 s ahead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
    /// KV metadata: `{"rev": n}`, the record's revision, so a re-sync can
    /// compare KV with the database from a key listing alone.
    pub metadata: RecordMeta,
}

/// The metadata stored with every record.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct RecordMeta {
    /// The record's revision.
    pub rev: i64,
}

/// One key of a namespace listing.
#[derive(Debug, Clone, Deserialize)]
pub struct ListedKey {
    /// The KV key.
    pub name: String,
    /// Its metadata, if any.
    #[serde(default)]
    pub metadata: Option<RecordMeta>,
}

/// Why a KV call failed.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// No answer (connection refused, time-out, …): retry.
    #[error("KV API unreachable: {0}")]
    Transport(String),
    /// The API answered with an error status.
    #[error("KV API answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The API's error messages (never our values).
        message: String,
        /// Seconds from `Retry-After`, if given.
        retry_after: Option<u64>,
    },
}

impl KvError {
    /// Whether the same request may succeed later (429, 5xx, transport).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Status { status, .. } => *status == 429 || *status >= 500,
        }
    }

    /// The server's requested delay, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => retry_after.map(Duration::from_secs),
            Self::Transport(_) => None,
        }
    }
}

/// What a [`Kv`] call returns.
pub type KvFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, KvError>> + Send + 'a>>;

/// A Workers KV namespace.
pub trait Kv: Send + Sync + std::fmt::Debug {
    /// Writes pairs (in as many documented-size batches as needed).
    fn bulk_put<'a>(&'a self, pairs: &'a [KvPair]) -> KvFuture<'a, ()>;
    /// Deletes keys (in documented-size batches).
    fn bulk_delete<'a>(&'a self, keys: &'a [String]) -> KvFuture<'a, ()>;
    /// Every key of the namespace with its metadata.
    fn list_all(&self) -> KvFuture<'_, Vec<ListedKey>>;
    /// One value; `None` if the key does not exist.
    fn get<'a>(&'a self, key: &'a str) -> KvFuture<'a, Option<String>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_classification() {
        let status = |status| KvError::Status {
            status,
            message: String::new(),
            retry_after: Some(3),
        };
        assert!(status(429).is_retryable() && status(503).is_retryable());
        assert!(!status(400).is_retryable() && !status(403).is_retryable());
        assert_eq!(status(429).retry_after(), Some(Duration::from_secs(3)));
        assert!(KvError::Transport("x".to_owned()).is_retryable());
    }
}
