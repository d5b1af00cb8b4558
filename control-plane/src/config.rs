//! Every setting of the control plane, from a flag or its environment
//! variable (flags win). The doc comments are the `--help` text; `.env.sample`
//! documents the same variables.

use std::{net::SocketAddr, time::Duration};

/// Where the data lives.
#[derive(clap::Args, Debug, Clone)]
pub struct DbArgs {
    /// Database URL: `sqlite://path` (created on first use) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://.keygate/keygate.db"
    )]
    pub database_url: String,
}

/// The Cloudflare Workers KV namespace the publisher writes to.
#[derive(clap::Args, Debug, Clone)]
pub struct KvArgs {
    /// Base URL of the Cloudflare API (point it at the local bridge in development).
    #[arg(
        long,
        env = "CF_API_BASE_URL",
        default_value = "https://api.cloudflare.com/client/v4"
    )]
    pub cf_api_base_url: String,
    /// Cloudflare account id.
    #[arg(long, env = "CF_ACCOUNT_ID")]
    pub cf_account_id: Option<String>,
    /// Workers KV namespace id (the namespace bound as KEYS in wrangler.toml).
    #[arg(long, env = "CF_KV_NAMESPACE_ID")]
    pub cf_kv_namespace_id: Option<String>,
    /// API token with Workers KV Storage: Edit permission.
    #[arg(long, env = "CF_API_TOKEN", hide_env_values = true)]
    pub cf_api_token: Option<String>,
}

/// Settings of `keygate serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeConfig {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub db: DbArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub kv: KvArgs,
    /// Address to listen on.
    #[arg(long, env = "KEYGATE_BIND", default_value = "127.0.0.1:7070")]
    pub bind: SocketAddr,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub keys: KeyPolicy,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub limits: ServeLimits,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub verify: VerifyPolicy,
}

/// What the verification API (`POST /v1/verify`) expects of tokens: the
/// edge's rules (`AUDIENCE`, `MAX_TOKEN_LIFETIME`, `CLOCK_SKEW`), so set
/// these as the edge whose answers it must give is configured.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct VerifyPolicy {
    /// The audience tokens must name, unless a request gives its own: the
    /// edge's public URL (the edge's `AUDIENCE`; default: the URL of the edge
    /// `make dev` runs).
    #[arg(long, env = "KEYGATE_VERIFY_AUDIENCE", default_value = DEFAULT_VERIFY_AUDIENCE,
          value_parser = parse_audience)]
    pub verify_audience: String,
    /// Largest accepted token lifetime `exp - iat`, seconds (the edge's `MAX_TOKEN_LIFETIME`).
    #[arg(long, env = "KEYGATE_VERIFY_MAX_TOKEN_LIFETIME", default_value_t = 3600,
          value_parser = clap::value_parser!(i64).range(60..=86_400))]
    pub verify_max_token_lifetime: i64,
    /// Allowed clock skew for token times, seconds (the edge's `CLOCK_SKEW`).
    #[arg(long, env = "KEYGATE_VERIFY_CLOCK_SKEW", default_value_t = 60,
          value_parser = clap::value_parser!(i64).range(0..=600))]
    pub verify_clock_skew: i64,
    /// How long a verify key's own authentication is remembered (e.g. `5s`;
    /// `0` turns it off): a revoked verify key keeps working this long. It
    /// saves a database query per verification.
    #[arg(long, env = "KEYGATE_VERIFY_CALLER_CACHE_TTL", default_value = "5s",
          value_parser = parse_window_secs)]
    pub verify_caller_cache_ttl: i64,
}

/// The edge `make dev` runs (`scripts/dev.sh`: `AUDIENCE=http://127.0.0.1:8787`).
pub const DEFAULT_VERIFY_AUDIENCE: &str = "http://127.0.0.1:8787";

/// The default of `KEYGATE_VERIFY_CALLER_CACHE_TTL`, seconds.
pub const DEFAULT_CALLER_CACHE_TTL_SECS: i64 = 5;

/// `0`, or a duration of at most an hour (a revocation window, kept short).
fn parse_window_secs(text: &str) -> Result<i64, String> {
    if text.trim() == "0" {
        return Ok(0);
    }
    parse_duration_secs(text).and_then(|secs| {
        (secs <= 3_600)
            .then_some(secs)
            .ok_or_else(|| format!("{text:?}: at most 1h"))
    })
}

impl Default for VerifyPolicy {
    fn default() -> Self {
        Self {
            verify_audience: DEFAULT_VERIFY_AUDIENCE.to_owned(),
            verify_max_token_lifetime: 3600,
            verify_clock_skew: 60,
            verify_caller_cache_ttl: DEFAULT_CALLER_CACHE_TTL_SECS,
        }
    }
}

/// An audience as the edge reads its `AUDIENCE`: an http(s) URL, without a
/// trailing `/`.
pub fn parse_audience(text: &str) -> Result<String, String> {
    let audience = text.trim().trim_end_matches('/');
    if !(audience.starts_with("https://") || audience.starts_with("http://"))
        || audience.len() > 2048
        || audience.chars().any(|c| !c.is_ascii_graphic())
    {
        return Err(format!("{text:?}: the audience must be an http(s) URL"));
    }
    Ok(audience.to_owned())
}

