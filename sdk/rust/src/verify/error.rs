//! Why a verification got no answer. A credential that is refused is not an
//! error: it is `Ok(Verification { valid: false, .. })`.

use core::fmt;

/// The call to the verification API failed; the credential's validity is
/// unknown (treat it as not valid). Never contains the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// No HTTP client (no TLS backend could be set up).
    Client(String),
    /// The control plane could not be reached, or the call timed out.
    Transport(String),
    /// `401`: the verify key is unknown, revoked or malformed.
    Unauthorized {
        /// The API's error code.
        code: String,
    },
    /// `403`: the verify key may not call the verification API (it lacks
    /// the `verify` scope).
    Forbidden {
        /// The API's error code.
        code: String,
    },
    /// Another `4xx`: the request was refused (`400`, `413`, `415`).
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The API's error code.
        code: String,
        /// The API's message.
        message: String,
    },
    /// A `5xx` (or any status the API does not answer with).
    Server {
        /// The HTTP status.
        status: u16,
    },
    /// A `200` whose body is not a verification result.
    Decode(String),
}

impl VerifyError {
    pub(crate) fn transport(error: reqwest::Error) -> Self {
        // Without the URL: it names the control plane, which may be private.
        Self::Transport(error.without_url().to_string())
    }

    /// The error of a non-200 answer, from its `{"error":{"code","message"}}` body.
    pub(crate) fn from_status(status: u16, body: &[u8]) -> Self {
        let error = serde_json::from_slice::<serde_json::Value>(body).unwrap_or_default();
        let field = |name: &str| error["error"][name].as_str().unwrap_or("<none>").to_owned();
        match status {
            401 => Self::Unauthorized {
                code: field("code"),
            },
            403 => Self::Forbidden {
                code: field("code"),
            },
            400..=499 => Self::Rejected {
                status,
                code: field("code"),
                message: field("message"),
            },
            _ => Self::Server { status },
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Client(e) => write!(f, "no HTTP client: {e}"),
            Self::Transport(e) => write!(f, "the verification API did not answer: {e}"),
            Self::Unauthorized { code } => {
                write!(f, "the verify key was refused (401 {code})")
            }
            Self::Forbidden { code } => write!(
                f,
                "the verify key may not verify (403 {code}): it needs the verify scope"
            ),
            Self::Rejected {
                status,
                code,
                message,
            } => write!(
                f,
                "the verification request was refused ({status} {code}): {message}"
            ),
            Self::Server { status } => write!(f, "the verification API failed ({status})"),
            Self::Decode(e) => write!(f, "unexpected answer from the verification API: {e}"),
        }
    }
}

impl std::error::Error for VerifyError {}
