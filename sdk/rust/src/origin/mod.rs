//! The origin side: proof that a request came through the edge.
//!
//! The edge adds `X-Keygate-Client-Id`, `-Key-Id`, `-Env`, `-Key-Type` and
//! `-Auth` to every request it forwards, and, with a signing secret
//! configured, `X-Keygate-Signature: t=<unix>,v1=<HMAC-SHA256>` over them,
//! the method and the path (see `shared::origin`). Anyone can send those
//! headers to an origin that is reachable directly; only the edge can sign
//! them. [`EdgeIdentityLayer`] checks the signature and its age, refuses
//! everything else with `401`, and hands handlers an [`EdgeIdentity`]:
//!
//! ```no_run
//! use axum::{routing::get, Json, Router};
//! use keygate_client::origin::{EdgeIdentity, EdgeIdentityLayer};
//! use std::time::Duration;
//!
//! async fn whoami(identity: EdgeIdentity) -> Json<EdgeIdentity> {
//!     Json(identity)
//! }
//!
//! let secret = std::env::var("KEYGATE_ORIGIN_SIGNING_SECRET").unwrap();
//! let app: Router = Router::new()
//!     .route("/whoami", get(whoami))
//!     .layer(EdgeIdentityLayer::new(secret).max_age(Duration::from_secs(300)));
//! ```

mod check;
mod extract;
mod layer;

pub use check::{verify, EdgeSignatureError, DEFAULT_MAX_AGE};
pub use extract::MissingEdgeIdentity;
pub use layer::{EdgeIdentityLayer, EdgeIdentityService};

use serde::Serialize;
pub use shared::key::KeyType;

/// How the caller authenticated at the edge (`X-Keygate-Auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// The access key itself (`Bearer kg_…`, `-u kg_…:`, `?apikey=`).
    Static,
    /// A token signed with the key (from a [`TokenProvider`](crate::TokenProvider)).
    Jwt,
}

impl Auth {
    /// The header value: `static` or `jwt`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Static => "static",
            Self::Jwt => "jwt",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "static" => Some(Self::Static),
            "jwt" => Some(Self::Jwt),
            _ => None,
        }
    }
}

/// Who called, as the edge asserted and signed it. Only
/// [`EdgeIdentityLayer`] (or [`verify`]) makes one from a request, after the
/// signature checked out; as an axum extractor it reads what the layer
/// inserted, and refuses the request when the layer is not installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EdgeIdentity {
    /// The key's client (`cl_…`).
    pub client_id: String,
    /// The key's id.
    pub key_id: String,
    /// The key's environment (`live`, `test`, …).
    pub env: String,
    /// Secret or publishable.
    pub key_type: KeyType,
    /// Static key or signed token.
    pub auth: Auth,
}
