//! Finding the credential in a request, before anything is decoded.
//!
//! Accepted: `Authorization: Bearer <credential>`, `Authorization: Basic
//! base64(<key>:)` (the key as user name, empty password: what `curl -u key:`
//! sends), and the `apikey` query parameter when the deployment allows it.
//! Two *different* credentials in one request are refused: which one would
//! win is exactly the kind of ambiguity an attacker looks for. So are two
//! `Authorization` fields, even equal ones: callers pass every value the
//! request carries, and a runtime that joins repeated fields into one value
//! (workerd's `headers.get` joins them with `", "`) is covered too, because
//! a comma is never part of a Bearer or Basic credential (both are RFC 9110
//! `token68`).
//!
//! Which form a credential has, an access key or a JWT, is decided here too
//! ([`Presented::form`]), once for the edge and the control plane.

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

/// The two forms a credential takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// A keygate access key, checked by format, then looked up by hash.
    AccessKey,
    /// A JWT signed with an access key's Ed25519 key.
    Token,
}

impl Presented {
    /// The one rule for telling a JWT from an access key: a `Bearer`
    /// credential containing a `.` is a JWT (an access key's alphabet is
    /// `[A-Za-z0-9_]`, so it never contains one). Anything else is read as
    /// an access key, so a JWT sent as a Basic user name or in the query is
    /// refused as a malformed key rather than verified.
    pub fn form(&self) -> Form {
        if self.source == Source::Bearer && self.text.contains('.') {
            Form::Token
        } else {
            Form::AccessKey
        }
    }
}

impl core::fmt::Debug for Presented {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Presented")
            .field("source", &self.source)
            .field("text", &"<redacted>")
            .finish()
    }
}

/// Extracts the credential from the request's `Authorization` field values
/// (every one of them, in order: more than one is refused) and the `apikey`
/// query parameter (pass `None` when query credentials are disabled).
/// `Ok(None)` means no credential was presented.
pub fn extract(authorization: &[&str], apikey: Option<&str>) -> Result<Option<Presented>, Error> {
    let from_header = match authorization {
        [] => None,
        [value] => Some(from_authorization(value)?),
        [_, _, ..] => return Err(Error::ConflictingCredentials),
    };
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
    // Repeated fields joined into one value by the runtime.
    if value.contains(',') {
        return Err(Error::ConflictingCredentials);
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
            text(extract(&["Bearer abc"], None)),
            Some(("abc".into(), Source::Bearer))
        );
        assert_eq!(
            text(extract(&["bearer  abc"], None)),
            Some(("abc".into(), Source::Bearer))
        );
        let basic = format!("Basic {}", b64::encode_standard(b"abc:"));
        assert_eq!(
            text(extract(&[basic.as_str()], None)),
            Some(("abc".into(), Source::Basic))
        );
        assert_eq!(
            text(extract(&[], Some("abc"))),
            Some(("abc".into(), Source::Query))
        );
        assert_eq!(text(extract(&[], None)), None);
        // The same credential twice is not a conflict.
        assert_eq!(
            text(extract(&["Bearer abc"], Some("abc"))),
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
                extract(authorization.as_slice(), apikey),
                Err(expected),
                "{authorization:?}"
            );
        }
        let huge = format!("Bearer {}", "a".repeat(MAX_HEADER_LEN));
        assert_eq!(extract(&[&huge], None), Err(Error::HeaderTooLong));
    }

    #[test]
    fn two_authorization_fields_are_refused_however_they_arrive() {
        let basic = format!("Basic {}", b64::encode_standard(b"abc:"));
        let refused: [&[&str]; 5] = [
            &["Bearer abc", "Bearer abd"],
            // Equal ones too: one field, one credential.
            &["Bearer abc", "Bearer abc"],
            &["Bearer abc", basic.as_str()],
            &["Bearer abc", ""],
            &["Bearer a", "Bearer b", "Bearer c"],
        ];
        for values in refused {
            assert_eq!(
                extract(values, None),
                Err(Error::ConflictingCredentials),
                "{values:?}"
            );
        }
        // The same, joined into one value by the runtime (workerd's `get`).
        for joined in [
            "Bearer abc, Bearer abd",
            "Bearer abc, Bearer abc",
            "Bearer abc,",
            "Bearer a.b.c, Bearer a.b.c",
            "Basic YWJjOg==, Basic YWJjOg==",
        ] {
            assert_eq!(
                extract(&[joined], None),
                Err(Error::ConflictingCredentials),
                "{joined}"
            );
        }
    }

    #[test]
    fn a_token_is_a_bearer_credential_with_a_dot() {
        let form = |values: &[&str], apikey| extract(values, apikey).unwrap().unwrap().form();
        assert_eq!(form(&["Bearer a.b.c"], None), Form::Token);
        assert_eq!(form(&["Bearer kg_sk_live_x"], None), Form::AccessKey);
        // A JWT anywhere else is read as a key (and refused as malformed).
        let basic = format!("Basic {}", b64::encode_standard(b"a.b.c:"));
        assert_eq!(form(&[basic.as_str()], None), Form::AccessKey);
        assert_eq!(form(&[], Some("a.b.c")), Form::AccessKey);
    }

    #[test]
    fn debug_redacts() {
        let presented = extract(&["Bearer supersecret"], None).unwrap().unwrap();
        assert!(!format!("{presented:?}").contains("supersecret"));
    }
}
