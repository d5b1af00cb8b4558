//! Finding the credential in a request, before anything is decoded.
//!
//! Accepted: `Authorization: Bearer <credential>`, `Authorization: Basic
//! base64(<key>:)` (the key as user name, empty password: what `curl -u key:`
//! sends), and the `apikey` query parameter when the deployment allows it.
//! Two *different* credentials in one request are refused: which one would
//! win is exactly the kind of ambiguity an attacker looks for.

use crate::{b64, Error};

/// Header values longer than this are refused before any decoding work.
pub const MAX_HEADER_LEN: usize = 8 * 1024;

/// Where the credential came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `Authorization: Bearer`.
    Bearer,
    /// `Authorization: Basic`, as the user name.
    Basic,
    /// The `apikey` query parameter.
    Query,
}

/// The raw credential text and its source. Not yet checked in any way.
#[derive(Clone, PartialEq, Eq)]
pub struct Presented {
    /// The credential text (a key or a JWT).
    pub text: String,
    /// Where it was found.
    pub source: Source,
}

impl core::fmt::Debug for Presented {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Presented")
            .field("source", &self.source)
            .field("text", &"<redacted>")
            .finish()
    }
}

/// Extracts the credential from the `Authorization` header value and the
/// `apikey` query parameter (pass `None` when query credentials are disabled).
/// `Ok(None)` means no credential was presented.
pub fn extract(
    authorization: Option<&str>,
    apikey: Option<&str>,
) -> Result<Option<Presented>, Error> {
    let from_header = authorization.map(from_authorization).transpose()?;
    let from_query = apikey
        .map(|value| {
            if value.len() > MAX_HEADER_LEN {
                return Err(Error::HeaderTooLong);
            }
            Ok(Presented {
                text: value.to_owned(),
                source: Source::Query,
            })
        })
        .transpose()?;
    match (from_header, from_query) {
        (Some(header), Some(query)) if header.text != query.text => {
            Err(Error::ConflictingCredentials)
        }
        (Some(header), _) => Ok(Some(header)),
        (None, query) => Ok(query),
    }
}

fn from_authorization(value: &str) -> Result<Presented, Error> {
    if value.len() > MAX_HEADER_LEN {
        return Err(Error::HeaderTooLong);
    }
    let (scheme, rest) = value.split_once(' ').ok_or(Error::AuthorizationScheme)?;
    let rest = rest.trim_matches(' ');
    if rest.is_empty() {
        return Err(Error::AuthorizationScheme);
    }
    // Auth schemes are case-insensitive (RFC 9110 §11.1).
    if scheme.eq_ignore_ascii_case("bearer") {
        Ok(Presented {
            text: rest.to_owned(),
            source: Source::Bearer,
        })
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = b64::decode_standard(rest).ok_or(Error::BasicCredential)?;
        let decoded = String::from_utf8(decoded).map_err(|_| Error::BasicCredential)?;
        match decoded.split_once(':') {
            Some((user, "")) if !user.is_empty() => Ok(Presented {
                text: user.to_owned(),
                source: Source::Basic,
            }),
            _ => Err(Error::BasicCredential),
        }
    } else {
        Err(Error::AuthorizationScheme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(result: Result<Option<Presented>, Error>) -> Option<(String, Source)> {
        result.unwrap().map(|p| (p.text, p.source))
    }

    #[test]
    fn bearer_basic_and_query() {
        assert_eq!(
            text(extract(Some("Bearer abc"), None)),
            Some(("abc".into(), Source::Bearer))
        );
        assert_eq!(
            text(extract(Some("bearer  abc"), None)),
            Some(("abc".into(), Source::Bearer))
        );
        let basic = format!("Basic {}", b64::encode_standard(b"abc:"));
        assert_eq!(
            text(extract(Some(&basic), None)),
            Some(("abc".into(), Source::Basic))
        );
        assert_eq!(
            text(extract(None, Some("abc"))),
            Some(("abc".into(), Source::Query))
        );
        assert_eq!(text(extract(None, None)), None);
        // The same credential twice is not a conflict.
        assert_eq!(
            text(extract(Some("Bearer abc"), Some("abc"))),
            Some(("abc".into(), Source::Bearer))
        );
    }

    #[test]
    fn refusals() {
        let with_password = format!("Basic {}", b64::encode_standard(b"abc:pw"));
        let no_colon = format!("Basic {}", b64::encode_standard(b"abc"));
        let empty_user = format!("Basic {}", b64::encode_standard(b":"));
        let cases = [
            (Some("Bearer"), None, Error::AuthorizationScheme),
            (Some("Bearer "), None, Error::AuthorizationScheme),
            (Some("Token abc"), None, Error::AuthorizationScheme),
            (Some(with_password.as_str()), None, Error::BasicCredential),
            (Some(no_colon.as_str()), None, Error::BasicCredential),
            (Some(empty_user.as_str()), None, Error::BasicCredential),
            (Some("Basic !!!!"), None, Error::BasicCredential),
            (
                Some("Bearer abc"),
                Some("abd"),
                Error::ConflictingCredentials,
            ),
        ];
        for (authorization, apikey, expected) in cases {
            assert_eq!(
                extract(authorization, apikey),
                Err(expected),
                "{authorization:?}"
            );
        }
        let huge = format!("Bearer {}", "a".repeat(MAX_HEADER_LEN));
        assert_eq!(extract(Some(&huge), None), Err(Error::HeaderTooLong));
    }

    #[test]
    fn debug_redacts() {
        let presented = extract(Some("Bearer supersecret"), None).unwrap().unwrap();
        assert!(!format!("{presented:?}").contains("supersecret"));
    }
}
