//! The errors of the token provider. None of them ever carries the key.

use core::fmt;

/// Why a [`TokenProvider`](crate::TokenProvider) could not be built. Every
/// problem with the key or the options shows here, at construction, never at
/// the first [`token`](crate::TokenProvider::token) call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not a keygate access key (format, length or checksum:
    /// a typo or a truncated copy). The reason never includes the key.
    Malformed(shared::Error),
    /// A publishable key (`kg_pk_…`): it has no signing key pair. Send it
    /// as it is (`Authorization: Bearer kg_pk_…`) instead.
    Publishable,
    /// The key was issued before keys carried their client id, and no
    /// client id was configured: pass it with
    /// [`TokenProviderBuilder::client_id`](crate::TokenProviderBuilder::client_id).
    LegacyKeyNeedsClientId,
    /// The key carries client id `key`, but `configured` was configured.
    ClientIdMismatch {
        /// The client id the key carries.
        key: String,
        /// The client id passed to the builder.
        configured: String,
    },
    /// An option is out of range; the text says which and why.
    InvalidOption(&'static str),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(reason) => write!(f, "not a keygate access key: {reason}"),
            Self::Publishable => f.write_str(
                "a publishable key cannot sign tokens: send it as it is, or use a secret key",
            ),
            Self::LegacyKeyNeedsClientId => f.write_str(
                "this key predates embedded client ids: pass its client id \
                 (TokenProvider::builder(key, audience).client_id(\"cl_…\"))",
            ),
            Self::ClientIdMismatch { key, configured } => write!(
                f,
                "the key belongs to client {key}, but client id {configured} was configured"
            ),
            Self::InvalidOption(what) => write!(f, "invalid option: {what}"),
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Malformed(reason) => Some(reason),
            _ => None,
        }
    }
}

/// Why no token could be minted. Signing itself cannot fail once the
/// provider is built; only the operating system's random generator (for the
/// token id) can.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// The operating system's random generator failed (the token id needs
    /// 16 random bytes); the message is the OS error's.
    Random(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Random(reason) => write!(f, "no random bytes for the token id: {reason}"),
        }
    }
}

impl std::error::Error for TokenError {}
