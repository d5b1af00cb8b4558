//! keygate's edge: a Cloudflare Worker that lets a request through to the
//! origin only when it carries a valid keygate credential.
//!
//! This file is the thin shell that does I/O (KV, `fetch`, the clock, the
//! isolate caches); every decision is made by the pure functions of [`gate`]
//! and [`config`], which are tested natively. No `respond_with_errors`: a
//! failure is always one of our fixed JSON bodies, never an error string.

pub mod cache;
pub mod config;
pub mod gate;
pub mod request_url;
pub mod webcrypto;

use std::cell::RefCell;

use shared::credential;
use shared::decision::Credential;
use shared::jwt::{Unverified, VerifiedToken};
use shared::record::{client_kv_name, jwk_kv_name, static_key_kv_name};
use wasm_bindgen::{prelude::wasm_bindgen, JsCast, JsValue};
use worker::{console_log, event, Context, Date, Env, Fetch, Headers, Request, Response};

use crate::cache::TtlCache;
use crate::config::{ConfigError, EdgeConfig};
use crate::gate::{Rejection, VerifiedCaller};
use crate::request_url::RequestUrl;

/// The KV namespace binding holding key records.
const KV_BINDING: &str = "KEYS";
/// KV's own edge cache for reads (`cacheTtl`; 60 s is KV's minimum).
const KV_CACHE_TTL: u64 = 60;
/// Bounds of the isolate caches (entries).
const RECORD_CACHE_SIZE: usize = 10_000;
const TOKEN_CACHE_SIZE: usize = 10_000;

thread_local! {
    // Workers isolates are single-threaded: thread-locals are isolate-wide.
    static CONFIG: RefCell<Option<Result<EdgeConfig, ConfigError>>> = const { RefCell::new(None) };
    /// KV name → value (`None`: known absent), trusted until the deadline.
    static RECORDS: RefCell<TtlCache<Option<String>>> = RefCell::new(TtlCache::new(RECORD_CACHE_SIZE));
    /// Token text → (public key it verified under, verified token).
    static TOKENS: RefCell<TtlCache<([u8; 32], VerifiedToken)>> = RefCell::new(TtlCache::new(TOKEN_CACHE_SIZE));
}

#[wasm_bindgen(inline_js = r#"
// The outbound request, built on the JS side in one call: copying headers
// from WASM one by one costs more CPU than the whole key check.
//
// Which incoming headers are reserved is decided in Rust alone
// (`shared::headers::is_reserved`). Called with `reserved` null, this only
// shortlists: every name that rule accepts contains "keygate" (Headers
// lower-cases names), so if no name does, nothing is reserved and the request
// is built at once; otherwise the shortlist goes back to Rust, which calls
// again with the names to drop.
export function outbound_request(incoming, target, reserved, identity, keepCredential) {
  const headers = new Headers(incoming.headers);
  if (reserved == null) {
    let shortlist = "";
    for (const name of headers.keys()) {
      if (name.includes("keygate")) shortlist += name + "\n";
    }
    if (shortlist) return shortlist;
  } else {
    // Callers never get to assert an identity of their own.
    for (const name of reserved.split("\n")) if (name) headers.delete(name);
  }
  headers.delete("host");
  if (!keepCredential) headers.delete("authorization");
  const pairs = identity.split("\n");
  for (let i = 0; i + 1 < pairs.length; i += 2) headers.set(pairs[i], pairs[i + 1]);
  const method = incoming.method;
  const body = method === "GET" || method === "HEAD" ? null : incoming.body;
  // Streams are handed over as they are: bodies are never buffered.
  return new Request(target, { method, headers, body, redirect: "manual" });
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn outbound_request(
        incoming: &JsValue,
        target: &str,
        reserved: Option<&str>,
        identity: &str,
        keep_credential: bool,
    ) -> Result<JsValue, JsValue>;
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    match handle(req, &env).await {
        Ok(response) => Ok(response),
        Err(rejection) => rejection_response(rejection),
    }
}

fn config(env: &Env) -> Result<EdgeConfig, Rejection> {
    CONFIG.with(|cell| {
        let mut cell = cell.borrow_mut();
        let parsed = cell.get_or_insert_with(|| {
            EdgeConfig::parse(|name| {
                env.secret(name)
                    .map(|s| s.to_string())
                    .or_else(|_| env.var(name).map(|v| v.to_string()))
                    .ok()
            })
        });
        parsed.clone().map_err(|e| {
            console_log!("keygate: configuration error: {e}");
            Rejection::Misconfigured
        })
    })
}

