//! The worker's configuration: one typed struct read from wrangler vars and
//! secrets, parsed once per isolate.
//!
//! Parsing takes a lookup function rather than `worker::Env`, so every rule
//! here is tested natively.

use std::collections::BTreeMap;

/// A configuration value that cannot be used; names the variable, never a secret's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything the edge reads from its environment.
#[derive(Clone, PartialEq, Eq)]
pub struct EdgeConfig {
    /// Origin base URL per environment, from `ORIGIN_<ENV>` for each name in
    /// `ENVIRONMENTS` (default `live,test`).
    pub origins: BTreeMap<String, String>,
    /// Refuse plain HTTP (`REQUIRE_HTTPS`, default true).
    pub require_https: bool,
    /// Accept `?apikey=` (`ALLOW_QUERY_PARAM`, default false).
    pub allow_query_param: bool,
    /// Pass the credential on to the origin (`FORWARD_CREDENTIAL`, default false).
    pub forward_credential: bool,
    /// The audience JWTs must name (`AUDIENCE`: the edge's public URL);
    /// `None`: the request's own origin (`scheme://host`).
    pub audience: Option<String>,
    /// Largest accepted JWT lifetime, seconds (`MAX_TOKEN_LIFETIME`, default 3600).
    pub max_token_lifetime: i64,
    /// Allowed clock skew for JWT times, seconds (`CLOCK_SKEW`, default 60).
    pub clock_skew: i64,
    /// How long a KV record is trusted in the isolate, seconds (`CACHE_TTL`, default 30).
    pub cache_ttl: i64,
    /// How long "no such key" is trusted in the isolate, seconds
    /// (`NEGATIVE_CACHE_TTL`, default 5): short, so a new key works soon.
    pub negative_cache_ttl: i64,
    /// Path prefixes that need no key (`PUBLIC_PATHS`, comma-separated; none by default).
    pub public_paths: Vec<String>,
    /// Forward CORS preflights (`OPTIONS` with `Access-Control-Request-Method`,
    /// which browsers send without credentials) to the origin without a key
    /// (`CORS_PREFLIGHT`: `forward`, the default, or `authenticate`).
    pub forward_preflight: bool,
    /// The environment whose origin serves public paths and preflights
    /// (`PUBLIC_ENV`, default `live`).
    pub public_env: String,
    /// The secret for the `X-Keygate-Signature` header (`ORIGIN_SIGNING_SECRET`);
    /// without it no signature is sent.
    pub signing_secret: Option<String>,
    /// Check JWT signatures with the runtime's WebCrypto (`SIGNATURE_VERIFIER`:
    /// `webcrypto`, the default) or ed25519-compact in WASM (`wasm`).
    pub webcrypto: bool,
}

impl core::fmt::Debug for EdgeConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EdgeConfig")
            .field("origins", &self.origins)
            .field("require_https", &self.require_https)
            .field("public_paths", &self.public_paths)
            .field(
                "signing_secret",
                &self.signing_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl EdgeConfig {
    /// Parses the configuration; `var` returns a var's (or secret's) value if set.
    pub fn parse(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let environments = var("ENVIRONMENTS").unwrap_or_else(|| "live,test".to_owned());
        let mut origins = BTreeMap::new();
        for env in environments
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if !shared::key::is_valid_environment(env) {
                return Err(ConfigError(format!(
                    "ENVIRONMENTS: invalid environment name {env:?}"
                )));
            }
            let name = format!("ORIGIN_{}", env.to_ascii_uppercase());
            if let Some(origin) = var(&name) {
                let origin = origin.trim_end_matches('/').to_owned();
                if !(origin.starts_with("https://") || origin.starts_with("http://")) {
                    return Err(ConfigError(format!("{name}: must be an http(s) URL")));
                }
                origins.insert(env.to_owned(), origin);
            }
        }
        if origins.is_empty() {
            return Err(ConfigError(
                "no origin configured: set ORIGIN_LIVE (and ORIGIN_TEST)".to_owned(),
            ));
        }
        let public_paths = var("PUBLIC_PATHS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                if shared::path::is_valid_prefix(p) {
                    Ok(p.to_owned())
                } else {
                    Err(ConfigError(format!(
                        "PUBLIC_PATHS: {p:?} must start with / and be a plain path \
                         (no ;, ?, #, spaces, empty or dot segments, encoded /, \\, . or %)"
                    )))
                }
            })
            .collect::<Result<_, _>>()?;
        let forward_preflight = match var("CORS_PREFLIGHT").as_deref().map(str::trim) {
            None | Some("" | "forward") => true,
            Some("authenticate") => false,
            Some(_) => {
                return Err(ConfigError(
                    "CORS_PREFLIGHT: expected forward or authenticate".to_owned(),
                ))
            }
        };
        let public_env = var("PUBLIC_ENV").unwrap_or_else(|| "live".to_owned());
        let audience = var("AUDIENCE")
            .map(|a| a.trim_end_matches('/').to_owned())
            .filter(|a| !a.is_empty());
        if audience
            .as_ref()
            .is_some_and(|a| !(a.starts_with("https://") || a.starts_with("http://")))
        {
            return Err(ConfigError(
                "AUDIENCE: must be the edge's public http(s) URL".to_owned(),
            ));
        }
        Ok(Self {
            origins,
            require_https: flag(&var, "REQUIRE_HTTPS", true)?,
            allow_query_param: flag(&var, "ALLOW_QUERY_PARAM", false)?,
            forward_credential: flag(&var, "FORWARD_CREDENTIAL", false)?,
            audience,
            max_token_lifetime: seconds(&var, "MAX_TOKEN_LIFETIME", 3600, 60..=86_400)?,
            clock_skew: seconds(&var, "CLOCK_SKEW", 60, 0..=600)?,
            cache_ttl: seconds(&var, "CACHE_TTL", 30, 0..=3600)?,
            negative_cache_ttl: seconds(&var, "NEGATIVE_CACHE_TTL", 5, 0..=3600)?,
            public_paths,
            forward_preflight,
            public_env,
            signing_secret: var("ORIGIN_SIGNING_SECRET").filter(|s| !s.is_empty()),
            webcrypto: match var("SIGNATURE_VERIFIER").as_deref().map(str::trim) {
                None | Some("" | "webcrypto") => true,
                Some("wasm") => false,
                Some(_) => {
                    return Err(ConfigError(
                        "SIGNATURE_VERIFIER: expected webcrypto or wasm".to_owned(),
                    ))
                }
            },
        })
    }

    /// Whether `path` (as received, percent-encoded) is under one of the
    /// public prefixes, by the one path rule of [`shared::path`]: a path an
    /// origin could read as another one is never public (unless `/` is).
    pub fn is_public(&self, path: &str) -> bool {
        self.public_paths
            .iter()
            .any(|prefix| shared::path::prefix_matches(prefix, path))
    }
}

