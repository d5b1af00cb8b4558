//! keygate for Rust: tokens from an access key, the edge's identity on the
//! origin, and verification for services that are not behind the edge.
//!
//! - [`TokenProvider`]: an access key and an audience in, short-lived
//!   `at+jwt` tokens out, minted offline (no client id to configure, no call
//!   to the control plane), cached and renewed before they expire.
//! - [`origin`]: a tower layer and an axum extractor that accept only
//!   requests the edge signed (`X-Keygate-Signature`) and hand handlers the
//!   caller's [`EdgeIdentity`](origin::EdgeIdentity).
//! - [`Verifier`]: asks the control plane's `POST /v1/verify` whether a
//!   credential would pass the edge, with a bounded, short-lived cache.
//!
//! Key parsing, the Ed25519 derivation, minting and the origin signature
//! are the `shared` crate's, the code the edge and the control plane run.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use keygate_client::TokenProvider;
//!
//! let provider = TokenProvider::new(&std::env::var("KEYGATE_ACCESS_KEY")?, "https://api.example.com")?;
//! let authorization = provider.authorization_header()?; // "Bearer eyJ…", renewed as needed
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod builder;
mod clock;
mod error;
pub mod origin;
mod provider;
mod verify;

pub use builder::{TokenProviderBuilder, DEFAULT_LIFETIME, MAX_LIFETIME};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{KeyError, TokenError};
pub use provider::TokenProvider;
pub use verify::{
    Verification, Verifier, VerifyError, DEFAULT_CACHE_SIZE, DEFAULT_CACHE_TTL, DEFAULT_TIMEOUT,
};
