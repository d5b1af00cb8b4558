//! Short-lived tokens from an access key: minted offline, cached, and
//! renewed a margin before they expire.

use core::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use shared::jwt::{mint, MintClaims};
use shared::signing::SigningKeyPair;

use crate::clock::Clock;
use crate::{KeyError, TokenError, TokenProviderBuilder};

pub(crate) type JtiSource = Arc<dyn Fn() -> Result<String, TokenError> + Send + Sync>;

/// 16 bytes from the OS, base64url: unique per token (128 bits).
pub(crate) fn random_jti() -> Result<String, TokenError> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(shared::b64::encode_url(&bytes))
}

/// What [`TokenProviderBuilder::build`] checked.
pub(crate) struct Settings {
    pub(crate) pair: SigningKeyPair,
    pub(crate) client_id: String,
    pub(crate) audience: String,
    pub(crate) lifetime: i64,
    pub(crate) margin: i64,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) jti: JtiSource,
}

/// A token and the window in which it is handed out.
struct Cached {
    token: Arc<str>,
    issued_at: i64,
    renew_at: i64,
}

impl Cached {
    /// A clock that went backwards (before `iat`) also renews: a token
    /// dated in the future may be refused by the edge.
    fn serves(&self, now: i64) -> bool {
        (self.issued_at..self.renew_at).contains(&now)
    }
}

struct Inner {
    settings: Settings,
    current: RwLock<Option<Arc<Cached>>>,
}

/// Signed tokens (`at+jwt`, EdDSA) for one access key and one audience.
///
/// Built offline from the key and the audience: the key carries its client
/// id and its secret seeds the Ed25519 pair the edge checks tokens with.
/// [`token`](Self::token) returns the cached token until `refresh_margin`
/// before it expires, then mints a new one (a few tens of microseconds, no
/// I/O, so calling it from async code never blocks the runtime).
///
/// Cheap to clone (clones share the cache) and `Send + Sync`: build one
/// per key and share it across threads and tasks. No lock is held while
/// signing; two callers arriving at renewal time may both sign, and the
/// cache keeps one of the two valid tokens.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let provider = keygate_client::TokenProvider::new(
///     &std::env::var("KEYGATE_ACCESS_KEY")?,
///     "https://api.example.com",
/// )?;
/// let header = provider.authorization_header()?; // "Bearer eyJ…"
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenProvider {
    inner: Arc<Inner>,
}

impl TokenProvider {
    /// A provider with the defaults (300 s tokens, renewed 60 s before they
    /// expire). Fails on a malformed or publishable key, and on a key
    /// issued before keys carried their client id (use
    /// [`builder`](Self::builder) and `.client_id(..)` for those).
    pub fn new(access_key: &str, audience: &str) -> Result<Self, KeyError> {
        Self::builder(access_key, audience).build()
    }

    /// A builder for other options; [`TokenProviderBuilder::build`] checks
    /// the key and every option.
    pub fn builder(access_key: &str, audience: &str) -> TokenProviderBuilder {
        TokenProviderBuilder::new(access_key, audience)
    }

    pub(crate) fn from_settings(settings: Settings) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                current: RwLock::new(None),
            }),
        }
    }

    /// A valid token: the cached one, or a new one once the cached one is
    /// within the refresh margin of its expiry.
    pub fn token(&self) -> Result<String, TokenError> {
        let now = self.inner.settings.clock.now();
        if let Some(cached) = self.cached(now) {
            return Ok(String::from(&*cached));
        }
        let fresh = self.mint(now)?;
        let mut current = self
            .inner
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Another caller may have renewed meanwhile: keep the newer token.
        match current.as_ref() {
            Some(other) if other.serves(now) && other.issued_at >= fresh.issued_at => {
                Ok(String::from(&*other.token))
            }
            _ => {
                let token = String::from(&*fresh.token);
                *current = Some(fresh);
                Ok(token)
            }
        }
    }

    /// `Bearer <token>`, for an `Authorization` header.
    pub fn authorization_header(&self) -> Result<String, TokenError> {
        Ok(format!("Bearer {}", self.token()?))
    }

    /// The client id tokens name (`iss` = `sub`).
    pub fn client_id(&self) -> &str {
        &self.inner.settings.client_id
    }

    /// The key id tokens name (`kid`).
    pub fn key_id(&self) -> &str {
        self.inner.settings.pair.key_id()
    }

    /// The audience tokens name (`aud`).
    pub fn audience(&self) -> &str {
        &self.inner.settings.audience
    }

    fn cached(&self, now: i64) -> Option<Arc<str>> {
        let current = self
            .inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|cached| cached.serves(now))
            .map(|cached| Arc::clone(&cached.token))
    }

    /// Signs outside any lock: a slow signer never holds up readers.
    fn mint(&self, now: i64) -> Result<Arc<Cached>, TokenError> {
        let settings = &self.inner.settings;
        let jti = (settings.jti)()?;
        let token = mint(
            &settings.pair,
            &MintClaims {
                client_id: &settings.client_id,
                audience: &settings.audience,
                issued_at: now,
                ttl: settings.lifetime,
                jti: &jti,
            },
        );
        Ok(Arc::new(Cached {
            token: token.into(),
            issued_at: now,
            renew_at: now + settings.lifetime - settings.margin,
        }))
    }
}

/// Names the key and the audience; never the secret, never a token.
impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = &self.inner.settings;
        f.debug_struct("TokenProvider")
            .field("key_id", &settings.pair.key_id())
            .field("client_id", &settings.client_id)
            .field("audience", &settings.audience)
            .field("lifetime", &settings.lifetime)
            .field("refresh_margin", &settings.margin)
            .finish_non_exhaustive()
    }
}