async fn handle(req: Request, env: &Env) -> Result<Response, Rejection> {
    let config = config(env)?;
    let raw_url = req.inner().url();
    let url = RequestUrl::parse(&raw_url).ok_or(Rejection::Misconfigured)?;
    if config.require_https && url.scheme != "https" {
        return Err(Rejection::HttpsRequired);
    }
    // The method exactly as the client sent it: `worker::Method` reads every
    // method it does not know (PROPFIND, MKCOL, …) as GET.
    let method = req.inner().method();
    let headers = req.headers();
    let is_preflight = method == "OPTIONS"
        && headers.has("origin").unwrap_or(false)
        && headers
            .has("access-control-request-method")
            .unwrap_or(false);
    if config.is_public(url.path) || (is_preflight && config.forward_preflight) {
        let origin = config
            .origins
            .get(&config.public_env)
            .ok_or(Rejection::Misconfigured)?;
        return forward(req, &method, &url, origin, None, &config).await;
    }

    let authorization = headers.get("authorization").ok().flatten();
    let apikey = if config.allow_query_param {
        url.query_credential()
            .map_err(|e| reject(Rejection::MalformedCredential(e), "query credential", None))?
    } else {
        None
    };
    // workerd's `get` joins repeated fields into one value; `extract` refuses those.
    let presented = credential::extract(authorization.as_deref().as_slice(), apikey.as_deref())
        .map_err(|e| {
            reject(
                Rejection::MalformedCredential(e),
                "credential extraction",
                None,
            )
        })?
        .ok_or(Rejection::MissingCredential)?;

    let now_ms = Date::now().as_millis() as f64;
    let credential =
        Credential::parse(&presented).map_err(|r| reject(r, "credential format", None))?;
    let caller = match credential {
        Credential::Token(unverified) => {
            verify_token(&presented.text, unverified, &url, &config, env, now_ms).await?
        }
        Credential::AccessKey(key) => {
            let record = kv_get(env, &static_key_kv_name(&key.hash()), &config, now_ms).await?;
            gate::check_static_key(&key, record.as_deref(), (now_ms / 1000.0) as i64)
                .map_err(|r| reject(r, "static key", Some(key.key_id())))?
        }
    };
    gate::authorize(&caller, &method, url.path)
        .map_err(|r| reject(r, "scope", Some(&caller.key_id)))?;
    let origin = config.origins.get(&caller.env).ok_or_else(|| {
        reject(
            Rejection::WrongEnvironment,
            "no origin for env",
            Some(&caller.key_id),
        )
    })?;
    forward(req, &method, &url, origin, Some(&caller), &config).await
}

/// The JWT path: header checks, key record by `kid`, signature (once per
/// isolate for a given token), then claims and revocation state every time.
async fn verify_token(
    text: &str,
    unverified: Unverified<'_>,
    url: &RequestUrl<'_>,
    config: &EdgeConfig,
    env: &Env,
    now_ms: f64,
) -> Result<VerifiedCaller, Rejection> {
    let kid = unverified.kid().to_owned();
    let record = kv_get(env, &jwk_kv_name(&kid), config, now_ms).await?;
    let (record, key) =
        gate::token_key(&kid, record.as_deref()).map_err(|r| reject(r, "token key", Some(&kid)))?;
    let audience = config
        .audience
        .clone()
        .unwrap_or_else(|| url.origin.to_owned());
    let options = gate::token_options(
        &record,
        &audience,
        config.max_token_lifetime,
        config.clock_skew,
    );
    let now = (now_ms / 1000.0) as i64;
    let public_key = key.to_bytes();
    let cached = TOKENS
        .with(|c| c.borrow().get(text, now_ms))
        .filter(|(pk, _)| *pk == public_key);
    let verified = match cached {
        Some((_, verified)) => verified,
        None => {
            let verified = if config.webcrypto {
                let verifier = webcrypto::WebCrypto::at(now_ms);
                unverified.verify_with(&verifier, &key, &options, now).await
            } else {
                unverified.verify(&key, &options, now)
            }
            .map_err(|e| reject(Rejection::InvalidToken(e), "token", Some(&kid)))?;
            // Valid until the token expires (plus skew); re-checked at every use anyway.
            let until = verified
                .claims()
                .exp
                .saturating_add(config.clock_skew)
                .saturating_mul(1000) as f64;
            TOKENS.with(|c| {
                c.borrow_mut()
                    .insert(text.to_owned(), (public_key, verified.clone()), until)
            });
            verified
        }
    };
    let client = kv_get(env, &client_kv_name(&record.client_id), config, now_ms).await?;
    gate::check_token_state(&verified, record, client.as_deref(), &options, now)
        .map_err(|r| reject(r, "token state", Some(&kid)))
}

