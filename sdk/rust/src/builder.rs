//! The options of a [`TokenProvider`], checked once, at construction.

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use shared::key::{AccessKey, KeyType};
use shared::signing::SigningKeyPair;

use crate::clock::{Clock, SystemClock};
use crate::provider::{random_jti, JtiSource, Settings};
use crate::{KeyError, TokenError, TokenProvider};

/// Five minutes: long enough that a busy caller signs rarely, short enough
/// that a leaked token is soon useless.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

/// The longest lifetime the builder accepts. The edge refuses tokens whose
/// `exp - iat` exceeds its own limit (one hour by default), so a longer
/// lifetime only makes sense where the operator raised that limit.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Builds a [`TokenProvider`] with non-default options
/// (see [`TokenProvider::builder`]).
#[must_use]
pub struct TokenProviderBuilder {
    key: String,
    audience: String,
    lifetime: Duration,
    refresh_margin: Option<Duration>,
    client_id: Option<String>,
    clock: Arc<dyn Clock>,
    jti: JtiSource,
}

impl TokenProviderBuilder {
    pub(crate) fn new(access_key: &str, audience: &str) -> Self {
        Self {
            key: access_key.to_owned(),
            audience: audience.to_owned(),
            lifetime: DEFAULT_LIFETIME,
            refresh_margin: None,
            client_id: None,
            clock: Arc::new(SystemClock),
            jti: Arc::new(random_jti),
        }
    }

    /// How long each token is valid (`exp - iat`), whole seconds, from 1 s
    /// to [`MAX_LIFETIME`]. Default 300 s.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// How long before a token expires a new one is minted, whole seconds,
    /// less than the lifetime. Default: a fifth of the lifetime (60 s of the
    /// default 300 s, that is, renewal at 80%), which leaves a token in
    /// flight time to arrive and a clock behind by up to that much working.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// The client id (`cl_…`) tokens name as `iss` and `sub`. Only keys
    /// issued before keys carried their client id need it; for any other
    /// key it must equal the one the key carries.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The clock tokens are dated by (default: the system clock). For
    /// tests: a [`ManualClock`](crate::ManualClock) or any
    /// `Fn() -> i64 + Send + Sync` returning Unix seconds.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Where token ids (`jti`) come from. Default: 16 random bytes from the
    /// OS, base64url. Only for reproducible tests (the golden vectors): a
    /// fixed `jti` in production would make every token's id the same.
    pub fn jti(mut self, source: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.jti = Arc::new(move || Ok::<_, TokenError>(source()));
        self
    }

    /// Parses the key, derives its signing pair and checks every option.
    pub fn build(self) -> Result<TokenProvider, KeyError> {
        let key = AccessKey::parse(&self.key).map_err(KeyError::Malformed)?;
        if key.key_type() != KeyType::Secret {
            return Err(KeyError::Publishable);
        }
        let client_id = match (key.client_id(), self.client_id) {
            (Some(carried), Some(configured)) if carried != configured => {
                return Err(KeyError::ClientIdMismatch {
                    key: carried,
                    configured,
                })
            }
            (Some(carried), _) => carried,
            (None, Some(configured)) => check_client_id(configured)?,
            (None, None) => return Err(KeyError::LegacyKeyNeedsClientId),
        };
        if self.audience.trim().is_empty() {
            return Err(KeyError::InvalidOption("the audience is empty"));
        }
        let lifetime = self.lifetime.as_secs();
        if lifetime == 0 || self.lifetime > MAX_LIFETIME {
            return Err(KeyError::InvalidOption(
                "the lifetime must be 1 s to 24 h (the edge accepts 1 h by default)",
            ));
        }
        let margin = self.refresh_margin.map_or(lifetime / 5, |m| m.as_secs());
        if margin >= lifetime {
            return Err(KeyError::InvalidOption(
                "the refresh margin must be shorter than the lifetime",
            ));
        }
        let pair = SigningKeyPair::derive(&key).map_err(KeyError::Malformed)?;
        // Whole seconds, both below 24 h: the casts cannot truncate.
        Ok(TokenProvider::from_settings(Settings {
            pair,
            client_id,
            audience: self.audience,
            lifetime: lifetime as i64,
            margin: margin as i64,
            clock: self.clock,
            jti: self.jti,
        }))
    }
}

/// A client id given for a legacy key: `cl_` and something, in the
/// characters of a header and a JSON string without escapes.
fn check_client_id(client_id: String) -> Result<String, KeyError> {
    let rest = client_id.strip_prefix("cl_").unwrap_or_default();
    if rest.is_empty()
        || rest.len() > 64
        || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(KeyError::InvalidOption(
            "the client id must be cl_ followed by letters and digits",
        ));
    }
    Ok(client_id)
}

/// Never prints the key.
impl fmt::Debug for TokenProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProviderBuilder")
            .field("key", &"<redacted>")
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .field("refresh_margin", &self.refresh_margin)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}
