//! The edge's signature over what it tells the origin, so an origin can
//! prove a request came through the edge (and was not sent to it directly
//! with forged `X-Keygate-*` headers).
//!
//! `X-Keygate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over the
//! canonical string
//!
//! ```text
//! keygate-v1\n<t>\n<METHOD>\n<path>\n<client id>\n<key id>\n<env>\n<key type>\n<auth>
//! ```
//!
//! with the secret shared between edge (`ORIGIN_SIGNING_SECRET`) and origin.
//! `<path>` is the request path as forwarded, without the query string.
//! Any language verifies it in a few lines (see the README's recipe); in
//! Rust, call [`verify`].

use crate::{
    hex,
    mac::{constant_time_eq, hmac_sha256},
};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-keygate-signature";

/// What the edge asserts about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity<'a> {
    /// HTTP method, upper case.
    pub method: &'a str,
    /// Path as forwarded, without the query.
    pub path: &'a str,
    /// `X-Keygate-Client-Id`.
    pub client_id: &'a str,
    /// `X-Keygate-Key-Id`.
    pub key_id: &'a str,
    /// `X-Keygate-Env`.
    pub env: &'a str,
    /// `X-Keygate-Key-Type`.
    pub key_type: &'a str,
    /// `X-Keygate-Auth`.
    pub auth: &'a str,
}

impl Identity<'_> {
    fn canonical(&self, timestamp: i64) -> String {
        format!(
            "keygate-v1\n{timestamp}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.method, self.path, self.client_id, self.key_id, self.env, self.key_type, self.auth
        )
    }
}

/// The header value the edge sends: `t=<timestamp>,v1=<hex>`.
pub fn sign(secret: &[u8], identity: &Identity<'_>, timestamp: i64) -> String {
    let mac = hmac_sha256(secret, identity.canonical(timestamp).as_bytes());
    format!("t={timestamp},v1={}", hex::encode(&mac))
}

/// Why an origin refuses a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// Not `t=…,v1=…`.
    Malformed,
    /// Older (or further in the future) than the allowed age.
    Stale,
    /// The MAC does not match.
    Mismatch,
}

/// Checks a signature header at the origin: well-formed, at most `max_age`
/// seconds away from `now`, and a MAC over exactly these identity values.
pub fn verify(
    secret: &[u8],
    header: &str,
    identity: &Identity<'_>,
    now: i64,
    max_age: i64,
) -> Result<(), SignatureError> {
    let (t, v1) = header.split_once(',').ok_or(SignatureError::Malformed)?;
    let timestamp: i64 = t
        .strip_prefix("t=")
        .and_then(|t| t.parse().ok())
        .ok_or(SignatureError::Malformed)?;
    let given = v1.strip_prefix("v1=").ok_or(SignatureError::Malformed)?;
    if given.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    if (now - timestamp).abs() > max_age {
        return Err(SignatureError::Stale);
    }
    let expected = hex::encode(&hmac_sha256(
        secret,
        identity.canonical(timestamp).as_bytes(),
    ));
    if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity<'static> {
        Identity {
            method: "GET",
            path: "/v1/orders",
            client_id: "cl_1",
            key_id: "k1",
            env: "live",
            key_type: "secret",
            auth: "static",
        }
    }

    #[test]
    fn known_answer() {
        // Computed independently: printf 'keygate-v1\n1700000000\nGET\n/v1/orders\ncl_1\nk1\nlive\nsecret\nstatic'
        //   | openssl dgst -sha256 -hmac secret
        assert_eq!(
            sign(b"secret", &identity(), 1_700_000_000),
            "t=1700000000,v1=39e7b60f376ec93592d0ae7c417aa144dff8e045d285583b4ad5f4b942a0a4d7"
        );
    }

    #[test]
    fn verifies_and_refuses() {
        let header = sign(b"secret", &identity(), 1_000);
        assert_eq!(verify(b"secret", &header, &identity(), 1_030, 60), Ok(()));
        assert_eq!(
            verify(b"secret", &header, &identity(), 1_061, 60),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(b"other", &header, &identity(), 1_000, 60),
            Err(SignatureError::Mismatch)
        );
        let moved = Identity {
            path: "/v1/admin",
            ..identity()
        };
        assert_eq!(
            verify(b"secret", &header, &moved, 1_000, 60),
            Err(SignatureError::Mismatch)
        );
        let other_client = Identity {
            client_id: "cl_2",
            ..identity()
        };
        assert_eq!(
            verify(b"secret", &header, &other_client, 1_000, 60),
            Err(SignatureError::Mismatch)
        );
        for bad in [
            "",
            "t=1",
            "t=x,v1=00",
            "v1=ab,t=1",
            &header.replace("v1=", "v2="),
        ] {
            assert_eq!(
                verify(b"secret", bad, &identity(), 1_000, 60),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }
}
