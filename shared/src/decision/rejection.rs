//! The refusal table: every way a request is refused, each with one HTTP
//! status, one stable code, one fixed message and, for a 401, its
//! `WWW-Authenticate` challenge. The edge sends these as they are; the
//! control plane's `ApiError` maps from them.

/// Why a request is refused. Each maps to one status and one stable code;
/// the message is fixed text that never echoes the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No credential in the request.
    MissingCredential,
    /// The credential is not a well-formed key (bad format or checksum),
    /// or the request carries more than one.
    MalformedCredential(crate::Error),
    /// Well-formed, but no such key.
    InvalidCredential,
    /// The key's expiry has passed.
    Expired,
    /// The key has been revoked (or, for a token, its client's tokens).
    Revoked,
    /// A JWT that fails verification (format, signature or claims).
    InvalidToken(crate::Error),
    /// The key's scopes do not allow this method on this path.
    InsufficientScope,
    /// A publishable key without scopes tried a method other than GET, HEAD, OPTIONS.
    PublishableReadOnly,
    /// The key's client is disabled.
    ClientDisabled,
    /// Plain HTTP while HTTPS is required.
    HttpsRequired,
    /// The key's environment has no origin behind this gateway.
    WrongEnvironment,
    /// The records could not be read (or one could not be decoded): fail closed.
    Unavailable,
    /// The gateway's own configuration is invalid.
    Misconfigured,
    /// The origin could not be reached.
    OriginUnreachable,
}

impl Rejection {
    /// HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Self::MissingCredential
            | Self::MalformedCredential(_)
            | Self::InvalidCredential
            | Self::Expired
            | Self::Revoked
            | Self::InvalidToken(_) => 401,
            Self::HttpsRequired
            | Self::WrongEnvironment
            | Self::InsufficientScope
            | Self::PublishableReadOnly
            | Self::ClientDisabled => 403,
            Self::OriginUnreachable => 502,
            Self::Unavailable | Self::Misconfigured => 503,
        }
    }

    /// Stable error code (PRODUCT.md, Edge).
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingCredential => "missing_credential",
            Self::MalformedCredential(_) => "malformed_credential",
            Self::InvalidCredential => "invalid_credential",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::InvalidToken(e) => e.code(),
            Self::InsufficientScope => "insufficient_scope",
            Self::PublishableReadOnly => "publishable_read_only",
            Self::HttpsRequired => "https_required",
            Self::ClientDisabled => "client_disabled",
            Self::WrongEnvironment => "wrong_environment",
            Self::Unavailable => "unavailable",
            Self::Misconfigured => "misconfigured",
            Self::OriginUnreachable => "origin_unreachable",
        }
    }

    /// Fixed, client-facing text.
    pub fn message(self) -> &'static str {
        match self {
            Self::MissingCredential => "An API key is required.",
            Self::MalformedCredential(_) => "The credential is malformed.",
            Self::InvalidCredential => "The credential is not valid.",
            Self::Expired => "The credential has expired.",
            Self::Revoked => "The credential has been revoked.",
            Self::InvalidToken(crate::Error::TokenExpired) => "The token has expired.",
            Self::InvalidToken(_) => "The token is not valid.",
            Self::InsufficientScope => "This credential may not use this method on this path.",
            Self::PublishableReadOnly => {
                "Publishable keys may only read (GET, HEAD, OPTIONS) unless scoped otherwise."
            }
            Self::HttpsRequired => "HTTPS is required.",
            Self::ClientDisabled => "This credential's client is disabled.",
            Self::WrongEnvironment => "This key's environment is not served here.",
            Self::Unavailable => "Credential verification is temporarily unavailable.",
            Self::Misconfigured => "The gateway is misconfigured.",
            Self::OriginUnreachable => "The origin could not be reached.",
        }
    }

    /// The JSON body: `{"error":{"code":…,"message":…}}`.
    pub fn body(self) -> String {
        serde_json::json!({ "error": { "code": self.code(), "message": self.message() } })
            .to_string()
    }

    /// The `WWW-Authenticate` challenge for 401s (RFC 6750 §3).
    pub fn www_authenticate(self) -> Option<String> {
        match self.status() {
            401 if self == Self::MissingCredential => Some(r#"Bearer realm="keygate""#.to_owned()),
            401 => Some(format!(
                r#"Bearer realm="keygate", error="invalid_token", error_description="{}""#,
                self.code()
            )),
            _ => None,
        }
    }
}
