//! The one implementation of keygate's credential formats, shared by the edge
//! (compiled to `wasm32-unknown-unknown`) and the control plane (native).
//!
//! This crate does no I/O and never reads a clock: callers pass `now` (Unix
//! seconds) and random bytes in. That keeps it deterministic under test and
//! safe on wasm32, where `SystemTime::now()` panics.
//!
//! ```
//! use shared::key::{AccessKey, KeyType};
//!
//! // The control plane draws these bytes from the OS CSPRNG.
//! let key = AccessKey::from_entropy(KeyType::Secret, "live", None, [7; 12], &[9; 32]).unwrap();
//! let text = key.expose();
//! assert!(text.starts_with("kg_sk_live_"));
//!
//! // Anyone can check the format and checksum offline...
//! let parsed = AccessKey::parse(text).unwrap();
//! assert_eq!(parsed.key_id(), key.key_id());
//! // ...and the edge finds the key in KV by its hash, never by the key itself.
//! assert_eq!(shared::record::static_key_kv_name(&parsed.hash()).len(), 3 + 64);
//! ```
#![warn(missing_docs)]

pub mod b64;
pub mod base62;
pub mod crc32;
pub mod credential;
pub mod decision;
pub mod error;
pub mod headers;
pub mod hex;
mod json;
pub mod jwk;
pub mod jwt;
pub mod key;
pub mod mac;
pub mod origin;
pub mod path;
pub mod record;
pub mod scope;
#[cfg(feature = "mint")]
pub mod signing;

pub use error::Error;
