//! Which incoming headers never reach an origin.
//!
//! The edge tells the origin who called with `X-Keygate-*` headers, so a
//! caller must never be able to send one of its own. CGI, WSGI, PHP and
//! others read a header through its name with `-` turned into `_`
//! (`HTTP_X_KEYGATE_CLIENT_ID`), so `X_Keygate_Client_Id` and
//! `X-Keygate_Client-Id` arrive there as the real thing; older Apache
//! versions turn *every* byte other than a letter or digit into `_`. So the
//! rule reads any such byte (`-`, `_`, `.`, …) as `-`, and ignores case.

/// The reserved name prefix, lower case, `-` spelling.
pub const RESERVED_PREFIX: &str = "x-keygate-";

/// Whether an incoming header named `name` must be dropped before the
/// request is forwarded: its name, with `_` (or any other byte that is not an
/// ASCII letter or digit) read as `-`, begins (ASCII case-insensitively) with
/// `x-keygate-`.
pub fn is_reserved(name: &str) -> bool {
    let name = name.as_bytes();
    name.len() >= RESERVED_PREFIX.len()
        && name
            .iter()
            .zip(RESERVED_PREFIX.as_bytes())
            .all(|(&got, &want)| {
                let got = if got.is_ascii_alphanumeric() {
                    got
                } else {
                    b'-'
                };
                got.eq_ignore_ascii_case(&want)
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_the_prefix() {
        for name in [
            "x-keygate-client-id",
            "X-Keygate-Client-Id",
            "X_Keygate_Client_Id",
            "X-Keygate_Client-Id",
            "x_keygate_client-id",
            "X-KEYGATE-SIGNATURE",
            "x-keygate-",
            "x_keygate_",
            "X-Keygate-Anything-Else",
            "x-keygate-anything",
            "x.keygate.client-id",
            "X~Keygate!Client-Id",
        ] {
            assert!(is_reserved(name), "{name}");
        }
        for name in [
            "x-keygate",
            "x-keygat",
            "x-keygatex",
            "xx-keygate-client-id",
            "keygate-client-id",
            "x-keygateclient-id",
            "authorization",
            "",
            "x-\u{212A}eygate-id",
        ] {
            assert!(!is_reserved(name), "{name}");
        }
    }
}
