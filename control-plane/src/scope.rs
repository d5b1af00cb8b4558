//! Key scopes: `METHODS:/path-prefix` (e.g. `GET,HEAD:/v1/reports`, `*:/`),
//! plus the reserved `admin` scope that makes a key an admin key for this API.
//!
//! The control plane validates and stores scopes and publishes them in the KV
//! record; enforcing them at the edge is the edge's job.

/// The scope that grants access to the control-plane API.
pub const ADMIN: &str = "admin";

const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
];

/// Checks one scope; on error returns a message fit for an API response.
pub fn validate(scope: &str) -> Result<(), String> {
    if scope == ADMIN {
        return Err("the admin scope is reserved for admin keys".to_owned());
    }
    let (methods, path) = scope
        .split_once(':')
        .ok_or_else(|| format!("scope {scope:?}: expected METHODS:/path-prefix"))?;
    if methods != "*" {
        for method in methods.split(',') {
            if !METHODS.contains(&method) {
                return Err(format!("scope {scope:?}: unknown method {method:?}"));
            }
        }
    }
    if !path.starts_with('/')
        || path.len() > 512
        || path.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "scope {scope:?}: the path prefix must start with / and contain no spaces"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn accepts_and_refuses() {
        for ok in ["GET:/", "GET,HEAD:/v1/reports", "*:/admin", "DELETE:/v1/x/"] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
        for bad in [
            "admin", "GET", "get:/", "GET:v1", "GET:/a b", "FETCH:/", ":/", "GET,:/",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }
}
