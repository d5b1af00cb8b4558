//! The gate: one request's decision at the edge, as a pure state machine.
//!
//! The JavaScript entry (`edge/js/entry.mjs`) hands [`Gate::decide`] the
//! request's method, URL and credential header; the gate answers with a
//! [`Verdict`]: forward (where, with which identity headers), refuse, or
//! "I need this first": a KV record it has not got, or a WebCrypto check.
//! The entry does that I/O and asks again. Records and verified tokens are
//! kept decoded inside the gate, so a request whose records are cached is
//! one synchronous call. Every decision is `shared::decision`'s, the code
//! the control plane and the verification API run.
//!
//! No I/O and no clock here (callers pass `now_ms`): tested natively.

use shared::credential::{self, Form};
use shared::decision::{self, Credential, Rejection, VerifiedCaller};
use std::rc::Rc;

use shared::jwt::{Unverified, VerifiedToken};
use shared::key::AccessKey;
use shared::record::{client_kv_name, jwk_kv_name, static_key_kv_name};

use crate::cache::TtlCache;
use crate::config::{ConfigError, EdgeConfig};
use crate::records::{Decoded, Records};
use crate::request_url::RequestUrl;
use crate::signature::{now_or_never, CheckedSignature, SignatureCheck};
use crate::verdict::{forward, refuse, refuse_error, Verdict};

/// Bound of the verified-token cache (entries).
pub const TOKEN_CAPACITY: usize = 10_000;

/// What the gate reads of a request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method exactly as sent.
    pub method: &'a str,
    /// The full URL as workerd gives it.
    pub url: &'a str,
    /// The `Authorization` header (repeated fields joined by workerd).
    pub authorization: Option<&'a str>,
    /// A CORS preflight: `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`.
    pub preflight: bool,
}

/// The isolate's gate: configuration, decoded records, verified tokens.
#[derive(Debug)]
pub struct Gate {
    config: Result<EdgeConfig, ConfigError>,
    records: Records,
    /// Token text → (public key it verified under, verified token).
    tokens: TtlCache<Rc<SeenToken>>,
}

impl Gate {
    /// A gate with this configuration (an error refuses every request, 500).
    pub fn new(config: Result<EdgeConfig, ConfigError>) -> Self {
        Self {
            config,
            records: Records::new(),
            tokens: TtlCache::new(TOKEN_CAPACITY),
        }
    }

    /// The configuration, if it parsed.
    pub fn config(&self) -> Result<&EdgeConfig, &ConfigError> {
        self.config.as_ref()
    }

    /// Keeps what KV answered for `name` (`None`: no such name).
    pub fn supply(&mut self, name: &str, value: Option<&str>, now_ms: f64) {
        if let Ok(config) = &self.config {
            self.records.supply(
                name,
                value,
                now_ms,
                config.cache_ttl,
                config.negative_cache_ttl,
            );
        }
    }

    /// The decoded records held (for tests and the bench's flood check).
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// Decides on `request` at `now_ms`; `checked` is WebCrypto's answer to
    /// this request's last [`Verdict::CheckSignature`], if any.
    pub fn decide(
        &mut self,
        request: &Request<'_>,
        now_ms: f64,
        checked: Option<&CheckedSignature<'_>>,
    ) -> Verdict {
        let config = match &self.config {
            Ok(config) => config,
            Err(e) => {
                return refuse(
                    Rejection::Misconfigured,
                    &format!("configuration: {e}"),
                    None,
                )
            }
        };
        let Some(url) = RequestUrl::parse(request.url) else {
            return refuse(Rejection::Misconfigured, "unparsable request URL", None);
        };
        if config.require_https && url.scheme != "https" {
            return refuse(Rejection::HttpsRequired, "plain http", None);
        }
        if config.is_public(url.path) || (request.preflight && config.forward_preflight) {
            return match config.origins.get(&config.public_env) {
                Some(origin) => forward(config, request.method, &url, origin, None, now_ms),
                None => refuse(Rejection::Misconfigured, "no origin for PUBLIC_ENV", None),
            };
        }
        let apikey = if config.allow_query_param {
            match url.query_credential() {
                Ok(apikey) => apikey,
                Err(e) => {
                    return refuse_error(Rejection::MalformedCredential(e), "query credential")
                }
            }
        } else {
            None
        };
        let presented =
            match credential::extract(request.authorization.as_slice(), apikey.as_deref()) {
                Ok(Some(presented)) => presented,
                Ok(None) => return refuse(Rejection::MissingCredential, "no credential", None),
                Err(e) => {
                    return refuse_error(Rejection::MalformedCredential(e), "credential extraction")
                }
            };
        let now = (now_ms / 1000.0) as i64;
        // A token this isolate verified before is known by its text: its
        // key's and client's state and its claims are checked again below,
        // but it is not parsed again (the parse is most of a reused token's
        // cost). An entry exists only for text that parsed and verified.
        let seen = match presented.form() {
            Form::Token => self.tokens.get(&presented.text, now_ms).map(|seen| {
                Parsed::Token(Token {
                    kid: seen.verified.kid().to_owned(),
                    seen: Some(Rc::clone(seen)),
                    unverified: None,
                })
            }),
            Form::AccessKey => None,
        };
        let parsed = match seen {
            Some(seen) => seen,
            None => match Credential::parse(&presented) {
                Ok(Credential::AccessKey(key)) => Parsed::Key(key),
                Ok(Credential::Token(unverified)) => Parsed::Token(Token {
                    kid: unverified.kid().to_owned(),
                    seen: None,
                    unverified: Some(unverified),
                }),
                Err(rejection) => return refuse_error(rejection, "credential format"),
            },
        };
        let (caller, key_id) = match parsed {
            Parsed::Key(key) => {
                let name = static_key_kv_name(&key.hash());
                let record = match self.records.get(&name, now_ms) {
                    None => return Verdict::FetchRecord(name),
                    Some(Decoded::StaticKey(record)) => record.clone(),
                    Some(_) => {
                        return refuse(
                            Rejection::Unavailable,
                            "undecodable record",
                            Some(key.key_id()),
                        )
                    }
                };
                (
                    decision::check_static_key(&key, record, now),
                    key.key_id().to_owned(),
                )
            }
            Parsed::Token(token) => {
                let kid = token.kid.clone();
                let text = &presented.text;
                match check_token(
                    config,
                    &self.records,
                    &mut self.tokens,
                    text,
                    token,
                    &url,
                    now_ms,
                    checked,
                ) {
                    Step::Done(result) => (result, kid),
                    Step::Need(verdict) => return verdict,
                }
            }
        };
        let caller = match caller {
            Ok(caller) => caller,
            Err(rejection) => return refuse(rejection, "credential", Some(&key_id)),
        };
        if let Err(rejection) = decision::authorize(&caller, request.method, url.path) {
            return refuse(rejection, "scope", Some(&caller.key_id));
        }
        match config.origins.get(&caller.env) {
            Some(origin) => forward(config, request.method, &url, origin, Some(&caller), now_ms),
            None => refuse(
                Rejection::WrongEnvironment,
                "no origin for env",
                Some(&caller.key_id),
            ),
        }
    }
}

