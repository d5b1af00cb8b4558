//! The crate's one error type.

use core::fmt;

/// Why `shared` refused an input.
///
/// `Copy` and free of payloads on purpose: a refusal must never carry the
/// credential it refused (it would end up in a log line). Each variant maps to
/// one of the stable error codes of the product contract via [`Error::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The key does not start with `kg_`.
    KeyPrefix,
    /// The key type segment is neither `sk` nor `pk`.
    KeyType,
    /// The environment segment is not `[a-z][a-z0-9]{0,15}`.
    KeyEnvironment,
    /// The key id segment is not 17 base62 characters.
    KeyId,
    /// The secret part has the wrong length or characters.
    KeySecret,
    /// The checksum does not match: a typo or a truncated copy.
    KeyChecksum,
    /// The credential is longer than any key we issue.
    KeyTooLong,
    /// The `Authorization` header is not `Bearer <x>` or `Basic <x>`.
    AuthorizationScheme,
    /// A Basic credential is not valid base64 or not `user:` with an empty password.
    BasicCredential,
    /// A header value is larger than we are willing to decode.
    HeaderTooLong,
    /// Two different credentials were presented in one request.
    ConflictingCredentials,
    /// A KV record could not be decoded.
    RecordMalformed,
    /// A KV record has a version newer than this code understands.
    RecordVersion,
}

impl Error {
    /// The stable, client-facing error code (see PRODUCT.md, Edge).
    pub fn code(self) -> &'static str {
        match self {
            Self::KeyPrefix
            | Self::KeyType
            | Self::KeyEnvironment
            | Self::KeyId
            | Self::KeySecret
            | Self::KeyChecksum
            | Self::KeyTooLong
            | Self::AuthorizationScheme
            | Self::BasicCredential
            | Self::HeaderTooLong
            | Self::ConflictingCredentials => "malformed_credential",
            Self::RecordMalformed | Self::RecordVersion => "internal_error",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::KeyPrefix => "key does not start with kg_",
            Self::KeyType => "unknown key type",
            Self::KeyEnvironment => "invalid environment in key",
            Self::KeyId => "invalid key id",
            Self::KeySecret => "invalid key secret",
            Self::KeyChecksum => "key checksum mismatch",
            Self::KeyTooLong => "credential too long",
            Self::AuthorizationScheme => "unsupported authorization scheme",
            Self::BasicCredential => "invalid basic credential",
            Self::HeaderTooLong => "header too long",
            Self::ConflictingCredentials => "more than one credential in the request",
            Self::RecordMalformed => "malformed key record",
            Self::RecordVersion => "unsupported key record version",
        })
    }
}

impl std::error::Error for Error {}
