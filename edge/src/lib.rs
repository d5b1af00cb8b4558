//! keygate's edge: a Cloudflare Worker that lets a request through to the
//! origin only when it carries a valid keygate credential.
//!
//! The worker is a hand-written JavaScript module (`edge/js/entry.mjs`:
//! `export default { fetch }`) around this crate's [`gate::Gate`], a pure
//! state machine compiled to WASM: the entry hands it the request's method,
//! URL and credential header in one synchronous call and gets one short
//! string back (forward, refuse, or the KV read / WebCrypto check it needs
//! first). Records and verified tokens stay decoded inside the gate, so a
//! request whose records are cached costs one call. Every decision is
//! `shared::decision`'s. Only [`exports`] touches JavaScript; the rest is
//! tested natively.

pub mod cache;
pub mod config;
pub mod gate;
pub mod records;
pub mod request_url;
pub mod signature;
pub mod verdict;

#[cfg(target_arch = "wasm32")]
mod exports;
