//! The gate's answers ([`Verdict`]), how each is built, and how each
//! crosses to JavaScript: one short string per answer, because a string is
//! the cheapest thing to move across the WASM boundary (one copy, no
//! objects to build field by field).

use shared::decision::{Rejection, VerifiedCaller};

use crate::config::EdgeConfig;
use crate::request_url::RequestUrl;
use crate::signature::SignatureCheck;

/// The gate's answer for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send the request on to its origin.
    Forward(Forward),
    /// Answer with this refusal; `log` says why (never the credential).
    Refuse {
        /// The refusal.
        rejection: Rejection,
        /// The log line.
        log: String,
    },
    /// Read this KV name, supply the value, and ask again.
    FetchRecord(String),
    /// Check this signature with WebCrypto and ask again with the answer.
    CheckSignature(SignatureCheck),
}

/// Where and how a request goes on to its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The origin URL: origin, path, and the query less every `apikey`.
    pub target: String,
    /// Identity headers (and their signature) to set, as (name, value).
    pub headers: Vec<(&'static str, String)>,
    /// Keep the `Authorization` header (`FORWARD_CREDENTIAL`).
    pub keep_credential: bool,
}

/// A refusal, with the log line that says why (the client gets only the code).
pub fn refuse(rejection: Rejection, context: &str, key_id: Option<&str>) -> Verdict {
    let mut log = format!("keygate: refused {} ({context}", rejection.code());
    if let Rejection::MalformedCredential(e) | Rejection::InvalidToken(e) = rejection {
        log.push_str(&format!(": {e}"));
    }
    if let Some(key_id) = key_id {
        log.push_str(&format!(", key {key_id}"));
    }
    log.push(')');
    Verdict::Refuse { rejection, log }
}

/// A refusal before any key id is known.
pub fn refuse_error(rejection: Rejection, context: &str) -> Verdict {
    refuse(rejection, context, None)
}

/// Forwarding to `origin`: same method, path and query (less every `apikey`
/// parameter unless the credential is forwarded), plus the identity headers
/// and their signature when a caller was verified.
pub fn forward(
    config: &EdgeConfig,
    method: &str,
    url: &RequestUrl<'_>,
    origin: &str,
    caller: Option<&VerifiedCaller>,
    now_ms: f64,
) -> Verdict {
    // `apikey` never reaches an origin, on any route, however it is spelt,
    // unless the operator asked for the credential to be forwarded.
    let query = if config.forward_credential {
        url.query.map(std::borrow::Cow::Borrowed)
    } else {
        url.forwarded_query()
    };
    let mut target = String::with_capacity(origin.len() + url.path.len() + 64);
    target.push_str(origin);
    target.push_str(url.path);
    if let Some(query) = query {
        target.push('?');
        target.push_str(&query);
    }
    let mut headers = Vec::new();
    if let Some(caller) = caller {
        headers.extend(
            caller
                .headers()
                .into_iter()
                .map(|(name, value)| (name, value.to_owned())),
        );
        if let Some(secret) = &config.signing_secret {
            let identity = shared::origin::Identity {
                method,
                path: url.path,
                client_id: &caller.client_id,
                key_id: &caller.key_id,
                env: &caller.env,
                key_type: caller.key_type.as_str(),
                auth: caller.auth.as_str(),
            };
            let now = (now_ms / 1000.0) as i64;
            headers.push((
                shared::origin::SIGNATURE_HEADER,
                shared::origin::sign(secret.as_bytes(), &identity, now),
            ));
        }
    }
    Verdict::Forward(Forward {
        target,
        headers,
        keep_credential: config.forward_credential,
    })
}

impl Verdict {
    /// The answer as `edge/js/entry.mjs` reads it: a kind letter, then
    /// - `F`: `1` or `0` (keep the credential), the target, then
    ///   `\nname\nvalue` per header (values never contain newlines: they
    ///   are ids, fixed words and hex);
    /// - `R`: the status (3 digits), `\n`, the `WWW-Authenticate` value
    ///   (may be empty), `\n`, the JSON body, `\n`, the log line;
    /// - `K`: the KV name to read;
    /// - `S`: the public key, base64url (the bytes to check come from the
    ///   `signature_input` export).
    pub fn encode(&self) -> String {
        match self {
            Verdict::Forward(forward) => {
                let mut out = String::with_capacity(forward.target.len() + 256);
                out.push('F');
                out.push(if forward.keep_credential { '1' } else { '0' });
                out.push_str(&forward.target);
                for (name, value) in &forward.headers {
                    out.push('\n');
                    out.push_str(name);
                    out.push('\n');
                    out.push_str(value);
                }
                out
            }
            Verdict::Refuse { rejection, log } => format!(
                "R{}\n{}\n{}\n{log}",
                rejection.status(),
                rejection.www_authenticate().unwrap_or_default(),
                rejection.body()
            ),
            Verdict::FetchRecord(name) => format!("K{name}"),
            Verdict::CheckSignature(check) => {
                format!("S{}", shared::b64::encode_url(&check.public_key))
            }
        }
    }
}