/// How long a client may take: stalled connections are closed instead of
/// being held open forever.
#[derive(clap::Args, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Time a connection has to send a complete request head (request line and
    /// headers), counted from when the server starts waiting for it (idle
    /// keep-alive connections included); a connection that takes longer is
    /// closed. E.g. `10s`.
    #[arg(long, env = "KEYGATE_HEADER_TIMEOUT", default_value = "10s",
          value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// Time a request may take from its head to its response, reading the body
    /// included; a request that takes longer gets 408. Keep it above the 30 s a
    /// key creation may wait for KV (`?wait=`). E.g. `60s`.
    #[arg(long, env = "KEYGATE_REQUEST_TIMEOUT", default_value = "60s",
          value_parser = parse_duration)]
    pub request_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        }
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    parse_duration_secs(text).map(|secs| Duration::from_secs(secs.unsigned_abs()))
}

/// What keys may be issued.
#[derive(clap::Args, Debug, Clone)]
pub struct KeyPolicy {
    /// Environments keys can be issued for (comma-separated).
    #[arg(
        long,
        env = "KEYGATE_ENVIRONMENTS",
        default_value = "live,test",
        value_delimiter = ','
    )]
    pub environments: Vec<String>,
    /// Lifetime given to keys created without an explicit expiry (e.g. `90d`); none by default.
    #[arg(long, env = "KEYGATE_DEFAULT_KEY_LIFETIME", value_parser = parse_duration_secs)]
    pub default_key_lifetime: Option<i64>,
    /// Key types issued by regenerate and backfill, one key each (comma-separated).
    #[arg(long, env = "KEYGATE_KEY_TYPES", default_value = "secret,publishable", value_delimiter = ',',
          value_parser = ["secret", "publishable"])]
    pub key_types: Vec<String>,
    /// Size of new secret keys' secret, bytes (32, 48 or 64).
    #[arg(long, env = "KEYGATE_SECRET_KEY_BYTES", default_value_t = 32,
          value_parser = parse_secret_key_bytes)]
    pub secret_key_bytes: usize,
    /// Size of new publishable keys' secret, bytes (24, 32 or 48).
    #[arg(long, env = "KEYGATE_PUBLISHABLE_KEY_BYTES", default_value_t = 24,
          value_parser = parse_publishable_key_bytes)]
    pub publishable_key_bytes: usize,
    /// The audience of JWTs presented to this API (self-service): its public URL.
    #[arg(
        long,
        env = "KEYGATE_TOKEN_AUDIENCE",
        default_value = "http://127.0.0.1:7070"
    )]
    pub token_audience: String,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            environments: vec!["live".to_owned(), "test".to_owned()],
            default_key_lifetime: None,
            key_types: vec!["secret".to_owned(), "publishable".to_owned()],
            secret_key_bytes: 32,
            publishable_key_bytes: 24,
            token_audience: "http://127.0.0.1:7070".to_owned(),
        }
    }
}

impl KeyPolicy {
    /// The configured secret size for new keys of `key_type`.
    pub fn key_bytes(&self, key_type: shared::key::KeyType) -> usize {
        match key_type {
            shared::key::KeyType::Secret => self.secret_key_bytes,
            shared::key::KeyType::Publishable => self.publishable_key_bytes,
        }
    }
}

fn parse_key_bytes(text: &str, key_type: shared::key::KeyType) -> Result<usize, String> {
    let allowed = key_type.allowed_secret_sizes();
    text.trim()
        .parse()
        .ok()
        .filter(|bytes| allowed.contains(bytes))
        .ok_or_else(|| format!("{text:?}: expected one of {allowed:?} bytes"))
}

fn parse_secret_key_bytes(text: &str) -> Result<usize, String> {
    parse_key_bytes(text, shared::key::KeyType::Secret)
}

fn parse_publishable_key_bytes(text: &str) -> Result<usize, String> {
    parse_key_bytes(text, shared::key::KeyType::Publishable)
}

/// Parses `90`, `90s`, `15m`, `12h`, `30d` or `2w` into seconds.
pub fn parse_duration_secs(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let value: i64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (examples: 3600, 15m, 12h, 30d)"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (use s, m, h, d or w)"
            ))
        }
    };
    match value.checked_mul(scale) {
        Some(secs) if secs > 0 && secs <= 100 * 365 * 86_400 => Ok(secs),
        _ => Err(format!("{text:?}: must be between 1 second and 100 years")),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration_secs;

    #[test]
    fn key_sizes() {
        assert_eq!(super::parse_secret_key_bytes("64"), Ok(64));
        assert_eq!(super::parse_publishable_key_bytes("24"), Ok(24));
        for bad in ["16", "24", "40", "x", ""] {
            assert!(super::parse_secret_key_bytes(bad).is_err(), "{bad}");
        }
        assert!(super::parse_publishable_key_bytes("64").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("90"), Ok(90));
        assert_eq!(parse_duration_secs("15m"), Ok(900));
        assert_eq!(parse_duration_secs("30d"), Ok(2_592_000));
        for bad in ["", "d", "0", "-5s", "5y", "1.5h", "999999999999w"] {
            assert!(parse_duration_secs(bad).is_err(), "{bad}");
        }
    }
}