/// Reads a KV value through the isolate cache. A KV failure is `Unavailable`
/// (503): the edge fails closed.
async fn kv_get(
    env: &Env,
    name: &str,
    config: &EdgeConfig,
    now_ms: f64,
) -> Result<Option<String>, Rejection> {
    if let Some(hit) = RECORDS.with(|c| c.borrow().get(name, now_ms)) {
        return Ok(hit);
    }
    let kv = env
        .kv(KV_BINDING)
        .map_err(|_| reject(Rejection::Misconfigured, "KV binding missing", None))?;
    let value = kv
        .get(name)
        .cache_ttl(KV_CACHE_TTL)
        .text()
        .await
        .map_err(|e| {
            reject(
                Rejection::Unavailable,
                &format!("KV read failed: {e}"),
                None,
            )
        })?;
    let ttl = if value.is_some() {
        config.cache_ttl
    } else {
        config.negative_cache_ttl
    };
    RECORDS.with(|c| {
        c.borrow_mut()
            .insert(name.to_owned(), value.clone(), now_ms + (ttl * 1000) as f64)
    });
    Ok(value)
}

/// Logs why a request was refused (the logs get the reason and key id; the
/// client gets only the code) and passes the rejection on.
fn reject(rejection: Rejection, context: &str, key_id: Option<&str>) -> Rejection {
    let detail = match rejection {
        Rejection::MalformedCredential(e) | Rejection::InvalidToken(e) => format!(": {e}"),
        _ => String::new(),
    };
    console_log!(
        "keygate: refused {} ({context}{detail}{})",
        rejection.code(),
        key_id.map(|k| format!(", key {k}")).unwrap_or_default()
    );
    rejection
}

fn rejection_response(rejection: Rejection) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("cache-control", "no-store")?;
    if let Some(challenge) = rejection.www_authenticate() {
        headers.set("www-authenticate", &challenge)?;
    }
    Ok(Response::from_bytes(rejection.body().into_bytes())?
        .with_status(rejection.status())
        .with_headers(headers))
}

/// Sends the request on to `origin`: same method, path, query (less every
/// `apikey` parameter), headers (less reserved and credential headers) and
/// streamed body; plus the identity headers and their signature when a
/// caller was verified. The origin's response is returned as it is.
async fn forward(
    req: Request,
    method: &str,
    url: &RequestUrl<'_>,
    origin: &str,
    caller: Option<&VerifiedCaller>,
    config: &EdgeConfig,
) -> Result<Response, Rejection> {
    // `apikey` never reaches an origin, on any route, however it is spelt,
    // unless the operator asked for the credential to be forwarded.
    let query = if config.forward_credential {
        url.query.map(std::borrow::Cow::Borrowed)
    } else {
        url.forwarded_query()
    };
    let target = match query {
        Some(query) => format!("{origin}{}?{query}", url.path),
        None => format!("{origin}{}", url.path),
    };

    // Identity headers as "name\nvalue\n…": one string across the WASM/JS
    // boundary instead of a call per header (values never contain newlines).
    let mut identity = String::new();
    if let Some(caller) = caller {
        for (name, value) in caller.headers() {
            identity.push_str(name);
            identity.push('\n');
            identity.push_str(value);
            identity.push('\n');
        }
        if let Some(secret) = &config.signing_secret {
            let identity_fields = shared::origin::Identity {
                method,
                path: url.path,
                client_id: &caller.client_id,
                key_id: &caller.key_id,
                env: &caller.env,
                key_type: caller.key_type.as_str(),
                auth: caller.auth.as_str(),
            };
            let now = (Date::now().as_millis() / 1000) as i64;
            identity.push_str(shared::origin::SIGNATURE_HEADER);
            identity.push('\n');
            identity.push_str(&shared::origin::sign(
                secret.as_bytes(),
                &identity_fields,
                now,
            ));
            identity.push('\n');
        }
    }
    let build = |reserved: Option<&str>| {
        outbound_request(
            req.inner(),
            &target,
            reserved,
            &identity,
            config.forward_credential,
        )
    };
    let built = build(None).and_then(|built| match built.as_string() {
        // A shortlist of maybe-reserved names: decide, and build again.
        Some(shortlist) => {
            let mut reserved = String::new();
            for name in shortlist
                .split('\n')
                .filter(|n| shared::headers::is_reserved(n))
            {
                reserved.push_str(name);
                reserved.push('\n');
            }
            build(Some(&reserved))
        }
        None => Ok(built),
    });
    let outbound = built
        .map(|js| Request::from(js.unchecked_into::<worker::web_sys::Request>()))
        .map_err(|e| {
            console_log!("keygate: cannot build the origin request: {e:?}");
            Rejection::Misconfigured
        })?;
    Fetch::Request(outbound).send().await.map_err(|e| {
        console_log!("keygate: origin fetch failed: {e}");
        Rejection::OriginUnreachable
    })
}
