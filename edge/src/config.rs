//! The worker's configuration: one typed struct read from wrangler vars.
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

/// What the edge needs to know, parsed once per request from vars (cheap:
/// a handful of string reads).
#[derive(Debug, Clone, PartialEq, Eq)]
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
}

impl EdgeConfig {
    /// Parses the configuration; `var` returns a var's value if it is set.
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
        Ok(Self {
            origins,
            require_https: flag(&var, "REQUIRE_HTTPS", true)?,
            allow_query_param: flag(&var, "ALLOW_QUERY_PARAM", false)?,
            forward_credential: flag(&var, "FORWARD_CREDENTIAL", false)?,
        })
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
    }

    #[test]
    fn custom_environments_and_flags() {
        let config = parse(&[
            ("ENVIRONMENTS", "live, staging"),
            ("ORIGIN_STAGING", "http://127.0.0.1:9"),
            ("REQUIRE_HTTPS", "false"),
            ("ALLOW_QUERY_PARAM", "1"),
        ])
        .unwrap();
        assert_eq!(config.origins.keys().collect::<Vec<_>>(), ["staging"]);
        assert!(!config.require_https && config.allow_query_param);
    }

    #[test]
    fn clear_errors() {
        assert!(parse(&[]).unwrap_err().0.contains("ORIGIN_LIVE"));
        assert!(parse(&[("ORIGIN_LIVE", "ftp://x")])
            .unwrap_err()
            .0
            .starts_with("ORIGIN_LIVE"));
        let bad_flag = parse(&[("ORIGIN_LIVE", "https://x"), ("REQUIRE_HTTPS", "maybe")]);
        assert!(bad_flag.unwrap_err().0.starts_with("REQUIRE_HTTPS"));
        assert!(parse(&[("ENVIRONMENTS", "Live")])
            .unwrap_err()
            .0
            .starts_with("ENVIRONMENTS"));
    }
}
