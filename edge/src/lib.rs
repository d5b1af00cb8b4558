//! keygate's edge: a Cloudflare Worker that lets a request through to the
//! origin only when it carries a valid keygate credential.
//!
//! This file is the thin shell that does I/O (KV, `fetch`, the clock); every
//! decision is made by the pure functions of [`gate`] and [`config`], which are
//! tested natively. No `respond_with_errors`: a failure is always one of our
//! fixed JSON bodies, never an error string.

pub mod config;
pub mod gate;

use shared::credential::{self, Presented, Source};
use shared::key::AccessKey;
use shared::record::static_key_kv_name;
use wasm_bindgen::JsValue;
use worker::{
    console_log, event, Context, Date, Env, Fetch, Headers, Method, Request, RequestInit,
    RequestRedirect, Response, Url,
};

use crate::config::EdgeConfig;
use crate::gate::{Rejection, VerifiedCaller};

/// The KV namespace binding holding key records.
const KV_BINDING: &str = "KEYS";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    match handle(req, &env).await {
        Ok(response) => Ok(response),
        Err(rejection) => rejection_response(rejection),
    }
}

async fn handle(req: Request, env: &Env) -> Result<Response, Rejection> {
    let config =
        EdgeConfig::parse(|name| env.var(name).ok().map(|v| v.to_string())).map_err(|e| {
            console_log!("keygate: configuration error: {e}");
            Rejection::Misconfigured
        })?;
    let url = req.url().map_err(|_| Rejection::Misconfigured)?;
    if config.require_https && url.scheme() != "https" {
        return Err(Rejection::HttpsRequired);
    }

    let authorization = req.headers().get("authorization").ok().flatten();
    let apikey = if config.allow_query_param {
        query_value(&url, "apikey")
    } else {
        None
    };
    let presented = credential::extract(authorization.as_deref(), apikey.as_deref())
        .map_err(|e| {
            reject(
                Rejection::MalformedCredential(e),
                "credential extraction",
                None,
            )
        })?
        .ok_or(Rejection::MissingCredential)?;

    let key = AccessKey::parse(&presented.text)
        .map_err(|e| reject(Rejection::MalformedCredential(e), "key format", None))?;
    let caller = verify_static(&key, env).await?;
    let origin = config.origins.get(&caller.env).ok_or_else(|| {
        reject(
            Rejection::WrongEnvironment,
            "no origin for env",
            Some(&caller.key_id),
        )
    })?;
    forward(req, &url, origin, &caller, &presented, &config).await
}

async fn verify_static(key: &AccessKey, env: &Env) -> Result<VerifiedCaller, Rejection> {
    let kv = env
        .kv(KV_BINDING)
        .map_err(|_| reject(Rejection::Misconfigured, "KV binding missing", None))?;
    let record = kv
        .get(&static_key_kv_name(&key.hash()))
        .text()
        .await
        .map_err(|e| {
            reject(
                Rejection::Unavailable,
                &format!("KV read failed: {e}"),
                Some(key.key_id()),
            )
        })?;
    let now = (Date::now().as_millis() / 1000) as i64;
    gate::check_static_key(key, record.as_deref(), now)
        .map_err(|r| reject(r, "static key", Some(key.key_id())))
}

/// Logs why a request was refused (the logs get the reason and key id; the
/// client gets only the code) and passes the rejection on.
fn reject(rejection: Rejection, context: &str, key_id: Option<&str>) -> Rejection {
    console_log!(
        "keygate: refused {} ({context}{}{})",
        rejection.code(),
        if let Rejection::MalformedCredential(e) = rejection {
            format!(": {e}")
        } else {
            String::new()
        },
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

async fn forward(
    req: Request,
    url: &Url,
    origin: &str,
    caller: &VerifiedCaller,
    presented: &Presented,
    config: &EdgeConfig,
) -> Result<Response, Rejection> {
    let strip_query_credential = presented.source == Source::Query && !config.forward_credential;
    let query = match url.query() {
        Some(q) if strip_query_credential => without_param(q, "apikey"),
        Some(q) => q.to_owned(),
        None => String::new(),
    };
    let target = if query.is_empty() {
        format!("{origin}{}", url.path())
    } else {
        format!("{origin}{}?{query}", url.path())
    };

    let headers = Headers::new();
    let failed = |_| Rejection::Misconfigured;
    for (name, value) in req.headers().entries() {
        let drop = gate::is_reserved_header(&name)
            || name.eq_ignore_ascii_case("host")
            || (name.eq_ignore_ascii_case("authorization") && !config.forward_credential);
        if !drop {
            headers.append(&name, &value).map_err(failed)?;
        }
    }
    for (name, value) in caller.headers() {
        headers.set(name, value).map_err(failed)?;
    }

    let method = req.method();
    let mut init = RequestInit::new();
    init.with_method(method.clone())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if !matches!(method, Method::Get | Method::Head) {
        // Hand the incoming stream over as is: bodies are never buffered.
        init.with_body(req.inner().body().map(JsValue::from));
    }
    let outbound = Request::new_with_init(&target, &init).map_err(failed)?;
    Fetch::Request(outbound).send().await.map_err(|e| {
        console_log!("keygate: origin fetch failed: {e}");
        Rejection::OriginUnreachable
    })
}

fn query_value(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Removes every `name=…` pair from a raw query string, leaving the other
/// pairs byte for byte as the client sent them.
fn without_param(query: &str, name: &str) -> String {
    query
        .split('&')
        .filter(|pair| pair.split('=').next() != Some(name))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::without_param;

    #[test]
    fn strips_only_the_named_parameter() {
        assert_eq!(without_param("a=1&apikey=x&b=%20", "apikey"), "a=1&b=%20");
        assert_eq!(without_param("apikey=x", "apikey"), "");
        assert_eq!(without_param("apikeys=1", "apikey"), "apikeys=1");
    }
}