/// The presented credential, as far as the gate looks at it.
enum Parsed<'t> {
    /// An access key (format and checksum checked).
    Key(AccessKey),
    /// A token: one this isolate verified before (not parsed again), or a
    /// new one, parsed.
    Token(Token<'t>),
}

/// A token on its way through [`check_token`].
struct Token<'t> {
    /// Its key id.
    kid: String,
    /// What this isolate remembers of it, if it verified it before.
    seen: Option<Rc<SeenToken>>,
    /// The parsed token; `None` for a token verified before, parsed again
    /// only if its signature must be checked again (its key changed).
    unverified: Option<Unverified<'t>>,
}

/// A verified token, remembered by its text until it expires.
#[derive(Debug)]
pub struct SeenToken {
    /// The public key its signature verified under: the entry counts only
    /// while the `kid`'s record holds that key.
    public_key: [u8; 32],
    /// The token.
    verified: VerifiedToken,
}

/// A token check's outcome, or the I/O it needs first.
enum Step {
    Done(Result<VerifiedCaller, Rejection>),
    Need(Verdict),
}

/// The JWT path: the key record by `kid`, the signature (once per token and
/// public key), then the key's and client's state and the claims, every time.
#[allow(clippy::too_many_arguments)]
fn check_token(
    config: &EdgeConfig,
    records: &Records,
    tokens: &mut TtlCache<Rc<SeenToken>>,
    text: &str,
    token: Token<'_>,
    url: &RequestUrl<'_>,
    now_ms: f64,
    checked: Option<&CheckedSignature<'_>>,
) -> Step {
    let now = (now_ms / 1000.0) as i64;
    let jwk_name = jwk_kv_name(&token.kid);
    let (record, key) = match records.get(&jwk_name, now_ms) {
        None => return Step::Need(Verdict::FetchRecord(jwk_name)),
        Some(Decoded::SigningKey(Ok(found))) => found,
        Some(Decoded::SigningKey(Err(rejection))) => return Step::Done(Err(*rejection)),
        Some(_) => return Step::Done(Err(Rejection::Unavailable)),
    };
    let audience = config.audience.as_deref().unwrap_or(url.origin);
    let options = decision::token_options(
        record,
        audience,
        config.max_token_lifetime,
        config.clock_skew,
    );
    let public_key = key.to_bytes();
    let client_name = client_kv_name(&record.client_id);
    let client = match records.get(&client_name, now_ms) {
        None => None,
        Some(Decoded::Client(client)) => Some(client),
        Some(_) => return Step::Done(Err(Rejection::Unavailable)),
    };
    let seen = match token.seen.filter(|seen| seen.public_key == public_key) {
        Some(seen) => seen,
        None => {
            // New, or verified under another key (the kid's key changed):
            // check the signature (a token seen before is parsed again).
            let unverified = match token.unverified {
                Some(unverified) => unverified,
                None => match Unverified::parse(text) {
                    Ok(unverified) => unverified,
                    Err(e) => return Step::Done(Err(Rejection::InvalidToken(e))),
                },
            };
            let verified = if config.webcrypto {
                let answer = checked.and_then(|checked| {
                    now_or_never(unverified.clone().verify_with(checked, key, &options, now))
                });
                match answer {
                    Some(verified) => verified,
                    None => {
                        let check = SignatureCheck::of(&unverified, key);
                        return Step::Need(Verdict::CheckSignature(check));
                    }
                }
            } else {
                unverified.verify(key, &options, now)
            };
            let verified = match verified {
                Ok(verified) => verified,
                Err(e) => return Step::Done(Err(Rejection::InvalidToken(e))),
            };
            // Kept until the token expires (plus skew); re-checked at every use anyway.
            let until = verified
                .claims()
                .exp
                .saturating_add(config.clock_skew)
                .saturating_mul(1000) as f64;
            let seen = Rc::new(SeenToken {
                public_key,
                verified,
            });
            tokens.insert(text.to_owned(), Rc::clone(&seen), until);
            seen
        }
    };
    let Some(client) = client else {
        return Step::Need(Verdict::FetchRecord(client_name));
    };
    Step::Done(decision::check_token(
        &seen.verified,
        record.clone(),
        client.as_ref(),
        &options,
        now,
    ))
}
