//! A client of the control plane's verification API (`POST /v1/verify`),
//! for services that are not behind the edge, with a bounded result cache.

mod cache;
mod error;

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use shared::key::{KeyHash, KeyType};

use crate::clock::{Clock, SystemClock};
use crate::origin::Auth;
use cache::Cache;
pub use error::VerifyError;

/// How long a result is reused. This is the revocation window the cache
/// adds: a key revoked now may still verify here for up to this long.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);
/// How many results are kept at most.
pub const DEFAULT_CACHE_SIZE: usize = 10_000;
/// How long one call to the API may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The API's answer: the decision the edge would make for this credential,
/// method and path.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Verification {
    /// Whether the edge would let the request through.
    pub valid: bool,
    /// `valid`, or the edge's refusal code (`invalid_key`, `expired`, …).
    pub code: String,
    /// The status the edge would answer (200, or 401, 403, 503).
    pub status: u16,
    /// The key's client (when valid).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The key's id (when valid).
    #[serde(default)]
    pub key_id: Option<String>,
    /// The key's environment (when valid).
    #[serde(default)]
    pub env: Option<String>,
    /// Secret or publishable (when valid).
    #[serde(default)]
    pub key_type: Option<KeyType>,
    /// Static key or token (when valid).
    #[serde(default)]
    pub auth: Option<Auth>,
    /// The key's scopes (empty: unrestricted).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// When the credential stops being valid (Unix seconds), if it does.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Why it was refused (when not valid).
    #[serde(default)]
    pub message: Option<String>,
}

/// Asks the control plane whether a credential (an access key or a token)
/// would pass the edge for a method and path, and remembers answers for
/// [`cache_ttl`](Self::cache_ttl) (default 30 s: the revocation window the
/// cache adds). Cheap to clone; clones share the cache and the connections.
///
/// Cached: only answers the API gave (`200`), keyed on the SHA-256 of the
/// credential (never the credential itself) with the method and path, and
/// never past the credential's own expiry. Never cached: transport errors,
/// errors of the call itself, and answers whose status is 5xx.
#[derive(Clone)]
pub struct Verifier {
    url: Arc<str>,
    verify_key: Arc<str>,
    audience: Option<Arc<str>>,
    client: Result<reqwest::Client, String>,
    cache: Arc<Cache<Verification>>,
    clock: Arc<dyn Clock>,
}

impl Verifier {
    /// A verifier calling `control_plane_url` with `verify_key` (a key of
    /// scope `verify`: `keygate admin-key create --scope verify`).
    pub fn new(control_plane_url: &str, verify_key: &str) -> Self {
        Self {
            url: format!("{}/v1/verify", control_plane_url.trim_end_matches('/')).into(),
            verify_key: verify_key.into(),
            audience: None,
            client: client(DEFAULT_TIMEOUT),
            cache: Arc::new(Cache::new(secs(DEFAULT_CACHE_TTL), DEFAULT_CACHE_SIZE)),
            clock: Arc::new(SystemClock),
        }
    }

    /// How long answers are reused, whole seconds (0: never). This is how
    /// long a revoked key may still verify here. Starts an empty cache.
    #[must_use]
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache = Arc::new(Cache::new(secs(ttl), self.cache.capacity()));
        self
    }

    /// How many answers are kept at most (0: none); the oldest goes first.
    /// Starts an empty cache.
    #[must_use]
    pub fn cache_size(mut self, size: usize) -> Self {
        self.cache = Arc::new(Cache::new(self.cache.ttl(), size));
        self
    }

    /// The audience tokens must name, when it is not the one the control
    /// plane is configured with.
    #[must_use]
    pub fn audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// How long one call may take (default 10 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.client = client(timeout);
        self
    }

    /// The clock cache entries are aged by (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Whether `credential` would pass the edge for `method` and `path`.
    /// `Ok` with `valid: false` is a refusal (the credential is bad); `Err`
    /// means no answer (the call failed): never treat that as valid.
    pub async fn verify(
        &self,
        credential: &str,
        method: &str,
        path: &str,
    ) -> Result<Verification, VerifyError> {
        let key = format!("{}\n{method}\n{path}", KeyHash::of(credential));
        if let Some(hit) = self.cache.get(&key, self.clock.now()) {
            return Ok(hit);
        }
        let client = self
            .client
            .as_ref()
            .map_err(|e| VerifyError::Client(e.clone()))?;
        let mut body =
            serde_json::json!({ "credential": credential, "method": method, "path": path });
        if let Some(audience) = &self.audience {
            body["audience"] = serde_json::Value::from(&**audience);
        }
        let response = client
            .post(&*self.url)
            .bearer_auth(&self.verify_key)
            .json(&body)
            .send()
            .await
            .map_err(VerifyError::transport)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(VerifyError::transport)?;
        if status != 200 {
            return Err(VerifyError::from_status(status, &bytes));
        }
        let verification: Verification =
            serde_json::from_slice(&bytes).map_err(|e| VerifyError::Decode(e.to_string()))?;
        if verification.status < 500 {
            let now = self.clock.now();
            self.cache
                .insert(key, verification.clone(), now, verification.expires_at);
        }
        Ok(verification)
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// rustls, no proxy lookups beyond reqwest's defaults. A failure to build
/// (no TLS backend) is reported by every `verify`, never a panic.
fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())
}

/// Never prints the verify key.
impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("url", &self.url)
            .field("verify_key", &"<redacted>")
            .field("audience", &self.audience)
            .field("cache_ttl", &self.cache.ttl())
            .field("cache_size", &self.cache.capacity())
            .finish_non_exhaustive()
    }
}