fn flag(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: bool,
) -> Result<bool, ConfigError> {
    match var(name).as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(_) => Err(ConfigError(format!("{name}: expected true or false"))),
    }
}

fn seconds(
    var: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: i64,
    range: core::ops::RangeInclusive<i64>,
) -> Result<i64, ConfigError> {
    match var(name).as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse()
            .ok()
            .filter(|v| range.contains(v))
            .ok_or_else(|| {
                ConfigError(format!(
                    "{name}: expected seconds in {}..={}",
                    range.start(),
                    range.end()
                ))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<EdgeConfig, ConfigError> {
        EdgeConfig::parse(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_are_strict() {
        let config = parse(&[("ORIGIN_LIVE", "https://api.example.com/")]).unwrap();
        assert_eq!(config.origins["live"], "https://api.example.com");
        assert!(!config.origins.contains_key("test"));
        assert!(config.require_https);
        assert!(!config.allow_query_param && !config.forward_credential);
        assert_eq!((config.max_token_lifetime, config.clock_skew), (3600, 60));
        assert!(config.public_paths.is_empty() && config.signing_secret.is_none());
        assert!(config.forward_preflight && config.webcrypto);
    }

    #[test]
    fn custom_environments_and_flags() {
        let config = parse(&[
            ("ENVIRONMENTS", "live, staging"),
            ("ORIGIN_STAGING", "http://127.0.0.1:9"),
            ("REQUIRE_HTTPS", "false"),
            ("ALLOW_QUERY_PARAM", "1"),
            ("PUBLIC_PATHS", "/health, /docs/"),
            ("AUDIENCE", "https://edge.example.com/"),
            ("ORIGIN_SIGNING_SECRET", "s3cret"),
        ])
        .unwrap();
        assert_eq!(config.origins.keys().collect::<Vec<_>>(), ["staging"]);
        assert!(!config.require_https && config.allow_query_param);
        assert_eq!(config.audience.as_deref(), Some("https://edge.example.com"));
        assert!(config.is_public("/health") && config.is_public("/docs/x"));
        assert!(!config.is_public("/healthz") && !config.is_public("/doc"));
        // The one path rule: nothing that could normalise out of the prefix.
        for path in [
            "/health/..%2Fadmin",
            "/health/..;/admin",
            "/health/%2e%2e/admin",
            "/health/..%252Fadmin",
            "/health//admin",
            "/Health",
            "/docs/%C0%AE%C0%AE/admin",
        ] {
            assert!(!config.is_public(path), "{path}");
        }
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn clear_errors() {
        let live = ("ORIGIN_LIVE", "https://x");
        assert!(parse(&[]).unwrap_err().0.contains("ORIGIN_LIVE"));
        assert!(parse(&[("ORIGIN_LIVE", "ftp://x")])
            .unwrap_err()
            .0
            .starts_with("ORIGIN_LIVE"));
        for (name, value) in [
            ("REQUIRE_HTTPS", "maybe"),
            ("MAX_TOKEN_LIFETIME", "0"),
            ("CLOCK_SKEW", "x"),
            ("CACHE_TTL", "-1"),
            ("PUBLIC_PATHS", "health"),
            ("PUBLIC_PATHS", "/health/.."),
            ("PUBLIC_PATHS", "/a;b"),
            ("PUBLIC_PATHS", "/a%2Fb"),
            ("CORS_PREFLIGHT", "allow"),
            ("AUDIENCE", "edge.example.com"),
            ("SIGNATURE_VERIFIER", "openssl"),
        ] {
            assert!(
                parse(&[live, (name, value)])
                    .unwrap_err()
                    .0
                    .starts_with(name),
                "{name}"
            );
        }
        assert!(parse(&[("ENVIRONMENTS", "Live")])
            .unwrap_err()
            .0
            .starts_with("ENVIRONMENTS"));
    }
}
