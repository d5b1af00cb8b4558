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
    /// The client segment is not 1 to 24 base62 characters, or a client id
    /// given to mint a key is not `cl_` and such a segment.
    KeyClient,
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
    /// Only secret keys yield an Ed25519 key pair; publishable keys are static only.
    KeyNotSignable,

    /// A JWK is not an Ed25519 OKP public key (RFC 8037).
    JwkInvalid,
    /// A JWK carries private key material (`d`) where a public key is expected.
    JwkPrivate,
    /// A JWK's public key is a small-order point, or not a canonical point.
    JwkWeakKey,

    /// The token is longer than the size cap.
    TokenTooLong,
    /// The token is not exactly three `.`-separated segments.
    TokenSegments,
    /// A segment is not strict, unpadded, canonical base64url.
    TokenBase64,
    /// The header is not a JSON object.
    TokenHeader,
    /// A JSON object has the same member twice.
    TokenDuplicateMember,
    /// `alg` is missing or not `EdDSA`/`Ed25519`.
    TokenAlgorithm,
    /// `typ` is present and not `at+jwt`/`JWT`.
    TokenType,
    /// `kid` is missing or not a key id.
    TokenKeyId,
    /// The header has `crit`: no extension is understood.
    TokenCritical,
    /// The header embeds a key (`jwk`) or points at one (`jku`, `x5u`, `x5c`, `x5t`, `x5t#S256`).
    TokenEmbeddedKey,
    /// The header has `cty` (nested token), `b64` (unencoded payload) or `enc` (JWE).
    TokenUnsupportedForm,
    /// The signature is not 64 bytes.
    TokenSignatureLength,
    /// The signature does not verify (including non-canonical S and weak keys).
    TokenSignature,
    /// The claims are not a JSON object of the expected types.
    TokenClaims,
    /// `exp` is missing.
    TokenMissingExpiry,
    /// `iat` is missing.
    TokenMissingIssuedAt,
    /// `exp` has passed (beyond the allowed skew).
    TokenExpired,
    /// `nbf` is in the future (beyond the allowed skew).
    TokenNotYetValid,
    /// `iat` is in the future (beyond the allowed skew).
    TokenIssuedInFuture,
    /// `exp - iat` exceeds the maximum lifetime, or `exp <= iat`.
    TokenLifetime,
    /// `aud` does not contain the expected audience.
    TokenAudience,
    /// `iss` is not the key's client.
    TokenIssuer,
    /// `sub` is not the key's client.
    TokenSubject,
}

impl Error {
    /// The stable, client-facing error code (see PRODUCT.md, Edge).
    pub fn code(self) -> &'static str {
        match self {
            Self::KeyPrefix
            | Self::KeyType
            | Self::KeyEnvironment
            | Self::KeyId
            | Self::KeyClient
            | Self::KeySecret
            | Self::KeyChecksum
            | Self::KeyTooLong
            | Self::AuthorizationScheme
            | Self::BasicCredential
            | Self::HeaderTooLong
            | Self::ConflictingCredentials => "malformed_credential",
            Self::RecordMalformed | Self::RecordVersion => "internal_error",
            Self::KeyNotSignable | Self::JwkInvalid | Self::JwkPrivate | Self::JwkWeakKey => {
                "invalid_key"
            }
            Self::TokenExpired => "expired",
            Self::TokenTooLong
            | Self::TokenSegments
            | Self::TokenBase64
            | Self::TokenHeader
            | Self::TokenDuplicateMember
            | Self::TokenAlgorithm
            | Self::TokenType
            | Self::TokenKeyId
            | Self::TokenCritical
            | Self::TokenEmbeddedKey
            | Self::TokenUnsupportedForm
            | Self::TokenSignatureLength
            | Self::TokenSignature
            | Self::TokenClaims
            | Self::TokenMissingExpiry
            | Self::TokenMissingIssuedAt
            | Self::TokenNotYetValid
            | Self::TokenIssuedInFuture
            | Self::TokenLifetime
            | Self::TokenAudience
            | Self::TokenIssuer
            | Self::TokenSubject => "invalid_token",
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
            Self::KeyClient => "invalid client id in key",
            Self::KeySecret => "invalid key secret",
            Self::KeyChecksum => "key checksum mismatch",
            Self::KeyTooLong => "credential too long",
            Self::AuthorizationScheme => "unsupported authorization scheme",
            Self::BasicCredential => "invalid basic credential",
            Self::HeaderTooLong => "header too long",
            Self::ConflictingCredentials => "more than one credential in the request",
            Self::RecordMalformed => "malformed key record",
            Self::RecordVersion => "unsupported key record version",
            Self::KeyNotSignable => "publishable keys cannot sign",
            Self::JwkInvalid => "not an Ed25519 OKP JWK",
            Self::JwkPrivate => "private key material where a public key was expected",
            Self::JwkWeakKey => "weak or non-canonical Ed25519 public key",
            Self::TokenTooLong => "token too long",
            Self::TokenSegments => "token is not three segments",
            Self::TokenBase64 => "token segment is not canonical base64url",
            Self::TokenHeader => "token header is not a JSON object",
            Self::TokenDuplicateMember => "duplicate JSON member in token",
            Self::TokenAlgorithm => "token algorithm must be EdDSA or Ed25519",
            Self::TokenType => "token typ must be at+jwt or JWT",
            Self::TokenKeyId => "token kid missing or invalid",
            Self::TokenCritical => "token has critical extensions",
            Self::TokenEmbeddedKey => "token header embeds or references a key",
            Self::TokenUnsupportedForm => "nested, unencoded or encrypted tokens are not accepted",
            Self::TokenSignatureLength => "token signature is not 64 bytes",
            Self::TokenSignature => "token signature does not verify",
            Self::TokenClaims => "token claims are malformed",
            Self::TokenMissingExpiry => "token has no exp",
            Self::TokenMissingIssuedAt => "token has no iat",
            Self::TokenExpired => "token expired",
            Self::TokenNotYetValid => "token not yet valid",
            Self::TokenIssuedInFuture => "token issued in the future",
            Self::TokenLifetime => "token lifetime too long",
            Self::TokenAudience => "token audience mismatch",
            Self::TokenIssuer => "token issuer is not the key's client",
            Self::TokenSubject => "token subject is not the key's client",
        })
    }
}

impl std::error::Error for Error {}
