//! Key scopes: `METHODS:/path-prefix`, e.g. `GET,HEAD:/v1/reports` or `*:/`.
//! The control plane validates them with [`Scope::parse`]; the edge enforces
//! them with [`allows`].
//!
//! Prefixes match whole path segments: `/v1/reports` allows `/v1/reports`
//! and `/v1/reports/2024`, not `/v1/reportsX`. A path with an encoded `/`,
//! `\` or `.` (`%2F`, `%5C`, `%2E`) never matches a prefix other than `/`: an
//! origin that decodes them could otherwise be walked out of the prefix.

/// The reserved scope of control-plane admin keys (never valid at the edge).
pub const ADMIN: &str = "admin";

const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// The methods a publishable key may use when its scopes say nothing else.
pub const SAFE_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];

/// One parsed scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope<'a> {
    /// `None` means any method (`*`).
    methods: Option<Vec<&'a str>>,
    prefix: &'a str,
}

impl<'a> Scope<'a> {
    /// Parses `METHODS:/prefix`; the error is a message fit for an API response.
    pub fn parse(text: &'a str) -> Result<Self, String> {
        if text == ADMIN {
            return Err("the admin scope is reserved for admin keys".to_owned());
        }
        let (methods, prefix) = text
            .split_once(':')
            .ok_or_else(|| format!("scope {text:?}: expected METHODS:/path-prefix"))?;
        let methods = if methods == "*" {
            None
        } else {
            let list: Vec<&str> = methods.split(',').collect();
            if let Some(bad) = list.iter().find(|m| !METHODS.contains(m)) {
                return Err(format!("scope {text:?}: unknown method {bad:?}"));
            }
            Some(list)
        };
        if !prefix.starts_with('/')
            || prefix.len() > 512
            || prefix
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
        {
            return Err(format!(
                "scope {text:?}: the path prefix must start with / and contain no spaces, ? or #"
            ));
        }
        Ok(Self { methods, prefix })
    }

    /// Whether this scope allows `method` on `path`.
    pub fn allows(&self, method: &str, path: &str) -> bool {
        let method_ok = self.methods.as_ref().is_none_or(|m| m.contains(&method));
        method_ok && prefix_matches(self.prefix, path)
    }
}

fn prefix_matches(prefix: &str, path: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || lower.contains("%2e") {
        return false;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/'),
        None => false,
    }
}

/// Whether a key with these scopes may make this request. Empty scopes mean
/// any method on any path for secret keys, and safe methods on any path for
/// publishable keys; scopes that do not parse allow nothing.
pub fn allows(scopes: &[String], publishable: bool, method: &str, path: &str) -> bool {
    if scopes.is_empty() {
        return !publishable || SAFE_METHODS.contains(&method);
    }
    scopes
        .iter()
        .any(|s| Scope::parse(s).is_ok_and(|scope| scope.allows(method, path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn grammar() {
        for ok in ["GET:/", "GET,HEAD:/v1/reports", "*:/admin", "DELETE:/v1/x/"] {
            assert!(Scope::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "admin", "GET", "get:/", "GET:v1", "GET:/a b", "FETCH:/", ":/", "GET,:/", "GET:/a?b",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prefixes_match_whole_segments() {
        let s = scopes(&["GET:/v1/reports"]);
        assert!(allows(&s, false, "GET", "/v1/reports"));
        assert!(allows(&s, false, "GET", "/v1/reports/2024"));
        assert!(!allows(&s, false, "GET", "/v1/reportsX"));
        assert!(!allows(&s, false, "POST", "/v1/reports"));
        assert!(!allows(&s, false, "GET", "/v1"));
        let trailing = scopes(&["*:/v1/"]);
        assert!(allows(&trailing, false, "DELETE", "/v1/x"));
        assert!(!allows(&trailing, false, "GET", "/v2/x"));
    }

    #[test]
    fn encoded_separators_never_match_a_prefix() {
        let s = scopes(&["GET:/v1/reports/"]);
        assert!(!allows(&s, false, "GET", "/v1/reports/%2e%2e/admin"));
        assert!(!allows(&s, false, "GET", "/v1/reports/..%2Fadmin"));
        assert!(!allows(&s, false, "GET", "/v1/reports/a%5Cb"));
        assert!(allows(&scopes(&["GET:/"]), false, "GET", "/a%2Fb"));
    }

    #[test]
    fn publishable_defaults_to_safe_methods_unless_scoped() {
        assert!(allows(&[], true, "GET", "/x"));
        assert!(allows(&[], true, "OPTIONS", "/x"));
        assert!(!allows(&[], true, "POST", "/x"));
        assert!(allows(&[], false, "POST", "/x"));
        assert!(allows(
            &scopes(&["POST:/v1/events"]),
            true,
            "POST",
            "/v1/events"
        ));
        assert!(!allows(
            &scopes(&["POST:/v1/events"]),
            true,
            "GET",
            "/v1/other"
        ));
        assert!(!allows(&scopes(&["garbage"]), false, "GET", "/"));
    }
}
