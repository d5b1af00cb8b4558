//! Key scopes: `METHODS:/path-prefix`, e.g. `GET,HEAD:/v1/reports` or `*:/`.
//! The control plane validates them with [`Scope::parse`]; the edge enforces
//! them with [`allows`].
//!
//! Methods are compared as the exact string the client sent: `GET` allows
//! `GET` only, never `get`, `PROPFIND` or any other extension method (a
//! runtime that maps unknown methods onto `GET` must not be what decides).
//! `*` allows every method. Prefixes follow the one path rule of
//! [`crate::path`]: whole segments, case-sensitive, and a path that an origin
//! could read as another path (encoded `/`, `\` or `.`, dot segments with `;`
//! parameters, …) matches no prefix narrower than `/`.

use crate::path;

/// The reserved scope of control-plane admin keys (never valid at the edge).
pub const ADMIN: &str = "admin";

/// The reserved scope of control-plane verify keys: they may call the
/// verification API (`POST /v1/verify`) and nothing else (never valid at the
/// edge either: like admin keys, they are never published).
pub const VERIFY: &str = "verify";

/// The methods a scope may name.
pub const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// The methods a publishable key may use when its scopes say nothing else.
pub const SAFE_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];

/// One parsed scope. Borrows its text: checking a request allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope<'a> {
    /// `None` means any method (`*`); else the comma-separated list, each in [`METHODS`].
    methods: Option<&'a str>,
    prefix: &'a str,
}

impl<'a> Scope<'a> {
    /// Parses `METHODS:/prefix`; the error is a message fit for an API response.
    pub fn parse(text: &'a str) -> Result<Self, String> {
        Self::parse_quietly(text).ok_or_else(|| {
            if text == ADMIN {
                return "the admin scope is reserved for admin keys".to_owned();
            }
            let Some((methods, _)) = text.split_once(':') else {
                return format!("scope {text:?}: expected METHODS:/path-prefix");
            };
            if let Some(bad) = methods
                .split(',')
                .find(|m| methods != "*" && !METHODS.contains(m))
            {
                return format!("scope {text:?}: unknown method {bad:?}");
            }
            format!(
                "scope {text:?}: the path prefix must start with /, hold no spaces, ?, #, ;, \\, \
                 non-ASCII, empty or dot segments or encoded /, \\, . or %"
            )
        })
    }

    /// [`Scope::parse`] without building a message (the edge's hot path).
    fn parse_quietly(text: &'a str) -> Option<Self> {
        let (methods, prefix) = text.split_once(':')?;
        let methods = if methods == "*" {
            None
        } else if methods.split(',').all(|m| METHODS.contains(&m)) {
            Some(methods)
        } else {
            return None;
        };
        path::is_valid_prefix(prefix).then_some(Self { methods, prefix })
    }

    /// Whether this scope allows `method` (exactly as sent) on `path`.
    pub fn allows(&self, method: &str, path: &str) -> bool {
        let method_ok = self
            .methods
            .is_none_or(|list| list.split(',').any(|m| m == method));
        method_ok && path::prefix_matches(self.prefix, path)
    }
}

/// Whether a key with these scopes may make this request. `method` is the
/// request method exactly as the client sent it; `path` the request path as
/// received (percent-encoded, no query). Empty scopes mean any method on any
/// path for secret keys, and exactly `GET`, `HEAD` and `OPTIONS` on any path
/// for publishable keys; scopes that do not parse allow nothing.
pub fn allows(scopes: &[String], publishable: bool, method: &str, path: &str) -> bool {
    if scopes.is_empty() {
        return !publishable || SAFE_METHODS.contains(&method);
    }
    scopes
        .iter()
        .any(|s| Scope::parse_quietly(s).is_some_and(|scope| scope.allows(method, path)))
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

    /// Every method in the IANA HTTP Method Registry (one file, read by the
    /// workerd test of the same rule too).
    fn iana_methods() -> impl Iterator<Item = &'static str> {
        include_str!("../tests/vectors/http-methods.txt").lines()
    }
    /// And a few that are not.
    const MADE_UP: [&str; 9] = [
        "get", "Get", "head", "options", "PURGE", "FETCH", "GET ", "", "X-GET",
    ];

    #[test]
    fn methods_are_compared_exactly() {
        let reports = scopes(&["GET:/v1/reports"]);
        let reads = scopes(&["GET,HEAD:/v1/reports"]);
        let any = scopes(&["*:/v1/reports"]);
        for method in iana_methods().chain(MADE_UP) {
            // A publishable key without scopes: exactly GET, HEAD, OPTIONS.
            assert_eq!(
                allows(&[], true, method, "/v1/reports"),
                matches!(method, "GET" | "HEAD" | "OPTIONS"),
                "publishable {method:?}"
            );
            // A secret key without scopes: anything.
            assert!(allows(&[], false, method, "/v1/reports"), "{method:?}");
            // Scoped: exactly the listed methods, for either key type.
            for publishable in [false, true] {
                assert_eq!(
                    allows(&reports, publishable, method, "/v1/reports/7"),
                    method == "GET",
                    "GET-scoped {method:?}"
                );
                assert_eq!(
                    allows(&reads, publishable, method, "/v1/reports/7"),
                    matches!(method, "GET" | "HEAD"),
                    "GET,HEAD-scoped {method:?}"
                );
                assert!(
                    allows(&any, publishable, method, "/v1/reports"),
                    "{method:?}"
                );
                assert!(
                    !allows(&any, publishable, method, "/v1/admin"),
                    "{method:?}"
                );
            }
        }
        // Scopes name methods in upper case only; an extension method cannot be granted.
        for bad in ["get:/", "PROPFIND:/", "GET,get:/", "GET ,HEAD:/"] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
            assert!(!allows(&scopes(&[bad]), false, "GET", "/"), "{bad}");
        }
    }

    #[test]
    fn scopes_use_the_one_path_rule() {
        let s = scopes(&["GET:/v1/reports"]);
        for path in [
            "/v1/reports/..;/admin",
            "/v1/reports/..;x/admin",
            "/v1/reports/.;/../admin",
            "/v1/reports/..%2Fadmin",
            "/v1/reports/%252e%252e/admin",
            "/v1/reports//../admin",
            "/v1/reports/%C0%AE%C0%AE/admin",
            "/V1/reports",
        ] {
            assert!(!allows(&s, false, "GET", path), "{path}");
        }
        assert!(allows(&s, false, "GET", "/v1/reports/7;v=2"));
        for bad in [
            "GET:/v1/..",
            "GET:/v1//x",
            "GET:/v1;x",
            "GET:/v1%2Fx",
            "GET:/\\x",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
        assert!(Scope::parse("GET:/v1/..;/x")
            .unwrap_err()
            .contains("path prefix"));
    }
}
